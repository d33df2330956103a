package slackemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// FaultMode is how an injected fault answers.
type FaultMode string

const (
	FaultStatus    FaultMode = "status"    // that HTTP status, body Body or a Slack-like default
	FaultError     FaultMode = "error"     // the Slack error Error (Web API: ok:false; webhook: its status)
	FaultRateLimit FaultMode = "ratelimit" // 429 with Retry-After: RetryAfter
	FaultHang      FaultMode = "hang"      // no answer until the fault ends or the client leaves
	FaultSlow      FaultMode = "slow"      // wait Latency, then handle normally
	FaultDrop      FaultMode = "drop"      // close the connection without an answer
	// FaultLate handles the call (a post is stored, an update applied),
	// then holds the answer for Latency: Slack acted, but a client that
	// gives up first never learns it.
	FaultLate FaultMode = "late"
)

// Fault makes the emulator misbehave for one destination or all ("*").
// A call answered by a fault stores nothing.
type Fault struct {
	// Target is "#alerts" (or "alerts", or a channel id), "webhook/T1/B1"
	// (a full webhook URL is accepted and trimmed), or "*". When several
	// faults match, the exact target wins over "*".
	Target string
	// Method limits the fault to one method: chat.postMessage, chat.update
	// or webhook ("" = every method).
	Method     string
	Mode       FaultMode
	Status     int    // FaultStatus: the status (default 503); FaultError: overrides the status
	Error      string // FaultError: the Slack error string
	Body       string // FaultStatus: the body (default: Slack-like)
	RetryAfter int    // FaultRateLimit: seconds (default Options.RetryAfter)
	Latency    time.Duration
	Count      int           // how many calls it applies to; 0 = all
	For        time.Duration // how long it lasts; 0 = until cleared
}

// faultJSON is Fault on the wire, with durations as Go duration strings ("2s").
type faultJSON struct {
	Target     string    `json:"target"`
	Method     string    `json:"method,omitempty"`
	Mode       FaultMode `json:"mode"`
	Status     int       `json:"status,omitempty"`
	Error      string    `json:"error,omitempty"`
	Body       string    `json:"body,omitempty"`
	RetryAfter int       `json:"retry_after,omitempty"`
	Latency    string    `json:"latency,omitempty"`
	Count      int       `json:"count,omitempty"`
	For        string    `json:"for,omitempty"`
}

// MarshalJSON writes the control API's form.
func (f Fault) MarshalJSON() ([]byte, error) {
	w := faultJSON{f.Target, f.Method, f.Mode, f.Status, f.Error, f.Body, f.RetryAfter, "", f.Count, ""}
	if f.Latency > 0 {
		w.Latency = f.Latency.String()
	}
	if f.For > 0 {
		w.For = f.For.String()
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the control API's form.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var w faultJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*f = Fault{Target: w.Target, Method: w.Method, Mode: w.Mode, Status: w.Status, Error: w.Error, Body: w.Body, RetryAfter: w.RetryAfter, Count: w.Count}
	var err error
	if f.Latency, err = parseDuration("latency", w.Latency); err != nil {
		return err
	}
	f.For, err = parseDuration("for", w.For)
	return err
}

func parseDuration(key, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return d, nil
}

// normalize fills defaults and reports the first mistake.
func (f *Fault) normalize(defaultRetryAfter int) error {
	f.Target = faultTarget(f.Target)
	if f.Count < 0 || f.For < 0 || f.Latency < 0 {
		return errors.New("count, for and latency must not be negative")
	}
	switch f.Mode {
	case FaultStatus:
		if f.Status == 0 {
			f.Status = http.StatusServiceUnavailable
		}
	case FaultError:
		if f.Error == "" {
			return errors.New(`mode "error" needs "error", e.g. "channel_not_found"`)
		}
	case FaultRateLimit:
		if f.RetryAfter <= 0 {
			f.RetryAfter = defaultRetryAfter
		}
	case FaultSlow, FaultLate:
		if f.Latency <= 0 {
			return fmt.Errorf(`mode %q needs "latency", e.g. "2s"`, f.Mode)
		}
	case FaultHang, FaultDrop:
	default:
		return fmt.Errorf("unknown mode %q (want status, error, ratelimit, hang, slow, late or drop)", f.Mode)
	}
	switch f.Method {
	case "", "chat.postMessage", "chat.update", "webhook":
	default:
		return fmt.Errorf("unknown method %q (want chat.postMessage, chat.update or webhook)", f.Method)
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return fmt.Errorf("status %d is not an HTTP status", f.Status)
	}
	return nil
}

// faultTarget puts a target in the form destinations have: "#name",
// "webhook/a/b", a channel id, or "*" (also for "").
func faultTarget(t string) string {
	t = strings.TrimSpace(t)
	if i := strings.Index(t, "/services/"); i >= 0 {
		t = "webhook/" + t[i+len("/services/"):]
	}
	switch {
	case t == "" || t == "*":
		return "*"
	case strings.HasPrefix(t, "webhook/"):
		if parts := strings.Split(t, "/"); len(parts) > 3 {
			return strings.Join(parts[:3], "/") // drop the secret
		}
		return t
	case looksLikeID(t):
		return t
	}
	return channelName(t)
}

// activeFault is a Fault in force. done closes when it ends (cleared, reset,
// replaced or expired), which releases the calls it holds in a hang.
type activeFault struct {
	Fault
	used  int
	until time.Time
	done  chan struct{}
	ended bool
	timer *time.Timer
}

// SetFault starts a fault, replacing any other for the same target.
func (s *Server) SetFault(f Fault) error {
	if err := f.normalize(s.opts.RetryAfter); err != nil {
		return err
	}
	af := &activeFault{Fault: f, done: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.faults[f.Target]; old != nil {
		s.endFaultLocked(old)
	}
	if f.For > 0 {
		af.until = time.Now().Add(f.For)
		af.timer = time.AfterFunc(f.For, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.endFaultLocked(af)
		})
	}
	s.faults[f.Target] = af
	return nil
}

// ClearFaults ends every fault and releases the calls they hold.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearFaultsLocked()
}

// ClearFault ends the fault for one target, reporting whether there was one.
func (s *Server) ClearFault(target string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	af := s.faults[faultTarget(target)]
	if af != nil {
		s.endFaultLocked(af)
	}
	return af != nil
}

// Faults returns the faults in force; Count is what remains of each.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Fault{}
	for _, af := range s.faults {
		f := af.Fault
		if f.Count > 0 {
			f.Count -= af.used
		}
		if f.For > 0 {
			f.For = time.Until(af.until).Round(time.Millisecond)
		}
		out = append(out, f)
	}
	return out
}

func (s *Server) clearFaultsLocked() {
	for _, af := range s.faults {
		s.endFaultLocked(af)
	}
	for _, af := range s.spent {
		s.endFaultLocked(af)
	}
	s.spent = nil
}

func (s *Server) endFaultLocked(af *activeFault) {
	if s.faults[af.Target] == af {
		delete(s.faults, af.Target)
	}
	if af.ended {
		return
	}
	af.ended = true
	close(af.done)
	if af.timer != nil {
		af.timer.Stop()
	}
}

// takeFault returns the fault that applies to the call, if any, and counts
// the call against it. The exact target wins over "*".
func (s *Server) takeFault(c *call) *activeFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, key := range []string{c.dest, c.channelID, "*"} {
		af := s.faults[key]
		if key == "" || af == nil || (af.Method != "" && af.Method != c.method) {
			continue
		}
		if !af.until.IsZero() && !now.Before(af.until) {
			s.endFaultLocked(af)
			continue
		}
		af.used++
		if af.Count > 0 && af.used >= af.Count {
			// Used up: it takes no more calls, but the ones it holds in a hang
			// wait until it is cleared or expires.
			delete(s.faults, af.Target)
			s.spent = append(s.spent, af)
		}
		return af
	}
	return nil
}

// applyFault acts out a fault, reporting whether the call has been answered
// (or abandoned). Slow faults, and hangs that end, go on to normal handling.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, c *call, af *activeFault) bool {
	switch af.Mode {
	case FaultLate:
		return false // handled as usual, answered late by serveSlack
	case FaultSlow, FaultHang:
		delay, release := af.Latency, af.done
		if af.Mode == FaultSlow {
			release = nil
		}
		switch s.wait(r.Context(), delay, release) {
		case clientGone:
			c.injected = true
			s.abandon(c, "client_gone")
			return true
		case shuttingDown:
			s.send(w, c, c.status(http.StatusServiceUnavailable, ""))
			return true
		}
		return false
	case FaultDrop:
		c.injected = true
		s.abandon(c, "connection_dropped")
		dropConnection(w)
		return true
	case FaultStatus:
		c.injected = true
		rep := c.status(af.Status, af.Body)
		if af.RetryAfter > 0 {
			rep.retryAfter = af.RetryAfter
		}
		s.send(w, c, rep)
	case FaultError:
		c.injected = true
		rep := c.errorReply(af.Error)
		if af.Status != 0 {
			rep.status = af.Status
		}
		s.send(w, c, rep)
	case FaultRateLimit:
		c.injected = true
		s.send(w, c, c.throttle(af.RetryAfter))
	}
	return true
}

// dropConnection closes the client's connection with no answer at all, as a
// network failure would.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2: aborting resets the stream instead
	}
	_ = conn.Close()
}
