package slackemu

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func post(api *slack.Client, channel string) error {
	_, _, err := api.PostMessage(channel, slack.MsgOptionText("x", false))
	return err
}

func mustFault(t *testing.T, emu *Server, f Fault) {
	t.Helper()
	if err := emu.SetFault(f); err != nil {
		t.Fatal(err)
	}
}

func TestFaultStatus(t *testing.T) {
	emu, base := newEmu(t, Options{})
	mustFault(t, emu, Fault{Target: "#alerts", Mode: FaultStatus, Status: 503})
	var sc slack.StatusCodeError
	if err := post(apiClient(base, DefaultToken), "#alerts"); !errors.As(err, &sc) || sc.Code != 503 {
		t.Errorf("err = %v, want StatusCodeError 503", err)
	}

	mustFault(t, emu, Fault{Target: "webhook/T1/B1", Mode: FaultStatus}) // default 503
	if a := postHook(t, base, "T1/B1/x", `{"text":"x"}`); a.status != 503 || a.body != "service_unavailable" {
		t.Errorf("webhook default: %d %q", a.status, a.body)
	}
	mustFault(t, emu, Fault{Target: "webhook/T1/B1", Mode: FaultStatus, Status: 502, Body: "<html>bad gateway</html>"})
	if a := postHook(t, base, "T1/B1/x", `{"text":"x"}`); a.status != 502 || a.body != "<html>bad gateway</html>" {
		t.Errorf("custom body: %d %q", a.status, a.body)
	}
	if n := len(emu.Messages()); n != 0 {
		t.Errorf("stored %d messages answered by faults", n)
	}
	if e := emu.Stats().Destinations["#alerts"].Errors["http_503"]; e != 1 {
		t.Errorf("stats errors: %v", emu.Stats().Destinations["#alerts"].Errors)
	}
}

func TestFaultError(t *testing.T) {
	emu, base := newEmu(t, Options{})
	mustFault(t, emu, Fault{Target: "alerts", Mode: FaultError, Error: "is_archived"})
	assertSlackError(t, post(apiClient(base, DefaultToken), "#alerts"), "is_archived")
	if n := len(emu.Messages()); n != 0 {
		t.Errorf("stored %d", n)
	}
}

func TestFaultRateLimit(t *testing.T) {
	emu, base := newEmu(t, Options{})
	mustFault(t, emu, Fault{Target: "*", Mode: FaultRateLimit, RetryAfter: 5})
	var rl *slack.RateLimitedError
	if err := post(apiClient(base, DefaultToken), "#alerts"); !errors.As(err, &rl) || rl.RetryAfter != 5*time.Second {
		t.Errorf("err = %v, want RateLimitedError 5s", err)
	}
	if a := postHook(t, base, "T1/B1/x", `{"text":"x"}`); a.status != 429 || a.body != "rate_limited" || a.header.Get("Retry-After") != "5" {
		t.Errorf("webhook: %d %q %q", a.status, a.body, a.header.Get("Retry-After"))
	}
	if got := emu.Stats().Totals.Throttled; got != 2 {
		t.Errorf("throttled = %d", got)
	}
}

func TestFaultCountAndFor(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	mustFault(t, emu, Fault{Target: "#alerts", Mode: FaultError, Error: "internal_error", Count: 2})
	for range 2 {
		assertSlackError(t, post(api, "#alerts"), "internal_error")
	}
	if err := post(api, "#alerts"); err != nil {
		t.Errorf("after count is used up: %v", err)
	}

	mustFault(t, emu, Fault{Target: "#alerts", Mode: FaultError, Error: "internal_error", For: 30 * time.Millisecond})
	assertSlackError(t, post(api, "#alerts"), "internal_error")
	time.Sleep(60 * time.Millisecond)
	if err := post(api, "#alerts"); err != nil {
		t.Errorf("after the fault's time is up: %v", err)
	}
	if len(emu.Faults()) != 0 {
		t.Errorf("faults left: %+v", emu.Faults())
	}
}

func TestMostSpecificFaultWins(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	mustFault(t, emu, Fault{Target: "*", Mode: FaultError, Error: "service_unavailable"})
	mustFault(t, emu, Fault{Target: "#alerts", Mode: FaultError, Error: "channel_not_found"})
	assertSlackError(t, post(api, "#alerts"), "channel_not_found")
	assertSlackError(t, post(api, "#other"), "service_unavailable")

	// A channel id target applies when the channel is named, and vice versa.
	emu.ClearFaults()
	mustFault(t, emu, Fault{Target: channelID("#alerts"), Mode: FaultError, Error: "not_in_channel"})
	assertSlackError(t, post(api, "#alerts"), "not_in_channel")

	// A webhook URL is trimmed to its destination, dropping the secret.
	mustFault(t, emu, Fault{Target: "https://hooks.slack.com/services/T1/B1/secret", Mode: FaultError, Error: "no_team"})
	if f := emu.Faults(); len(f) != 2 || (f[0].Target != "webhook/T1/B1" && f[1].Target != "webhook/T1/B1") {
		t.Errorf("faults %+v", f)
	}
	if a := postHook(t, base, "T1/B1/secret", `{"text":"x"}`); a.body != "no_team" {
		t.Errorf("webhook: %q", a.body)
	}
}

func TestFaultHangUntilClientLeaves(t *testing.T) {
	emu, base := newEmu(t, Options{})
	mustFault(t, emu, Fault{Target: "#alerts", Mode: FaultHang})
	client := &http.Client{Timeout: 50 * time.Millisecond}
	api := slack.New(DefaultToken, slack.OptionAPIURL(base+"/api/"), slack.OptionHTTPClient(client))
	if err := post(api, "#alerts"); err == nil {
		t.Fatal("a hung call must not succeed")
	}
	eventually(t, "the server to notice the client left", func() bool {
		return emu.Stats().Destinations["#alerts"].Errors["client_gone"] == 1
	})
	if n := len(emu.Messages()); n != 0 {
		t.Errorf("stored %d", n)
	}
}

func TestFaultHangEndsWhenCleared(t *testing.T) {
	emu, base := newEmu(t, Options{})
	mustFault(t, emu, Fault{Target: "#alerts", Mode: FaultHang, Count: 1})
	api := apiClient(base, DefaultToken)
	done := make(chan error, 1)
	go func() { done <- post(api, "#alerts") }()
	eventually(t, "the call to take the fault", func() bool { return len(emu.Faults()) == 0 })
	if err := post(api, "#alerts"); err != nil {
		t.Errorf("count 1: the next call passes: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("the hung call answered before the fault ended: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	emu.ClearFaults()
	var sc slack.StatusCodeError
	if err := <-done; !errors.As(err, &sc) || sc.Code != 503 {
		t.Errorf("released call: %v, want a 503", err)
	}
	if n := len(emu.Messages()); n != 1 {
		t.Errorf("stored %d, want only the call after the fault: a hung call is never acted on", n)
	}
}

func TestFaultHangEndsOnClose(t *testing.T) {
	emu, base := newEmu(t, Options{})
	mustFault(t, emu, Fault{Target: "*", Mode: FaultHang})
	done := make(chan answer, 1)
	go func() { done <- postHook(t, base, "T1/B1/x", `{"text":"x"}`) }()
	eventually(t, "the call to arrive", func() bool { return emu.Stats().Totals.Requests == 1 })
	emu.Close()
	if a := <-done; a.status != 503 {
		t.Errorf("on close: %d %q", a.status, a.body)
	}
}

func TestFaultSlow(t *testing.T) {
	emu, base := newEmu(t, Options{})
	mustFault(t, emu, Fault{Target: "#alerts", Mode: FaultSlow, Latency: 40 * time.Millisecond})
	start := time.Now()
	if err := post(apiClient(base, DefaultToken), "#alerts"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("answered after %v, want at least the latency", d)
	}
	if n := len(emu.Messages()); n != 1 {
		t.Errorf("a slow call is still handled: stored %d", n)
	}
}

func TestFaultDrop(t *testing.T) {
	emu, base := newEmu(t, Options{})
	mustFault(t, emu, Fault{Target: "webhook/T1/B1", Mode: FaultDrop})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/services/T1/B1/x", strings.NewReader(`{"text":"x"}`))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d), want the connection dropped", resp.StatusCode)
	}
	if n := len(emu.Messages()); n != 0 {
		t.Errorf("stored %d", n)
	}
	if e := emu.Stats().Destinations["webhook/T1/B1"].Errors["connection_dropped"]; e != 1 {
		t.Errorf("stats: %+v", emu.Stats().Destinations)
	}
}

func TestGlobalLatency(t *testing.T) {
	emu, base := newEmu(t, Options{Latency: 30 * time.Millisecond})
	start := time.Now()
	if err := post(apiClient(base, DefaultToken), "#alerts"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("answered after %v", d)
	}
	if len(emu.Messages()) != 1 {
		t.Error("not stored")
	}
}

func TestSetFaultRejectsMistakes(t *testing.T) {
	emu := New(Options{})
	for _, f := range []Fault{
		{Mode: "explode"},
		{Mode: FaultError},
		{Mode: FaultSlow},
		{Mode: FaultStatus, Status: 42},
		{Mode: FaultHang, Count: -1},
	} {
		if err := emu.SetFault(f); err == nil {
			t.Errorf("%+v accepted", f)
		}
	}
}

func TestFaultLateActsThenAnswersLate(t *testing.T) {
	emu, base := newEmu(t, Options{})
	mustFault(t, emu, Fault{Target: "#alerts", Mode: FaultLate, Latency: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := apiClient(base, DefaultToken).PostMessageContext(ctx, "#alerts", slack.MsgOptionText("x", false))
	if err == nil {
		t.Fatal("the client should have given up before the answer")
	}
	if n := len(emu.Messages()); n != 1 {
		t.Fatalf("stored %d messages, want 1: Slack acted although the client never learnt it", n)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		calls := emu.Calls()
		if len(calls) == 1 && calls[0].Status == 0 && calls[0].Error != "" {
			if !strings.HasPrefix(calls[0].Error, "client_gone") || calls[0].Injected {
				t.Errorf("call = %+v", calls[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls = %+v", calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := (&Fault{Mode: FaultLate}).normalize(1); err == nil {
		t.Error("late without latency accepted")
	}
}

func TestFaultForOneMethodOnly(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	mustFault(t, emu, Fault{Target: "#alerts", Method: "chat.update", Mode: FaultError, Error: "message_not_found"})
	ch, ts, err := api.PostMessage("#alerts", slack.MsgOptionText("x", false))
	if err != nil {
		t.Fatalf("a post is not an update: %v", err)
	}
	_, _, _, err = api.UpdateMessage(ch, ts, slack.MsgOptionText("y", false))
	assertSlackError(t, err, "message_not_found")
	calls := emu.Calls()
	if len(calls) != 2 || calls[0].Injected || !calls[1].Injected || calls[1].Error != "message_not_found" {
		t.Errorf("calls = %+v", calls)
	}
	if err := emu.SetFault(Fault{Target: "*", Method: "chat.delete", Mode: FaultHang}); err == nil {
		t.Error("unknown method accepted")
	}
}

func TestHistoryKeepsEveryVersionInOrder(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	ch, ts, err := api.PostMessage("#alerts", slack.MsgOptionText("v1", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessage("#other", slack.MsgOptionText("w1", false)); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"v2", "v3"} {
		if _, _, _, err := api.UpdateMessage(ch, ts, slack.MsgOptionText(text, false)); err != nil {
			t.Fatal(err)
		}
	}
	h := emu.Messages()[0].History
	if len(h) != 3 || h[0].Text != "v1" || h[2].Text != "v3" || h[0].Seq != 1 || h[1].Seq != 3 || h[2].Seq != 4 {
		t.Errorf("history = %+v", h)
	}
}
