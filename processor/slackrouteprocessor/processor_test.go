package slackrouteprocessor

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
)

// loadShared resolves the fleet example's shared slack exporter config as
// an agent's collector does (file and env providers, no Slack variables
// set) and decodes it.
func loadShared(t *testing.T) *Config {
	t.Helper()
	t.Setenv("SLACK_BOT_TOKEN", "")
	path, err := filepath.Abs(filepath.Join("..", "..", "examples", "fleet", "slack.yaml"))
	require.NoError(t, err)
	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"file:" + path},
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
		DefaultScheme:     "env",
	})
	require.NoError(t, err)
	cm, err := resolver.Resolve(context.Background())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, cm.Unmarshal(cfg))
	return cfg
}

// call is one ConsumeLogs call the next consumer saw.
type call struct {
	owner  []string
	other  []string
	addr   net.Addr
	bodies []string
}

// recorder is a next consumer that records each call's client metadata
// and bodies, and fails for the owners in fail.
type recorder struct {
	mu    sync.Mutex
	calls []call
	fail  map[string]error
}

func (r *recorder) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (r *recorder) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	info := client.FromContext(ctx)
	c := call{owner: info.Metadata.Get(MetadataKey), other: info.Metadata.Get("tenant"), addr: info.Addr}
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				c.bodies = append(c.bodies, lr.Body().Str())
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	if len(c.owner) == 1 {
		return r.fail[c.owner[0]]
	}
	return nil
}

func logsFor(records ...[3]string) plog.Logs {
	ld := plog.NewLogs()
	for _, r := range records {
		rl := ld.ResourceLogs().AppendEmpty()
		if r[0] != "" {
			rl.Resource().Attributes().PutStr("slack.channel", r[0])
		}
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		sev := plog.SeverityNumberError
		if r[1] == "info" {
			sev = plog.SeverityNumberInfo
		}
		lr.SetSeverityNumber(sev)
		lr.Body().SetStr(r[2])
	}
	return ld
}

func newProcessor(t *testing.T, next consumer.Logs) *routeProcessor {
	t.Helper()
	cfg := loadShared(t)
	require.NoError(t, confmap.Validate(cfg))
	p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(Type), cfg, next)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return p.(*routeProcessor)
}

func TestEachChannelIsPassedOnAloneWithItsKey(t *testing.T) {
	next := &recorder{}
	p := newProcessor(t, next)
	assert.False(t, p.Capabilities().MutatesData)

	ld := logsFor(
		[3]string{"#payments", "error", "card declined"},
		[3]string{"", "error", "disk full"},
		[3]string{"#payments", "info", "card ok"},
		[3]string{"#search", "error", "index stale"},
		[3]string{"#payments", "error", "ledger corrupt"},
		[3]string{"Not a channel!", "error", "unrouted"},
	)
	before, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4318}
	ctx := client.NewContext(context.Background(), client.Info{
		Addr:     addr,
		Metadata: client.NewMetadata(map[string][]string{"tenant": {"shop"}}),
	})
	require.NoError(t, p.ConsumeLogs(ctx, ld))
	after, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the input is never modified")

	require.Len(t, next.calls, 3, "a resource naming no channel goes to the default")
	want := []call{
		{owner: []string{"channel:alerts"}, bodies: []string{"disk full", "unrouted"}},
		{owner: []string{"channel:payments"}, bodies: []string{"card declined", "ledger corrupt"}},
		{owner: []string{"channel:search"}, bodies: []string{"index stale"}},
	}
	for i, c := range next.calls {
		assert.Equal(t, want[i].owner, c.owner)
		assert.Equal(t, want[i].bodies, c.bodies)
		assert.Equal(t, []string{"shop"}, c.other, "the caller's metadata is kept")
		assert.Equal(t, addr, c.addr, "the caller's address is kept")
	}
}

func TestNothingKeptNothingPassed(t *testing.T) {
	next := &recorder{}
	p := newProcessor(t, next)
	require.NoError(t, p.ConsumeLogs(context.Background(), logsFor([3]string{"#payments", "info", "card ok"})))
	assert.Empty(t, next.calls)
}

func TestAFailingChannelDoesNotStopTheOthers(t *testing.T) {
	full := errors.New("sending queue is full")
	next := &recorder{fail: map[string]error{
		"channel:payments": full,
		"channel:search":   consumererror.NewPermanent(errors.New("too large")),
	}}
	p := newProcessor(t, next)
	err := p.ConsumeLogs(context.Background(), logsFor(
		[3]string{"#payments", "error", "card declined"},
		[3]string{"#search", "error", "index stale"},
		[3]string{"#infra", "error", "node down"},
	))
	require.ErrorIs(t, err, full)
	assert.ErrorContains(t, err, "channel:payments: sending queue is full")
	assert.ErrorContains(t, err, "channel:search: ")
	assert.Len(t, next.calls, 3, "every channel is tried")
}

func TestConfigIsTheExportersKeysAndErrors(t *testing.T) {
	cfg := loadShared(t)
	assert.NoError(t, confmap.Validate(cfg), "no token needed")
	assert.Empty(t, string(cfg.exporter.Token))
	assert.Equal(t, "#alerts", cfg.exporter.Channel)
	require.Len(t, cfg.exporter.Routes, 1)
	assert.Contains(t, cfg.exporter.Routes[0].Channel, "{{", "the example's channel is a template of the record")
	require.NotNil(t, cfg.exporter.Threads.Fleet, "the gateway settings are read, and ignored")
	assert.Equal(t, "slack-gateways", cfg.exporter.Threads.Fleet.GroupID)

	// An unknown key is refused, as by the exporter.
	bad := NewFactory().CreateDefaultConfig().(*Config)
	err := confmap.NewFromStringMap(map[string]any{"channel": "#alerts", "rootes": []any{}}).Unmarshal(bad)
	assert.ErrorContains(t, err, "rootes")

	// A route that does not parse is reported by key at startup.
	bad = NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{
		"channel": "#alerts",
		"routes":  []any{map[string]any{"condition": `resource.attributes["x"] ==`, "channel": "#x"}},
	}).Unmarshal(bad))
	assert.ErrorContains(t, confmap.Validate(bad), "routes[0].condition")

	// print-config shows it, under its ID, as the exporter's configuration.
	out := confmap.New()
	require.NoError(t, out.Marshal(map[string]any{"slackroute": cfg}))
	assert.Equal(t, "#alerts", out.Get("slackroute::channel"))
}

func TestFactory(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, "slackroute", f.Type().String())
	require.NoError(t, componenttest.CheckConfigStruct(f.CreateDefaultConfig()))
	// The default alone names no channel: refused at startup, naming the key.
	assert.ErrorContains(t, confmap.Validate(f.CreateDefaultConfig()), "channel: required")
}
