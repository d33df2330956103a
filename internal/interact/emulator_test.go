package interact

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/slackexporter/slackexporter/internal/slackemu"
)

// startEmulator runs the Slack emulator on loopback.
func startEmulator(t *testing.T, opts slackemu.Options) (*slackemu.Server, string) {
	t.Helper()
	emu := slackemu.New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	t.Cleanup(emu.Close) // first: closes the WebSocket connections srv.Close does not know
	return emu, srv.URL
}

// postMenu posts a message with an overflow menu, as the exporter would.
func postMenu(t *testing.T, base string) (string, string) {
	t.Helper()
	menu := slack.NewOverflowBlockElement("slackexporter_menu",
		slack.NewOptionBlockObject("mute:1h", slack.NewTextBlockObject(slack.PlainTextType, "Mute 1 h", false, false), nil))
	section := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "payment failed", false, false), nil,
		slack.NewAccessory(menu), slack.SectionBlockOptionBlockID("b1"))
	ch, ts, err := slack.New(slackemu.DefaultToken, slack.OptionAPIURL(base+"/api/")).PostMessage("#alerts",
		slack.MsgOptionText("payment failed", false), slack.MsgOptionBlocks(section),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "slackexporter_group", EventPayload: map[string]any{"fp": "abc"}}))
	if err != nil {
		t.Fatal(err)
	}
	return ch, ts
}

// waitFor polls cond, for state reached on another goroutine or process.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// onlyOurs is a Handler that knows one message.
func onlyOurs(rec *recorder, ts string) Handler {
	return func(ctx context.Context, c Click) error {
		if c.MessageTS != ts {
			return ErrUnknownMessage
		}
		return rec.handle(ctx, c)
	}
}

// Socket Mode end to end: clicks are applied, refused or ignored by the
// same rules as over HTTP, every envelope is acked and counted once, and the
// client comes back after a disconnect message and after a dropped
// connection. The app token never reaches a log or an error.
func TestSocketModeWithTheEmulator(t *testing.T) {
	const appToken = "xapp-1-secret-app-token"
	emu, base := startEmulator(t, slackemu.Options{AppToken: appToken})
	ch, ts := postMenu(t, base)
	core, logs := observer.New(zap.DebugLevel)
	rec := &recorder{}
	o := Options{AllowedUsers: []string{"U0EMULATOR", "U2"}, Handle: onlyOurs(rec, ts), Count: rec.count, Logger: zap.New(core)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- RunSocketMode(ctx, appToken, base+"/api/", nil, o) }()
	waitFor(t, "a connection", func() bool { return emu.SocketCount() == 1 })

	click := func(spec slackemu.ClickSpec) {
		t.Helper()
		spec.Channel, spec.ActionID, spec.Via = ch, "slackexporter_menu", slackemu.ViaSocket
		if spec.TS == "" {
			spec.TS = ts
		}
		res, err := emu.Click(t.Context(), spec)
		if err != nil || !res.Acked {
			t.Fatalf("%+v: %+v, %v", spec, res, err)
		}
	}
	click(slackemu.ClickSpec{Value: "mute:1h"})
	want := Click{UserID: "U0EMULATOR", UserName: "emulator-user", TeamID: "T0EMULATOR", ChannelID: ch, ChannelName: "alerts", MessageTS: ts,
		BlockID: "b1", ActionID: "slackexporter_menu", Value: "mute:1h", EventType: "slackexporter_group"}
	if got := rec.handled(); len(got) != 1 || got[0] != want {
		t.Errorf("handled %+v\nwant %+v", got, want)
	}
	click(slackemu.ClickSpec{Value: "mute:1h", UserID: "U3"})
	click(slackemu.ClickSpec{Value: "mute:1h", TS: "1.000001", Forge: true})
	for _, envelope := range []struct{ typ, payload string }{
		{"events_api", `{"type":"event_callback","event":{"type":"app_mention"}}`},
		{"slash_commands", `{"command":"/mute","text":"1h"}`},
		{"interactive", `{"type":"view_submission","user":{"id":"U2"}}`},
		{"interactive", `{"type":7}`}, // slack-go cannot parse it; still acked
	} {
		if _, acked, err := emu.SendEnvelope(t.Context(), envelope.typ, json.RawMessage(envelope.payload)); err != nil || !acked {
			t.Errorf("%s %s: acked %v, %v", envelope.typ, envelope.payload, acked, err)
		}
	}

	emu.DisconnectSockets()
	waitFor(t, "a new connection after disconnect", func() bool { return emu.SocketCount() == 1 })
	click(slackemu.ClickSpec{Value: "mute:1h", UserID: "U2"})
	emu.DropSockets()
	waitFor(t, "a new connection after a drop", func() bool { return emu.SocketCount() == 1 })
	click(slackemu.ClickSpec{Value: "mute:1h"})

	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunSocketMode: %v", err)
	}
	wantCounts := []string{Accepted, Forbidden, UnknownMessage, UnknownMessage, UnknownMessage, UnknownMessage, UnknownMessage, Accepted, Accepted}
	if got := rec.counted(); !slices.Equal(got, wantCounts) {
		t.Errorf("counted %q\nwant    %q", got, wantCounts)
	}
	if n := len(rec.handled()); n != 3 {
		t.Errorf("handled %d clicks, want 3", n)
	}
	for _, e := range logs.All() {
		if line := e.Message + fmt.Sprint(e.ContextMap()); strings.Contains(line, "secret-app-token") {
			t.Errorf("log shows the app token: %s", line)
		}
	}
	if n := logs.FilterMessage("Slack envelope not acked").Len(); n != 0 {
		t.Errorf("%d acks failed", n)
	}
	if logs.FilterMessage("Slack Socket Mode connected").Len() != 3 {
		t.Errorf("connections logged: %d, want 3", logs.FilterMessage("Slack Socket Mode connected").Len())
	}
}

// A refused app token ends RunSocketMode with an error that does not show
// the token.
func TestSocketModeRefusedToken(t *testing.T) {
	_, base := startEmulator(t, slackemu.Options{})
	core, logs := observer.New(zap.DebugLevel)
	err := RunSocketMode(t.Context(), "xapp-wrong-secret", base+"/api/", http.DefaultClient, Options{Logger: zap.New(core)})
	if err == nil || err.Error() != "slack socket mode stopped: invalid_auth" {
		t.Errorf("err = %v", err)
	}
	for _, e := range logs.All() {
		if line := e.Message + fmt.Sprint(e.ContextMap()); strings.Contains(line, "wrong-secret") {
			t.Errorf("log shows the app token: %s", line)
		}
	}
}

// Until the API answers, RunSocketMode keeps trying; it ends with ctx.
func TestSocketModeRetriesUntilCancelled(t *testing.T) {
	emu, base := startEmulator(t, slackemu.Options{})
	if err := emu.SetFault(slackemu.Fault{Target: "*", Mode: slackemu.FaultStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- RunSocketMode(ctx, slackemu.DefaultAppToken, base+"/api/", nil, Options{}) }()
	waitFor(t, "a refused connect", func() bool {
		for _, c := range emu.Calls() {
			if c.Method == "apps.connections.open" && c.Status == 503 {
				return true
			}
		}
		return false
	})
	emu.ClearFaults()
	waitFor(t, "a connection after the fault", func() bool { return emu.SocketCount() == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunSocketMode: %v", err)
	}
}

// The request URL end to end: the emulator's signed posts, and each abuse
// switch, meet the handler's checks.
func TestActionsHandlerWithTheEmulator(t *testing.T) {
	rec := &recorder{}
	var ts string
	o := Options{AllowedUsers: []string{"U0EMULATOR"}, Handle: func(ctx context.Context, c Click) error { return onlyOurs(rec, ts)(ctx, c) }, Count: rec.count}
	app := httptest.NewServer(NewActionsHandler("shared-secret", o))
	t.Cleanup(app.Close)
	emu, base := startEmulator(t, slackemu.Options{SigningSecret: "shared-secret", ActionsURL: app.URL + "/slack/actions"})
	_, ts = postMenu(t, base)

	tests := []struct {
		name        string
		spec        slackemu.ClickSpec
		first, last int
		counted     []string
	}{
		{"genuine", slackemu.ClickSpec{}, 0, 200, []string{Accepted}},
		{"bad signature", slackemu.ClickSpec{BadSignature: true}, 0, 401, []string{BadSignature}},
		{"stale", slackemu.ClickSpec{Stale: true}, 0, 401, []string{Stale}},
		{"replay", slackemu.ClickSpec{Replay: true}, 200, 401, []string{Accepted, Replay}},
		{"oversize", slackemu.ClickSpec{Oversize: true}, 0, 413, []string{BadSignature}},
		{"user not allowed", slackemu.ClickSpec{UserID: "U3"}, 0, 403, []string{Forbidden}},
		{"not our message", slackemu.ClickSpec{TS: "1.000001", Forge: true}, 0, 403, []string{UnknownMessage}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.counted())
			spec := tt.spec
			spec.Channel, spec.ActionID, spec.Value = "#alerts", "slackexporter_menu", "mute:1h"
			if spec.TS == "" {
				spec.TS = ts
			}
			res, err := emu.Click(t.Context(), spec)
			if err != nil || res.Via != slackemu.ViaHTTP || res.FirstStatus != tt.first || res.Status != tt.last {
				t.Errorf("%+v, %v; want statuses %d then %d", res, err, tt.first, tt.last)
			}
			if got := rec.counted()[before:]; !slices.Equal(got, tt.counted) {
				t.Errorf("counted %q, want %q", got, tt.counted)
			}
		})
	}
	if n := len(rec.handled()); n != 2 { // genuine, and the first of the replay
		t.Errorf("handled %d clicks, want 2", n)
	}
}

func TestClientOrDefault(t *testing.T) {
	mine := &http.Client{}
	if clientOrDefault(mine) != mine {
		t.Error("the given client is not used")
	}
	if c := clientOrDefault(nil); c == nil || c.Timeout != 30*time.Second {
		t.Errorf("default client %+v, want a 30 s timeout", c)
	}
}
