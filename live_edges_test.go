package slackexporter

import (
	"context"
	"fmt"
	"strings"
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

// The update budget goes to the messages that carry a storm: repeats
// holding at least a tenth of their push's records wait for it as long as
// the timeout allows; the others wait one post interval (1 s here), then
// are posted anew.
func TestRepeatsThatCarryThePushWaitForTheUpdateBudget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		others   int // records of other fingerprints in the push
		messages int // top-level messages showing "boom" afterwards
	}{
		{"alone in its push", 0, 1},
		{"1 of 21 records", 20, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu, srv := emulator(t, nil)
			cfg := threadsConfig(srv, func(c *ThreadsConfig) {
				c.UpdatesPerMinute = 30 // a burst of 3, then one every ~2 s
				c.ReplyEvery = time.Hour
			})
			cfg.RateLimit = RateLimitConfig{PerSecond: 1, Burst: 10} // a post interval of 1 s, and posts to spare
			cfg.Grouping.Mask = false
			e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
			ctx := context.Background()
			boom := func() plog.Logs { return errorRecords(1, func(int) string { return "boom" }) }
			for range 4 { // the post, then three updates: the burst
				require.NoError(t, e.push(ctx, e.selectRecords(ctx, boom())))
			}
			recs := []rec{{"checkout", "dev", plog.SeverityNumberError, "boom"}}
			for i := range tc.others {
				recs = append(recs, rec{"checkout", "dev", plog.SeverityNumberError, "other failure " + letters(i)})
			}
			require.NoError(t, e.push(ctx, e.selectRecords(ctx, logsOf(recs...)))) // the next update is ~2 s away
			showing, total := 0, 0
			for _, m := range messagesIn(emu, "#alerts") {
				if strings.Contains(shown(t, m), "boom") {
					showing++
				}
				total += recordsShown(t, m)
			}
			assert.Equal(t, tc.messages, showing)
			assert.Equal(t, 5+tc.others, total, "every record shown once")
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
