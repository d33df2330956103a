package slackemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// actionsApp is a request URL that records what it is sent and answers
// with the statuses it is given, in turn (then 200).
type actionsApp struct {
	mu       sync.Mutex
	requests []seenRequest
	answers  []int
}

type seenRequest struct {
	header http.Header
	body   string
}

func newActionsApp(t *testing.T, answers ...int) (*actionsApp, string) {
	t.Helper()
	app := &actionsApp{answers: answers}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		app.mu.Lock()
		app.requests = append(app.requests, seenRequest{r.Header.Clone(), string(b)})
		status := http.StatusOK
		if len(app.answers) > 0 {
			status, app.answers = app.answers[0], app.answers[1:]
		}
		app.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return app, srv.URL + "/slack/actions"
}

func (a *actionsApp) seen() []seenRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]seenRequest(nil), a.requests...)
}

// validSignature checks a request the way Slack documents it.
func validSignature(secret string, r seenRequest) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + r.header.Get("X-Slack-Request-Timestamp") + ":" + r.body))
	return hmac.Equal([]byte(r.header.Get("X-Slack-Signature")), []byte("v0="+hex.EncodeToString(mac.Sum(nil))))
}

func requestAge(t *testing.T, r seenRequest) time.Duration {
	t.Helper()
	ts, err := strconv.ParseInt(r.header.Get("X-Slack-Request-Timestamp"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Since(time.Unix(ts, 0))
}

// Without a connection a click is a signed form post to ActionsURL.
func TestClickOverHTTPIsASignedForm(t *testing.T) {
	app, actionsURL := newActionsApp(t, http.StatusForbidden)
	emu, base := newEmu(t, Options{SigningSecret: "s3cret", ActionsURL: actionsURL})
	ch, ts := postWithMenu(t, base)
	res, err := emu.Click(t.Context(), ClickSpec{Channel: "#alerts", TS: ts, ActionID: "menu", Value: "mute:1h"})
	if err != nil || res.Via != ViaHTTP || res.Status != http.StatusForbidden || res.Acked || res.FirstStatus != 0 || res.Error != "" {
		t.Fatalf("%+v, %v", res, err)
	}
	reqs := app.seen()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if !validSignature("s3cret", r) || r.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("headers %v", r.header)
	}
	if age := requestAge(t, r); age < 0 || age > time.Minute {
		t.Errorf("timestamp %v old", age)
	}
	form, err := url.ParseQuery(r.body)
	if err != nil || len(form) != 1 {
		t.Fatalf("form %q: %v", r.body, err)
	}
	var p struct {
		Type      string `json:"type"`
		Container struct {
			ChannelID string `json:"channel_id"`
			MessageTS string `json:"message_ts"`
		} `json:"container"`
		Actions []struct {
			SelectedOption struct {
				Value string `json:"value"`
			} `json:"selected_option"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(form.Get("payload")), &p); err != nil || p.Type != "block_actions" ||
		p.Container.ChannelID != ch || p.Container.MessageTS != ts || len(p.Actions) != 1 || p.Actions[0].SelectedOption.Value != "mute:1h" {
		t.Errorf("payload %s (%v)", form.Get("payload"), err)
	}
}

// Each abuse switch makes the request it names.
func TestClickAbuseSwitches(t *testing.T) {
	app, actionsURL := newActionsApp(t, 200, 200, 401, 200, 200)
	emu, base := newEmu(t, Options{ActionsURL: actionsURL})
	_, ts := postWithMenu(t, base)
	click := func(spec ClickSpec) ClickResult {
		t.Helper()
		spec.Channel, spec.TS, spec.ActionID = "#alerts", ts, "menu"
		res, err := emu.Click(t.Context(), spec)
		if err != nil || res.Via != ViaHTTP {
			t.Fatalf("%+v: %+v, %v", spec, res, err)
		}
		return res
	}

	click(ClickSpec{BadSignature: true})
	if r := app.seen()[0]; validSignature(DefaultSigningSecret, r) || r.header.Get("X-Slack-Signature") == "" {
		t.Error("bad_signature: the signature is valid or missing")
	}

	res := click(ClickSpec{Replay: true})
	reqs := app.seen()
	if len(reqs) != 3 || res.FirstStatus != 200 || res.Status != 401 {
		t.Errorf("replay: %d requests, %+v", len(reqs), res)
	} else if reqs[1].body != reqs[2].body || reqs[1].header.Get("X-Slack-Signature") != reqs[2].header.Get("X-Slack-Signature") ||
		!validSignature(DefaultSigningSecret, reqs[2]) {
		t.Error("replay: the two requests differ")
	}

	click(ClickSpec{Stale: true})
	r := app.seen()[3]
	if age := requestAge(t, r); !validSignature(DefaultSigningSecret, r) || age < 10*time.Minute || age > 11*time.Minute {
		t.Errorf("stale: age %v, signed %v", age, validSignature(DefaultSigningSecret, r))
	}

	click(ClickSpec{Oversize: true})
	if r := app.seen()[4]; len(r.body) <= 1<<20 || !validSignature(DefaultSigningSecret, r) {
		t.Errorf("oversize: %d bytes", len(r.body))
	}
}

// A click that cannot be sent is an error, and nothing is sent.
func TestClickRefusesWhatCannotBeSent(t *testing.T) {
	app, actionsURL := newActionsApp(t)
	emu, base := newEmu(t, Options{ActionsURL: actionsURL})
	_, ts := postWithMenu(t, base)
	_, replyTS, err := apiClient(base, DefaultToken).PostMessage("#alerts", slack.MsgOptionText("in thread", false), slack.MsgOptionTS(ts))
	if err != nil {
		t.Fatal(err)
	}
	for name, spec := range map[string]ClickSpec{
		"unknown ts":         {Channel: "#alerts", TS: "1.000001", ActionID: "menu"},
		"a thread reply":     {Channel: "#alerts", TS: replyTS, ActionID: "menu"},
		"another channel":    {Channel: "#other", TS: ts, ActionID: "menu"},
		"no channel":         {TS: ts, ActionID: "menu"},
		"unknown action":     {Channel: "#alerts", TS: ts, ActionID: "nope"},
		"no action":          {Channel: "#alerts", TS: ts},
		"action in no block": {Channel: "#alerts", TS: ts, ActionID: "menu", BlockID: "buttons"},
		"unknown via":        {Channel: "#alerts", TS: ts, ActionID: "menu", Via: "pigeon"},
		"abuse over socket":  {Channel: "#alerts", TS: ts, ActionID: "menu", Via: ViaSocket, Stale: true},
		"socket, none open":  {Channel: "#alerts", TS: ts, ActionID: "menu", Via: ViaSocket},
	} {
		if res, err := emu.Click(t.Context(), spec); err == nil {
			t.Errorf("%s: sent, %+v", name, res)
		}
	}
	noURL, base2 := newEmu(t, Options{})
	_, ts2 := postWithMenu(t, base2)
	if _, err := noURL.Click(t.Context(), ClickSpec{Channel: "#alerts", TS: ts2, ActionID: "menu"}); err == nil {
		t.Error("http click without ActionsURL")
	}
	if n := len(app.seen()); n != 0 || len(emu.Clicks()) != 0 {
		t.Errorf("%d requests, %d clicks recorded", n, len(emu.Clicks()))
	}
}

// Forge clicks on what the emulator never stored, for the
// not-our-message path.
func TestClickForge(t *testing.T) {
	app, actionsURL := newActionsApp(t)
	emu, _ := newEmu(t, Options{ActionsURL: actionsURL})
	res, err := emu.Click(t.Context(), ClickSpec{Channel: "#elsewhere", TS: "1.000001", ActionID: "x", Value: "v", Forge: true, ElementType: "overflow"})
	if err != nil || res.Status != 200 || res.ChannelID != channelID("#elsewhere") {
		t.Fatalf("%+v, %v", res, err)
	}
	form, _ := url.ParseQuery(app.seen()[0].body)
	p := form.Get("payload")
	if !strings.Contains(p, `"type":"overflow"`) || !strings.Contains(p, `"selected_option":{`) || !strings.Contains(p, `"message_ts":"1.000001"`) {
		t.Errorf("payload %s", p)
	}
	if _, err := emu.Click(t.Context(), ClickSpec{Channel: "C0NOTKNOWN", TS: "1.000001", ActionID: "x", Forge: true}); err != nil {
		t.Errorf("forged click in an unknown channel id: %v", err)
	}
	form, _ = url.ParseQuery(app.seen()[1].body)
	if p := form.Get("payload"); !strings.Contains(p, `"type":"button"`) || !strings.Contains(p, `"channel_id":"C0NOTKNOWN"`) {
		t.Errorf("payload %s", p)
	}
}

// A request URL that does not answer is an error in the result, not of
// Click.
func TestClickToADeadURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := srv.URL
	srv.Close()
	emu, base := newEmu(t, Options{ActionsURL: dead})
	_, ts := postWithMenu(t, base)
	res, err := emu.Click(t.Context(), ClickSpec{Channel: "#alerts", TS: ts, ActionID: "menu", Replay: true})
	if err != nil || res.Error == "" || res.Status != 0 || res.FirstStatus != 0 {
		t.Errorf("%+v, %v", res, err)
	}
}

// Neither the app token nor the signing secret reach the log.
func TestClickLogShowsNoSecrets(t *testing.T) {
	var logs syncBuffer
	_, actionsURL := newActionsApp(t)
	emu, base := newEmu(t, Options{Log: &logs, AppToken: "xapp-hidden-token", SigningSecret: "hidden-secret", ActionsURL: actionsURL})
	_, ts := postWithMenu(t, base)
	do(t, "POST", base+"/api/apps.connections.open", "application/json", "", "Authorization", "Bearer xapp-hidden-token")
	do(t, "POST", base+"/api/apps.connections.open", "application/json", "", "Authorization", "Bearer xapp-wrong-token")
	if _, err := emu.Click(t.Context(), ClickSpec{Channel: "#alerts", TS: ts, ActionID: "menu", Value: "ack"}); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, secret := range []string{"hidden-token", "wrong-token", "hidden-secret", "v0="} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"POST apps.connections.open - -> 200 ok", "POST apps.connections.open - -> 200 invalid_auth", "click " + channelID("#alerts") + " ts=" + ts + " menu via http -> 200"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// A context block's elements are text objects, not interactive ones: the
// element clicked is found past them (an entry of the exporter has one
// under its section).
func TestClickFindsTheMenuPastContextText(t *testing.T) {
	app, actionsURL := newActionsApp(t)
	emu, base := newEmu(t, Options{ActionsURL: actionsURL})
	overflow := slack.NewOverflowBlockElement("menu",
		slack.NewOptionBlockObject("ack", slack.NewTextBlockObject(slack.PlainTextType, "Acknowledge", false, false), nil))
	section := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "disk full", false, false), nil,
		slack.NewAccessory(overflow), slack.SectionBlockOptionBlockID("entry-s"))
	context := slack.NewContextBlock("entry-c", slack.NewTextBlockObject(slack.MarkdownType, "first seen 14:00", false, true))
	_, ts, err := apiClient(base, DefaultToken).PostMessage("#alerts", slack.MsgOptionText("disk full", false),
		slack.MsgOptionBlocks(context, section))
	if err != nil {
		t.Fatal(err)
	}
	res, err := emu.Click(t.Context(), ClickSpec{Channel: "#alerts", TS: ts, ActionID: "menu", Value: "ack"})
	if err != nil || res.Status != http.StatusOK || len(app.seen()) != 1 || !strings.Contains(app.seen()[0].body, "entry-s") {
		t.Fatalf("%+v, %v", res, err)
	}
}
