package threads

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slackexporter/slackexporter/internal/group"
)

// A line goes quiet exactly QuietAfter after its last records, and
// GoingQuiet and QuietMarks agree on it; a message whose lines are all
// quiet is forgotten exactly when its window ends, when Live stops offering
// it.
func TestQuietAfterAndTheWindowEndWhereTheySay(t *testing.T) {
	ctx := context.Background()
	ok := func(context.Context, *Message, []*group.Entry) error { return nil }
	var dropped []*Message
	tr := New(cfg, func(m *Message) { dropped = append(dropped, m) })
	m := tr.Register("d", "C1", "1.1", t0, entries("a"), 0, 0)

	before := t0.Add(cfg.QuietAfter - time.Nanosecond)
	assert.Empty(t, tr.GoingQuiet(before))
	assert.Empty(t, tr.QuietMarks(m, before))
	at := t0.Add(cfg.QuietAfter)
	assert.Equal(t, []*Message{m}, tr.GoingQuiet(at))
	marks := tr.QuietMarks(m, at)
	require.Len(t, marks, 1)
	require.NoError(t, m.Update(ctx, marks, ok))

	end := t0.Add(cfg.Window)
	live, _ := tr.Live("d", "a", end.Add(-time.Nanosecond))
	assert.Same(t, m, live)
	assert.Empty(t, tr.GoingQuiet(end.Add(-time.Nanosecond)))
	assert.Empty(t, dropped, "quiet, but still within its window")
	live, _ = tr.Live("d", "a", end)
	assert.Nil(t, live)
	assert.Empty(t, tr.GoingQuiet(end))
	assert.Equal(t, []*Message{m}, dropped, "all quiet at the end of its window: forgotten")
}

// Messages restored with the same post time (storage keeps it to the
// second) are ordered by their ts: the newest counts the fingerprint,
// whatever order they come back in.
func TestRestoredMessagesPostedTogetherAreOrderedByTheirTS(t *testing.T) {
	for _, tc := range []struct{ older, newer string }{
		{"1700000000.000001", "1700000000.000002"},
		{"999999999.000009", "1000000000.000001"}, // a longer ts is a later one
	} {
		for _, order := range [][]string{{tc.older, tc.newer}, {tc.newer, tc.older}} {
			tr := New(cfg, nil)
			for _, ts := range order {
				tr.Restore(&Message{Dest: "d", ChannelID: "C1", TS: ts, PostedAt: t0, lines: []*Line{{Entry: group.Entry{Fingerprint: "a", Count: 1}, LastSeen: t0}}})
			}
			got, _ := tr.Live("d", "a", t0)
			require.NotNil(t, got)
			assert.Equal(t, tc.newer, got.TS, "restored in the order %v", order)
		}
	}
}

// A push can end up sending a round it has no part in (its own records
// went out in an earlier one). If it cannot send it, the round's pushes
// move to the next round, and its own result stands.
func TestASenderThatCannotSendAnotherRoundKeepsItsOwnResult(t *testing.T) {
	tr := New(cfg, nil)
	m := tr.Register("d", "C1", "1.1", t0, entries("a"), 0, 0)
	_, a := tr.Live("d", "a", t0)
	mine := &join{adds: []Add{{Line: a, Count: 1}}}
	other := &join{adds: []Add{{Line: a, Count: 2}}}
	r := &round{joins: []*join{other}, done: make(chan struct{})}
	m.pending = r
	m.sendPending(context.Background(), mine, nil, func(context.Context, *Message, []*group.Entry) error { return ErrNotSent })
	assert.NoError(t, mine.err, "its records are not in this round")
	assert.NoError(t, other.err)
	require.NotNil(t, r.next)
	assert.Same(t, m.pending, r.next)
	assert.Equal(t, []*join{other}, r.next.joins, "the round's push waits for the next one")
	assert.Equal(t, []int{1}, counts(m.View()), "nothing applied")
}

// Slack's answer to a round is every push's answer: a failed call fails
// them all, and no other push calls again with the same round.
func TestAFailedCallFailsTheWholeRound(t *testing.T) {
	tr := New(cfg, nil)
	m := tr.Register("d", "C1", "1.1", t0, entries("a"), 0, 0)
	_, a := tr.Live("d", "a", t0)
	boom := errors.New("message_not_found")
	var calls atomic.Int32
	send := func(context.Context, *Message, []*group.Entry) error {
		calls.Add(1)
		return boom
	}
	m.slot <- struct{}{} // hold the slot until both pushes have joined the round
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = m.Update(context.Background(), []Add{{Line: a, Count: i + 1}}, send) })
	}
	require.Eventually(t, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.pending != nil && len(m.pending.joins) == 2
	}, 5*time.Second, time.Millisecond)
	<-m.slot
	wg.Wait()
	assert.ErrorIs(t, errs[0], boom)
	assert.ErrorIs(t, errs[1], boom)
	assert.Equal(t, int32(1), calls.Load(), "one call for the round")
	assert.Equal(t, []int{1}, counts(m.View()))
}

// A push whose context ends while the round it joined is on its way to
// Slack cannot take its counts back: it waits for the call and returns
// Slack's answer, here a refusal, like the push that sent it.
func TestAPushThatGivesUpDuringTheCallGetsItsAnswer(t *testing.T) {
	tr := New(cfg, nil)
	m := tr.Register("d", "C1", "1.1", t0, entries("a"), 0, 0)
	_, a := tr.Live("d", "a", t0)
	boom := errors.New("message_not_found")
	sending, release := make(chan context.Context, 1), make(chan struct{})
	send := func(ctx context.Context, _ *Message, _ []*group.Entry) error {
		sending <- ctx
		<-release
		return boom
	}
	m.slot <- struct{}{} // hold the slot until both pushes have joined the round
	ctxs := make([]context.Context, 2)
	cancels := make([]context.CancelFunc, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range ctxs {
		ctxs[i], cancels[i] = context.WithCancel(context.Background())
		defer cancels[i]()
		wg.Go(func() { errs[i] = m.Update(ctxs[i], []Add{{Line: a, Count: i + 1}}, send) })
	}
	require.Eventually(t, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.pending != nil && len(m.pending.joins) == 2
	}, 5*time.Second, time.Millisecond)
	<-m.slot
	sender := <-sending // the round, both pushes in it, is on its way
	for i, ctx := range ctxs {
		if ctx != sender {
			cancels[i]() // the other push gives up
		}
	}
	time.Sleep(50 * time.Millisecond) // let it notice, while the call is still on its way
	close(release)
	wg.Wait()
	assert.ErrorIs(t, errs[0], boom)
	assert.ErrorIs(t, errs[1], boom)
}
