package slackemu

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The inbox page shows messages as Slack lays them out. No maintained Go
// library renders Slack's mrkdwn (it is not Markdown: *bold*, _italic_,
// ~strike~, <url|label> links, and only &lt; &gt; &amp; as escapes), so this
// file parses it into a small tree of nodes. The page builds DOM from the tree
// with createElement and textContent only: text from a log record is always a
// text node, never markup, whatever it holds.

// node is an element (Tag set) or a text node (Tag empty, Text only). An
// element's Text, when set, comes before its Kids.
type node struct {
	Tag   string `json:"t,omitempty"`
	Class string `json:"c,omitempty"`
	Text  string `json:"x,omitempty"`
	Href  string `json:"h,omitempty"` // links only; always http, https or mailto
	// Block is the block_id of a block's element, for tests and clicks.
	Block string  `json:"b,omitempty"`
	Act   *action `json:"a,omitempty"` // buttons and overflow options
	Kids  []node  `json:"k,omitempty"`
}

// action is what a click on a button or an overflow option sends.
type action struct {
	BlockID  string `json:"block_id"`
	ActionID string `json:"action_id"`
	Value    string `json:"value"`
}

// inboxTags are the only elements the tree may hold; the page's script
// checks against the same list.
var inboxTags = map[string]bool{
	"div": true, "span": true, "b": true, "i": true, "s": true, "code": true, "pre": true,
	"a": true, "hr": true, "button": true, "details": true, "summary": true,
}

func textNode(s string) node { return node{Text: s} }

// decode undoes mrkdwn's three escapes. It runs on text already parsed, so a
// decoded "<" or "*" is never taken for markup.
var decode = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// renderMrkdwn parses mrkdwn into nodes: ``` code blocks ``` first (nothing is
// formatted inside them), then inline formatting in what is left.
func renderMrkdwn(s string) []node {
	var out []node
	for s != "" {
		open := strings.Index(s, "```")
		if open < 0 {
			break
		}
		end := strings.Index(s[open+3:], "```")
		if end < 0 {
			break
		}
		body := s[open+3 : open+3+end]
		out = append(out, renderInline(s[:open])...)
		out = append(out, node{Tag: "pre", Text: decode.Replace(strings.TrimPrefix(body, "\n"))})
		s = s[open+3+end+3:]
	}
	return append(out, renderInline(s)...)
}

// styles maps a formatting marker to its element.
var styles = map[byte]string{'*': "b", '_': "i", '~': "s"}

// renderInline handles `code`, <entities> and *bold* _italic_ ~strike~.
func renderInline(s string) []node {
	var out []node
	plain := 0 // start of text not yet emitted
	flush := func(end int) {
		if end > plain {
			out = append(out, textNode(decode.Replace(s[plain:end])))
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '`':
			if j := strings.IndexByte(s[i+1:], '`'); j > 0 && !strings.Contains(s[i+1:i+1+j], "\n") {
				flush(i)
				out = append(out, node{Tag: "code", Text: decode.Replace(s[i+1 : i+1+j])})
				i += j + 2
				plain = i
				continue
			}
		case c == '<':
			if j := strings.IndexAny(s[i+1:], "<>"); j >= 0 && s[i+1+j] == '>' {
				flush(i)
				out = append(out, entity(s[i+1:i+1+j]))
				i += j + 2
				plain = i
				continue
			}
		case styles[c] != "" && opens(s, i):
			if j := closing(s, i); j > 0 {
				flush(i)
				out = append(out, node{Tag: styles[c], Kids: renderInline(s[i+1 : j])})
				i = j + 1
				plain = i
				continue
			}
		}
		i++
	}
	flush(len(s))
	return out
}

// opens: a marker opens formatting after the start, a space or punctuation,
// and before a character that is not a space (so "2*3*4" stays as is).
func opens(s string, i int) bool {
	if i+1 >= len(s) || isSpace(s[i+1:]) {
		return false
	}
	if i == 0 {
		return true
	}
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWordRune(prev)
}

// closing finds the marker that closes the one at i on the same line: after
// a non-space, before the end, a space or punctuation.
func closing(s string, i int) int {
	c := s[i]
	for j := i + 2; j < len(s); j++ {
		switch s[j] {
		case '\n':
			return -1
		case c:
			before, _ := utf8.DecodeLastRuneInString(s[:j])
			if unicode.IsSpace(before) {
				continue
			}
			if j+1 == len(s) {
				return j
			}
			if next, _ := utf8.DecodeRuneInString(s[j+1:]); !isWordRune(next) {
				return j
			}
		}
	}
	return -1
}

func isSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// entity renders what was between < and >: a link, a mention, a special
// (<!here>, <!date^…|fallback>), or, if it is none of those, the text itself.
func entity(inner string) node {
	target, label, hasLabel := strings.Cut(inner, "|")
	label = decode.Replace(label)
	switch {
	case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
		if hasLabel {
			return node{Tag: "span", Class: "mention", Text: target[:1] + label}
		}
		return node{Tag: "span", Class: "mention", Text: decode.Replace(target)}
	case strings.HasPrefix(target, "!"):
		if hasLabel {
			return node{Tag: "span", Class: "mention", Text: label}
		}
		name, _, _ := strings.Cut(target[1:], "^")
		return node{Tag: "span", Class: "mention", Text: "@" + decode.Replace(name)}
	}
	href := decode.Replace(target)
	if !safeHref(href) {
		return textNode("<" + decode.Replace(inner) + ">")
	}
	if !hasLabel || label == "" {
		label = href
	}
	return node{Tag: "a", Href: href, Text: label}
}

// safeHref accepts only web and mail links: never javascript:, data: or a
// relative URL that would point into the emulator.
func safeHref(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "mailto":
		return u.Opaque != ""
	}
	return false
}
