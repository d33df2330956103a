package interact

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"

	"go.uber.org/zap"
)

// maxRequestBody: Slack's click payloads are a few kilobytes; a body over
// 1 MiB is not from Slack.
const maxRequestBody = 1 << 20

// NewActionsHandler returns the http.Handler for the request-URL transport
// (the exporter mounts it at POST /slack/actions).
//
// Answers: 405 for another method and 413 for a body over 1 MiB (both
// unverified, so counted as bad_signature); 401 with an empty body for a
// wrong or missing signature (bad_signature), a timestamp more than 5
// minutes off (stale) or a signature already seen (replay); 400 for a
// payload that is not a block_actions click (unknown_message); 403 for a
// user not allowed (forbidden) or a message not ours (unknown_message); 500
// when the Handler fails otherwise (accepted: it was genuine and handed on);
// else 200 with an empty body (accepted).
func NewActionsHandler(signingSecret string, o Options) http.Handler {
	return &actionsHandler{secret: signingSecret, opts: o.withDefaults(), seen: newSeenSignatures()}
}

type actionsHandler struct {
	secret string
	opts   Options
	seen   *seenSignatures
}

func (h *actionsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, result := h.serve(r)
	h.opts.Count(result)
	if status != http.StatusOK {
		h.opts.Logger.Debug("Slack request refused", zap.Int("status", status), zap.String("result", result))
	}
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	// No body: a refusal says nothing an attacker could use, and Slack
	// wants an empty 200.
	w.WriteHeader(status)
}

// serve decides the answer and the result to count. Nothing of the body is
// parsed before its signature is checked.
func (h *actionsHandler) serve(r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, BadSignature
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxRequestBody))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			// Not verified (the signature covers the whole body), so it
			// counts as bad_signature; 413 says why without a hint about
			// the secret.
			return http.StatusRequestEntityTooLarge, BadSignature
		}
		return http.StatusBadRequest, BadSignature
	}
	timestamp := r.Header.Get("X-Slack-Request-Timestamp")
	signature := r.Header.Get("X-Slack-Signature")
	// The signature first: then stale and replay count only requests signed
	// with our secret (an operator's clock or a real replay), not noise.
	if !signatureOK(h.secret, timestamp, signature, body) {
		return http.StatusUnauthorized, BadSignature
	}
	now := h.opts.Now()
	ts, ok := fresh(timestamp, now)
	if !ok {
		return http.StatusUnauthorized, Stale
	}
	if !h.seen.firstTime(signature, ts, now) {
		return http.StatusUnauthorized, Replay
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || !form.Has("payload") {
		return http.StatusBadRequest, UnknownMessage
	}
	// A genuine click is applied even if Slack hangs up meanwhile: the
	// person meant it. apply bounds the time.
	result, err := h.opts.apply(context.WithoutCancel(r.Context()), []byte(form.Get("payload")))
	switch {
	case errors.Is(err, errNotClicks):
		return http.StatusBadRequest, result
	case err != nil:
		return http.StatusInternalServerError, result
	case result != Accepted:
		return http.StatusForbidden, result
	}
	return http.StatusOK, result
}
