package group

import (
	"strings"
)

// maskVariableParts rewrites text so that records differing only in their
// variable parts share a fingerprint: every run of letters and digits that
// holds a digit (numbers, durations like 31ms, hex ids, UUID and IP parts)
// becomes "#", and every quoted value becomes "'…'". "timeout after 31ms for
// user 42" and "timeout after 87ms for user 7" both become
// "timeout after # for user #".
func maskVariableParts(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '"' || c == '\'':
			if end := strings.IndexByte(text[i+1:], c); end >= 0 && !strings.Contains(text[i+1:i+1+end], "\n") {
				b.WriteString("'…'")
				i += end + 2
				continue
			}
			b.WriteByte(c)
			i++
		case isAlnum(c):
			j, digit := i, false
			for j < len(text) && isAlnum(text[j]) {
				digit = digit || (text[j] >= '0' && text[j] <= '9')
				j++
			}
			if digit {
				b.WriteByte('#')
			} else {
				b.WriteString(text[i:j])
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}
