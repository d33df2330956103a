package slackclient

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces the posts to one destination. Every queue consumer posting
// there shares it, so together they stay within Slack's per-channel rate,
// and a 429's Retry-After pauses all of them.
type Limiter struct {
	mu          sync.Mutex
	bucket      *rate.Limiter
	pausedUntil time.Time
}

// headroom paces a little under the configured rate: a slot is taken when
// a post is decided, and network jitter can bring two posts to Slack closer
// together than they left.
const headroom = 0.98

// NewLimiter allows (a little under) perSecond posts on average, burst at
// once.
func NewLimiter(perSecond float64, burst int) *Limiter {
	return &Limiter{bucket: rate.NewLimiter(rate.Limit(perSecond*headroom), burst)}
}

// WaitTooLongError says the next slot is further away than the caller can
// wait; the caller should give the records back to the queue (or deliver
// them another way).
type WaitTooLongError struct {
	Delay time.Duration
}

func (e *WaitTooLongError) Error() string {
	return fmt.Sprintf("next slot in %s, later than the caller can wait", e.Delay.Round(time.Millisecond))
}

// Wait blocks until a post may go out. When that is later than ctx's
// deadline it returns a *WaitTooLongError at once and spends nothing.
func (l *Limiter) Wait(ctx context.Context) error {
	return l.WaitWithin(ctx, -1)
}

// WaitWithin is Wait that also refuses, at once, a wait longer than within
// (when within is not negative).
func (l *Limiter) WaitWithin(ctx context.Context, within time.Duration) error {
	now := time.Now()
	l.mu.Lock()
	r := l.bucket.ReserveN(now, 1)
	delay := max(r.DelayFrom(now), l.pausedUntil.Sub(now))
	l.mu.Unlock()
	deadline, hasDeadline := ctx.Deadline()
	if (hasDeadline && now.Add(delay).After(deadline)) || (within >= 0 && delay > within) {
		r.CancelAt(now)
		return &WaitTooLongError{Delay: delay}
	}
	if delay <= 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}

// Available is how many posts could go out now without waiting.
func (l *Limiter) Available() int {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.pausedUntil) {
		return 0
	}
	return int(l.bucket.TokensAt(now))
}

// Pause stops every post to this destination for d (Slack's Retry-After).
func (l *Limiter) Pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := time.Now().Add(d); until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
}
