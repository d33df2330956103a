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

// A repeat waits for the workspace's update budget at most the rest of the
// timeout once the call's share is kept; when the next update is further
// away, the repeat is posted as a new message instead.
func TestARepeatWaitsForTheUpdateBudgetOnlyTheRestOfTheTimeout(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := threadsConfig(srv, func(c *ThreadsConfig) {
		c.UpdatesPerMinute = 20 // a burst of 3, then one every ~3 s
		c.ReplyEvery = time.Hour
	})
	cfg.Timeout = 4 * time.Second // 2 s for the call, so at most 2 s for the budget
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	boom := func() plog.Logs { return errorRecords(1, func(int) string { return "boom" }) }
	for range 4 { // the post, then three updates: the burst
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, boom())))
	}
	require.Len(t, messagesIn(emu, "#alerts"), 1)
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, boom()))) // the next update is ~3 s away
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 2, "posted anew rather than waiting ~3 s for the budget")
	assert.Equal(t, 3, msgs[0].Updates)
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
