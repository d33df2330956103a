package slackemu

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/slack-go/slack"
)

func slackError(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

func TestChannelStatesRefusePostsAndUpdates(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	ch, ts, err := api.PostMessage("#gone", slack.MsgOptionText("before", false))
	if err != nil {
		t.Fatal(err)
	}
	for state, want := range map[ChannelState]string{
		ChannelMissing:   "channel_not_found",
		ChannelArchived:  "is_archived",
		ChannelNotMember: "not_in_channel",
	} {
		if err := emu.SetChannel("gone", state); err != nil {
			t.Fatal(err)
		}
		if got := slackError(post(api, "#gone")); got != want {
			t.Errorf("%s: post answered %q, want %q", state, got, want)
		}
		if got := slackError(post(api, ch)); got != want {
			t.Errorf("%s: post by id answered %q, want %q", state, got, want)
		}
		_, _, _, err := api.UpdateMessage(ch, ts, slack.MsgOptionText("after", false))
		if got := slackError(err); got != want {
			t.Errorf("%s: update answered %q, want %q", state, got, want)
		}
		if err := post(api, "#other"); err != nil {
			t.Errorf("%s: another channel refused a post: %v", state, err)
		}
	}
	if n := len(messagesOf(emu, "#gone")); n != 1 {
		t.Errorf("#gone holds %d messages, want only the one posted before", n)
	}
	updates := 0
	for _, c := range emu.Calls() {
		if c.Error != "" && !c.Injected {
			t.Errorf("a refusal the test arranged is not marked injected: %+v", c)
		}
		if c.Method == "chat.update" {
			updates++
			if c.TS != ts {
				t.Errorf("an update's call names message %q, want %q", c.TS, ts)
			}
		}
	}
	if updates != 3 {
		t.Errorf("%d updates recorded, want 3", updates)
	}

	if err := emu.SetChannel("#gone", ChannelOK); err != nil {
		t.Fatal(err)
	}
	if err := post(api, "#gone"); err != nil {
		t.Errorf("back to ok: %v", err)
	}
	if len(emu.ChannelStates()) != 0 {
		t.Errorf("states left: %v", emu.ChannelStates())
	}
}

func messagesOf(emu *Server, channel string) []Message {
	var out []Message
	for _, m := range emu.Messages() {
		if m.Channel == channel {
			out = append(out, m)
		}
	}
	return out
}

func TestChannelStatesRefuseBadInputAndResetClearsThem(t *testing.T) {
	emu, _ := newEmu(t, Options{})
	for _, bad := range []struct {
		name  string
		state ChannelState
	}{{"", ChannelArchived}, {"#", ChannelArchived}, {"C0123ABCD", ChannelArchived}, {"#x", "gone"}} {
		if err := emu.SetChannel(bad.name, bad.state); err == nil {
			t.Errorf("SetChannel(%q, %q) accepted", bad.name, bad.state)
		}
	}
	if err := emu.SetChannel("#x", ChannelArchived); err != nil {
		t.Fatal(err)
	}
	emu.Reset()
	if len(emu.ChannelStates()) != 0 {
		t.Errorf("Reset kept %v", emu.ChannelStates())
	}
}

func TestControlChannels(t *testing.T) {
	emu, base := newEmu(t, Options{})
	if a := do(t, "POST", base+"/_emu/channels", "application/json", `{"channel":"#x","state":"not_member"}`); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if a := do(t, "POST", base+"/_emu/channels", "application/json", `{"channel":"#x","state":"sleepy"}`); a.status != 400 {
		t.Errorf("a bad state: %d %s", a.status, a.body)
	}
	if a := do(t, "POST", base+"/_emu/channels", "application/json", `{`); a.status != 400 {
		t.Errorf("a bad body: %d %s", a.status, a.body)
	}
	a := do(t, "GET", base+"/_emu/channels", "", "")
	var got struct {
		Channels map[string]ChannelState `json:"channels"`
	}
	if err := json.Unmarshal([]byte(a.body), &got); err != nil || got.Channels["#x"] != ChannelNotMember {
		t.Errorf("%s (%v)", a.body, err)
	}
	if got := slackError(post(apiClient(base, DefaultToken), "#x")); got != "not_in_channel" {
		t.Errorf("post answered %q", got)
	}
	if emu.ChannelStates()["#x"] != ChannelNotMember {
		t.Errorf("%v", emu.ChannelStates())
	}
}
