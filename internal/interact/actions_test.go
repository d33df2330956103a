package interact

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// Each answer of the request URL: status, result counted, and whether the
// Handler ran. Every request is signed for real (or deliberately not).
func TestActionsHandlerAnswers(t *testing.T) {
	good := formBody(clickJSON("U1"))
	now := unix(epoch)
	tests := []struct {
		name     string
		req      func() *http.Request
		allowed  []string
		handler  error
		status   int
		result   string
		handled  bool
		sameBody string // "" = the answer's body must be empty
	}{
		{name: "genuine click", req: func() *http.Request { return signed(good, now) }, status: 200, result: Accepted, handled: true},
		{name: "allowed user", req: func() *http.Request { return signed(good, now) }, allowed: []string{"U0", "U1"}, status: 200, result: Accepted, handled: true},
		{name: "user not allowed", req: func() *http.Request { return signed(good, now) }, allowed: []string{"U0", "U2"}, status: 403, result: Forbidden},
		{name: "message not ours", req: func() *http.Request { return signed(good, now) }, handler: fmt.Errorf("lookup: %w", ErrUnknownMessage), status: 403, result: UnknownMessage, handled: true},
		{name: "handler fails", req: func() *http.Request { return signed(good, now) }, handler: errors.New("store down"), status: 500, result: Accepted, handled: true},
		{name: "GET", req: func() *http.Request {
			r := signed(good, now)
			r.Method = http.MethodGet
			return r
		}, status: 405, result: BadSignature},
		{name: "wrong secret", req: func() *http.Request {
			r := signed(good, now)
			r.Header.Set("X-Slack-Signature", sign("another-secret", now, []byte(good)))
			return r
		}, status: 401, result: BadSignature},
		{name: "no signature", req: func() *http.Request {
			r := signed(good, now)
			r.Header.Del("X-Slack-Signature")
			return r
		}, status: 401, result: BadSignature},
		{name: "no timestamp, signed over an empty one", req: func() *http.Request {
			r := signed(good, "")
			r.Header.Del("X-Slack-Request-Timestamp")
			return r
		}, status: 401, result: BadSignature},
		{name: "signature without v0=", req: func() *http.Request {
			r := signed(good, now)
			r.Header.Set("X-Slack-Signature", strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0="))
			return r
		}, status: 401, result: BadSignature},
		{name: "signature in upper case", req: func() *http.Request {
			r := signed(good, now)
			r.Header.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0=")))
			return r
		}, status: 401, result: BadSignature},
		{name: "body changed after signing", req: func() *http.Request {
			r := signed(good, now)
			tampered := signed(formBody(clickJSON("U9")), now)
			tampered.Header = r.Header
			return tampered
		}, status: 401, result: BadSignature},
		{name: "timestamp changed after signing", req: func() *http.Request {
			r := signed(good, now)
			r.Header.Set("X-Slack-Request-Timestamp", unix(epoch.Add(time.Second)))
			return r
		}, status: 401, result: BadSignature},
		{name: "exactly 5 min old", req: func() *http.Request { return signed(good, unix(epoch.Add(-window))) }, status: 200, result: Accepted, handled: true},
		{name: "5 min 1 s old", req: func() *http.Request { return signed(good, unix(epoch.Add(-window-time.Second))) }, status: 401, result: Stale},
		{name: "exactly 5 min ahead", req: func() *http.Request { return signed(good, unix(epoch.Add(window))) }, status: 200, result: Accepted, handled: true},
		{name: "5 min 1 s ahead", req: func() *http.Request { return signed(good, unix(epoch.Add(window+time.Second))) }, status: 401, result: Stale},
		{name: "timestamp not a number, signed", req: func() *http.Request { return signed(good, "yesterday") }, status: 401, result: Stale},
		{name: "body of exactly 1 MiB", req: func() *http.Request {
			return signed(good+"&pad="+strings.Repeat("x", maxRequestBody-len(good)-len("&pad=")), now)
		}, status: 200, result: Accepted, handled: true},
		{name: "body of 1 MiB and a byte", req: func() *http.Request {
			return signed(good+"&pad="+strings.Repeat("x", maxRequestBody-len(good)-len("&pad=")+1), now)
		}, status: 413, result: BadSignature},
		{name: "no payload field", req: func() *http.Request { return signed("other=1", now) }, status: 400, result: UnknownMessage},
		{name: "form that does not parse", req: func() *http.Request { return signed("payload=%zz", now) }, status: 400, result: UnknownMessage},
		{name: "payload not JSON", req: func() *http.Request { return signed(formBody("{"), now) }, status: 400, result: UnknownMessage},
		{name: "view_submission", req: func() *http.Request {
			return signed(formBody(strings.Replace(clickJSON("U1"), "block_actions", "view_submission", 1)), now)
		}, status: 400, result: UnknownMessage},
		{name: "block_actions without actions", req: func() *http.Request {
			return signed(formBody(`{"type":"block_actions","user":{"id":"U1"},"actions":[]}`), now)
		}, status: 400, result: UnknownMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{err: tt.handler}
			h := NewActionsHandler(testSecret, rec.options(tt.allowed...))
			w := serve(h, tt.req())
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			if w.Body.Len() != 0 {
				t.Errorf("body %q, want none", w.Body.String())
			}
			if got := rec.counted(); !slices.Equal(got, []string{tt.result}) {
				t.Errorf("counted %q, want [%s]", got, tt.result)
			}
			if got := rec.handled(); tt.handled != (len(got) == 1) || (tt.handled && got[0] != wantClick("U1")) {
				t.Errorf("handled %+v, want handled=%v", got, tt.handled)
			}
			if tt.status == 405 && w.Header().Get("Allow") != http.MethodPost {
				t.Errorf("405 without Allow: POST")
			}
		})
	}
}

// The same signed request twice: the second is a replay, even from an
// allowed user; the Handler runs once.
func TestActionsHandlerRefusesReplay(t *testing.T) {
	rec := &recorder{}
	h := NewActionsHandler(testSecret, rec.options())
	body := formBody(clickJSON("U1"))
	first := serve(h, signed(body, unix(epoch)))
	second := serve(h, signed(body, unix(epoch)))
	if first.Code != 200 || second.Code != 401 || second.Body.Len() != 0 {
		t.Errorf("answers %d, %d %q; want 200, 401 and no body", first.Code, second.Code, second.Body.String())
	}
	if got := rec.counted(); !slices.Equal(got, []string{Accepted, Replay}) {
		t.Errorf("counted %q", got)
	}
	if n := len(rec.handled()); n != 1 {
		t.Errorf("handled %d times", n)
	}
	// Another request (another timestamp) is not a replay.
	if w := serve(h, signed(body, unix(epoch.Add(-time.Second)))); w.Code != 200 {
		t.Errorf("a new request: %d", w.Code)
	}
}

// A replay after the window is refused as stale: the memory of it may go.
func TestActionsHandlerReplayAfterWindowIsStale(t *testing.T) {
	rec := &recorder{}
	now := epoch
	o := rec.options()
	o.Now = func() time.Time { return now }
	h := NewActionsHandler(testSecret, o)
	body := formBody(clickJSON("U1"))
	serve(h, signed(body, unix(epoch)))
	now = epoch.Add(window + time.Second)
	if w := serve(h, signed(body, unix(epoch))); w.Code != 401 {
		t.Errorf("replay after the window: %d", w.Code)
	}
	if got := rec.counted(); !slices.Equal(got, []string{Accepted, Stale}) {
		t.Errorf("counted %q", got)
	}
}

// A refusal for the user comes before the Handler, and a refused request
// still uses up its signature.
func TestActionsHandlerForbiddenThenReplay(t *testing.T) {
	rec := &recorder{}
	h := NewActionsHandler(testSecret, rec.options("U2"))
	body := formBody(clickJSON("U1"))
	serve(h, signed(body, unix(epoch)))
	serve(h, signed(body, unix(epoch)))
	if got := rec.counted(); !slices.Equal(got, []string{Forbidden, Replay}) {
		t.Errorf("counted %q", got)
	}
}

// The Handler has 2.5 s of Slack's 3, and the click is applied even if
// Slack hangs up meanwhile.
func TestActionsHandlerGivesTheHandlerADeadline(t *testing.T) {
	var deadline time.Time
	var hasDeadline bool
	var ctxErr error
	o := Options{Now: func() time.Time { return epoch }, Handle: func(ctx context.Context, _ Click) error {
		deadline, hasDeadline = ctx.Deadline()
		ctxErr = ctx.Err()
		return nil
	}}
	h := NewActionsHandler(testSecret, o)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Slack gave up already
	r := signed(formBody(clickJSON("U1")), unix(epoch)).WithContext(ctx)
	before := time.Now()
	w := serve(h, r)
	after := time.Now()
	if w.Code != 200 || !hasDeadline || ctxErr != nil {
		t.Fatalf("status %d, deadline %v, ctx err %v", w.Code, hasDeadline, ctxErr)
	}
	if deadline.Before(before.Add(handleTimeout)) || deadline.After(after.Add(handleTimeout)) {
		t.Errorf("deadline %v after the request, want %v", deadline.Sub(before), handleTimeout)
	}
}

// Zero Options work: no Handler, no Count, no clock, no logger.
func TestActionsHandlerZeroOptions(t *testing.T) {
	h := NewActionsHandler(testSecret, Options{})
	if w := serve(h, signed(formBody(clickJSON("U1")), unix(time.Now()))); w.Code != 200 {
		t.Errorf("status %d", w.Code)
	}
	if w := serve(h, signed(formBody(clickJSON("U1")), unix(time.Now().Add(-time.Hour)))); w.Code != 401 {
		t.Errorf("an hour old with the real clock: %d", w.Code)
	}
}

// Logs say what was refused and why, never the secret, the signature or
// the body.
func TestActionsHandlerLogsNoSecrets(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	rec := &recorder{err: errors.New("store down")}
	o := rec.options("U1")
	o.Logger = zap.New(core)
	h := NewActionsHandler(testSecret, o)
	body := formBody(clickJSON("U1"))
	req := signed(body, unix(epoch))
	sig := req.Header.Get("X-Slack-Signature")
	serve(h, req)
	serve(h, signed(body, unix(epoch)))
	bad := signed(body, unix(epoch))
	bad.Header.Set("X-Slack-Signature", "v0=00")
	serve(h, bad)
	serve(h, signed(formBody(clickJSON("U7")), unix(epoch)))
	if logs.Len() == 0 {
		t.Fatal("nothing logged")
	}
	for _, e := range logs.All() {
		line := e.Message + fmt.Sprint(e.ContextMap())
		for _, secret := range []string{testSecret, sig, "mute:1h", "slackexporter_group"} {
			if strings.Contains(line, secret) {
				t.Errorf("log %q shows %q", line, secret)
			}
		}
	}
	if logs.FilterMessage("Slack click not applied").Len() != 1 || logs.FilterMessage("Slack click refused: user not allowed").Len() != 1 ||
		logs.FilterMessage("Slack request refused").Len() != 4 { // 500, replay, bad signature, forbidden
		t.Errorf("logs: %v", logs.All())
	}
}
