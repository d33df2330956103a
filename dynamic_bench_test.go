package slackexporter

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/metadata"
)

// BenchmarkTemplatedChannelRouting is the pre-queue cost of a templated
// route channel: 1,000 ERROR records of 10 resources, every one matching
// the route, with a plain channel, a template that reads only the resource
// (run once per resource), and one that reads the record (run per record).
//
//	go test -run '^$' -bench TemplatedChannelRouting .
func BenchmarkTemplatedChannelRouting(b *testing.B) {
	ld := plog.NewLogs()
	for s := range 10 {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", fmt.Sprintf("service-%d", s))
		rl.Resource().Attributes().PutStr("team", fmt.Sprintf("team-%d", s%3))
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := range 100 {
			lr := lrs.AppendEmpty()
			lr.SetSeverityNumber(plog.SeverityNumberError)
			lr.Body().SetStr(fmt.Sprintf("request %d failed", i))
			lr.Attributes().PutStr("to", fmt.Sprintf("#team-%d-alerts", i%3))
			lr.Attributes().PutInt("http.status", 502)
		}
	}
	for name, channel := range map[string]string{
		"plain":    "#team-alerts",
		"resource": `#{{ index .Resource "team" }}-alerts`,
		"record":   `{{ index .Attributes "to" }}`,
	} {
		b.Run(name, func(b *testing.B) {
			cfg := createDefaultConfig().(*Config)
			cfg.Token, cfg.Channel = "xoxb-bench", "#alerts"
			cfg.Routes = []RouteConfig{{Condition: `resource.attributes["team"] != nil`, Channel: channel}}
			if err := cfg.Validate(); err != nil {
				b.Fatal(err)
			}
			e, err := newSlackExporter(cfg, exportertest.NewNopSettings(metadata.Type))
			if err != nil {
				b.Fatal(err)
			}
			n := ld.LogRecordCount()
			if kept := e.selectRecords(context.Background(), ld); kept.LogRecordCount() != n {
				b.Fatalf("kept %d of %d", kept.LogRecordCount(), n)
			}
			b.ReportAllocs()
			for b.Loop() {
				e.selectRecords(context.Background(), ld)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}
