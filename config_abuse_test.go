package slackexporter

// Scenario 10 of issue #4 at the unit level: configs that are wrong in form
// (malformed YAML, wrong types, unknown keys) fail to load with an error
// naming the key; a plain-http api_url outside loopback starts with a
// warning; an OTTL condition that fails at runtime neither crashes nor
// stops delivery. (config_test.go covers the values Validate refuses; the
// e2e test e2e/reliability TestConfigAbuse runs the collector binary.)

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/slackexporter/slackexporter/internal/metadata"
	"github.com/slackexporter/slackexporter/internal/slackemu"
)

const abuseToken = "xoxb-abuse-unit-secret"

// abuseLoad loads exporter settings given as YAML (at column 0) into the
// default config, as the collector does.
func abuseLoad(t *testing.T, yaml string) (*Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	cm, err := confmaptest.LoadConf(path)
	if err != nil {
		return nil, err
	}
	cfg := createDefaultConfig().(*Config)
	return cfg, cm.Unmarshal(cfg)
}

func TestAbuseMalformedYAMLDoesNotLoad(t *testing.T) {
	for name, yaml := range map[string]string{
		"unclosed flow sequence": "token: [unclosed\nchannel: \"#alerts\"\n",
		"unclosed quote":         "token: " + abuseToken + "\nchannel: \"#alerts\n",
		"tab indentation":        "filter:\n\tmin_severity: warn\n",
		"bad nesting":            "rate_limit:\n  per_second: 1\n burst: 2\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := abuseLoad(t, yaml)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "yaml")
			assert.NotContains(t, err.Error(), abuseToken)
		})
	}
}

func TestAbuseWrongTypesNameTheKey(t *testing.T) {
	base := "token: " + abuseToken + "\nchannel: \"#alerts\"\n"
	for name, tc := range map[string]struct{ yaml, key string }{
		"string for a number":    {base + "rate_limit:\n  per_second: fast\n", "rate_limit.per_second"},
		"string for a bool":      {base + "grouping:\n  mask: sometimes\n", "grouping.mask"},
		"string for a duration":  {base + "timeout: soon\n", "timeout"},
		"map for a list":         {base + "routes:\n  condition: 'true'\n", "routes"},
		"list for a string":      {base + "filter:\n  min_severity: [warn, error]\n", "filter.min_severity"},
		"map for the token":      {"token:\n  value: " + abuseToken + "\nchannel: \"#alerts\"\n", "token"},
		"number for a condition": {base + "routes:\n  - condition: {a: 1}\n    channel: \"#x\"\n", "condition"},
		"string for a count":     {base + "sending_queue:\n  num_consumers: many\n", "num_consumers"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := abuseLoad(t, tc.yaml)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.key)
			assert.NotContains(t, err.Error(), abuseToken, "a token must never appear in an error")
		})
	}
	// An integer too large for its field loads (the decoder wraps it) but
	// never passes validation.
	cfg, err := abuseLoad(t, base+"rate_limit:\n  burst: 99999999999999999999999\n")
	if err == nil {
		err = cfg.Validate()
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rate_limit.burst")
}

func TestAbuseUnknownKeysAreRefused(t *testing.T) {
	base := "token: " + abuseToken + "\nchannel: \"#alerts\"\n"
	for name, tc := range map[string]struct{ yaml, key string }{
		"top level":      {base + "chanel: \"#typo\"\n", "chanel"},
		"in filter":      {base + "filter:\n  min_severty: warn\n", "min_severty"},
		"in a route":     {base + "routes:\n  - condition: 'true'\n    chanel: \"#x\"\n", "chanel"},
		"in rate_limit":  {base + "rate_limit:\n  per_minute: 60\n", "per_minute"},
		"in the queue":   {base + "sending_queue:\n  size: 10\n", "size"},
		"a secret's key": {"tokn: " + abuseToken + "\nchannel: \"#alerts\"\n", "tokn"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := abuseLoad(t, tc.yaml)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "invalid keys")
			assert.Contains(t, err.Error(), tc.key)
			assert.NotContains(t, err.Error(), abuseToken)
		})
	}
}

// abuseEmulator is the in-process Slack emulator on loopback.
func abuseEmulator(t *testing.T) (*slackemu.Server, *httptest.Server) {
	t.Helper()
	emu := slackemu.New(slackemu.Options{Token: abuseToken})
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { emu.Close(); srv.Close() })
	return emu, srv
}

// abuseStart creates and starts the exporter as the collector does, logging
// to an observer, with no queue (a push runs in ConsumeLogs) and no retry.
func abuseStart(t *testing.T, cfg *Config) (*observer.ObservedLogs, func(plog.Logs) error) {
	t.Helper()
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.BackOffConfig.Enabled = false
	require.NoError(t, confmap.Validate(cfg))
	core, logs := observer.New(zapcore.DebugLevel)
	set := exportertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return logs, func(ld plog.Logs) error { return exp.ConsumeLogs(context.Background(), ld) }
}

func abuseConfig(apiURL string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Token = abuseToken
	cfg.Channel = "#alerts"
	cfg.APIURL = apiURL
	cfg.RateLimit = RateLimitConfig{PerSecond: 100, Burst: 100}
	return cfg
}

// abuseLogText is every entry the observer saw with its string and error
// fields, one per line. (Object fields are skipped: OTTL logs its transform
// context as a lazy object that is only valid while the record is.)
func abuseLogText(logs *observer.ObservedLogs) string {
	var b strings.Builder
	for _, e := range logs.All() {
		b.WriteString(e.Level.String() + " " + e.Message)
		for _, f := range e.Context {
			switch f.Type {
			case zapcore.StringType:
				b.WriteString(" " + f.Key + "=" + f.String)
			case zapcore.ErrorType:
				b.WriteString(" " + f.Key + "=" + fmt.Sprint(f.Interface))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestAbusePlainHTTPOutsideLoopbackWarnsAndStarts(t *testing.T) {
	for name, tc := range map[string]struct {
		url  string
		warn bool
	}{
		"remote host":       {"http://slack.example.test/api/", true},
		"unspecified addr":  {"http://0.0.0.0:9/api/", true},
		"private address":   {"http://10.1.2.3/api/", true},
		"loopback v4":       {"http://127.0.0.1:9/api/", false},
		"loopback v6":       {"http://[::1]:9/api/", false},
		"localhost":         {"http://localhost:9/api/", false},
		"https remote host": {"https://slack.example.test/api/", false},
	} {
		t.Run(name, func(t *testing.T) {
			logs, _ := abuseStart(t, abuseConfig(tc.url)) // start opens no connection
			warnings := logs.FilterLevelExact(zapcore.WarnLevel).FilterField(zap.String("key", "api_url")).All()
			if tc.warn {
				assert.Len(t, warnings, 1, "one warning naming api_url")
			} else {
				assert.Empty(t, warnings)
			}
			assert.NotContains(t, abuseLogText(logs), abuseToken)
		})
	}
}

// An OTTL condition that parses but fails on the records it meets counts as
// no match: records fall through to the next route (or are filtered by a
// failing include), ConsumeLogs returns no error, and the failure is logged
// without the token.
func TestAbuseOTTLRuntimeErrorDoesNotStopDelivery(t *testing.T) {
	emu, srv := abuseEmulator(t)
	cfg := abuseConfig(srv.URL + "/api/")
	cfg.Filter.Include = []string{`Substring(body, 0, 4) != "drop"`} // fails on bodies shorter than 4
	cfg.Routes = []RouteConfig{{Condition: `ParseJSON(body)["team"] == "payments"`, Channel: "#payments"}}
	logs, consume := abuseStart(t, cfg)

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	add := func(body string) {
		lr := lrs.AppendEmpty()
		lr.SetSeverityNumber(plog.SeverityNumberError)
		lr.SetTimestamp(1_700_000_000_000_000_000)
		lr.Body().SetStr(body)
	}
	add("plain text that is not json")              // route fails: default channel
	add(`{"team":"payments","message":"declined"}`) // route matches
	add("ab")                                       // include fails: filtered
	require.NoError(t, consume(ld))

	var alerts, payments int
	require.Len(t, emu.Messages(), 2, "the record whose include failed is filtered")
	for _, m := range emu.Messages() {
		switch m.Channel {
		case "#alerts":
			alerts++
			assert.Contains(t, string(m.Blocks), "plain text that is not json")
		case "#payments":
			payments++
			assert.Contains(t, string(m.Blocks), "declined")
		}
	}
	assert.Equal(t, 1, alerts, "the record whose route failed goes to the default channel")
	assert.Equal(t, 1, payments)
	text := abuseLogText(logs)
	assert.Contains(t, text, "ParseJSON", "the failing route condition is logged")
	assert.Contains(t, text, "Substring", "the failing include condition is logged")
	assert.NotContains(t, text, abuseToken)

	// Many failing records: still no error, and the exporter keeps going.
	big := plog.NewLogs()
	brl := big.ResourceLogs().AppendEmpty()
	blrs := brl.ScopeLogs().AppendEmpty().LogRecords()
	for range 500 {
		lr := blrs.AppendEmpty()
		lr.SetSeverityNumber(plog.SeverityNumberError)
		lr.Body().SetStr("{not json")
	}
	done := make(chan error, 1)
	go func() { done <- consume(big) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("ConsumeLogs did not return")
	}
}

// Regression (issue #8, defect 7): values the decoder used to accept and
// silently change (a fraction truncated to an integer), or that passed
// validation and then removed every bound (NaN, infinity, a zero timeout).
func TestAbuseValuesThatWouldSilentlyChangeOrUnboundAreRefused(t *testing.T) {
	base := "token: " + abuseToken + "\nchannel: \"#alerts\"\n"
	for name, tc := range map[string]struct{ yaml, key string }{
		"fractional burst":               {base + "rate_limit:\n  burst: 2.9\n", "rate_limit.burst"},
		"fractional max_tracked":         {base + "threads:\n  max_tracked: 10.5\n", "threads.max_tracked"},
		"NaN per_second":                 {base + "rate_limit:\n  per_second: .nan\n", "rate_limit.per_second"},
		"infinite per_second":            {base + "rate_limit:\n  per_second: .inf\n", "rate_limit.per_second"},
		"negative infinite per_second":   {base + "rate_limit:\n  per_second: -.inf\n", "rate_limit.per_second"},
		"NaN updates_per_minute":         {base + "threads:\n  updates_per_minute: .nan\n", "threads.updates_per_minute"},
		"infinite updates_per_minute":    {base + "threads:\n  updates_per_minute: .inf\n", "threads.updates_per_minute"},
		"zero timeout":                   {base + "timeout: 0s\n", "timeout"},
		"fractional burst from a string": {base + "rate_limit:\n  burst: \"2.5\"\n", "rate_limit.burst"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := abuseLoad(t, tc.yaml)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.key)
			assert.NotContains(t, err.Error(), abuseToken)
		})
	}
	for name, yaml := range map[string]string{
		"whole burst written as a float": base + "rate_limit:\n  burst: 4.0\n",
		"fractional per_second":          base + "rate_limit:\n  per_second: 0.5\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := abuseLoad(t, yaml)
			require.NoError(t, err)
			require.NoError(t, confmap.Validate(cfg))
		})
	}
}
