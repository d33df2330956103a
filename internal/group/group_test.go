package group

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

func resource(service string) pcommon.Resource {
	r := pcommon.NewResource()
	r.Attributes().PutStr("service.name", service)
	r.Attributes().PutStr("deployment.environment", "prod")
	r.Attributes().PutStr("team", "not shown")
	return r
}

func record(body string, at time.Time) plog.LogRecord {
	lr := plog.NewLogRecord()
	lr.Body().SetStr(body)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
	lr.Attributes().PutStr("order_id", "42")
	lr.Attributes().PutStr("slack.destination", "channel:alerts")
	return lr
}

func TestIdenticalRecordsCollapse(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	g := New(Options{Hidden: "slack.destination"})
	g.Add(resource("checkout"), record("db down", t0.Add(2*time.Second)), plog.SeverityNumberError, 0)
	g.Add(resource("checkout"), record("cache miss storm", t0), plog.SeverityNumberError, 1)
	g.Add(resource("checkout"), record("db down", t0), plog.SeverityNumberError, 2)
	g.Add(resource("checkout"), record("db down", t0.Add(5*time.Second)), plog.SeverityNumberError, 3)
	// Same body, other service or other severity: not the same record.
	g.Add(resource("payments"), record("db down", t0), plog.SeverityNumberError, 4)
	g.Add(resource("checkout"), record("db down", t0), plog.SeverityNumberFatal, 5)

	entries := g.Entries()
	require.Len(t, entries, 4)
	top := entries[0]
	assert.Equal(t, "db down", top.Body)
	assert.Equal(t, "checkout", top.Service)
	assert.Equal(t, 3, top.Count)
	assert.Equal(t, []int{0, 2, 3}, top.Records)
	assert.Equal(t, t0, top.First)
	assert.Equal(t, t0.Add(5*time.Second), top.Last)
	assert.Equal(t, []Attr{{"order_id", "42"}}, top.Attributes, "the internal tag is hidden")
	assert.Equal(t, []Attr{{"service.name", "checkout"}, {"deployment.environment", "prod"}, {"team", "not shown"}}, top.Resource)
	// Ties keep the order of first appearance.
	assert.Equal(t, []string{"cache miss storm", "db down", "db down"}, []string{entries[1].Body, entries[2].Body, entries[3].Body})
	assert.Equal(t, "payments", entries[2].Service)
	assert.Equal(t, plog.SeverityNumberFatal, entries[3].Severity)
}

func TestTheMostFrequentComeFirst(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	g := New(Options{})
	for i, body := range []string{"rare", "common", "common", "frequent", "common", "frequent"} {
		g.Add(resource("checkout"), record(body, t0), plog.SeverityNumberError, i)
	}
	var order []string
	var counts []int
	for _, e := range g.Entries() {
		order, counts = append(order, e.Body), append(counts, e.Count)
	}
	assert.Equal(t, []string{"common", "frequent", "rare"}, order, "most frequent first, whatever came first")
	assert.Equal(t, []int{3, 2, 1}, counts)
}

func TestBodyKindsAndTrace(t *testing.T) {
	g := New(Options{})
	lr := plog.NewLogRecord()
	m := lr.Body().SetEmptyMap()
	m.PutStr("msg", "boom")
	m.PutInt("code", 7)
	lr.SetTraceID(pcommon.TraceID{0x4b, 0xf9, 1})
	lr.SetSpanID(pcommon.SpanID{0, 0xf0, 0x67})
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Unix(100, 0)))
	g.Add(resource("a"), lr, plog.SeverityNumberError, 0)

	exc := plog.NewLogRecord()
	exc.Attributes().PutStr("exception.message", "nil pointer")
	g.Add(resource("a"), exc, plog.SeverityNumberError, 1)

	entries := g.Entries()
	assert.JSONEq(t, `{"msg":"boom","code":7}`, entries[0].Body, "map bodies as compact JSON")
	assert.Equal(t, "4bf90100000000000000000000000000", entries[0].TraceID)
	assert.Equal(t, "00f0670000000000", entries[0].SpanID)
	assert.True(t, time.Unix(100, 0).Equal(entries[0].First), "observed time when the record has none")
	assert.Equal(t, "nil pointer", entries[1].Body, "a record without body shows its exception")
}

func TestMaskingGroupsRecordsThatDifferInVariableParts(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"timeout after 31ms for user 42", "timeout after # for user #"},
		{"timeout after 87ms for user 7", "timeout after # for user #"},
		{"request 123e4567-e89b-12d3-a456-426614174000 failed", "request # failed"},
		{"request 0badcafe-abcd-4def-beef-acedfacebead failed", "request # failed"},
		{"object deadbeefcafe gone, dead beef stays", "object # gone, dead beef stays"},
		{"dial 10.0.0.12:5432 refused", "dial #.#.#.#:# refused"},
		{"object 0x7ffd5e8c not found", "object # not found"},
		{`user "alice" and 'bob' denied`, "user '…' and '…' denied"},
		{`an unmatched " quote`, `an unmatched " quote`},
		{"plain words stay", "plain words stay"},
		// Every letter and digit is part of a word, the first and last of
		// each range too; a word with a digit is variable.
		{"exit 9, shard z9 in zone A1 and Z0 failed", "exit #, shard # in zone # and # failed"},
		// Eight hex letters or more are an id, fewer are a word, in either case.
		{"token deadbeef expired, cache decaded", "token # expired, cache decaded"},
		{"object FACADEBEAD gone", "object # gone"},
		// A UUID at the very end, or as a word of its own in a long text.
		{"request 123e4567-e89b-12d3-a456-426614174000", "request #"},
		{"while retrying the request to the ledger, 0badcafe-abcd-4def-beef-acedfacebead, it failed",
			"while retrying the request to the ledger, #, it failed"},
		// A UUID run into more letters and digits is not a UUID: its parts
		// are masked one by one.
		{"id 123e4567-e89b-12d3-a456-426614174000x1", "id #-#-#-#-#"},
		// Long texts without an id keep their words.
		{"the ledger could not be reached within the configured deadline", "the ledger could not be reached within the configured deadline"},
		// An empty quoted value is a quoted value; a quote closed on another
		// line is not one.
		{`got '' and 'x'`, `got '…' and '…'`},
		{"line\n'one' ok", "line\n'…' ok"},
		{"said 'it\n' twice", "said 'it\n' twice"},
	} {
		assert.Equal(t, tc.want, maskVariableParts(tc.in), tc.in)
	}

	t0 := time.Now()
	g := New(Options{Mask: true})
	g.Add(resource("checkout"), record("timeout after 31ms for user 42", t0), plog.SeverityNumberError, 0)
	g.Add(resource("checkout"), record("timeout after 87ms for user 7", t0), plog.SeverityNumberError, 1)
	entries := g.Entries()
	require.Len(t, entries, 1)
	assert.Equal(t, 2, entries[0].Count)
	assert.Equal(t, "timeout after 31ms for user 42", entries[0].Body, "the sample keeps its real text")

	unmasked := New(Options{Mask: false})
	unmasked.Add(resource("checkout"), record("timeout after 31ms for user 42", t0), plog.SeverityNumberError, 0)
	unmasked.Add(resource("checkout"), record("timeout after 87ms for user 7", t0), plog.SeverityNumberError, 1)
	assert.Len(t, unmasked.Entries(), 2)
}

func TestGroupingByAttributesAndExceptionType(t *testing.T) {
	t0 := time.Now()
	g := New(Options{Mask: true, By: []string{"tenant", "deployment.environment"}})
	add := func(pos int, tenant, exc string) {
		lr := record("failed", t0)
		if tenant != "" {
			lr.Attributes().PutStr("tenant", tenant)
		}
		if exc != "" {
			lr.Attributes().PutStr("exception.type", exc)
		}
		g.Add(resource("checkout"), lr, plog.SeverityNumberError, pos)
	}
	add(0, "acme", "")
	add(1, "acme", "")
	add(2, "globex", "")
	add(3, "acme", "TimeoutError")
	entries := g.Entries()
	require.Len(t, entries, 3)
	assert.Equal(t, []int{0, 1}, entries[0].Records, "same tenant, same environment (from the resource)")
	assert.Equal(t, []int{2}, entries[1].Records, "another tenant")
	assert.Equal(t, []int{3}, entries[2].Records, "another exception type")
}

// grouping.by looks in the record first, then in the resource; an absent
// attribute is not an empty one.
func TestGroupingByLooksInTheRecordFirst(t *testing.T) {
	t0 := time.Now()
	g := New(Options{By: []string{"tenant"}})
	res := func(tenant string) pcommon.Resource {
		r := resource("checkout")
		if tenant != "" {
			r.Attributes().PutStr("tenant", tenant)
		}
		return r
	}
	rec := func(tenant *string) plog.LogRecord {
		lr := record("failed", t0)
		if tenant != nil {
			lr.Attributes().PutStr("tenant", *tenant)
		}
		return lr
	}
	acme, globex, empty := "acme", "globex", ""
	g.Add(res("globex"), rec(&acme), plog.SeverityNumberError, 0) // the record says acme
	g.Add(res(""), rec(&acme), plog.SeverityNumberError, 1)
	g.Add(res("acme"), rec(&globex), plog.SeverityNumberError, 2) // the record says globex
	g.Add(res("globex"), rec(nil), plog.SeverityNumberError, 3)   // only the resource says
	g.Add(res(""), rec(nil), plog.SeverityNumberError, 4)         // absent
	g.Add(res(""), rec(&empty), plog.SeverityNumberError, 5)      // empty
	var groups [][]int
	for _, e := range g.Entries() {
		groups = append(groups, e.Records)
	}
	assert.Equal(t, [][]int{{0, 1}, {2, 3}, {4}, {5}}, groups)
}

func TestFingerprintIsShortWhateverTheBody(t *testing.T) {
	t0 := time.Now()
	g := New(Options{Mask: true})
	huge := strings.Repeat("x", 10<<20)
	g.Add(resource("a"), record(huge+"tail one", t0), plog.SeverityNumberError, 0)
	g.Add(resource("a"), record(huge+"tail two", t0), plog.SeverityNumberError, 1)
	g.Add(resource("a"), record("short", t0), plog.SeverityNumberError, 2)
	entries := g.Entries()
	require.Len(t, entries, 2, "bodies that agree on their first 16 KiB are one error")
	assert.Len(t, entries[0].Fingerprint, 32)
	assert.NotEqual(t, entries[0].Fingerprint, entries[1].Fingerprint)
}

func TestOneIsTheEntryAddWouldMakeOfOneRecord(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	lr := record("db down", t0)
	lr.SetTraceID([16]byte{1})
	lr.SetSpanID([8]byte{2})
	lr.SetSeverityText("Err")
	g := New(Options{Hidden: "slack.destination"})
	g.Add(resource("checkout"), lr, plog.SeverityNumberError, 0)
	want := *g.Entries()[0]
	want.Fingerprint, want.Records = "", nil

	got := One(resource("checkout"), lr, plog.SeverityNumberError, "slack.destination")
	assert.Equal(t, want, *got)
	assert.Equal(t, 1, got.Count)
	assert.Equal(t, "checkout", got.Service)
	assert.NotEmpty(t, got.TraceID)
	assert.NotContains(t, got.Attributes, Attr{Key: "slack.destination", Value: "channel:alerts"})
}
