package logcopy

import (
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
