package filterprocessor

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/filterprocessor"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
)

// benchLogs is 1,000 records from 10 services, 1% of them errors: the same
// records as internal/selection's benchLogs (change both together).
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

func newProcessor(b *testing.B, logs map[string]any, next *consumertest.LogsSink) processor.Logs {
	f := filterprocessor.NewFactory()
	cfg := f.CreateDefaultConfig()
	if err := confmap.NewFromStringMap(map[string]any{"logs": logs}).Unmarshal(cfg); err != nil {
		b.Fatal(err)
	}
	if v, ok := cfg.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			b.Fatal(err)
		}
	}
	var sink consumer.Logs = consumertest.NewNop()
	if next != nil {
		sink = next
	}
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

// copies is how many inputs are cloned at once, outside the timer: the
// processor removes records in place, so each call needs a fresh copy.
const copies = 64

// benchmarkFilter reports the same figures as internal/selection's
// benchmarks: ns/record, records/op and kept/op next to ns/op and
// allocs/op. Only the processor's ConsumeLogs is timed (and its allocations
// counted).
func benchmarkFilter(b *testing.B, logs map[string]any) {
	sink := new(consumertest.LogsSink)
	p := newProcessor(b, logs, sink)
	src := benchLogs()
	n := src.LogRecordCount()
	ctx := context.Background()

	// One call outside the timer says how many records the conditions keep.
	probe := plog.NewLogs()
	src.CopyTo(probe)
	if err := p.ConsumeLogs(ctx, probe); err != nil {
		b.Fatal(err)
	}
	kept := sink.LogRecordCount()
	p = newProcessor(b, logs, nil)

	batch := make([]plog.Logs, copies)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		b.StopTimer()
		k := min(copies, b.N-i)
		for j := range k {
			batch[j] = plog.NewLogs()
			src.CopyTo(batch[j])
		}
		runtime.GC() // the copies' garbage is not the timed code's
		b.StartTimer()
		for j := range k {
			if err := p.ConsumeLogs(ctx, batch[j]); err != nil {
				b.Fatal(err)
			}
		}
		i += k
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	b.ReportMetric(float64(n), "records/op")
	b.ReportMetric(float64(kept), "kept/op")
}

// BenchmarkFilterSeverityOTTL drops records below ERROR with an OTTL condition.
func BenchmarkFilterSeverityOTTL(b *testing.B) {
	benchmarkFilter(b, map[string]any{
		"log_record": []any{`severity_number < SEVERITY_NUMBER_ERROR`},
	})
}

// BenchmarkFilterSeverityMatcher keeps ERROR and above with the older
// severity_number matcher (no OTTL).
func BenchmarkFilterSeverityMatcher(b *testing.B) {
	benchmarkFilter(b, map[string]any{
		"include": map[string]any{"severity_number": map[string]any{"min": "ERROR"}},
	})
}

// BenchmarkFilterOneCondition is internal/selection's one exclude condition.
func BenchmarkFilterOneCondition(b *testing.B) {
	benchmarkFilter(b, map[string]any{
		"log_record": []any{`resource.attributes["deployment.environment"] == "dev"`},
	})
}

// BenchmarkFilterFiveConditions is internal/selection's two include and
// three exclude conditions as drop conditions (any true drops). The
// filterprocessor cannot route, so the three routes have no counterpart.
func BenchmarkFilterFiveConditions(b *testing.B) {
	benchmarkFilter(b, map[string]any{
		"log_record": []any{
			`not (severity_number >= SEVERITY_NUMBER_ERROR or attributes["http.status"] >= 500)`,
			`IsMatch(body, "healthcheck")`,
			`resource.attributes["service.name"] == "noisy"`,
			`attributes["ignore"] == true`,
		},
	})
}
