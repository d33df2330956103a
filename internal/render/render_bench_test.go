package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/group"
)

// benchWords names the benchmark's groups with letters only, so masking
// (which hides digits) keeps them apart.
var benchWords = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett"}

// benchRecords is perGroup records for each of 50 groups of one service,
// each with a long body (a message and a 40-line stack trace, about 2,500
// characters) and five attributes: what a push holds in a storm.
func benchRecords(perGroup int) (pcommon.Resource, plog.LogRecordSlice) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	res := rl.Resource()
	res.Attributes().PutStr("service.name", "checkout")
	res.Attributes().PutStr("deployment.environment", "prod")
	res.Attributes().PutStr("host.name", "checkout-7f9c6d-x2k4p")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	var trace strings.Builder
	for i := range 40 {
		trace.WriteString("\n\tat com.example.checkout.PaymentService.charge(PaymentService.java:")
		trace.WriteString(strings.Repeat("1", 1+i%3))
		trace.WriteString(")")
	}
	at := pcommon.NewTimestampFromTime(time.Date(2026, 11, 27, 14, 2, 3, 0, time.UTC))
	for r := range perGroup {
		for g := range 50 {
			lr := lrs.AppendEmpty()
			lr.SetTimestamp(at + pcommon.Timestamp(r)*pcommon.Timestamp(time.Millisecond))
			lr.SetSeverityNumber(plog.SeverityNumberError)
			lr.Body().SetStr("payment " + benchWords[g%10] + " " + benchWords[g/10] +
				` failed for order ord-1234: upstream "acme-pay" answered 502 <html>Bad Gateway</html>` + trace.String())
			lr.Attributes().PutStr("order_id", "ord-1234")
			lr.Attributes().PutInt("http.status_code", 502)
			lr.Attributes().PutStr("http.route", "/api/checkout/{id}")
			lr.Attributes().PutStr("exception.type", "PaymentException")
			lr.Attributes().PutStr("provider", "acme-pay")
		}
	}
	return res, lrs
}

// benchmarkMessage groups the records and renders them into one message,
// as a push does, and reports records/op; with encode it also marshals
// the blocks to the JSON that is posted.
func benchmarkMessage(b *testing.B, perGroup int, encode bool) {
	res, lrs := benchRecords(perGroup)
	build := func() Message {
		g := group.New(group.Options{Mask: true})
		for i, lr := range lrs.All() {
			g.Add(res, lr, lr.SeverityNumber(), i)
		}
		ms := Messages(g.Entries(), 1)
		if len(ms) != 1 {
			b.Fatalf("%d messages, want 1", len(ms))
		}
		if encode {
			if _, err := json.Marshal(ms[0].Blocks); err != nil {
				b.Fatal(err)
			}
		}
		return ms[0]
	}
	m := build()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		build()
	}
	b.ReportMetric(float64(lrs.Len()), "records/op")
	b.ReportMetric(float64(len(m.Entries)), "shown/op")
}

// BenchmarkFullMessage: 50 groups of one record each, long bodies, into one
// message (what does not fit Slack's size budget is folded into its count).
func BenchmarkFullMessage(b *testing.B) { benchmarkMessage(b, 1, false) }

// BenchmarkFullMessageJSON: the same, plus the blocks' JSON encoding.
func BenchmarkFullMessageJSON(b *testing.B) { benchmarkMessage(b, 1, true) }

// BenchmarkFullMessageStorm: 1,000 records in the same 50 groups.
func BenchmarkFullMessageStorm(b *testing.B) { benchmarkMessage(b, 20, false) }
