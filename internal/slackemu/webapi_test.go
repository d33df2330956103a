package slackemu

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

var tsPattern = regexp.MustCompile(`^\d{10}\.\d{6}$`)

func TestPostMessageWithSlackGo(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)

	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "payment failed", false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "card declined &lt;A-1&gt;", false, true),
			[]*slack.TextBlockObject{slack.NewTextBlockObject(slack.MarkdownType, "*Service*\ncheckout", false, false)}, nil),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "first seen 12:00", false, false)),
		slack.NewDividerBlock(),
	}
	ch, ts, err := api.PostMessage("#alerts",
		slack.MsgOptionText("payment failed", false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl())
	if err != nil {
		t.Fatal(err)
	}
	if ch != channelID("#alerts") || !strings.HasPrefix(ch, "C") || len(ch) != 9 {
		t.Errorf("channel = %q, want the id of #alerts %q", ch, channelID("#alerts"))
	}
	if !tsPattern.MatchString(ts) {
		t.Errorf("ts = %q, want seconds.micros", ts)
	}

	msgs := emu.Messages()
	if len(msgs) != 1 {
		t.Fatalf("stored %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Seq != 1 || m.Via != "api" || m.Channel != "#alerts" || m.ChannelID != ch || m.TS != ts || m.Text != "payment failed" {
		t.Errorf("stored %+v", m)
	}
	var got []map[string]any
	if err := json.Unmarshal(m.Blocks, &got); err != nil || len(got) != 4 || got[0]["type"] != "header" {
		t.Errorf("blocks = %s (%v)", m.Blocks, err)
	}
	if m.Params["unfurl_links"] != "false" {
		t.Errorf("params = %v, want unfurl_links=false recorded", m.Params)
	}
	if _, ok := m.Params["token"]; ok {
		t.Error("the token must not be stored")
	}
}

func TestChannelNameAndIDAreOneChannel(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	id1, _, err1 := api.PostMessage("alerts", slack.MsgOptionText("a", false))
	id2, _, err2 := api.PostMessage("#Alerts", slack.MsgOptionText("b", false))
	id3, _, err3 := api.PostMessage(id1, slack.MsgOptionText("c", false))
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if id1 != id2 || id2 != id3 {
		t.Errorf("ids %s %s %s, want one channel", id1, id2, id3)
	}
	for _, m := range emu.Messages() {
		if m.Channel != "#alerts" {
			t.Errorf("channel = %q, want #alerts", m.Channel)
		}
	}
	if channelID("#other") == id1 {
		t.Error("different names must get different ids")
	}
}

func TestChannelNotFound(t *testing.T) {
	_, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	for _, ch := range []string{"C0NOTKNOWN", "", "#"} {
		_, _, err := api.PostMessage(ch, slack.MsgOptionText("x", false))
		assertSlackError(t, err, "channel_not_found")
	}
}

func TestTimestampsAreUniqueAndIncreasing(t *testing.T) {
	_, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	last := ""
	for i := range 30 {
		_, ts, err := api.PostMessage("#alerts", slack.MsgOptionText("x", false))
		if err != nil {
			t.Fatal(err)
		}
		if ts <= last { // same width, so string order is numeric order
			t.Fatalf("post %d: ts %s not after %s", i, ts, last)
		}
		last = ts
	}
}

func TestAuth(t *testing.T) {
	_, base := newEmu(t, Options{Token: "xoxb-right"})

	_, _, err := apiClient(base, "xoxb-wrong").PostMessage("#alerts", slack.MsgOptionText("x", false))
	assertSlackError(t, err, "invalid_auth")
	_, _, err = apiClient(base, "").PostMessage("#alerts", slack.MsgOptionText("x", false))
	assertSlackError(t, err, "not_authed")
	if _, err := apiClient(base, "xoxb-right").AuthTest(); err != nil {
		t.Errorf("auth.test: %v", err)
	}

	// JSON bodies carry the token in a Bearer header, and so may form posts.
	body := `{"channel":"#alerts","text":"hi"}`
	for _, tc := range []struct{ header, want string }{
		{"Bearer xoxb-right", `"ok":true`},
		{"Bearer xoxb-wrong", `"error":"invalid_auth"`},
		{"", `"error":"not_authed"`},
	} {
		a := do(t, "POST", base+"/api/chat.postMessage", "application/json; charset=utf-8", body, "Authorization", tc.header)
		if a.status != 200 || !strings.Contains(a.body, tc.want) {
			t.Errorf("JSON with %q: %d %s, want %s", tc.header, a.status, a.body, tc.want)
		}
	}
	a := do(t, "POST", base+"/api/chat.postMessage", "application/x-www-form-urlencoded",
		"channel=%23alerts&text=hi", "Authorization", "Bearer xoxb-right")
	if !strings.Contains(a.body, `"ok":true`) {
		t.Errorf("form with Bearer header: %s", a.body)
	}
}

func TestNoText(t *testing.T) {
	_, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	_, _, err := api.PostMessage("#alerts")
	assertSlackError(t, err, "no_text")
	_, _, err = api.PostMessage("#alerts", slack.MsgOptionBlocks()) // blocks=[]
	assertSlackError(t, err, "no_text")
}

func TestUpdate(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	ch, ts, err := api.PostMessage("#alerts", slack.MsgOptionText("1 error", false))
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"2 errors", "3 errors"} {
		if _, _, _, err := api.UpdateMessage(ch, ts, slack.MsgOptionText(text, false)); err != nil {
			t.Fatal(err)
		}
	}
	m := emu.Messages()[0]
	if m.Text != "3 errors" || m.Updates != 2 || m.UpdatedAt.IsZero() || m.UpdatedAt.Before(m.ReceivedAt) {
		t.Errorf("after 2 updates: %+v", m)
	}

	// Blocks only: the text stays, the blocks are replaced.
	blocks := slack.MsgOptionBlocks(slack.NewDividerBlock())
	if _, _, _, err := api.UpdateMessage("#alerts", ts, blocks); err != nil {
		t.Fatalf("update by channel name: %v", err)
	}
	if m := emu.Messages()[0]; m.Text != "3 errors" || string(m.Blocks) != `[{"type":"divider"}]` {
		t.Errorf("after blocks update: text %q blocks %s", m.Text, m.Blocks)
	}

	_, _, _, err = api.UpdateMessage(ch, "1.000001", slack.MsgOptionText("x", false))
	assertSlackError(t, err, "message_not_found")
	_, _, _, err = api.UpdateMessage(channelID("#other"), ts, slack.MsgOptionText("x", false))
	assertSlackError(t, err, "channel_not_found") // never used, so not a known id
	if len(emu.Messages()) != 1 {
		t.Error("an update must not add a message")
	}
}

func TestThreadReply(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	ch, parent, err := api.PostMessage("#alerts", slack.MsgOptionText("storm", false))
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := api.PostMessage(ch, slack.MsgOptionText("details", false), slack.MsgOptionTS(parent))
	if err != nil {
		t.Fatal(err)
	}
	if m := emu.Messages()[1]; m.ThreadTS != parent || m.TS != reply {
		t.Errorf("reply stored as %+v, want thread_ts %s", m, parent)
	}

	_, _, err = api.PostMessage(ch, slack.MsgOptionText("x", false), slack.MsgOptionTS(reply))
	assertSlackError(t, err, "thread_not_found") // a reply's ts is not a thread
	_, _, err = api.PostMessage(ch, slack.MsgOptionText("x", false), slack.MsgOptionTS("1.000002"))
	assertSlackError(t, err, "thread_not_found")
	_, _, err = api.PostMessage("#elsewhere", slack.MsgOptionText("x", false), slack.MsgOptionTS(parent))
	assertSlackError(t, err, "thread_not_found") // threads belong to one channel
}

func TestJSONBodyWithBlocks(t *testing.T) {
	emu, base := newEmu(t, Options{})
	body := `{"channel":"alerts","text":"fallback","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}],"unfurl_links":false}`
	a := do(t, "POST", base+"/api/chat.postMessage", "application/json", body, "Authorization", "Bearer "+DefaultToken)
	var resp struct {
		OK      bool   `json:"ok"`
		Channel string `json:"channel"`
		TS      string `json:"ts"`
		Message struct {
			Text   string            `json:"text"`
			Blocks []json.RawMessage `json:"blocks"`
		} `json:"message"`
	}
	if err := json.Unmarshal([]byte(a.body), &resp); err != nil || !resp.OK {
		t.Fatalf("%d %s (%v)", a.status, a.body, err)
	}
	if resp.Channel != channelID("#alerts") || resp.Message.Text != "fallback" || len(resp.Message.Blocks) != 1 {
		t.Errorf("answer %+v", resp)
	}
	if m := emu.Messages()[0]; m.Params["unfurl_links"] != "false" || len(m.Blocks) == 0 {
		t.Errorf("stored %+v", m)
	}
}

func TestUnknownMethodAndParseErrors(t *testing.T) {
	_, base := newEmu(t, Options{})
	if a := postForm(t, base, "chat.delete", url.Values{}); !strings.Contains(a.body, "unknown_method") {
		t.Errorf("unknown method: %s", a.body)
	}
	a := do(t, "POST", base+"/api/chat.postMessage", "application/json", `{not json`, "Authorization", "Bearer "+DefaultToken)
	if !strings.Contains(a.body, `"invalid_json"`) {
		t.Errorf("bad JSON: %s", a.body)
	}
	a = do(t, "POST", base+"/api/chat.postMessage", "application/json", `{"channel":"#a","text":7}`, "Authorization", "Bearer "+DefaultToken)
	if !strings.Contains(a.body, `"invalid_arguments"`) {
		t.Errorf("text of the wrong type: %s", a.body)
	}
}

func assertSlackError(t *testing.T, err error, want string) {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != want {
		t.Errorf("error = %v (%T), want Slack error %q", err, err, want)
	}
}
