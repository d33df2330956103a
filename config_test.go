package slackexporter

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/slackexporter/slackexporter/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestDefaultConfig(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	assert.Equal(t, "error", cfg.Filter.MinSeverity)
	assert.Equal(t, "https://slack.com/api/", cfg.APIURL)
	assert.Equal(t, 10*time.Second, cfg.Timeout)
	assert.Equal(t, 1.0, cfg.RateLimit.PerSecond)
	assert.Equal(t, 3, cfg.RateLimit.Burst)
	assert.Equal(t, ThreadsConfig{Window: time.Hour, ReplyEvery: 5 * time.Minute, QuietAfter: 15 * time.Minute, MaxTracked: 10_000, UpdatesPerMinute: 50}, cfg.Threads)
	assert.True(t, cfg.Grouping.Mask, "variable parts are masked by default")
	assert.Zero(t, cfg.BackOffConfig.MaxElapsedTime, "alerts keep retrying: the queue is the bound")
	assert.Equal(t, time.Second, cfg.BackOffConfig.InitialInterval)
	require.True(t, cfg.QueueConfig.HasValue())
	require.True(t, cfg.QueueConfig.Get().Batch.HasValue(), "batching is on by default")
	assert.Equal(t, 10*time.Millisecond, cfg.QueueConfig.Get().Batch.Get().FlushTimeout, "a calm record is not held back")
	// The default alone is invalid: it names neither token nor webhook.
	assert.ErrorContains(t, confmap.Validate(cfg), "token: set token")
}

func TestLoadValidConfigs(t *testing.T) {
	for _, name := range []string{"token", "full", "webhook", "threads", "templates_and_mentions", "dynamic_channels"} {
		t.Run(name, func(t *testing.T) {
			assert.NoError(t, confmap.Validate(loadConfig(t, name)))
		})
	}

	full := loadConfig(t, "full")
	assert.Equal(t, "http://127.0.0.1:8080/api/", full.APIURL)
	assert.Equal(t, 3*time.Second, full.Timeout)
	assert.Equal(t, "http://127.0.0.1:3128", full.ProxyURL)
	assert.Equal(t, "warn", full.Filter.MinSeverity)
	assert.Len(t, full.Filter.Include, 1)
	assert.Len(t, full.Filter.Exclude, 1)
	require.Len(t, full.Routes, 2)
	assert.Equal(t, "#prod-alerts", full.Routes[0].Channel)
	assert.Equal(t, "https://hooks.example.test/services/T0/B0/secret-route", string(full.Routes[1].WebhookURL))
	assert.Equal(t, GroupingConfig{By: []string{"tenant"}, Mask: false}, full.Grouping)
	assert.Equal(t, RateLimitConfig{PerSecond: 0.5, Burst: 2}, full.RateLimit)
	assert.Equal(t, 2, full.QueueConfig.Get().NumConsumers)
	assert.Equal(t, 2*time.Second, full.QueueConfig.Get().Batch.Get().FlushTimeout)
	assert.Equal(t, 10*time.Minute, full.BackOffConfig.MaxElapsedTime)
	assert.True(t, full.threadsEnabled(), "threads are on by default with a token")

	th := loadConfig(t, "threads").Threads
	assert.Equal(t, 30*time.Minute, th.Window)
	assert.Equal(t, time.Minute, th.ReplyEvery)
	assert.Equal(t, 5*time.Minute, th.QuietAfter)
	assert.Equal(t, "file_storage/threads", th.Storage.String())
	assert.Equal(t, 500, th.MaxTracked)
	assert.Equal(t, 20.0, th.UpdatesPerMinute)
	assert.False(t, loadConfig(t, "webhook").threadsEnabled(), "a webhook cannot update messages")

	dyn := loadConfig(t, "dynamic_channels")
	require.Len(t, dyn.Routes, 2)
	assert.Equal(t, `#{{ index .Resource "team" }}-alerts`, dyn.Routes[1].Channel)
}

func TestOnlyTheTemplatedRoutesChannelsAreReported(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "bad_dynamic_channels"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "routes[0]", "a plain channel is not a template")
}

func TestLoadInvalidConfigs(t *testing.T) {
	tests := map[string][]string{
		"neither":                       {"token: set token (bot token) or webhook_url"},
		"both":                          {"token: set either token or webhook_url, not both"},
		"token_without_channel":         {"channel: required with token"},
		"bad_severity":                  {`filter.min_severity: unknown severity "loud"`},
		"bad_ottl":                      {"filter.exclude[1]: ", `body ==== \"broken\"`},
		"route_without_destination":     {"routes[0]: set channel or webhook_url"},
		"route_channel_in_webhook_mode": {"routes[0].channel: a channel needs a token"},
		"bad_webhook_url":               {"webhook_url: not an http(s) URL"},
		"bad_rate_limit":                {"rate_limit.per_second: must be greater than 0", "rate_limit.burst: must be at least 1"},
		"threads_with_webhook":          {"threads.enabled: threads need a bot token"},
		"restore_without_threads":       {"threads.restore_from_slack: needs threads"},
		"bad_templates":                 {`mention: "@oncall" is not a mention`, "message.title: ", "Severty", "message.text: ", `routes[0].mention: "<!here> <!channel>" is not a mention`},
		"bad_dynamic_channels":          {"channel: the default channel cannot be a template", "routes[1].channel: ", "routes[2].channel: ", "Teem"},
		"bad_threads":                   {"threads.window: must be greater than 0", "threads.quiet_after: must be greater than 0", "threads.max_tracked: must be at least 1", "threads.updates_per_minute: must be greater than 0"},
	}
	for name, wants := range tests {
		t.Run(name, func(t *testing.T) {
			err := confmap.Validate(loadConfig(t, name))
			require.Error(t, err)
			for _, want := range wants {
				assert.Contains(t, err.Error(), want)
			}
			assert.NotContains(t, err.Error(), "xoxb-config-test", "a token must never appear in an error")
			assert.NotContains(t, err.Error(), "secret-", "a webhook URL must never appear in an error")
		})
	}
}

func TestValidateReportsEveryMistakeAtOnce(t *testing.T) {
	cfg := loadConfig(t, "bad_rate_limit")
	cfg.Filter.MinSeverity = "loud"
	cfg.Routes = []RouteConfig{{Condition: "not ottl ("}}
	err := cfg.Validate()
	require.Error(t, err)
	for _, key := range []string{"filter.min_severity", "routes[0].condition", "routes[0]: set channel", "rate_limit.per_second", "rate_limit.burst"} {
		assert.Contains(t, err.Error(), key)
	}
	assert.Equal(t, 5, strings.Count(err.Error(), "\n")+1)
}

func TestPlaintextWarnings(t *testing.T) {
	cfg := loadConfig(t, "token")
	cfg.APIURL = "http://slack.internal.example/api/"
	cfg.Routes = []RouteConfig{
		{Condition: "true", WebhookURL: "http://127.0.0.1:9/services/a/b/c"},
		{Condition: "true", WebhookURL: "http://relay.example/services/a/b/c"},
	}
	assert.Equal(t, []string{"api_url", "routes[1].webhook_url"}, cfg.plaintextWarnings())
	cfg.APIURL = "http://localhost:8080/api/"
	assert.Equal(t, []string{"routes[1].webhook_url"}, cfg.plaintextWarnings())
}
