package browser

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/log"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// collectorConfig posts to #alerts with a bot token; a repeat of an error
// updates its message and is sampled in its thread at once (reply_every 1ms),
// so the test need not wait for the default 5 minutes.
const collectorConfig = `
token: ${env:SLACK_BOT_TOKEN}
api_url: ${env:SLACK_API_URL}
channel: "#alerts"
sending_queue:
  batch:
    flush_timeout: 200ms
retry_on_failure:
  initial_interval: 100ms
  max_interval: 500ms
threads:
  reply_every: 1ms
`

// timeouts are n records of one error whose numbers vary: one fingerprint.
func timeouts(n, seed int) []log.Record {
	out := make([]log.Record, n)
	for i := range out {
		k := seed*100 + i
		out[i] = harness.Record(log.SeverityError, fmt.Sprintf("timeout after %dms for user %d", 10+(k*37)%990, 1+(k*53)%5000))
	}
	return out
}

var countRe = regexp.MustCompile(`×(\d+)`)

// shownCount is the ×N a message shows for its entry (1 when it shows none).
func shownCount(m harness.Message) int {
	if c := countRe.FindStringSubmatch(m.AllText()); c != nil {
		n, _ := strconv.Atoi(c[1])
		return n
	}
	return 1
}

// stormMessage waits until #alerts has its top-level message showing want
// records and at least replies thread replies, and returns it and its replies.
func stormMessage(t *testing.T, emu *harness.Emulator, want, replies int) (harness.Message, []harness.Message) {
	t.Helper()
	var top harness.Message
	var thread []harness.Message
	harness.Eventually(t, 30*time.Second, func() error {
		top, thread = harness.Message{}, nil
		msgs := emu.Messages(t, "#alerts")
		for _, m := range msgs {
			if m.ThreadTS == "" && m.Contains("timeout after") {
				top = m
			}
		}
		for _, m := range msgs {
			if top.TS != "" && m.ThreadTS == top.TS {
				thread = append(thread, m)
			}
		}
		if top.TS == "" || shownCount(top) != want || len(thread) < replies {
			return fmt.Errorf("want a message showing ×%d with %d replies; the emulator holds:\n%s", want, replies, emu.MessagesText(t))
		}
		return nil
	})
	return top, thread
}

// The inbox in a browser, against a running collector: a storm's message
// appears with its count and its code block, its update (higher count,
// "(edited)") and its thread reply appear live without a reload; the thread
// opens beside it; a record carrying HTML is shown as text and adds no
// element; a webhook post shows its text; an overflow option's click is
// posted and its answer shown; and the page logs no error at all.
func TestInboxShowsWhatTheCollectorPosts(t *testing.T) {
	chromium(t) // skip, or fail, before starting anything
	started := time.Now()
	emu := harness.StartEmulator(t)
	col := harness.StartCollector(t, harness.SlackConfig(collectorConfig), emu.Env()...)
	p := openPage(t, emu.URL+"/")
	eval[bool](t, p, `window.sameLoad = true`) // gone if the page reloads
	res := harness.Service("checkout", "prod")
	step := time.Now()
	lap := func(what string) {
		t.Logf("%-58s %v", what, time.Since(step).Round(time.Millisecond))
		step = time.Now()
	}

	// 1. The first burst: one message, ×5, its body in a code block, metadata on demand.
	col.SendLogs(t, res, timeouts(5, 1)...)
	first, _ := stormMessage(t, emu, 5, 0)
	msg := messageSel(first.TS)
	p.waitUntil(t, 20*time.Second, `(() => {
		const m = document.querySelector(`+js(msg)+`);
		if (!m) return 'no message ' + `+js(first.TS)+` + ' yet; the list shows: ' + document.getElementById('messages').textContent;
		if (!m.textContent.includes('×5')) return 'the message shows ' + m.textContent;
		const pre = m.querySelector('.blocks pre');
		if (!pre || !pre.textContent.includes('timeout after')) return 'no code block with the error in ' + m.innerHTML;
		return '';
	})()`)
	p.click(t, msg+` details.meta > summary`)
	p.waitUntil(t, 5*time.Second, `(() => {
		const d = document.querySelector(`+js(msg+` details.meta`)+`);
		return d.open && d.textContent.includes('otel_log_records') && d.querySelector('pre').textContent.includes('"fingerprints"')
			? '' : 'the metadata shows ' + d.textContent;
	})()`)
	lap("first burst shown (×5, code block, metadata)")

	// 2. The same error again: the message's count goes up, it says
	// (edited), and a sample is replied in its thread; all live.
	col.SendLogs(t, res, timeouts(7, 2)...)
	updated, replies := stormMessage(t, emu, 12, 1)
	if updated.TS != first.TS || updated.Updates == 0 {
		t.Fatalf("the second burst did not update the first message: %+v then %+v", first, updated)
	}
	replyText := fmt.Sprintf("%d repl", len(replies))
	p.waitUntil(t, 20*time.Second, `(() => {
		const m = document.querySelector(`+js(msg)+`);
		if (!m) return 'the message is gone';
		for (const want of ['×12', '(edited)', `+js(replyText)+`]) {
			if (!m.textContent.includes(want)) return 'no ' + want + ' in ' + m.textContent;
		}
		return '';
	})()`)
	if !eval[bool](t, p, `window.sameLoad === true`) {
		t.Fatal("the page reloaded to show the update")
	}
	// The metadata stayed open across the update.
	if !eval[bool](t, p, `document.querySelector(`+js(msg+` details.meta`)+`).open`) {
		t.Error("the open metadata closed when the message was updated")
	}
	lap("update shown live (×12, (edited), replies, no reload)")

	// 3. The thread opens beside the message, with its replies.
	p.click(t, msg+` button.replies`)
	p.waitUntil(t, 5*time.Second, `(() => {
		const pane = document.getElementById('thread');
		if (pane.hidden) return 'the thread pane is hidden';
		const msgs = pane.querySelectorAll('.msg');
		if (msgs.length !== `+strconv.Itoa(1+len(replies))+`) return msgs.length + ' messages in the thread: ' + pane.textContent;
		if (!msgs[1].textContent.includes('timeout after')) return 'the reply shows ' + msgs[1].textContent;
		return document.querySelector(`+js(msg)+`).classList.contains('opened') ? '' : 'the parent is not marked open';
	})()`)
	lap("thread opened with its replies")

	// 4. A record that carries HTML is shown as text and adds no element.
	hostile := `<script>alert(1)</script> and <img src=x onerror=alert(1)>`
	col.SendLogs(t, harness.Service("intruder", "prod"), harness.Record(log.SeverityError, hostile))
	var h harness.Message
	harness.Eventually(t, 30*time.Second, func() error {
		for _, m := range emu.Messages(t, "#alerts") {
			if m.Contains("&lt;script&gt;alert(1)&lt;/script&gt;") {
				h = m
				return nil
			}
		}
		return fmt.Errorf("the record with HTML is not in Slack:\n%s", emu.MessagesText(t))
	})
	p.waitUntil(t, 20*time.Second, `(() => {
		const m = document.querySelector(`+js(messageSel(h.TS))+`);
		if (!m) return 'the message with HTML is not shown';
		if (!m.textContent.includes(`+js(hostile)+`)) return 'its text is not shown as it was logged: ' + m.textContent;
		return '';
	})()`)
	if bad := eval[string](t, p, `(() => {
		const own = [...document.scripts].map((s) => s.getAttribute('src'));
		if (own.length !== 1 || own[0] !== '/_emu/inbox/inbox.js') return 'scripts: ' + JSON.stringify(own);
		const found = document.querySelectorAll('img, svg, iframe, object, embed, style:not(head style), link:not(head link)');
		if (found.length) return found.length + ' elements from data, the first ' + found[0].outerHTML;
		const allowed = new Set(['div', 'span', 'b', 'i', 's', 'code', 'pre', 'a', 'hr', 'button', 'details', 'summary']);
		for (const e of document.querySelectorAll('#messages *, #thread-messages *')) {
			if (!allowed.has(e.localName)) return 'a <' + e.localName + '> among the messages';
			for (const a of e.attributes) if (a.name.startsWith('on')) return 'a handler attribute ' + a.name;
		}
		return '';
	})()`); bad != "" {
		t.Fatalf("markup from a log record reached the DOM: %s", bad)
	}
	lap("record with <script> and <img onerror> shown as text")

	// 5. A webhook post shows its text; an overflow option's click is posted
	// and the answer shown.
	post(t, emu.WebhookURL(harness.DefaultWebhookPath), "application/json", `{"text":"*deploy* of `+"`api`"+` done &lt;ok&gt;"}`)
	blocks := `[{"type":"section","block_id":"mute-b","text":{"type":"mrkdwn","text":"*ERROR* · checkout"},
		"accessory":{"type":"overflow","action_id":"otel_mute","options":[
			{"text":{"type":"plain_text","text":"Mute for 1 hour"},"value":"mute:1h"},
			{"text":{"type":"plain_text","text":"Mute for 1 day"},"value":"mute:1d"}]}}]`
	post(t, emu.APIURL()+"chat.postMessage", "application/x-www-form-urlencoded",
		url.Values{"token": {emu.Token}, "channel": {"#buttons"}, "text": {"x"}, "blocks": {blocks}}.Encode())
	p.selectChannel(t, "webhook/T0E2E/B0E2E")
	p.waitUntil(t, 20*time.Second, `(() => {
		const b = document.querySelector('#messages .msg .blocks');
		return b && b.textContent === 'deploy of api done <ok>' && b.querySelector('b') && b.querySelector('code')
			? '' : 'the webhook post shows ' + (b ? b.innerHTML : 'nothing');
	})()`)
	p.selectChannel(t, "#buttons")
	answer := p.clickOverflowOption(t, "mute-b", "mute:1d")
	if !regexp.MustCompile(`^click otel_mute → \d{3} `).MatchString(answer) {
		t.Errorf("the status line says %q after a click", answer)
	}
	lap("webhook text shown; overflow click posted, answer shown")
	t.Logf("the click's answer: %s", answer)

	p.checkClean(t)
	t.Logf("whole test, collector and browser included: %v", time.Since(started).Round(time.Millisecond))
}

// post sends body to u and fails the test unless the answer is 200.
func post(t *testing.T, u, contentType, body string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", u, resp.Status)
	}
}
