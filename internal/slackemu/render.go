package slackemu

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// RenderText writes messages the way a person reads them in Slack. It is what
// `make demo` prints, and handy in a failing test's output.
func RenderText(w io.Writer, msgs []Message) {
	if len(msgs) == 0 {
		fmt.Fprintln(w, "(no messages)")
		return
	}
	for i, m := range msgs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, headline(m))
		for _, line := range bodyLines(m) {
			fmt.Fprintln(w, "  "+line)
		}
	}
}

// headline is "▸ #alerts · 14:03:07.512", plus whether the message was
// updated or is a thread reply.
func headline(m Message) string {
	parts := []string{"▸ " + m.Channel, m.ReceivedAt.Local().Format("15:04:05.000")}
	switch m.Updates {
	case 0:
	case 1:
		parts = append(parts, "updated 1 time")
	default:
		parts = append(parts, fmt.Sprintf("updated %d times", m.Updates))
	}
	if m.ThreadTS != "" {
		parts = append(parts, "reply in thread "+m.ThreadTS)
	}
	return strings.Join(parts, " · ")
}

const dividerLine = "────────────────────────────────────────"

// bodyLines renders the blocks, or the text when there are none (Slack shows
// the text only as the notification fallback when blocks are present).
func bodyLines(m Message) []string {
	var blocks []map[string]any
	if len(m.Blocks) > 0 {
		_ = json.Unmarshal(m.Blocks, &blocks)
	}
	if len(blocks) == 0 {
		return splitLines(readable(m.Text, true))
	}
	var out []string
	for _, b := range blocks {
		switch typ, _ := b["type"].(string); typ {
		case "header":
			out = append(out, "▌ "+textOf(b["text"]))
		case "section":
			if t := textOf(b["text"]); t != "" {
				out = append(out, splitLines(t)...)
			}
			fields, _ := b["fields"].([]any)
			for _, f := range fields {
				out = append(out, "  "+fieldLine(textOf(f)))
			}
		case "context":
			var parts []string
			elements, _ := b["elements"].([]any)
			for _, e := range elements {
				parts = append(parts, textOf(e))
			}
			out = append(out, strings.Join(parts, " · "))
		case "divider":
			out = append(out, dividerLine)
		case "markdown":
			s, _ := b["text"].(string)
			out = append(out, splitLines(readable(s, true))...)
		case "rich_text":
			out = append(out, splitLines(richText(b))...)
		default:
			out = append(out, "["+typ+"]")
		}
	}
	return out
}

// textOf reads a text object (or an image element, as its alt text).
func textOf(v any) string {
	obj, _ := v.(map[string]any)
	if obj["type"] == "image" {
		alt, _ := obj["alt_text"].(string)
		return "[" + alt + "]"
	}
	s, _ := obj["text"].(string)
	return readable(s, obj["type"] == "mrkdwn")
}

// fieldLine turns the usual "*Label*\nvalue" field into "Label: value".
func fieldLine(s string) string {
	label, value, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	label = strings.TrimSuffix(strings.Trim(strings.TrimSpace(label), "*_"), ":")
	return label + ": " + strings.ReplaceAll(strings.TrimSpace(value), "\n", " ")
}

// richText flattens a rich_text block to its words.
func richText(v any) string {
	var sb strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				sb.WriteString(s)
			}
			walk(x["elements"])
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return sb.String()
}

var (
	// slackEntity is a link or mention: <url|label>, <!here>, <@U123>, <#C123|name>.
	slackEntity = regexp.MustCompile(`<([^<>]*)>`)
	// unescape undoes the only three escapes mrkdwn has.
	unescape = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// readable shows mrkdwn as Slack displays it: links and mentions resolved,
// then &lt; &gt; &amp; decoded. Escaped log text cannot contain a real "<", so
// only genuine entities are resolved.
func readable(s string, mrkdwn bool) string {
	if mrkdwn {
		s = slackEntity.ReplaceAllStringFunc(s, func(m string) string {
			target, label, hasLabel := strings.Cut(m[1:len(m)-1], "|")
			switch {
			case strings.HasPrefix(target, "!") && hasLabel:
				return label // <!subteam^ID|@team>, <!date^…|fallback>
			case strings.HasPrefix(target, "!"):
				return "@" + target[1:] // <!here>, <!channel>
			case strings.HasPrefix(target, "@") || strings.HasPrefix(target, "#"):
				if hasLabel {
					return target[:1] + label
				}
				return target
			case hasLabel:
				return label + " (" + target + ")"
			}
			return target
		})
	}
	return unescape.Replace(s)
}

func splitLines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
