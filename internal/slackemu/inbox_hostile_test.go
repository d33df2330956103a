package slackemu

import (
	"encoding/json"
	"strings"
	"testing"
)

// Log text is untrusted, and the inbox shows it. These tests feed hostile
// strings through every place a message can hold text and check the tree
// the page builds its DOM from: no element other than the renderer's own,
// no link but http, https and mailto, and the string shown as text.

// hostile is HTML and script injection as log records could carry it. None
// holds a mrkdwn marker (* _ ~ `), so any element beyond those the same
// message makes for a plain "x" would come from the data.
var hostile = []string{
	"<script>alert(1)</script>",
	"<img src=x onerror=alert(1)>",
	"<svg onload=alert(1)>",
	"<iframe src=javascript:alert(1)></iframe>",
	"\"><script>alert(document.cookie)</script>",
	"'><img src=x onerror=alert(1)//",
	"</pre><script>alert(1)</script><pre>",
	"</code></b></div><script src=https://evil.example/x.js></script>",
	"<a href=\"javascript:alert(1)\">click</a>",
	"<body onload=alert(1)>",
	"<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
	"<style>body{display:none}</style>",
	"<link rel=stylesheet href=https://evil.example/x.css>",
	"<meta http-equiv=refresh content=\"0;url=https://evil.example\">",
	"<object data=javascript:alert(1)>",
	"<!-- comment --><![CDATA[<script>x</script>]]>",
	"&lt;script&gt;alert(1)&lt;/script&gt;",
	"&amp;lt;img src=x onerror=alert(1)&amp;gt;",
	"&#60;script&#62;alert(1)&#60;/script&#62;",
	"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
	"<javascript:alert(1)|innocent link>",
	"<data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==|open>",
	"<https://example.com\" onmouseover=\"alert(1)|hover me>",
	"<!here> <!channel> <@U123> ping",
	"<<script>>alert(1)<</script>>",
	"<scr<script>ipt>alert(1)</scr</script>ipt>",
	"\x00<script>alert(1)</script>\x00",
	"<ScRiPt>alert(1)</sCrIpT>",
	"<img\nsrc=x\nonerror=alert(1)>",
	"\u202e<script>alert(1)</script>", // right-to-left override
}

// escapeMrkdwn escapes log text the way the exporter does before it
// reaches Slack.
var escapeMrkdwn = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// hostileMessage puts s (already escaped or not) in every text position of
// a message: header, section, code block, inline code, link label, field,
// context, button, overflow option; and returns its blocks.
func hostileMessage(s string) json.RawMessage {
	text := func(typ, v string) map[string]any { return map[string]any{"type": typ, "text": v} }
	blocks := []map[string]any{
		{"type": "header", "text": text("plain_text", s)},
		{"type": "section", "block_id": "b1", "text": text("mrkdwn", "A "+s+" B\n```"+s+"```\n`"+s+"` <https://example.com|"+s+">"),
			"fields":    []any{text("mrkdwn", s), text("plain_text", s)},
			"accessory": map[string]any{"type": "overflow", "action_id": "menu", "options": []any{map[string]any{"text": text("plain_text", s), "value": s}}}},
		{"type": "context", "elements": []any{text("mrkdwn", s), text("plain_text", s)}},
		{"type": "actions", "block_id": "b2", "elements": []any{map[string]any{"type": "button", "action_id": "a", "text": text("plain_text", s), "value": s}}},
	}
	b, _ := json.Marshal(blocks)
	return b
}

// skeleton lists a tree's elements (tag.class, in order); text is left out.
func skeleton(nodes []node) string {
	var sb strings.Builder
	walk(nodes, func(n node) {
		if n.Tag != "" {
			sb.WriteString(n.Tag + "." + n.Class + " ")
		}
	})
	return sb.String()
}

// extraElements names the elements got has more of than plain ("" if
// none). Fewer is fine: text with a newline is not inline code.
func extraElements(plain, got string) string {
	count := map[string]int{}
	for _, e := range strings.Fields(plain) {
		count[e]++
	}
	var extra []string
	for _, e := range strings.Fields(got) {
		if count[e]--; count[e] < 0 {
			extra = append(extra, e)
		}
	}
	return strings.Join(extra, " ")
}

func walk(nodes []node, f func(node)) {
	for _, n := range nodes {
		f(n)
		walk(n.Kids, f)
	}
}

func textContent(nodes []node) string {
	var sb strings.Builder
	walk(nodes, func(n node) { sb.WriteString(n.Text) })
	return sb.String()
}

// checkSafe fails if the tree holds an element the page does not allow or a
// link that is not http, https or mailto.
func checkSafe(t *testing.T, what string, nodes []node) {
	t.Helper()
	walk(nodes, func(n node) {
		if n.Tag != "" && !inboxTags[n.Tag] {
			t.Errorf("%s: element <%s> is not allowed", what, n.Tag)
		}
		if n.Href != "" && (n.Tag != "a" || !safeHref(n.Href)) {
			t.Errorf("%s: <%s> links to %q", what, n.Tag, n.Href)
		}
	})
}

func TestHostileTextYieldsNoElement(t *testing.T) {
	plain := skeleton(renderBody("x", hostileMessage("x")))
	positions := strings.Count(string(hostileMessage("x")), `"x"`) + 3 // + code block, inline code, link label
	elements := 0
	for _, s := range hostile {
		// As the exporter sends it: shown as the literal text, no element of its own.
		body := renderBody(escapeMrkdwn(s), hostileMessage(escapeMrkdwn(s)))
		checkSafe(t, s, body)
		if extra := extraElements(plain, skeleton(body)); extra != "" {
			elements++
			t.Errorf("%q made elements of its own: %s", s, extra)
		}
		if n := strings.Count(textContent(body), s); n < positions-1 { // the option value is not shown
			t.Errorf("%q is shown as text %d times, want %d", s, n, positions-1)
		}
		fallback := renderBody(escapeMrkdwn(s), nil)
		if got := textContent(fallback); got != s || skeleton(fallback) != "div.text " {
			t.Errorf("fallback text %q rendered as %q (%s)", s, got, skeleton(fallback))
		}
		// Posted raw, as a careless webhook poster might: Slack would read
		// its <…> as links or mentions, but nothing becomes markup.
		checkSafe(t, "raw "+s, renderBody(s, hostileMessage(s)))
		checkSafe(t, "raw fallback "+s, renderBody(s, nil))
	}
	t.Logf("%d hostile strings × %d text positions, escaped as the exporter sends them: %d made an element; raw: none outside the allow-list",
		len(hostile), positions, elements)
}

// Any text, escaped as the exporter escapes it and free of formatting
// markers, is shown exactly as it was; and nothing renders to an element
// outside the allow-list or to an unsafe link.
func FuzzRenderMrkdwn(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Add("*b* _i_ ~s~ `c` ```pre``` <https://x.example|l> <!here> &amp;lt;")
	f.Fuzz(func(t *testing.T, s string) {
		checkSafe(t, s, renderMrkdwn(s))
		escaped := renderMrkdwn(escapeMrkdwn(s))
		checkSafe(t, s, escaped)
		if !strings.ContainsAny(s, "*_~`") {
			if got := textContent(escaped); got != s {
				t.Errorf("%q is shown as %q", s, got)
			}
			if sk := skeleton(escaped); sk != "" {
				t.Errorf("%q made elements: %s", s, sk)
			}
		}
	})
}

// The cost of rendering a message full of hostile text, per message.
func BenchmarkRenderHostile(b *testing.B) {
	msgs := make([]json.RawMessage, len(hostile))
	for i, s := range hostile {
		msgs[i] = hostileMessage(escapeMrkdwn(s))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		renderBody("", msgs[i%len(msgs)])
	}
}
