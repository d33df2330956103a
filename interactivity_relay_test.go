package slackexporter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/slackexporter/slackexporter/internal/interact"
	"github.com/slackexporter/slackexporter/internal/metadatatest"
	"github.com/slackexporter/slackexporter/internal/mutes"
	"github.com/slackexporter/slackexporter/internal/render"
)

// In a fleet, a click may reach a gateway that does not own the channel:
// it writes the click to the topic under the channel's key, and the owner,
// reading it among the channel's records, applies it.
func TestAClickOnAnotherGatewayReachesTheChannelsOwnerThroughKafka(t *testing.T) {
	const topic = "slack-logs"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, topic))
	require.NoError(t, err)
	t.Cleanup(cluster.Close)
	emu, srv := emulator(t, nil)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	gateway := func(set *componenttest.Telemetry) *slackExporter {
		cfg := withInteractivity(threadsConfig(srv, func(*ThreadsConfig) {}), func(ic *InteractivityConfig) {
			ic.Kafka = &KafkaRelayConfig{Brokers: cluster.ListenAddrs(), Topic: topic}
		})
		return started(t, cfg, metadatatest.NewSettings(set))
	}
	owner, other := gateway(tel), gateway(componenttest.NewTelemetry())
	ctx := context.Background()
	require.NoError(t, owner.push(ctx, owner.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
	msg, menu := liveMessage(t, emu)

	// The other gateway receives the click: it writes, it does not apply.
	click := interact.Click{UserID: "U0ONCALL", ChannelID: msg.ChannelID, ChannelName: "alerts", MessageTS: msg.TS,
		BlockID: menu.blockID, ActionID: render.ActionID, Value: menu.options["Mute 1h"]}
	require.NoError(t, other.handleClick(ctx, click))
	forged := click
	forged.BlockID = "deploy-1"
	assert.ErrorIs(t, other.handleClick(ctx, forged), interact.ErrUnknownMessage, "checked before it is relayed")

	// What the owner's kafka receiver reads: the click under the key the
	// channel's records carry, on the partition of that key.
	consumer, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	t.Cleanup(consumer.Close)
	var recs []*kgo.Record
	fetchCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for len(recs) < 1 && fetchCtx.Err() == nil {
		recs = append(recs, consumer.PollFetches(fetchCtx).Records()...)
	}
	require.Len(t, recs, 1)
	assert.Equal(t, "channel:alerts", string(recs[0].Key))
	ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(recs[0].Value)
	require.NoError(t, err)
	assert.Zero(t, owner.takeControl(ctx, ld).LogRecordCount(), "a control record is no log record")

	eventually(t, func() bool {
		m, _ := liveMessage(t, emu)
		return strings.Contains(shown(t, m), "🔇 muted by <@U0ONCALL>")
	}, "the owner redrew the entry")
	require.NoError(t, owner.push(ctx, owner.selectRecords(ctx, errorRecords(2, func(int) string { return "disk full" }))))
	metadatatest.AssertEqualExporterSlackRecordsMuted(t, tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	// A Kafka that cannot be reached: the click holds where it landed.
	cluster.Close()
	ack := click
	ack.Value = render.ValueAck
	require.NoError(t, other.handleClick(ctx, ack))
	fp, _ := render.EntryFingerprint(menu.blockID)
	assert.Equal(t, "U0ONCALL", other.mutes.State(mutes.Key{Channel: msg.ChannelID, Fingerprint: fp}, time.Now()).AckedBy)
}

// A mute lives in the message's metadata too: a gateway that takes the
// channel over (no shared storage) reads it back and keeps it in force.
func TestAGatewayTakingAChannelOverKeepsItsMutes(t *testing.T) {
	emu, srv := emulator(t, nil)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := withInteractivity(threadsConfig(srv, func(c *ThreadsConfig) { c.RestoreFromSlack = true }), nil)
	ctx := context.Background()
	a := started(t, cfg, metadatatest.NewSettings(componenttest.NewTelemetry()))
	require.NoError(t, a.push(ctx, a.selectRecords(ctx, logsOf(
		rec{"checkout", "dev", plog.SeverityNumberError, "disk full"},
		rec{"checkout", "dev", plog.SeverityNumberError, "queue stuck"},
	))))
	msg := messagesIn(emu, "#alerts")[0]
	ms := menus(t, msg)
	require.Len(t, ms, 2)
	require.NoError(t, clickOn(t, a, msg, ms[0], ms[0].options["Mute 24h"], "U0ONCALL"))
	eventually(t, func() bool {
		return strings.Contains(string(messagesIn(emu, "#alerts")[0].Metadata), `"muted_by":"U0ONCALL,"`)
	},
		"the redraw carried the mute into the metadata")

	b := started(t, cfg, metadatatest.NewSettings(tel)) // took the channel over
	require.NoError(t, b.push(ctx, b.selectRecords(ctx, logsOf(
		rec{"checkout", "dev", plog.SeverityNumberError, "disk full"},
		rec{"checkout", "dev", plog.SeverityNumberError, "queue stuck"},
	))))
	require.Len(t, messagesIn(emu, "#alerts"), 1, "nothing posted anew")
	metadatatest.AssertEqualExporterSlackRecordsMuted(t, tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	shownNow := shown(t, messagesIn(emu, "#alerts")[0])
	assert.Contains(t, shownNow, "🔇 muted by <@U0ONCALL>", "still says so")
	assert.Equal(t, 1, strings.Count(shownNow, "×2"), "the other entry counted on; the muted one did not")
}

// Control records ride the topic the applications' records do. Only a
// gateway with interactivity.kafka reads them, and only those a gateway
// signed: an application's record dressed as a click mutes nothing.
func TestOnlyAGatewaysSignedControlRecordsAreClicks(t *testing.T) {
	emu, srv := emulator(t, nil)
	ctx := context.Background()
	start := func(cfg *Config) *selectingLogs {
		exp, err := NewFactory().CreateLogs(ctx, metadatatest.NewSettings(componenttest.NewTelemetry()), cfg)
		require.NoError(t, err)
		require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
		t.Cleanup(func() { require.NoError(t, exp.Shutdown(ctx)) })
		return exp.(*selectingLogs)
	}
	require.NoError(t, start(withInteractivity(threadsConfig(srv, func(*ThreadsConfig) {}), nil)).ConsumeLogs(ctx,
		errorRecords(1, func(int) string { return "disk full" })))
	msg, menu := liveMessage(t, emu)
	click := interact.Click{UserID: "U0ONCALL", ChannelID: msg.ChannelID, ChannelName: "alerts", MessageTS: msg.TS,
		BlockID: menu.blockID, ActionID: render.ActionID, Value: menu.options["Mute 1h"]}
	dressed := func(secret string) plog.Logs {
		ld := interact.ControlRecord(click, time.Now(), []byte(secret))
		ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetSeverityNumber(plog.SeverityNumberError)
		return ld
	}

	// Without the relay, a control record is a record like any other.
	single := start(withInteractivity(threadsConfig(srv, func(*ThreadsConfig) {}), nil))
	require.NoError(t, single.ConsumeLogs(ctx, dressed(testToken)))
	fp, _ := render.EntryFingerprint(menu.blockID)
	key := mutes.Key{Channel: msg.ChannelID, Fingerprint: fp}
	assert.False(t, single.exporter.mutes.Muted(key, time.Now()))

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "slack-logs"))
	require.NoError(t, err)
	t.Cleanup(cluster.Close)
	gateway := start(withInteractivity(threadsConfig(srv, func(*ThreadsConfig) {}), func(ic *InteractivityConfig) {
		ic.Kafka = &KafkaRelayConfig{Brokers: cluster.ListenAddrs(), Topic: "slack-logs"}
	}))
	require.NoError(t, gateway.ConsumeLogs(ctx, dressed("an application's guess")))
	assert.False(t, gateway.exporter.mutes.Muted(key, time.Now()), "not signed with the fleet's bot token")
	require.NoError(t, gateway.ConsumeLogs(ctx, dressed(testToken)))
	assert.True(t, gateway.exporter.mutes.Muted(key, time.Now()), "signed by a gateway of the fleet")
}

// A click goes only to the partitions that carry its channel's records:
// keyed as the agents key them, by the name or the id the configuration
// gives the channel.
func TestARelayedClickIsKeyedAsItsChannelsRecords(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Channel = "#alerts"
	cfg.Routes = []RouteConfig{
		{Channel: "C0PAY12345"},
		{Channel: "#payments"}, // the same channel by name: records under both keys
		{Channel: "#ops", Mention: "<!here>"},
		{Channel: `{{ index .Resource "team" }}-alerts`},
	}
	e := &slackExporter{workspace: &workspace{cfg: cfg}}
	assert.Equal(t, []string{"channel:alerts"}, e.ownerKeys("alerts", "C0ALERTS1"))
	assert.Equal(t, []string{"channel:C0PAY12345", "channel:payments"}, e.ownerKeys("payments", "C0PAY12345"))
	assert.Equal(t, []string{"channel:ops"}, e.ownerKeys("ops", "C0OPS1234"), "whatever the mention")
	assert.Equal(t, []string{"channel:web-alerts"}, e.ownerKeys("web-alerts", "C0WEB1234"), "a templated channel is keyed by its name")
}

// A gateway that lost a channel still holds its old copy of the channel's
// messages. When a mute it applied runs out there, redrawing that copy
// would put the old counts back over what the new owner counted since:
// with threads.restore_from_slack it reads the channel back first.
func TestAFormerOwnersRedrawNeverLowersACount(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := withInteractivity(threadsConfig(srv, func(c *ThreadsConfig) { c.RestoreFromSlack = true; c.Window = 3 * time.Hour }), nil)
	ctx := context.Background()
	twoErrors := func(n int) plog.Logs {
		var recs []rec
		for range n {
			recs = append(recs, rec{"checkout", "dev", plog.SeverityNumberError, "disk full"}, rec{"checkout", "dev", plog.SeverityNumberError, "queue stuck"})
		}
		return logsOf(recs...)
	}
	a := started(t, cfg, metadatatest.NewSettings(componenttest.NewTelemetry()))
	var clock atomicTime
	clock.Store(time.Now())
	a.now = clock.Load
	require.NoError(t, a.push(ctx, a.selectRecords(ctx, twoErrors(1))))
	msg := messagesIn(emu, "#alerts")[0]
	ms := menus(t, msg)
	require.Len(t, ms, 2)
	require.NoError(t, clickOn(t, a, msg, ms[0], ms[0].options["Mute 1h"], "U0ONCALL"))
	eventually(t, func() bool { return strings.Contains(shown(t, messagesIn(emu, "#alerts")[0]), "🔇 muted by") }, "muted")

	b := started(t, cfg, metadatatest.NewSettings(componenttest.NewTelemetry())) // took the channel over
	require.NoError(t, b.push(ctx, b.selectRecords(ctx, twoErrors(4))))
	require.Contains(t, shown(t, messagesIn(emu, "#alerts")[0]), "×5", "the new owner counted on")

	updates := messagesIn(emu, "#alerts")[0].Updates
	clock.Store(clock.Load().Add(time.Hour)) // a's mute runs out; a redraws
	eventually(t, func() bool { return messagesIn(emu, "#alerts")[0].Updates > updates }, "redrawn")
	final := messagesIn(emu, "#alerts")[0]
	assert.Contains(t, shown(t, final), "×5", "the former owner's redraw kept what Slack showed")
	assert.Len(t, messagesIn(emu, "#alerts"), 1)
}
