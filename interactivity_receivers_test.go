package slackexporter

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/slackexporter/slackexporter/internal/metadatatest"
	"github.com/slackexporter/slackexporter/internal/render"
	"github.com/slackexporter/slackexporter/internal/slackemu"
)

// freePort is a loopback port nobody listens on: the emulator must know
// the request URL before the exporter opens it.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func interactions(t *testing.T, tel *componenttest.Telemetry) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, err := tel.GetMetric("otelcol_exporter_slack_interactions")
	if err != nil {
		return out
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value(attribute.Key("result"))
		out[v.AsString()] += dp.Value
	}
	return out
}

// muteClick is a click on Mute 1h of the only entry of the only message.
func muteClick(t *testing.T, emu *slackemu.Server) slackemu.ClickSpec {
	t.Helper()
	msg, menu := liveMessage(t, emu)
	return slackemu.ClickSpec{Channel: msg.ChannelID, TS: msg.TS, BlockID: menu.blockID, ActionID: render.ActionID,
		Value: menu.options["Mute 1h"], UserID: "U0ONCALL"}
}

func TestAClickOverSocketModeMutesTheEntry(t *testing.T) {
	emu, srv := emulator(t, nil)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	e := started(t, withInteractivity(threadsConfig(srv, func(*ThreadsConfig) {}), nil), metadatatest.NewSettings(tel))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
	eventually(t, func() bool { return emu.SocketCount() > 0 }, "the exporter opened a Socket Mode connection")

	res, err := emu.Click(ctx, muteClick(t, emu))
	require.NoError(t, err)
	assert.Equal(t, slackemu.ViaSocket, res.Via)
	assert.True(t, res.Acked, "acked within 3 s")
	eventually(t, func() bool {
		m, _ := liveMessage(t, emu)
		return strings.Contains(shown(t, m), "🔇 muted by <@U0ONCALL>")
	}, "shown muted")
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(2, func(int) string { return "disk full" }))))
	metadatatest.AssertEqualExporterSlackRecordsMuted(t, tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	// Slack asks for a new connection now and then: clicks keep coming.
	emu.DisconnectSockets()
	eventually(t, func() bool { return emu.SocketCount() > 0 }, "reconnected")
	unmute := muteClick(t, emu)
	unmute.Value = render.ValueUnmute
	eventually(t, func() bool { r, err := emu.Click(ctx, unmute); return err == nil && r.Acked }, "a click after the reconnect")
	eventually(t, func() bool {
		m, _ := liveMessage(t, emu)
		return strings.Contains(shown(t, m), "🔔 unmuted by <@U0ONCALL>")
	}, "shown unmuted")
	assert.Equal(t, map[string]int64{"accepted": 2}, interactions(t, tel))
}

func TestTheRequestURLTakesOnlyGenuineClicks(t *testing.T) {
	addr := freePort(t)
	emu := slackemu.New(slackemu.Options{Token: testToken, ActionsURL: "http://" + addr + actionsPath})
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { emu.Close(); srv.Close() })
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := withInteractivity(threadsConfig(srv, func(*ThreadsConfig) {}), func(ic *InteractivityConfig) {
		ic.AppToken = ""
		ic.SigningSecret = configopaque.String(slackemu.DefaultSigningSecret)
		hs := confighttp.NewDefaultServerConfig()
		hs.NetAddr.Endpoint = addr
		ic.HTTP = configoptional.Some(hs)
		ic.AllowedUsers = []string{"U0ONCALL"}
	})
	e := started(t, cfg, metadatatest.NewSettings(tel))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
	mute := muteClick(t, emu)

	for name, tc := range map[string]struct {
		mutate func(*slackemu.ClickSpec)
		status int
	}{
		"a forged signature": {func(c *slackemu.ClickSpec) { c.BadSignature = true }, 401},
		"a stale timestamp":  {func(c *slackemu.ClickSpec) { c.Stale = true }, 401},
		"a body over 1 MiB":  {func(c *slackemu.ClickSpec) { c.Oversize = true }, 413},
		"a user not allowed": {func(c *slackemu.ClickSpec) { c.UserID = "U0STRANGER" }, 403},
		"another app's message": {func(c *slackemu.ClickSpec) {
			c.Forge, c.TS, c.BlockID, c.ElementType = true, "1700000000.000001", "deploy-1", "overflow"
		}, 403},
		"a mute no menu offered":   {func(c *slackemu.ClickSpec) { c.Value = "mute:87600h0m0s" }, 403},
		"a replayed genuine click": {func(c *slackemu.ClickSpec) { c.Replay = true; c.Value = render.ValueAck }, 401},
	} {
		c := mute
		c.Via = slackemu.ViaHTTP
		tc.mutate(&c)
		res, err := emu.Click(ctx, c)
		require.NoError(t, err, name)
		assert.Equal(t, tc.status, res.Status, name)
	}
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "disk full" }))))
	eventually(t, func() bool { m, _ := liveMessage(t, emu); return strings.Contains(shown(t, m), "×2") }, "no refused click muted anything")
	eventually(t, func() bool {
		m, _ := liveMessage(t, emu)
		return strings.Contains(shown(t, m), "👀 <@U0ONCALL> is on it")
	}, "the replayed click counted once")

	mute.Via = slackemu.ViaHTTP
	res, err := emu.Click(ctx, mute)
	require.NoError(t, err)
	assert.Equal(t, 200, res.Status)
	eventually(t, func() bool {
		m, _ := liveMessage(t, emu)
		return strings.Contains(shown(t, m), "🔇 muted by <@U0ONCALL>")
	}, "the genuine click muted it")
	assert.Equal(t, map[string]int64{"bad_signature": 2, "stale": 1, "replay": 1, "forbidden": 1, "unknown_message": 2, "accepted": 2}, interactions(t, tel))
}
