package reliability

// Scenario 4 (permanent error on one route): the refused destination's
// records are dropped once, loudly and countably; the other is unaffected.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// Scenario 4: one route's destination answers channel_not_found. Its
// records are dropped after one attempt, with one log line per refused
// message and a counter; the other destination gets all its records; the
// refused one is not called again.
func TestPermanentError(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			row := report(t, 4, "4. Permanent error: channel_not_found on one route", mode)
			r := newRig(t, mode)
			col := harness.StartCollector(t, config(r.exporter(queue()), false), r.env...)
			led := newLedger("permanent")
			f := newFeeder(t, col, led)

			r.emu.SetFault(t, harness.Fault{Target: r.other, Mode: "error", Error: "channel_not_found"})
			for range 3 {
				f.send(t, 5, "")
				f.send(t, 5, "other")
				time.Sleep(500 * time.Millisecond)
			}

			good := waitDelivered(t, r.emu, r.alerts, led.ids(false, ""), deliveryTimeout)
			row.RSSKiB = col.MaxRSSKiB()
			requireExactlyOnce(t, "the healthy destination "+r.alerts, good)
			all := count(r.emu.Messages(t, ""), led.all())
			row.set(all)
			refused := led.ids(false, "other")
			if gone := count(r.emu.Messages(t, r.other), refused); gone.Delivered > 0 {
				t.Errorf("%d records reached the refusing destination", gone.Delivered)
			}

			// Every refused message was tried once and never again: the
			// calls stop, and each call refused is one log line and one
			// count.
			attempts := func() int { return r.emu.Stats(t).Destinations[r.other].Requests }
			// The last batch may still be on its way: wait until no call
			// came for twice the longest backoff.
			n, last := attempts(), time.Now()
			harness.Eventually(t, 15*time.Second, func() error {
				if m := attempts(); m != n {
					n, last = m, time.Now()
				}
				if quiet := time.Since(last); quiet < 2*time.Second {
					return fmt.Errorf("%s was called %v ago", r.other, quiet.Round(time.Millisecond))
				}
				return nil
			})
			time.Sleep(3 * time.Second) // three times the longest backoff
			if m := attempts(); m != n {
				t.Errorf("%s was called again after refusing: %d calls, then %d", r.other, n, m)
			}
			if n == 0 {
				t.Fatalf("%s was never called", r.other)
			}
			if got := col.Counter(t, metricAPIErrors, "error=channel_not_found"); got != float64(n) {
				t.Errorf(`%s{error="channel_not_found"} = %v, want %d (one per refused call)`, metricAPIErrors, got, n)
			}
			// The drop is counted exactly once, by exporterhelper's
			// send_failed or by the exporter's own dropped counter: not
			// the records of the same request that were delivered.
			failed, dropped := col.Counter(t, "otelcol_exporter_send_failed_log_records"), col.Counter(t, metricDropped)
			if failed+dropped != float64(len(refused)) {
				t.Errorf("otelcol_exporter_send_failed_log_records = %v and %s = %v, want the %d refused records counted once", failed, metricDropped, dropped, len(refused))
			}
			lines, records := refusalLines(col.Logs())
			if len(lines) != n {
				t.Errorf("%d log lines mention channel_not_found, want one per refused call (%d):\n%s", len(lines), n, strings.Join(lines, "\n"))
			}
			if records != len(refused) {
				t.Errorf("the refusal log lines count %d records, want each of the %d refused records once", records, len(refused))
			}
			row.note("%d records for the refused route dropped: %d calls, %d log lines, api_errors{channel_not_found}=%d, no retry", len(refused), n, len(lines), n)
			r.requireNoSecrets(t, col)
		})
	}
}

// metricDropped is the exporter's own count of records Slack refused for
// good, if it keeps one.
const metricDropped = "otelcol_exporter_slack_records_dropped"

var recordsField = regexp.MustCompile(`"records": ?(\d+)`)

// refusalLines are the collector's log lines about channel_not_found, and
// the records they say were dropped.
func refusalLines(log string) (lines []string, records int) {
	for line := range strings.SplitSeq(log, "\n") {
		if !strings.Contains(line, "channel_not_found") {
			continue
		}
		lines = append(lines, line)
		if m := recordsField.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			records += n
		}
	}
	return lines, records
}
