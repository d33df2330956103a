package logcopy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// source holds two resources of two scopes each, with two records per
// scope named resource/scope/record.
func source() plog.Logs {
	ld := plog.NewLogs()
	for _, res := range []string{"checkout", "payments"} {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", res)
		rl.SetSchemaUrl("https://example.com/" + res)
		for _, scope := range []string{"db", "http"} {
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(scope)
			for _, rec := range []string{"1", "2"} {
				sl.LogRecords().AppendEmpty().Body().SetStr(res + "/" + scope + "/" + rec)
			}
		}
	}
	return ld
}

// shape lists each resource's service, its scopes and their records' bodies.
func shape(t *testing.T, ld plog.Logs) map[string]map[string][]string {
	t.Helper()
	out := map[string]map[string][]string{}
	for _, rl := range ld.ResourceLogs().All() {
		svc, _ := rl.Resource().Attributes().Get("service.name")
		require.NotContains(t, out, svc.Str(), "resource %s copied more than once", svc.Str())
		scopes := map[string][]string{}
		for _, sl := range rl.ScopeLogs().All() {
			require.NotContains(t, scopes, sl.Scope().Name(), "scope %s copied more than once", sl.Scope().Name())
			for _, lr := range sl.LogRecords().All() {
				scopes[sl.Scope().Name()] = append(scopes[sl.Scope().Name()], lr.Body().Str())
			}
		}
		out[svc.Str()] = scopes
	}
	return out
}

func TestEachResourceAndScopeIsCopiedOnceWithTheChosenRecords(t *testing.T) {
	src := source()
	chosen := map[string]bool{
		"checkout/db/1": true, "checkout/db/2": true, "checkout/http/2": true,
		"payments/http/1": true,
	}
	b := New()
	for _, rl := range src.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if chosen[lr.Body().Str()] {
					b.Append(rl, sl, lr).Attributes().PutStr("tag", "copied")
				}
			}
		}
	}
	out := b.Logs()
	assert.Equal(t, map[string]map[string][]string{
		"checkout": {"db": {"checkout/db/1", "checkout/db/2"}, "http": {"checkout/http/2"}},
		"payments": {"http": {"payments/http/1"}},
	}, shape(t, out))
	assert.Equal(t, "https://example.com/payments", out.ResourceLogs().At(1).SchemaUrl())
	assert.Equal(t, 4, out.LogRecordCount())
	for _, rl := range src.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				_, tagged := lr.Attributes().Get("tag")
				assert.False(t, tagged, "the source is never modified")
			}
		}
	}
}

func TestNothingAppendedIsEmpty(t *testing.T) {
	assert.Equal(t, 0, New().Logs().ResourceLogs().Len())
}

// Records of one scope bound for different destinations go to different
// copies of it, each tagged once; an untagged builder adds no attribute.
func TestTaggedCopiesSplitAScopeByTagAndTagItOnce(t *testing.T) {
	src := source()
	tags := map[string]string{"checkout/db/1": "a", "checkout/db/2": "b", "checkout/http/1": "b", "payments/db/2": "a"}
	tagged, plain := NewTagged("dest"), New()
	for _, rl := range src.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if tag, ok := tags[lr.Body().Str()]; ok {
					tagged.AppendTagged(rl, sl, lr, tag)
					plain.Append(rl, sl, lr)
				}
			}
		}
	}
	var got []string
	for _, rl := range tagged.Logs().ResourceLogs().All() {
		svc, _ := rl.Resource().Attributes().Get("service.name")
		for _, sl := range rl.ScopeLogs().All() {
			dest, ok := sl.Scope().Attributes().Get("dest")
			require.True(t, ok, "every copied scope carries its tag")
			assert.Equal(t, 1, sl.Scope().Attributes().Len())
			var bodies []string
			for _, lr := range sl.LogRecords().All() {
				bodies = append(bodies, lr.Body().Str())
				assert.Equal(t, 0, lr.Attributes().Len(), "the tag is on the scope, not on each record")
			}
			got = append(got, svc.Str()+" "+sl.Scope().Name()+" "+dest.Str()+": "+strings.Join(bodies, ","))
		}
	}
	assert.Equal(t, []string{
		"checkout db a: checkout/db/1",
		"checkout db b: checkout/db/2",
		"checkout http b: checkout/http/1",
		"payments db a: payments/db/2",
	}, got)
	assert.Equal(t, 2, tagged.Logs().ResourceLogs().Len(), "each resource is copied once")

	for _, rl := range plain.Logs().ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			assert.Equal(t, 0, sl.Scope().Attributes().Len(), "an untagged copy adds nothing")
		}
	}
	assert.Equal(t, map[string]map[string][]string{
		"checkout": {"db": {"checkout/db/1", "checkout/db/2"}, "http": {"checkout/http/1"}},
		"payments": {"db": {"payments/db/2"}},
	}, shape(t, plain.Logs()))
}

// A moving Builder gives what a copying one gives, and leaves each record
// and scope it took empty in the source; resources it copies.
func TestAMovingBuilderGivesWhatACopyingOneGives(t *testing.T) {
	chosen := map[string]string{"checkout/db/1": "a", "checkout/db/2": "b", "payments/http/1": "a", "payments/http/2": "a"}
	build := func(b *Builder, src plog.Logs) plog.Logs {
		for _, rl := range src.ResourceLogs().All() {
			for n, sl := range rl.ScopeLogs().All() {
				if n == 1 && rl.Resource().Attributes().AsRaw()["service.name"] == "payments" {
					b.AppendScope(rl, sl, "whole")
					continue
				}
				for _, lr := range sl.LogRecords().All() {
					if tag, ok := chosen[lr.Body().Str()]; ok {
						b.AppendTagged(rl, sl, lr, tag)
					}
				}
			}
		}
		return b.Logs()
	}
	src := source()
	copied := build(NewTagged("dest"), src)
	moved := build(NewTagged("dest").Moving(), src)
	assert.Equal(t, marshal(t, copied), marshal(t, moved))
	assert.Equal(t, map[string]map[string][]string{
		"checkout": {"db": {"", ""}, "http": {"checkout/http/1", "checkout/http/2"}},
		"payments": {"db": {"payments/db/1", "payments/db/2"}},
	}, shape(t, src), "the records taken are empty in the source, the scope taken whole has none left")
	assert.Equal(t, "checkout", src.ResourceLogs().At(0).Resource().Attributes().AsRaw()["service.name"], "resources are copied")
}
