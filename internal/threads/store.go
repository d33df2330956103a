package threads

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/slackexporter/slackexporter/internal/group"
)

// Store keeps live messages in a storage extension (file_storage), so that
// after a restart repeats still update the messages already in Slack.
type Store struct {
	client storage.Client

	mu   sync.Mutex
	keys map[string]bool // the index, saved under indexKey
}

const indexKey = "index"

// NewStore uses client; Load must be called before Save.
func NewStore(client storage.Client) *Store {
	return &Store{client: client, keys: map[string]bool{}}
}

type storedMessage struct {
	Dest, ChannelID, TS  string
	PostedAt             time.Time
	Folded, FoldedGroups int
	Lines                []storedLine
}

type storedLine struct {
	Entry     group.Entry
	LastSeen  time.Time
	LastReply time.Time
	Quiet     bool
}

func messageKey(m *Message) string { return "msg\x00" + m.Dest + "\x00" + m.TS }

// Save writes m as it is now, unless the tracker has forgotten it: a save
// racing with the eviction that deleted m must not bring it back.
func (s *Store) Save(ctx context.Context, m *Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.mu.Lock()
	if m.forgotten {
		m.mu.Unlock()
		return nil
	}
	sm := storedMessage{Dest: m.Dest, ChannelID: m.ChannelID, TS: m.TS, PostedAt: m.PostedAt, Folded: m.Folded, FoldedGroups: m.FoldedGroups}
	for _, l := range m.lines {
		sm.Lines = append(sm.Lines, storedLine{Entry: l.Entry, LastSeen: l.LastSeen, LastReply: l.LastReply, Quiet: l.Quiet})
	}
	m.mu.Unlock()
	value, err := json.Marshal(sm)
	if err != nil {
		return err
	}
	k := messageKey(m)
	ops := []*storage.Operation{storage.SetOperation(k, value)}
	if !s.keys[k] {
		s.keys[k] = true
		index, err := s.indexLocked()
		if err != nil {
			return err
		}
		ops = append(ops, storage.SetOperation(indexKey, index))
	}
	return s.client.Batch(ctx, ops...)
}

// Delete forgets m.
func (s *Store) Delete(ctx context.Context, m *Message) error {
	k := messageKey(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.keys[k] {
		return nil
	}
	delete(s.keys, k)
	index, err := s.indexLocked()
	if err != nil {
		return err
	}
	return s.client.Batch(ctx, storage.DeleteOperation(k), storage.SetOperation(indexKey, index))
}

func (s *Store) indexLocked() ([]byte, error) {
	return json.Marshal(slices.Sorted(maps.Keys(s.keys)))
}

// Load reads every saved message.
func (s *Store) Load(ctx context.Context) ([]*Message, error) {
	raw, err := s.client.Get(ctx, indexKey)
	if err != nil || raw == nil {
		return nil, err
	}
	var keys []string
	if err := json.Unmarshal(raw, &keys); err != nil {
		return nil, err
	}
	var out []*Message
	var errs []error
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		value, err := s.client.Get(ctx, k)
		if err != nil || value == nil {
			errs = append(errs, err)
			continue
		}
		var sm storedMessage
		if err := json.Unmarshal(value, &sm); err != nil {
			errs = append(errs, err)
			continue
		}
		m := &Message{Dest: sm.Dest, ChannelID: sm.ChannelID, TS: sm.TS, PostedAt: sm.PostedAt, Folded: sm.Folded, FoldedGroups: sm.FoldedGroups}
		for _, l := range sm.Lines {
			m.lines = append(m.lines, &Line{Entry: l.Entry, LastSeen: l.LastSeen, LastReply: l.LastReply, Quiet: l.Quiet})
		}
		s.keys[k] = true
		out = append(out, m)
	}
	return out, errors.Join(errs...)
}

// Close releases the storage client.
func (s *Store) Close(ctx context.Context) error {
	return s.client.Close(ctx)
}
