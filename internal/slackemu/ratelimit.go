package slackemu

import "time"

// bucket is a token bucket: Slack tolerates a short burst, then holds each
// channel (and each webhook) to a steady rate.
type bucket struct {
	tokens float64
	last   time.Time
}

// allowLocked takes one token from key's bucket, reporting false when empty.
// Each method has its own buckets, as Slack's limits are per method.
func (s *Server) allowLocked(key string, now time.Time) bool {
	if s.opts.Rate <= 0 {
		return true
	}
	burst := float64(s.opts.Burst)
	b := s.buckets[key]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		s.buckets[key] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*s.opts.Rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
