package dynchannel

import "sync"

// Once remembers the last max keys it was asked about, so that a warning
// is logged once per bad channel name, however many records carry it, and
// however many distinct names a flood brings: past max, the oldest is
// forgotten (and would be warned about again). Safe for concurrent use.
type Once struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
	ring []string // in the order first seen; next is the oldest once full
	next int
}

// NewOnce remembers at most max keys (at least 1).
func NewOnce(limit int) *Once {
	limit = max(limit, 1)
	return &Once{max: limit, seen: make(map[string]struct{}, min(limit, 64))}
}

// First reports whether key is new: true the first time, false while it is
// remembered.
func (o *Once) First(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.seen[key]; ok {
		return false
	}
	if len(o.ring) < o.max {
		o.ring = append(o.ring, key)
	} else {
		delete(o.seen, o.ring[o.next])
		o.ring[o.next] = key
		o.next = (o.next + 1) % o.max
	}
	o.seen[key] = struct{}{}
	return true
}

// Len is how many keys are remembered.
func (o *Once) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.seen)
}
