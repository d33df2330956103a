// Package slackclient posts messages to Slack, by bot token (chat.postMessage
// through slack-go) or by incoming webhook, and says what each failure means
// for delivery: drop, retry, or wait.
package slackclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

// Class says what to do with a failed post.
type Class int

const (
	// Transient: retry with backoff (5xx, network, timeouts).
	Transient Class = iota
	// Throttled: Slack asked us to wait RetryAfter before the next post.
	Throttled
	// Permanent: retrying cannot help; the configuration must change.
	Permanent
)

// Error is a failed post. Its text names Slack's error string or the HTTP
// status, never a token or a webhook URL.
type Error struct {
	Class Class
	// Code is Slack's error string (channel_not_found), "http_503", or
	// "network"; it is the value of the api_errors metric's attribute.
	Code       string
	RetryAfter time.Duration
	cause      error
}

func (e *Error) Error() string {
	switch e.Class {
	case Permanent:
		return fmt.Sprintf("slack answered %s (permanent, not retried: %s)", e.Code, hint(e.Code))
	case Throttled:
		return fmt.Sprintf("slack answered %s: retry after %s", e.Code, e.RetryAfter)
	}
	if e.cause != nil {
		return fmt.Sprintf("slack call failed (%s): %v", e.Code, e.cause)
	}
	return fmt.Sprintf("slack answered %s", e.Code)
}

func (e *Error) Unwrap() error { return e.cause }

// Web API error strings, by what they mean for delivery. Any other string
// is treated as permanent: retrying an error we do not understand forever
// would block the queue.
var (
	throttleCodes  = set("ratelimited", "rate_limited", "message_limit_exceeded")
	transientCodes = set("service_unavailable", "internal_error", "request_timeout", "fatal_error", "rollup_error")
)

func set(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

// hint tells an operator what to fix for the common permanent errors.
func hint(code string) string {
	switch code {
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "invalid_token":
		return "check the token"
	case "missing_scope", "no_permission", "not_allowed_token_type":
		return "the Slack app needs the chat:write scope"
	case "channel_not_found", "not_in_channel":
		return "check the channel exists and the app is a member of it"
	case "is_archived", "channel_is_archived":
		return "the channel is archived"
	case "no_active_hooks", "no_service", "no_team", "team_disabled", "action_prohibited":
		return "the webhook is disabled or was removed"
	}
	return "fix the configuration or report a rendering bug"
}

// classifyWebAPI turns a slack-go error into an *Error.
func classifyWebAPI(err error) *Error {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &Error{Class: Throttled, Code: "ratelimited", RetryAfter: rl.RetryAfter}
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return classifyCode(se.Err, 0)
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return classifyStatus(sc.Code, "", 0)
	}
	return transport(err)
}

func classifyCode(code string, retryAfter time.Duration) *Error {
	switch {
	case throttleCodes[code]:
		return &Error{Class: Throttled, Code: code, RetryAfter: max(retryAfter, time.Second)}
	case transientCodes[code]:
		return &Error{Class: Transient, Code: code}
	}
	return &Error{Class: Permanent, Code: code}
}

// classifyStatus classifies an HTTP answer; code is Slack's error string
// from the body when there is one. A throttle or transient code wins over
// the status: a "rate_limited" body is a wait, whatever status carries it.
func classifyStatus(status int, code string, retryAfter time.Duration) *Error {
	if throttleCodes[code] || transientCodes[code] {
		return classifyCode(code, retryAfter)
	}
	if code == "" {
		code = "http_" + strconv.Itoa(status)
	}
	switch {
	case status == 429:
		return &Error{Class: Throttled, Code: code, RetryAfter: max(retryAfter, time.Second)}
	case status >= 500 || status == 408:
		return &Error{Class: Transient, Code: code}
	}
	return &Error{Class: Permanent, Code: code}
}

// transport classifies a failure to get an answer at all. The cause is kept
// with any URL redacted: Go's HTTP errors print the URL, and a webhook URL
// is a secret.
func transport(err error) *Error {
	code := "network"
	if errors.Is(err, context.DeadlineExceeded) {
		code = "timeout"
	}
	return &Error{Class: Transient, Code: code, cause: redact(err)}
}

func redact(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	shown := "(url redacted)"
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		shown = u.Scheme + "://" + u.Host + "/…"
	}
	return fmt.Errorf("%s %s: %w", ue.Op, shown, ue.Err)
}
