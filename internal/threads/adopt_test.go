package threads

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slackexporter/slackexporter/internal/group"
)

// readBack is entries as render.ReadBack gives them: counts and blocks,
// no sample.
func readBack(counts map[string]int, order ...string) []*group.Entry {
	var out []*group.Entry
	for _, fp := range order {
		out = append(out, &group.Entry{Fingerprint: fp, Count: counts[fp], First: t0, Last: t0, Shown: json.RawMessage(`[{"type":"divider"}]`)})
	}
	return out
}

func TestARecordGivesALineReadBackItsSampleAndItsCountGoesOn(t *testing.T) {
	tr := New(cfg, nil)
	now := t0.Add(time.Minute)
	m := tr.Adopt("d", "C1", "1.1", t0, now, readBack(map[string]int{"a": 7, "b": 2}, "a", "b"), 5, 1)
	require.NotNil(t, m)
	got, la := tr.Live("d", "a", now)
	require.Same(t, m, got, "a repeat of a fingerprint read back updates its message")

	sample := entries("a")[0]
	sample.Count, sample.Last = 3, now
	var sent []*group.Entry
	err := m.UpdateWhenReady(context.Background(), []Add{{Line: la, Count: 3, First: sample.First, Last: now, Seen: now, Sample: sample}}, nil,
		func(_ context.Context, _ *Message, view []*group.Entry) error { sent = view; return nil })
	require.NoError(t, err)
	require.Len(t, sent, 2)
	assert.Equal(t, []int{10, 2}, counts(sent), "the count goes on from what Slack showed")
	assert.Nil(t, sent[0].Shown, "rendered from the record's sample now")
	assert.Equal(t, "body of a", sent[0].Body)
	assert.True(t, sent[0].First.Equal(t0), "first seen is Slack's")
	assert.NotNil(t, sent[1].Shown, "the other line stays as Slack shows it")
	assert.Equal(t, []int{10, 2}, counts(m.View()))
}

func TestALineReadBackIsNeverMarkedQuiet(t *testing.T) {
	tr := New(cfg, nil)
	m := tr.Adopt("d", "C1", "1.1", t0, t0, readBack(map[string]int{"a": 1}, "a"), 0, 0)
	later := t0.Add(cfg.QuietAfter + time.Minute)
	assert.Empty(t, tr.GoingQuiet(later), "no sample to render a quiet mark from")
	assert.Empty(t, tr.QuietMarks(m, later))
}

func TestAdoptReplacesOnlyWhatSlackKnowsBetter(t *testing.T) {
	var dropped []*Message
	tr := New(cfg, func(m *Message) { dropped = append(dropped, m) })
	own := tr.Register("d", "C1", "1.1", t0, entries("a", "b"), 0, 0) // shows 2 records

	assert.Nil(t, tr.Adopt("d", "C1", "1.1", t0, t0, readBack(map[string]int{"a": 1, "b": 1}, "a", "b"), 0, 0),
		"Slack shows what this process knows: its own copy stays")
	got, _ := tr.Live("d", "a", t0)
	assert.Same(t, own, got)

	fresh := tr.Adopt("d", "C1", "1.1", t0, t0, readBack(map[string]int{"a": 4, "b": 1}, "a", "b"), 0, 0)
	require.NotNil(t, fresh, "another process counted more since")
	got, _ = tr.Live("d", "a", t0)
	assert.Same(t, fresh, got)
	assert.Equal(t, []*Message{own}, dropped, "the replaced copy is dropped (and so deleted from storage)")
	assert.Equal(t, 2, tr.Len(), "one message per fingerprint")

	// An update under way keeps the process's own copy: it is about to
	// show more than Slack does.
	fresh.mu.Lock()
	fresh.sending = true
	fresh.mu.Unlock()
	assert.Nil(t, tr.Adopt("d", "C1", "1.1", t0, t0, readBack(map[string]int{"a": 9, "b": 1}, "a", "b"), 0, 0))

	other := tr.Adopt("d", "C1", "2.2", t0.Add(time.Second), t0, readBack(map[string]int{"c": 1}, "c"), 0, 0)
	require.NotNil(t, other, "a message the process never knew")
	assert.Len(t, dropped, 1, "adopting a new message drops nothing")
	got, _ = tr.Live("d", "c", t0)
	assert.Same(t, other, got)
}
