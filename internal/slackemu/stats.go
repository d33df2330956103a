package slackemu

import (
	"net/http"
	"slices"
	"time"
)

// Call is one Slack call as the emulator saw it: when it arrived and how it
// was answered. Tests check pacing and Retry-After against it.
type Call struct {
	Method   string    `json:"method"` // chat.postMessage, chat.update, auth.test, webhook
	Dest     string    `json:"dest"`   // "#name", "webhook/T/B", or "-"
	ThreadTS string    `json:"thread_ts,omitempty"`
	At       time.Time `json:"at"`     // arrival
	Status   int       `json:"status"` // 0 while unanswered, or when never answered
	// Error is Slack's error (or http_NNN, client_gone, connection_dropped);
	// "" when accepted.
	Error      string `json:"error,omitempty"`
	RetryAfter int    `json:"retry_after,omitempty"`
	// Injected says a fault answered the call, or the state the test put
	// its channel in (SetChannel), not Slack's rules.
	Injected bool `json:"injected,omitempty"`
	// RequestID is the client's X-Request-Id header, so a test can join
	// the client's own timings to the call.
	RequestID string `json:"request_id,omitempty"`
	// TS is the message a chat.update is for.
	TS string `json:"ts,omitempty"`
}

// Calls returns every Slack call since the last reset, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// DestStats counts what one destination — or all of them — was asked and answered.
type DestStats struct {
	Requests  int            `json:"requests"`
	Accepted  int            `json:"accepted"`  // stored messages and applied updates
	Throttled int            `json:"throttled"` // HTTP 429s sent
	Errors    map[string]int `json:"errors"`    // Slack error (or http_NNN, client_gone, connection_dropped) → count
}

// Stats is per destination ("#alerts", "webhook/T1/B1") plus totals.
type Stats struct {
	Destinations map[string]DestStats `json:"destinations"`
	Totals       DestStats            `json:"totals"`
}

// statsKey names the destination a call counts under. Calls that never named
// one (auth.test, a post without a channel) count under "-".
func statsKey(c *call) string {
	if c.dest == "" {
		return "-"
	}
	return c.dest
}

func (s *Server) destStatsLocked(c *call) *DestStats {
	k := statsKey(c)
	d := s.stats[k]
	if d == nil {
		d = &DestStats{Errors: map[string]int{}}
		s.stats[k] = d
	}
	return d
}

// countRequest counts a call on arrival, so a request held by a fault shows.
func (s *Server) countRequest(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.destStatsLocked(c).Requests++
	c.logged = len(s.calls)
	s.calls = append(s.calls, Call{Method: c.method, Dest: statsKey(c), ThreadTS: c.threadTS, TS: c.ts, At: time.Now(), RequestID: c.requestID})
}

// countOutcome counts how a call ended: a 429, an error, or accepted.
func (s *Server) countOutcome(c *call, status int, errCode string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.logged < len(s.calls) { // not reset meanwhile
		lc := &s.calls[c.logged]
		lc.Status, lc.Error, lc.RetryAfter, lc.Injected = status, errCode, retryAfter, c.injected
	}
	d := s.destStatsLocked(c)
	switch {
	case status == http.StatusTooManyRequests:
		d.Throttled++
	case errCode != "":
		d.Errors[errCode]++
	default:
		d.Accepted++
	}
}

// Stats returns a copy of the counters, with totals.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{Destinations: map[string]DestStats{}, Totals: DestStats{Errors: map[string]int{}}}
	for k, d := range s.stats {
		cp := *d
		cp.Errors = make(map[string]int, len(d.Errors))
		for e, n := range d.Errors {
			cp.Errors[e] = n
			out.Totals.Errors[e] += n
		}
		out.Destinations[k] = cp
		out.Totals.Requests += d.Requests
		out.Totals.Accepted += d.Accepted
		out.Totals.Throttled += d.Throttled
	}
	return out
}
