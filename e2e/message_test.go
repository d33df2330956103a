package e2e

// What the messages look like end to end: identical records collapse, log
// text is escaped, and every message stays within Slack's limits.

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// Fifty identical ERROR records in one batch become one entry marked ×50 in
// one message, with the body shown once.
func TestIdenticalErrorsCollapseIntoOneEntry(t *testing.T) {
	emu := StartEmulator(t)
	col := StartCollector(t, SlackConfig(tokenMode("")), emu.Env()...)

	const body = "payment provider timed out|"
	records := make([]log.Record, 50)
	for i := range records {
		records[i] = Record(log.SeverityError, body, attribute.String("order_id", "ord-"+word(i)))
	}
	col.SendLogs(t, Service("checkout", "prod"), records...)

	waitCounter(t, col, 30*time.Second, 50, metricDelivered)
	msgs := emu.WaitQuiet(t, time.Second, 30*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("want 1 message for 50 identical records, got %d:\n%s", len(msgs), emu.MessagesText(t))
	}
	m := msgs[0]
	var mrkdwn []string
	for _, o := range textObjects(t, m) {
		if o.Type == "mrkdwn" {
			mrkdwn = append(mrkdwn, o.Text)
		}
	}
	shown := strings.Join(mrkdwn, "\n")
	if !strings.Contains(shown, "×50") {
		t.Errorf("the entry does not say ×50; blocks' mrkdwn:\n%s", shown)
	}
	if n := strings.Count(shown, body); n != 1 {
		t.Errorf("the body is shown %d times in the blocks, want once:\n%s", n, shown)
	}
	if got := col.Counter(t, metricSent); got != 1 {
		t.Errorf("%s = %v, want 1", metricSent, got)
	}
	if t.Failed() {
		t.Logf("emulator holds:\n%s", emu.MessagesText(t))
	}
}

// Mentions, channel links, URL markup and & in bodies and attributes reach
// Slack as inert entities (&lt; &gt; &amp;), by bot token and by webhook, and
// nothing asks Slack to resolve names (no link_names).
func TestLogTextCannotMentionOrLink(t *testing.T) {
	emu := StartEmulator(t)
	const hook = "webhook/T0ESC/B0ESC"
	env := append(emu.Env(), "ESC_WEBHOOK_URL="+emu.WebhookURL("T0ESC/B0ESC/escape-route-secret"))
	col := StartCollector(t, SlackConfig(tokenMode(`
routes:
  - condition: 'attributes["via"] == "webhook"'
    webhook_url: ${env:ESC_WEBHOOK_URL}
`)), env...)

	hostile := []string{
		"<!channel> deploy failed & rolled back",
		"<!here> database down",
		"<@U123> please look",
		"see <#C123|general> now",
		"<https://evil.example|click> for details",
		"<!subteam^S0123|oncall> and <!everyone>",
	}
	var records []log.Record
	for _, via := range []string{"api", "webhook"} {
		for i, h := range hostile {
			records = append(records, Record(log.SeverityError, h+" body-"+via+"-"+word(i),
				attribute.String("via", via),
				attribute.String("note", h),
				attribute.String("<!here>", "key is hostile too"),
			))
		}
	}
	col.SendLogs(t, Service("checkout", "<!channel> prod"), records...)

	waitCounter(t, col, 30*time.Second, float64(len(records)), metricDelivered)
	msgs := emu.WaitQuiet(t, time.Second, 30*time.Second)

	var all []string
	for _, want := range []string{"#alerts", hook} {
		var seen bool
		for _, m := range msgs {
			seen = seen || m.Channel == want
		}
		if !seen {
			t.Errorf("no message reached %s", want)
		}
	}
	for _, m := range msgs {
		if strings.ContainsAny(m.Text, "<>") {
			t.Errorf("message %d (%s): the fallback text holds < or >: %q", m.Seq, m.Channel, m.Text)
		}
		for _, o := range textObjects(t, m) {
			if o.Type != "mrkdwn" {
				continue
			}
			all = append(all, o.Text)
			if strings.ContainsAny(o.Text, "<>") {
				t.Errorf("message %d (%s): a mrkdwn text holds < or >: %q", m.Seq, m.Channel, o.Text)
			}
			if !o.Verbatim {
				t.Errorf("message %d (%s): a mrkdwn text is not verbatim: %q", m.Seq, m.Channel, o.Text)
			}
		}
		if v, ok := m.Params["link_names"]; ok {
			t.Errorf("message %d (%s) was sent with link_names=%q", m.Seq, m.Channel, v)
		}
		if v := m.Params["parse"]; v == "full" {
			t.Errorf("message %d (%s) was sent with parse=full", m.Seq, m.Channel)
		}
	}
	shown := strings.Join(all, "\n")
	for _, want := range []string{
		"&lt;!channel&gt; deploy failed &amp; rolled back",
		"&lt;!here&gt;",
		"&lt;@U123&gt;",
		"&lt;#C123|general&gt;",
		"&lt;https://evil.example|click&gt;",
		"&lt;!subteam^S0123|oncall&gt;",
		"&lt;!everyone&gt;",
	} {
		if !strings.Contains(shown, want) {
			t.Errorf("the blocks do not show %q", want)
		}
	}
	if t.Failed() {
		t.Logf("mrkdwn texts received:\n%s", shown)
	}
}

// A 1 MB body, 200 distinct 2 KB bodies and 30 attributes per record: Slack
// (the emulator, which enforces its limits) accepts every message, the huge
// body is cut with a marker, and each distinct body is shown in exactly one
// message.
func TestMessagesStayWithinSlackLimits(t *testing.T) {
	emu := StartEmulator(t)
	// The burst covers every message this push needs: nothing is folded for
	// the rate limit, so every body must be shown.
	col := StartCollector(t, SlackConfig(tokenModeRate(1000, 1000, "")), emu.Env()...)

	attrs := make([]attribute.KeyValue, 30)
	for j := range attrs {
		attrs[j] = attribute.String("attr_"+word(j), strings.Repeat("value & <more> ", 20))
	}
	const hugePrefix = "hugebody|"
	huge := hugePrefix + strings.Repeat("lorem & ipsum <dolor> sit amet ", 1<<20/32)
	records := []log.Record{Record(log.SeverityFatal, huge, attrs...)}
	var prefixes []string
	for i := range 200 {
		prefix := "distinct-" + word(i) + "|"
		prefixes = append(prefixes, prefix)
		body := prefix + strings.Repeat("payload ", 256)[:2048-len(prefix)]
		records = append(records, Record(log.SeverityError, body, attrs...))
	}
	col.SendLogs(t, Service("checkout", "prod"), records...)

	waitCounter(t, col, 30*time.Second, float64(len(records)), metricDelivered)
	msgs := emu.WaitQuiet(t, time.Second, 30*time.Second)

	stats := emu.Stats(t)
	if len(stats.Totals.Errors) != 0 || stats.Totals.Throttled != 0 {
		t.Errorf("the emulator refused messages: errors %v, throttled %d", stats.Totals.Errors, stats.Totals.Throttled)
	}
	if stats.Totals.Accepted != len(msgs) || stats.Totals.Requests != len(msgs) {
		t.Errorf("emulator: %d requests, %d accepted, %d messages held; want all equal",
			stats.Totals.Requests, stats.Totals.Accepted, len(msgs))
	}
	if got := col.Counter(t, metricAPIErrors); got != 0 {
		t.Errorf("%s = %v, want 0", metricAPIErrors, got)
	}
	if got := col.Counter(t, metricSent); got != float64(len(msgs)) {
		t.Errorf("%s = %v, but the emulator holds %d messages", metricSent, got, len(msgs))
	}

	withHuge := messagesContaining(msgs, hugePrefix)
	if len(withHuge) != 1 {
		t.Fatalf("the 1 MB body is in %d messages, want 1", len(withHuge))
	}
	if !withHuge[0].Contains("more characters)") {
		t.Errorf("the 1 MB body is not marked as truncated (want %q)", "more characters)")
	}
	for _, p := range prefixes {
		if got := messagesContaining(msgs, p); len(got) != 1 {
			t.Errorf("body %q is in %d messages, want 1", p, len(got))
		}
	}
	t.Logf("%d records in %d messages", len(records), len(msgs))
}
