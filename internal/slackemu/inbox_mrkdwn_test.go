package slackemu

import (
	"html"
	"strings"
	"testing"
)

// htmlOf writes nodes as HTML, text escaped, so that a test can compare
// structure and text at a glance. Only the tests need it: the page builds
// DOM from the nodes.
func htmlOf(nodes []node) string {
	var sb strings.Builder
	var write func(n node)
	write = func(n node) {
		if n.Tag == "" {
			sb.WriteString(html.EscapeString(n.Text))
			return
		}
		sb.WriteString("<" + n.Tag)
		if n.Class != "" {
			sb.WriteString(` class="` + html.EscapeString(n.Class) + `"`)
		}
		if n.Href != "" {
			sb.WriteString(` href="` + html.EscapeString(n.Href) + `"`)
		}
		if n.Act != nil {
			sb.WriteString(` value="` + html.EscapeString(n.Act.Value) + `"`)
		}
		sb.WriteString(">" + html.EscapeString(n.Text))
		for _, k := range n.Kids {
			write(k)
		}
		sb.WriteString("</" + n.Tag + ">")
	}
	for _, n := range nodes {
		write(n)
	}
	return sb.String()
}

func TestRenderMrkdwn(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"*bold* and _italic_ and ~strike~", "<b>bold</b> and <i>italic</i> and <s>strike</s>"},
		{"*bold _and italic_*", "<b>bold <i>and italic</i></b>"},
		{"(*in parens*), *x*.", "(<b>in parens</b>), <b>x</b>."},
		{"2*3*4 snake_case_name a ~ b ~ c", "2*3*4 snake_case_name a ~ b ~ c"},
		{"x*y* z", "x*y* z"},
		{"*a*b c", "*a*b c"},
		{"*unclosed", "*unclosed"},
		{"* not bold *", "* not bold *"},
		{"*across\nlines*", "*across\nlines*"},
		{"use `go test` now", "use <code>go test</code> now"},
		{"`*not bold* &lt;x&gt;`", "<code>*not bold* &lt;x&gt;</code>"},
		{"before ```line 1\n*not bold*\n&lt;b&gt;``` after", "before <pre>line 1\n*not bold*\n&lt;b&gt;</pre> after"},
		{"```\nfirst line\n```", "<pre>first line\n</pre>"},
		{"```unclosed", "```unclosed"},
		{"a ``````b", "a <pre></pre>b"},
		{"see <https://example.com/a?b=1&amp;c=2|the runbook>", `see <a href="https://example.com/a?b=1&amp;c=2">the runbook</a>`},
		{"<https://example.com>", `<a href="https://example.com">https://example.com</a>`},
		{"<mailto:ops@example.com|mail ops>", `<a href="mailto:ops@example.com">mail ops</a>`},
		{"<javascript:alert(1)|click>", "&lt;javascript:alert(1)|click&gt;"},
		{"<data:text/html,x>", "&lt;data:text/html,x&gt;"},
		{"</relative/path>", "&lt;/relative/path&gt;"},
		{"cc <!here> <@U123> <#C42|ops> <#C43> <!subteam^S1|@oncall> <!date^1700000000^{date}|Nov 14>",
			`cc <span class="mention">@here</span> <span class="mention">@U123</span> <span class="mention">#ops</span> ` +
				`<span class="mention">#C43</span> <span class="mention">@oncall</span> <span class="mention">Nov 14</span>`},
		{"a &lt; b &gt; c &amp; d &amp;lt;", "a &lt; b &gt; c &amp; d &amp;lt;"},
		{"&lt;https://example.com|escaped&gt; is not a link", "&lt;https://example.com|escaped&gt; is not a link"},
		{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"*&lt;img src=x onerror=alert(1)&gt;*", "<b>&lt;img src=x onerror=alert(1)&gt;</b>"},
		{"_émigré_ *日本*", "<i>émigré</i> <b>日本</b>"},
	} {
		if got := htmlOf(renderMrkdwn(c.in)); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestRenderBody(t *testing.T) {
	blocks := `[
		{"type":"header","text":{"type":"plain_text","text":"💥 3 records &amp; more"}},
		{"type":"section","block_id":"otel-abc-s","text":{"type":"mrkdwn","text":"*ERROR* · checkout\n` + "```boom &lt;1&gt;```" + `"},
		 "accessory":{"type":"overflow","action_id":"otel_menu","options":[
			{"text":{"type":"plain_text","text":"Mute 1h"},"value":"mute:abc:1h"},
			{"text":{"type":"plain_text","text":"Ack"},"value":"ack:abc"}]}},
		{"type":"section","fields":[{"type":"mrkdwn","text":"*Service*\ncheckout"},{"type":"plain_text","text":"x &lt; y"}]},
		{"type":"context","elements":[{"type":"mrkdwn","text":"first _14:00_"},{"type":"image","image_url":"https://x","alt_text":"logo"}]},
		{"type":"divider"},
		{"type":"actions","block_id":"acts","elements":[
			{"type":"button","action_id":"ack","text":{"type":"plain_text","text":"Acknowledge"},"value":"v1","style":"primary"},
			{"type":"static_select","action_id":"sel"}]},
		{"type":"rich_text","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"rich"}]}]},
		{"type":"video"}
	]`
	want := `<div class="block header">💥 3 records &amp; more</div>` +
		`<div class="block section"><div class="text"><b>ERROR</b> · checkout
<pre>boom &lt;1&gt;</pre></div><div class="accessory"><details class="overflow"><summary>⋯</summary><div class="menu">` +
		`<button class="option" value="mute:abc:1h">Mute 1h</button><button class="option" value="ack:abc">Ack</button></div></details></div></div>` +
		`<div class="block section"><div class="fields"><div class="field"><b>Service</b>
checkout</div><div class="field">x &lt; y</div></div></div>` +
		`<div class="block context"><span class="element">first <i>14:00</i></span><span class="element">[logo]</span></div>` +
		`<div class="block divider"><hr></hr></div>` +
		`<div class="block actions"><button class="button primary" value="v1">Acknowledge</button><span class="unknown">[static_select]</span></div>` +
		`<div class="block rich_text">rich</div>` +
		`<div class="block video">[video]</div>`
	body := renderBody("fallback", []byte(blocks))
	if got := htmlOf(body); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// The overflow's options and the button carry what a click sends.
	menu := body[1].Kids[1].Kids[0].Kids[1].Kids[0]
	if body[1].Block != "otel-abc-s" || *menu.Act != (action{BlockID: "otel-abc-s", ActionID: "otel_menu", Value: "mute:abc:1h"}) {
		t.Errorf("overflow option: block %q, action %+v", body[1].Block, menu.Act)
	}
	if b := body[5].Kids[0]; *b.Act != (action{BlockID: "acts", ActionID: "ack", Value: "v1"}) {
		t.Errorf("button action %+v", b.Act)
	}

	// No blocks: the text is the message (a webhook post).
	if got := htmlOf(renderBody("*hi* &lt;there&gt;", nil)); got != `<div class="text"><b>hi</b> &lt;there&gt;</div>` {
		t.Errorf("text only: %s", got)
	}
}

// Only Slack's two button styles are shown; a button without one is plain.
func TestRenderButtonStyles(t *testing.T) {
	blocks := `[{"type":"actions","elements":[
		{"type":"button","text":{"type":"plain_text","text":"Delete"},"value":"d","style":"danger"},
		{"type":"button","text":{"type":"plain_text","text":"Open"},"value":"o"}]}]`
	want := `<div class="block actions"><button class="button danger" value="d">Delete</button>` +
		`<button class="button" value="o">Open</button></div>`
	if got := htmlOf(renderBody("fallback", []byte(blocks))); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
