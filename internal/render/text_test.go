package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFitKeepsATextThatFitsAndCutsOneThatDoesNot(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	assert.Equal(t, a(100), fit(a(100), 100), "exactly the limit: whole")
	// One over: as many characters as leave room for any marker, then the
	// marker counting the rest.
	kept := 100 - markerReserve
	assert.Equal(t, a(kept)+fmt.Sprintf("…(%d more characters)", 101-kept), fit(a(101), 100))
	// Entities count whole: "&amp;" is 5 characters, and is never split.
	assert.Equal(t, strings.Repeat("&amp;", 20), fit(strings.Repeat("&", 20), 100))
	assert.Equal(t, strings.Repeat("&lt;", 25), fit(strings.Repeat("<", 25), 100))
	assert.Equal(t, strings.Repeat("&gt;", 25), fit(strings.Repeat(">", 25), 100))
	assert.Equal(t, strings.Repeat(`\x07`, 25), fit(strings.Repeat("\a", 25), 100))
	assert.Equal(t, strings.Repeat(`\xff`, 25), fit(strings.Repeat("\xff", 25), 100))
	assert.Equal(t, strings.Repeat("\n\t", 50), fit(strings.Repeat("\n\t", 50), 100))
	assert.Equal(t, strings.Repeat(" ~", 50), fit(strings.Repeat(" ~", 50), 100), "the printable edges count once")
	assert.Equal(t, strings.Repeat("é", 100), fit(strings.Repeat("é", 100), 100), "characters, not bytes")
	for _, c := range []string{"&", "<", ">", "\a", "\x7f", "\xff"} {
		assert.Contains(t, fit(strings.Repeat(c, 26), 100), "more characters)", "%q is longer once escaped", c)
	}
	// A limit below the marker's own size keeps no character of the text:
	// only the marker says what was there.
	assert.Equal(t, "…(100 more characters)", fit(a(100), 10))
}

func TestClipKeepsATextThatFits(t *testing.T) {
	assert.Equal(t, "abcde", clip("abcde", 5))
	assert.Equal(t, "abc…", clip("abcdef", 4))
	// Clipped inside the first entity: nothing of it is left.
	assert.Equal(t, "…", clipEscaped("&amp;&amp;", 4))
	assert.Equal(t, "&amp;…", clipEscaped("&amp;&amp;", 9))
}
