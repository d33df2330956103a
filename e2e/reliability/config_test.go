package reliability

// Scenario 10: configs that are wrong in every way an operator can get them
// wrong. The collector refuses each with a message naming the problem (and
// never showing a secret), warns where it should warn, and survives an OTTL
// condition that fails on the data it meets.

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/log"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// abuseConfig is a whole collector config with the slack exporter's
// settings given (YAML at column 0); the receiver listens on a port no test
// uses, as `validate` never opens it.
func abuseConfig(exporter string) string {
	var b strings.Builder
	b.WriteString("receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:0\nexporters:\n  slack:\n")
	for _, line := range strings.Split(strings.Trim(exporter, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	b.WriteString("service:\n  pipelines:\n    logs:\n      receivers: [otlp]\n      exporters: [slack]\n")
	return b.String()
}

func TestConfigAbuse(t *testing.T) {
	row := report(t, 10, "10. Config abuse: bad YAML, types, keys, values, OTTL", "")
	token := "xoxb-abuse-" + randomHex(t, 12)
	hookSecret := "whs" + randomHex(t, 12)
	env := []string{"ABUSE_TOKEN=" + token, "ABUSE_WEBHOOK_URL=https://hooks.slack.invalid/services/T0/B0/" + hookSecret}
	secrets := []string{token, hookSecret}

	// Each config must be refused by `validate` (and so at startup) with
	// an error that says what is wrong.
	refused := []struct {
		name   string
		config string
		want   []string
	}{
		{"malformed YAML", "exporters:\n  slack:\n    token: [unclosed\n    channel: \"#alerts\n", []string{"yaml"}},
		{"tab indentation", "exporters:\n\tslack:\n\t\ttoken: x\n", []string{"yaml"}},
		{"wrong type", abuseConfig("token: ${env:ABUSE_TOKEN}\nchannel: \"#alerts\"\nrate_limit:\n  per_second: fast\n"),
			[]string{"rate_limit.per_second", "float64"}},
		{"list for a string", abuseConfig("token: ${env:ABUSE_TOKEN}\nchannel: [\"#a\", \"#b\"]\n"), []string{"channel"}},
		{"map for the token", abuseConfig("token:\n  value: ${env:ABUSE_TOKEN}\nchannel: \"#alerts\"\n"), []string{"token"}},
		{"unknown key", abuseConfig("token: ${env:ABUSE_TOKEN}\nchanel: \"#alerts\"\n"), []string{"invalid keys: chanel"}},
		{"unknown nested key", abuseConfig("token: ${env:ABUSE_TOKEN}\nchannel: \"#alerts\"\nfilter:\n  min_severty: warn\n"), []string{"min_severty"}},
		{"no token, no webhook", abuseConfig("channel: \"#alerts\"\n"), []string{"token"}},
		{"token and webhook", abuseConfig("token: ${env:ABUSE_TOKEN}\nwebhook_url: ${env:ABUSE_WEBHOOK_URL}\n"), []string{"token"}},
		{"webhook not a URL", abuseConfig("webhook_url: \"not a url ${env:ABUSE_TOKEN}\"\n"), []string{"webhook_url"}},
		{"api_url not a URL", abuseConfig("token: ${env:ABUSE_TOKEN}\nchannel: \"#alerts\"\napi_url: \"ftp://slack.invalid/\"\n"), []string{"api_url"}},
		{"unknown severity", abuseConfig("token: ${env:ABUSE_TOKEN}\nchannel: \"#alerts\"\nfilter:\n  min_severity: loud\n"), []string{"filter.min_severity"}},
		{"OTTL does not parse", abuseConfig("token: ${env:ABUSE_TOKEN}\nchannel: \"#alerts\"\nroutes:\n  - condition: 'body ==== \"x\"'\n    channel: \"#x\"\n"),
			[]string{"routes[0].condition"}},
		{"OTTL unknown function", abuseConfig("token: ${env:ABUSE_TOKEN}\nchannel: \"#alerts\"\nfilter:\n  include: ['NoSuchFunction(body) == true']\n"),
			[]string{"filter.include[0]"}},
		{"negative timeout", abuseConfig("token: ${env:ABUSE_TOKEN}\nchannel: \"#alerts\"\ntimeout: -1s\n"), []string{"timeout"}},
		{"zero rate", abuseConfig("token: ${env:ABUSE_TOKEN}\nchannel: \"#alerts\"\nrate_limit:\n  per_second: 0\n  burst: 0\n"),
			[]string{"rate_limit.per_second", "rate_limit.burst"}},
		{"queue storage not configured", abuseConfig("token: ${env:ABUSE_TOKEN}\nchannel: \"#alerts\"\nsending_queue:\n  storage: file_storage\n"),
			[]string{"storage"}},
		{"huge number", abuseConfig("token: ${env:ABUSE_TOKEN}\nchannel: \"#alerts\"\nrate_limit:\n  burst: 99999999999999999999999\n"),
			[]string{"burst"}},
	}
	refusedOK, checked := 0, 0
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			res := harness.RunCollector(t, 60*time.Second, tc.config, env, "validate", "--config", "{config}")
			// "queue storage not configured" is only found when the
			// pipeline starts: validate may accept it; starting must not.
			if res.ExitCode == 0 && !res.TimedOut {
				requireNoSecretIn(t, "the output of validate", res.Output, secrets)
				res = harness.RunCollector(t, 60*time.Second, tc.config, env, "--config", "{config}")
			}
			requireCleanRefusal(t, res, secrets)
			for _, want := range tc.want {
				if !strings.Contains(res.Output, want) {
					t.Errorf("the error does not mention %q:\n%s", want, harness.Tail(res.Output, 20))
				}
			}
			if !t.Failed() {
				refusedOK++
			}
		})
	}

	// A plain-http api_url outside loopback is allowed, with a warning
	// naming the key. 0.0.0.0 is not a loopback address, yet connecting
	// to it reaches this host: the check stays on this machine.
	t.Run("plain http outside loopback warns", func(t *testing.T) {
		emu := harness.StartEmulator(t, "-token", token)
		u, err := url.Parse(emu.URL)
		if err != nil {
			t.Fatal(err)
		}
		apiURL := "http://0.0.0.0:" + u.Port() + "/api/"
		cfg := harness.SlackConfig("token: ${env:ABUSE_TOKEN}\napi_url: " + apiURL + "\nchannel: \"#alerts\"\nsending_queue:\n  batch:\n    flush_timeout: 200ms\n")
		if res := harness.RunCollector(t, 60*time.Second, cfg, append(env, "OTLP_HTTP_ENDPOINT=127.0.0.1:0", "OTLP_GRPC_ENDPOINT=127.0.0.1:0", "METRICS_PORT=0"), "validate", "--config", "{config}"); res.ExitCode != 0 {
			t.Fatalf("validate refused a plain-http api_url (exit %d); it should only warn:\n%s", res.ExitCode, harness.Tail(res.Output, 20))
		}
		col := harness.StartCollector(t, cfg, env...)
		var warning string
		for line := range strings.SplitSeq(col.Logs(), "\n") {
			if strings.Contains(line, "api_url") && (strings.Contains(line, "warn") || strings.Contains(line, "WARN")) {
				warning = line
			}
		}
		if warning == "" {
			t.Errorf("no warning names api_url:\n%s", harness.Tail(col.Logs(), 20))
		}
		led := newLedger("plainhttp")
		col.SendLogs(t, harness.Service("checkout", "prod"), led.records(1, "")...)
		requireExactlyOnce(t, "over plain http", waitDelivered(t, emu, "", led.all(), deliveryTimeout))
		requireNoSecretIn(t, "the collector's log", col.Logs(), secrets)
		checked++
	})

	// An OTTL condition that parses but fails on some records (ParseJSON of
	// a body that is not JSON): those records fall through to the next
	// route, the error is logged, and the collector carries on.
	t.Run("OTTL error at runtime", func(t *testing.T) {
		emu := harness.StartEmulator(t, "-token", token)
		env := append(env, "SLACK_API_URL="+emu.APIURL())
		col := harness.StartCollector(t, harness.SlackConfig(`token: ${env:ABUSE_TOKEN}
api_url: ${env:SLACK_API_URL}
channel: "#alerts"
routes:
  - condition: 'ParseJSON(body)["team"] == "payments"'
    channel: "#payments"
sending_queue:
  batch:
    flush_timeout: 200ms
`), env...)
		led := newLedger("ottl")
		plain := led.records(3, "")
		jsonID := recordID(len(led.all()))
		body, _ := json.Marshal(map[string]string{"team": "payments", "message": "card declined " + jsonID})
		jsonRec := harness.Record(log.SeverityError, string(body))
		col.SendLogs(t, harness.Service("checkout", "prod"), append(plain, jsonRec)...)

		alerts := waitDelivered(t, emu, "#alerts", led.all(), deliveryTimeout)
		requireExactlyOnce(t, "records whose condition failed, in the default channel", alerts)
		payments := waitDelivered(t, emu, "#payments", []string{jsonID}, deliveryTimeout)
		requireExactlyOnce(t, "the record the condition matched, in #payments", payments)
		if !col.Running() {
			t.Fatalf("the collector exited")
		}
		var logged string
		for line := range strings.SplitSeq(col.Logs(), "\n") {
			if strings.Contains(line, "ParseJSON") {
				logged = line
			}
		}
		t.Logf("the failing condition is logged as: %s", logged)
		if logged == "" {
			t.Errorf("no log line tells of the failing condition:\n%s", harness.Tail(col.Logs(), 20))
		}
		requireNoSecretIn(t, "the collector's log", col.Logs(), secrets)
		checked++
	})
	row.note("%d of %d abusive configs refused with an error naming the problem (exit 1, no panic, no secret shown); %d of 2 runtime checks passed: plain-http api_url outside loopback starts with a warning, an OTTL condition failing at runtime is logged and its records routed on",
		refusedOK, len(refused), checked)
}

// requireCleanRefusal checks a one-shot run refused its config the way a
// user can act on: exit status 1 with an error message, no panic, no
// secret.
func requireCleanRefusal(t testing.TB, res harness.RunResult, secrets []string) {
	t.Helper()
	switch {
	case res.TimedOut:
		t.Fatalf("the collector did not exit:\n%s", harness.Tail(res.Output, 20))
	case strings.Contains(res.Output, "panic:") || strings.Contains(res.Output, "goroutine "):
		t.Fatalf("the collector panicked:\n%s", harness.Tail(res.Output, 40))
	case res.ExitCode != 1:
		// 0 accepted the config; 2 is Go's status for a panic or a
		// runtime fatal error.
		t.Fatalf("the collector exited with status %d, want 1 (refused):\n%s", res.ExitCode, harness.Tail(res.Output, 40))
	}
	if !strings.Contains(res.Output, "Error:") {
		t.Errorf("refused with no error message:\n%s", res.Output)
	}
	requireNoSecretIn(t, "the collector's output", res.Output, secrets)
}

func requireNoSecretIn(t testing.TB, what, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("a secret (%.10s…) appears in %s", s, what)
		}
	}
}
