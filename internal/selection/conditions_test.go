package selection

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"
)

// An include list, an exclude list or routes alone each take effect, not
// only when configured together.
func TestEachKindOfConditionWorksAlone(t *testing.T) {
	in := func() plog.Logs {
		return logsOf(
			rec{service: "checkout", env: "prod", severity: plog.SeverityNumberError, body: "checkout prod"},
			rec{service: "search", env: "dev", severity: plog.SeverityNumberError, body: "search dev"},
		)
	}
	for _, tt := range []struct {
		name string
		cfg  Config
		want map[string]string
	}{
		{"include", Config{Include: []string{`resource.attributes["service.name"] == "checkout"`}},
			map[string]string{"checkout prod": "d"}},
		{"exclude", Config{Exclude: []string{`resource.attributes["service.name"] == "checkout"`}},
			map[string]string{"search dev": "d"}},
		{"routes", Config{Routes: []Route{{Condition: `resource.attributes["deployment.environment"] == "prod"`, Destination: "prod"}}},
			map[string]string{"checkout prod": "prod", "search dev": "d"}},
		{"none", Config{}, map[string]string{"checkout prod": "d", "search dev": "d"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.MinSeverity, tt.cfg.DefaultDestination = plog.SeverityNumberWarn, "d"
			s := newSelector(t, tt.cfg)
			kept, filtered := s.Select(context.Background(), in())
			assert.Equal(t, tt.want, bodies(s, kept))
			assert.Equal(t, 2-len(tt.want), filtered)
		})
	}
}

// Texts other than OpenTelemetry's own name the level their logging
// library means: Java's SEVERE is an error, syslog's CRIT is fatal.
func TestSeverityTextsOfOtherLibraries(t *testing.T) {
	for text, want := range map[string]plog.SeverityNumber{
		"SEVERE": plog.SeverityNumberError, "severe": plog.SeverityNumberError, "Err": plog.SeverityNumberError,
		"CRIT": plog.SeverityNumberFatal, "critical": plog.SeverityNumberFatal, "warning": plog.SeverityNumberWarn,
	} {
		assert.Equal(t, want, SeverityFromText(text), text)
	}
}

func TestTheLongestSeverityTextIsKnown(t *testing.T) {
	assert.Equal(t, plog.SeverityNumberInfo, SeverityFromText("informational"))
	assert.Equal(t, plog.SeverityNumberUnspecified, SeverityFromText("informationals"))
}
