package slackexporter

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/metadata"
	"github.com/slackexporter/slackexporter/internal/selection"
)

// routedConfig routes prod to #prod-alerts (with and without a mention, so
// two destinations share one channel), a team to its webhook, and drops
// health checks.
func routedConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Channel = "#alerts"
	cfg.Filter.Exclude = []string{`body == "health check failed"`}
	cfg.Routes = []RouteConfig{
		{Condition: `resource.attributes["deployment.environment"] == "prod" and severity_number >= SEVERITY_NUMBER_FATAL`, Channel: "#prod-alerts", Mention: "here"},
		{Condition: `resource.attributes["deployment.environment"] == "prod"`, Channel: "prod-alerts"},
		{Condition: `resource.attributes["service.name"] == "billing"`, WebhookURL: "https://hooks.example/services/T1/B1/billing-secret"},
	}
	return cfg
}

func TestRouterKeepsWhatTheExporterKeepsOneBatchPerOwner(t *testing.T) {
	cfg := routedConfig()
	require.NoError(t, cfg.ValidateSelection(), "an agent needs no token")
	router, err := NewRouter(cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)

	ld := logsOf(
		rec{"checkout", "dev", plog.SeverityNumberInfo, "request ok"},
		rec{"checkout", "dev", plog.SeverityNumberError, "db down"},
		rec{"checkout", "dev", plog.SeverityNumberError, "health check failed"},
		rec{"payments", "prod", plog.SeverityNumberFatal, "ledger corrupt"},
		rec{"payments", "prod", plog.SeverityNumberError, "card declined"},
		rec{"billing", "dev", plog.SeverityNumberError, "invoice stuck"},
		rec{"billing", "dev", plog.SeverityNumberWarn, "invoice slow"},
	)
	before := marshal(t, ld)
	owned, filtered := router.Split(context.Background(), ld)
	assert.Equal(t, before, marshal(t, ld), "the router never modifies its input")
	assert.Equal(t, 3, filtered, "INFO, WARN and the excluded health check")

	bodies := map[string][]string{}
	var owners []string
	for _, o := range owned {
		owners = append(owners, o.Owner)
		for _, rl := range o.Logs.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					bodies[o.Owner] = append(bodies[o.Owner], lr.Body().Str())
				}
			}
		}
	}
	require.Len(t, owners, 3)
	assert.Equal(t, "channel:alerts", owners[0], "owners come in a stable order")
	assert.Equal(t, "channel:prod-alerts", owners[1], "a channel is one owner whatever the mention and the #")
	assert.True(t, strings.HasPrefix(owners[2], "webhook:"), owners[2])
	for _, o := range owners {
		assert.NotContains(t, o, "billing-secret", "an owner key never holds a webhook URL")
		assert.NotContains(t, o, "hooks.example")
	}
	assert.Equal(t, []string{"db down"}, bodies["channel:alerts"])
	assert.ElementsMatch(t, []string{"ledger corrupt", "card declined"}, bodies["channel:prod-alerts"])
	assert.Equal(t, []string{"invoice stuck"}, bodies[owners[2]])

	// The exporter, configured alike, keeps the same records.
	cfg.Token = testToken
	e, err := newSlackExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	kept := e.selectRecords(context.Background(), ld)
	total := 0
	for _, o := range owned {
		total += o.Logs.LogRecordCount()
	}
	assert.Equal(t, kept.LogRecordCount(), total)
}

func TestRouterDropsEverythingBelowTheMinimum(t *testing.T) {
	cfg := routedConfig()
	cfg.Filter.MinSeverity = "fatal"
	router, err := NewRouter(cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	owned, filtered := router.Split(context.Background(), logsOf(rec{"checkout", "dev", plog.SeverityNumberError, "db down"}))
	assert.Empty(t, owned)
	assert.Equal(t, 1, filtered)
}

func TestRouterInWebhookModeOwnsTheDefaultByItsHashedURL(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.WebhookURL = "https://hooks.example/services/T1/B2/default-secret"
	router, err := NewRouter(cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	owned, _ := router.Split(context.Background(), logsOf(rec{"checkout", "dev", plog.SeverityNumberError, "db down"}))
	require.Len(t, owned, 1)
	assert.Equal(t, webhookKey(string(cfg.WebhookURL), ""), owned[0].Owner)
	assert.NotContains(t, owned[0].Owner, "default-secret")
	// The records keep the exporter's destination tag (harmless: the
	// gateway's exporter selects again and overwrites it).
	sl := owned[0].Logs.ResourceLogs().At(0).ScopeLogs().At(0)
	assert.Equal(t, defaultDestinationKey(cfg), selection.Destination(sl))
}

func TestValidateSelectionChecksOnlyWhatSelects(t *testing.T) {
	cfg := routedConfig()
	assert.NoError(t, cfg.ValidateSelection())
	cfg.RateLimit.Burst = 0
	cfg.Timeout = 0
	assert.NoError(t, cfg.ValidateSelection(), "delivery settings are the gateway's business")

	bad := routedConfig()
	bad.Channel = ""
	bad.Filter.MinSeverity = "loud"
	bad.Routes[0].Condition = `body ==`
	bad.Routes[1].Channel = ""
	bad.Mention = "@nobody"
	err := bad.ValidateSelection()
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 5, err.Error())
	assert.Equal(t, "channel: required unless webhook_url is set: the channel for records no route matches", lines[0])
	assert.NotContains(t, err.Error(), "token", "an agent has none, and needs none")
	// The rest are the exporter's own messages, key for key.
	bad.Token = testToken
	full := bad.Validate().Error()
	for i, key := range []string{"mention:", "filter.min_severity:", "routes[0].condition:", "routes[1]:"} {
		assert.True(t, strings.HasPrefix(lines[i+1], key), lines[i+1])
		assert.Contains(t, full, lines[i+1])
	}
}

func TestOwnerKeyIsTheDestinationLessItsMention(t *testing.T) {
	for _, mention := range []string{"", "here", "<!subteam^S123>", "U0123"} {
		assert.Equal(t, channelKey("#alerts", ""), ownerKey(channelKey("#alerts", mention)), mention)
		assert.Equal(t, channelKey("alerts", ""), ownerKey(channelKey("#alerts", mention)), mention)
		url := "https://hooks.example/services/T1/B1/x"
		assert.Equal(t, webhookKey(url, ""), ownerKey(webhookKey(url, mention)), mention)
	}
	assert.NotEqual(t, ownerKey(channelKey("#a", "")), ownerKey(channelKey("#b", "")))
}

// A templated channel is resolved on the agent: each channel it names is
// its own owner, the same owner as a configured route to that channel, and
// a record naming no channel goes to the default.
func TestRouterResolvesTemplatedChannelsPerRecord(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Channel = "#alerts"
	cfg.Routes = []RouteConfig{
		{Condition: `resource.attributes["service.name"] == "payments"`, Channel: "#payments"},
		{Condition: `resource.attributes["slack.channel"] != nil`, Channel: `{{ index .Resource "slack.channel" }}`, Mention: "here"},
	}
	require.NoError(t, cfg.ValidateSelection())
	router, err := NewRouter(cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)

	ld := plog.NewLogs()
	for _, r := range []struct{ service, channel, body string }{
		{"checkout", "team-a", "a1"}, {"checkout", "team-b", "b1"}, {"checkout", "payments", "p1"},
		{"payments", "", "p2"}, {"checkout", "", "d1"}, {"checkout", "Not A Channel!", "d2"},
	} {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", r.service)
		if r.channel != "" {
			rl.Resource().Attributes().PutStr("slack.channel", r.channel)
		}
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetSeverityNumber(plog.SeverityNumberError)
		lr.Body().SetStr(r.body)
	}
	owned, _ := router.Split(context.Background(), ld)
	got := map[string][]string{}
	for _, o := range owned {
		for _, rl := range o.Logs.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					got[o.Owner] = append(got[o.Owner], lr.Body().Str())
				}
			}
		}
	}
	assert.Equal(t, map[string][]string{
		"channel:team-a":   {"a1"},
		"channel:team-b":   {"b1"},
		"channel:payments": {"p1", "p2"},
		"channel:alerts":   {"d1", "d2"},
	}, got)
}

// With a persistent queue, what is queued names its destination even when
// the whole batch goes to the default one: after a restart the default may
// be another channel. In memory, such a batch is handed on as it is. Alike
// whether selection copies or works in place.
func TestAPersistentQueueHoldsTheDestinationOfEveryRecord(t *testing.T) {
	for _, tt := range []struct{ persistent, inPlace bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		persistent := tt.persistent
		t.Run(fmt.Sprintf("storage=%v/in_place=%v", persistent, tt.inPlace), func(t *testing.T) {
			_, srv := emulator(t, nil)
			cfg := tokenConfig(srv)
			if persistent {
				id := component.MustNewID("file_storage")
				q := exporterhelper.NewDefaultQueueConfig()
				q.StorageID = &id
				cfg.QueueConfig = configoptional.Some(q)
			}
			e, err := newSlackExporter(cfg, exportertest.NewNopSettings(metadata.Type))
			require.NoError(t, err)
			e.ownsInput = tt.inPlace // as with batching on
			in := errorRecords(3, func(i int) string { return "disk full " + strconv.Itoa(i) })
			kept := e.selectRecords(context.Background(), in)
			require.Equal(t, 3, kept.LogRecordCount())
			sl := kept.ResourceLogs().At(0).ScopeLogs().At(0)
			if persistent {
				assert.Equal(t, e.defaultKey, selection.Destination(sl), "tagged with the default destination")
				return
			}
			assert.Empty(t, selection.Destination(sl), "handed on untagged: read as the default")
		})
	}
}
