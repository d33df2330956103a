package dynchannel

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

func TestNameAcceptsSlackNamesAndIdsOnly(t *testing.T) {
	valid := map[string]string{
		"alerts":                      "alerts",
		"#alerts":                     "alerts",
		"  #team-a_alerts \n":         "team-a_alerts",
		"a":                           "a",
		"0":                           "0",
		"-_-":                         "-_-",
		strings.Repeat("x", 80):       strings.Repeat("x", 80),
		"#" + strings.Repeat("9", 80): strings.Repeat("9", 80),
		"C0123ABCD":                   "C0123ABCD",
		"G0123ABCD":                   "G0123ABCD",
		"D0123ABCDEF":                 "D0123ABCDEF",
		"C" + strings.Repeat("A", 20): "C" + strings.Repeat("A", 20),
		// Each end of each range.
		"az09-_":     "az09-_",
		"CAZ09AZ09":  "CAZ09AZ09",
		"G09AZ09AZ0": "G09AZ09AZ0",
	}
	for in, want := range valid {
		got, ok := Name(in)
		assert.True(t, ok, "%q", in)
		assert.Equal(t, want, got, "%q", in)
	}
	invalid := []string{
		"", "   ", "#", "##alerts", "#\talerts x",
		strings.Repeat("x", 81), "#" + strings.Repeat("x", 81),
		"Alerts", "ALERTS", "team alerts", "team.alerts", "team/alerts", "<!channel>", "<#C0123ABCD>", "alerts!", "é",
		"#C0123ABCD",                                       // an id never has a "#"
		"C0123ABC",                                         // too short for an id, upper case for a name
		"C" + strings.Repeat("A", 21),                      // too long for an id
		"U0123ABCD", "W0123ABCD", "S0123ABCD", "T0123ABCD", // users, groups, teams are not channels
		"C0123abcd", // mixed case: neither
		"alerts\x00", "al\u00a0erts",
		// Each character just outside each range.
		"a`", "a{", "a/", "a:", "C@AAAAAAA", "C[AAAAAAA", "C/AAAAAAA", "C:AAAAAAA",
	}
	for _, in := range invalid {
		_, ok := Name(in)
		assert.False(t, ok, "%q", in)
	}
}

func TestDisplayShowsNamesWithHashAndIdsBare(t *testing.T) {
	assert.Equal(t, "#alerts", Display("alerts"))
	assert.Equal(t, "C0123ABCD", Display("C0123ABCD"))
}

func TestIsTemplate(t *testing.T) {
	assert.False(t, IsTemplate("#alerts"))
	assert.False(t, IsTemplate("{alerts}"))
	assert.True(t, IsTemplate(`#{{ index .Resource "team" }}-alerts`))
}

func record() (plog.ResourceLogs, plog.LogRecord) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	rl.Resource().Attributes().PutStr("team", "payments")
	rl.Resource().Attributes().PutInt("shard", 7)
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("boom")
	lr.Attributes().PutStr("slack.channel", "from-record")
	lr.Attributes().PutStr("slack.destination", "hidden-tag")
	return rl, lr
}

func TestTemplatesSeeTheDataMessageTemplatesSee(t *testing.T) {
	rl, lr := record()
	for text, want := range map[string]string{
		`{{ index .Resource "team" }}`:                "payments",
		`#{{ index .Resource "team" }}-alerts`:        "#payments-alerts",
		`{{ index .Resource "shard" }}`:               "7",
		`{{ index .Attributes "slack.channel" }}`:     "from-record",
		`{{ .Service }}-{{ .Severity }}`:              "checkout-ERROR",
		`{{ .Body }}`:                                 "boom",
		`{{ index .Attributes "slack.destination" }}`: "",
		`{{ .Count }}`:                                "1",
		`{{ index .Resource "missing" }}`:             "",
	} {
		tmpl, err := Parse("routes[0].channel", text, "slack.destination")
		require.NoError(t, err, text)
		got, err := tmpl.Execute(rl, lr, plog.SeverityNumberError)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
}

func TestParseFailsAtStartupNamingTheKey(t *testing.T) {
	_, err := Parse("routes[2].channel", `{{ index .Resource "team" }`, "")
	require.ErrorContains(t, err, "routes[2].channel")
	_, err = Parse("routes[2].channel", `{{ .NoSuchField }}`, "")
	require.ErrorContains(t, err, "NoSuchField")
}

func TestResourceOnlyTemplatesAreRecognisedConservatively(t *testing.T) {
	for text, want := range map[string]bool{
		`{{ index .Resource "team" }}`:         true,
		`#{{ index .Resource "team" }}-alerts`: true,
		`{{ index $.Resource "team" }}`:        true,
		`{{ if index .Resource "team" }}{{ index .Resource "team" }}{{ else }}alerts{{ end }}`: true,
		`{{ $t := index .Resource "team" }}{{ $t }}-alerts`:                                    true,
		`{{/* the team */}}{{ printf "%s-%s" (index .Resource "team") "x" }}`:                  true,
		`alerts`:                         true,
		`{{ .Resource }}`:                true,
		`{{ index .Attributes "team" }}`: false,
		`{{ .Service }}`:                 false,
		`{{ index .Resource "team" }}-{{ .Severity }}`:      false,
		`{{ with .Resource }}{{ index . "team" }}{{ end }}`: false,
		`{{ range $k, $v := .Resource }}{{ $k }}{{ end }}`:  false,
		`{{ . }}`:      false,
		`{{ $ }}`:      false,
		`{{ $.Body }}`: false,
		`{{ $x := . }}{{ index $x.Resource "team" }}`:              false,
		`{{ if .Body }}a{{ end }}`:                                 false,
		`{{ if true }}a{{ else }}{{ .Body }}{{ end }}`:             false,
		`{{ define "t" }}{{ .Body }}{{ end }}{{ template "t" . }}`: false,
	} {
		tmpl, err := Parse("k", text, "")
		require.NoError(t, err, text)
		assert.Equal(t, want, tmpl.ResourceOnly(), text)
	}
}

func TestAResourceOnlyTemplateGivesWhatTheFullDataWould(t *testing.T) {
	rl, lr := record()
	text := `{{ if index .Resource "team" }}#{{ index .Resource "team" }}{{ end }}`
	tmpl, err := Parse("k", text, "")
	require.NoError(t, err)
	require.True(t, tmpl.ResourceOnly())
	fast, err := tmpl.Execute(rl, lr, plog.SeverityNumberError)
	require.NoError(t, err)
	tmpl.resourceOnly = false
	full, err := tmpl.Execute(rl, lr, plog.SeverityNumberError)
	require.NoError(t, err)
	assert.Equal(t, "#payments", fast)
	assert.Equal(t, full, fast)
}

func TestOnceRemembersABoundedNumberOfKeys(t *testing.T) {
	o := NewOnce(3)
	assert.True(t, o.First("a"))
	assert.False(t, o.First("a"))
	assert.True(t, o.First("b"))
	assert.True(t, o.First("c"))
	assert.False(t, o.First("b"))
	assert.True(t, o.First("d")) // forgets a, the oldest
	assert.Equal(t, 3, o.Len())
	assert.True(t, o.First("a"))
	assert.False(t, o.First("d"))
	for i := range 10_000 {
		o.First(strconv.Itoa(i))
	}
	assert.Equal(t, 3, o.Len())
	assert.Equal(t, 1, NewOnce(0).max)
}
