package interact

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

const testSecret = "test-signing-secret"

// epoch is the fake clock's now in the request-URL tests.
var epoch = time.Unix(1_800_000_000, 0)

// recorder collects what a transport counted and handed to the Handler.
type recorder struct {
	mu      sync.Mutex
	results []string
	clicks  []Click
	err     error // what the Handler returns
}

func (r *recorder) count(result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, result)
}

func (r *recorder) handle(_ context.Context, c Click) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clicks = append(r.clicks, c)
	return r.err
}

func (r *recorder) counted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.results...)
}

func (r *recorder) handled() []Click {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Click(nil), r.clicks...)
}

func (r *recorder) options(allowed ...string) Options {
	return Options{AllowedUsers: allowed, Handle: r.handle, Count: r.count, Now: func() time.Time { return epoch }}
}

// clickJSON is a block_actions payload as Slack sends it for an overflow
// choice; user is its user id.
func clickJSON(user string) string {
	return `{"type":"block_actions","user":{"id":"` + user + `","username":"ada","name":"ada","team_id":"T1"},` +
		`"team":{"id":"T1","domain":"x"},"channel":{"id":"C1","name":"alerts"},` +
		`"container":{"type":"message","message_ts":"1700000000.000100","channel_id":"C1","is_ephemeral":false},` +
		`"message":{"type":"message","ts":"1700000000.000100","text":"hi","metadata":{"event_type":"slackexporter_group","event_payload":{"k":"v"}}},` +
		`"actions":[{"type":"overflow","action_id":"slackexporter_menu","block_id":"b1",` +
		`"selected_option":{"text":{"type":"plain_text","text":"Mute 1h"},"value":"mute:1h"},"action_ts":"1700000001.1"}]}`
}

// wantClick is the Click clickJSON(user) makes.
func wantClick(user string) Click {
	return Click{UserID: user, UserName: "ada", TeamID: "T1", ChannelID: "C1", ChannelName: "alerts", MessageTS: "1700000000.000100",
		BlockID: "b1", ActionID: "slackexporter_menu", Value: "mute:1h", EventType: "slackexporter_group"}
}

func formBody(payload string) string { return "payload=" + url.QueryEscape(payload) }

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// signed is a request signed as Slack signs it.
func signed(body, ts string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/slack/actions", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", sign(testSecret, ts, []byte(body)))
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
