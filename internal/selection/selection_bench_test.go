package selection

import (
	"context"
	"flag"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
)

// benchLogs is 1,000 records from 10 services, 1% of them errors.
// bench/filterprocessor builds the same records for contrib's filterprocessor:
// change both together.
func benchLogs() plog.Logs {
	return benchLogsWithErrors(true)
}

// benchLogsWithErrors is benchLogs, all INFO when errors is false.
func benchLogsWithErrors(errors bool) plog.Logs {
	ld := plog.NewLogs()
	for s := 0; s < 10; s++ {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", fmt.Sprintf("service-%d", s))
		rl.Resource().Attributes().PutStr("deployment.environment", []string{"prod", "dev"}[s%2])
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := 0; i < 100; i++ {
			lr := lrs.AppendEmpty()
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			if i == 0 && errors {
				lr.SetSeverityNumber(plog.SeverityNumberError)
			}
			lr.Body().SetStr(fmt.Sprintf("request %d handled", i))
			lr.Attributes().PutInt("http.status", 200)
		}
	}
	return ld
}

// benchmarkSelect reports ns/record, records/op and kept/op besides the
// usual figures, so make bench can turn allocs/op into allocs per record and
// check that contrib's filterprocessor keeps the same records.
func benchmarkSelect(b *testing.B, cfg Config) {
	benchmarkSelectLogs(b, cfg, benchLogs())
}

// copiedOnFreshInputs gives the copied benchmarks fresh inputs too, as the
// moved ones get: their figures then differ by the walk alone, not by the
// cache (`-args -copied-on-fresh-inputs`).
var copiedOnFreshInputs = flag.Bool("copied-on-fresh-inputs", false, "time the copied benchmarks on fresh inputs, as the moved ones")

// inputsAtOnce is how many inputs the moved benchmarks copy at once,
// outside the timer, as bench/filterprocessor does for contrib's
// filterprocessor.
const inputsAtOnce = 64

// benchmarkSelectLogs runs two sub-benchmarks. copied: the input is shared,
// as when batching is off; Select copies what it keeps and never changes
// the input, so one input serves every call (hot in the cache). moved: the
// exporter's default, batching on, where the pipeline hands the exporter a
// copy of its own and Select reduces it in place; each call is given a
// fresh input, copied outside the timer (colder in the cache, as the
// filterprocessor's inputs are).
func benchmarkSelectLogs(b *testing.B, cfg Config, ld plog.Logs) {
	s, err := New(cfg, componenttest.NewNopTelemetrySettings())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	n := ld.LogRecordCount()
	probe, _ := s.Select(ctx, ld)
	kept := probe.LogRecordCount()
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		b.ReportMetric(float64(n), "records/op")
		b.ReportMetric(float64(kept), "kept/op")
	}
	// onFreshInputs times SelectFor with out on a fresh copy of ld per call.
	onFreshInputs := func(b *testing.B, out Output) {
		inputs := make([]plog.Logs, inputsAtOnce)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; {
			b.StopTimer()
			k := min(inputsAtOnce, b.N-i)
			for j := range k {
				inputs[j] = plog.NewLogs()
				ld.CopyTo(inputs[j])
			}
			b.StartTimer()
			for j := range k {
				s.SelectFor(ctx, inputs[j], out)
			}
			i += k
		}
		b.StopTimer()
		report(b)
	}
	b.Run("copied", func(b *testing.B) {
		if *copiedOnFreshInputs {
			onFreshInputs(b, Output{})
			return
		}
		b.ReportAllocs()
		for b.Loop() {
			s.Select(ctx, ld)
		}
		report(b)
	})
	b.Run("moved", func(b *testing.B) { onFreshInputs(b, Output{Owned: true}) })
}

// BenchmarkSelectSeverityOnly: the default configuration, the path every
// record of a quiet collector takes.
func BenchmarkSelectSeverityOnly(b *testing.B) {
	benchmarkSelect(b, Config{MinSeverity: plog.SeverityNumberError, DefaultDestination: "d"})
}

// BenchmarkSelectSeverityOnlyNoneKept: every record is dropped, so
// allocs/op is what a batch costs whatever its size, and allocs per dropped
// record is allocs/op divided by records/op.
func BenchmarkSelectSeverityOnlyNoneKept(b *testing.B) {
	benchmarkSelectLogs(b, Config{MinSeverity: plog.SeverityNumberError, DefaultDestination: "d"}, benchLogsWithErrors(false))
}

// BenchmarkSelectOneCondition: every record passes the severity check and
// is tested against one OTTL condition; half are dropped.
func BenchmarkSelectOneCondition(b *testing.B) {
	benchmarkSelect(b, Config{
		MinSeverity:        plog.SeverityNumberTrace,
		Exclude:            []string{`resource.attributes["deployment.environment"] == "dev"`},
		DefaultDestination: "d",
	})
}

// BenchmarkSelectFiveConditionsThreeRoutes: two include and three exclude
// conditions for every record, three routes for each kept one.
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

// BenchmarkSelectKeepAll: every record is kept, 100 to a resource, as when
// an application's batch is all errors, and goes to the default
// destination: Select hands the input on as it is, copying nothing.
func BenchmarkSelectKeepAll(b *testing.B) {
	benchmarkSelect(b, Config{MinSeverity: plog.SeverityNumberTrace, DefaultDestination: "d"})
}

// BenchmarkSelectKeepAllRouted: every record is kept, as in
// BenchmarkSelectKeepAll, but through a route: each scope is copied or
// moved in one go, and tagged. What taking a kept record costs when its
// resource and scope are copied once for many.
func BenchmarkSelectKeepAllRouted(b *testing.B) {
	benchmarkSelect(b, Config{
		MinSeverity:        plog.SeverityNumberTrace,
		Routes:             []Route{{Condition: `resource.attributes["service.name"] != nil`, Destination: "r"}},
		DefaultDestination: "d",
	})
}

// BenchmarkSelectKeepHalfOfEachScope: every other record of benchLogs is
// DEBUG and dropped, so each kept record is copied or moved alone, into a
// scope copied once for 50.
func BenchmarkSelectKeepHalfOfEachScope(b *testing.B) {
	ld := benchLogs()
	for _, rl := range ld.ResourceLogs().All() {
		for i, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
			if i%2 == 1 {
				lr.SetSeverityNumber(plog.SeverityNumberDebug)
			}
		}
	}
	benchmarkSelectLogs(b, Config{MinSeverity: plog.SeverityNumberInfo, DefaultDestination: "d"}, ld)
}
