// Package render turns grouped log records into Slack messages: Block Kit
// blocks plus a fallback text, every one within Slack's limits, with all log
// text escaped so that nothing in a record can ping, link or format.
package render

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/group"
)

// Message is one Slack message and the entries it carries.
type Message struct {
	Text   string
	Blocks []slack.Block
	// Entries are shown; Folded are only counted, in the message's last line.
	Entries []*group.Entry
	Folded  []*group.Entry
	// Metadata is the message metadata a top-level message carries (not a
	// thread reply: its records are counted in the parent).
	Metadata *slack.SlackMetadata
}

// Records is how many log records the message stands for, folded included.
func (m Message) Records() int {
	return count(m.Entries) + count(m.Folded)
}

// FoldedRecords is how many records the message holds only as a count.
func (m Message) FoldedRecords() int {
	return count(m.Folded)
}

func count(entries []*group.Entry) int {
	n := 0
	for _, e := range entries {
		n += e.Count
	}
	return n
}

// Messages lays entries out, in the order given, in as few messages as
// Slack's limits allow, and in at most maxMessages (the posts the rate limit
// allows now): entries that do not fit in those are folded into the last
// one as "+N more records in M groups", never posted one by one, never lost.
func (l *Layout) Messages(entries []*group.Entry, maxMessages int) []Message {
	maxMessages = max(maxMessages, 1)
	pages, folded := l.paginate(entries, maxMessages)
	out := make([]Message, len(pages))
	for i, p := range pages {
		var f []*group.Entry
		if i == len(pages)-1 {
			f = folded
		}
		out[i] = l.finish(p.entries, p.blocks, f)
	}
	return out
}

type page struct {
	entries []*group.Entry
	blocks  []slack.Block
}

// paginate packs entries into at most maxPages pages and returns the
// entries left over, unrendered: they are only counted. A page closes only
// when the next entry would break the block count or the size budget; every
// page keeps room for the frame compose puts around it. An entry too large
// for a page of its own has its section cut until it fits.
func (l *Layout) paginate(entries []*group.Entry, maxPages int) (pages []page, rest []*group.Entry) {
	var cur page
	size := 0
	frameBlocks, frameSize := l.frame()
	for i, e := range entries {
		blocks := l.entryBlocksFitting(e, maxBlocksJSON-frameSize)
		n := jsonSize(blocks) + l.reserve()
		if len(cur.entries) > 0 && (len(cur.blocks)+len(blocks)+frameBlocks > maxBlocks || size+n > maxBlocksJSON-frameSize) {
			pages = append(pages, cur)
			if len(pages) == maxPages {
				return pages, entries[i:]
			}
			cur, size = page{}, 0
		}
		cur.entries = append(cur.entries, e)
		cur.blocks = append(cur.blocks, blocks...)
		size += n
	}
	if len(cur.entries) > 0 {
		pages = append(pages, cur)
	}
	return pages, nil
}

// entryBlocksFitting is entryBlocks, with the section's text cut as Live
// cuts it when the entry with its liveReserve would not fit budget, a page
// on its own: its context (attributes, resource, link) can take most of a
// page when every value is at its limit and full of characters that JSON
// escapes.
func (l *Layout) entryBlocksFitting(e *group.Entry, budget int) []slack.Block {
	return cutToFit(budget, l.reserve(), func(limit int) []slack.Block { return l.entryBlocksWithin(e, limit, false) })
}

// cutToFit renders blocks with the section texts cut to limit, starting
// whole (maxSectionText), and cuts further until the blocks' JSON plus extra
// fits budget, or the limit is down to minLiveSectionText.
func cutToFit(budget, extra int, render func(limit int) []slack.Block) []slack.Block {
	limit := maxSectionText
	for {
		blocks := render(limit)
		size := jsonSize(blocks) + extra
		if size <= budget || limit == minLiveSectionText {
			return blocks
		}
		limit = max(minLiveSectionText, limit*budget/size*9/10)
	}
}

// headerBudget bounds the JSON of a header block (150 characters, each at
// most 6 once JSON-escaped, plus the block's own keys); foldBudget bounds
// the fold line's context block.
const (
	headerBudget = maxHeaderText*6 + 100
	foldBudget   = 400
	// liveReserve is room per entry for what a live update adds: a larger
	// count and a "quiet since" note.
	liveReserve = 80
)

// frame is what every message adds around its entries, at most: the
// header, the mention block when one is configured, and the fold line, in
// blocks and in characters of JSON.
func (l *Layout) frame() (blocks, size int) {
	blocks, size = 2, headerBudget+foldBudget
	if m := l.mentionBlock(); m != nil {
		blocks++
		size += jsonSize([]slack.Block{m})
	}
	if n := l.noteBlock(); n != nil {
		blocks++
		size += jsonSize([]slack.Block{n})
	}
	return blocks, size
}

// noteBlock is the layout's note as a context line, or nil.
func (l *Layout) noteBlock() slack.Block {
	if l.Note == "" {
		return nil
	}
	return slack.NewContextBlock("", mrkdwn(fit(l.Note, maxContextElement)))
}

// mentionBlock is the configured mention as a block, or nil. It is not
// verbatim: Slack must parse this one on purpose.
func (l *Layout) mentionBlock() slack.Block {
	if l.Mention == "" {
		return nil
	}
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, l.Mention, false, false), nil, nil)
}

func (l *Layout) finish(entries []*group.Entry, blocks []slack.Block, folded []*group.Entry) Message {
	m := l.compose(entries, blocks, count(folded), len(folded))
	m.Entries, m.Folded = entries, folded
	return m
}

// compose builds a message: header, mention, the entries' blocks, the fold
// line.
func (l *Layout) compose(entries []*group.Entry, blocks []slack.Block, folded, foldedGroups int) Message {
	var m Message
	m.Blocks = []slack.Block{l.header(entries, folded)}
	if mention := l.mentionBlock(); mention != nil {
		m.Blocks = append(m.Blocks, mention)
	}
	if note := l.noteBlock(); note != nil {
		m.Blocks = append(m.Blocks, note)
	}
	m.Blocks = append(m.Blocks, blocks...)
	if foldedGroups > 0 {
		m.Blocks = append(m.Blocks, slack.NewContextBlock("", mrkdwn(foldText(folded, foldedGroups))))
	}
	m.Text = fallbackText(entries, folded, foldedGroups)
	m.Metadata = metadata(entries, folded, foldedGroups)
	l.muteMetadata(entries, m.Metadata.EventPayload)
	if l.Destination != "" {
		m.Metadata.EventPayload["destination"] = l.Destination
	}
	if l.Note != "" {
		m.Text = "(" + fit(l.Note, maxContextElement) + ") " + m.Text
	}
	if l.Mention != "" {
		m.Text = l.Mention + " " + m.Text
	}
	return m
}

// Live renders a message whose counters are updated in place: the same
// entries it was posted with, their counts now, and its fold line. Entries
// have room for their counts to grow (liveReserve). A text template whose
// output grows with the count can outgrow that: then the entries' texts are
// cut, never their counts, until the message fits again.
func (l *Layout) Live(entries []*group.Entry, folded, foldedGroups int) Message {
	_, frameSize := l.frame()
	blocks := cutToFit(maxBlocksJSON-frameSize, 0, func(limit int) []slack.Block {
		var blocks []slack.Block
		for _, e := range entries {
			if shown, ok := shownBlocks(e); ok {
				blocks = append(blocks, shown...) // as another process left it
				continue
			}
			blocks = append(blocks, l.entryBlocksWithin(e, limit, true)...)
		}
		return blocks
	})
	m := l.compose(entries, blocks, folded, foldedGroups)
	m.Entries = entries
	return m
}

func foldText(records, groups int) string {
	return fmt.Sprintf("➕ %s more records in %s groups, folded to stay within Slack's rate limit",
		thousands(records), thousands(groups))
}

// thousands writes n as 1,234,567.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (l *Layout) header(entries []*group.Entry, folded int) slack.Block {
	worst, mixed, records := entries[0].Severity, false, folded
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
		text = fmt.Sprintf("%s %s records from %s", emoji(worst), thousands(records), strings.Join(services, ", "))
	default:
		text = fmt.Sprintf("%s %s %s records from %s", emoji(worst), thousands(records), strings.ToLower(severityLabel(worst)), strings.Join(services, ", "))
	}
	if l.Title != nil {
		d := dataOf(entries[0])
		d.Records, d.Groups = records, len(entries)
		if out, ok := apply(l.Title, d); ok && strings.TrimSpace(out) != "" {
			text = out
		}
	}
	// plain_text is shown literally: no escaping, no mentions.
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, clip(text, maxHeaderText), true, false))
}

// entryBlocks shows one entry: a section with severity, service, count and
// the body (or the Text template), and a context line with time, resource,
// attributes, trace and the Link template.
func (l *Layout) entryBlocks(e *group.Entry) []slack.Block {
	return l.entryBlocksWithin(e, maxSectionText, false)
}

// entryBlocksWithin is entryBlocks with the section's text cut to limit
// characters; the title line, with the count, is always whole. With
// status, the entry says who muted or acknowledged it: only in an update,
// which notifies nobody; a new post would ping the person named.
func (l *Layout) entryBlocksWithin(e *group.Entry, limit int, status bool) []slack.Block {
	title := fmt.Sprintf("*%s* · %s", severityLabel(e.Severity), escape(clip(serviceName(e.Service), 100)))
	if e.Count > 1 {
		title += " · ×" + thousands(e.Count)
	}
	if !e.QuietSince.IsZero() {
		title += fmt.Sprintf(" · quiet since %s UTC, %s in total", e.QuietSince.UTC().Format("15:04"), thousands(e.Count))
	}
	var text string
	if custom, ok := apply(l.Text, dataOf(e)); ok {
		text = title + "\n" + fit(custom, limit-utf8.RuneCountInString(title)-1)
	} else {
		const fences = len("\n```\n```")
		body := fit(breakFences(e.Body), limit-utf8.RuneCountInString(title)-fences)
		if body == "" {
			body = " "
		}
		text = title + "\n```" + body + "```"
	}
	section := slack.NewSectionBlock(mrkdwn(text), nil, nil)

	var elements []slack.MixedElement
	if l.Actions != nil && e.Fingerprint != "" {
		var st EntryState
		if status && l.Actions.State != nil {
			st = l.Actions.State(e.Fingerprint)
		}
		section.Accessory = slack.NewAccessory(l.menu(st))
		if status := statusText(st); status != "" {
			elements = append(elements, mrkdwn(status))
		}
	}
	elements = append(elements, mrkdwn(timeText(e)))
	for _, a := range resourceContext(e.Resource) {
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
	if link := l.linkText(e); link != "" && utf8.RuneCountInString(link) <= maxContextElement {
		elements = append(elements, mrkdwn(link))
	}
	context := slack.NewContextBlock("", elements...)
	if e.Fingerprint != "" {
		section.BlockID, context.BlockID = entryBlockID(e.Fingerprint, "s"), entryBlockID(e.Fingerprint, "c")
	}
	return []slack.Block{section, context}
}

// resourceContextKeys are the resource attributes shown with an entry, in
// this order, when present.
var resourceContextKeys = []string{"deployment.environment.name", "deployment.environment", "host.name", "k8s.namespace.name", "k8s.pod.name"}

func resourceContext(resource []group.Attr) []group.Attr {
	var out []group.Attr
	for _, k := range resourceContextKeys {
		for _, a := range resource {
			if a.Key == k {
				out = append(out, a)
			}
		}
	}
	return out
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
	return clipEscaped(strings.Join(parts, " · "), maxAttributesText)
}

const timeLayout = "2006-01-02 15:04:05.000"

func timeText(e *group.Entry) string {
	if e.First.IsZero() {
		return "time unknown"
	}
	first, last := e.First.UTC(), e.Last.UTC()
	switch {
	case first.Format(timeLayout) == last.Format(timeLayout):
		return first.Format(timeLayout) + " UTC"
	case first.YearDay() == last.YearDay() && first.Year() == last.Year():
		return fmt.Sprintf("first %s · last %s UTC", first.Format(timeLayout), last.Format("15:04:05.000"))
	}
	return fmt.Sprintf("first %s · last %s UTC", first.Format(timeLayout), last.Format(timeLayout))
}

// fallbackText is the notification text: the top entry, and how much more
// the message holds.
func fallbackText(entries []*group.Entry, folded, foldedGroups int) string {
	top := entries[0]
	body, _, _ := strings.Cut(top.Body, "\n")
	text := fmt.Sprintf("%s %s · %s: %s", emoji(top.Severity), severityLabel(top.Severity), escape(clip(serviceName(top.Service), 100)), fit(body, 300))
	if top.Count > 1 {
		text += fmt.Sprintf(" (×%d)", top.Count)
	}
	if rest := len(entries) - 1 + foldedGroups; rest > 0 {
		text += fmt.Sprintf(" +%s more records in %s groups", thousands(count(entries[1:])+folded), thousands(rest))
	}
	return clipEscaped(text, maxFallbackText)
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

// levels name the severity ranges, most severe first.
var levels = []struct {
	from         plog.SeverityNumber
	label, emoji string
}{
	{plog.SeverityNumberFatal, "FATAL", "💥"},
	{plog.SeverityNumberError, "ERROR", "🔴"},
	{plog.SeverityNumberWarn, "WARN", "🟠"},
	{plog.SeverityNumberInfo, "INFO", "🔵"},
	{plog.SeverityNumberDebug, "DEBUG", "⚪"},
	{plog.SeverityNumberTrace, "TRACE", "⚪"},
}

func severityLabel(n plog.SeverityNumber) string {
	for _, l := range levels {
		if n >= l.from {
			return l.label
		}
	}
	return "UNSPECIFIED"
}

func emoji(n plog.SeverityNumber) string {
	for _, l := range levels {
		if n >= l.from {
			return l.emoji
		}
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
