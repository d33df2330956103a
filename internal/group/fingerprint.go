package group

import (
	"strings"
)

// maskVariableParts rewrites text so that records differing only in their
// variable parts share a fingerprint: a UUID, every run of letters and
// digits that holds a digit (numbers, durations like 31ms, hex ids, IP
// parts) and every hex run of 8 or more becomes "#", and every quoted value
// becomes "'…'". "timeout after 31ms for
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
		case isUUID(text[i:]):
			b.WriteByte('#')
			i += uuidLen
		case isAlnum(c):
			j, digit, hex := i, false, true
			for j < len(text) && isAlnum(text[j]) {
				digit = digit || (text[j] >= '0' && text[j] <= '9')
				hex = hex && isHex(text[j])
				j++
			}
			if digit || (hex && j-i >= 8) {
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

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

const uuidLen = 36

// isUUID reports whether s starts with a UUID (8-4-4-4-12 hex digits), which
// may have groups of letters only.
func isUUID(s string) bool {
	if len(s) < uuidLen || (len(s) > uuidLen && isAlnum(s[uuidLen])) {
		return false
	}
	for i := 0; i < uuidLen; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}
