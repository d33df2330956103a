package slackemu

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
)

// openConnection asks apps.connections.open for a URL with token.
func openConnection(t *testing.T, base, token string) map[string]any {
	t.Helper()
	a := do(t, "POST", base+"/api/apps.connections.open", "application/json", "", "Authorization", "Bearer "+token)
	var out map[string]any
	if err := json.Unmarshal([]byte(a.body), &out); err != nil || a.status != 200 {
		t.Fatalf("apps.connections.open: %d %s", a.status, a.body)
	}
	return out
}

// socketClient is a raw Socket Mode client, to see the protocol itself.
type socketClient struct {
	ws    *websocket.Conn
	pings chan string
}

func dialSocket(t *testing.T, base string) *socketClient {
	t.Helper()
	open := openConnection(t, base, DefaultAppToken)
	u, _ := open["url"].(string)
	ws, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {"https://api.slack.com"}})
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	resp.Body.Close()
	t.Cleanup(func() { ws.Close() })
	c := &socketClient{ws: ws, pings: make(chan string, 10)}
	ws.SetPingHandler(func(data string) error {
		select {
		case c.pings <- data:
		default:
		}
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	return c
}

// read reads the next JSON message.
func (c *socketClient) read(t *testing.T) map[string]any {
	t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m map[string]any
	if err := c.ws.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

// postWithMenu posts a message with an overflow menu and a button, and metadata.
func postWithMenu(t *testing.T, base string) (string, string) {
	t.Helper()
	overflow := slack.NewOverflowBlockElement("menu",
		slack.NewOptionBlockObject("mute:1h", slack.NewTextBlockObject(slack.PlainTextType, "Mute 1 h", false, false), nil),
		slack.NewOptionBlockObject("ack", slack.NewTextBlockObject(slack.PlainTextType, "Acknowledge", false, false), nil))
	section := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "payment failed", false, false), nil,
		slack.NewAccessory(overflow), slack.SectionBlockOptionBlockID("group-1"))
	button := slack.NewButtonBlockElement("open", "open:1", slack.NewTextBlockObject(slack.PlainTextType, "Open", false, false))
	actions := slack.NewActionBlock("buttons", button)
	ch, ts, err := apiClient(base, DefaultToken).PostMessage("#alerts", slack.MsgOptionText("payment failed", false),
		slack.MsgOptionBlocks(section, actions),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "slackexporter_group", EventPayload: map[string]any{"fp": "abc"}}))
	if err != nil {
		t.Fatal(err)
	}
	return ch, ts
}

func TestConnectionsOpenChecksTheAppToken(t *testing.T) {
	_, base := newEmu(t, Options{AppToken: "xapp-right"})
	for token, want := range map[string]string{"": "not_authed", "xapp-wrong": "invalid_auth", DefaultToken: "invalid_auth"} {
		a := do(t, "POST", base+"/api/apps.connections.open", "application/json", "", "Authorization", "Bearer "+token)
		if !strings.Contains(a.body, `"ok":false`) || !strings.Contains(a.body, `"error":"`+want+`"`) {
			t.Errorf("token %q: %s, want %s", token, a.body, want)
		}
	}
	out := openConnection(t, base, "xapp-right")
	u, _ := out["url"].(string)
	if out["ok"] != true || !strings.HasPrefix(u, "ws://"+strings.TrimPrefix(base, "http://")+"/link/?ticket=") {
		t.Errorf("answer %v", out)
	}
}

// A connection gets hello, then pings; a ticket opens one connection only.
func TestSocketHelloPingsAndOneUseTickets(t *testing.T) {
	_, base := newEmu(t, Options{PingInterval: 10 * time.Millisecond})
	open := openConnection(t, base, DefaultAppToken)
	u, _ := open["url"].(string)
	ws, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	defer ws.Close()
	c := &socketClient{ws: ws, pings: make(chan string, 1)}
	ws.SetPingHandler(func(data string) error {
		select {
		case c.pings <- data:
		default:
		}
		return nil
	})
	hello := c.read(t)
	info, _ := hello["connection_info"].(map[string]any)
	if hello["type"] != "hello" || hello["num_connections"] != float64(1) || info["app_id"] != appID {
		t.Errorf("hello = %v", hello)
	}
	go func() { _, _, _ = ws.ReadMessage() }() // pings are handled while reading
	// A second ping: the connection lives on after one.
	for i := range 2 {
		select {
		case <-c.pings:
		case <-time.After(5 * time.Second):
			t.Fatalf("no ping %d", i+1)
		}
	}
	_, resp, err = websocket.DefaultDialer.Dial(u, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("second use of a ticket: %v", err)
	}
	if resp != nil {
		resp.Body.Close()
	}
}

// A click over Socket Mode is an interactive envelope with a realistic
// block_actions payload, and Click reports the ack.
func TestSocketClickEnvelopeAndAck(t *testing.T) {
	emu, base := newEmu(t, Options{})
	ch, ts := postWithMenu(t, base)
	c := dialSocket(t, base)
	c.read(t) // hello
	eventually(t, "the connection", func() bool { return emu.SocketCount() == 1 })

	type outcome struct {
		res ClickResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := emu.Click(t.Context(), ClickSpec{Channel: "#alerts", TS: ts, ActionID: "menu", Value: "mute:1h", UserID: "U123", UserName: "grace"})
		done <- outcome{res, err}
	}()
	env := c.read(t)
	id, _ := env["envelope_id"].(string)
	if env["type"] != "interactive" || env["accepts_response_payload"] != false || id == "" {
		t.Fatalf("envelope %v", env)
	}
	p, _ := env["payload"].(map[string]any)
	var cb slack.InteractionCallback
	raw, _ := json.Marshal(p)
	if err := json.Unmarshal(raw, &cb); err != nil {
		t.Fatal(err)
	}
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "U123" || cb.User.Name != "grace" || cb.User.TeamID != teamID || cb.Team.ID != teamID ||
		cb.Container.Type != "message" || cb.Container.MessageTs != ts || cb.Container.ChannelID != ch || cb.Container.IsEphemeral ||
		cb.Channel.ID != ch || cb.Channel.Name != "alerts" || cb.Message.Timestamp != ts || cb.Message.Text != "payment failed" ||
		cb.Message.Metadata.EventType != "slackexporter_group" || cb.Message.Metadata.EventPayload["fp"] != "abc" ||
		len(cb.Message.Blocks.BlockSet) != 2 || cb.APIAppID != appID || cb.TriggerID == "" ||
		!strings.HasPrefix(cb.ResponseURL, "http://"+strings.TrimPrefix(base, "http://")+"/actions/") {
		t.Errorf("payload %s", raw)
	}
	if len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("actions %s", raw)
	}
	a := cb.ActionCallback.BlockActions[0]
	if a.Type != "overflow" || a.ActionID != "menu" || a.BlockID != "group-1" || a.SelectedOption.Value != "mute:1h" ||
		a.SelectedOption.Text.Text != "Mute 1 h" || a.Value != "" || !tsPattern.MatchString(a.ActionTs) {
		t.Errorf("action %+v", a)
	}
	if err := c.ws.WriteJSON(map[string]any{"envelope_id": id}); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil || !o.res.Acked || o.res.Via != ViaSocket || o.res.EnvelopeID != id || o.res.Error != "" ||
		o.res.ChannelID != ch || o.res.TS != ts || o.res.UserID != "U123" || o.res.Value != "mute:1h" {
		t.Errorf("result %+v, %v", o.res, o.err)
	}
	if got := emu.Clicks(); len(got) != 1 || got[0].EnvelopeID != id {
		t.Errorf("clicks %+v", got)
	}

	// A button: value, no selected_option; found in an actions block.
	go func() {
		res, err := emu.Click(t.Context(), ClickSpec{Channel: ch, TS: ts, ActionID: "open", Value: "open:1"})
		done <- outcome{res, err}
	}()
	env = c.read(t)
	p, _ = env["payload"].(map[string]any)
	acts, _ := p["actions"].([]any)
	act, _ := acts[0].(map[string]any)
	user, _ := p["user"].(map[string]any)
	if act["type"] != "button" || act["value"] != "open:1" || act["block_id"] != "buttons" || act["selected_option"] != nil ||
		user["id"] != userID || user["username"] != "emulator-user" {
		t.Errorf("button action %v, user %v", act, user)
	}
	_ = c.ws.Close() // no ack: the connection ends first
	if o := <-done; o.err != nil || o.res.Acked || o.res.Error == "" {
		t.Errorf("unacked: %+v, %v", o.res, o.err)
	}
	eventually(t, "the closed connection to go", func() bool { return emu.SocketCount() == 0 })
}

// Two connections take envelopes in turn.
func TestSocketRoundRobin(t *testing.T) {
	emu, base := newEmu(t, Options{})
	_, ts := postWithMenu(t, base)
	a, b := dialSocket(t, base), dialSocket(t, base)
	a.read(t)
	b.read(t)
	eventually(t, "two connections", func() bool { return emu.SocketCount() == 2 })
	results := make(chan ClickResult, 2)
	for range 2 {
		go func() {
			res, _ := emu.Click(t.Context(), ClickSpec{Channel: "#alerts", TS: ts, ActionID: "menu", Value: "ack"})
			results <- res
		}()
	}
	for _, c := range []*socketClient{a, b} {
		env := c.read(t)
		if err := c.ws.WriteJSON(map[string]any{"envelope_id": env["envelope_id"]}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if r := <-results; !r.Acked {
			t.Errorf("not acked: %+v", r)
		}
	}
}

// DisconnectSockets says disconnect and sends nothing more there; DropSockets
// and Close end connections without a word.
func TestSocketDisconnectDropAndClose(t *testing.T) {
	emu, base := newEmu(t, Options{ActionsURL: ""})
	_, ts := postWithMenu(t, base)
	c := dialSocket(t, base)
	c.read(t)
	eventually(t, "the connection", func() bool { return emu.SocketCount() == 1 })
	if n := emu.DisconnectSockets(); n != 1 {
		t.Errorf("told %d", n)
	}
	if m := c.read(t); m["type"] != "disconnect" || m["reason"] != "refresh_requested" {
		t.Errorf("got %v", m)
	}
	if emu.SocketCount() != 0 {
		t.Error("a connection told to disconnect still takes envelopes")
	}
	if _, err := emu.Click(t.Context(), ClickSpec{Channel: "#alerts", TS: ts, ActionID: "menu", Via: ViaSocket}); err == nil {
		t.Error("click over no connection")
	}

	d := dialSocket(t, base)
	d.read(t)
	if n := emu.DropSockets(); n != 2 { // the one still draining, and d
		t.Errorf("dropped %d", n)
	}
	_ = d.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := d.ws.ReadMessage(); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("read after drop: %v", err)
	}

	e := dialSocket(t, base)
	e.read(t)
	emu.Close()
	_ = e.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := e.ws.ReadMessage(); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("read after Close: %v", err)
	}
	open := openConnection(t, base, DefaultAppToken)
	u, _ := open["url"].(string)
	if ws, resp, err := websocket.DefaultDialer.Dial(u, nil); err == nil {
		ws.Close()
		t.Error("connected after Close")
	} else if resp != nil {
		resp.Body.Close()
	}
}

// The control API clicks, lists clicks and sockets, and disconnects.
func TestControlClickAndSockets(t *testing.T) {
	emu, base := newEmu(t, Options{})
	_, ts := postWithMenu(t, base)
	c := dialSocket(t, base)
	c.read(t)
	if a := do(t, "GET", base+"/_emu/sockets", "", ""); !strings.Contains(a.body, `"open":1`) {
		t.Errorf("sockets: %s", a.body)
	}
	go func() { // acks the click's envelope
		var env map[string]any
		if c.ws.ReadJSON(&env) == nil {
			_ = c.ws.WriteJSON(map[string]any{"envelope_id": env["envelope_id"]})
		}
	}()
	a := do(t, "POST", base+"/_emu/click", "application/json", `{"channel":"#alerts","ts":"`+ts+`","action_id":"menu","value":"ack"}`)
	var res ClickResult
	if err := json.Unmarshal([]byte(a.body), &res); err != nil || a.status != 200 || !res.Acked || res.Via != ViaSocket {
		t.Errorf("click: %d %s", a.status, a.body)
	}
	if a := do(t, "GET", base+"/_emu/clicks", "", ""); !strings.Contains(a.body, `"envelope_id":"`+res.EnvelopeID+`"`) {
		t.Errorf("clicks: %s", a.body)
	}
	for _, bad := range []string{`{`, `{"channel":"#alerts","ts":"1.2","action_id":"menu"}`} {
		if a := do(t, "POST", base+"/_emu/click", "application/json", bad); a.status != 400 || !strings.Contains(a.body, `"ok":false`) {
			t.Errorf("%s: %d %s", bad, a.status, a.body)
		}
	}
	if a := do(t, "POST", base+"/_emu/sockets/disconnect", "", ""); !strings.Contains(a.body, `"disconnected":1`) {
		t.Errorf("disconnect: %s", a.body)
	}
	if m := c.read(t); m["type"] != "disconnect" {
		t.Errorf("got %v", m)
	}
	d := dialSocket(t, base)
	d.read(t)
	if a := do(t, "POST", base+"/_emu/sockets/disconnect?abrupt=true", "", ""); !strings.Contains(a.body, `"disconnected":2`) {
		t.Errorf("abrupt disconnect: %s", a.body)
	}
	emu.Reset()
	if len(emu.Clicks()) != 0 {
		t.Error("Reset kept the clicks")
	}
}
