package render

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slackexporter/slackexporter/internal/group"
)

func mustParse(t *testing.T, text string) *Layout {
	t.Helper()
	tmpl, err := ParseTemplate("t", text)
	require.NoError(t, err)
	return &Layout{Title: tmpl}
}

func TestTemplatesShapeTheMessage(t *testing.T) {
	title, err := ParseTemplate("title", `{{ .Severity }} in {{ .Resource.deployment_environment }}{{ index .Resource "deployment.environment" }}: {{ .Records }} records`)
	require.NoError(t, err)
	text, err := ParseTemplate("text", `order {{ index .Attributes "order_id" }}: {{ .Body }}`)
	require.NoError(t, err)
	link, err := ParseTemplate("link", `https://tracing.example/trace/{{ .TraceID }}?q={{ .Body | urlquery }}`)
	require.NoError(t, err)
	l := &Layout{Title: title, Text: text, Link: link}

	e := entry("checkout", "<!channel> card declined & retried", 2)
	e.Attributes = []group.Attr{{Key: "order_id", Value: "<@U1>"}}
	e.Resource = []group.Attr{{Key: "deployment.environment", Value: "prod"}}
	e.TraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	m := l.Messages([]*group.Entry{e}, 1)[0]
	requireWithinLimits(t, m)

	assert.Equal(t, "ERROR in prod: 2 records", m.Blocks[0].(*slack.HeaderBlock).Text.Text)
	section := m.Blocks[1].(*slack.SectionBlock).Text.Text
	assert.Equal(t, "*ERROR* · checkout · ×2\norder &lt;@U1&gt;: &lt;!channel&gt; card declined &amp; retried", section,
		"template output is escaped like any log text")
	ctx := strings.Join(texts(m), "\n")
	assert.Contains(t, ctx, "<https://tracing.example/trace/4bf92f3577b34da6a3ce929d0e0e4736?q=%3C%21channel%3E+card+declined+%26+retried|🔗 link>")
}

// A link is shown up to the 2,000 characters of a context element.
func TestALinkIsShownUpToTheLimitOfAContextElement(t *testing.T) {
	link, err := ParseTemplate("link", `https://x.example/{{ .Body }}`)
	require.NoError(t, err)
	l := &Layout{Link: link}
	e := entry("svc", "", 1)
	e.Body = strings.Repeat("a", maxContextElement-utf8.RuneCountInString(l.linkText(e)))
	require.Equal(t, maxContextElement, utf8.RuneCountInString(l.linkText(e)))
	m := l.Messages([]*group.Entry{e}, 1)[0]
	requireWithinLimits(t, m)
	assert.Contains(t, strings.Join(texts(m), "\n"), "|🔗 link>")

	e.Body += "a"
	m = l.Messages([]*group.Entry{e}, 1)[0]
	requireWithinLimits(t, m)
	assert.NotContains(t, strings.Join(texts(m), "\n"), "|🔗 link>", "one character over: left out")
}

// A text template's output fills the section: whole when it fits, cut
// with the marker when it does not, never past Slack's 3,000 characters.
func TestATextTemplateFillsTheSectionAndNoMore(t *testing.T) {
	text, err := ParseTemplate("message.text", `{{ .Body }}`)
	require.NoError(t, err)
	l := &Layout{Text: text}
	title := "*ERROR* · checkout" // and a newline
	room := maxSectionText - utf8.RuneCountInString(title) - 1
	for n := room - 3; n <= room+3; n++ {
		m := l.Messages([]*group.Entry{entry("checkout", strings.Repeat("x", n), 1)}, 1)[0]
		requireWithinLimits(t, m)
		section := m.Blocks[1].(*slack.SectionBlock).Text.Text
		if n <= room {
			assert.Equal(t, title+"\n"+strings.Repeat("x", n), section, "%d characters fit", n)
		} else {
			assert.Contains(t, section, "more characters)", "%d characters do not fit", n)
		}
	}
}

func TestLinkThatIsNotAURLIsLeftOut(t *testing.T) {
	link, err := ParseTemplate("link", `{{ .Body }}`)
	require.NoError(t, err)
	l := &Layout{Link: link}
	for _, body := range []string{"javascript:alert(1)", "not a url", "<https://evil|x>", "ftp://host/file"} {
		m := l.Messages([]*group.Entry{entry("svc", body, 1)}, 1)[0]
		requireNoMarkup(t, m)
	}
	// A URL from a record cannot close the link markup early.
	m := l.Messages([]*group.Entry{entry("svc", "https://ok.example/a|b>c", 1)}, 1)[0]
	assert.Contains(t, strings.Join(texts(m), "\n"), "<https://ok.example/a%7Cb%3Ec|🔗 link>")
}

func TestTemplateErrorsAtStartupAndFallbackAtRunTime(t *testing.T) {
	_, err := ParseTemplate("title", `{{ .Severty }}`)
	assert.ErrorContains(t, err, "Severty")
	_, err = ParseTemplate("title", `{{ .Severity `)
	assert.Error(t, err)

	// Passes the sample (which has order_id) but fails on a record without it.
	l := mustParse(t, `{{ slice .Body 0 20 }}`)
	m := l.Messages([]*group.Entry{entry("checkout", "short", 1)}, 1)[0]
	assert.Equal(t, "🔴 ERROR in checkout", m.Blocks[0].(*slack.HeaderBlock).Text.Text, "the default title stands in")
}

func TestMentionOpensTheMessage(t *testing.T) {
	l := &Layout{Mention: "<!here>"}
	m := l.Messages([]*group.Entry{entry("checkout", "<!channel> from a record", 1)}, 1)[0]
	requireWithinLimits(t, m)
	mention := m.Blocks[1].(*slack.SectionBlock).Text
	assert.Equal(t, "<!here>", mention.Text)
	assert.False(t, mention.Verbatim)
	assert.True(t, strings.HasPrefix(m.Text, "<!here> "))
	assert.Contains(t, m.Blocks[2].(*slack.SectionBlock).Text.Text, "&lt;!channel&gt;", "record text stays inert")
	assert.Equal(t, 1, strings.Count(m.Text, "<!"), "the only markup is the configured mention")
	live := l.Live([]*group.Entry{entry("checkout", "x", 3)}, 0, 0)
	assert.Equal(t, "<!here>", live.Blocks[1].(*slack.SectionBlock).Text.Text)
}

func TestNormalizeMention(t *testing.T) {
	for in, want := range map[string]string{
		"here": "<!here>", "@channel": "<!channel>", "<!everyone>": "<!everyone>",
		"U0123ABC": "<@U0123ABC>", "<@W99>": "<@W99>", "S0ONCALL": "<!subteam^S0ONCALL>", "<!subteam^S1>": "<!subteam^S1>",
		// Ids are capital letters and digits, any of them, up to 32.
		"UAZ09": "<@UAZ09>", "WZZZ": "<@WZZZ>", "U" + strings.Repeat("9", 31): "<@U" + strings.Repeat("9", 31) + ">",
	} {
		got, err := NormalizeMention(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, bad := range []string{"", "@oncall", "<!subteam^U1>", "C0123", "u0123", "<@U1> <!channel>", "<!here|x>", "U" + strings.Repeat("9", 32)} {
		_, err := NormalizeMention(bad)
		assert.Error(t, err, bad)
	}
}

// Regression (issue #8, defect 1): the mention block must be reserved when
// a page is closed, or a page of short entries reaches 51 blocks and Slack
// refuses the whole message with invalid_blocks.
func TestMentionNeverPushesAMessageOverTheBlockLimit(t *testing.T) {
	for _, mention := range []string{"", "<!here>", "<!subteam^S0ONCALL>"} {
		l := &Layout{Mention: mention}
		var entries []*group.Entry
		for i := 0; i < 30; i++ {
			entries = append(entries, entry("checkout", fmt.Sprintf("distinct error %c", 'a'+i), 1))
		}
		for _, maxMessages := range []int{1, 2, 30} {
			msgs := l.Messages(entries, maxMessages)
			records := 0
			for _, m := range msgs {
				requireWithinLimits(t, m)
				records += m.Records()
			}
			assert.Equal(t, 30, records, "mention %q, %d messages: every record shown or folded", mention, maxMessages)
			if maxMessages == 1 {
				assert.Greater(t, len(msgs[0].Blocks), maxBlocks-2, "mention %q: the one message had room for one more entry (2 blocks)", mention)
			}
		}
	}
}

// A live update cuts the entries' texts only as far as it must to fit: the
// message still fills most of its budget.
func TestALiveUpdateCutsTextsOnlyAsFarAsItMust(t *testing.T) {
	text, err := ParseTemplate("message.text", `{{ .Body }} {{ printf "%0*d" .Count 0 }}`)
	require.NoError(t, err)
	l := &Layout{Text: text}
	var entries []*group.Entry
	for i := range 12 {
		entries = append(entries, entry("checkout", fmt.Sprintf("error %c %s", 'a'+i, strings.Repeat("x", 400)), 1))
	}
	msgs := l.Messages(entries, 1)
	require.Len(t, msgs[0].Entries, 12)
	for _, e := range entries {
		e.Count = 700 // each text grows by 700 characters: about 1.5 times the budget in all
	}
	live := l.Live(entries, 0, 0)
	requireWithinLimits(t, live)
	_, frameSize := l.frame()
	assert.Greater(t, jsonSize(live.Blocks), (maxBlocksJSON-frameSize)*3/4, "cut more than needed")
}

// A live message is re-rendered with its counts now. A text template whose
// output grows with the count (here one character per record) must not take
// an update past Slack's limits, whatever the options.
func TestALiveUpdateStaysWithinLimitsWhateverTheTemplate(t *testing.T) {
	text, err := ParseTemplate("message.text", `{{ .Body }} {{ printf "%0*d" .Count 0 }}`)
	require.NoError(t, err)
	l := &Layout{Text: text, Mention: "<!here>"}
	var entries []*group.Entry
	for i := range 40 {
		entries = append(entries, entry("checkout", fmt.Sprintf("error %c %s", 'a'+i%26, strings.Repeat("x", 100)), 1))
	}
	msgs := l.Messages(entries, 1)
	requireWithinLimits(t, msgs[0])
	posted := msgs[0].Entries
	for _, n := range []int{10, 100, 1000, 100000} {
		grown := make([]*group.Entry, len(posted))
		for i, e := range posted {
			cp := *e
			cp.Count = n
			grown[i] = &cp
		}
		live := l.Live(grown, msgs[0].FoldedRecords(), len(msgs[0].Folded))
		requireWithinLimits(t, live)
		assert.Len(t, live.Blocks, len(msgs[0].Blocks), "the same entries, the same blocks")
		for _, b := range live.Blocks {
			if s, ok := b.(*slack.SectionBlock); ok && strings.HasPrefix(s.Text.Text, "*ERROR*") {
				assert.Contains(t, s.Text.Text, "×"+thousands(n), "the count is never what gets cut")
			}
		}
	}
}

func TestANoteIsALineUnderTheHeaderAndCountsInTheFrame(t *testing.T) {
	l := &Layout{Mention: "<!here>", Note: "↪ meant for #payments & <!channel>: channel_not_found"}
	m := l.Messages([]*group.Entry{entry("checkout", "boom", 1)}, 1)[0]
	requireWithinLimits(t, m)
	require.IsType(t, &slack.ContextBlock{}, m.Blocks[2])
	note := m.Blocks[2].(*slack.ContextBlock).ContextElements.Elements[0].(*slack.TextBlockObject)
	assert.Equal(t, "↪ meant for #payments &amp; &lt;!channel&gt;: channel_not_found", note.Text)
	assert.True(t, note.Verbatim)
	assert.Contains(t, m.Text, "(↪ meant for #payments")
	assert.Equal(t, 1, strings.Count(m.Text, "<!"), "the only markup is the configured mention")
	live := l.Live([]*group.Entry{entry("checkout", "boom", 3)}, 0, 0)
	assert.Equal(t, note.Text, live.Blocks[2].(*slack.ContextBlock).ContextElements.Elements[0].(*slack.TextBlockObject).Text)

	var entries []*group.Entry
	for i := 0; i < 30; i++ {
		entries = append(entries, entry("checkout", fmt.Sprintf("distinct error %c", 'a'+i), 1))
	}
	records := 0
	for _, m := range l.Messages(entries, 1) {
		requireWithinLimits(t, m)
		records += m.Records()
	}
	assert.Equal(t, 30, records)
	assert.Nil(t, (&Layout{}).noteBlock())
}
