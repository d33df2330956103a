package render

// FuzzMessages (issue #4, scenario 8): whatever a log record holds — invalid
// UTF-8, control characters, Slack markup, backticks, bytes, maps, slices,
// deep nesting, 10 MB strings, any severity — grouping and rendering it
// never panic, every message stays within every Slack limit, nothing a
// record holds becomes a mention or a link, and every record is accounted
// for. The seeds below and the corpus in testdata/fuzz/FuzzMessages run in
// every `go test`; `make reliability` also fuzzes for a minute:
//
//	go test -run '^$' -fuzz=FuzzMessages -fuzztime=60s -fuzzminimizetime=5s ./internal/render

import (
	"encoding/json"
	"flag"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/group"
)

// hostile is every piece of Slack markup and formatting a record could try.
const hostile = "<!channel> <!here> <!everyone> <!subteam^S1|team> <@U123> <@W9|bob> <#C1|general> " +
	"<https://evil.example|click> <mailto:a@b.c> <!date^1392734382^{date}|x> &amp; &lt; & &#60; ``` ` *b* _i_ ~s~ > quote"

// fuzzBodyKinds are the shapes a record's body takes, chosen by kind.
const fuzzBodyKinds = 7

func FuzzMessages(f *testing.F) {
	// body, raw, key, value, service, kind, depth, size, records, maxMessages, severity
	f.Add("payment failed", []byte("x"), "order_id", "o-1", "checkout", uint8(0), uint8(0), uint8(0), uint8(1), uint8(1), int8(17))
	f.Add(hostile, []byte(hostile), "<@U1>", "<!here>", "<!channel>", uint8(0), uint8(0), uint8(0), uint8(3), uint8(1), int8(21))
	f.Add("\xff\xfe\x00\x01\x1b[31mred\x7f\u2028\u202e", []byte{0xff, 0, 0x80}, "\x00", "\xc3\x28", "\xed\xa0\x80", uint8(0), uint8(0), uint8(0), uint8(2), uint8(2), int8(9))
	// The same, grown past the section's size: escaped, each control
	// character takes 4 characters, and the cut must count them so.
	f.Add("\xff\xfe\x00\x01\x1b[31mred\x7f\u2028\u202e", []byte{0xff, 0, 0x80}, "\x00", "\xc3\x28", "\xed\xa0\x80", uint8(0), uint8(0), uint8(200), uint8(2), uint8(2), int8(9))
	f.Add("``````", []byte("```"), "`", "```", "``", uint8(0), uint8(0), uint8(0), uint8(5), uint8(1), int8(17))
	f.Add("&&&<<<>>>", []byte("&<>"), "&", "&lt;", "&amp;", uint8(1), uint8(0), uint8(0), uint8(1), uint8(1), int8(17))
	f.Add("nested", []byte("m"), "k", "<!everyone>", "svc", uint8(2), uint8(0), uint8(0), uint8(1), uint8(1), int8(17))
	f.Add("list", []byte{1, 2, 3}, "k", "v", "svc", uint8(3), uint8(0), uint8(0), uint8(1), uint8(1), int8(17))
	f.Add("deep", []byte("d"), "k", "<@U1>", "svc", uint8(4), uint8(255), uint8(0), uint8(1), uint8(1), int8(17))
	f.Add("no body, an exception <!here>", []byte{}, "exception.type", "java.lang.<!channel>", "svc", uint8(5), uint8(0), uint8(0), uint8(2), uint8(1), int8(17))
	f.Add("", []byte{}, "", "", "", uint8(6), uint8(0), uint8(0), uint8(1), uint8(0), int8(0))
	f.Add("a very long body <!channel> ", []byte("y"), "k", "v", "svc", uint8(0), uint8(0), uint8(255), uint8(2), uint8(1), int8(17))
	f.Add("<&>", []byte("<&>"), "k", "<&>", "svc", uint8(0), uint8(0), uint8(200), uint8(3), uint8(2), int8(-5))
	f.Add("many records", []byte("r"), "k", "v", "svc", uint8(0), uint8(0), uint8(0), uint8(200), uint8(2), int8(24))
	f.Add("many records, all the same", []byte("r"), "k", "v", "svc", uint8(0), uint8(1), uint8(100), uint8(79), uint8(0), int8(127))

	f.Fuzz(func(t *testing.T, body string, raw []byte, key, value, service string, kind, depth, size, records, maxMessages uint8, severity int8) {
		body, value = grow(body, size), grow(value, valueSize(size))
		n := 1 + int(records)%80
		if len(body) > 1<<20 {
			n = min(n, 3) // 10 MB strings: a few records, not 80
		}
		ld := fuzzLogs(body, raw, key, value, service, kind, int(depth), n, plog.SeverityNumber(severity))

		g := group.New(group.Options{Mask: true, Hidden: "slack.destination"})
		pos := 0
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					g.Add(rl.Resource(), lr, lr.SeverityNumber(), pos)
					pos++
				}
			}
		}
		entries := g.Entries()
		msgs := Messages(entries, int(maxMessages)%5)
		require.NotEmpty(t, msgs)
		total := 0
		for _, m := range msgs {
			requireSafeMessage(t, m)
			total += m.Records()
		}
		require.Equal(t, n, total, "every record is in some message, shown or folded")

		// A live message, updated with counts far larger and a quiet
		// note, still fits: updates must not break what the post met. The
		// room each entry kept for that growth (liveReserve) is enough:
		// a text the post showed whole is shown whole again.
		for _, m := range msgs {
			live := make([]*group.Entry, len(m.Entries))
			for i, e := range m.Entries {
				c := *e
				c.Count = e.Count * 1_000_003
				c.QuietSince = time.Date(2026, 11, 27, 23, 59, 0, 0, time.UTC)
				live[i] = &c
			}
			lm := Live(live, m.FoldedRecords()*1_000_003, len(m.Folded))
			requireSafeMessage(t, lm)
			requireClicksFit(t, m.Entries)
			posted, updated := entryTexts(m), entryTexts(lm)
			require.Len(t, updated, len(posted))
			for i, text := range posted {
				if !strings.Contains(text, "more characters)") {
					require.Equal(t, text, updated[i], "entry %d: the update cut a text the post showed whole", i)
				}
			}
		}
	})
}

// valueSize is the size class of attribute values: 254 → about 10 MB,
// 100 to 199 → about 64 KiB.
func valueSize(size uint8) uint8 {
	switch {
	case size == 254:
		return 255
	case size >= 100 && size < 200:
		return 200
	}
	return 0
}

// grow makes s large when size asks for it: 255 → about 10 MB, 200 to
// 254 → about 64 KiB. Otherwise s is used as the fuzzer gave it.
//
// Inside a fuzzing worker the 10 MB class is 256 KiB: with coverage
// instrumentation one 10 MB input keeps a worker busy for tens of seconds
// and the fuzzer stalls. The 10 MB seeds run, uninstrumented, in every
// `go test`.
func grow(s string, size uint8) string {
	if s == "" {
		s = "<!here>&"
	}
	big := 10 << 20
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		big = 256 << 10
	}
	switch {
	case size == 255:
		return strings.Repeat(s, big/len(s)+1)
	case size >= 200:
		return strings.Repeat(s, (64<<10)/len(s)+1)
	}
	return s
}

// fuzzLogs builds n records of one shape. A third of them share a body
// exactly (they collapse into one entry); the others differ by a word.
func fuzzLogs(body string, raw []byte, key, value, service string, kind uint8, depth, n int, severity plog.SeverityNumber) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	res := rl.Resource().Attributes()
	res.PutStr("service.name", service)
	res.PutStr("deployment.environment", value)
	res.PutStr("host.name", key)
	res.PutEmptyBytes("k8s.pod.name").FromRaw(raw)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(value)
	for i := range n {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetSeverityNumber(severity)
		lr.SetSeverityText(value)
		lr.SetTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000 + int64(i)*int64(time.Millisecond)))
		b := body
		if i%3 != 0 {
			b = body + " " + fuzzWord(i)
		}
		setBody(lr, kind, b, raw, key, value, depth)
		attrs := lr.Attributes()
		attrs.PutStr(key, value)
		attrs.PutEmptyBytes(key + ".bytes").FromRaw(raw)
		m := attrs.PutEmptyMap(key + ".map")
		m.PutStr(value, fuzzWord(i))
		m.PutEmptySlice("list").AppendEmpty().SetStr(value)
		if i == 0 {
			attrs.PutStr(key+".body", b)
		}
		attrs.PutStr("exception.type", value)
		attrs.PutStr("slack.destination", "channel:<!here>")
		if len(raw) >= 16 {
			var tid pcommon.TraceID
			var sid pcommon.SpanID
			copy(tid[:], raw)
			copy(sid[:], raw[8:])
			lr.SetTraceID(tid)
			lr.SetSpanID(sid)
		}
	}
	return ld
}

func setBody(lr plog.LogRecord, kind uint8, body string, raw []byte, key, value string, depth int) {
	switch kind % fuzzBodyKinds {
	case 0:
		lr.Body().SetStr(body)
	case 1:
		lr.Body().SetEmptyBytes().FromRaw(append([]byte(body), raw...))
	case 2:
		m := lr.Body().SetEmptyMap()
		m.PutStr(key, body)
		m.PutEmptyBytes("raw").FromRaw(raw)
		m.PutEmptyMap(value).PutStr("msg", body)
	case 3:
		s := lr.Body().SetEmptySlice()
		s.AppendEmpty().SetStr(body)
		s.AppendEmpty().SetEmptyBytes().FromRaw(raw)
		s.AppendEmpty().SetInt(-1 << 63)
		s.AppendEmpty().SetDouble(1e308)
		s.AppendEmpty().SetBool(true)
		s.AppendEmpty().SetEmptyMap().PutStr(key, value)
	case 4:
		// Nested maps and slices, up to 255 levels.
		v := lr.Body()
		for d := range depth {
			if d%2 == 0 {
				m := v.SetEmptyMap()
				m.PutStr(key, fuzzWord(d))
				v = m.PutEmpty(key + "<!here>")
			} else {
				v = v.SetEmptySlice().AppendEmpty()
			}
		}
		v.SetStr(body)
	case 5:
		// No body: the exception's message stands in for it.
		lr.Attributes().PutStr("exception.message", body)
	case 6:
		switch len(body) % 3 {
		case 0:
			lr.Body().SetInt(int64(len(body)))
		case 1:
			lr.Body().SetDouble(float64(len(body)) / 3)
		default:
			lr.Body().SetBool(true)
		}
	}
}

// fuzzWord is a word with no digit, so masking does not merge the records.
func fuzzWord(i int) string {
	return string([]byte{byte('g' + i%20), byte('g' + i/20%20), byte('g' + i/400%20)})
}

// entryTexts are the texts of a message's entry sections, below their
// title lines (which show the counts).
func entryTexts(m Message) []string {
	var out []string
	for _, b := range m.Blocks {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil && strings.HasPrefix(s.Text.Text, "*") {
			_, text, _ := strings.Cut(s.Text.Text, "\n")
			out = append(out, text)
		}
	}
	return out
}

// requireSafeMessage is everything a message must be, whatever the input:
// within every Slack limit, no raw markup outside plain_text, every '&'
// starting one of Slack's three entities, valid JSON.
func requireSafeMessage(t *testing.T, m Message) {
	t.Helper()
	requireWithinLimits(t, m)
	requireNoMarkup(t, m)
	for _, s := range texts(m) {
		if isHeader(m, s) {
			continue
		}
		for i := strings.IndexByte(s, '&'); i >= 0; {
			rest := s[i:]
			require.True(t, strings.HasPrefix(rest, "&amp;") || strings.HasPrefix(rest, "&lt;") || strings.HasPrefix(rest, "&gt;"),
				"a bare '&' in %q", clipForMessage(s, i))
			next := strings.IndexByte(rest[1:], '&')
			if next < 0 {
				break
			}
			i += next + 1
		}
	}
	raw, err := json.Marshal(slack.Blocks{BlockSet: m.Blocks})
	require.NoError(t, err)
	require.True(t, utf8.Valid(raw))
}

func clipForMessage(s string, i int) string {
	from, to := max(0, i-40), min(len(s), i+40)
	return s[from:to]
}

// requireClicksFit: with interactivity, a message posted with nothing
// muted still fits once every entry shows the longest status a click can
// give it, the Unmute option, and a far larger count.
func requireClicksFit(t *testing.T, entries []*group.Entry) {
	t.Helper()
	quiet := &Layout{Actions: &Actions{MuteDurations: []time.Duration{time.Minute, time.Hour, 8760 * time.Hour}}}
	pm := quiet.Messages(entries, 1)
	require.Len(t, pm, 1)
	requireWithinLimits(t, pm[0])
	busy := &Layout{Actions: &Actions{MuteDurations: quiet.Actions.MuteDurations, State: func(string) EntryState {
		return EntryState{MutedBy: "W" + strings.Repeat("Z", 20), MutedUntil: time.Date(2027, 12, 31, 23, 59, 0, 0, time.UTC), AckedBy: "U" + strings.Repeat("Z", 20)}
	}}}
	live := make([]*group.Entry, len(pm[0].Entries))
	for i, e := range pm[0].Entries {
		c := *e
		c.Count = e.Count * 1_000_003
		c.QuietSince = time.Date(2026, 11, 27, 23, 59, 0, 0, time.UTC)
		live[i] = &c
	}
	lm := busy.Live(live, pm[0].FoldedRecords()*1_000_003, len(pm[0].Folded))
	requireWithinLimits(t, lm)
	posts, updates := entryTexts(pm[0]), entryTexts(lm)
	for i, text := range posts {
		if !strings.Contains(text, "more characters)") {
			require.Equal(t, text, updates[i], "entry %d: a click cut a text the post showed whole", i)
		}
	}
}
