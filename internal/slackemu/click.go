package slackemu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultSigningSecret signs clicks posted to Options.ActionsURL unless
// Options.SigningSecret says otherwise.
const DefaultSigningSecret = "emulator-signing-secret"

// Click transports, for ClickSpec.Via and ClickResult.Via.
const (
	ViaSocket = "socket"
	ViaHTTP   = "http"
)

// ClickSpec is a click on a stored message, as a person would make it.
type ClickSpec struct {
	Channel  string `json:"channel"`   // the message's channel: id or "#name"
	TS       string `json:"ts"`        // a stored top-level message's ts
	BlockID  string `json:"block_id"`  // "" = the block holding ActionID
	ActionID string `json:"action_id"` // the element clicked
	Value    string `json:"value"`     // a button's value, or the overflow option chosen
	UserID   string `json:"user_id"`   // "" = U0EMULATOR
	UserName string `json:"user_name"` // "" = emulator-user
	// Via is "socket", "http", or "" (socket when a connection is open,
	// else http; http whenever an abuse switch is set).
	Via string `json:"via"`
	// Forge sends the click even if no stored message has TS or no element
	// has ActionID (a click on a message of another app); ElementType
	// ("button" or "overflow", "" = button) then says what was clicked.
	Forge       bool   `json:"forge"`
	ElementType string `json:"element_type"`

	// Abuse of the request URL (each implies Via "http").
	BadSignature bool `json:"bad_signature"` // signed with another secret
	Stale        bool `json:"stale"`         // timestamp 10 minutes old, correctly signed
	Replay       bool `json:"replay"`        // the identical signed request twice; Status is the second answer
	Oversize     bool `json:"oversize"`      // body over 1 MiB, correctly signed
}

// ClickResult is how a click was delivered and answered.
type ClickResult struct {
	Via        string `json:"via"`
	ChannelID  string `json:"channel_id"`
	TS         string `json:"ts"`
	ActionID   string `json:"action_id"`
	Value      string `json:"value"`
	UserID     string `json:"user_id"`
	EnvelopeID string `json:"envelope_id,omitempty"` // socket
	Acked      bool   `json:"acked"`                 // socket: acked within 3 s
	Status     int    `json:"status,omitempty"`      // http: the answer's status (the second one for Replay)
	// FirstStatus is, for Replay, the answer to the first request.
	FirstStatus int `json:"first_status,omitempty"`
	// Error says why the click got no answer: the request failed or took
	// more than 3 s, or the connection closed before the ack.
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
}

func (c ClickSpec) abusive() bool { return c.BadSignature || c.Stale || c.Replay || c.Oversize }

// Click sends a block_actions payload for a click on a stored message, over
// Socket Mode (an envelope to one open connection, in turn, then up to 3 s
// for its ack) or to Options.ActionsURL (a signed form post). It returns an
// error when the click cannot be sent at all: an unknown message or
// element, no connection or URL for the transport.
func (s *Server) Click(ctx context.Context, spec ClickSpec) (ClickResult, error) {
	if spec.UserID == "" {
		spec.UserID = userID
	}
	if spec.UserName == "" {
		spec.UserName = "emulator-user"
	}
	via, err := s.clickVia(spec)
	if err != nil {
		return ClickResult{}, err
	}
	payload, chID, err := s.clickPayload(spec)
	if err != nil {
		return ClickResult{}, err
	}
	res := ClickResult{Via: via, ChannelID: chID, TS: spec.TS, ActionID: spec.ActionID, Value: spec.Value, UserID: spec.UserID, At: time.Now()}
	if via == ViaSocket {
		id, acked, err := s.SendEnvelope(ctx, "interactive", payload)
		if errors.Is(err, errNoSocket) {
			return ClickResult{}, err
		}
		res.EnvelopeID, res.Acked = id, acked
		switch {
		case err != nil:
			res.Error = err.Error()
		case !acked:
			res.Error = "no ack within 3 s"
		}
	} else {
		s.postClickForm(ctx, spec, payload, &res)
	}
	s.mu.Lock()
	s.clicks = append(s.clicks, res)
	s.mu.Unlock()
	s.logger.Printf("click %s ts=%s %s via %s -> %s", chID, spec.TS, spec.ActionID, via, res.summary())
	return res, nil
}

func (r ClickResult) summary() string {
	switch {
	case r.Error != "":
		return r.Error
	case r.Via == ViaSocket:
		return "acked"
	}
	return strconv.Itoa(r.Status)
}

// Clicks returns the clicks sent since the last reset, in order.
func (s *Server) Clicks() []ClickResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ClickResult(nil), s.clicks...)
}

func (s *Server) clickVia(spec ClickSpec) (string, error) {
	via := spec.Via
	switch {
	case via != "" && via != ViaSocket && via != ViaHTTP:
		return "", fmt.Errorf("via %q: want socket, http or empty", via)
	case spec.abusive() && via == ViaSocket:
		return "", errors.New("bad_signature, stale, replay and oversize need via http")
	case via == "" && !spec.abusive() && s.SocketCount() > 0:
		via = ViaSocket
	case via == "":
		via = ViaHTTP
	}
	if via == ViaHTTP && s.opts.ActionsURL == "" {
		return "", errors.New("no ActionsURL to post the click to")
	}
	return via, nil
}

// postClickForm posts the payload to ActionsURL as Slack does: a form with one
// field, payload, signed with the signing secret.
func (s *Server) postClickForm(ctx context.Context, spec ClickSpec, payload json.RawMessage, res *ClickResult) {
	body := "payload=" + url.QueryEscape(string(payload))
	if spec.Oversize {
		body += "&padding=" + strings.Repeat("x", 1<<20)
	}
	now := time.Now()
	if spec.Stale {
		now = now.Add(-10 * time.Minute)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	secret := s.opts.SigningSecret
	if spec.BadSignature {
		secret += "-not-this-one"
	}
	sig := signRequest(secret, ts, body)
	status, err := s.postSigned(ctx, body, ts, sig)
	if spec.Replay && err == nil {
		res.FirstStatus = status
		status, err = s.postSigned(ctx, body, ts, sig)
	}
	res.Status = status
	if err != nil {
		res.Error = err.Error()
	}
}

// clickClient waits as long as Slack does for an answer.
var clickClient = &http.Client{Timeout: ackWait}

func (s *Server) postSigned(ctx context.Context, body, ts, sig string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.ActionsURL, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := clickClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// signRequest is Slack's request signature: v0= and the hex HMAC-SHA256 of
// "v0:{timestamp}:{body}".
func signRequest(secret, ts, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// hostOfURL remembers the host clients reach the emulator at, for the
// response_url of a click.
type hostOfURL struct {
	mu   sync.Mutex
	host string
}

func (s *Server) noteHost(h string) {
	if h == "" {
		return
	}
	s.host.mu.Lock()
	s.host.host = h
	s.host.mu.Unlock()
}

func (s *Server) responseURL() string {
	s.host.mu.Lock()
	h := s.host.host
	s.host.mu.Unlock()
	if h == "" {
		h = "emulator.slack.invalid"
	}
	return "http://" + h + "/actions/" + teamID + "/" + newTicket()[:8] + "/" + newTicket()
}

// handleResponseURL accepts what an app posts to a click's response_url; the
// emulator only logs it.
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxBody))
	jsonOut(w, http.StatusOK, map[string]any{"ok": true})
	s.logger.Printf("POST response_url -> 200")
}

func cutBearer(h string) (string, bool) {
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(tok), ok
}
