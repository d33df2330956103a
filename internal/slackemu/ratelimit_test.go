package slackemu

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestRateLimitWebAPI(t *testing.T) {
	// A rate this low refills nothing during the test: exactly the burst passes.
	emu, base := newEmu(t, Options{Rate: 0.001, Burst: 2, RetryAfter: 7})
	api := apiClient(base, DefaultToken)
	for i := range 2 {
		if _, _, err := api.PostMessage("#alerts", slack.MsgOptionText("x", false)); err != nil {
			t.Fatalf("post %d within the burst: %v", i, err)
		}
	}
	_, _, err := api.PostMessage("#alerts", slack.MsgOptionText("x", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Fatalf("third post: %v, want a 429 with Retry-After 7", err)
	}
	a := do(t, "POST", base+"/api/chat.postMessage", "application/json", `{"channel":"#alerts","text":"x"}`, "Authorization", "Bearer "+DefaultToken)
	if a.status != 429 || a.header.Get("Retry-After") != "7" || a.body != `{"error":"ratelimited","ok":false}` {
		t.Errorf("raw 429: %d %q %s", a.status, a.header.Get("Retry-After"), a.body)
	}

	// Buckets are per channel, and chat.update has its own.
	ch, ts, err := api.PostMessage("#other", slack.MsgOptionText("x", false))
	if err != nil {
		t.Fatalf("another channel is not throttled: %v", err)
	}
	if _, _, _, err := api.UpdateMessage(ch, ts, slack.MsgOptionText("y", false)); err != nil {
		t.Errorf("updates have their own bucket: %v", err)
	}

	st := emu.Stats().Destinations["#alerts"]
	if st.Requests != 4 || st.Accepted != 2 || st.Throttled != 2 {
		t.Errorf("stats %+v", st)
	}
	if len(emu.Messages()) != 3 {
		t.Errorf("a throttled post must not be stored")
	}
}

func TestRateLimitWebhook(t *testing.T) {
	_, base := newEmu(t, Options{Rate: 0.001, Burst: 1})
	if a := postHook(t, base, "T1/B1/x", `{"text":"x"}`); a.status != 200 {
		t.Fatalf("first: %d", a.status)
	}
	a := postHook(t, base, "T1/B1/x", `{"text":"x"}`)
	if a.status != 429 || a.body != "rate_limited" || a.header.Get("Retry-After") != "1" {
		t.Errorf("second: %d %q Retry-After %q", a.status, a.body, a.header.Get("Retry-After"))
	}
	if a := postHook(t, base, "T1/B2/x", `{"text":"x"}`); a.status != 200 {
		t.Errorf("another webhook: %d", a.status)
	}
}

func TestTokenBucketRefills(t *testing.T) {
	s := New(Options{Rate: 2, Burst: 2})
	t0 := time.Unix(1700000000, 0)
	// allows calls allowLocked n times at now and reports the answers.
	allows := func(now time.Time, n int) []bool {
		got := make([]bool, n)
		for i := range got {
			got[i] = s.allowLocked("k", now)
		}
		return got
	}
	if got := allows(t0, 3); !slices.Equal(got, []bool{true, true, false}) {
		t.Fatalf("want exactly the burst at once, got %v", got)
	}
	if got := allows(t0.Add(500*time.Millisecond), 2); !slices.Equal(got, []bool{true, false}) {
		t.Errorf("at 2/s, half a second buys one message, got %v", got)
	}
	if got := allows(t0.Add(time.Hour), 3); !slices.Equal(got, []bool{true, true, false}) {
		t.Errorf("a long pause refills only up to the burst, got %v", got)
	}
	if !New(Options{}).allowLocked("k", t0) {
		t.Error("rate 0 is unlimited")
	}
}
