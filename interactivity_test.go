package slackexporter

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/slackexporter/slackexporter/internal/memstorage"
	"github.com/slackexporter/slackexporter/internal/metadata"
	"github.com/slackexporter/slackexporter/internal/metadatatest"
	"github.com/slackexporter/slackexporter/internal/render"
	"github.com/slackexporter/slackexporter/internal/slackemu"
)

// withInteractivity turns interactivity on in cfg (Socket Mode against the
// emulator the config already points at).
const testAppToken = slackemu.DefaultAppToken

func withInteractivity(cfg *Config, mutate func(*InteractivityConfig)) *Config {
	ic := defaultInteractivity()
	ic.AppToken = testAppToken
	if mutate != nil {
		mutate(&ic)
	}
	cfg.Interactivity = configoptional.Some(ic)
	return cfg
}

// entryMenu is the overflow menu of an entry in a posted message: its
// section's block id and the options' texts and values.
type entryMenu struct {
	blockID string
	options map[string]string // text → value
}

func menus(t *testing.T, m slackemu.Message) []entryMenu {
	t.Helper()
	var blocks []struct {
		BlockID   string `json:"block_id"`
		Accessory *struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Options  []struct {
				Text  struct{ Text string } `json:"text"`
				Value string                `json:"value"`
			} `json:"options"`
		} `json:"accessory"`
	}
	require.NoError(t, json.Unmarshal(m.Blocks, &blocks))
	var out []entryMenu
	for _, b := range blocks {
		if b.Accessory == nil {
			continue
		}
		require.Equal(t, "overflow", b.Accessory.Type)
		require.Equal(t, render.ActionID, b.Accessory.ActionID)
		menu := entryMenu{blockID: b.BlockID, options: map[string]string{}}
		for _, o := range b.Accessory.Options {
			menu.options[o.Text.Text] = o.Value
		}
		out = append(out, menu)
	}
	return out
}

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 10*time.Millisecond, msg)
}

// clickOn applies a click on the entry menu of msg, as a transport would.
func clickOn(t *testing.T, e *slackExporter, msg slackemu.Message, menu entryMenu, value, user string) error {
	t.Helper()
	return e.applyClick(context.Background(), click{
		user: user, channelID: msg.ChannelID, channelName: strings.TrimPrefix(msg.Channel, "#"),
		messageTS: msg.TS, blockID: menu.blockID, actionID: render.ActionID, value: value, eventType: render.EventType,
	})
}

func TestEveryEntryOffersMuteAndAcknowledgeOnlyWithInteractivity(t *testing.T) {
	emu, srv := emulator(t, nil)
	e := started(t, withInteractivity(threadsConfig(srv, func(*ThreadsConfig) {}), nil), exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, logsOf(
		rec{"checkout", "prod", plog.SeverityNumberError, "card declined"},
		rec{"payments", "prod", plog.SeverityNumberError, "ledger locked"},
	))))
	var msgs []slackemu.Message
	for _, m := range messagesIn(emu, "#alerts") {
		if m.ThreadTS == "" {
			msgs = append(msgs, m)
		}
	}
	require.Len(t, msgs, 1)
	ms := menus(t, msgs[0])
	require.Len(t, ms, 2, "one menu per entry, as the section's accessory: no extra block")
	for _, m := range ms {
		assert.Equal(t, map[string]string{"Mute 1h": "mute:1h0m0s", "Mute 24h": "mute:24h0m0s", "Acknowledge": "ack"}, m.options,
			"no Unmute while nothing is muted")
	}

	plain, psrv := emulator(t, nil)
	p := started(t, threadsConfig(psrv, func(*ThreadsConfig) {}), exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, p.push(ctx, p.selectRecords(ctx, errorRecords(1, func(int) string { return "card declined" }))))
	assert.Empty(t, menus(t, messagesIn(plain, "#alerts")[0]), "without interactivity, messages look as before")
}

// liveMessage is the one top-level message of #alerts, with its one entry's menu.
func liveMessage(t *testing.T, emu *slackemu.Server) (slackemu.Message, entryMenu) {
	t.Helper()
	var msgs []slackemu.Message
	for _, m := range messagesIn(emu, "#alerts") {
		if m.ThreadTS == "" {
			msgs = append(msgs, m)
		}
	}
	require.Len(t, msgs, 1)
	ms := menus(t, msgs[0])
	require.Len(t, ms, 1)
	return msgs[0], ms[0]
}

func TestAMutedErrorIsCountedNotShownUntilUnmuted(t *testing.T) {
	emu, srv := emulator(t, nil)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := withInteractivity(threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = 0 }), nil)
	cfg.Mention = "<!here>"
	e := started(t, cfg, metadatatest.NewSettings(tel))
	ctx := context.Background()
	diskFull := func(n int) plog.Logs { return errorRecords(n, func(int) string { return "disk full" }) }
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, diskFull(1))))
	msg, menu := liveMessage(t, emu)

	require.NoError(t, clickOn(t, e, msg, menu, menu.options["Mute 1h"], "U0ONCALL"))
	eventually(t, func() bool {
		m, _ := liveMessage(t, emu)
		return strings.Contains(shown(t, m), "🔇 muted by <@U0ONCALL> until ")
	}, "the entry says who muted it, in place")
	msg, menu = liveMessage(t, emu)
	assert.Equal(t, "unmute", menu.options["Unmute"], "Unmute is offered while muted")
	updates, posts := msg.Updates, len(emu.Messages())

	require.NoError(t, e.push(ctx, e.selectRecords(ctx, diskFull(3))))
	assert.Len(t, emu.Messages(), posts, "no new message, no reply, no mention while muted")
	msg, _ = liveMessage(t, emu)
	assert.Equal(t, updates, msg.Updates, "and no update")
	metadatatest.AssertEqualExporterSlackRecordsMuted(t, tel, []metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	// Other errors in the channel are not muted.
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "queue stuck" }))))
	require.Len(t, messagesIn(emu, "#alerts"), 2)
	assert.Contains(t, messagesIn(emu, "#alerts")[1].Text, "<!here>", "a new error still pings")

	require.NoError(t, clickOn(t, e, msg, menu, render.ValueUnmute, "U0OTHER"))
	eventually(t, func() bool {
		return strings.Contains(shown(t, messagesIn(emu, "#alerts")[0]), "🔔 unmuted by <@U0OTHER>")
	}, "the entry says who unmuted it")
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, diskFull(2))))
	assert.Contains(t, shown(t, messagesIn(emu, "#alerts")[0]), "×3", "after Unmute the next records count again: 1 shown before, 2 now")
	metadatatest.AssertEqualExporterSlackRecordsDelivered(t, tel, []metricdata.DataPoint[int64]{{Value: 4}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestAcknowledgeSaysWhoIsOnItAndDoesNotMute(t *testing.T) {
	emu, srv := emulator(t, nil)
	e := started(t, withInteractivity(threadsConfig(srv, func(*ThreadsConfig) {}), nil), exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
	msg, menu := liveMessage(t, emu)
	require.NoError(t, clickOn(t, e, msg, menu, render.ValueAck, "U0ONCALL"))
	eventually(t, func() bool {
		m, _ := liveMessage(t, emu)
		return strings.Contains(shown(t, m), "👀 <@U0ONCALL> is on it")
	}, "acknowledged")
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
	eventually(t, func() bool { m, _ := liveMessage(t, emu); return strings.Contains(shown(t, m), "×2") }, "still counted")
	m, menu := liveMessage(t, emu)
	assert.NotContains(t, menu.options, "Unmute")
	assert.Contains(t, shown(t, m), "👀 <@U0ONCALL> is on it", "the acknowledgement stays with later counts")
}

func TestAMuteEndsOnItsOwnAndTheEntrySaysSo(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.Window, c.QuietAfter = 2*time.Hour, 2*time.Hour })
	e := started(t, withInteractivity(cfg, nil), exportertest.NewNopSettings(metadata.Type))
	var clock atomicTime
	clock.Store(time.Now())
	e.now = clock.Load
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
	msg, menu := liveMessage(t, emu)
	require.NoError(t, clickOn(t, e, msg, menu, menu.options["Mute 1h"], "U0ONCALL"))
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
	msg, _ = liveMessage(t, emu)
	assert.NotContains(t, shown(t, msg), "×2", "muted")

	clock.Store(clock.Load().Add(time.Hour))
	eventually(t, func() bool { m, _ := liveMessage(t, emu); return strings.Contains(shown(t, m), "🔔 mute ended at ") }, "the entry says the mute ran out")
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
	eventually(t, func() bool { m, _ := liveMessage(t, emu); return strings.Contains(shown(t, m), "×2") }, "delivered again")
}

func TestAMuteSurvivesARestartWithInteractivityStorage(t *testing.T) {
	emu, srv := emulator(t, nil)
	storageID := component.MustNewID("file_storage")
	host := hostWith{storageID: memstorage.New()}
	cfg := withInteractivity(tokenConfig(srv), func(ic *InteractivityConfig) { ic.Storage = &storageID })
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	ctx := context.Background()
	run := func(body func(e *slackExporter)) {
		e, err := newSlackExporter(cfg, metadatatest.NewSettings(tel))
		require.NoError(t, err)
		require.NoError(t, e.start(ctx, host))
		body(e)
		require.NoError(t, e.shutdown(ctx))
	}
	run(func(e *slackExporter) {
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
		msg, menu := liveMessage(t, emu)
		require.NoError(t, clickOn(t, e, msg, menu, menu.options["Mute 24h"], "U0ONCALL"))
	})
	run(func(e *slackExporter) { // a new process: nothing posted here yet
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(2, func(int) string { return "disk full" }))))
	})
	assert.Len(t, emu.Messages(), 1, "the mute held across the restart")
	metadatatest.AssertEqualExporterSlackRecordsMuted(t, tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	missing := component.MustNewID("nope")
	cfg.Interactivity.Get().Storage = &missing
	e, err := newSlackExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	assert.ErrorContains(t, e.start(ctx, host), `interactivity.storage: no extension "nope"`)
	require.NoError(t, e.shutdown(ctx))
}

func TestClicksThatAreNotOnOurEntriesChangeNothing(t *testing.T) {
	emu, srv := emulator(t, nil)
	e := started(t, withInteractivity(threadsConfig(srv, func(*ThreadsConfig) {}), nil), exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
	msg, menu := liveMessage(t, emu)
	good := click{user: "U0ONCALL", channelID: msg.ChannelID, messageTS: msg.TS, blockID: menu.blockID, actionID: render.ActionID,
		value: "mute:1h0m0s", eventType: render.EventType}
	for name, mutate := range map[string]func(*click){
		"another app's message":     func(c *click) { c.eventType = "deploys" },
		"another element":           func(c *click) { c.actionID = "open_runbook" },
		"a block that is no entry":  func(c *click) { c.blockID = "header" },
		"an entry's context block":  func(c *click) { c.blockID = strings.TrimSuffix(menu.blockID, "-s") + "-c" },
		"a mute no menu offered":    func(c *click) { c.value = "mute:8760h0m0s" },
		"a value no menu offered":   func(c *click) { c.value = "delete" },
		"a user that is not a user": func(c *click) { c.user = "<!channel>" },
		"no channel":                func(c *click) { c.channelID = "" },
		"no metadata, not tracked":  func(c *click) { c.eventType, c.channelID = "", "C0ELSEWHERE" },
	} {
		c := good
		mutate(&c)
		assert.ErrorIs(t, e.applyClick(ctx, c), errUnknownMessage, name)
	}
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
	eventually(t, func() bool { m, _ := liveMessage(t, emu); return strings.Contains(shown(t, m), "×2") }, "nothing was muted")
	assert.NotContains(t, shown(t, messagesIn(emu, "#alerts")[0]), "muted")

	noMeta := good
	noMeta.eventType = ""
	assert.NoError(t, e.applyClick(ctx, noMeta), "a payload without metadata is ours when we track its message")
}

// atomicTime is a clock a test moves while the exporter's loops read it.
type atomicTime struct{ v atomic.Value }

func (a *atomicTime) Store(t time.Time) { a.v.Store(t) }
func (a *atomicTime) Load() time.Time   { return a.v.Load().(time.Time) }
