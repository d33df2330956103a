package selection

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

type rec struct {
	service, env string
	severity     plog.SeverityNumber
	text         string
	body         string
}

func logsOf(recs ...rec) plog.Logs {
	ld := plog.NewLogs()
	for _, r := range recs {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", r.service)
		if r.env != "" {
			rl.Resource().Attributes().PutStr("deployment.environment", r.env)
		}
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetSeverityNumber(r.severity)
		lr.SetSeverityText(r.text)
		lr.Body().SetStr(r.body)
	}
	return ld
}

// bodies maps each kept record's body to its destination, read as the
// exporter reads it.
func bodies(s *Selector, ld plog.Logs) map[string]string {
	out := map[string]string{}
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				out[lr.Body().Str()] = s.DestinationOf(sl)
			}
		}
	}
	return out
}

func newSelector(t *testing.T, cfg Config) *Selector {
	t.Helper()
	s, err := New(cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	return s
}

func TestSeverityFilterUsesNumberThenText(t *testing.T) {
	s := newSelector(t, Config{MinSeverity: plog.SeverityNumberError, DefaultDestination: "default"})
	in := logsOf(
		rec{service: "a", severity: plog.SeverityNumberInfo, body: "info"},
		rec{service: "a", severity: plog.SeverityNumberError, body: "error"},
		rec{service: "a", severity: plog.SeverityNumberFatal, body: "fatal"},
		rec{service: "a", text: "ERROR", body: "text error"},
		rec{service: "a", text: "Err", body: "text err"},
		rec{service: "a", text: "critical", body: "text critical"},
		rec{service: "a", text: "warning", body: "text warning"},
		rec{service: "a", text: "bogus", body: "unknown text"},
		// The number wins over a contradicting text.
		rec{service: "a", severity: plog.SeverityNumberDebug, text: "ERROR", body: "debug number"},
	)
	kept, filtered := s.Select(context.Background(), in)
	assert.Equal(t, map[string]string{
		"error": "default", "fatal": "default", "text error": "default", "text err": "default", "text critical": "default",
	}, bodies(s, kept))
	assert.Equal(t, 4, filtered)
	assert.Equal(t, 9, in.LogRecordCount(), "the input is never modified")
	assert.Empty(t, Destination(in.ResourceLogs().At(1).ScopeLogs().At(0)),
		"tags go on the copies only")
}

func TestIncludeExcludeAndRoutes(t *testing.T) {
	s := newSelector(t, Config{
		MinSeverity: plog.SeverityNumberWarn,
		Include:     []string{`resource.attributes["service.name"] == "checkout"`, `resource.attributes["service.name"] == "payments"`},
		Exclude:     []string{`IsMatch(body, "healthcheck")`},
		Routes: []Route{
			{Condition: `resource.attributes["deployment.environment"] == "prod"`, Destination: "prod"},
			{Condition: `severity_number >= SEVERITY_NUMBER_FATAL`, Destination: "pager"},
			{Condition: `true`, Destination: "never reached for prod"},
		},
		DefaultDestination: "default",
	})
	in := logsOf(
		rec{service: "checkout", env: "prod", severity: plog.SeverityNumberError, body: "prod error"},
		rec{service: "checkout", env: "dev", severity: plog.SeverityNumberFatal, body: "dev fatal"},
		rec{service: "payments", env: "dev", severity: plog.SeverityNumberWarn, body: "dev warn"},
		rec{service: "payments", env: "prod", severity: plog.SeverityNumberError, body: "healthcheck failed"},
		rec{service: "search", env: "prod", severity: plog.SeverityNumberError, body: "not included"},
	)
	kept, filtered := s.Select(context.Background(), in)
	assert.Equal(t, map[string]string{
		"prod error": "prod",
		"dev fatal":  "pager",
		"dev warn":   "never reached for prod",
	}, bodies(s, kept))
	assert.Equal(t, 2, filtered)
}

func TestRecordsOfOneResourceShareOneCopiedResource(t *testing.T) {
	s := newSelector(t, Config{MinSeverity: plog.SeverityNumberError, DefaultDestination: "d"})
	in := plog.NewLogs()
	rl := in.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	for _, sev := range []plog.SeverityNumber{plog.SeverityNumberError, plog.SeverityNumberInfo, plog.SeverityNumberError} {
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("scope")
		lr := sl.LogRecords().AppendEmpty()
		lr.SetSeverityNumber(sev)
		sl.LogRecords().AppendEmpty().SetSeverityNumber(sev)
	}
	kept, filtered := s.Select(context.Background(), in)
	assert.Equal(t, 2, filtered)
	require.Equal(t, 1, kept.ResourceLogs().Len())
	assert.Equal(t, 2, kept.ResourceLogs().At(0).ScopeLogs().Len(), "only scopes with kept records are copied")
	assert.Equal(t, 4, kept.LogRecordCount())
}

func TestRuntimeErrorInConditionDoesNotDropTheRecord(t *testing.T) {
	// Int() of a non-number fails at evaluation time. An exclude that cannot
	// decide must not drop the record.
	s := newSelector(t, Config{
		MinSeverity:        plog.SeverityNumberError,
		Exclude:            []string{`Int(body) > 3`},
		DefaultDestination: "d",
	})
	kept, filtered := s.Select(context.Background(), logsOf(rec{service: "a", severity: plog.SeverityNumberError, body: "not a number"}))
	assert.Equal(t, 0, filtered)
	assert.Equal(t, 1, kept.LogRecordCount())
}

func TestARuntimeErrorIsLoggedAndOnlyThen(t *testing.T) {
	core, logged := observer.New(zap.WarnLevel)
	set := componenttest.NewNopTelemetrySettings()
	set.Logger = zap.New(core)
	s, err := New(Config{MinSeverity: plog.SeverityNumberError, Exclude: []string{`Int(body) > 3`}, DefaultDestination: "d"}, set)
	require.NoError(t, err)

	kept, _ := s.Select(context.Background(), logsOf(rec{service: "a", severity: plog.SeverityNumberError, body: "7"}))
	assert.Equal(t, 0, kept.LogRecordCount(), "7 > 3: excluded")
	assert.Equal(t, 0, logged.Len(), "a condition that evaluates logs nothing")

	s.Select(context.Background(), logsOf(rec{service: "a", severity: plog.SeverityNumberError, body: "not a number"}))
	require.Equal(t, 1, logged.Len())
	entry := logged.All()[0]
	assert.Equal(t, "failed to eval condition", entry.Message)
	assert.Equal(t, `Int(body) > 3`, entry.ContextMap()["condition"])
}

func TestParseMinSeverity(t *testing.T) {
	n, err := ParseMinSeverity("WARN")
	require.NoError(t, err)
	assert.Equal(t, plog.SeverityNumberWarn, n)
	_, err = ParseMinSeverity("warning!")
	assert.ErrorContains(t, err, `unknown severity "warning!"`)
}

func TestCheckCondition(t *testing.T) {
	assert.NoError(t, CheckCondition(`attributes["http.status"] >= 500`))
	err := CheckCondition(`attributes["http.status"] >>= 500`)
	assert.ErrorContains(t, err, `OTTL condition "attributes[\"http.status\"] >>= 500" does not parse`)
	assert.ErrorContains(t, CheckCondition(`NoSuchFunc(body)`), "NoSuchFunc")
}

// A condition that reads only the resource is decided once per resource;
// one that names attributes without "resource." reads the record's, as in
// any log condition, even when the resource has the same key.
func TestResourceConditionsAreDecidedPerResourceAndRecordOnesPerRecord(t *testing.T) {
	s := newSelector(t, Config{
		MinSeverity: plog.SeverityNumberError,
		Exclude:     []string{`attributes["env"] == "dev"`},
		Routes: []Route{
			{Condition: `resource.attributes["env"] == "prod"`, Destination: "prod"},
			{Condition: `attributes["team"] == "pay" and resource.attributes["env"] == "stage"`, Destination: "pay-stage"},
		},
		DefaultDestination: "default",
	})
	in := plog.NewLogs()
	for _, env := range []string{"prod", "stage", "dev"} {
		rl := in.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("env", env)
		sl := rl.ScopeLogs().AppendEmpty()
		for _, r := range []struct{ recordEnv, team string }{{"", ""}, {"dev", ""}, {"", "pay"}} {
			lr := sl.LogRecords().AppendEmpty()
			lr.SetSeverityNumber(plog.SeverityNumberError)
			if r.recordEnv != "" {
				lr.Attributes().PutStr("env", r.recordEnv)
			}
			if r.team != "" {
				lr.Attributes().PutStr("team", r.team)
			}
			lr.Body().SetStr(env + "/" + r.recordEnv + "/" + r.team)
		}
	}
	kept, filtered := s.Select(context.Background(), in)
	assert.Equal(t, map[string]string{
		"prod//": "prod", "prod//pay": "prod",
		"stage//": "default", "stage//pay": "pay-stage",
		"dev//": "default", "dev//pay": "default",
	}, bodies(s, kept), "a resource env of dev drops nothing: the exclude reads the record's env")
	assert.Equal(t, 3, filtered, "the records whose own env is dev")

	// Records of one scope routed apart go to two tagged copies of it.
	assert.Equal(t, 2, kept.ResourceLogs().At(1).ScopeLogs().Len())
}

// A route with Resolve names each matching record's destination itself: per
// record, or once per resource when it says it reads only the resource.
func TestResolvedRoutesNameTheirDestinationPerRecordOrPerResource(t *testing.T) {
	var perRecord, perResource int
	s := newSelector(t, Config{
		MinSeverity: plog.SeverityNumberError,
		Routes: []Route{
			{Condition: `attributes["by"] == "record"`, Resolve: func(_ plog.ResourceLogs, lr plog.LogRecord) string {
				perRecord++
				return "rec:" + lr.Body().Str()
			}},
			{Condition: `resource.attributes["team"] != nil`, PerResource: true, Resolve: func(rl plog.ResourceLogs, _ plog.LogRecord) string {
				perResource++
				v, _ := rl.Resource().Attributes().Get("team")
				return "team:" + v.Str()
			}},
		},
		DefaultDestination: "default",
	})
	in := plog.NewLogs()
	for _, team := range []string{"pay", "ship", ""} {
		rl := in.ResourceLogs().AppendEmpty()
		if team != "" {
			rl.Resource().Attributes().PutStr("team", team)
		}
		sl := rl.ScopeLogs().AppendEmpty()
		for i, by := range []string{"record", "", "", "record"} {
			lr := sl.LogRecords().AppendEmpty()
			lr.SetSeverityNumber(plog.SeverityNumberError)
			if by != "" {
				lr.Attributes().PutStr("by", by)
			}
			lr.Body().SetStr(fmt.Sprintf("%s-%d", team, i))
		}
	}
	kept, filtered := s.Select(context.Background(), in)
	assert.Zero(t, filtered)
	assert.Equal(t, map[string]string{
		"pay-0": "rec:pay-0", "pay-1": "team:pay", "pay-2": "team:pay", "pay-3": "rec:pay-3",
		"ship-0": "rec:ship-0", "ship-1": "team:ship", "ship-2": "team:ship", "ship-3": "rec:ship-3",
		"-0": "rec:-0", "-1": "default", "-2": "default", "-3": "rec:-3",
	}, bodies(s, kept))
	assert.Equal(t, 6, perRecord, "once per matching record")
	assert.Equal(t, 2, perResource, "once per resource that matched, however many of its records did")
}

// Select keeps a batch whose every record goes to the default destination
// by handing on the batch itself: nothing copied, nothing tagged. Any other
// batch is copied and each copied scope tagged; a Tagged output is always
// a copy. The input is never modified unless owned (see
// TestAnOwnedInputIsSelectedAsACopiedOneWouldBe).
func TestSelectHandsOnItsInputOnlyWhenItKeepsAllOfItForTheDefault(t *testing.T) {
	s := newSelector(t, Config{
		MinSeverity:        plog.SeverityNumberError,
		Routes:             []Route{{Condition: `resource.attributes["deployment.environment"] == "prod"`, Destination: "prod"}},
		DefaultDestination: "d",
	})
	errors := []rec{
		{service: "a", env: "dev", severity: plog.SeverityNumberError, body: "a"},
		{service: "b", env: "dev", severity: plog.SeverityNumberFatal, body: "b"},
	}
	for _, tt := range []struct {
		name   string
		in     plog.Logs
		copies bool
		shared bool
		want   map[string]string
	}{
		{"all kept for the default", logsOf(errors...), false, true, map[string]string{"a": "d", "b": "d"}},
		{"copies asked for", logsOf(errors...), true, false, map[string]string{"a": "d", "b": "d"}},
		{"one dropped", logsOf(append(errors, rec{service: "c", env: "dev", severity: plog.SeverityNumberInfo, body: "c"})...),
			false, false, map[string]string{"a": "d", "b": "d"}},
		{"one routed", logsOf(append(errors, rec{service: "c", env: "prod", severity: plog.SeverityNumberError, body: "c"})...),
			false, false, map[string]string{"a": "d", "b": "d", "c": "prod"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := marshal(t, tt.in)
			kept, _ := s.SelectFor(context.Background(), tt.in, Output{Tagged: tt.copies})
			assert.Equal(t, tt.shared, same(kept, tt.in), "the input itself")
			assert.Equal(t, tt.want, bodies(s, kept))
			if !tt.shared {
				for _, rl := range kept.ResourceLogs().All() {
					for _, sl := range rl.ScopeLogs().All() {
						assert.Equal(t, tt.want[sl.LogRecords().At(0).Body().Str()], Destination(sl),
							"every copied scope is tagged")
					}
				}
			}
			assert.Equal(t, before, marshal(t, tt.in), "the input is never modified")
		})
	}
}

// same reports whether a and b are one plog.Logs, not two with equal
// contents.
func same(a, b plog.Logs) bool {
	return a == b
}

func marshal(t *testing.T, ld plog.Logs) string {
	t.Helper()
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	return string(b)
}

// A producer that sets slack.destination itself, on a record or on a scope,
// never chooses where its records go: routes do.
func TestAProducersOwnDestinationAttributeIsIgnored(t *testing.T) {
	s := newSelector(t, Config{
		MinSeverity:        plog.SeverityNumberError,
		DefaultDestination: "default",
		Routes:             []Route{{Condition: `resource.attributes["deployment.environment"] == "prod"`, Destination: "prod"}},
	})
	const evil = "dynamic:ceo-private"
	for name, tc := range map[string]struct {
		recs         []rec
		onRecord     bool
		onScope      bool
		want         map[string]string
		wantFiltered int
	}{
		"on a record, all kept for the default": {recs: []rec{{service: "a", severity: plog.SeverityNumberError, body: "r1"}}, onRecord: true,
			want: map[string]string{"r1": "default"}},
		"on a scope, all kept for the default": {recs: []rec{{service: "a", severity: plog.SeverityNumberError, body: "s1"}}, onScope: true,
			want: map[string]string{"s1": "default"}},
		"on a scope, some kept": {recs: []rec{{service: "a", severity: plog.SeverityNumberError, body: "s2"}, {service: "a", severity: plog.SeverityNumberInfo, body: "dropped"}},
			onScope: true, onRecord: true, want: map[string]string{"s2": "default"}, wantFiltered: 1},
		"on both, routed": {recs: []rec{{service: "a", env: "prod", severity: plog.SeverityNumberError, body: "p1"}}, onScope: true, onRecord: true,
			want: map[string]string{"p1": "prod"}},
	} {
		t.Run(name, func(t *testing.T) {
			in := logsOf(tc.recs...)
			for _, rl := range in.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					if tc.onScope {
						sl.Scope().Attributes().PutStr(DestinationAttribute, evil)
					}
					for _, lr := range sl.LogRecords().All() {
						if tc.onRecord {
							lr.Attributes().PutStr(DestinationAttribute, evil)
						}
					}
				}
			}
			kept, filtered := s.Select(context.Background(), in)
			assert.Equal(t, tc.wantFiltered, filtered)
			assert.Equal(t, tc.want, bodies(s, kept))
		})
	}
}

// randomLogs is up to 6 resources (service s0–s3, env prod or dev) of up to
// 3 scopes of up to 6 records of random severity, some with a team
// attribute, every body unique.
func randomLogs(rng *rand.Rand) plog.Logs {
	ld := plog.NewLogs()
	n := 0
	for range 1 + rng.IntN(6) {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", fmt.Sprintf("s%d", rng.IntN(4)))
		rl.Resource().Attributes().PutStr("deployment.environment", []string{"prod", "dev"}[rng.IntN(2)])
		for range rng.IntN(4) {
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(fmt.Sprintf("scope%d", rng.IntN(3)))
			for range rng.IntN(7) {
				lr := sl.LogRecords().AppendEmpty()
				lr.SetSeverityNumber([]plog.SeverityNumber{plog.SeverityNumberInfo, plog.SeverityNumberError, plog.SeverityNumberFatal}[rng.IntN(3)])
				lr.Body().SetStr(fmt.Sprintf("r%d", n))
				if rng.IntN(2) == 0 {
					lr.Attributes().PutStr("team", fmt.Sprintf("t%d", rng.IntN(3)))
				}
				n++
			}
		}
	}
	return ld
}

// records maps the body of each record of ld to its destination, resource,
// scope and contents, as the exporter reads them.
func records(s *Selector, ld plog.Logs) map[string]string {
	out := map[string]string{}
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				out[lr.Body().Str()] = fmt.Sprintf("%s %v %s %s %v", s.DestinationOf(sl), rl.Resource().Attributes().AsRaw(),
					sl.Scope().Name(), lr.SeverityNumber(), lr.Attributes().AsRaw())
			}
		}
	}
	return out
}

// An owned input, reduced in place rather than copied, gives what a copied
// one gives, whatever is kept and wherever it goes.
func TestAnOwnedInputIsSelectedAsACopiedOneWouldBe(t *testing.T) {
	teamOrService := func(rl plog.ResourceLogs, lr plog.LogRecord) string {
		if v, ok := lr.Attributes().Get("team"); ok {
			return "team-" + v.Str()
		}
		v, _ := rl.Resource().Attributes().Get("service.name")
		return "svc-" + v.Str()
	}
	envOf := func(rl plog.ResourceLogs, _ plog.LogRecord) string {
		v, _ := rl.Resource().Attributes().Get("deployment.environment")
		return "env-" + v.Str()
	}
	s := newSelector(t, Config{
		MinSeverity: plog.SeverityNumberError,
		Exclude:     []string{`resource.attributes["service.name"] == "s3" and severity_number < SEVERITY_NUMBER_FATAL`},
		Routes: []Route{
			{Condition: `attributes["team"] == "t0"`, Destination: "t0"},
			{Condition: `severity_number >= SEVERITY_NUMBER_FATAL`, Resolve: teamOrService},
			{Condition: `resource.attributes["service.name"] == "s2"`, Resolve: envOf, PerResource: true},
		},
		DefaultDestination: "d",
	})
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for range 300 {
		in := randomLogs(rng)
		for _, tagged := range []bool{false, true} {
			owned := plog.NewLogs()
			in.CopyTo(owned)
			copied, filteredCopied := s.SelectFor(context.Background(), in, Output{Tagged: tagged})
			want := records(s, copied)
			moved, filteredMoved := s.SelectFor(context.Background(), owned, Output{Owned: true, Tagged: tagged})
			require.Equal(t, want, records(s, moved), "seed %d tagged %v", seed, tagged)
			require.Equal(t, filteredCopied, filteredMoved, "seed %d", seed)
			require.Equal(t, in.LogRecordCount(), copied.LogRecordCount()+filteredCopied, "seed %d: every record kept or counted", seed)
		}
	}
}
