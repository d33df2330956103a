package slackemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// reply is one answer to a Slack call. errCode is the Slack error it carries
// ("" on success); statistics and the log line are derived from it.
type reply struct {
	status      int
	contentType string
	body        []byte
	retryAfter  int
	errCode     string
	note        string // extra detail for the log line only
}

func (r reply) summary() string {
	s := "ok"
	switch {
	case r.status == http.StatusTooManyRequests:
		s = fmt.Sprintf("throttled retry-after=%d", r.retryAfter)
	case r.errCode != "":
		s = r.errCode
	}
	if r.note != "" {
		s += " " + r.note
	}
	return s
}

// jsonReply encodes without HTML escaping, so text reads as sent ("&lt;", not "\u0026lt;").
func jsonReply(status int, v any) reply {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return reply{status: status, contentType: "application/json; charset=utf-8", body: bytes.TrimSuffix(buf.Bytes(), []byte("\n"))}
}

func textReply(status int, body string) reply {
	return reply{status: status, contentType: "text/plain; charset=utf-8", body: []byte(body)}
}

// apiOK is a Web API success: HTTP 200 with ok:true and the given fields.
func apiOK(fields map[string]any) reply {
	fields["ok"] = true
	return jsonReply(http.StatusOK, fields)
}

// errorReply answers a Slack error the way the endpoint does: the Web API with
// HTTP 200 and ok:false (details go in response_metadata, as Slack does),
// a webhook with a plain-text body and that error's HTTP status.
func (c *call) errorReply(code string, details ...string) reply {
	var rep reply
	if c.webhook() {
		rep = textReply(webhookStatus(code), code)
	} else {
		body := map[string]any{"ok": false, "error": code}
		if len(details) > 0 {
			body["response_metadata"] = map[string]any{"messages": details}
		}
		rep = jsonReply(http.StatusOK, body)
	}
	rep.errCode = code
	rep.note = strings.Join(details, "; ")
	return rep
}

// fail marks a call that could not be parsed; it is answered after faults.
func (c *call) fail(code string) {
	rep := c.errorReply(code)
	c.bad = &rep
}

// throttle is Slack's 429: Retry-After in seconds, and the body each endpoint sends.
func (c *call) throttle(retryAfter int) reply {
	var rep reply
	if c.webhook() {
		rep = textReply(http.StatusTooManyRequests, "rate_limited")
	} else {
		rep = jsonReply(http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
	}
	rep.retryAfter = retryAfter
	return rep
}

// status answers a bare HTTP status. Without a body it sends what Slack's
// clients would see: for the Web API an ok:false JSON, for a webhook a word.
func (c *call) status(code int, body string) reply {
	errCode := statusError(code)
	var rep reply
	switch {
	case body != "":
		rep = textReply(code, body)
	case c.webhook():
		rep = textReply(code, errCode)
	default:
		rep = jsonReply(code, map[string]any{"ok": false, "error": errCode})
	}
	rep.errCode = "http_" + strconv.Itoa(code) // not stored, so never counted as accepted
	return rep
}

// statusError is the Slack error string that goes with an HTTP status.
func statusError(code int) string {
	switch code {
	case http.StatusInternalServerError:
		return "internal_error"
	case http.StatusServiceUnavailable, http.StatusBadGateway:
		return "service_unavailable"
	case http.StatusGatewayTimeout:
		return "request_timeout"
	case http.StatusTooManyRequests:
		return "ratelimited"
	}
	return strings.ReplaceAll(strings.ToLower(http.StatusText(code)), " ", "_")
}
