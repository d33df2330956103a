package slackemu

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestWebhookSuccess(t *testing.T) {
	emu, base := newEmu(t, Options{})
	a := postHook(t, base, "T1/B1/s3cr3t", `{"text":"disk full","blocks":[{"type":"divider"}],"unfurl_links":false}`)
	if a.status != 200 || a.body != "ok" || !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("got %d %q (%s)", a.status, a.body, a.header.Get("Content-Type"))
	}
	m := emu.Messages()[0]
	if m.Via != "webhook" || m.Channel != "webhook/T1/B1" || m.ChannelID != "" || m.Text != "disk full" ||
		string(m.Blocks) != `[{"type":"divider"}]` || m.Params["unfurl_links"] != "false" {
		t.Errorf("stored %+v", m)
	}

	// Slack's older encoding: the JSON in a "payload" form field.
	form := url.Values{"payload": {`{"text":"via form"}`}}.Encode()
	if a := do(t, "POST", base+"/services/T1/B1/s3cr3t", "application/x-www-form-urlencoded", form); a.body != "ok" {
		t.Errorf("payload form: %d %q", a.status, a.body)
	}

	// The secret is in no record, statistic or rendering.
	b, _ := json.Marshal(map[string]any{"m": emu.Messages(), "s": emu.Stats()})
	var text strings.Builder
	RenderText(&text, emu.Messages())
	if strings.Contains(string(b)+text.String(), "s3cr3t") {
		t.Error("the webhook secret leaked into recorded state")
	}
}

func TestWebhookBadRequests(t *testing.T) {
	emu, base := newEmu(t, Options{})
	for _, tc := range []struct{ body, want string }{
		{`{"text":`, "invalid_payload"},
		{``, "invalid_payload"},
		{`[1,2]`, "invalid_payload"},
		{`{"text":5}`, "invalid_payload"},
		{`{}`, "no_text"},
		{`{"text":"","blocks":[]}`, "no_text"},
	} {
		a := postHook(t, base, "T1/B1/x", tc.body)
		if a.status != 400 || a.body != tc.want {
			t.Errorf("%s: got %d %q, want 400 %q", tc.body, a.status, a.body, tc.want)
		}
	}
	if n := len(emu.Messages()); n != 0 {
		t.Errorf("stored %d messages", n)
	}
	if a := postHook(t, base, "T1/B1", `{"text":"x"}`); a.status != 404 {
		t.Errorf("a webhook URL needs three segments: %d", a.status)
	}
}

// An "error" fault answers the webhook with the status Slack uses for that error.
func TestWebhookErrorStatuses(t *testing.T) {
	emu, base := newEmu(t, Options{})
	for code, status := range map[string]int{
		"channel_not_found":   404,
		"channel_is_archived": 410,
		"action_prohibited":   403,
		"invalid_payload":     400,
		"rollup_error":        500,
		"no_active_hooks":     404,
	} {
		if err := emu.SetFault(Fault{Target: "webhook/T1/B1", Mode: FaultError, Error: code}); err != nil {
			t.Fatal(err)
		}
		if a := postHook(t, base, "T1/B1/x", `{"text":"x"}`); a.status != status || a.body != code {
			t.Errorf("%s: got %d %q, want %d", code, a.status, a.body, status)
		}
	}
	if n := len(emu.Messages()); n != 0 {
		t.Errorf("stored %d messages answered by faults", n)
	}
}
