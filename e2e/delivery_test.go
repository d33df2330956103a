package e2e

// Delivery end to end: what the exporter does when Slack refuses, throttles
// or fails, and that no secret leaks while it does.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// paymentsRoute sends records whose team is payments to #payments; the rest
// go to #alerts.
const paymentsRoute = `
routes:
  - condition: 'attributes["team"] == "payments"'
    channel: "#payments"
`

// linesContaining returns the lines of s that contain sub.
func linesContaining(s, sub string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return out
}

// A permanent Slack error (channel_not_found) is logged once, counted once
// and never retried, and does not hold up another channel's records.
func TestPermanentErrorIsNotRetried(t *testing.T) {
	token := randomSecret(t, "xoxb-e2e-")
	emu := StartEmulator(t, "-token", token)
	col := StartCollector(t, SlackConfig(tokenMode(paymentsRoute)), emu.Env()...)
	emu.SetFault(t, Fault{Target: "#alerts", Mode: "error", Error: "channel_not_found"})

	const lost, delivered = "alert for a channel that does not exist|", "payments alert still delivered|"
	col.SendLogs(t, Service("checkout", "prod"),
		Record(log.SeverityError, lost),
		Record(log.SeverityError, delivered, attribute.String("team", "payments")),
	)

	emu.WaitForMessages(t, "#payments", 1, 30*time.Second)
	waitCounter(t, col, 30*time.Second, 1, metricAPIErrors, "error=channel_not_found")
	Eventually(t, 10*time.Second, func() error {
		if n := len(linesContaining(col.Logs(), "Slack refused")); n == 0 {
			return fmt.Errorf("no %q line in the collector log yet", "Slack refused")
		}
		return nil
	})
	// Several retry intervals (initial 100ms, max 500ms) pass without a retry.
	Consistently(t, 2*time.Second, func() error {
		if s := destStats(t, emu, "#alerts"); s.Requests != 1 {
			return fmt.Errorf("#alerts got %d requests, want exactly 1 (errors %v)", s.Requests, s.Errors)
		}
		return nil
	})

	msgs := emu.Messages(t, "")
	if got := messagesContaining(msgs, lost); len(got) != 0 {
		t.Errorf("the refused record reached %v", channels(got))
	}
	if got := messagesContaining(msgs, delivered); len(got) != 1 || got[0].Channel != "#payments" {
		t.Errorf("the payments record should be in one message in #payments, found in %v", channels(got))
	}
	if s := destStats(t, emu, "#alerts"); s.Errors["channel_not_found"] != 1 || s.Accepted != 0 {
		t.Errorf("#alerts stats = %+v, want one channel_not_found and nothing accepted", s)
	}
	refused := linesContaining(col.Logs(), "Slack refused")
	if len(refused) != 1 {
		t.Errorf("want 1 %q line in the collector log, got %d:\n%s", "Slack refused", len(refused), strings.Join(refused, "\n"))
	} else if !strings.Contains(refused[0], "channel_not_found") || !strings.Contains(refused[0], "#alerts") {
		t.Errorf("the %q line does not name channel_not_found and #alerts:\n%s", "Slack refused", refused[0])
	}
	if got := col.Counter(t, metricAPIErrors); got != 1 {
		t.Errorf("%s = %v in all, want 1", metricAPIErrors, got)
	}
	if got := col.Counter(t, metricAPIErrors, "error=channel_not_found"); got != 1 {
		t.Errorf(`%s{error="channel_not_found"} = %v, want 1`, metricAPIErrors, got)
	}
	if got := col.Counter(t, metricDelivered); got != 1 {
		t.Errorf("%s = %v, want 1", metricDelivered, got)
	}
	assertNoSecrets(t, col, token)
}

// A 429 with Retry-After: 3 holds that channel's next post for at least 3 s,
// then its records are delivered exactly once; another channel is not held.
func TestRetryAfterIsHonoured(t *testing.T) {
	token := randomSecret(t, "xoxb-e2e-")
	emu := StartEmulator(t, "-token", token)
	col := StartCollector(t, SlackConfig(tokenMode(paymentsRoute)), emu.Env()...)
	const retryAfter = 3 * time.Second
	emu.SetFault(t, Fault{Target: "#alerts", Mode: "ratelimit", RetryAfter: 3, Count: 1})

	const throttled, other = "alert that meets a 429|", "payments alert not held back|"
	s := col.NewSender(t, Service("checkout", "prod")...)
	sent := time.Now()
	s.Emit(context.Background(),
		Record(log.SeverityError, throttled),
		Record(log.SeverityError, other, attribute.String("team", "payments")),
	)
	s.Flush(t)

	// before429 is a moment known to precede the 429: the start of the last
	// look at the stats that did not show it yet.
	before429 := sent
	for deadline := time.Now().Add(30 * time.Second); ; {
		look := time.Now()
		if destStats(t, emu, "#alerts").Throttled > 0 {
			break
		}
		before429 = look
		if look.After(deadline) {
			t.Fatalf("#alerts was never throttled:\n%s", emu.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}

	retried := emu.WaitForMessages(t, "#alerts", 1, 30*time.Second)[0]
	msgs := emu.WaitQuiet(t, time.Second, 30*time.Second)
	payments := messagesContaining(msgs, other)
	if len(payments) != 1 || payments[0].Channel != "#payments" {
		t.Fatalf("the payments record should be in one message in #payments, found in %v", channels(payments))
	}

	retriedAt := parseTime(t, retried.ReceivedAt)
	if wait := retriedAt.Sub(before429); wait < retryAfter {
		t.Errorf("#alerts was posted to again %v after the 429, want at least %v", wait.Round(time.Millisecond), retryAfter)
	}
	paymentsAt := parseTime(t, payments[0].ReceivedAt)
	if d := paymentsAt.Sub(sent); d > 2*time.Second {
		t.Errorf("#payments got its message %v after sending, want within 2s: held by #alerts' Retry-After?", d.Round(time.Millisecond))
	}
	if !paymentsAt.Before(retriedAt) {
		t.Errorf("#payments got its message at %v, after #alerts' retry at %v", paymentsAt, retriedAt)
	}

	if got := messagesContaining(msgs, throttled); len(got) != 1 || got[0].Channel != "#alerts" {
		t.Errorf("the throttled record should be in one message in #alerts, found in %v", channels(got))
	}
	if st := destStats(t, emu, "#alerts"); st.Requests != 2 || st.Throttled != 1 || st.Accepted != 1 || len(st.Errors) != 0 {
		t.Errorf("#alerts stats = %+v, want 2 requests: one 429, one accepted", st)
	}
	if st := destStats(t, emu, "#payments"); st.Requests != 1 || st.Accepted != 1 {
		t.Errorf("#payments stats = %+v, want 1 request, accepted", st)
	}
	if got := col.Counter(t, metricDelivered); got != 2 {
		t.Errorf("%s = %v, want 2", metricDelivered, got)
	}
	if got := col.Counter(t, metricSent); got != 2 {
		t.Errorf("%s = %v, want 2", metricSent, got)
	}
	if got := col.Counter(t, metricAPIErrors); got != 1 {
		t.Errorf("%s = %v in all, want 1 (the 429)", metricAPIErrors, got)
	}
	t.Logf("429 no later than %s; retried post %v after it; #payments %v after sending",
		before429.Format("15:04:05.000"), retriedAt.Sub(before429).Round(time.Millisecond), paymentsAt.Sub(sent).Round(time.Millisecond))
	assertNoSecrets(t, col, token)
}

// A failing webhook (dropped connections, a 500, then a permanent refusal)
// never puts the webhook URL's secret segment in the collector's log or
// metrics, while the records that can be delivered are.
func TestWebhookSecretStaysOutOfLogsAndMetrics(t *testing.T) {
	emu := StartEmulator(t)
	secret := randomSecret(t, "hooksecret")
	const hook = "webhook/T0SEC/B0SEC"
	env := append(emu.Env(), "HOOK_URL="+emu.WebhookURL("T0SEC/B0SEC/"+secret))
	col := StartCollector(t, SlackConfig(`
webhook_url: ${env:HOOK_URL}
rate_limit:
  per_second: 100
  burst: 100
`+fastDelivery), env...)

	// Transient failures: two dropped connections, then delivered on retry.
	emu.SetFault(t, Fault{Target: hook, Mode: "drop", Count: 2})
	col.SendLogs(t, Service("checkout", "prod"), Record(log.SeverityError, "delivered after dropped connections|"))
	emu.WaitForMessages(t, hook, 1, 30*time.Second)

	// A 500, then delivered on retry.
	emu.SetFault(t, Fault{Target: hook, Mode: "status", Status: 500, Count: 1})
	col.SendLogs(t, Service("checkout", "prod"), Record(log.SeverityError, "delivered after a server error|"))
	emu.WaitForMessages(t, hook, 2, 30*time.Second)

	// A permanent refusal: logged and dropped.
	emu.SetFault(t, Fault{Target: hook, Mode: "error", Error: "no_active_hooks"})
	col.SendLogs(t, Service("checkout", "prod"), Record(log.SeverityError, "refused by a removed webhook|"))
	Eventually(t, 30*time.Second, func() error {
		if len(linesContaining(col.Logs(), "Slack refused")) == 0 {
			return fmt.Errorf("no %q line in the collector log yet", "Slack refused")
		}
		return nil
	})

	st := destStats(t, emu, hook)
	if st.Errors["connection_dropped"] != 2 || st.Errors["http_500"] != 1 || st.Errors["no_active_hooks"] != 1 || st.Accepted != 2 {
		t.Errorf("%s stats = %+v, want 2 dropped, 1 http_500, 1 no_active_hooks, 2 accepted", hook, st)
	}
	if got := col.Counter(t, metricDelivered); got != 2 {
		t.Errorf("%s = %v, want 2", metricDelivered, got)
	}
	if got := col.Counter(t, metricAPIErrors, "error=no_active_hooks"); got != 1 {
		t.Errorf(`%s{error="no_active_hooks"} = %v, want 1`, metricAPIErrors, got)
	}
	// The failures were logged (so the check below looked at error output).
	if !strings.Contains(col.Logs(), "Exporting failed") {
		t.Errorf("the collector logged no export failure")
	}
	assertNoSecrets(t, col, secret, emu.WebhookURL("T0SEC/B0SEC/"+secret))
}

func parseTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return at
}

// A route's channel may be a template over the record (issue 9): each
// record goes to the channel it names; Slack refusing that channel sends
// its records to the default one, marked with where they were meant to go,
// and counts them in records_rerouted.
func TestTemplatedChannelsAndTheirRefusals(t *testing.T) {
	token := randomSecret(t, "xoxb-e2e-")
	emu := StartEmulator(t, "-token", token)
	emu.SetChannel(t, "#gone-alerts", "missing")
	col := StartCollector(t, SlackConfig(tokenMode(`
routes:
  - condition: 'resource.attributes["team"] != nil'
    channel: '#{{ index .Resource "team" }}-alerts'
`)), emu.Env()...)

	team := func(name string) []attribute.KeyValue {
		return append(Service("checkout", "prod"), attribute.String("team", name))
	}
	col.SendLogs(t, team("pay"), Record(log.SeverityError, "payments alert|"))
	col.SendLogs(t, team("gone"), Record(log.SeverityError, "alert for a missing channel|"))
	col.SendLogs(t, team("Not A Channel"), Record(log.SeverityError, "alert for a bad name|"))

	emu.WaitForMessages(t, "#pay-alerts", 1, 30*time.Second)
	waitCounter(t, col, 30*time.Second, 1, metricRerouted, "error=channel_not_found")
	waitCounter(t, col, 30*time.Second, 3, metricDelivered)
	msgs := emu.Messages(t, "")
	if got := messagesContaining(msgs, "alert for a missing channel|"); len(got) != 1 || got[0].Channel != "#alerts" {
		t.Fatalf("the record for the missing channel should be in one message in #alerts, found in %v", channels(got))
	} else if !strings.Contains(got[0].Text, "meant for #gone-alerts: channel_not_found") {
		t.Errorf("the rerouted message does not say where it was meant to go: %q", got[0].Text)
	}
	if got := messagesContaining(msgs, "alert for a bad name|"); len(got) != 1 || got[0].Channel != "#alerts" {
		t.Errorf("the record whose channel is no channel should be in #alerts, found in %v", channels(got))
	}
	if n := len(linesContaining(col.Logs(), "gave no Slack channel")); n != 1 {
		t.Errorf("want 1 warning about the bad name, got %d", n)
	}
	if text := col.MetricsText(t); !strings.Contains(text, metricRerouted+"{") {
		t.Errorf("no series named exactly %s:\n%s", metricRerouted, strings.Join(linesContaining(text, "rerouted"), "\n"))
	}
	if got := col.Counter(t, "otelcol_exporter_slack_records_dropped"); got != 0 {
		t.Errorf("records_dropped = %v, want 0", got)
	}
	assertNoSecrets(t, col, token)
}
