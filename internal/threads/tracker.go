// Package threads remembers which Slack message shows each fingerprint, so
// repeats update that message's counter (chat.update) instead of posting
// again, and coalesces the updates of concurrent pushes into one call.
package threads

import (
	"container/list"
	"slices"
	"sync"
	"time"

	"github.com/slackexporter/slackexporter/internal/group"
)

// Config bounds how long and how many messages stay live.
type Config struct {
	// Window: repeats within this time of a message's post update it;
	// later ones post a new message.
	Window time.Duration
	// ReplyEvery: at most one sample reply per fingerprint this often.
	ReplyEvery time.Duration
	// QuietAfter: a fingerprint with no records for this long is marked
	// quiet in its message, once.
	QuietAfter time.Duration
	// MaxTracked bounds the fingerprints remembered; the least recently
	// active messages are forgotten first.
	MaxTracked int
}

// Line is one fingerprint's row in a live message. Entry holds what Slack
// shows: the sample and the counts it has accepted.
type Line struct {
	Entry     group.Entry
	LastSeen  time.Time // when a push last carried this fingerprint
	LastReply time.Time // when its last sample reply (or the parent) went out
	Quiet     bool      // Slack shows it as quiet
	adds      int       // adds of records applied (see Add.adds)
	moved     bool      // a newer message counts this fingerprint now
}

// Message is a posted Slack message whose counters stay live.
type Message struct {
	Dest      string // destination key
	ChannelID string
	TS        string
	PostedAt  time.Time
	// Folded are the records and groups its fold line counts.
	Folded, FoldedGroups int

	mu        sync.Mutex
	lines     []*Line
	pending   *round
	sending   bool          // a round is on its way to Slack
	onWire    chan struct{} // closed when that round's call is answered
	forgotten bool          // dropped by the tracker: never saved or updated again
	slot      chan struct{} // held by the push sending this message's update
	elem      *list.Element // in Tracker.lru
}

// Tracker holds the live messages of every destination.
type Tracker struct {
	cfg Config

	mu sync.Mutex
	// byKey names, for each fingerprint of a destination, the message
	// whose counter it updates: the newest one showing it.
	byKey  map[string]*Message // dest + fingerprint → message
	lru    *list.List          // of *Message, most recently active first
	onDrop func(*Message)
}

// New returns an empty tracker. onDrop, if set, learns of every message the
// tracker forgets (to delete it from storage).
func New(cfg Config, onDrop func(*Message)) *Tracker {
	return &Tracker{cfg: cfg, byKey: map[string]*Message{}, lru: list.New(), onDrop: onDrop}
}

func key(dest, fingerprint string) string { return dest + "\x00" + fingerprint }

// Live returns the message showing fingerprint in dest and its line, if
// the message was posted within the window.
func (t *Tracker) Live(dest, fingerprint string, now time.Time) (*Message, *Line) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.byKey[key(dest, fingerprint)]
	if m == nil || now.Sub(m.PostedAt) >= t.cfg.Window {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.lines {
		if l.Entry.Fingerprint == fingerprint {
			return m, l
		}
	}
	return nil, nil
}

// Register records a message just posted to dest showing entries.
func (t *Tracker) Register(dest, channelID, ts string, now time.Time, entries []*group.Entry, folded, foldedGroups int) *Message {
	m := &Message{Dest: dest, ChannelID: channelID, TS: ts, PostedAt: now, Folded: folded, FoldedGroups: foldedGroups, slot: make(chan struct{}, 1)}
	for _, e := range entries {
		sample := *e
		sample.Records = nil
		m.lines = append(m.lines, &Line{Entry: sample, LastSeen: now, LastReply: now})
	}
	t.add(m)
	return m
}

// add indexes m and enforces the bound. A fingerprint moves to m unless a
// newer message already shows it (restored from storage in any order): the
// older message keeps its line for display but no longer receives counts,
// nor a quiet mark.
func (t *Tracker) add(m *Message) {
	t.mu.Lock()
	var dropped []*Message
	m.elem = t.lru.PushFront(m)
	for _, l := range m.lines {
		k := key(m.Dest, l.Entry.Fingerprint)
		switch old := t.byKey[k]; {
		case old == nil:
			t.byKey[k] = m
		case newer(old, m):
			l.moved = true
		default:
			old.markMoved(l.Entry.Fingerprint)
			t.byKey[k] = m
		}
	}
	// The least recently active go first, but never one whose update is on
	// its way to Slack: its fingerprints could be posted anew and counted
	// in two messages. The bound waits for that update.
	for el := t.lru.Back(); len(t.byKey) > t.cfg.MaxTracked && el != nil && el != m.elem; {
		oldest := el.Value.(*Message)
		el = el.Prev()
		if t.removeLocked(oldest, false) {
			dropped = append(dropped, oldest)
		}
	}
	t.mu.Unlock()
	t.dropped(dropped)
}

// markMoved notes that fingerprint is counted in a newer message now.
func (m *Message) markMoved(fingerprint string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.lines {
		if l.Entry.Fingerprint == fingerprint {
			l.moved = true
		}
	}
}

// newer reports whether a was posted after b.
func newer(a, b *Message) bool {
	if !a.PostedAt.Equal(b.PostedAt) {
		return a.PostedAt.After(b.PostedAt)
	}
	// Slack's ts ("1700000000.123456") grows with time.
	return len(a.TS) > len(b.TS) || (len(a.TS) == len(b.TS) && a.TS > b.TS)
}

// owns reports whether m is where line l's fingerprint is counted.
func (t *Tracker) ownsLocked(m *Message, l *Line) bool {
	return t.byKey[key(m.Dest, l.Entry.Fingerprint)] == m
}

// removeLocked forgets m, unless an update of m is on its way to Slack and
// Slack may still show it (force says it cannot: the message is gone).
func (t *Tracker) removeLocked(m *Message, force bool) bool {
	m.mu.Lock()
	if m.sending && !force {
		m.mu.Unlock()
		return false
	}
	m.forgotten = true
	m.mu.Unlock()
	t.lru.Remove(m.elem)
	m.elem = nil
	for _, l := range m.lines {
		if t.ownsLocked(m, l) {
			delete(t.byKey, key(m.Dest, l.Entry.Fingerprint))
		}
	}
	return true
}

func (t *Tracker) dropped(ms []*Message) {
	if t.onDrop == nil {
		return
	}
	for _, m := range ms {
		t.onDrop(m)
	}
}

// Touch marks m as recently active.
func (t *Tracker) Touch(m *Message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m.elem != nil {
		t.lru.MoveToFront(m.elem)
	}
}

// Forget drops m, which Slack can no longer update: its fingerprints are no
// longer live.
func (t *Tracker) Forget(m *Message) {
	t.mu.Lock()
	tracked := m.elem != nil
	if tracked {
		t.removeLocked(m, true)
	}
	t.mu.Unlock()
	if tracked {
		t.dropped([]*Message{m})
	}
}

// ForgetDest drops every message of dest: what this process holds of them
// may be older than what Slack shows, and could not be read back. Their
// fingerprints start anew.
func (t *Tracker) ForgetDest(dest string) {
	t.mu.Lock()
	var gone []*Message
	for el := t.lru.Front(); el != nil; {
		m, next := el.Value.(*Message), el.Next()
		if m.Dest == dest {
			t.removeLocked(m, true)
			gone = append(gone, m)
		}
		el = next
	}
	t.mu.Unlock()
	t.dropped(gone)
}

// GoingQuiet returns the messages with a line that has had no records for
// QuietAfter and does not say so yet. It forgets the messages whose lines
// are all quiet (or counted in a newer message) and whose window has passed.
func (t *Tracker) GoingQuiet(now time.Time) []*Message {
	t.mu.Lock()
	var out, done []*Message
	for el := t.lru.Front(); el != nil; el = el.Next() {
		m := el.Value.(*Message)
		m.mu.Lock()
		allQuiet, needs := true, false
		for _, l := range m.lines {
			if !l.Quiet && l.Entry.Shown == nil && t.ownsLocked(m, l) {
				allQuiet = false
				needs = needs || now.Sub(l.LastSeen) >= t.cfg.QuietAfter
			}
		}
		m.mu.Unlock()
		switch {
		case needs:
			out = append(out, m)
		case allQuiet && now.Sub(m.PostedAt) >= t.cfg.Window:
			done = append(done, m)
		}
	}
	done = slices.DeleteFunc(done, func(m *Message) bool { return !t.removeLocked(m, false) })
	t.mu.Unlock()
	t.dropped(done)
	return out
}

// QuietMarks are the marks that tell Slack which lines of m went quiet. A
// mark is dropped if records reach its line before it goes out.
func (t *Tracker) QuietMarks(m *Message, now time.Time) []Add {
	t.mu.Lock()
	defer t.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	var adds []Add
	for _, l := range m.lines {
		if !l.Quiet && l.Entry.Shown == nil && t.ownsLocked(m, l) && now.Sub(l.LastSeen) >= t.cfg.QuietAfter {
			adds = append(adds, Add{Line: l, Quiet: true, adds: l.adds})
		}
	}
	return adds
}

// Seen notes that records of fingerprint reached Slack in dest without
// being counted in its line (folded into another message): the line is
// not quiet, and a quiet mark judged before now is dropped. It returns the
// message that changed, for storage, or nil.
func (t *Tracker) Seen(dest, fingerprint string, now time.Time) *Message {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.byKey[key(dest, fingerprint)]
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.lines {
		if l.Entry.Fingerprint == fingerprint {
			l.LastSeen = later(l.LastSeen, now)
			l.adds++
		}
	}
	return m
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ReplyDue reports whether line may get a sample reply now, and if so
// takes the slot.
func (t *Tracker) ReplyDue(m *Message, l *Line, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(l.LastReply) < t.cfg.ReplyEvery {
		return false
	}
	l.LastReply = now
	return true
}

// Adopt puts back a message read from Slack, which this process or another
// posted: entries carry Shown (render.ReadBack). A message the tracker
// already holds is replaced only when Slack shows more records than it
// knows (another process updated it since) and no update of it is under
// way; counts continue from the larger. It returns the message added, or
// nil when the tracker kept its own.
func (t *Tracker) Adopt(dest, channelID, ts string, postedAt, now time.Time, entries []*group.Entry, folded, foldedGroups int) *Message {
	records := folded
	for _, e := range entries {
		records += e.Count
	}
	t.mu.Lock()
	var held *Message
	for el := t.lru.Front(); el != nil; el = el.Next() {
		if m := el.Value.(*Message); m.Dest == dest && m.TS == ts {
			held = m
			break
		}
	}
	if held != nil {
		held.mu.Lock()
		busy, known := held.sending || held.pending != nil, held.Folded
		for _, l := range held.lines {
			known += l.Entry.Count
		}
		held.mu.Unlock()
		if busy || known >= records {
			t.mu.Unlock()
			return nil
		}
		t.removeLocked(held, true)
	}
	t.mu.Unlock()
	if held != nil {
		t.dropped([]*Message{held})
	}
	m := &Message{Dest: dest, ChannelID: channelID, TS: ts, PostedAt: postedAt, Folded: folded, FoldedGroups: foldedGroups, slot: make(chan struct{}, 1)}
	for _, e := range entries {
		m.lines = append(m.lines, &Line{Entry: *e, LastSeen: now, LastReply: now})
	}
	t.add(m)
	return m
}

// Showing returns the tracked messages of channel channelID that show
// fingerprint, newest first: those to redraw when its entry changes.
func (t *Tracker) Showing(channelID, fingerprint string) []*Message {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*Message
	for el := t.lru.Front(); el != nil; el = el.Next() {
		m := el.Value.(*Message)
		if m.ChannelID != channelID {
			continue
		}
		m.mu.Lock()
		for _, l := range m.lines {
			if l.Entry.Fingerprint == fingerprint {
				out = append(out, m)
				break
			}
		}
		m.mu.Unlock()
	}
	slices.SortStableFunc(out, func(a, b *Message) int { return b.PostedAt.Compare(a.PostedAt) })
	return out
}

// Restore puts back a message loaded from storage.
func (t *Tracker) Restore(m *Message) {
	m.slot = make(chan struct{}, 1)
	t.add(m)
}

// Len is the number of fingerprints tracked.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byKey)
}
