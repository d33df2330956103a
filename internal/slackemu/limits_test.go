package slackemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// Multi-byte letters make sure limits count characters, not bytes.
func chars(n int) string { return strings.Repeat("é", n) }

func section(text string) string {
	return fmt.Sprintf(`{"type":"section","text":{"type":"mrkdwn","text":%q}}`, text)
}

func field(text string) string { return fmt.Sprintf(`{"type":"mrkdwn","text":%q}`, text) }

func repeatJoin(item string, n int) string {
	return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
}

func blocksOf(items ...string) string { return "[" + strings.Join(items, ",") + "]" }

var limitCases = []struct {
	name   string
	text   string
	blocks string
	want   string // "" = accepted
}{
	{"text at limit", chars(MaxTextChars), "", ""},
	{"text over limit", chars(MaxTextChars + 1), "", "msg_too_long"},
	{"50 blocks", "", blocksOf(repeatJoin(`{"type":"divider"}`, 50)), ""},
	{"51 blocks", "", blocksOf(repeatJoin(`{"type":"divider"}`, 51)), "invalid_blocks"},
	{"section text at limit", "", blocksOf(section(chars(3000))), ""},
	{"section text over limit", "", blocksOf(section(chars(3001))), "invalid_blocks"},
	{"empty section text", "", blocksOf(section("")), "invalid_blocks"},
	{"section without text or fields", "", `[{"type":"section"}]`, "invalid_blocks"},
	{"10 fields", "", `[{"type":"section","fields":[` + repeatJoin(field("a"), 10) + `]}]`, ""},
	{"11 fields", "", `[{"type":"section","fields":[` + repeatJoin(field("a"), 11) + `]}]`, "invalid_blocks"},
	{"field at limit", "", `[{"type":"section","fields":[` + field(chars(2000)) + `]}]`, ""},
	{"field over limit", "", `[{"type":"section","fields":[` + field(chars(2001)) + `]}]`, "invalid_blocks"},
	{"header at limit", "", fmt.Sprintf(`[{"type":"header","text":{"type":"plain_text","text":%q}}]`, chars(150)), ""},
	{"header over limit", "", fmt.Sprintf(`[{"type":"header","text":{"type":"plain_text","text":%q}}]`, chars(151)), "invalid_blocks"},
	{"header in mrkdwn", "", `[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]`, "invalid_blocks"},
	{"10 context elements", "", `[{"type":"context","elements":[` + repeatJoin(field("a"), 10) + `]}]`, ""},
	{"11 context elements", "", `[{"type":"context","elements":[` + repeatJoin(field("a"), 11) + `]}]`, "invalid_blocks"},
	{"block_id at limit", "", fmt.Sprintf(`[{"type":"divider","block_id":%q}]`, chars(255)), ""},
	{"block_id over limit", "", fmt.Sprintf(`[{"type":"divider","block_id":%q}]`, chars(256)), "invalid_blocks"},
	{"duplicate block_id", "", `[{"type":"divider","block_id":"a"},{"type":"divider","block_id":"a"}]`, "invalid_blocks"},
	{"unknown block type", "", `[{"type":"sparkle"}]`, "invalid_blocks"},
	{"malformed blocks JSON", "", `[{"type":"divider"`, "invalid_blocks"},
	{"blocks not an array", "", `{"type":"divider"}`, "invalid_blocks"},
	{"blocks total under budget", "", blocksOf(repeatJoin(section(strings.Repeat("x", 3000)), 4)), ""},
	// Go's encoder writes "<" as \u003c; the budget counts characters, not escapes.
	{"escaped characters count once", "", blocksOf(repeatJoin(section(strings.Repeat("<", 3000)), 4)), ""},
	{"blocks total over budget", "", blocksOf(repeatJoin(section(strings.Repeat("x", 2900)), 5)), "msg_blocks_too_long"},
}

func TestLimitsWebAPI(t *testing.T) {
	emu, base := newEmu(t, Options{})
	for _, tc := range limitCases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(emu.Messages())
			form := url.Values{"token": {DefaultToken}, "channel": {"#alerts"}, "text": {tc.text}}
			if tc.blocks != "" {
				form.Set("blocks", tc.blocks)
			}
			a := postForm(t, base, "chat.postMessage", form)
			var resp struct {
				OK    bool   `json:"ok"`
				Error string `json:"error"`
				Meta  struct {
					Messages []string `json:"messages"`
				} `json:"response_metadata"`
			}
			if err := json.Unmarshal([]byte(a.body), &resp); err != nil || a.status != 200 {
				t.Fatalf("%d %.200s", a.status, a.body)
			}
			if resp.Error != tc.want || resp.OK != (tc.want == "") {
				t.Fatalf("error = %q (ok %v), want %q", resp.Error, resp.OK, tc.want)
			}
			if tc.want == "invalid_blocks" && (len(resp.Meta.Messages) == 0 || !strings.Contains(resp.Meta.Messages[0], "json-pointer:/blocks")) {
				t.Errorf("response_metadata should say where: %v", resp.Meta.Messages)
			}
			stored := len(emu.Messages()) - before
			if stored != map[bool]int{true: 1, false: 0}[tc.want == ""] {
				t.Errorf("stored %d messages", stored)
			}
		})
	}
}

func TestLimitsWebhook(t *testing.T) {
	_, base := newEmu(t, Options{})
	for _, tc := range limitCases {
		t.Run(tc.name, func(t *testing.T) {
			payload := map[string]any{"text": tc.text}
			switch {
			case json.Valid([]byte(tc.blocks)):
				payload["blocks"] = json.RawMessage(tc.blocks)
			case tc.blocks != "": // malformed: sent as a string, else the whole body is invalid_payload
				payload["blocks"] = tc.blocks
			}
			body, err := json.Marshal(payload)
			if err != nil {
				t.Fatal(err)
			}
			a := postHook(t, base, "T1/B1/secret", string(body))
			wantStatus, wantBody := 200, "ok"
			if tc.want != "" {
				wantStatus, wantBody = 400, tc.want
			}
			if a.status != wantStatus || a.body != wantBody {
				t.Errorf("got %d %q, want %d %q", a.status, a.body, wantStatus, wantBody)
			}
		})
	}
}

func TestTooManyAttachments(t *testing.T) {
	_, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	many := make([]slack.Attachment, MaxAttachments+1)
	_, _, err := api.PostMessage("#alerts", slack.MsgOptionAttachments(many...))
	assertSlackError(t, err, "too_many_attachments")
	if _, _, err := api.PostMessage("#alerts", slack.MsgOptionAttachments(slack.Attachment{Text: "x"})); err != nil {
		t.Errorf("attachments alone are a message: %v", err)
	}
}

func TestLimitErrorThroughSlackGo(t *testing.T) {
	_, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	long := slack.NewTextBlockObject(slack.MarkdownType, chars(3001), false, false)
	_, _, err := api.PostMessage("#alerts", slack.MsgOptionBlocks(slack.NewSectionBlock(long, nil, nil)))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "invalid_blocks" || len(se.ResponseMetadata.Messages) != 1 ||
		!strings.Contains(se.ResponseMetadata.Messages[0], "/blocks/0/text/text") {
		t.Errorf("err = %#v", err)
	}
}
