package reliability

// Scenario 3 (throttle): what happens to one destination must not spill
// over to the other.

import (
	"testing"
	"time"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// Scenario 3: one destination answers 429 with Retry-After: 5. Nothing is
// posted there for 5 s, the other destination is not delayed, nothing is
// lost. The exporter runs with its default timeout (10s).
func TestThrottle(t *testing.T) {
	const retryAfter = 5 * time.Second
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			row := report(t, 3, "3. Throttle: 429, Retry-After 5 on one destination", mode)
			r := newRig(t, mode)
			col := harness.StartCollector(t, config(r.exporter(queue()), false), r.env...)
			led := newLedger("throttle")
			f := newFeeder(t, col, led)

			r.emu.SetFault(t, harness.Fault{Target: r.alerts, Mode: "ratelimit", RetryAfter: int(retryAfter / time.Second), Count: 1})
			// Both destinations get records before, during and after the
			// pause.
			f.steady(t, retryAfter+2*time.Second, 500*time.Millisecond, 2, "", "other")

			tl := waitDelivered(t, r.emu, "", led.all(), deliveryTimeout)
			row.set(tl)
			row.RSSKiB = col.MaxRSSKiB()
			requireExactlyOnce(t, "both destinations", tl)

			// Nothing reached the throttled destination within Retry-After.
			var throttledAt time.Time
			var next *harness.Call
			calls := r.emu.Calls(t)
			for i, c := range calls {
				if c.Dest != r.alerts {
					continue
				}
				if c.Status == 429 && throttledAt.IsZero() {
					throttledAt = c.At
					continue
				}
				if !throttledAt.IsZero() {
					next = &calls[i]
					break
				}
			}
			switch {
			case throttledAt.IsZero():
				t.Fatalf("the emulator never answered 429 to %s", r.alerts)
			case next == nil:
				t.Fatalf("no call to %s after the 429", r.alerts)
			}
			// The emulator's log times are taken as it answers: allow a
			// few milliseconds between answering the 429 and logging it.
			gap := next.At.Sub(throttledAt)
			if gap < retryAfter-20*time.Millisecond {
				t.Errorf("a call reached %s %v after its 429 (Retry-After %v)", r.alerts, gap, retryAfter)
			}
			row.note("next call to the throttled destination %v after the 429", gap.Round(10*time.Millisecond))

			// The other destination was not held up: each of its records
			// arrived about one batch flush after it was sent, well within
			// the pause.
			const late = 2500 * time.Millisecond
			var slowest time.Duration
			for _, id := range led.ids(false, "other") {
				seen, ok := tl.firstSeen[id]
				if !ok {
					continue // lost: reported above
				}
				d := seen.Sub(led.sentAt(id))
				slowest = max(slowest, d)
				if d > late {
					t.Errorf("record %s for %s took %v to arrive, during %s's pause", id, r.other, d.Round(time.Millisecond), r.alerts)
				}
			}
			row.note("slowest record to the other destination %v", slowest.Round(10*time.Millisecond))
			r.requireNoSecrets(t, col)
		})
	}
}
