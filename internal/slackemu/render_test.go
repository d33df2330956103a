package slackemu

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRenderText(t *testing.T) {
	at := time.Date(2024, 5, 1, 14, 3, 7, 512e6, time.Local)
	blocks := `[
		{"type":"header","text":{"type":"plain_text","text":"ERROR checkout: payment failed"}},
		{"type":"section","text":{"type":"mrkdwn","text":"card declined for &lt;A-1&gt; &amp; retried\nsee <https://runbook.example/pay|runbook>"},
		 "fields":[{"type":"mrkdwn","text":"*Service*\ncheckout"},{"type":"mrkdwn","text":"*Count:*\n12"},{"type":"plain_text","text":"no label"}]},
		{"type":"context","elements":[{"type":"mrkdwn","text":"first seen 14:03:01"},{"type":"mrkdwn","text":"last seen 14:03:07"},{"type":"image","image_url":"x","alt_text":"logo"}]},
		{"type":"divider"}
	]`
	msgs := []Message{
		{Channel: "#alerts", ReceivedAt: at, Updates: 2, Blocks: json.RawMessage(blocks), Text: "fallback"},
		{Channel: "#alerts", ReceivedAt: at, ThreadTS: "1714572187.000100", Text: "cc <!here> about <@U123> in <#C42|ops>: x &lt; y"},
		{Channel: "webhook/T1/B1", ReceivedAt: at, Updates: 1, Text: "line one\nline two"},
	}
	var sb strings.Builder
	RenderText(&sb, msgs)
	want := `▸ #alerts · 14:03:07.512 · updated 2 times
  ▌ ERROR checkout: payment failed
  card declined for <A-1> & retried
  see runbook (https://runbook.example/pay)
    Service: checkout
    Count: 12
    no label
  first seen 14:03:01 · last seen 14:03:07 · [logo]
  ────────────────────────────────────────

▸ #alerts · 14:03:07.512 · reply in thread 1714572187.000100
  cc @here about @U123 in #ops: x < y

▸ webhook/T1/B1 · 14:03:07.512 · updated 1 time
  line one
  line two
`
	if got := sb.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	sb.Reset()
	RenderText(&sb, nil)
	if sb.String() != "(no messages)\n" {
		t.Errorf("empty: %q", sb.String())
	}
}
