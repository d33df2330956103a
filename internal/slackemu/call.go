package slackemu

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxBody bounds a request body; a real message is far smaller, even at every limit.
const maxBody = 4 << 20

type callKind int

const (
	kindPost callKind = iota
	kindUpdate
	kindAuthTest
	kindHistory
	kindList
	kindWebhook
)

// call is one Slack request, parsed once so that faults, auth, limits and
// storage all see the same view of it.
type call struct {
	kind   callKind
	method string // for the log: chat.postMessage, chat.update, auth.test, webhook

	token       string
	channel     string // as sent
	dest        string // "#name" or "webhook/a/b"; "" until known
	channelID   string // "" for webhooks and unknown channels
	text        string
	hasText     bool
	blocks      json.RawMessage // nil when absent
	attachments json.RawMessage
	metadata    json.RawMessage // message metadata as sent; nil when absent
	ts          string
	threadTS    string
	params      map[string]string // every other field, so tests can assert on them

	bad *reply // the request could not be parsed; answered after faults

	logged    int    // its index in Server.calls
	injected  bool   // answered by a fault, not by the method
	requestID string // the client's X-Request-Id, if it sent one
}

func (c *call) webhook() bool { return c.kind == kindWebhook }

// parseAPI reads a Web API call in either encoding slack-go and Slack use:
// form fields (token in the form or a Bearer header, blocks as a JSON string)
// or a JSON body with a Bearer header.
func parseAPI(r *http.Request, kind callKind, method string) *call {
	c := &call{kind: kind, method: method, params: map[string]string{}, requestID: r.Header.Get("X-Request-Id")}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		c.token = strings.TrimSpace(tok)
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		c.fail("request_too_large")
		return c
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		c.fromJSON(body, "invalid_json", "invalid_arguments")
	case "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseMultipartForm(maxBody); err != nil {
			c.fail("invalid_form_data")
			return c
		}
		c.fromForm(r.Form)
	default:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			c.fail("invalid_form_data")
			return c
		}
		c.fromForm(form)
	}
	return c
}

// parseWebhook reads an incoming-webhook post: a JSON body, or Slack's older
// form encoding with the JSON in a "payload" field.
func parseWebhook(r *http.Request) *call {
	c := &call{
		kind:   kindWebhook,
		method: "webhook",
		// The third path segment is the hook's secret: it is never kept.
		dest:      "webhook/" + r.PathValue("a") + "/" + r.PathValue("b"),
		params:    map[string]string{},
		requestID: r.Header.Get("X-Request-Id"),
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		c.fail("invalid_payload")
		return c
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Has("payload") {
			body = []byte(form.Get("payload"))
		}
	}
	c.fromJSON(body, "invalid_payload", "invalid_payload")
	return c
}

func (c *call) fromForm(form url.Values) {
	for k, vs := range form {
		v := ""
		if len(vs) > 0 {
			v = vs[0]
		}
		switch k {
		case "token":
			if c.token == "" {
				c.token = v
			}
		case "channel":
			c.channel = v
		case "text":
			c.text, c.hasText = v, true
		case "blocks":
			c.blocks = rawOrNil(v)
		case "attachments":
			c.attachments = rawOrNil(v)
		case "metadata":
			c.metadata = rawOrNil(v)
		case "ts":
			c.ts = v
		case "thread_ts":
			c.threadTS = v
		default:
			c.params[k] = v
		}
	}
}

// fromJSON reads a JSON object body. badBody is the error for a body that is
// not a JSON object, badField for a known field of the wrong type.
func (c *call) fromJSON(body []byte, badBody, badField string) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		c.fail(badBody)
		return
	}
	for k, raw := range fields {
		var ok = true
		switch {
		case k == "text":
			c.text, ok = jsonString(raw)
			c.hasText = ok && string(raw) != "null"
		case k == "channel" && !c.webhook(): // a webhook cannot choose its channel
			c.channel, ok = jsonString(raw)
		case k == "ts" && !c.webhook():
			c.ts, ok = jsonString(raw)
		case k == "thread_ts" && !c.webhook():
			c.threadTS, ok = jsonString(raw)
		case k == "blocks":
			c.blocks = jsonBlocks(raw)
		case k == "attachments":
			c.attachments = jsonBlocks(raw)
		case k == "metadata" && !c.webhook():
			c.metadata = jsonBlocks(raw) // an object, or a string holding one
		default:
			if s, isString := jsonString(raw); isString {
				c.params[k] = s
			} else {
				c.params[k] = string(raw)
			}
		}
		if !ok {
			c.fail(badField)
			return
		}
	}
}

func rawOrNil(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// jsonString accepts a JSON string or null.
func jsonString(raw json.RawMessage) (string, bool) {
	var s *string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	if s == nil {
		return "", true
	}
	return *s, true
}

// jsonBlocks accepts blocks as a JSON array or, as Slack also does, as a string
// holding one. Anything else is passed on for the limit check to reject.
func jsonBlocks(raw json.RawMessage) json.RawMessage {
	if string(raw) == "null" {
		return nil
	}
	if s, ok := jsonString(raw); ok {
		return rawOrNil(s)
	}
	return raw
}
