package slackemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestMetadataIsKeptAndReadBackWithHistory(t *testing.T) {
	emu, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)

	meta := func(n int) slack.MsgOption {
		return slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "otel_log_records", EventPayload: map[string]any{"records": n}})
	}
	ch, first, err := api.PostMessage("#alerts", slack.MsgOptionText("one", false), meta(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessage(ch, slack.MsgOptionText("reply", false), slack.MsgOptionTS(first), meta(9)); err != nil {
		t.Fatal(err)
	}
	_, second, err := api.PostMessage("#alerts", slack.MsgOptionText("two, no metadata", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessage(ch, first, slack.MsgOptionText("one, updated", false), meta(5)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessage(ch, first, slack.MsgOptionText("one, updated again", false)); err != nil {
		t.Fatal(err)
	}

	m := emu.Messages()[0]
	if got := string(m.Metadata); got != `{"event_type":"otel_log_records","event_payload":{"records":5}}` {
		t.Errorf("stored metadata %s: an update without metadata keeps the last one", got)
	}
	if len(m.History) != 3 || string(m.History[0].Metadata) != `{"event_type":"otel_log_records","event_payload":{"records":1}}` {
		t.Errorf("history %+v: each version keeps the metadata it showed", m.History)
	}

	h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch, IncludeAllMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 2 || h.Messages[0].Timestamp != second || h.Messages[1].Timestamp != first {
		t.Fatalf("history %+v: want the two top-level messages, newest first", h.Messages)
	}
	if got := h.Messages[1].Metadata; got.EventType != "otel_log_records" || fmt.Sprint(got.EventPayload["records"]) != "5" {
		t.Errorf("metadata read back %+v", got)
	}
	if h.Messages[0].Metadata.EventType != "" {
		t.Errorf("a message posted without metadata has none: %+v", h.Messages[0].Metadata)
	}

	h, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch})
	if err != nil {
		t.Fatal(err)
	}
	if h.Messages[1].Metadata.EventType != "" {
		t.Error("metadata is returned only with include_all_metadata")
	}
}

func TestHistoryPages(t *testing.T) {
	_, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	var ch string
	var posted []string
	for i := range 5 {
		c, ts, err := api.PostMessage("#alerts", slack.MsgOptionText(strconv.Itoa(i), false))
		if err != nil {
			t.Fatal(err)
		}
		ch, posted = c, append(posted, ts)
	}
	var read []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch, Limit: 1, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range h.Messages {
			read = append(read, m.Timestamp)
		}
		if !h.HasMore {
			break
		}
		cursor = h.ResponseMetaData.NextCursor
	}
	if fmt.Sprint(read) != fmt.Sprint([]string{posted[4], posted[3], posted[2], posted[1], posted[0]}) {
		t.Errorf("read %v, posted %v: want every message once, newest first", read, posted)
	}
	_, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C0NOTTHERE"})
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "channel_not_found" {
		t.Errorf("unknown channel: %v", err)
	}
}

func TestMetadataMustBeFlat(t *testing.T) {
	emu, base := newEmu(t, Options{})
	for _, bad := range []string{
		`{"event_type":"` + strings.Repeat("x", 256) + `","event_payload":{}}`,
		`{"event_payload":{"records":1}}`,
		`{"event_type":"x"}`,
		`{"event_type":"x","event_payload":{"nested":{"a":1}}}`,
		`{"event_type":"x","event_payload":{"list":[1,2]}}`,
		`not json`,
	} {
		a := postForm(t, base, "chat.postMessage", url.Values{"token": {DefaultToken}, "channel": {"#alerts"}, "text": {"x"}, "metadata": {bad}})
		var r struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(a.body), &r); err != nil || r.OK || r.Error != "invalid_metadata_format" {
			t.Errorf("metadata %s: answer %s, want invalid_metadata_format", bad, a.body)
		}
	}
	if n := len(emu.Messages()); n != 0 {
		t.Errorf("%d messages stored, want none", n)
	}
	a := postForm(t, base, "chat.postMessage", url.Values{"token": {DefaultToken}, "channel": {"#alerts"}, "text": {"x"},
		"metadata": {`{"event_type":"` + strings.Repeat("x", 255) + `","event_payload":{}}`}})
	if !strings.Contains(a.body, `"ok":true`) {
		t.Errorf("an event_type of 255 characters: %s", a.body)
	}
}

func TestHistorySinceOldestAndTheChannelList(t *testing.T) {
	_, base := newEmu(t, Options{})
	api := apiClient(base, DefaultToken)
	ch, first, err := api.PostMessage("#alerts", slack.MsgOptionText("old", false))
	if err != nil {
		t.Fatal(err)
	}
	_, second, err := api.PostMessage("#alerts", slack.MsgOptionText("new", false))
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch, Oldest: first})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 || h.Messages[0].Timestamp != second {
		t.Errorf("history after %s: %+v, want only %s", first, h.Messages, second)
	}

	if _, _, err := api.PostMessage("#ops", slack.MsgOptionText("x", false)); err != nil {
		t.Fatal(err)
	}
	var names []string
	cursor, pages := "", 0
	for range 5 {
		chans, next, err := api.GetConversations(&slack.GetConversationsParameters{Limit: 1, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range chans {
			names = append(names, c.Name+"="+c.ID)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	want := map[string]bool{"alerts=" + channelID("#alerts"): true, "ops=" + channelID("#ops"): true}
	if len(names) != 2 || pages != 2 || !want[names[0]] || !want[names[1]] {
		t.Errorf("listed %v in %d pages, want alerts and ops with their ids, one page each", names, pages)
	}
	if chans, next, err := api.GetConversations(&slack.GetConversationsParameters{Limit: 2}); err != nil || len(chans) != 2 || next != "" {
		t.Errorf("a page that holds every channel: %d channels, next cursor %q, %v", len(chans), next, err)
	}
}

func TestPagingParametersAreChecked(t *testing.T) {
	_, base := newEmu(t, Options{})
	a := postForm(t, base, "chat.postMessage", url.Values{"token": {DefaultToken}, "channel": {"#alerts"}, "text": {"x"}})
	if !strings.Contains(a.body, `"ok":true`) {
		t.Fatal(a.body)
	}
	id := channelID("#alerts")
	for _, tc := range []struct {
		method, param, value, want string
	}{
		{"conversations.history", "limit", "0", "invalid_limit"},
		{"conversations.history", "limit", "x", "invalid_limit"},
		{"conversations.history", "cursor", "-1", "invalid_cursor"},
		{"conversations.history", "cursor", "0", `"ok":true`},
		{"conversations.history", "limit", "1", `"ok":true`},
		{"conversations.list", "limit", "0", "invalid_limit"},
		{"conversations.list", "cursor", "-1", "invalid_cursor"},
		{"conversations.list", "cursor", "0", `"ok":true`},
		{"conversations.list", "limit", "1", `"ok":true`},
	} {
		a := postForm(t, base, tc.method, url.Values{"token": {DefaultToken}, "channel": {id}, tc.param: {tc.value}})
		if !strings.Contains(a.body, tc.want) {
			t.Errorf("%s %s=%s: %s, want %s", tc.method, tc.param, tc.value, a.body, tc.want)
		}
	}
}
