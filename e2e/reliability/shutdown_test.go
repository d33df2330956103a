package reliability

// Scenarios 6 (shutdown with records queued) and 7 (a queue too small for
// its input).

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// gracePeriod is how long an orchestrator waits after SIGTERM before it
// kills (Kubernetes' default terminationGracePeriodSeconds).
const gracePeriod = 30 * time.Second

// Scenario 6: SIGTERM while records wait in the (in-memory) queue and Slack
// is healthy but slow: the collector delivers them all before it exits, and
// exits by itself within the grace period.
func TestShutdownDrainsQueue(t *testing.T) {
	row := report(t, 6, "6. Shutdown: SIGTERM with records queued, Slack healthy", "token")
	r := newRig(t, "token")
	// One consumer and a Slack that takes a second per call: records queue.
	col := harness.StartCollector(t, config(r.exporter(queue("num_consumers: 1")), false), r.env...)
	r.emu.SetFault(t, harness.Fault{Target: "*", Mode: "slow", Latency: "1s"})
	led := newLedger("shutdown")
	f := newFeeder(t, col, led)
	f.steady(t, 3*time.Second, 250*time.Millisecond, 2, "", "other")

	atSignal := count(r.emu.Messages(t, ""), led.all())
	if atSignal.Lost == 0 {
		t.Fatalf("nothing was queued when SIGTERM was sent (%s): the scenario needs a backlog", atSignal)
	}
	took, err := col.Terminate(t, 2*gracePeriod)
	// Count right away: what Slack holds when the process is gone.
	tl := count(r.emu.Messages(t, ""), led.all())
	row.set(tl)
	row.RSSKiB = col.MaxRSSKiB()
	row.note("%d records queued at SIGTERM; exited %v after it", atSignal.Lost, took.Round(100*time.Millisecond))
	if err != nil {
		t.Errorf("the collector exited with %v after SIGTERM, want status 0", err)
	}
	if took > gracePeriod {
		t.Errorf("the collector took %v to exit after SIGTERM, more than the %v grace period", took, gracePeriod)
	}
	requireExactlyOnce(t, "when the collector had exited", tl)
}

// Scenario 7: a queue far too small for the input, while Slack hangs. The
// collector stays up and its memory bounded; the queue refuses what does
// not fit and exporterhelper counts it; after Slack recovers, what Slack
// shows plus what was counted as refused is every record sent.
func TestOverflow(t *testing.T) {
	row := report(t, 7, "7. Overflow: queue of 200 records, Slack hanging", "token")
	r := newRig(t, "token")
	col := harness.StartCollector(t, config(r.exporter(`timeout: 1s
sending_queue:
  sizer: items
  queue_size: 200
  num_consumers: 2
  batch:
    flush_timeout: 200ms
    sizer: items
    min_size: 50
    max_size: 100
`), false), r.env...)
	baseline := col.MaxRSSKiB()

	r.emu.SetFault(t, harness.Fault{Target: "*", Mode: "hang"})
	// The application's SDK does not retry here, so a refused batch is
	// refused once and the client's count of failures is exact.
	s := col.NewSenderWith(t, harness.SenderOptions{NoRetry: true}, harness.Service("checkout", "prod")...)
	led := newLedger("overflow")
	// Each record carries 1 KiB of payload, so the input is far larger
	// than anything the collector could hold without bounding it.
	filler := strings.Repeat("overflowing ", 85)
	total, batch := overflowRecords(), 50
	start := time.Now()
	var flushErrs int
	for sent := 0; sent < total; sent += batch {
		recs := led.records(min(batch, total-sent), "")
		for i := range recs {
			recs[i].AddAttributes(attribute.String("payload", filler))
		}
		s.Emit(t.Context(), recs...)
		if err := s.TryFlush(30 * time.Second); err != nil {
			flushErrs++
		}
		if !col.Running() {
			t.Fatalf("the collector exited while flooded")
		}
	}
	sendTook := time.Since(start)
	floodRSS := col.MaxRSSKiB()
	r.emu.ClearFaults(t)

	sent := len(led.all())
	// Wait for what the collector accepted, then for late duplicates.
	harness.Eventually(t, deliveryTimeout, func() error {
		tl := count(r.emu.Messages(t, ""), led.all())
		if int64(tl.Delivered+tl.Folded) < s.Exported() {
			return fmt.Errorf("%d of the %d accepted records in Slack", tl.Delivered+tl.Folded, s.Exported())
		}
		return nil
	})
	tl := count(waitQuiet(t, r.emu, "", 2*time.Second, 30*time.Second), led.all())
	row.set(tl)
	row.RSSKiB = col.MaxRSSKiB()

	refused := int(col.Counter(t, "otelcol_exporter_enqueue_failed_log_records"))
	row.note("%d records (%.0f MB) sent in %v; queue refused %d (enqueue_failed_log_records), client saw %d refused; Slack shows %d (%d folded); RSS %.0f MiB idle, %.0f MiB flooded",
		sent, float64(sent)*1.1/1000, sendTook.Round(time.Second), refused, s.Failed(), tl.Delivered, tl.Folded, float64(baseline)/1024, float64(floodRSS)/1024)

	if !col.Running() {
		t.Fatalf("the collector is not running after the flood")
	}
	if refused == 0 || flushErrs == 0 {
		t.Fatalf("the queue refused nothing (%d refused, %d failed exports): the scenario did not overflow", refused, flushErrs)
	}
	// Every record is accounted for: shown in Slack (by id, or counted in
	// a fold line) or counted as refused by exporterhelper.
	if got := tl.Delivered + tl.Folded + refused; got != sent || tl.Duplicated > 0 || tl.Unknown > 0 {
		t.Errorf("sent %d, but Slack shows %d (+%d folded) and exporterhelper counted %d refused (= %d); %s",
			sent, tl.Delivered, tl.Folded, refused, got, tl)
	}
	if int64(refused) != s.Failed() {
		t.Errorf("exporterhelper counted %d refused records, the application saw %d fail", refused, s.Failed())
	}
	// Bounded memory: the flood, at least twice the size of the bound,
	// added less than the bound.
	const bound = 64 << 10 // KiB
	if grew := floodRSS - baseline; grew > bound {
		t.Errorf("the collector's peak memory grew by %d MiB during a %.0f MB flood (from %d MiB), want at most %d MiB", grew>>10, float64(sent)*1.1/1000, baseline>>10, bound>>10)
	}
	r.requireNoSecrets(t, col)
}

// overflowRecords is how many records the overflow scenario sends: 100,000
// (about 110 MB) normally, 500,000 (about 550 MB) with a long window.
func overflowRecords() int {
	if window >= 30*time.Second {
		return 500_000
	}
	return 100_000
}
