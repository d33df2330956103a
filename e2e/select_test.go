package e2e

// Selection end to end: which records reach Slack (severity, include,
// exclude) and where they go (routes), as counted by the collector and seen
// by the emulator.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// Only ERROR and above reach Slack, including records that carry only a
// severity text; the filtered, delivered and sent counters match exactly.
func TestOnlyErrorsAndAboveReachSlack(t *testing.T) {
	emu := StartEmulator(t)
	col := StartCollector(t, SlackConfig(tokenMode(`
filter:
  min_severity: error
`)), emu.Env()...)

	var records []log.Record
	var kept, dropped []string
	add := func(keep bool, body string, r log.Record) {
		r.SetBody(attribute.StringValue(body))
		records = append(records, r)
		if keep {
			kept = append(kept, body)
		} else {
			dropped = append(dropped, body)
		}
	}
	// Many records below ERROR, a few at or above it, interleaved. Bodies
	// differ by words, so no two kept records collapse into one entry.
	for i := range 300 {
		add(false, "dropped-info-"+word(i)+"|", Record(log.SeverityInfo, ""))
		if i%2 == 0 {
			add(false, "dropped-debug-"+word(i)+"|", Record(log.SeverityDebug, ""))
		}
		if i%3 == 0 {
			add(false, "dropped-warn-"+word(i)+"|", Record(log.SeverityWarn, ""))
		}
		if i%15 == 0 {
			add(true, "kept-error-"+word(i)+"|", Record(log.SeverityError, ""))
		}
		if i%60 == 0 {
			add(true, "kept-fatal-"+word(i)+"|", Record(log.SeverityFatal, ""))
		}
	}
	// The edges of the severity ranges.
	add(false, "dropped-warnfour|", Record(log.SeverityWarn4, ""))
	add(true, "kept-errorone|", Record(log.SeverityError1, ""))
	add(true, "kept-fatalfour|", Record(log.SeverityFatal4, ""))
	// severity_number 0: the text decides, case-insensitively.
	add(true, "kept-text-ERROR|", textOnlyRecord("ERROR", ""))
	add(true, "kept-text-critical|", textOnlyRecord("critical", ""))
	add(true, "kept-text-Severe|", textOnlyRecord("Severe", ""))
	add(false, "dropped-text-warning|", textOnlyRecord("warning", ""))
	add(false, "dropped-text-notice|", textOnlyRecord("notice", ""))
	add(false, "dropped-text-unknown|", textOnlyRecord("bananas", ""))
	add(false, "dropped-text-none|", textOnlyRecord("", ""))
	// A severity number, when set, wins over the text.
	infoSaysError := Record(log.SeverityInfo, "")
	infoSaysError.SetSeverityText("ERROR")
	add(false, "dropped-info-with-text-ERROR|", infoSaysError)

	col.SendLogs(t, Service("checkout", "dev"), records...)

	// Filtering happens as the collector receives: the count is final now.
	if got := col.Counter(t, metricFiltered); got != float64(len(dropped)) {
		t.Errorf("%s = %v, want %d", metricFiltered, got, len(dropped))
	}
	waitCounter(t, col, 30*time.Second, float64(len(kept)), metricDelivered)
	msgs := emu.WaitQuiet(t, time.Second, 30*time.Second)

	for _, body := range kept {
		if got := messagesContaining(msgs, body); len(got) != 1 {
			t.Errorf("kept record %q is in %d messages, want 1", body, len(got))
		}
	}
	for _, body := range dropped {
		if got := messagesContaining(msgs, body); len(got) != 0 {
			t.Errorf("filtered record %q reached Slack in %v", body, channels(got))
		}
	}
	for _, m := range msgs {
		if m.Channel != "#alerts" {
			t.Errorf("message %d went to %q, want #alerts", m.Seq, m.Channel)
		}
	}
	if got := col.Counter(t, metricSent); got != float64(len(msgs)) {
		t.Errorf("%s = %v, but the emulator holds %d messages", metricSent, got, len(msgs))
	}
	if got := col.Counter(t, metricDelivered); got != float64(len(kept)) {
		t.Errorf("%s = %v, want %d", metricDelivered, got, len(kept))
	}
	if got := col.Counter(t, metricFiltered); got != float64(len(dropped)) {
		t.Errorf("%s = %v, want %d", metricFiltered, got, len(dropped))
	}
	if t.Failed() {
		t.Logf("emulator holds:\n%s", emu.MessagesText(t))
	}
}

// Routes send each record to the first matching route's channel or webhook,
// the rest to the default channel; include and exclude drop records before
// any route is tried.
func TestRoutesFirstMatchWinsAndExcludedGoNowhere(t *testing.T) {
	emu := StartEmulator(t)
	const paymentsHook = "webhook/T0ROUTE/B0PAY"
	env := append(emu.Env(), "PAYMENTS_WEBHOOK_URL="+emu.WebhookURL("T0ROUTE/B0PAY/payments-route-secret"))
	col := StartCollector(t, SlackConfig(tokenMode(`
filter:
  min_severity: error
  include:
    - 'resource.attributes["service.name"] != "noise"'
  exclude:
    - 'attributes["ignore"] == true'
    - 'IsMatch(body, "healthcheck")'
routes:
  - condition: 'resource.attributes["deployment.environment"] == "prod"'
    channel: "#prod-alerts"
  - condition: 'attributes["team"] == "payments"'
    webhook_url: ${env:PAYMENTS_WEBHOOK_URL}
`)), env...)

	payments := attribute.String("team", "payments")
	// want maps each body to where it must land ("" = nowhere).
	want := map[string]string{}
	send := func(service, environment string, records ...log.Record) {
		col.SendLogs(t, Service(service, environment), records...)
	}
	rec := func(dest, body string, attrs ...attribute.KeyValue) log.Record {
		want[body] = dest
		return Record(log.SeverityError, body, attrs...)
	}
	send("checkout", "prod",
		rec("#prod-alerts", "route-prod-payments|", payments), // both routes match: the first wins
		rec("#prod-alerts", "route-prod-plain|"),
		rec("", "route-prod-healthcheck-failed|"), // excluded by body
		rec("", "route-prod-ignored|", attribute.Bool("ignore", true)),
	)
	send("billing", "staging",
		rec(paymentsHook, "route-staging-payments|", payments),
		rec("#alerts", "route-staging-plain|", attribute.String("team", "search")),
		rec("", "route-staging-payments-ignored|", payments, attribute.Bool("ignore", true)),
	)
	send("noise", "prod", rec("", "route-noise-not-included|", payments))
	infoBody := "route-prod-info|"
	want[infoBody] = ""
	send("checkout", "prod", Record(log.SeverityInfo, infoBody, payments))

	var wantDelivered, wantFiltered int
	for _, dest := range want {
		if dest == "" {
			wantFiltered++
		} else {
			wantDelivered++
		}
	}
	if got := col.Counter(t, metricFiltered); got != float64(wantFiltered) {
		t.Errorf("%s = %v, want %d", metricFiltered, got, wantFiltered)
	}
	waitCounter(t, col, 30*time.Second, float64(wantDelivered), metricDelivered)
	msgs := emu.WaitQuiet(t, time.Second, 30*time.Second)

	checkPlaced(t, msgs, want)
	for _, m := range msgs {
		if m.Channel == paymentsHook && m.Via != "webhook" {
			t.Errorf("message %d in %s came via %q, want webhook", m.Seq, m.Channel, m.Via)
		}
		if strings.HasPrefix(m.Channel, "#") && m.Via != "api" {
			t.Errorf("message %d in %s came via %q, want api", m.Seq, m.Channel, m.Via)
		}
	}
	if got := col.Counter(t, metricSent); got != float64(len(msgs)) {
		t.Errorf("%s = %v, but the emulator holds %d messages", metricSent, got, len(msgs))
	}
	if t.Failed() {
		t.Logf("emulator holds:\n%s", emu.MessagesText(t))
	}
}

// With batching on (the default), the slack exporter filters the data it is
// handed in place; the collector copies it for the exporter when another
// exporter of the pipeline shares it. The debug exporter beside it still
// sees every record, dropped and kept, and Slack the kept ones only.
func TestAnExporterSharingThePipelineStillSeesEveryRecord(t *testing.T) {
	emu := StartEmulator(t)
	config := SlackConfig(tokenMode(`
filter:
  min_severity: error
routes:
  - condition: 'resource.attributes["deployment.environment"] == "prod"'
    channel: "#prod-alerts"
`))
	config = strings.Replace(config, "\nservice:", "\n  debug:\n    verbosity: detailed\nservice:", 1)
	config = strings.Replace(config, "exporters: [slack]", "exporters: [slack, debug]", 1)
	col := StartCollector(t, config, emu.Env()...)

	want := map[string]string{} // body → channel, "" for none
	for i := range 40 {
		env, channel := "dev", "#alerts"
		if i%3 == 0 {
			env, channel = "prod", "#prod-alerts"
		}
		var records []log.Record
		for j, severity := range []log.Severity{log.SeverityInfo, log.SeverityError, log.SeverityWarn, log.SeverityFatal} {
			body := fmt.Sprintf("shared-%s-%s|", word(i), word(j))
			records = append(records, Record(severity, body))
			want[body] = ""
			if severity >= log.SeverityError {
				want[body] = channel
			}
		}
		col.SendLogs(t, Service("svc-"+word(i%4), env), records...)
	}

	var kept int
	for _, channel := range want {
		if channel != "" {
			kept++
		}
	}
	waitCounter(t, col, 30*time.Second, float64(kept), metricDelivered)
	msgs := emu.WaitQuiet(t, time.Second, 30*time.Second)
	logs := col.Logs()
	for body := range want {
		if !strings.Contains(logs, body) {
			t.Errorf("the debug exporter never showed %q", body)
		}
	}
	checkPlaced(t, msgs, want)
	if t.Failed() {
		t.Logf("emulator holds:\n%s", emu.MessagesText(t))
	}
}

// checkPlaced checks that each body of want is in one message, in the
// channel (or webhook) want gives, or in none when want gives "".
func checkPlaced(t *testing.T, msgs []Message, want map[string]string) {
	t.Helper()
	for body, dest := range want {
		got := messagesContaining(msgs, body)
		switch {
		case dest == "" && len(got) > 0:
			t.Errorf("%q should have been dropped, but reached %v", body, channels(got))
		case dest != "" && (len(got) != 1 || got[0].Channel != dest):
			t.Errorf("%q should be in one message in %s, found in %v", body, dest, channels(got))
		}
	}
}
