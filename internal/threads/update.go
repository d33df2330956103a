package threads

import (
	"context"
	"errors"
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
	// adds is, for a quiet mark, how many adds of records the line had
	// when it was judged quiet.
	adds int
}

// round is one chat.update in the making: every Add joined since the last
// update of the message went out.
type round struct {
	adds []Add
	done chan struct{}
	err  error
	// next, set before done closes, is the round the adds moved to when the
	// sender could not send them (see ErrNotSent).
	next *round
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

// Update brings adds to m and returns when Slack shows them, or with the
// error that kept it from doing so (then none of adds is applied). Pushes
// updating one message at the same time share one chat.update: while one
// sends, the others' adds gather for the next.
func (m *Message) Update(ctx context.Context, adds []Add, send SendFunc) error {
	m.mu.Lock()
	if m.pending == nil {
		m.pending = &round{done: make(chan struct{})}
	}
	r := m.pending
	r.adds = append(r.adds, adds...)
	m.mu.Unlock()
	for {
		select {
		case <-r.done:
			if r.next == nil {
				return r.err
			}
			r = r.next
		case m.slot <- struct{}{}:
			sent, handedOn := m.sendPending(ctx, adds, send)
			<-m.slot
			if sent == r && handedOn {
				return r.err
			}
		case <-ctx.Done():
			return m.withdraw(r, adds, ctx.Err())
		}
	}
}

// sendPending sends the pending round, if any. When the sender could not
// send it (ErrNotSent, or its context ended), the round's other adds move to
// the next round and handedOn is true; mine, the sender's own adds, are
// withdrawn.
func (m *Message) sendPending(ctx context.Context, mine []Add, send SendFunc) (sent *round, handedOn bool) {
	m.mu.Lock()
	r := m.pending
	m.pending = nil
	if r == nil {
		m.mu.Unlock()
		return nil, false
	}
	view := m.viewLocked(r.adds)
	m.mu.Unlock()
	err := send(ctx, m, view)
	m.mu.Lock()
	defer m.mu.Unlock()
	r.err = err
	switch {
	case err == nil:
		applyAll(r.adds)
	case errors.Is(err, ErrNotSent) || ctx.Err() != nil:
		if rest := without(r.adds, mine); len(rest) > 0 {
			if m.pending == nil {
				m.pending = &round{done: make(chan struct{})}
			}
			m.pending.adds = append(rest, m.pending.adds...)
			r.next = m.pending
		}
		handedOn = true
	}
	close(r.done)
	return r, handedOn
}

// withdraw takes adds back from round r, or from the round they moved to,
// if it has not gone out; otherwise it waits for the call in flight, which
// its sender's own deadline bounds.
func (m *Message) withdraw(r *round, adds []Add, cause error) error {
	for {
		m.mu.Lock()
		if m.pending == r {
			r.adds = without(r.adds, adds)
			if len(r.adds) == 0 {
				m.pending = nil
				close(r.done)
			}
			m.mu.Unlock()
			return cause
		}
		m.mu.Unlock()
		<-r.done
		if r.next == nil {
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

// viewLocked is what the message will show once adds are applied.
func (m *Message) viewLocked(adds []Add) []*group.Entry {
	byLine := map[*Line]*Line{}
	for _, a := range adds {
		l := byLine[a.Line]
		if l == nil {
			cp := *a.Line
			l = &cp
			byLine[a.Line] = l
		}
		apply(l, a)
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

func applyAll(adds []Add) {
	for _, a := range adds {
		apply(a.Line, a)
	}
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

// without removes the adds of one push (compared by value, as many times as
// they were added).
func without(all, mine []Add) []Add {
	out := all[:0:0]
	skip := map[Add]int{}
	for _, a := range mine {
		skip[a]++
	}
	for _, a := range all {
		if skip[a] > 0 {
			skip[a]--
			continue
		}
		out = append(out, a)
	}
	return out
}
