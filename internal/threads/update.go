package threads

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/slackexporter/slackexporter/internal/group"
)

// Add is what one push brings to one line of a live message: more records,
// or (Quiet) the news that the fingerprint went quiet.
type Add struct {
	Line        *Line
	Count       int
	First, Last time.Time
	Seen        time.Time // when the push carried these records
	Quiet       bool
	// Sample is the push's entry for the line's fingerprint: a line read
	// back from Slack (Entry.Shown) is rendered from it from now on.
	Sample *group.Entry
	// adds is, for a quiet mark, how many adds of records the line had
	// when it was judged quiet.
	adds int
}

// round is one chat.update in the making: what every push joined since the
// last update of the message went out.
type round struct {
	joins []*join
	done  chan struct{}
	err   error
	// next, set before done closes, is the round the joins moved to when
	// the sender could not send them (see ErrNotSent).
	next *round
}

// join is one push's part of a round.
type join struct {
	adds []Add
	err  error // set when this push alone failed (see ErrNotSent, ErrMoved)
}

// SendFunc posts the message's new view (chat.update).
type SendFunc func(ctx context.Context, m *Message, view []*group.Entry) error

// ErrNotSent, wrapped in a SendFunc's error, says the sender made no call
// for a reason of its own (its deadline is too close for a slot): the other
// pushes in the round try in turn, with their own deadlines, instead of
// failing with it. A sender whose context ended during the call hands the
// round on the same way: an update carries whole counts, so sending it
// again never counts anything twice.
var ErrNotSent = errors.New("update not sent")

// ErrMoved says a push's counts were not sent because their message no
// longer counts one of its fingerprints: it was forgotten, or a newer
// message took the fingerprint over while the push waited. The push should
// look the fingerprint up again.
var ErrMoved = errors.New("the fingerprint is counted in another message now")

// Update brings adds to m and returns when Slack shows them, or with the
// error that kept it from doing so (then none of adds is applied). Pushes
// updating one message at the same time share one chat.update: while one
// sends, the others' adds gather for the next.
func (m *Message) Update(ctx context.Context, adds []Add, send SendFunc) error {
	return m.UpdateWhenReady(ctx, adds, nil, send)
}

// UpdateWhenReady is Update for a call that must wait for the right to go
// out (a rate limit): the sender waits in ready before it takes the round's
// adds and makes the call, so pushes keep joining the round while it waits,
// and Retire waits only for a call on its way. An error from ready is one
// the sender could not send with (see ErrNotSent).
func (m *Message) UpdateWhenReady(ctx context.Context, adds []Add, ready func(context.Context) error, send SendFunc) error {
	j := &join{adds: adds}
	m.mu.Lock()
	if m.staleLocked(j) {
		m.mu.Unlock()
		return ErrMoved
	}
	if m.pending == nil {
		m.pending = &round{done: make(chan struct{})}
	}
	r := m.pending
	r.joins = append(r.joins, j)
	m.mu.Unlock()
	for {
		select {
		case <-r.done:
			switch {
			case j.err != nil:
				return j.err
			case r.next != nil:
				r = r.next
			default:
				return r.err
			}
		case m.slot <- struct{}{}:
			m.sendPending(ctx, j, ready, send)
			<-m.slot
		case <-ctx.Done():
			return m.withdraw(r, j, ctx.Err())
		}
	}
}

// Retire stops m from counting fingerprints that are about to be posted in
// a new message: an update of m already on its way to Slack lands first,
// and later ones that would count them are turned away (ErrMoved). It
// returns once no update of m is on its way, or with ctx's error.
func (m *Message) Retire(ctx context.Context, fingerprints []string) error {
	m.mu.Lock()
	for _, l := range m.lines {
		if slices.Contains(fingerprints, l.Entry.Fingerprint) {
			l.moved = true
		}
	}
	for m.sending {
		onWire := m.onWire
		m.mu.Unlock()
		select {
		case <-onWire:
		case <-ctx.Done():
			return ctx.Err()
		}
		m.mu.Lock()
	}
	m.mu.Unlock()
	return nil
}

// staleLocked reports whether j would count a fingerprint in a message that
// no longer counts it.
func (m *Message) staleLocked(j *join) bool {
	if m.forgotten {
		return true
	}
	for _, a := range j.adds {
		if a.Line.moved {
			return true
		}
	}
	return false
}

// sendPending sends the pending round, if any, on behalf of mine, the
// sender's own join, once ready allows. Joins that went stale while they
// waited are turned away with ErrMoved. When the sender cannot send
// (ErrNotSent, or its context ended), its own join fails and the others
// move to the next round.
func (m *Message) sendPending(ctx context.Context, mine *join, ready func(context.Context) error, send SendFunc) {
	m.mu.Lock()
	pending := m.pending != nil
	m.mu.Unlock()
	if !pending {
		return
	}
	var err error
	if ready != nil {
		err = ready(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.pending
	if r == nil { // every push in it gave up while the sender waited
		return
	}
	m.pending = nil
	if err != nil {
		m.handOnLocked(r, mine, err)
		close(r.done)
		return
	}
	r.joins = slices.DeleteFunc(r.joins, func(j *join) bool {
		if m.staleLocked(j) {
			j.err = ErrMoved
			return true
		}
		return false
	})
	if len(r.joins) == 0 {
		close(r.done)
		return
	}
	view := m.viewLocked(r.joins)
	// On the wire from now: the tracker keeps m, and Retire waits, until
	// Slack has answered.
	m.sending, m.onWire = true, make(chan struct{})
	m.mu.Unlock()
	err = send(ctx, m, view)
	m.mu.Lock()
	m.sending = false
	close(m.onWire)
	r.err = err
	switch {
	case err == nil:
		for _, j := range r.joins {
			for _, a := range j.adds {
				apply(a.Line, a)
			}
		}
	case errors.Is(err, ErrNotSent) || ctx.Err() != nil:
		m.handOnLocked(r, mine, err)
	}
	close(r.done)
}

// handOnLocked fails the sender's own join in r with err and moves the
// others to the next round, for a sender with more time to send.
func (m *Message) handOnLocked(r *round, mine *join, err error) {
	r.err = err
	rest := slices.DeleteFunc(slices.Clone(r.joins), func(j *join) bool { return j == mine })
	if len(rest) < len(r.joins) {
		mine.err = err
	}
	if len(rest) > 0 {
		if m.pending == nil {
			m.pending = &round{done: make(chan struct{})}
		}
		m.pending.joins = append(rest, m.pending.joins...)
		r.next = m.pending
	}
}

// withdraw takes join j back from round r, or from the round it moved to,
// if that has not gone out; otherwise it waits for the call in flight,
// which its sender's own deadline bounds.
func (m *Message) withdraw(r *round, j *join, cause error) error {
	for {
		m.mu.Lock()
		if m.pending == r {
			r.joins = slices.DeleteFunc(r.joins, func(o *join) bool { return o == j })
			if len(r.joins) == 0 {
				m.pending = nil
				close(r.done)
			}
			m.mu.Unlock()
			return cause
		}
		m.mu.Unlock()
		<-r.done
		switch {
		case j.err != nil:
			return j.err
		case r.next == nil:
			return r.err
		}
		r = r.next
	}
}

// View is what the message shows now.
func (m *Message) View() []*group.Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.viewLocked(nil)
}

// viewLocked is what the message will show once joins are applied.
func (m *Message) viewLocked(joins []*join) []*group.Entry {
	byLine := map[*Line]*Line{}
	for _, j := range joins {
		for _, a := range j.adds {
			l := byLine[a.Line]
			if l == nil {
				cp := *a.Line
				l = &cp
				byLine[a.Line] = l
			}
			apply(l, a)
		}
	}
	view := make([]*group.Entry, len(m.lines))
	for i, l := range m.lines {
		if next := byLine[l]; next != nil {
			l = next
		}
		e := l.Entry
		if l.Quiet {
			e.QuietSince = l.LastSeen
		}
		view[i] = &e
	}
	return view
}

func apply(l *Line, a Add) {
	if a.Quiet {
		// Records that reached the line after it was judged quiet win,
		// in whatever order the two go out.
		if l.adds == a.adds {
			l.Quiet = true
		}
		return
	}
	if a.Count == 0 {
		return
	}
	if l.Entry.Shown != nil && a.Sample != nil {
		adopt(&l.Entry, a.Sample)
	}
	l.Entry.Count += a.Count
	l.adds++
	if l.Entry.First.IsZero() || a.First.Before(l.Entry.First) {
		l.Entry.First = a.First
	}
	if a.Last.After(l.Entry.Last) {
		l.Entry.Last = a.Last
	}
	if a.Seen.After(l.LastSeen) {
		l.LastSeen = a.Seen
	}
	l.Quiet = false // active again
}

// adopt gives a line read back from Slack the sample of a record of its
// fingerprint, keeping what Slack showed of it: its count and first seen.
func adopt(e *group.Entry, sample *group.Entry) {
	keep := *e
	*e = *sample
	e.Records, e.Shown, e.QuietSince = nil, nil, time.Time{}
	e.Fingerprint, e.Count, e.First, e.Last = keep.Fingerprint, keep.Count, keep.First, keep.Last
}
