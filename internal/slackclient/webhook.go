package slackclient

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Webhook posts to an incoming webhook. It does not use slack-go's webhook
// helpers: they discard the answer body, and the body is where Slack says
// what went wrong (channel_not_found, no_active_hooks, …).
type Webhook struct {
	url    string
	client *http.Client
}

// NewWebhook returns a poster for the webhook at url, sending through hc.
func NewWebhook(url string, hc *http.Client) *Webhook {
	return &Webhook{url: url, client: hc}
}

var errorWord = regexp.MustCompile(`^[a-z_]{1,64}$`)

// Post sends one message. Success is HTTP 200; errors come as a plain-text
// body with a meaningful status.
func (w *Webhook) Post(ctx context.Context, text string, blocks []slack.Block) error {
	payload, err := json.Marshal(slack.WebhookMessage{Text: text, Blocks: &slack.Blocks{BlockSet: blocks}, UnfurlLinks: new(bool), UnfurlMedia: new(bool)})
	if err != nil {
		return &Error{Class: Permanent, Code: "invalid_payload", cause: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(payload))
	if err != nil {
		return &Error{Class: Permanent, Code: "invalid_webhook_url"}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return transport(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // let the connection be reused
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	code := strings.TrimSpace(string(body))
	if !errorWord.MatchString(code) {
		code = ""
	}
	return classifyStatus(resp.StatusCode, code, retryAfter(resp.Header.Get("Retry-After")))
}

// retryAfter reads a Retry-After header given in seconds.
func retryAfter(v string) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || s < 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}
