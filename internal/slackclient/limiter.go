package slackclient

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Limiter paces the posts to one destination. Every queue consumer posting
// there shares it, so together they stay within Slack's per-channel rate,
// and a 429's Retry-After pauses all of them.
//
// It is GCRA, the virtual-scheduling form of a token bucket, rather than
// golang.org/x/time/rate: after a Retry-After the posts must resume at the
// rate from the pause's end, and rate.Limiter refills its whole burst during
// the pause and lets it go at once, into the limit Slack just enforced.
type Limiter struct {
	interval  time.Duration // between two posts at the paced rate
	tolerance time.Duration // how far ahead of that pace a burst may run
	burst     int

	mu sync.Mutex
	// tat is when the next post would be due if posts had always gone out
	// exactly at the pace; a post may go out tolerance before it.
	tat time.Time
	// pauses counts Retry-After pauses, so a caller that slept through one
	// takes a new slot.
	pauses int
	// pausedUntil is when the latest Retry-After pause ends: a new rate
	// never brings the next slot before it.
	pausedUntil time.Time

	now func() time.Time // time.Now; tests read a clock of their own
}

// headroom paces a little under the configured rate: a slot is taken when
// a post is decided, and network jitter can bring two posts to Slack closer
// together than they left.
const headroom = 0.98

// maxSpan bounds intervals and tolerances so that extreme rates or bursts
// cannot overflow time arithmetic.
const maxSpan = 100 * 365 * 24 * time.Hour

// NoMaxWait is Wait's maxWait for a caller that can wait as long as its
// context allows.
const NoMaxWait = time.Duration(math.MaxInt64)

// NewLimiter allows (a little under) perSecond posts on average, burst at
// once.
func NewLimiter(perSecond float64, burst int) *Limiter {
	burst = max(burst, 1)
	interval, tolerance := pace(perSecond, burst)
	return &Limiter{interval: interval, tolerance: tolerance, burst: burst, now: time.Now}
}

// pace is the interval between posts at (a little under) perSecond, and the
// tolerance that lets burst of them go at once.
func pace(perSecond float64, burst int) (interval, tolerance time.Duration) {
	interval = maxSpan
	if seconds := 1 / (perSecond * headroom); seconds*float64(time.Second) < float64(maxSpan) {
		interval = time.Duration(seconds * float64(time.Second))
	}
	// burst-1 intervals, unless that would pass maxSpan.
	tolerance = maxSpan
	if interval == 0 || int64(burst-1) <= int64(maxSpan/interval) {
		tolerance = time.Duration(burst-1) * interval
	}
	return interval, tolerance
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

// Wait blocks until a post may go out. It refuses at once, spending
// nothing, with a *WaitTooLongError, a slot more than maxWait away or one
// that would leave less than callTime before ctx's deadline: a call started
// too close to it can reach Slack and be posted after the caller gave up,
// and its retry would post it twice. A Retry-After that arrives while a
// caller waits moves its slot past the pause.
func (l *Limiter) Wait(ctx context.Context, maxWait, callTime time.Duration) error {
	start := l.now()
	for {
		now := l.now()
		l.mu.Lock()
		slot := later(now, l.tat.Add(-l.tolerance))
		tooLate := slot.After(now) && slot.Sub(start) > maxWait
		if deadline, ok := ctx.Deadline(); tooLate || (ok && slot.Add(callTime).After(deadline)) {
			l.mu.Unlock()
			return &WaitTooLongError{Delay: slot.Sub(now)}
		}
		before := l.tat
		l.tat = later(l.tat, slot).Add(l.interval)
		mine, pauses := l.tat, l.pauses
		l.mu.Unlock()
		if !slot.After(now) {
			return nil
		}
		t := time.NewTimer(slot.Sub(now))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			l.mu.Lock()
			if l.tat.Equal(mine) { // nobody took a later slot: give ours back
				l.tat = before
			}
			l.mu.Unlock()
			return ctx.Err()
		}
		l.mu.Lock()
		paused := l.pauses != pauses
		l.mu.Unlock()
		if !paused {
			return nil
		}
	}
}

// Ready blocks until a post could go out, without taking the slot: for a
// caller that gathers work while it waits and takes the slot (with Wait)
// only when it is about to post, so that posts leave when their slots say.
// It refuses, like Wait, a slot that would leave less than callTime before
// ctx's deadline.
func (l *Limiter) Ready(ctx context.Context, callTime time.Duration) error {
	for {
		now := l.now()
		l.mu.Lock()
		slot := later(now, l.tat.Add(-l.tolerance))
		l.mu.Unlock()
		if deadline, ok := ctx.Deadline(); ok && slot.Add(callTime).After(deadline) {
			return &WaitTooLongError{Delay: slot.Sub(now)}
		}
		if !slot.After(now) {
			return nil
		}
		t := time.NewTimer(slot.Sub(now))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// Available is how many posts could go out now without waiting.
func (l *Limiter) Available() int {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	ahead := now.Sub(l.tat.Add(-l.tolerance)) // past the earliest next slot
	switch {
	case ahead < 0:
		return 0
	case l.interval == 0 || !l.tat.After(now):
		return l.burst
	}
	return min(l.burst, int(ahead/l.interval)+1)
}

// Spent counts posts that went out without this limiter, oldest first:
// another gateway's, before this one took the channel over. Slack counts
// them, so the next slots leave room for them. The schedule they make alone
// is replayed from scratch, and kept if it ends later than this limiter's:
// so a pacing previous owner's whole run counts, however long, and posts of
// this limiter's own among them (a channel read back again) are not counted
// twice.
func (l *Limiter) Spent(posts []time.Time) {
	var tat time.Time
	for _, at := range posts {
		tat = later(tat, at).Add(l.interval)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tat = later(l.tat, tat)
}

// Pause stops every post to this destination for d (Slack's Retry-After).
// The next post may go out when it ends, and the ones after it at the pace:
// no burst right after Slack said to slow down.
func (l *Limiter) Pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	end := l.now().Add(d)
	l.tat = later(l.tat, end.Add(l.tolerance))
	l.pausedUntil = later(l.pausedUntil, end)
	l.pauses++
}

// SetRate changes the pace to (a little under) perSecond posts on average,
// keeping the burst: for a budget shared by a fleet whose size changes.
//
// What is spent stays spent, counted in slots: the posts that used part of
// the burst, or ran ahead of the old pace, are paid back at the new one, so
// the next slot is as many new intervals away as it was old ones (a halved
// rate puts it twice as far; a doubled one, half as far). A Retry-After pause
// in force still ends when it did, with no burst after it. Slots already
// handed to waiting callers keep their times; they count in what is spent.
func (l *Limiter) SetRate(perSecond float64) {
	interval, tolerance := pace(perSecond, l.burst)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.interval > 0 { // at an unbounded pace nothing but a pause is spent
		debt := float64(max(l.tat.Sub(now), 0)) / float64(l.interval) * float64(interval)
		l.tat = now.Add(time.Duration(min(debt, float64(maxAhead))))
	}
	if l.pausedUntil.After(now) {
		l.tat = later(l.tat, l.pausedUntil.Add(tolerance))
	}
	l.interval, l.tolerance = interval, tolerance
}

// maxAhead bounds how far ahead of now a new rate may put the schedule:
// past the slowest pace's interval and tolerance, within time arithmetic.
const maxAhead = 2 * maxSpan

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
