package slackemu

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestInboxServesThePageWithAStrictPolicy(t *testing.T) {
	_, base := newEmu(t, Options{})
	for path, want := range map[string]string{
		"/":                     `<script src="/_emu/inbox/inbox.js" defer></script>`,
		"/_emu/inbox/inbox.js":  "createElement",
		"/_emu/inbox/inbox.css": "#sidebar",
		"/_emu/inbox/icon.svg":  "<svg",
	} {
		a := do(t, "GET", base+path, "", "")
		if a.status != http.StatusOK || !strings.Contains(a.body, want) {
			t.Errorf("GET %s: %d, want 200 with %q", path, a.status, want)
		}
		csp := a.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self';") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
	}
	if a := do(t, "GET", base+"/_emu/inbox/missing.js", "", ""); a.status != http.StatusNotFound {
		t.Errorf("a missing asset: %d", a.status)
	}
	// The page runs no inline script and loads nothing from elsewhere.
	page := do(t, "GET", base+"/", "", "").body
	if strings.Contains(page, "<script>") || strings.Contains(page, "http") {
		t.Errorf("the page has inline script or an absolute URL:\n%s", page)
	}
	if js := do(t, "GET", base+"/_emu/inbox/inbox.js", "", "").body; strings.Contains(js, "innerHTML") || strings.Contains(js, "insertAdjacentHTML") {
		t.Error("inbox.js parses HTML")
	}
}

func TestInboxDataAndEvents(t *testing.T) {
	_, base := newEmu(t, Options{})
	events, err := http.Get(base + "/_emu/inbox/events")
	if err != nil {
		t.Fatal(err)
	}
	defer events.Body.Close()
	if ct := events.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events Content-Type %q", ct)
	}
	lines := bufio.NewScanner(events.Body)
	nextChange := func() string {
		t.Helper()
		for lines.Scan() {
			if tok, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				return tok
			}
		}
		t.Fatalf("the event stream ended: %v", lines.Err())
		return ""
	}
	first := nextChange() // sent at once

	post := func(fields url.Values) string {
		t.Helper()
		fields.Set("token", DefaultToken)
		a := postForm(t, base, "chat.postMessage", fields)
		var r struct{ TS string }
		if err := json.Unmarshal([]byte(a.body), &r); err != nil || r.TS == "" {
			t.Fatalf("post: %d %s", a.status, a.body)
		}
		return r.TS
	}
	parent := post(url.Values{"channel": {"#alerts"}, "text": {"fallback"},
		"blocks":   {`[{"type":"section","text":{"type":"mrkdwn","text":"*ERROR* &lt;x&gt;"}}]`},
		"metadata": {`{"event_type":"otel_log_records","event_payload":{"records":3,"services":"[\"a<b\"]"}}`}})
	if tok := nextChange(); tok == first {
		t.Fatalf("no change announced after a post (%s)", tok)
	}
	post(url.Values{"channel": {"#alerts"}, "thread_ts": {parent}, "text": {"a reply"}})
	a := postForm(t, base, "chat.update", url.Values{"token": {DefaultToken}, "channel": {channelID("#alerts")}, "ts": {parent}, "text": {"new"},
		"blocks": {`[{"type":"section","text":{"type":"mrkdwn","text":"*ERROR* ×2"}}]`}})
	if !strings.Contains(a.body, `"ok":true`) {
		t.Fatalf("update: %s", a.body)
	}
	hook := postHook(t, base, "T1/B1/secret", `{"text":"from a _webhook_"}`)
	if hook.status != http.StatusOK {
		t.Fatalf("webhook: %d %s", hook.status, hook.body)
	}
	nextChange()

	var st inboxState
	if err := json.Unmarshal([]byte(do(t, "GET", base+"/_emu/inbox/data", "", "").body), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Channels) != 2 || st.Channels[0] != (inboxChannel{Name: "#alerts", ID: channelID("#alerts"), Messages: 1}) ||
		st.Channels[1] != (inboxChannel{Name: "webhook/T1/B1", Messages: 1}) {
		t.Errorf("channels %+v", st.Channels)
	}
	if len(st.Messages) != 3 {
		t.Fatalf("messages %+v", st.Messages)
	}
	p, r, w := st.Messages[0], st.Messages[1], st.Messages[2]
	if p.TS != parent || p.Updates != 1 || p.Replies != 1 || htmlOf(p.Body) != `<div class="block section"><div class="text"><b>ERROR</b> ×2</div></div>` {
		t.Errorf("parent %+v: %s", p, htmlOf(p.Body))
	}
	if p.Metadata == nil || p.Metadata.EventType != "otel_log_records" || !strings.Contains(p.Metadata.Payload, `"services": "[\"a<b\"]"`) {
		t.Errorf("metadata %+v", p.Metadata)
	}
	if r.ThreadTS != parent || htmlOf(r.Body) != `<div class="text">a reply</div>` {
		t.Errorf("reply %+v", r)
	}
	if w.Via != "webhook" || htmlOf(w.Body) != `<div class="text">from a <i>webhook</i></div>` {
		t.Errorf("webhook %+v: %s", w, htmlOf(w.Body))
	}
}

// An open page must not hold up the emulator's shutdown: Close ends the
// event stream.
func TestInboxEventsEndOnClose(t *testing.T) {
	emu, base := newEmu(t, Options{})
	resp, err := http.Get(base + "/_emu/inbox/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		ended <- err
	}()
	emu.Close()
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("the stream broke instead of ending: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream is still open 5 s after Close")
	}
}

// A quiet event stream still sends a comment every 15 s, so that a proxy does
// not close it as idle.
func TestInboxEventsKeepAQuietStreamAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			New(Options{}).ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/_emu/inbox/events", nil))
			close(done)
		}()
		time.Sleep(15*time.Second + time.Millisecond)
		cancel()
		<-done
		if body := rec.Body.String(); !strings.HasSuffix(body, "\n\n: idle\n\n") {
			t.Errorf("after 15 quiet seconds the stream holds %q", body)
		}
	})
}
