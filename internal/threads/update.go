package threads

import (
	"context"
	"time"

	"github.com/slackexporter/slackexporter/internal/group"
)

// Add is what one push brings to one line of a live message: more records,
// or (Quiet) the news that the fingerprint went quiet.
type Add struct {
	Line        *Line
	Count       int
	First, Last time.Time
	Seen        time.Time
	Quiet       bool
}

// round is one chat.update in the making: every Add joined since the last
// update of the message went out.
type round struct {
	adds []Add
	done chan struct{}
	err  error
}

// SendFunc posts the message's new view (chat.update).
type SendFunc func(ctx context.Context, m *Message, view []*group.Entry) error

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
			return r.err
		case m.slot <- struct{}{}:
			m.sendPending(ctx, send)
			<-m.slot
		case <-ctx.Done():
			m.mu.Lock()
			if m.pending == r { // not sent yet: take our adds back
				r.adds = without(r.adds, adds)
				if len(r.adds) == 0 {
					m.pending = nil
					close(r.done)
				}
				m.mu.Unlock()
				return ctx.Err()
			}
			m.mu.Unlock()
			<-r.done // in flight: the sender's call is bounded by its own deadline
			return r.err
		}
	}
}

func (m *Message) sendPending(ctx context.Context, send SendFunc) {
	m.mu.Lock()
	r := m.pending
	m.pending = nil
	if r == nil {
		m.mu.Unlock()
		return
	}
	view := m.viewLocked(r.adds)
	m.mu.Unlock()
	r.err = send(ctx, m, view)
	if r.err == nil {
		m.mu.Lock()
		applyAll(r.adds)
		m.mu.Unlock()
	}
	close(r.done)
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
		l.Quiet = true
		return
	}
	if a.Count == 0 {
		return
	}
	l.Entry.Count += a.Count
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

// without removes the adds of one push (compared by identity of their
// position in the slice they were appended from).
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
