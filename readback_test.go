package slackexporter

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/slackexporter/slackexporter/internal/metadata"
	"github.com/slackexporter/slackexporter/internal/slackemu"
)

// Two gateways, no storage, one Slack: the second takes the channel over
// and reads the live messages back instead of posting them again.
func TestAGatewayTakingAChannelOverUpdatesTheMessagesThePreviousOnePosted(t *testing.T) {
	for _, restore := range []bool{true, false} {
		t.Run(fmt.Sprintf("restore_from_slack=%v", restore), func(t *testing.T) {
			emu, srv := emulator(t, nil)
			cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = time.Hour; c.RestoreFromSlack = restore })
			ctx := context.Background()
			gateway := func() *slackExporter { return started(t, cfg, exportertest.NewNopSettings(metadata.Type)) }
			push := func(e *slackExporter, n int, body string) {
				require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(n, func(int) string { return body }))))
			}

			a := gateway()
			push(a, 3, "replica lag 12s")
			push(a, 2, "disk full on /var")
			b := gateway() // took the channel over: a is gone or busy elsewhere
			push(b, 4, "replica lag 31s")

			msgs := messagesIn(emu, "#alerts")
			if !restore {
				require.Len(t, msgs, 3, "without reading back, the new gateway posts the fingerprint again")
				return
			}
			require.Len(t, msgs, 2, "the repeat updated the message in Slack")
			lag := shown(t, msgs[0])
			assert.Contains(t, lag, "×7", "the count went on from what Slack showed (3 + 4)")
			assert.Contains(t, lag, "replica lag 31s", "rendered from the record that arrived")
			assert.Contains(t, shown(t, msgs[1]), "disk full on /var")

			// And back: a, idle meanwhile, reads again before it delivers,
			// so its stale ×3 never comes back.
			for _, d := range a.dests.static {
				d.readState.lastActive = time.Now().Add(-time.Minute)
			}
			push(a, 1, "replica lag 2s")
			msgs = messagesIn(emu, "#alerts")
			require.Len(t, msgs, 2)
			assert.Contains(t, shown(t, msgs[0]), "×8")
			for _, m := range msgs {
				for i := 1; i < len(m.History); i++ {
					require.GreaterOrEqual(t, recordsShown(t, slackVersion(m, i)), recordsShown(t, slackVersion(m, i-1)), "counts never go down")
				}
			}
		})
	}
}

// slackVersion is message m as its version i showed it.
func slackVersion(m slackemu.Message, i int) slackemu.Message {
	m.Blocks = m.History[i].Blocks
	return m
}

// A new owner counts the previous owner's recent posts against the
// channel's rate: it does not start with a whole burst Slack would refuse.
func TestANewOwnerPacesAfterThePreviousOnesPosts(t *testing.T) {
	emu := slackemu.New(slackemu.Options{Token: testToken, Rate: 1, Burst: 3})
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { emu.Close(); srv.Close() })
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = time.Hour; c.RestoreFromSlack = true })
	cfg.RateLimit = RateLimitConfig{PerSecond: 1, Burst: 3}
	ctx := context.Background()
	gateway := func() *slackExporter { return started(t, cfg, exportertest.NewNopSettings(metadata.Type)) }
	push := func(e *slackExporter, words ...string) {
		var wg sync.WaitGroup
		for _, w := range words { // one push each, as concurrent queue consumers
			wg.Go(func() {
				assert.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "failed: " + w }))))
			})
		}
		wg.Wait()
	}
	push(gateway(), "alpha", "bravo", "charlie") // the burst
	start := time.Now()
	push(gateway(), "delta", "echo")
	for _, c := range emu.Calls() {
		assert.NotEqual(t, 429, c.Status, "%s to %s at %s was refused", c.Method, c.Dest, c.At.Format("15:04:05.000"))
	}
	all := ""
	for _, m := range messagesIn(emu, "#alerts") {
		all += shown(t, m)
	}
	for _, w := range []string{"alpha", "bravo", "charlie", "delta", "echo"} {
		assert.Contains(t, all, "failed: "+w)
	}
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "the new owner waited for the channel's next slot")
}

// A gateway that lost a channel still holds its live messages; when their
// lines go quiet it must not mark them with its stale counts over the ones
// the new owner showed since.
func TestAQuietMarkFromTheFormerOwnerNeverLowersACount(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = time.Hour; c.RestoreFromSlack = true })
	ctx := context.Background()
	gateway := func() *slackExporter { return started(t, cfg, exportertest.NewNopSettings(metadata.Type)) }
	push := func(e *slackExporter, n int) {
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(n, func(int) string { return "replica lag 12s" }))))
	}
	a := gateway()
	push(a, 3)
	b := gateway() // took the channel over
	push(b, 4)

	a.markQuiet(ctx, time.Now().Add(cfg.Threads.QuietAfter+time.Minute))

	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 1)
	for i := 1; i < len(msgs[0].History); i++ {
		require.GreaterOrEqual(t, recordsShown(t, slackVersion(msgs[0], i)), recordsShown(t, slackVersion(msgs[0], i-1)), "counts never go down")
	}
	assert.Contains(t, shown(t, msgs[0]), "×7")
}

// A channel handed to another gateway and back within readBackAfterIdle:
// only the rebalance tells the first gateway that its copy is stale.
func TestAChannelHandedAwayAndBackQuicklyIsReadAgainAfterARebalance(t *testing.T) {
	for _, told := range []bool{true, false} {
		t.Run(fmt.Sprintf("rebalance_seen=%v", told), func(t *testing.T) {
			emu, srv := emulator(t, nil)
			cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = time.Hour; c.RestoreFromSlack = true })
			ctx := context.Background()
			gateway := func() *slackExporter { return started(t, cfg, exportertest.NewNopSettings(metadata.Type)) }
			push := func(e *slackExporter, n int) {
				require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(n, func(int) string { return "replica lag 12s" }))))
			}
			a, b := gateway(), gateway()
			push(a, 3)
			b.rebalanced()
			push(b, 4) // b owns the channel now: ×7
			if told {
				a.rebalanced()
			}
			push(a, 1) // and a again, a moment later

			msgs := messagesIn(emu, "#alerts")
			require.Len(t, msgs, 1)
			lowered := false
			for i := 1; i < len(msgs[0].History); i++ {
				lowered = lowered || recordsShown(t, slackVersion(msgs[0], i)) < recordsShown(t, slackVersion(msgs[0], i-1))
			}
			if !told {
				// What the rebalance prevents: a's stale ×3 + 1 over ×7.
				assert.True(t, lowered, "without the rebalance, a's stale copy lowers the count")
				return
			}
			assert.False(t, lowered, "counts never go down")
			assert.Contains(t, shown(t, msgs[0]), "×8")
		})
	}
}
