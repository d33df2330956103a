// Package render turns grouped log records into Slack messages: Block Kit
// blocks plus a fallback text, every one within Slack's limits, with all log
// text escaped so that nothing in a record can ping, link or format.
package render

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/group"
)

// Message is one Slack message and the entries it carries.
type Message struct {
	Text    string
	Blocks  []slack.Block
	Entries []*group.Entry
}

// Records is how many log records the message stands for.
func (m Message) Records() int {
	n := 0
	for _, e := range m.Entries {
		n += e.Count
	}
	return n
}

// Messages lays entries out in as few messages as Slack's limits allow, in
// the order given.
func Messages(entries []*group.Entry) []Message {
	var out []Message
	var cur []*group.Entry
	var curBlocks []slack.Block
	size := 0
	for _, e := range entries {
		blocks := entryBlocks(e)
		n := jsonSize(blocks)
		// One block and the header's budget are kept for the header.
		if len(cur) > 0 && (len(curBlocks)+len(blocks)+1 > maxBlocks || size+n > maxBlocksJSON-headerBudget) {
			out = append(out, finish(cur, curBlocks))
			cur, curBlocks, size = nil, nil, 0
		}
		cur = append(cur, e)
		curBlocks = append(curBlocks, blocks...)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, finish(cur, curBlocks))
	}
	return out
}

// headerBudget bounds the JSON of a header block (150 characters, each at
// most 6 once JSON-escaped, plus the block's own keys).
const headerBudget = maxHeaderText*6 + 100

func finish(entries []*group.Entry, blocks []slack.Block) Message {
	m := Message{Entries: entries}
	m.Blocks = append([]slack.Block{header(entries)}, blocks...)
	m.Text = fallbackText(entries)
	return m
}

func header(entries []*group.Entry) slack.Block {
	worst, mixed, records := entries[0].Severity, false, 0
	var services []string
	seen := map[string]bool{}
	for _, e := range entries {
		mixed = mixed || severityLabel(e.Severity) != severityLabel(worst)
		worst = max(worst, e.Severity)
		records += e.Count
		if !seen[e.Service] {
			seen[e.Service] = true
			services = append(services, serviceName(e.Service))
		}
	}
	var text string
	switch {
	case records == 1:
		text = fmt.Sprintf("%s %s in %s", emoji(worst), severityLabel(worst), services[0])
	case mixed:
		// The emoji shows the worst; the count covers every severity.
		text = fmt.Sprintf("%s %d records from %s", emoji(worst), records, strings.Join(services, ", "))
	default:
		text = fmt.Sprintf("%s %d %s records from %s", emoji(worst), records, strings.ToLower(severityLabel(worst)), strings.Join(services, ", "))
	}
	// plain_text is shown literally: no escaping, no mentions.
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, clip(text, maxHeaderText), true, false))
}

// entryBlocks shows one entry: a section with severity, service, count and
// the body, and a context line with time, resource, attributes and trace.
func entryBlocks(e *group.Entry) []slack.Block {
	title := fmt.Sprintf("*%s* · %s", severityLabel(e.Severity), escape(clip(serviceName(e.Service), 100)))
	if e.Count > 1 {
		title += fmt.Sprintf(" · ×%d", e.Count)
	}
	const fences = len("\n```\n```")
	body := fit(breakFences(e.Body), maxSectionText-utf8.RuneCountInString(title)-fences)
	if body == "" {
		body = " "
	}
	section := slack.NewSectionBlock(mrkdwn(title+"\n```"+body+"```"), nil, nil)

	var elements []slack.MixedElement
	elements = append(elements, mrkdwn(timeText(e)))
	for _, a := range e.Context {
		elements = append(elements, mrkdwn(fit(a.Key+": "+a.Value, 200)))
	}
	if attrs := attributesText(e.Attributes); attrs != "" {
		elements = append(elements, mrkdwn(attrs))
	}
	if e.TraceID != "" {
		t := "trace_id " + e.TraceID
		if e.SpanID != "" {
			t += " · span_id " + e.SpanID
		}
		elements = append(elements, mrkdwn(escape(t)))
	}
	return []slack.Block{section, slack.NewContextBlock("", elements...)}
}

func attributesText(attrs []group.Attr) string {
	parts := make([]string, 0, min(len(attrs), maxShownAttrs))
	for i, a := range attrs {
		if i == maxShownAttrs {
			parts = append(parts, fmt.Sprintf("+%d more", len(attrs)-maxShownAttrs))
			break
		}
		parts = append(parts, fit(a.Key, 100)+"="+fit(a.Value, maxAttributeValue))
	}
	return clip(strings.Join(parts, " · "), maxAttributesText)
}

const timeLayout = "2006-01-02 15:04:05.000"

func timeText(e *group.Entry) string {
	if e.First.IsZero() {
		return "time unknown"
	}
	first := e.First.UTC().Format(timeLayout) + " UTC"
	if e.Count == 1 || e.Last.Equal(e.First) {
		return first
	}
	last := e.Last.UTC()
	if last.YearDay() == e.First.UTC().YearDay() {
		return fmt.Sprintf("first %s · last %s UTC", first[:len(first)-4], last.Format("15:04:05.000"))
	}
	return fmt.Sprintf("first %s · last %s UTC", first[:len(first)-4], last.Format(timeLayout))
}

// fallbackText is the notification text: the top entry, and how much more
// the message holds.
func fallbackText(entries []*group.Entry) string {
	top := entries[0]
	body, _, _ := strings.Cut(top.Body, "\n")
	text := fmt.Sprintf("%s %s · %s: %s", emoji(top.Severity), severityLabel(top.Severity), escape(clip(serviceName(top.Service), 100)), fit(body, 300))
	if top.Count > 1 {
		text += fmt.Sprintf(" (×%d)", top.Count)
	}
	if len(entries) > 1 {
		more := 0
		for _, e := range entries[1:] {
			more += e.Count
		}
		text += fmt.Sprintf(" +%d more records in %d groups", more, len(entries)-1)
	}
	return clip(text, maxFallbackText)
}

// mrkdwn makes a verbatim mrkdwn text object: Slack does no auto-linking of
// URLs or channel names in it. Callers pass text that is already escaped.
func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, true)
}

func serviceName(s string) string {
	if s == "" {
		return "unknown service"
	}
	return s
}

func severityLabel(n plog.SeverityNumber) string {
	switch {
	case n >= plog.SeverityNumberFatal:
		return "FATAL"
	case n >= plog.SeverityNumberError:
		return "ERROR"
	case n >= plog.SeverityNumberWarn:
		return "WARN"
	case n >= plog.SeverityNumberInfo:
		return "INFO"
	case n >= plog.SeverityNumberDebug:
		return "DEBUG"
	case n >= plog.SeverityNumberTrace:
		return "TRACE"
	}
	return "UNSPECIFIED"
}

func emoji(n plog.SeverityNumber) string {
	switch {
	case n >= plog.SeverityNumberFatal:
		return "💥"
	case n >= plog.SeverityNumberError:
		return "🔴"
	case n >= plog.SeverityNumberWarn:
		return "🟠"
	case n >= plog.SeverityNumberInfo:
		return "🔵"
	}
	return "⚪"
}

// jsonSize is the size of blocks as Slack receives them, in characters.
func jsonSize(blocks []slack.Block) int {
	b, err := json.Marshal(blocks)
	if err != nil {
		return maxBlocksJSON // cannot happen with these types; never overfill
	}
	return utf8.RuneCount(b)
}
