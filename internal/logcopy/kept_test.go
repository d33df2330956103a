package logcopy

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// walker is Kept or InPlace.
type walker interface {
	Scope(rl plog.ResourceLogs, sl plog.ScopeLogs)
	Keep(i int, lr plog.LogRecord, tag string)
	Logs() plog.Logs
}

// walk walks src with k: a record whose body is in tags is kept with that
// tag, any other is dropped.
func walk(k walker, src plog.Logs, tags map[string]string) plog.Logs {
	for _, rl := range src.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			k.Scope(rl, sl)
			for i, lr := range sl.LogRecords().All() {
				if tag, ok := tags[lr.Body().Str()]; ok {
					k.Keep(i, lr, tag)
				}
			}
		}
	}
	return k.Logs()
}

// all tags every record of src with tag.
func all(src plog.Logs, tag string) map[string]string {
	tags := map[string]string{}
	for _, rl := range src.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				tags[lr.Body().Str()] = tag
			}
		}
	}
	return tags
}

// scopes lists each scope of ld as "service scope tag: bodies", the tag
// "-" when the scope has none.
func scopes(ld plog.Logs) []string {
	var out []string
	for _, rl := range ld.ResourceLogs().All() {
		svc, _ := rl.Resource().Attributes().Get("service.name")
		for _, sl := range rl.ScopeLogs().All() {
			tag := "-"
			if v, ok := sl.Scope().Attributes().Get("dest"); ok {
				tag = v.Str()
			}
			var bodies []string
			for _, lr := range sl.LogRecords().All() {
				bodies = append(bodies, lr.Body().Str())
			}
			out = append(out, svc.Str()+" "+sl.Scope().Name()+" "+tag+": "+strings.Join(bodies, ","))
		}
	}
	return out
}

// same reports whether a and b are one plog.Logs, not two with equal
// contents (which assert.Equal would accept).
func same(a, b plog.Logs) bool {
	return a == b
}

func marshal(t *testing.T, ld plog.Logs) string {
	t.Helper()
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	return string(b)
}

// Kept with every record for the implied tag is the source itself, not a
// copy of it: nothing is copied, nothing is tagged.
func TestKeptIsTheSourceItselfWhenEveryRecordIsKeptWithTheImpliedTag(t *testing.T) {
	src := source()
	before := marshal(t, src)
	out := walk(NewKept(src, "dest", "d"), src, all(src, "d"))
	assert.True(t, same(out, src), "the source itself")
	assert.Equal(t, before, marshal(t, src), "the source is never modified")
}

// Anything else makes a copy, every scope of it tagged, the source left
// as it was.
func TestKeptCopiesAndTagsWhenTheSourceWillNotDo(t *testing.T) {
	for _, tt := range []struct {
		name string
		tags func(src plog.Logs) map[string]string
		want []string
	}{
		{"one record dropped", func(src plog.Logs) map[string]string {
			tags := all(src, "d")
			delete(tags, "payments/http/2")
			return tags
		}, []string{
			"checkout db d: checkout/db/1,checkout/db/2", "checkout http d: checkout/http/1,checkout/http/2",
			"payments db d: payments/db/1,payments/db/2", "payments http d: payments/http/1",
		}},
		{"a first record dropped", func(src plog.Logs) map[string]string {
			tags := all(src, "d")
			delete(tags, "checkout/db/1")
			return tags
		}, []string{
			"checkout db d: checkout/db/2", "checkout http d: checkout/http/1,checkout/http/2",
			"payments db d: payments/db/1,payments/db/2", "payments http d: payments/http/1,payments/http/2",
		}},
		{"a whole scope dropped", func(src plog.Logs) map[string]string {
			tags := all(src, "d")
			delete(tags, "checkout/http/1")
			delete(tags, "checkout/http/2")
			return tags
		}, []string{
			"checkout db d: checkout/db/1,checkout/db/2",
			"payments db d: payments/db/1,payments/db/2", "payments http d: payments/http/1,payments/http/2",
		}},
		{"one record for another tag", func(src plog.Logs) map[string]string {
			tags := all(src, "d")
			tags["payments/http/2"] = "x"
			return tags
		}, []string{
			"checkout db d: checkout/db/1,checkout/db/2", "checkout http d: checkout/http/1,checkout/http/2",
			"payments db d: payments/db/1,payments/db/2", "payments http d: payments/http/1", "payments http x: payments/http/2",
		}},
		{"a whole scope for another tag", func(src plog.Logs) map[string]string {
			tags := all(src, "d")
			tags["checkout/http/1"], tags["checkout/http/2"] = "x", "x"
			return tags
		}, []string{
			"checkout db d: checkout/db/1,checkout/db/2", "checkout http x: checkout/http/1,checkout/http/2",
			"payments db d: payments/db/1,payments/db/2", "payments http d: payments/http/1,payments/http/2",
		}},
		{"everything for another tag", func(src plog.Logs) map[string]string { return all(src, "x") }, []string{
			"checkout db x: checkout/db/1,checkout/db/2", "checkout http x: checkout/http/1,checkout/http/2",
			"payments db x: payments/db/1,payments/db/2", "payments http x: payments/http/1,payments/http/2",
		}},
		{"a record dropped between two kept", func(plog.Logs) map[string]string {
			return map[string]string{"checkout/db/1": "d", "checkout/http/1": "x", "payments/db/2": "d"}
		}, []string{"checkout db d: checkout/db/1", "checkout http x: checkout/http/1", "payments db d: payments/db/2"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := source()
			before := marshal(t, src)
			out := walk(NewKept(src, "dest", "d"), src, tt.tags(src))
			assert.False(t, same(out, src), "a copy")
			assert.Equal(t, tt.want, scopes(out))
			assert.Equal(t, 2, out.ResourceLogs().Len(), "each resource copied once")
			assert.Equal(t, "https://example.com/payments", out.ResourceLogs().At(1).SchemaUrl())
			assert.Equal(t, before, marshal(t, src), "the source is never modified")
		})
	}
}

// Records of one scope kept with different tags, in turns, go to a copy of
// the scope per run of one tag; the records before the first change are
// copied too.
func TestKeptSplitsAScopeAtEachChangeOfTag(t *testing.T) {
	src := plog.NewLogs()
	rl := src.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("db")
	tags := map[string]string{}
	for i, tag := range []string{"a", "a", "a", "b", "a"} {
		body := string(rune('1' + i))
		sl.LogRecords().AppendEmpty().Body().SetStr(body)
		tags[body] = tag
	}
	assert.Equal(t, []string{"checkout db a: 1,2,3", "checkout db b: 4", "checkout db a: 5"},
		scopes(walk(NewKept(src, "dest", "a"), src, tags)))
}

// A source scope that already carries the tag attribute cannot be handed
// on: its copy carries the tag the walk gave, over the old value.
func TestKeptRetagsAScopeThatCarriesTheTagAlready(t *testing.T) {
	src := source()
	src.ResourceLogs().At(1).ScopeLogs().At(0).Scope().Attributes().PutStr("dest", "elsewhere")
	out := walk(NewKept(src, "dest", "d"), src, all(src, "d"))
	assert.False(t, same(out, src))
	assert.Equal(t, []string{
		"checkout db d: checkout/db/1,checkout/db/2", "checkout http d: checkout/http/1,checkout/http/2",
		"payments db d: payments/db/1,payments/db/2", "payments http d: payments/http/1,payments/http/2",
	}, scopes(out))
	v, _ := src.ResourceLogs().At(1).ScopeLogs().At(0).Scope().Attributes().Get("dest")
	assert.Equal(t, "elsewhere", v.Str(), "the source is never modified")
}

// Scopes without records are never copied, whether before the point where
// the source stopped doing or after it.
func TestKeptCopiesNoEmptyScope(t *testing.T) {
	src := source()
	src.ResourceLogs().At(0).ScopeLogs().AppendEmpty().Scope().SetName("empty")
	src.ResourceLogs().At(1).ScopeLogs().AppendEmpty().Scope().SetName("empty")
	tags := all(src, "d")
	delete(tags, "payments/http/2")
	assert.Equal(t, []string{
		"checkout db d: checkout/db/1,checkout/db/2", "checkout http d: checkout/http/1,checkout/http/2",
		"payments db d: payments/db/1,payments/db/2", "payments http d: payments/http/1",
	}, scopes(walk(NewKept(src, "dest", "d"), src, tags)))
	assert.Equal(t, []string{
		"checkout db x: checkout/db/1,checkout/db/2", "checkout http x: checkout/http/1,checkout/http/2",
		"payments db x: payments/db/1,payments/db/2", "payments http x: payments/http/1,payments/http/2",
	}, scopes(walk(NewKept(src, "dest", "d"), src, all(src, "x"))))
}

func TestKeptNothingIsEmpty(t *testing.T) {
	src := source()
	out := walk(NewKept(src, "dest", "d"), src, nil)
	assert.False(t, same(out, src))
	assert.Equal(t, 0, out.ResourceLogs().Len())
}

// NewKeptTagged never hands the source on.
func TestKeptCopiesAlwaysCopies(t *testing.T) {
	src := source()
	out := walk(NewKeptTagged("dest"), src, all(src, "d"))
	assert.False(t, same(out, src))
	assert.Equal(t, []string{
		"checkout db d: checkout/db/1,checkout/db/2", "checkout http d: checkout/http/1,checkout/http/2",
		"payments db d: payments/db/1,payments/db/2", "payments http d: payments/http/1,payments/http/2",
	}, scopes(out))
}

// AppendScope copies a scope whole, with its schema URL and attributes,
// into the copy of its resource, after what was appended there before.
func TestAppendScopeCopiesAScopeWhole(t *testing.T) {
	src := source()
	rl := src.ResourceLogs().At(0)
	db, http := rl.ScopeLogs().At(0), rl.ScopeLogs().At(1)
	http.SetSchemaUrl("https://example.com/http")
	http.Scope().Attributes().PutStr("kind", "server")
	b := NewTagged("dest")
	b.AppendTagged(rl, db, db.LogRecords().At(1), "a")
	b.AppendScope(rl, http, "b")
	assert.Equal(t, []string{"checkout db a: checkout/db/2", "checkout http b: checkout/http/1,checkout/http/2"}, scopes(b.Logs()))
	copied := b.Logs().ResourceLogs().At(0).ScopeLogs().At(1)
	assert.Equal(t, "https://example.com/http", copied.SchemaUrl())
	assert.Equal(t, map[string]any{"kind": "server", "dest": "b"}, copied.Scope().Attributes().AsRaw())
	_, tagged := http.Scope().Attributes().Get("dest")
	assert.False(t, tagged, "the source is never modified")
}

// randomSource is a source of up to 4 resources of up to 4 scopes of up to
// 5 records, every body unique; some scopes are empty, some carry the tag
// attribute already, some records have attributes of their own.
func randomSource(rng *rand.Rand) plog.Logs {
	src := plog.NewLogs()
	n := 0
	for r := range 1 + rng.IntN(4) {
		rl := src.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc%d", r))
		rl.SetSchemaUrl(fmt.Sprintf("https://example.com/%d", r))
		for s := range rng.IntN(5) {
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(fmt.Sprintf("scope%d", s))
			sl.Scope().SetVersion(fmt.Sprintf("v%d", rng.IntN(3)))
			sl.SetSchemaUrl(fmt.Sprintf("https://example.com/scope/%d", s))
			if rng.IntN(5) == 0 {
				sl.Scope().Attributes().PutStr("dest", "forged")
			}
			for range rng.IntN(6) {
				lr := sl.LogRecords().AppendEmpty()
				lr.Body().SetStr(fmt.Sprintf("r%d", n))
				if rng.IntN(2) == 0 {
					lr.Attributes().PutInt("n", int64(n))
				}
				n++
			}
		}
	}
	return src
}

// randomTags keeps each record of src with a tag among d (the implied one),
// x and y, or drops it; sometimes all with d, to reach the shared path.
func randomTags(rng *rand.Rand, src plog.Logs) map[string]string {
	tags := all(src, "d")
	if rng.IntN(4) == 0 {
		return tags
	}
	for body := range tags {
		switch rng.IntN(4) {
		case 0:
			delete(tags, body)
		case 1:
			tags[body] = "x"
		case 2:
			tags[body] = "y"
		}
	}
	return tags
}

// kept lists the records of ld in order as "service schema scope tag
// body attributes scope-version@scope-schema", reading an untagged scope
// as the implied tag d.
func kept(ld plog.Logs) []string {
	var out []string
	for _, rl := range ld.ResourceLogs().All() {
		svc, _ := rl.Resource().Attributes().Get("service.name")
		for _, sl := range rl.ScopeLogs().All() {
			tag := "d"
			if v, ok := sl.Scope().Attributes().Get("dest"); ok {
				tag = v.Str()
			}
			for _, lr := range sl.LogRecords().All() {
				out = append(out, fmt.Sprintf("%s %s %s %s %s %v %s@%s", svc.Str(), rl.SchemaUrl(), sl.Scope().Name(), tag,
					lr.Body().Str(), lr.Attributes().AsRaw(), sl.Scope().Version(), sl.SchemaUrl()))
			}
		}
	}
	return out
}

// byTag is kept(ld) split by source scope and tag, each part in order
// (records of one tag from different scopes may come in any order).
func byTag(ld plog.Logs) map[string][]string {
	out := map[string][]string{}
	for _, rec := range kept(ld) {
		f := strings.Fields(rec)
		key := f[0] + " " + f[2] + " " + f[3]
		out[key] = append(out[key], rec)
	}
	return out
}

// Whatever is kept, and however (copied, or in place; tagged or implied):
// every kept record comes out once, with its resource, scope, attributes
// and tag, in order among the records of its scope and tag, and nothing
// else does; a copying walk leaves its source as it was.
func TestEveryWalkHoldsExactlyTheKeptRecords(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for range 500 {
		src := randomSource(rng)
		tags := randomTags(rng, src)
		want := map[string][]string{}
		for _, rec := range kept(src) {
			f := strings.Fields(rec) // the source's own tag is no record's
			if tag, ok := tags[f[4]]; ok {
				f[3] = tag
				key := f[0] + " " + f[2] + " " + tag
				want[key] = append(want[key], strings.Join(f, " "))
			}
		}
		for _, tagged := range []bool{false, true} {
			before := marshal(t, src)
			var k walker = NewKept(src, "dest", "d")
			if tagged {
				k = NewKeptTagged("dest")
			}
			copied := walk(k, src, tags)
			require.Equal(t, want, byTag(copied), "seed %d tagged %v", seed, tagged)
			require.Equal(t, before, marshal(t, src), "seed %d: a copying walk never modifies its source", seed)

			owned := plog.NewLogs()
			src.CopyTo(owned)
			inPlace := walk(NewInPlace(owned, "dest", "d", tagged), owned, tags)
			require.True(t, same(inPlace, owned), "seed %d: in place", seed)
			require.Equal(t, want, byTag(inPlace), "seed %d tagged %v", seed, tagged)
			for _, rl := range inPlace.ResourceLogs().All() {
				require.NotZero(t, rl.ScopeLogs().Len(), "seed %d: no resource left empty", seed)
				parts := map[string]bool{} // a scope's records of one tag stay in one scope
				for _, sl := range rl.ScopeLogs().All() {
					part := sl.Scope().Name() + " d"
					if tag, ok := sl.Scope().Attributes().Get("dest"); ok {
						part = sl.Scope().Name() + " " + tag.Str()
					}
					require.False(t, parts[part], "seed %d: %s split in two", seed, part)
					parts[part] = true
					require.NotZero(t, sl.LogRecords().Len(), "seed %d: no scope left empty", seed)
					_, hasTag := sl.Scope().Attributes().Get("dest")
					require.True(t, hasTag || !tagged, "seed %d: every scope tagged when asked", seed)
				}
			}
		}
	}
}

// In place, a kept record is not copied: it is the very record of the
// source, and nothing but a split scope allocates a new one.
func TestInPlaceKeepsTheSourcesOwnRecords(t *testing.T) {
	src := source()
	db := src.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	first := db.At(0)
	tags := map[string]string{"checkout/db/1": "x", "checkout/db/2": "y", "checkout/http/2": "d", "payments/db/2": "d"}
	out := walk(NewInPlace(src, "dest", "d", false), src, tags)
	assert.Equal(t, []string{"checkout db x: checkout/db/1", "checkout http -: checkout/http/2", "checkout db y: checkout/db/2",
		"payments db -: payments/db/2"}, scopes(out))
	assert.Equal(t, first, out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0), "the same record, not a copy")
}

// In place, a scope of which few records are kept does not keep holding
// the slots of the others: 20 batches of 50,000 records, one or two kept in
// each, hold little memory once reduced (each array of slots alone is
// 400 KB), whether the scope keeps one tag or is split between two.
func TestInPlaceLeavesNoLargeArrayBehindAFewKeptRecords(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for _, tags := range [][]string{{"d"}, {"d", "x"}} {
		batches := make([]plog.Logs, 20)
		start := heap()
		for n := range batches {
			src := plog.NewLogs()
			records := src.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
			for range 50_000 {
				records.AppendEmpty()
			}
			k := NewInPlace(src, "dest", "d", false)
			k.Scope(src.ResourceLogs().At(0), src.ResourceLogs().At(0).ScopeLogs().At(0))
			for j, tag := range tags {
				records.At(7 + j).Body().SetStr("kept")
				k.Keep(7+j, records.At(7+j), tag)
			}
			batches[n] = k.Logs()
		}
		held := max(heap(), start) - start
		for _, b := range batches {
			require.Equal(t, len(tags), b.LogRecordCount())
			require.Equal(t, "kept", b.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
		}
		assert.Less(t, held, uint64(2<<20), "tags %v: 20 reduced batches hold %d bytes", tags, held)
		runtime.KeepAlive(batches)
	}
}

// In place, a scope kept whole costs nothing per record: the walk notes a
// run, not each record.
func TestInPlaceNotesAScopeKeptWholeAsARun(t *testing.T) {
	src := plog.NewLogs()
	rl := src.ResourceLogs().AppendEmpty()
	sl := rl.ScopeLogs().AppendEmpty()
	for range 1_000 {
		sl.LogRecords().AppendEmpty()
	}
	allocs := testing.AllocsPerRun(10, func() {
		k := NewInPlace(src, "dest", "d", false)
		k.Scope(rl, sl)
		for i, lr := range sl.LogRecords().All() {
			k.Keep(i, lr, "d")
		}
		require.Equal(t, 1_000, k.Logs().LogRecordCount())
	})
	assert.LessOrEqual(t, allocs, 3.0, "a constant per walk, none per record")
}
