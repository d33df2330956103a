package slackemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// blocksOfChars is a blocks array of sections whose canonical JSON is n
// characters.
func blocksOfChars(n int) string {
	full := repeatJoin(section(strings.Repeat("x", 2900)), 4)
	rest := n - len(blocksOf(full, section("")))
	return blocksOf(full, section(strings.Repeat("x", rest)))
}

func TestLimitsAtTheirEdges(t *testing.T) {
	image := `{"type":"image","image_url":"https://example.com/i.png","alt_text":"i"}`
	for _, tc := range []struct {
		name, blocks, want, detail string
	}{
		{"blocks total at the budget", blocksOfChars(MaxBlocksTotalChars), "", ""},
		{"blocks total one over", blocksOfChars(MaxBlocksTotalChars + 1), "msg_blocks_too_long", fmt.Sprintf("the limit is %d", MaxBlocksTotalChars)},
		{"context with an image", `[{"type":"context","elements":[` + image + `,` + field("a") + `]}]`, "", ""},
		{"context with an empty text after a good one", `[{"type":"context","elements":[` + field("a") + `,` + field("") + `]}]`, "invalid_blocks", "/blocks/0/elements/1/text"},
		{"section text one over", blocksOf(section(chars(3001))), "invalid_blocks", "must be less than 3001 characters"},
		{"block_id one over", fmt.Sprintf(`[{"type":"divider","block_id":%q}]`, chars(256)), "invalid_blocks", "must be less than 256 characters"},
		{"block_id not a string", `[{"type":"divider","block_id":7}]`, "invalid_blocks", "/blocks/0/block_id"},
		{"fields not an array", `[{"type":"section","fields":"a"}]`, "invalid_blocks", "/blocks/0/fields"},
		{"context elements not an array", `[{"type":"context","elements":{}}]`, "invalid_blocks", "/blocks/0/elements"},
		{"text not a string", `[{"type":"section","text":{"type":"mrkdwn","text":7}}]`, "invalid_blocks", "/blocks/0/text/text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, base := newEmu(t, Options{})
			a := postForm(t, base, "chat.postMessage", url.Values{"token": {DefaultToken}, "channel": {"#alerts"}, "blocks": {tc.blocks}})
			var resp struct {
				OK    bool   `json:"ok"`
				Error string `json:"error"`
				Meta  struct {
					Messages []string `json:"messages"`
				} `json:"response_metadata"`
			}
			if err := json.Unmarshal([]byte(a.body), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Error != tc.want || resp.OK != (tc.want == "") {
				t.Fatalf("error %q (ok %v), want %q", resp.Error, resp.OK, tc.want)
			}
			if tc.detail != "" && !strings.Contains(strings.Join(resp.Meta.Messages, " "), tc.detail) {
				t.Errorf("the refusal should say %q: %v", tc.detail, resp.Meta.Messages)
			}
		})
	}
}

func TestAttachmentsUpToTheLimit(t *testing.T) {
	_, base := newEmu(t, Options{})
	if _, _, err := apiClient(base, DefaultToken).PostMessage("#alerts", slack.MsgOptionAttachments(make([]slack.Attachment, MaxAttachments)...)); err != nil {
		t.Errorf("%d attachments: %v", MaxAttachments, err)
	}
}

// An error answer carries response_metadata only when there is something
// to say, and an accepted call no Retry-After.
func TestAnswersCarryOnlyWhatApplies(t *testing.T) {
	_, base := newEmu(t, Options{})
	a := postForm(t, base, "chat.postMessage", url.Values{"token": {"xoxb-wrong"}, "channel": {"#alerts"}, "text": {"x"}})
	if a.body != `{"error":"invalid_auth","ok":false}` {
		t.Errorf("invalid_auth: %s", a.body)
	}
	a = postForm(t, base, "chat.postMessage", url.Values{"token": {DefaultToken}, "channel": {"#alerts"}, "text": {"x"}})
	if !strings.Contains(a.body, `"ok":true`) || a.header.Get("Retry-After") != "" {
		t.Errorf("accepted: %q, Retry-After %q", a.body, a.header.Get("Retry-After"))
	}
	if a := postForm(t, base, "auth.test", url.Values{"token": {DefaultToken}}); !strings.Contains(a.body, `"ok":true`) {
		t.Errorf("auth.test with the right token: %s", a.body)
	}
	if a := postForm(t, base, "auth.test", url.Values{"token": {"xoxb-wrong"}}); !strings.Contains(a.body, `"error":"invalid_auth"`) {
		t.Errorf("auth.test with a wrong token: %s", a.body)
	}
}

// An update whose text is null keeps the message's text, as one without
// text does.
func TestAnUpdateWithNullTextKeepsTheText(t *testing.T) {
	emu, base := newEmu(t, Options{})
	_, ts, err := apiClient(base, DefaultToken).PostMessage("#alerts", slack.MsgOptionText("first", false))
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"channel":%q,"ts":%q,"text":null,"blocks":[%s]}`, channelID("#alerts"), ts, section("now"))
	a := do(t, "POST", base+"/api/chat.update", "application/json", body, "Authorization", "Bearer "+DefaultToken)
	if !strings.Contains(a.body, `"ok":true`) {
		t.Fatalf("update: %s", a.body)
	}
	if got := emu.Messages()[0].Text; got != "first" {
		t.Errorf("text %q, want it kept", got)
	}
}

// By default a channel takes a burst of 3, as Slack tolerates.
func TestTheDefaultBurstIsThree(t *testing.T) {
	_, base := newEmu(t, Options{Rate: 0.001})
	api := apiClient(base, DefaultToken)
	for i := range 3 {
		if err := post(api, "#alerts"); err != nil {
			t.Fatalf("post %d: %v", i+1, err)
		}
	}
	var rl *slack.RateLimitedError
	if err := post(api, "#alerts"); !errors.As(err, &rl) {
		t.Errorf("fourth post: %v, want a 429", err)
	}
}

// A channel id is a C, G or D and 8 or more capital letters or digits, any
// of them: an id nobody created is channel_not_found, not a new channel.
func TestAnUnknownChannelIDIsNotFound(t *testing.T) {
	_, base := newEmu(t, Options{})
	for _, id := range []string{"CZZZZZZZZ", "G09AZ09AZ"} {
		assertSlackError(t, post(apiClient(base, DefaultToken), id), "channel_not_found")
	}
}

func TestTimestampsFromTheSameMicrosecondDiffer(t *testing.T) {
	s := New(Options{})
	now := time.Now()
	first, second := s.nextTSLocked(now), s.nextTSLocked(now)
	if second <= first {
		t.Errorf("%s then %s", first, second)
	}
}

func TestFaultsInTheControlAPIsForm(t *testing.T) {
	b, err := json.Marshal(Fault{Target: "*", Mode: FaultHang})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "latency") || strings.Contains(s, `"for"`) {
		t.Errorf("unset durations are left out: %s", s)
	}
	in := Fault{Target: "#alerts", Mode: FaultSlow, Latency: 2 * time.Second, For: time.Minute}
	b, err = json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Fault
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip: %s gave %+v", b, out)
	}
	if err := json.Unmarshal([]byte(`{"mode":"slow","latency":"2s","for":"soon"}`), &out); err == nil {
		t.Error(`"for":"soon" accepted`)
	}
}

func TestSetFaultAcceptsEveryHTTPStatus(t *testing.T) {
	emu := New(Options{})
	for _, status := range []int{100, 599} {
		if err := emu.SetFault(Fault{Mode: FaultStatus, Status: status}); err != nil {
			t.Errorf("status %d: %v", status, err)
		}
	}
	for _, status := range []int{99, 600} {
		if err := emu.SetFault(Fault{Mode: FaultStatus, Status: status}); err == nil {
			t.Errorf("status %d accepted", status)
		}
	}
}

func TestFaultDefaultsAndTargets(t *testing.T) {
	emu, base := newEmu(t, Options{RetryAfter: 7})
	mustFault(t, emu, Fault{Target: "#alerts", Mode: FaultRateLimit})
	var rl *slack.RateLimitedError
	if err := post(apiClient(base, DefaultToken), "#alerts"); !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Errorf("a rate limit without retry_after: %v, want the emulator's Retry-After 7", err)
	}
	mustFault(t, emu, Fault{Target: "webhook/T1/B1", Mode: FaultStatus, Status: 503, RetryAfter: 9})
	if a := postHook(t, base, "T1/B1/x", `{"text":"x"}`); a.status != 503 || a.header.Get("Retry-After") != "9" {
		t.Errorf("a status fault with retry_after: %d, Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
	mustFault(t, emu, Fault{Target: "/services/T2/B2/secret", Mode: FaultHang})
	found := false
	for _, f := range emu.Faults() {
		found = found || f.Target == "webhook/T2/B2"
	}
	if !found {
		t.Errorf("a webhook path is its destination: %+v", emu.Faults())
	}
}

func TestClearFaultEndsIt(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	mustFault(t, emu, Fault{Target: "#alerts", Mode: FaultError, Error: "internal_error"})
	if !emu.ClearFault("#alerts") {
		t.Fatal("ClearFault found no fault")
	}
	if err := post(api, "#alerts"); err != nil {
		t.Errorf("after ClearFault: %v", err)
	}
	if emu.ClearFault("#alerts") {
		t.Error("ClearFault found a fault twice")
	}
}

// Faults lists what is left of each: calls, and time.
func TestFaultsShowWhatIsLeft(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	mustFault(t, emu, Fault{Target: "#counted", Mode: FaultError, Error: "internal_error", Count: 3})
	mustFault(t, emu, Fault{Target: "#always", Mode: FaultError, Error: "internal_error"})
	mustFault(t, emu, Fault{Target: "#timed", Mode: FaultError, Error: "internal_error", For: time.Minute})
	for _, ch := range []string{"#counted", "#always", "#always"} {
		assertSlackError(t, post(api, ch), "internal_error")
	}
	time.Sleep(5 * time.Millisecond)
	for _, f := range emu.Faults() {
		switch f.Target {
		case "#counted":
			if f.Count != 2 || f.For != 0 {
				t.Errorf("count 3, used once: %+v", f)
			}
		case "#always":
			if f.Count != 0 || f.For != 0 {
				t.Errorf("no count, no time: %+v", f)
			}
		case "#timed":
			if f.For <= 0 || f.For >= time.Minute {
				t.Errorf("a minute, after a few milliseconds: %+v", f)
			}
		}
	}
}

// A call a reset overtakes (it hung until the reset ended its fault) is
// answered, and not counted in the stats that start afresh.
func TestAResetWhileACallHangs(t *testing.T) {
	emu, base := newEmu(t, Options{})
	mustFault(t, emu, Fault{Target: "*", Mode: FaultHang})
	done := make(chan error, 1)
	go func() {
		resp, err := http.Post(base+"/services/T1/B1/x", "application/json", strings.NewReader(`{"text":"x"}`))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		done <- err
	}()
	eventually(t, "the call to arrive", func() bool { return emu.Stats().Totals.Requests == 1 })
	emu.Reset()
	if err := <-done; err != nil {
		t.Errorf("the held call, want a 503: %v", err)
	}
	if st := emu.Stats(); st.Totals.Requests != 0 {
		t.Errorf("stats after the reset: %+v", st.Totals)
	}
}

// The message a post answers with says which thread it is in, and only a
// reply has one.
func TestThePostedMessageNamesItsThread(t *testing.T) {
	_, base := newEmu(t, Options{})
	postJSON := func(body string) map[string]any {
		a := do(t, "POST", base+"/api/chat.postMessage", "application/json", body, "Authorization", "Bearer "+DefaultToken)
		var resp struct {
			Message map[string]any `json:"message"`
		}
		if err := json.Unmarshal([]byte(a.body), &resp); err != nil || resp.Message == nil {
			t.Fatalf("%s: %v", a.body, err)
		}
		return resp.Message
	}
	parent := postJSON(`{"channel":"#alerts","text":"storm"}`)
	if _, has := parent["thread_ts"]; has {
		t.Errorf("a top-level message has no thread_ts: %v", parent)
	}
	reply := postJSON(fmt.Sprintf(`{"channel":"#alerts","text":"details","thread_ts":%q}`, parent["ts"]))
	if reply["thread_ts"] != parent["ts"] {
		t.Errorf("the reply's thread_ts is %v, want %v", reply["thread_ts"], parent["ts"])
	}
}

// A multipart post that cannot be read is refused as Slack refuses it.
func TestABrokenMultipartPostIsRefused(t *testing.T) {
	_, base := newEmu(t, Options{})
	a := do(t, "POST", base+"/api/chat.postMessage", "multipart/form-data; boundary=xyz", "no parts here", "Authorization", "Bearer "+DefaultToken)
	if !strings.Contains(a.body, `"error":"invalid_form_data"`) {
		t.Errorf("%d %s", a.status, a.body)
	}
}

// A block the readable view does not draw is named, not dropped.
func TestTheReadableViewNamesBlocksItDoesNotDraw(t *testing.T) {
	var sb strings.Builder
	RenderText(&sb, []Message{{Channel: "#alerts", Blocks: json.RawMessage(`[{"type":"actions","elements":[]}]`)}})
	if !strings.Contains(sb.String(), "[actions]") {
		t.Errorf("%q", sb.String())
	}
}
