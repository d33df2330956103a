package selection

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
)

// benchLogs is 1,000 records from 10 services, 1% of them errors.
func benchLogs() plog.Logs {
	ld := plog.NewLogs()
	for s := 0; s < 10; s++ {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", fmt.Sprintf("service-%d", s))
		rl.Resource().Attributes().PutStr("deployment.environment", []string{"prod", "dev"}[s%2])
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := 0; i < 100; i++ {
			lr := lrs.AppendEmpty()
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			if i == 0 {
				lr.SetSeverityNumber(plog.SeverityNumberError)
			}
			lr.Body().SetStr(fmt.Sprintf("request %d handled", i))
			lr.Attributes().PutInt("http.status", 200)
		}
	}
	return ld
}

func benchmarkSelect(b *testing.B, cfg Config) {
	s, err := New(cfg, componenttest.NewNopTelemetrySettings())
	if err != nil {
		b.Fatal(err)
	}
	ld := benchLogs()
	n := ld.LogRecordCount()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.Select(context.Background(), ld)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// BenchmarkSelectSeverityOnly: the default configuration, the path every
// record of a quiet collector takes.
func BenchmarkSelectSeverityOnly(b *testing.B) {
	benchmarkSelect(b, Config{MinSeverity: plog.SeverityNumberError, DefaultDestination: "d"})
}

func BenchmarkSelectOneCondition(b *testing.B) {
	benchmarkSelect(b, Config{
		MinSeverity:        plog.SeverityNumberTrace,
		Exclude:            []string{`resource.attributes["deployment.environment"] == "dev"`},
		DefaultDestination: "d",
	})
}

func BenchmarkSelectFiveConditionsThreeRoutes(b *testing.B) {
	benchmarkSelect(b, Config{
		MinSeverity: plog.SeverityNumberTrace,
		Include:     []string{`severity_number >= SEVERITY_NUMBER_ERROR`, `attributes["http.status"] >= 500`},
		Exclude:     []string{`IsMatch(body, "healthcheck")`, `resource.attributes["service.name"] == "noisy"`, `attributes["ignore"] == true`},
		Routes: []Route{
			{Condition: `resource.attributes["deployment.environment"] == "prod"`, Destination: "prod"},
			{Condition: `resource.attributes["service.name"] == "service-3"`, Destination: "s3"},
			{Condition: `severity_number >= SEVERITY_NUMBER_FATAL`, Destination: "pager"},
		},
		DefaultDestination: "d",
	})
}
