// Package mutes keeps what people decided about an error from Slack: which
// fingerprints are muted in which channel, until when and by whom, and who
// acknowledged them. With a storage extension it survives restarts.
package mutes

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/slackexporter/slackexporter/internal/render"
)

// Key is a fingerprint in a channel, named by the channel's id: the id is
// what a click carries and what never changes when a channel is renamed.
type Key struct {
	Channel     string
	Fingerprint string
}

// record is one key's state, as stored.
type record struct {
	Channel     string
	ChannelName string `json:",omitempty"`
	Fingerprint string
	render.EntryState
	Changed time.Time
}

// storageKey holds the whole book: clicks are rare and the book is small,
// so one value rewritten per click is simpler than an index of keys.
const storageKey = "mutes"

// Book is the mutes and acknowledgements of every channel.
type Book struct {
	client storage.Client // nil: in memory only
	max    int

	mu    sync.Mutex
	byKey map[Key]*record
	ids   map[string]string // channel name (no #) → id, learned from clicks
}

// New returns an empty book that keeps at most max keys, saving to client
// when it is not nil.
func New(client storage.Client, maxKeys int) *Book {
	return &Book{client: client, max: maxKeys, byKey: map[Key]*record{}, ids: map[string]string{}}
}

// Load reads the saved book.
func (b *Book) Load(ctx context.Context) error {
	if b.client == nil {
		return nil
	}
	raw, err := b.client.Get(ctx, storageKey)
	if err != nil || raw == nil {
		return err
	}
	var recs []*record
	if err := json.Unmarshal(raw, &recs); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range recs {
		b.byKey[Key{r.Channel, r.Fingerprint}] = r
		if r.ChannelName != "" {
			b.ids[r.ChannelName] = r.Channel
		}
	}
	return nil
}

// Mute silences k until until.
func (b *Book) Mute(ctx context.Context, k Key, channelName, by string, now, until time.Time) error {
	return b.change(ctx, k, channelName, now, func(st *render.EntryState) {
		st.MutedBy, st.MutedUntil, st.UnmutedBy, st.MuteEnded = by, until, "", time.Time{}
	})
}

// Restore puts back a mute another process applied (read back from the
// message that shows it), unless this book already has a say on k: what
// it knows is newer than the message it was read from.
func (b *Book) Restore(ctx context.Context, k Key, channelName, by string, now, until time.Time) error {
	b.mu.Lock()
	_, known := b.byKey[k]
	b.mu.Unlock()
	if known || !until.After(now) {
		return nil
	}
	return b.Mute(ctx, k, channelName, by, now, until)
}

// Unmute ends k's mute now, if one is in force.
func (b *Book) Unmute(ctx context.Context, k Key, channelName, by string, now time.Time) error {
	return b.change(ctx, k, channelName, now, func(st *render.EntryState) {
		if st.MutedUntil.After(now) {
			st.MutedBy, st.MutedUntil, st.UnmutedBy, st.MuteEnded = "", time.Time{}, by, now
		}
	})
}

// Ack records that by is on k.
func (b *Book) Ack(ctx context.Context, k Key, channelName, by string, now time.Time) error {
	return b.change(ctx, k, channelName, now, func(st *render.EntryState) { st.AckedBy = by })
}

func (b *Book) change(ctx context.Context, k Key, channelName string, now time.Time, apply func(*render.EntryState)) error {
	b.mu.Lock()
	r := b.byKey[k]
	if r == nil {
		r = &record{Channel: k.Channel, Fingerprint: k.Fingerprint}
		b.byKey[k] = r
	}
	if channelName != "" {
		r.ChannelName = channelName
		b.ids[channelName] = k.Channel
	}
	apply(&r.EntryState)
	r.Changed = now
	b.pruneLocked(now)
	raw, err := b.encodeLocked()
	b.mu.Unlock()
	if err != nil || b.client == nil {
		return err
	}
	return b.client.Set(ctx, storageKey, raw)
}

// pruneLocked keeps the book within max keys: the least recently changed
// go first, but never a mute still in force while another key can go.
func (b *Book) pruneLocked(now time.Time) {
	if len(b.byKey) <= b.max {
		return
	}
	recs := slices.Collect(func(yield func(*record) bool) {
		for _, r := range b.byKey {
			if !yield(r) {
				return
			}
		}
	})
	slices.SortFunc(recs, func(x, y *record) int {
		if xa, ya := x.MutedUntil.After(now), y.MutedUntil.After(now); xa != ya {
			if xa {
				return 1
			}
			return -1
		}
		return x.Changed.Compare(y.Changed)
	})
	for _, r := range recs[:len(recs)-b.max] {
		delete(b.byKey, Key{r.Channel, r.Fingerprint})
	}
}

func (b *Book) encodeLocked() ([]byte, error) {
	recs := make([]*record, 0, len(b.byKey))
	for _, r := range b.byKey {
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(x, y *record) int {
		return cmp.Or(cmp.Compare(x.Channel, y.Channel), cmp.Compare(x.Fingerprint, y.Fingerprint))
	})
	return json.Marshal(recs)
}

// State is how k stands at now: a mute that has run out shows as ended.
func (b *Book) State(k Key, now time.Time) render.EntryState {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.byKey[k]
	if r == nil {
		return render.EntryState{}
	}
	st := r.EntryState
	if !st.MutedUntil.IsZero() && !st.MutedUntil.After(now) {
		st.MuteEnded, st.MutedBy, st.MutedUntil = st.MutedUntil, "", time.Time{}
	}
	return st
}

// Muted reports whether k is muted at now.
func (b *Book) Muted(k Key, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.byKey[k]
	return r != nil && r.MutedUntil.After(now)
}

// Ended lists the keys whose mute ran out after since and by now, so that
// their entries can say so once.
func (b *Book) Ended(since, now time.Time) []Key {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Key
	for k, r := range b.byKey {
		if r.MutedUntil.After(since) && !r.MutedUntil.After(now) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(x, y Key) int {
		return cmp.Or(cmp.Compare(x.Channel, y.Channel), cmp.Compare(x.Fingerprint, y.Fingerprint))
	})
	return out
}

// ChannelID is the id of a channel named name in a click, or "".
func (b *Book) ChannelID(name string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ids[name]
}

// Close releases the storage client.
func (b *Book) Close(ctx context.Context) error {
	if b.client == nil {
		return nil
	}
	return b.client.Close(ctx)
}
