package render

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/group"
)

var t0 = time.Date(2026, 11, 27, 14, 2, 3, 123e6, time.UTC)

func entry(service, body string, count int) *group.Entry {
	e := &group.Entry{
		Severity: plog.SeverityNumberError, Service: service, Body: body, Count: count,
		First: t0, Last: t0, Records: make([]int, count),
	}
	if count > 1 {
		e.Last = t0.Add(6 * time.Second)
	}
	return e
}

// texts returns every text a message shows, blocks and fallback.
func texts(m Message) []string {
	out := []string{m.Text}
	for _, b := range m.Blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			out = append(out, b.Text.Text)
		case *slack.SectionBlock:
			out = append(out, b.Text.Text)
			for _, f := range b.Fields {
				out = append(out, f.Text)
			}
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				out = append(out, e.(*slack.TextBlockObject).Text)
			}
		}
	}
	return out
}

// requireWithinLimits checks every Slack limit DESIGN.md lists.
func requireWithinLimits(t testing.TB, m Message) {
	t.Helper()
	require.LessOrEqual(t, len(m.Blocks), maxBlocks)
	require.LessOrEqual(t, utf8.RuneCountInString(m.Text), maxFallbackText)
	require.True(t, utf8.ValidString(m.Text))
	raw, err := json.Marshal(m.Blocks)
	require.NoError(t, err)
	require.LessOrEqual(t, utf8.RuneCount(raw), maxBlocksJSON, "all blocks together")
	for _, b := range m.Blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			require.Equal(t, slack.PlainTextType, b.Text.Type)
			require.LessOrEqual(t, utf8.RuneCountInString(b.Text.Text), maxHeaderText)
		case *slack.SectionBlock:
			require.LessOrEqual(t, utf8.RuneCountInString(b.Text.Text), maxSectionText)
			if b.Accessory != nil {
				menu := b.Accessory.OverflowElement
				require.NotNil(t, menu, "an entry's only accessory is its menu")
				require.LessOrEqual(t, len(menu.Options), 5, "an overflow menu holds 5 options")
				for _, o := range menu.Options {
					require.LessOrEqual(t, utf8.RuneCountInString(o.Text.Text), 75)
					require.LessOrEqual(t, len(o.Value), 150)
				}
			}
			if mention, err := NormalizeMention(b.Text.Text); err != nil || mention != b.Text.Text {
				require.True(t, b.Text.Verbatim, "no auto-linking of log text")
			}
			require.True(t, utf8.ValidString(b.Text.Text))
		case *slack.ContextBlock:
			require.LessOrEqual(t, len(b.ContextElements.Elements), 10)
			for _, e := range b.ContextElements.Elements {
				txt := e.(*slack.TextBlockObject)
				require.LessOrEqual(t, utf8.RuneCountInString(txt.Text), maxContextElement)
				require.True(t, txt.Verbatim)
			}
		default:
			t.Fatalf("unexpected block %T", b)
		}
	}
}

func isHeader(m Message, s string) bool {
	h, ok := m.Blocks[0].(*slack.HeaderBlock)
	return ok && h.Text.Text == s
}

// requireNoMarkup checks that no text holds a raw '<' or '>': without them
// Slack can form no mention, channel link, URL link or date.
func requireNoMarkup(t testing.TB, m Message) {
	t.Helper()
	for _, s := range texts(m) {
		if isHeader(m, s) {
			continue // plain_text: shown literally, never parsed
		}
		require.NotContains(t, s, "<")
		require.NotContains(t, s, ">")
	}
}

func TestHostileTextIsEscaped(t *testing.T) {
	body := "<!channel> <!here> <!everyone> <@U123> <!subteam^S1> <#C1|general> <https://evil.example|click> & \x1b[31m\xff"
	e := entry("<!here>-svc", body, 1)
	e.Attributes = []group.Attr{{Key: "<@U9>", Value: "<!channel>"}}
	e.Resource = []group.Attr{{Key: "deployment.environment", Value: "<!everyone>"}}
	msgs := Messages([]*group.Entry{e}, 1)
	require.Len(t, msgs, 1)
	requireWithinLimits(t, msgs[0])
	requireNoMarkup(t, msgs[0])
	section := msgs[0].Blocks[1].(*slack.SectionBlock).Text.Text
	assert.Contains(t, section, "&lt;!channel&gt; &lt;!here&gt;")
	assert.Contains(t, section, "&lt;@U123&gt;")
	assert.Contains(t, section, "&amp; \\x1b[31m\\xff", "control characters and invalid bytes become visible escapes")
	// The header is plain_text: shown literally, so it needs no escaping.
	assert.Contains(t, msgs[0].Blocks[0].(*slack.HeaderBlock).Text.Text, "<!here>-svc")
}

func TestLongBodyIsCutWithAMarker(t *testing.T) {
	body := strings.Repeat("a", 10<<20)
	msgs := Messages([]*group.Entry{entry("svc", body, 1)}, 1)
	require.Len(t, msgs, 1)
	requireWithinLimits(t, msgs[0])
	section := msgs[0].Blocks[1].(*slack.SectionBlock).Text.Text
	before, _, found := strings.Cut(section, "…")
	require.True(t, found, "the section ends with the marker")
	kept := strings.Count(before, "a")
	assert.Contains(t, section, fmt.Sprintf("…(%d more characters)", 10<<20-kept))
	assert.Greater(t, kept, 2500, "the body gets most of the section")
}

func TestCutNeverSplitsAnEntity(t *testing.T) {
	for n := 2990; n < 3010; n++ {
		got := fit(strings.Repeat("&", n), 2000)
		cut := got[:strings.LastIndex(got, "…")]
		assert.Empty(t, strings.ReplaceAll(cut, "&amp;", ""), "only whole entities before the marker")
		assert.LessOrEqual(t, utf8.RuneCountInString(got), 2000)
		assert.Contains(t, got, fmt.Sprintf("…(%d more characters)", n-strings.Count(cut, "&amp;")))
	}
}

func TestCodeFenceInBodyCannotCloseTheBlock(t *testing.T) {
	msgs := Messages([]*group.Entry{entry("svc", "before ``` *bold* after", 1)}, 1)
	section := msgs[0].Blocks[1].(*slack.SectionBlock).Text.Text
	inner := strings.TrimSuffix(section[strings.Index(section, "```")+3:], "```")
	assert.NotContains(t, inner, "```")
}

func TestSingleRecordAndCollapsedEntries(t *testing.T) {
	one := Messages([]*group.Entry{entry("checkout", "payment failed", 1)}, 1)[0]
	assert.Equal(t, "🔴 ERROR in checkout", one.Blocks[0].(*slack.HeaderBlock).Text.Text)
	assert.Equal(t, "🔴 ERROR · checkout: payment failed", one.Text)
	assert.Equal(t, "*ERROR* · checkout\n```payment failed```", one.Blocks[1].(*slack.SectionBlock).Text.Text, "no count for a single record")
	assert.Len(t, one.Blocks, 3, "header, section, context: no fold line when nothing is folded")
	assert.Contains(t, texts(one), "2026-11-27 14:02:03.123 UTC")

	many := Messages([]*group.Entry{entry("checkout", "payment failed", 37), entry("payments", "card declined", 2)}, 1)[0]
	assert.Equal(t, "🔴 39 error records from checkout, payments", many.Blocks[0].(*slack.HeaderBlock).Text.Text)
	assert.Equal(t, "🔴 ERROR · checkout: payment failed (×37) +2 more records in 1 groups", many.Text)
	section := many.Blocks[1].(*slack.SectionBlock).Text.Text
	assert.True(t, strings.HasPrefix(section, "*ERROR* · checkout · ×37\n```payment failed```"), section)
	assert.Contains(t, texts(many), "first 2026-11-27 14:02:03.123 · last 14:02:09.123 UTC")
	assert.Equal(t, 39, many.Records())

	fatal := entry("checkout", "out of memory", 1)
	fatal.Severity = plog.SeverityNumberFatal
	mixed := Messages([]*group.Entry{entry("checkout", "payment failed", 2), fatal}, 1)[0]
	assert.Equal(t, "💥 3 records from checkout", mixed.Blocks[0].(*slack.HeaderBlock).Text.Text, "the count covers both severities")
}

func TestContextShowsResourceAttributesAndTrace(t *testing.T) {
	e := entry("checkout", "boom", 1)
	e.Resource = []group.Attr{{Key: "service.name", Value: "checkout"}, {Key: "deployment.environment", Value: "prod"}}
	e.Attributes = []group.Attr{{Key: "order_id", Value: "42"}, {Key: "http.status", Value: "500"}}
	e.TraceID, e.SpanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	all := strings.Join(texts(Messages([]*group.Entry{e}, 1)[0]), "\n")
	assert.Contains(t, all, "deployment.environment: prod")
	assert.Contains(t, all, "order_id=42 · http.status=500")
	assert.Contains(t, all, "trace_id 4bf92f3577b34da6a3ce929d0e0e4736 · span_id 00f067aa0ba902b7")
}

func TestManyEntriesSplitOnlyAtLimits(t *testing.T) {
	var entries []*group.Entry
	total := 0
	for i := 0; i < 300; i++ {
		e := entry(fmt.Sprintf("svc-%d", i%7), fmt.Sprintf("error %d: %s", i, strings.Repeat("<&>", 200)), i%5+1)
		e.Attributes = []group.Attr{{Key: "k", Value: strings.Repeat("v", 500)}}
		entries = append(entries, e)
		total += e.Count
	}
	msgs := Messages(entries, len(entries))
	require.Greater(t, len(msgs), 1)
	seen, records := 0, 0
	for i, m := range msgs {
		requireWithinLimits(t, m)
		requireNoMarkup(t, m)
		for _, e := range m.Entries {
			assert.Same(t, entries[seen], e, "entries keep their order and appear once")
			seen++
		}
		records += m.Records()
		if i < len(msgs)-1 {
			// A message was closed only because the next entry would not
			// fit beside its entries and the frame kept for the header and
			// the fold line.
			frameBlocks, frameSize := defaultLayout.frame()
			next := defaultLayout.entryBlocks(msgs[i+1].Entries[0])
			blocks, used := 0, 0
			for _, e := range m.Entries {
				blocks += len(defaultLayout.entryBlocks(e))
				used += jsonSize(defaultLayout.entryBlocks(e)) + liveReserve
			}
			closedByBlocks := blocks+len(next)+frameBlocks > maxBlocks
			closedBySize := used+jsonSize(next)+liveReserve > maxBlocksJSON-frameSize
			assert.True(t, closedByBlocks || closedBySize, "message %d was split early", i)
		}
	}
	assert.Equal(t, len(entries), seen)
	assert.Equal(t, total, records)
}

func TestNoEntriesNoMessages(t *testing.T) {
	assert.Empty(t, Messages(nil, 1))
}

// A page closes only when the next entry would not fit: an entry that fills
// the page's size budget exactly stays on it.
func TestAPageIsFilledToItsSizeBudget(t *testing.T) {
	_, frameSize := defaultLayout.frame()
	budget := maxBlocksJSON - frameSize
	size := func(e *group.Entry) int { return jsonSize(defaultLayout.entryBlocks(e)) + liveReserve }
	var entries []*group.Entry
	used := 0
	for i := range 4 {
		e := entry("checkout", fmt.Sprintf("error %d %s", i, strings.Repeat("x", 2000)), 1)
		entries = append(entries, e)
		used += size(e)
	}
	last := entry("checkout", "last x", 1)
	grow := budget - used - size(last) // each "x" more is one character more
	require.Positive(t, grow)
	last.Body += strings.Repeat("x", grow)
	require.Equal(t, budget, used+size(last))

	msgs := Messages(append(entries, last), 2)
	require.Len(t, msgs, 1, "the last entry fills the page exactly: it stays on it")
	requireWithinLimits(t, msgs[0])

	// A message full to its budget still has room for what a live update
	// adds to each entry: a count in the hundreds of millions and a quiet
	// note. Its texts stay whole.
	grown := make([]*group.Entry, len(msgs[0].Entries))
	for i, e := range msgs[0].Entries {
		c := *e
		c.Count, c.QuietSince = 123_456_789, t0.Add(time.Hour)
		grown[i] = &c
	}
	live := Live(grown, 0, 0)
	requireWithinLimits(t, live)
	assert.Equal(t, entryTexts(msgs[0]), entryTexts(live), "the update cut texts the post showed whole")

	last.Body += "x"
	assert.Len(t, Messages(append(entries, last), 2), 2, "one character more: a page of its own")
}

// An entry exactly the size of a page on its own is not cut.
func TestAnEntryTheSizeOfAPageIsWhole(t *testing.T) {
	link, err := ParseTemplate("link", `https://x.example/{{ .SeverityText }}`)
	require.NoError(t, err)
	l := &Layout{Link: link}
	_, frameSize := l.frame()
	budget := maxBlocksJSON - frameSize
	quoted := func(n int) string { return strings.Repeat(`"`, n) } // twice its length in JSON
	e := entry("checkout", quoted(2900), 1)
	for _, k := range resourceContextKeys {
		e.Resource = append(e.Resource, group.Attr{Key: k, Value: quoted(150)})
	}
	for i := range 10 {
		e.Attributes = append(e.Attributes, group.Attr{Key: fmt.Sprintf("k%d", i), Value: quoted(90)})
	}
	size := func() int { return jsonSize(l.entryBlocksWithin(e, maxSectionText, false)) + liveReserve }
	base := size()
	e.SeverityText = "x" // the link's path: one character more each
	grow := budget - size()
	require.True(t, grow > 0 && grow < 1500, "the entry is %d characters short of the budget (%d without the link)", grow, budget-base)
	e.SeverityText += strings.Repeat("x", grow)
	require.Equal(t, budget, size())

	m := l.Messages([]*group.Entry{e}, 1)[0]
	requireWithinLimits(t, m)
	assert.NotContains(t, m.Blocks[1].(*slack.SectionBlock).Text.Text, "more characters)")

	e.SeverityText += "x"
	m = l.Messages([]*group.Entry{e}, 1)[0]
	requireWithinLimits(t, m)
	assert.Contains(t, m.Blocks[1].(*slack.SectionBlock).Text.Text, "more characters)", "one character more: the body is cut")
}

func TestManyAttributesAreCounted(t *testing.T) {
	e := entry("checkout", "boom", 1)
	for i := range maxShownAttrs + 2 {
		e.Attributes = append(e.Attributes, group.Attr{Key: fmt.Sprintf("k%d", i), Value: "v"})
	}
	all := strings.Join(texts(Messages([]*group.Entry{e}, 1)[0]), "\n")
	assert.Contains(t, all, "k9=v · +2 more")
	assert.NotContains(t, all, "k10=v")
}

// Every page keeps room for the frame compose puts around its entries, at
// its largest: a header of 150 characters that JSON escapes, the mention,
// the fold line with the largest counts.
func TestEveryPageKeepsRoomForTheLargestFrame(t *testing.T) {
	title, err := ParseTemplate("title", `{{ .Body }}`)
	require.NoError(t, err)
	for _, mention := range []string{"", "<!subteam^S" + strings.Repeat("9", 31) + ">"} {
		l := &Layout{Title: title, Mention: mention}
		m := l.compose([]*group.Entry{entry("checkout", strings.Repeat("<", 500), 1)}, nil, math.MaxInt, math.MaxInt)
		header, fold := m.Blocks[0], m.Blocks[len(m.Blocks)-1]
		assert.LessOrEqual(t, jsonSize([]slack.Block{header}), headerBudget, "the largest header")
		assert.LessOrEqual(t, jsonSize([]slack.Block{fold}), foldBudget, "the largest fold line")
		blocks, size := l.frame()
		assert.Len(t, m.Blocks, blocks)
		assert.LessOrEqual(t, jsonSize(m.Blocks), size)
	}
}

func TestEmptyBodyStillRendersValidSection(t *testing.T) {
	m := Messages([]*group.Entry{entry("", "", 1)}, 1)[0]
	requireWithinLimits(t, m)
	assert.Contains(t, m.Blocks[0].(*slack.HeaderBlock).Text.Text, "unknown service")
	// An empty body still gives the section a text: a code block holding
	// a space.
	assert.Equal(t, "*ERROR* · unknown service\n``` ```", m.Blocks[1].(*slack.SectionBlock).Text.Text)
	assert.Equal(t, "🔴 ERROR · unknown service: ", m.Text)
}

func TestWhatDoesNotFitTheAllowedMessagesIsFolded(t *testing.T) {
	var entries []*group.Entry
	total := 0
	for i := 0; i < 120; i++ {
		e := entry(fmt.Sprintf("svc-%d", i%3), fmt.Sprintf("error %d %s", i, strings.Repeat("x", 300)), i%4+1)
		entries = append(entries, e)
		total += e.Count
	}
	require.Greater(t, len(Messages(entries, 100)), 2, "the entries need more than 2 messages")

	msgs := Messages(entries, 2)
	require.Len(t, msgs, 2)
	assert.Empty(t, msgs[0].Folded)
	last := msgs[1]
	require.NotEmpty(t, last.Folded)
	requireWithinLimits(t, last)
	assert.Equal(t, total, msgs[0].Records()+last.Records(), "every record is shown or counted")
	assert.Equal(t, len(entries), len(msgs[0].Entries)+len(last.Entries)+len(last.Folded))
	fold := last.Blocks[len(last.Blocks)-1].(*slack.ContextBlock).ContextElements.Elements[0].(*slack.TextBlockObject).Text
	assert.Equal(t, fmt.Sprintf("➕ %s more records in %d groups, folded to stay within Slack's rate limit", thousands(last.FoldedRecords()), len(last.Folded)), fold)
	assert.Contains(t, last.Text, fmt.Sprintf("+%s more records", thousands(last.Records()-last.Entries[0].Count)))
	assert.Contains(t, last.Blocks[0].(*slack.HeaderBlock).Text.Text, thousands(last.Records())+" error records")

	// Zero allowed still means one message: the rate limiter decides when.
	assert.Len(t, Messages(entries, 0), 1)
}

func TestThousands(t *testing.T) {
	assert.Equal(t, "0", thousands(0))
	assert.Equal(t, "999", thousands(999))
	assert.Equal(t, "1,000", thousands(1000))
	assert.Equal(t, "1,234,567", thousands(1234567))
}

func TestClippingEscapedTextNeverCutsAnEntity(t *testing.T) {
	for n := 5; n < 12; n++ {
		got := clipEscaped(escape("ab & <c>"), n)
		assert.LessOrEqual(t, utf8.RuneCountInString(got), n)
		assert.NotRegexp(t, `&[a-z]*…$`, got)
	}
	for pad := 0; pad < 5; pad++ { // every position of the cut within "&amp;"
		var attrs []group.Attr
		for i := 0; i < 10; i++ {
			attrs = append(attrs, group.Attr{Key: strings.Repeat("k", pad+1), Value: strings.Repeat("&", 60)})
		}
		joined := attributesText(attrs)
		assert.NotRegexp(t, `&[a-z]*…$`, joined)
		assert.LessOrEqual(t, utf8.RuneCountInString(joined), maxAttributesText)
		assert.True(t, strings.HasSuffix(joined, "&amp;…"), "clipped after a whole entity: %q", joined[len(joined)-20:])
	}
}

// Found by mutation testing (the guard that puts an entry alone on a page
// when it does not fit one): an entry whose every text is at its limit and
// full of characters that JSON escapes made a message of 15,927 characters
// of blocks, over the 12,000 budget. Its section is cut as a live update's
// would be; its count and context stay.
func TestAnEntryAtEveryLimitStillMakesAMessageWithinLimits(t *testing.T) {
	link, err := ParseTemplate("link", `https://x.example/{{ index .Attributes "path" }}`)
	require.NoError(t, err)
	l := &Layout{Link: link, Mention: "<!subteam^S0ONCALL>"}
	heavy := func(n int) string { return strings.Repeat("<", n) }
	e := entry(heavy(200), heavy(5000), 123456789)
	for _, k := range resourceContextKeys {
		e.Resource = append(e.Resource, group.Attr{Key: k, Value: heavy(300)})
	}
	e.Attributes = []group.Attr{{Key: "path", Value: strings.Repeat("&", 390)}}
	for i := range 12 {
		e.Attributes = append(e.Attributes, group.Attr{Key: fmt.Sprintf("k%d", i), Value: heavy(300)})
	}
	e.TraceID, e.SpanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	require.NotEmpty(t, l.linkText(e), "the link is shown: it is within a context element's 2,000 characters")

	for _, entries := range [][]*group.Entry{{e}, {entry("checkout", "first", 1), e, entry("checkout", "last", 1)}} {
		msgs := l.Messages(entries, len(entries))
		records := 0
		for _, m := range msgs {
			requireWithinLimits(t, m)
			records += m.Records()
		}
		assert.Equal(t, count(entries), records, "every record shown or counted")
		var section string
		for _, m := range msgs {
			for _, b := range m.Blocks {
				if s, ok := b.(*slack.SectionBlock); ok && strings.Contains(s.Text.Text, "×123,456,789") {
					section = s.Text.Text
				}
			}
		}
		assert.Contains(t, section, "more characters)", "the body is cut, with the marker")
		assert.True(t, strings.HasPrefix(section, "*ERROR* · "+strings.Repeat("&lt;", 99)+"… · ×123,456,789\n"), "the title line stays whole")
	}
}
