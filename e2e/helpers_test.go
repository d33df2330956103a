package e2e

// Helpers shared by the scenario tests: configs, records the SDK can send
// without a severity number, reading mrkdwn back out of Block Kit, waiting on
// the collector's counters, and checking that no secret leaks.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// Metric names of the exporter's own telemetry, as the collector exposes them.
const (
	metricFiltered  = "otelcol_exporter_slack_records_filtered"
	metricDelivered = "otelcol_exporter_slack_records_delivered"
	metricSent      = "otelcol_exporter_slack_messages_sent"
	metricAPIErrors = "otelcol_exporter_slack_api_errors"
	metricRerouted  = "otelcol_exporter_slack_records_rerouted"
)

// fastDelivery is the part of every scenario's exporter config that keeps it
// quick: a short batch flush and quick retries.
const fastDelivery = `
sending_queue:
  batch:
    flush_timeout: 200ms
retry_on_failure:
  initial_interval: 100ms
  max_interval: 500ms
`

// tokenMode is the exporter config for a bot token posting to #alerts, the
// default channel, with a rate limit the tests never reach unless they mean
// to, and extra settings (YAML at column 0) appended.
func tokenMode(extra string) string {
	return tokenModeRate(100, 100, extra)
}

// tokenModeRate is tokenMode with the given rate_limit.
func tokenModeRate(perSecond, burst int, extra string) string {
	return fmt.Sprintf(`
token: ${env:SLACK_BOT_TOKEN}
api_url: ${env:SLACK_API_URL}
channel: "#alerts"
rate_limit:
  per_second: %d
  burst: %d
`, perSecond, burst) + fastDelivery + extra
}

// randomSecret returns prefix followed by random hex, so a leak check can
// look for a string that appears nowhere else.
func randomSecret(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// word is a three-letter name for i (0 → "aaa", 1 → "aab", …). Bodies that
// must stay distinct differ by words, not numbers: the exporter's grouping
// masks numbers, so "error 1" and "error 2" are the same error to it.
func word(i int) string {
	b := []byte("aaa")
	for j := 2; j >= 0; j-- {
		b[j] = byte('a' + i%26)
		i /= 26
	}
	return string(b)
}

// textOnlyRecord is a record with a severity text and severity_number 0, as
// bridges that know only a level name send it.
func textOnlyRecord(severityText, body string, attrs ...attribute.KeyValue) log.Record {
	var r log.Record
	now := time.Now()
	r.SetTimestamp(now)
	r.SetObservedTimestamp(now)
	r.SetSeverityText(severityText)
	r.SetBody(attribute.StringValue(body))
	r.AddAttributes(attrs...)
	return r
}

// textObject is a Block Kit text object found in a message's blocks.
type textObject struct {
	Type     string
	Text     string
	Verbatim bool
}

// textObjects returns every text object (a JSON object with a string "type"
// and a string "text") inside the message's blocks, in document order.
func textObjects(t testing.TB, m Message) []textObject {
	t.Helper()
	if len(m.Blocks) == 0 {
		return nil
	}
	var blocks any
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatalf("message %d: blocks are not JSON: %v", m.Seq, err)
	}
	var out []textObject
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			typ, okType := v["type"].(string)
			text, okText := v["text"].(string)
			if okType && okText {
				verbatim, _ := v["verbatim"].(bool)
				out = append(out, textObject{Type: typ, Text: text, Verbatim: verbatim})
			}
			// Keys are visited in a fixed order so the result is stable.
			for _, k := range []string{"text", "fields", "elements", "accessory"} {
				if x, ok := v[k]; ok {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(blocks)
	return out
}

// messagesContaining returns the messages whose text or blocks contain s.
func messagesContaining(msgs []Message, s string) []Message {
	var out []Message
	for _, m := range msgs {
		if m.Contains(s) {
			out = append(out, m)
		}
	}
	return out
}

// channels lists where msgs went, for failure messages.
func channels(msgs []Message) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, m.Channel)
	}
	return out
}

// waitCounter waits until the collector's counter (see Collector.Counter)
// equals want; a counter that overshoots fails at once.
func waitCounter(t testing.TB, c *Collector, timeout time.Duration, want float64, name string, matchers ...string) {
	t.Helper()
	Eventually(t, timeout, func() error {
		got := c.Counter(t, name, matchers...)
		if got > want {
			t.Fatalf("%s%v = %v, want %v", name, matchers, got, want)
		}
		if got != want {
			return fmt.Errorf("%s%v = %v, want %v", name, matchers, got, want)
		}
		return nil
	})
}

// Consistently checks cond every 100ms for d and fails the test the first
// time it returns an error. Use it to assert that something does NOT happen
// (no retry, no second message) over a window longer than the behaviour's
// own period.
func Consistently(t testing.TB, d time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if err := cond(); err != nil {
			t.Fatalf("stopped being true: %v", err)
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// destStats returns the emulator's counters for one destination (zero if it
// was never called).
func destStats(t testing.TB, emu *Emulator, dest string) DestStats {
	t.Helper()
	return emu.Stats(t).Destinations[dest]
}

// assertNoSecrets fails if any secret appears in the collector's log or in
// its metrics. Call it while the collector runs (metrics are scraped); the
// log is read again after stopping it, so shutdown messages count too.
func assertNoSecrets(t testing.TB, c *Collector, secrets ...string) {
	t.Helper()
	metrics := c.MetricsText(t)
	c.Stop(t)
	logs := c.Logs()
	for _, s := range secrets {
		if s == "" {
			t.Fatal("assertNoSecrets: empty secret")
		}
		if i := strings.Index(logs, s); i >= 0 {
			t.Errorf("a secret (%.8s…) appears in the collector's log: …%s…", s, around(logs, i, len(s)))
		}
		if i := strings.Index(metrics, s); i >= 0 {
			t.Errorf("a secret (%.8s…) appears in the collector's metrics: …%s…", s, around(metrics, i, len(s)))
		}
	}
}

// around shows where a match is, without the match itself.
func around(s string, i, n int) string {
	from, to := max(0, i-120), min(len(s), i+n+60)
	return s[from:i] + "[SECRET]" + s[i+n:to]
}
