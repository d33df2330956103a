package slackemu

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestControlHealth(t *testing.T) {
	_, base := newEmu(t, Options{})
	if a := do(t, "GET", base+"/_emu/health", "", ""); a.status != 200 {
		t.Errorf("health: %d", a.status)
	}
}

func TestControlMessages(t *testing.T) {
	_, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	ch, ts, err := api.PostMessage("#alerts", slack.MsgOptionText("one", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessage(ch, ts, slack.MsgOptionText("one, updated", false)); err != nil {
		t.Fatal(err)
	}
	if err := post(api, "#other"); err != nil {
		t.Fatal(err)
	}
	postHook(t, base, "T1/B1/x", `{"text":"hook"}`)

	// The wire shape, field by field.
	a := do(t, "GET", base+"/_emu/messages", "", "")
	var raw struct {
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal([]byte(a.body), &raw); err != nil || len(raw.Messages) != 3 {
		t.Fatalf("%s (%v)", a.body, err)
	}
	first := raw.Messages[0]
	for _, k := range []string{"seq", "via", "channel", "channel_id", "ts", "thread_ts", "text", "blocks", "updates", "received_at", "updated_at"} {
		if _, ok := first[k]; !ok {
			t.Errorf("message lacks %q: %v", k, first)
		}
	}
	if first["blocks"] != nil || first["updates"] != 1.0 || first["updated_at"] == "" || raw.Messages[1]["updated_at"] != "" {
		t.Errorf("messages: %v", raw.Messages)
	}

	// Message decodes what the control API sends.
	var typed struct{ Messages []Message }
	if err := json.Unmarshal([]byte(a.body), &typed); err != nil {
		t.Fatal(err)
	}
	if m := typed.Messages[0]; m.TS != ts || m.Updates != 1 || m.UpdatedAt.IsZero() || m.ReceivedAt.IsZero() || !typed.Messages[1].UpdatedAt.IsZero() {
		t.Errorf("decoded %+v", m)
	}

	for filter, want := range map[string]string{"%23alerts": "one, updated", "alerts": "one, updated", ch: "one, updated", "webhook/T1/B1": "hook"} {
		var got struct{ Messages []Message }
		a := do(t, "GET", base+"/_emu/messages?channel="+filter, "", "")
		if err := json.Unmarshal([]byte(a.body), &got); err != nil || len(got.Messages) != 1 || got.Messages[0].Text != want {
			t.Errorf("channel=%s: %s", filter, a.body)
		}
	}

	a = do(t, "GET", base+"/_emu/messages?format=text&channel=alerts", "", "")
	if !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") || !strings.Contains(a.body, "#alerts") || !strings.Contains(a.body, "updated 1 time") {
		t.Errorf("text format: %q", a.body)
	}
}

func TestControlFaultsAndStatsAndReset(t *testing.T) {
	emu, base := newEmu(t, Options{})
	a := do(t, "POST", base+"/_emu/faults", "application/json", `{"target":"#alerts","mode":"error","error":"channel_not_found","count":1,"for":"60s"}`)
	if a.status != 200 || !strings.Contains(a.body, `"target":"#alerts"`) {
		t.Fatalf("set fault: %d %s", a.status, a.body)
	}
	if a := do(t, "GET", base+"/_emu/faults", "", ""); !strings.Contains(a.body, `"channel_not_found"`) {
		t.Errorf("list faults: %s", a.body)
	}
	for _, bad := range []string{`{"mode":"nope"}`, `{"mode":"slow","latency":"soon"}`, `not json`} {
		if a := do(t, "POST", base+"/_emu/faults", "application/json", bad); a.status != 400 || !strings.Contains(a.body, `"error"`) {
			t.Errorf("%s: %d %s", bad, a.status, a.body)
		}
	}

	api := apiClient(base, DefaultToken)
	assertSlackError(t, post(api, "#alerts"), "channel_not_found")
	if err := post(api, "#alerts"); err != nil {
		t.Fatal(err)
	}
	postHook(t, base, "T1/B1/x", `{}`)

	var st Stats
	if err := json.Unmarshal([]byte(do(t, "GET", base+"/_emu/stats", "", "").body), &st); err != nil {
		t.Fatal(err)
	}
	alerts, hook := st.Destinations["#alerts"], st.Destinations["webhook/T1/B1"]
	if alerts.Requests != 2 || alerts.Accepted != 1 || alerts.Errors["channel_not_found"] != 1 ||
		hook.Requests != 1 || hook.Errors["no_text"] != 1 ||
		st.Totals.Requests != 3 || st.Totals.Accepted != 1 || st.Totals.Errors["no_text"] != 1 {
		t.Errorf("stats %+v", st)
	}

	mustFault(t, emu, Fault{Target: "*", Mode: FaultHang})
	if a := do(t, "DELETE", base+"/_emu/faults?target=*", "", ""); !strings.Contains(a.body, `"cleared":true`) {
		t.Errorf("clear one: %s", a.body)
	}
	mustFault(t, emu, Fault{Target: "*", Mode: FaultHang})
	do(t, "DELETE", base+"/_emu/faults", "", "")
	if len(emu.Faults()) != 0 {
		t.Error("DELETE /_emu/faults left faults")
	}

	mustFault(t, emu, Fault{Target: "*", Mode: FaultHang})
	if a := do(t, "POST", base+"/_emu/reset", "", ""); a.status != 200 {
		t.Fatalf("reset: %d", a.status)
	}
	if len(emu.Messages()) != 0 || len(emu.Faults()) != 0 || emu.Stats().Totals.Requests != 0 {
		t.Error("reset left state behind")
	}
	if err := post(api, "#alerts"); err != nil || emu.Messages()[0].Seq != 1 {
		t.Errorf("after reset: %v, seq restarts at 1", err)
	}
}
