package slackexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/metadata"
)

// "#alerts" and "alerts" name one channel: one destination, so one
// message for a push's records and one rate limit.
func TestAChannelNamedWithOrWithoutItsHashIsOneDestination(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := tokenConfig(srv) // channel: "#alerts"
	cfg.Routes = []RouteConfig{{Condition: `resource.attributes["deployment.environment"] == "prod"`, Channel: "alerts"}}
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, logsOf(
		rec{"checkout", "dev", plog.SeverityNumberError, "dev is down"},
		rec{"checkout", "prod", plog.SeverityNumberError, "prod is down"},
	))))
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 1, "one destination, one message")
	assert.Contains(t, shown(t, msgs[0]), "dev is down")
	assert.Contains(t, shown(t, msgs[0]), "prod is down")
}

// A repeat waits for the workspace's update budget at most one post
// interval of the channel (1 s at 1 post a second): when the next update is
// nearer, it waits and updates; when it is further, posting is sooner, and
// the repeat is posted as a new message.
func TestARepeatWaitsForTheUpdateBudgetAtMostOnePostInterval(t *testing.T) {
	for _, tc := range []struct {
		updatesPerMinute float64
		messages         int
	}{
		{90, 1}, // a burst of 3, then one every ~0.67 s: waited for
		{20, 2}, // a burst of 3, then one every ~3 s: posted anew
	} {
		t.Run(fmt.Sprintf("updates_per_minute=%v", tc.updatesPerMinute), func(t *testing.T) {
			emu, srv := emulator(t, nil)
			cfg := threadsConfig(srv, func(c *ThreadsConfig) {
				c.UpdatesPerMinute = tc.updatesPerMinute
				c.ReplyEvery = time.Hour
			})
			cfg.RateLimit = RateLimitConfig{PerSecond: 1, Burst: 10} // a post interval of 1 s, and posts to spare
			e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
			ctx := context.Background()
			boom := func() plog.Logs { return errorRecords(1, func(int) string { return "boom" }) }
			for range 4 { // the post, then three updates: the burst
				require.NoError(t, e.push(ctx, e.selectRecords(ctx, boom())))
			}
			require.Len(t, messagesIn(emu, "#alerts"), 1)
			require.NoError(t, e.push(ctx, e.selectRecords(ctx, boom())))
			msgs := messagesIn(emu, "#alerts")
			require.Len(t, msgs, tc.messages)
			total := 0
			for _, m := range msgs {
				total += recordsShown(t, m)
			}
			assert.Equal(t, 5, total, "every record shown once")
		})
	}
}

// A sample reply is a courtesy: it takes a free slot of the channel, or is
// skipped; it never waits for one, nor goes out without one.
func TestASampleReplyNeverWaitsForASlot(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = 0 })
	cfg.RateLimit = RateLimitConfig{PerSecond: 0.1, Burst: 2} // two posts, then one every ~10 s
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return fmt.Sprintf("disk %d%% full", 90+i) }))))
	}
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 2, "the parent and the one reply a free slot allowed")
	assert.Equal(t, msgs[0].TS, msgs[1].ThreadTS)
	assert.Equal(t, 2, msgs[0].Updates, "every repeat is counted all the same")
}
