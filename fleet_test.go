package slackexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/slackexporter/slackexporter/internal/metadata"
	"github.com/slackexporter/slackexporter/internal/slackclient"
)

// A gateway watching its fleet's consumer group spends the workspace's
// chat.update budget divided by the gateways in the group, and after each
// change reads its channels back before delivering there again.
func TestAFleetGatewaySpendsItsShareOfTheUpdateBudget(t *testing.T) {
	const topic, group = "slack-logs", "slack-gateways"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, topic), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	join := func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
			kgo.HeartbeatInterval(100*time.Millisecond))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for ctx.Err() == nil {
				cl.PollFetches(ctx) // stays in the group
			}
		}()
		t.Cleanup(func() { cancel(); cl.Close() })
		return cl
	}

	_, srv := emulator(t, nil)
	cfg := threadsConfig(srv, func(th *ThreadsConfig) {
		th.RestoreFromSlack = true
		th.UpdatesPerMinute = 60
		th.Fleet = &FleetConfig{Brokers: c.ListenAddrs(), GroupID: group, PollInterval: 100 * time.Millisecond}
	})
	core, logs := observer.New(zapcore.InfoLevel)
	set := exportertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	e := started(t, cfg, set)

	shareOf := func(gateways int) func() bool {
		return func() bool {
			for _, l := range logs.FilterMessageSnippet("consumer group changed").All() {
				f := l.ContextMap()
				if f["gateways"] == int64(gateways) && f["updates_per_minute"] == 60/float64(gateways) {
					return true
				}
			}
			return false
		}
	}
	join()
	require.Eventually(t, shareOf(1), 30*time.Second, 10*time.Millisecond, "one gateway: the whole budget")
	before := e.rebalances.Load()
	second := join()
	require.Eventually(t, shareOf(2), 30*time.Second, 10*time.Millisecond, "two gateways: half each")
	assert.Greater(t, e.rebalances.Load(), before, "every channel is read back before its next delivery")
	assert.Equal(t, 2, e.fleet.Members())
	// The limiter spends the share: its burst gone, the next update is 2 s
	// away at 30 a minute (1 s at 60), beyond a 1.5 s wait.
	for range updateBurst {
		require.NoError(t, e.updates.Wait(context.Background(), 0, 0))
	}
	var tooLong *slackclient.WaitTooLongError
	require.ErrorAs(t, e.updates.Wait(context.Background(), 1500*time.Millisecond, 0), &tooLong)

	logs.TakeAll()
	second.Close() // leaves the group: its share comes back
	require.Eventually(t, shareOf(1), 30*time.Second, 10*time.Millisecond, "a gateway gone: its share goes back")
}
