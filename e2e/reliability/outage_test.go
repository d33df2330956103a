package reliability

// Scenarios 1 (outage), 2 (hang) and 5 (crash with a persistent queue): Slack
// is down for a window; every record the collector accepted is delivered
// once Slack is back, none twice. They run in parallel with each other.

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

const metricAPIErrors = "otelcol_exporter_slack_api_errors"

// Scenario 1: Slack answers 503 for the window, then recovers.
func TestOutage(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			row := report(t, 1, fmt.Sprintf("1. Outage: HTTP 503 for %s", window), mode)
			r := newRig(t, mode)
			col := harness.StartCollector(t, config(r.exporter(queue()), false), r.env...)
			led := newLedger("outage")
			f := newFeeder(t, col, led)

			// Healthy first: the path works before the outage.
			f.send(t, 3, "")
			f.send(t, 3, "other")
			if tl := waitDelivered(t, r.emu, "", led.all(), deliveryTimeout); tl.Lost > 0 {
				t.Fatalf("before any fault: %s", tl)
			}

			r.emu.SetFault(t, harness.Fault{Target: "*", Mode: "status", Status: 503})
			f.steady(t, window, 500*time.Millisecond, 2, "", "other")
			duringOutage := r.emu.Stats(t).Totals
			r.emu.ClearFaults(t)
			f.send(t, 3, "")
			f.send(t, 3, "other")

			tl := waitDelivered(t, r.emu, "", led.all(), deliveryTimeout)
			row.set(tl)
			row.RSSKiB = col.MaxRSSKiB()
			requireExactlyOnce(t, "after the outage", tl)
			// The outage was real: Slack refused calls and the exporter saw it.
			refused := sum(duringOutage.Errors)
			if refused == 0 {
				t.Errorf("the emulator refused no call during the outage: %+v", duringOutage)
			}
			// Every call Slack refused, in the outage or throttled after it,
			// is counted once.
			final := r.emu.Stats(t).Totals
			if got, want := col.Counter(t, metricAPIErrors), sum(final.Errors)+final.Throttled; got != float64(want) {
				t.Errorf("%s = %v, want %d: every refused call counted once (%+v)", metricAPIErrors, got, want, final)
			}
			row.note("%d calls answered 503, retried until Slack recovered", refused)
			r.requireNoSecrets(t, col)
		})
	}
}

// Scenario 2: Slack accepts connections and never answers for the window.
// The exporter's timeout cuts every call, the application's exports are not
// slowed, and everything is delivered after recovery.
func TestHang(t *testing.T) {
	t.Parallel()
	const timeout = time.Second
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			row := report(t, 2, fmt.Sprintf("2. Hang: no answer for %s (timeout %s)", window, timeout), mode)
			r := newRig(t, mode)
			col := harness.StartCollector(t, config(r.exporter(fmt.Sprintf("timeout: %s\n", timeout)+queue()), false), r.env...)
			led := newLedger("hang")
			f := newFeeder(t, col, led)

			f.send(t, 3, "")
			if tl := waitDelivered(t, r.emu, "", led.all(), deliveryTimeout); tl.Lost > 0 {
				t.Fatalf("before any fault: %s", tl)
			}
			healthyFlush := f.slowestFlush()

			start := time.Now()
			r.emu.SetFault(t, harness.Fault{Target: "*", Mode: "hang"})
			f.steady(t, window, 500*time.Millisecond, 2, "", "other")
			end := time.Now()
			r.emu.ClearFaults(t)
			f.send(t, 3, "")

			tl := waitDelivered(t, r.emu, "", led.all(), deliveryTimeout)
			row.set(tl)
			row.RSSKiB = col.MaxRSSKiB()
			requireExactlyOnce(t, "after the hang", tl)

			// The application never waited on Slack: an export blocked
			// behind a push would take at least the timeout, and, retried,
			// the whole window.
			if slowest := f.slowestFlush(); slowest > 2*timeout || slowest >= window/2 {
				t.Errorf("an OTLP export from the application took %v during the hang (healthy: %v); it must not wait on Slack", slowest, healthyFlush)
			}
			row.note("slowest OTLP export during the hang %v", f.slowestFlush().Round(time.Millisecond))

			// Every call was cut by the timeout: calls the emulator held
			// ended with the client gone, the first about one timeout after
			// the hang began, and then never more than a timeout plus the
			// longest backoff apart.
			var cut []time.Time
			for _, c := range r.emu.Calls(t) {
				if c.Result == "client_gone" && !c.At.Before(start) && !c.At.After(end.Add(timeout)) {
					cut = append(cut, c.At)
				}
			}
			if len(cut) == 0 {
				t.Fatalf("no call was cut during the hang: the timeout did not work")
			}
			const slack = 1500 * time.Millisecond // a loaded machine
			limit := timeout + time.Second + slack
			if first := cut[0].Sub(start); first > timeout+slack {
				t.Errorf("the first call was cut %v after the hang began, want about the timeout (%v)", first, timeout)
			}
			gaps := []time.Duration{0}
			for i := 1; i < len(cut); i++ {
				gaps = append(gaps, cut[i].Sub(cut[i-1]))
			}
			if g := slices.Max(gaps); g > limit {
				t.Errorf("%v passed between two cut calls during the hang, want at most timeout + max backoff (%v)", g, limit)
			}
			if got := col.Counter(t, metricAPIErrors, "error=timeout"); got < 1 {
				t.Errorf(`%s{error="timeout"} = %v, want the cut calls counted`, metricAPIErrors, got)
			}
			row.note("%d calls cut by the timeout", len(cut))
			r.requireNoSecrets(t, col)
		})
	}
}

// Scenario 5: kill -9 during an outage with records in the file_storage
// queue; after a restart every queued record is delivered once Slack
// recovers.
func TestCrash(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			row := report(t, 5, fmt.Sprintf("5. Crash: kill -9 during a %s outage, file_storage queue", window), mode)
			r := newRig(t, mode)
			col := harness.StartCollector(t, config(r.exporter(queue("storage: file_storage")), true), r.env...)
			led := newLedger("crash")
			f := newFeeder(t, col, led)

			r.emu.SetFault(t, harness.Fault{Target: "*", Mode: "status", Status: 503})
			f.steady(t, window/2, 500*time.Millisecond, 2, "", "other")
			// Queued: the collector accepted them, Slack refused every try.
			harness.Eventually(t, 30*time.Second, func() error {
				if s := r.emu.Stats(t).Totals; sum(s.Errors) == 0 {
					return errors.New("no delivery attempt yet")
				}
				return nil
			})
			if n := len(r.emu.Messages(t, "")); n != 0 {
				t.Fatalf("%d messages got through the outage", n)
			}
			queued := len(led.all())
			col.Kill(t)
			col.Restart(t)
			// More records while Slack is still down, now into the
			// reopened queue.
			f2 := newFeeder(t, col, led)
			f2.steady(t, window/2, 500*time.Millisecond, 2, "", "other")
			r.emu.ClearFaults(t)

			tl := waitDelivered(t, r.emu, "", led.all(), deliveryTimeout)
			row.set(tl)
			row.RSSKiB = col.MaxRSSKiB()
			requireExactlyOnce(t, "after the crash and the outage", tl)
			row.note("%d records queued at the kill", queued)
			r.requireNoSecrets(t, col, filesUnder(t, col.StorageDir)...)
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
