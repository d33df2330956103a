package slackclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var blocks = []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "hi", false, true), nil, nil)}

// answer serves one canned HTTP answer and remembers the last request body.
func answer(t *testing.T, status int, header map[string]string, body string) (*httptest.Server, *string) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var se *Error
	require.ErrorAs(t, err, &se)
	return se
}

func TestWebAPIClassifiesAnswers(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		class      Class
		code       string
		retryAfter time.Duration
	}{
		{"channel_not_found", 200, nil, `{"ok":false,"error":"channel_not_found"}`, Permanent, "channel_not_found", 0},
		{"invalid_auth", 200, nil, `{"ok":false,"error":"invalid_auth"}`, Permanent, "invalid_auth", 0},
		{"invalid_blocks", 200, nil, `{"ok":false,"error":"invalid_blocks"}`, Permanent, "invalid_blocks", 0},
		{"unknown error is permanent", 200, nil, `{"ok":false,"error":"something_new"}`, Permanent, "something_new", 0},
		{"ratelimited in body", 200, nil, `{"ok":false,"error":"ratelimited"}`, Throttled, "ratelimited", time.Second},
		{"internal_error", 200, nil, `{"ok":false,"error":"internal_error"}`, Transient, "internal_error", 0},
		{"fatal_error retried: late beats lost", 200, nil, `{"ok":false,"error":"fatal_error"}`, Transient, "fatal_error", 0},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "7"}, `{"ok":false,"error":"ratelimited"}`, Throttled, "ratelimited", 7 * time.Second},
		{"503", 503, nil, "upstream down", Transient, "http_503", 0},
		{"404", 404, nil, "nope", Permanent, "http_404", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := answer(t, tt.status, tt.header, tt.body)
			_, err := NewWebAPI("xoxb-secret-token", srv.URL+"/api/", srv.Client()).Post(context.Background(), "#alerts", "", "text", blocks, nil)
			se := asError(t, err)
			assert.Equal(t, tt.class, se.Class)
			assert.Equal(t, tt.code, se.Code)
			assert.Equal(t, tt.retryAfter, se.RetryAfter)
			assert.NotContains(t, err.Error(), "xoxb-secret-token")
		})
	}
}

func TestWebAPISuccessSendsBlocksWithoutUnfurling(t *testing.T) {
	srv, got := answer(t, 200, nil, `{"ok":true,"channel":"C1","ts":"1.2"}`)
	ref, err := NewWebAPI("xoxb-t", srv.URL+"/api/", srv.Client()).Post(context.Background(), "#alerts", "", "fallback", blocks, nil)
	require.NoError(t, err)
	assert.Equal(t, Ref{ChannelID: "C1", TS: "1.2"}, ref)
	assert.Contains(t, *got, "channel=%23alerts")
	assert.Contains(t, *got, "blocks=")
	assert.Contains(t, *got, "unfurl_links=false")
	assert.Contains(t, *got, "unfurl_media=false")
	assert.NotContains(t, *got, "link_names", "Slack must never turn names in log text into mentions")
}

func TestWebhookClassifiesPlainTextAnswers(t *testing.T) {
	tests := []struct {
		status int
		body   string
		class  Class
		code   string
	}{
		{404, "channel_not_found", Permanent, "channel_not_found"},
		{410, "channel_is_archived", Permanent, "channel_is_archived"},
		{403, "action_prohibited", Permanent, "action_prohibited"},
		{400, "invalid_payload", Permanent, "invalid_payload"},
		{404, "no_active_hooks", Permanent, "no_active_hooks"},
		{500, "rollup_error", Transient, "rollup_error"},
		{502, "<html>bad gateway</html>", Transient, "http_502"},
		{429, "rate_limited", Throttled, "rate_limited"},
		// Found by TestDeliveryInvariants: the code, not the status,
		// says to wait; records were dropped as "permanent".
		{400, "ratelimited", Throttled, "ratelimited"},
		{400, "service_unavailable", Transient, "service_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			srv, _ := answer(t, tt.status, map[string]string{"Retry-After": "3"}, tt.body)
			url := srv.URL + "/services/T0/B0/hook-secret"
			err := NewWebhook(url, srv.Client()).Post(context.Background(), "text", blocks)
			se := asError(t, err)
			assert.Equal(t, tt.class, se.Class)
			assert.Equal(t, tt.code, se.Code)
			if tt.class == Throttled {
				assert.Equal(t, 3*time.Second, se.RetryAfter)
			}
			assert.NotContains(t, err.Error(), "hook-secret")
		})
	}
}

func TestWebhookSuccess(t *testing.T) {
	srv, got := answer(t, 200, nil, "ok")
	require.NoError(t, NewWebhook(srv.URL+"/services/a/b/c", srv.Client()).Post(context.Background(), "fallback", blocks))
	assert.Contains(t, *got, `"text":"fallback"`)
	assert.Contains(t, *got, `"blocks":[{"type":"section"`)
	assert.Contains(t, *got, `"unfurl_links":false`)
	assert.Contains(t, *got, `"unfurl_media":false`)
}

func TestNetworkErrorsAreTransientAndRedacted(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/services/T0/B0/hook-secret"
	srv.Close() // connection refused from now on
	err := NewWebhook(url, http.DefaultClient).Post(context.Background(), "t", blocks)
	se := asError(t, err)
	assert.Equal(t, Transient, se.Class)
	assert.Equal(t, "network", se.Code)
	assert.NotContains(t, err.Error(), "hook-secret")
	assert.NotContains(t, err.Error(), "/services/")
	assert.Contains(t, err.Error(), "connection refused")

	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = NewWebhook(hang.URL+"/services/a/b/hook-secret", hang.Client()).Post(ctx, "t", blocks)
	se = asError(t, err)
	assert.Equal(t, Transient, se.Class)
	assert.Equal(t, "timeout", se.Code)
	assert.NotContains(t, err.Error(), "hook-secret")
}

func TestWebhookStatusesWithoutACode(t *testing.T) {
	for _, tt := range []struct {
		status     int
		class      Class
		retryAfter string
		wait       time.Duration
	}{
		{500, Transient, "", 0},
		{408, Transient, "", 0},
		{499, Permanent, "", 0},
		{429, Throttled, "", time.Second}, // no Retry-After: wait a second
		{429, Throttled, "0", time.Second},
		{429, Throttled, "-5", time.Second},
		{429, Throttled, "12", 12 * time.Second},
	} {
		header := map[string]string{}
		if tt.retryAfter != "" {
			header["Retry-After"] = tt.retryAfter
		}
		srv, _ := answer(t, tt.status, header, "<html>not a code</html>")
		se := asError(t, NewWebhook(srv.URL+"/services/a/b/c", srv.Client()).Post(context.Background(), "t", blocks))
		assert.Equal(t, tt.class, se.Class, "%d", tt.status)
		assert.Equal(t, fmt.Sprintf("http_%d", tt.status), se.Code)
		assert.Equal(t, tt.wait, se.RetryAfter, "%d, Retry-After %q", tt.status, tt.retryAfter)
	}
}

// A network error names the host that failed, never the rest of the URL
// (a webhook's path is its secret).
func TestNetworkErrorsNameTheHostOnly(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	err := NewWebhook(srv.URL+"/services/T0/B0/hook-secret", http.DefaultClient).Post(context.Background(), "t", blocks)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "http://"+host+"/…")
	assert.NotContains(t, err.Error(), "hook-secret")

	for _, raw := range []string{"/services/T0/B0/hook-secret", "::hook-secret"} {
		err := redact(&url.Error{Op: "Post", URL: raw, Err: errors.New("refused")})
		assert.Equal(t, "Post (url redacted): refused", err.Error(), "%q has no host to show", raw)
	}
}

func TestAReplyGoesToItsThreadAndAPostDoesNot(t *testing.T) {
	srv, got := answer(t, 200, nil, `{"ok":true,"channel":"C1","ts":"1.3"}`)
	api := NewWebAPI("xoxb-t", srv.URL+"/api/", srv.Client())
	_, err := api.Post(context.Background(), "C1", "1.2", "reply", blocks, nil)
	require.NoError(t, err)
	assert.Contains(t, *got, "thread_ts=1.2")
	_, err = api.Post(context.Background(), "C1", "", "top", blocks, nil)
	require.NoError(t, err)
	assert.NotContains(t, *got, "thread_ts")
}

func TestUpdateReplacesTheMessage(t *testing.T) {
	srv, got := answer(t, 200, nil, `{"ok":true,"channel":"C1","ts":"1.2"}`)
	api := NewWebAPI("xoxb-t", srv.URL+"/api/", srv.Client())
	require.NoError(t, api.Update(context.Background(), Ref{ChannelID: "C1", TS: "1.2"}, "now 3", blocks, nil))
	assert.Contains(t, *got, "channel=C1")
	assert.Contains(t, *got, "ts=1.2")
	assert.Contains(t, *got, "text=now+3")
	assert.Contains(t, *got, "blocks=")

	srv, _ = answer(t, 200, nil, `{"ok":false,"error":"message_not_found"}`)
	err := NewWebAPI("xoxb-t", srv.URL+"/api/", srv.Client()).Update(context.Background(), Ref{ChannelID: "C1", TS: "1.2"}, "t", blocks, nil)
	se := asError(t, err)
	assert.Equal(t, Permanent, se.Class)
	assert.Equal(t, "message_not_found", se.Code)
}

// A permanent error says what to fix, by the family of its code.
func TestHintsNameTheFix(t *testing.T) {
	for fix, codes := range map[string][]string{
		"check the token":         {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "invalid_token"},
		"chat:write scope":        {"missing_scope", "no_permission", "not_allowed_token_type"},
		"the app is a member":     {"channel_not_found", "not_in_channel"},
		"archived":                {"is_archived", "channel_is_archived"},
		"disabled or was removed": {"no_active_hooks", "no_service", "no_team", "team_disabled", "action_prohibited"},
		"fix the configuration or report a rendering bug": {"invalid_blocks", "msg_blocks_too_long", "no_text", "something_new"},
	} {
		for _, code := range codes {
			err := &Error{Class: Permanent, Code: code}
			assert.Contains(t, err.Error(), fix, code)
			assert.Contains(t, err.Error(), code)
		}
	}
}

func TestMetadataIsSentOnlyWhenGiven(t *testing.T) {
	srv, got := answer(t, 200, nil, `{"ok":true,"channel":"C1","ts":"1.2"}`)
	api := NewWebAPI("xoxb-t", srv.URL+"/api/", srv.Client())
	meta := &slack.SlackMetadata{EventType: "otel_log_records", EventPayload: map[string]any{"records": 3}}
	sent := func() string {
		form, err := url.ParseQuery(*got)
		require.NoError(t, err)
		return form.Get("metadata")
	}

	_, err := api.Post(context.Background(), "C1", "", "top", blocks, meta)
	require.NoError(t, err)
	assert.JSONEq(t, `{"event_type":"otel_log_records","event_payload":{"records":3}}`, sent())
	require.NoError(t, api.Update(context.Background(), Ref{ChannelID: "C1", TS: "1.2"}, "now", blocks, meta))
	assert.JSONEq(t, `{"event_type":"otel_log_records","event_payload":{"records":3}}`, sent())

	_, err = api.Post(context.Background(), "C1", "1.2", "reply", blocks, nil)
	require.NoError(t, err)
	assert.Empty(t, sent())
	require.NoError(t, api.Update(context.Background(), Ref{ChannelID: "C1", TS: "1.2"}, "now", blocks, nil))
	assert.Empty(t, sent())
}
