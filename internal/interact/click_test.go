package interact

import (
	"errors"
	"testing"
)

// A Click takes each field from where Slack puts it, and from the
// alternative place when the first is missing.
func TestParseClicksFallbacks(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    Click
	}{
		{
			name: "everything in its first place",
			payload: `{"type":"block_actions","user":{"id":"U1","username":"ada","name":"Ada L","team_id":"T1"},"team":{"id":"T2"},
				"channel":{"id":"C1","name":"alerts"},"container":{"channel_id":"C2","message_ts":"1.1"},"message":{"ts":"2.2","metadata":{"event_type":"e"}},
				"actions":[{"action_id":"a","block_id":"b","value":"v","selected_option":{"value":"o"}}]}`,
			want: Click{UserID: "U1", UserName: "ada", TeamID: "T1", ChannelID: "C1", ChannelName: "alerts", MessageTS: "1.1", BlockID: "b", ActionID: "a", Value: "v", EventType: "e"},
		},
		{
			name: "the alternatives",
			payload: `{"type":"block_actions","user":{"id":"U1","name":"Ada L"},"team":{"id":"T2"},
				"container":{"channel_id":"C2"},"message":{"ts":"2.2"},
				"actions":[{"action_id":"a","block_id":"b","selected_option":{"value":"o"}}]}`,
			want: Click{UserID: "U1", UserName: "Ada L", TeamID: "T2", ChannelID: "C2", MessageTS: "2.2", BlockID: "b", ActionID: "a", Value: "o"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseClicks([]byte(tt.payload))
			if err != nil || len(got) != 1 || got[0] != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// One Click per action, in order.
func TestParseClicksOnePerAction(t *testing.T) {
	got, err := parseClicks([]byte(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"a"},{"action_id":"b"}]}`))
	if err != nil || len(got) != 2 || got[0].ActionID != "a" || got[1].ActionID != "b" || got[1].UserID != "U1" {
		t.Errorf("got %+v, %v", got, err)
	}
}

func TestParseClicksRefusesOtherPayloads(t *testing.T) {
	for _, p := range []string{`{"type":"view_submission","actions":[{"action_id":"a"}]}`, `{"type":"block_actions"}`} {
		if _, err := parseClicks([]byte(p)); !errors.Is(err, errNotClicks) {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := parseClicks([]byte(`[`)); err == nil || errors.Is(err, errNotClicks) {
		t.Errorf("bad JSON: %v", err)
	}
}

// With several actions, a refused user stops all of them before any is
// applied, and ErrUnknownMessage stops at the first.
func TestApplySeveralActions(t *testing.T) {
	two := `{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"a"},{"action_id":"b"}]}`
	rec := &recorder{err: ErrUnknownMessage}
	o := rec.options().withDefaults()
	if res, err := o.apply(t.Context(), []byte(two)); res != UnknownMessage || err != nil || len(rec.handled()) != 1 {
		t.Errorf("%s %v, handled %d", res, err, len(rec.handled()))
	}
	rec = &recorder{}
	o = rec.options("U2").withDefaults()
	if res, _ := o.apply(t.Context(), []byte(two)); res != Forbidden || len(rec.handled()) != 0 {
		t.Errorf("%s, handled %d", res, len(rec.handled()))
	}
	rec = &recorder{}
	o = rec.options("U1").withDefaults()
	if res, _ := o.apply(t.Context(), []byte(two)); res != Accepted || len(rec.handled()) != 2 {
		t.Errorf("%s, handled %d", res, len(rec.handled()))
	}
}
