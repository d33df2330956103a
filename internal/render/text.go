package render

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// escape makes log text inert in mrkdwn: Slack's three entities, so no
// mention, channel link or URL markup can come from a record. Invalid UTF-8
// and control characters (other than newline and tab) become visible \xNN
// escapes instead of reaching Slack as garbage.
func escape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			writeHex(&b, s[i])
			i++
			continue
		}
		writeEscapedRune(&b, r)
		i += size
	}
	return b.String()
}

func writeEscapedRune(b *strings.Builder, r rune) {
	switch {
	case r == '&':
		b.WriteString("&amp;")
	case r == '<':
		b.WriteString("&lt;")
	case r == '>':
		b.WriteString("&gt;")
	case r == '\n' || r == '\t':
		b.WriteRune(r)
	case r < 0x20 || r == 0x7f:
		writeHex(b, byte(r))
	default:
		b.WriteRune(r)
	}
}

func writeHex(b *strings.Builder, c byte) {
	const digits = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(digits[c>>4])
	b.WriteByte(digits[c&0xf])
}

// truncationMarker is what replaces a cut: "…(1234 more characters)".
func truncationMarker(more int) string {
	return "…(" + strconv.Itoa(more) + " more characters)"
}

// markerReserve is enough room for any marker (counts up to 10^15).
const markerReserve = len("…(999999999999999 more characters)")

// fit returns escape(s) within limit characters (runes). When s is too long
// it keeps as many whole characters of s as fit, then the marker, which
// counts the characters of s left out. Entities are never cut in half.
func fit(s string, limit int) string {
	budget := limit - markerReserve
	used, cut := 0, -1
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		n := escapedLen(r, size)
		if cut < 0 && used+n > budget {
			cut = i
		}
		if used += n; used > limit {
			// Too long: stop reading (bodies can be megabytes).
			kept := utf8.RuneCountInString(s[:cut])
			return escape(s[:cut]) + truncationMarker(utf8.RuneCountInString(s)-kept)
		}
		i += size
	}
	return escape(s)
}

// escapedLen is how many characters escape turns one decoded rune into.
func escapedLen(r rune, size int) int {
	switch {
	case r == utf8.RuneError && size <= 1:
		return 4
	case r == '&':
		return 5
	case r == '<' || r == '>':
		return 4
	case r == '\n' || r == '\t':
		return 1
	case r < 0x20 || r == 0x7f:
		return 4
	}
	return 1
}

// clip shortens plain text (already safe) to limit characters with "…".
func clip(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	return string(r[:limit-1]) + "…"
}

// clipEscaped is clip for text that is already escaped: it never leaves
// half an entity ("&am…") behind.
func clipEscaped(s string, limit int) string {
	c := clip(s, limit)
	if c == s {
		return s
	}
	kept := strings.TrimSuffix(c, "…")
	if amp := strings.LastIndexByte(kept, '&'); amp >= 0 && !strings.Contains(kept[amp:], ";") {
		kept = kept[:amp]
	}
	return kept + "…"
}

// breakFences keeps a body from closing the code block it is shown in: a run
// of three backticks gets a zero-width space after the second.
func breakFences(s string) string {
	if !strings.Contains(s, "```") {
		return s
	}
	return strings.ReplaceAll(s, "``", "`\u200b`")
}
