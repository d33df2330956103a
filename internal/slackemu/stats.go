package slackemu

import "net/http"

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
}

// countOutcome counts how a call ended: a 429, an error, or accepted.
func (s *Server) countOutcome(c *call, status int, errCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
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
