package mutes

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/slackexporter/slackexporter/internal/memstorage"
	"github.com/slackexporter/slackexporter/internal/render"
)

var t0 = time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)

func client(t *testing.T, ext storage.Extension) storage.Client {
	t.Helper()
	c, err := ext.GetClient(context.Background(), component.KindExporter, component.MustNewID("slack"), "mutes")
	require.NoError(t, err)
	return c
}

func TestAMuteHoldsUntilItsEndThenShowsAsEnded(t *testing.T) {
	b := New(nil, 10)
	ctx := context.Background()
	k := Key{"C0ALERTS", "fp1"}
	require.NoError(t, b.Mute(ctx, k, "alerts", "U0ONCALL", t0, t0.Add(time.Hour)))
	assert.True(t, b.Muted(k, t0))
	assert.True(t, b.Muted(k, t0.Add(time.Hour-time.Nanosecond)))
	assert.False(t, b.Muted(k, t0.Add(time.Hour)), "ends at its end")
	assert.False(t, b.Muted(Key{"C0ALERTS", "fp2"}, t0), "another fingerprint")
	assert.False(t, b.Muted(Key{"C0OTHER", "fp1"}, t0), "another channel")

	assert.Equal(t, "U0ONCALL", b.State(k, t0).MutedBy)
	ended := b.State(k, t0.Add(time.Hour))
	assert.True(t, ended.MutedUntil.IsZero())
	assert.Empty(t, ended.MutedBy)
	assert.Equal(t, t0.Add(time.Hour), ended.MuteEnded)

	assert.Empty(t, b.Ended(t0, t0.Add(time.Hour-time.Nanosecond)))
	assert.Equal(t, []Key{k}, b.Ended(t0, t0.Add(time.Hour)))
	assert.Empty(t, b.Ended(t0.Add(time.Hour), t0.Add(2*time.Hour)), "listed once")
	assert.Equal(t, "C0ALERTS", b.ChannelID("alerts"))
	assert.Empty(t, b.ChannelID("other"))
}

func TestUnmuteAndAcknowledge(t *testing.T) {
	b := New(nil, 10)
	ctx := context.Background()
	k := Key{"C0ALERTS", "fp1"}
	require.NoError(t, b.Unmute(ctx, k, "", "U0OTHER", t0))
	assert.Empty(t, b.State(k, t0).UnmutedBy, "nothing to unmute")
	require.NoError(t, b.Mute(ctx, k, "", "U0ONCALL", t0, t0.Add(time.Hour)))
	require.NoError(t, b.Ack(ctx, k, "", "U0ACK", t0))
	require.NoError(t, b.Unmute(ctx, k, "", "U0OTHER", t0.Add(time.Minute)))
	st := b.State(k, t0.Add(time.Minute))
	assert.False(t, b.Muted(k, t0.Add(time.Minute)))
	assert.Equal(t, "U0OTHER", st.UnmutedBy)
	assert.Equal(t, t0.Add(time.Minute), st.MuteEnded)
	assert.Equal(t, "U0ACK", st.AckedBy, "an acknowledgement outlives the mute")
	assert.Empty(t, b.Ended(t0, t0.Add(2*time.Hour)), "an unmuted mute does not also run out")

	require.NoError(t, b.Mute(ctx, k, "", "U0ONCALL", t0.Add(2*time.Minute), t0.Add(time.Hour)))
	st = b.State(k, t0.Add(2*time.Minute))
	assert.Empty(t, st.UnmutedBy, "a new mute clears the old Unmute")
	assert.True(t, st.MuteEnded.IsZero())
}

func TestTheBookSurvivesARestartThroughStorage(t *testing.T) {
	ext := memstorage.New()
	ctx := context.Background()
	b := New(client(t, ext), 10)
	require.NoError(t, b.Load(ctx), "an empty storage is an empty book")
	k := Key{"C0ALERTS", "fp1"}
	require.NoError(t, b.Mute(ctx, k, "alerts", "U0ONCALL", t0, t0.Add(time.Hour)))
	require.NoError(t, b.Ack(ctx, Key{"C0ALERTS", "fp2"}, "alerts", "U0ACK", t0))
	require.NoError(t, b.Close(ctx))

	again := New(client(t, ext), 10)
	require.NoError(t, again.Load(ctx))
	assert.True(t, again.Muted(k, t0.Add(time.Minute)))
	assert.Equal(t, "U0ACK", again.State(Key{"C0ALERTS", "fp2"}, t0).AckedBy)
	assert.Equal(t, "C0ALERTS", again.ChannelID("alerts"), "a channel's name is known again before anything is posted there")

	c := client(t, ext)
	require.NoError(t, c.Set(ctx, storageKey, []byte("{not json")))
	assert.Error(t, New(c, 10).Load(ctx))
}

func TestTheBookKeepsMutesInForceWhenItIsFull(t *testing.T) {
	b := New(nil, 3)
	ctx := context.Background()
	muted := Key{"C0", "muted"}
	require.NoError(t, b.Mute(ctx, muted, "", "U0A", t0, t0.Add(24*time.Hour)))
	for i := range 5 {
		require.NoError(t, b.Ack(ctx, Key{"C0", fmt.Sprint("ack", i)}, "", "U0A", t0.Add(time.Duration(i+1)*time.Minute)))
	}
	assert.Len(t, b.byKey, 3)
	assert.True(t, b.Muted(muted, t0.Add(time.Hour)), "the oldest change, but still in force")
	assert.Equal(t, "U0A", b.State(Key{"C0", "ack4"}, t0).AckedBy, "the newest kept")
	assert.Empty(t, b.State(Key{"C0", "ack0"}, t0).AckedBy, "the oldest dropped")
}

func TestRestoreNeverOverridesWhatTheBookKnows(t *testing.T) {
	b := New(nil, 10)
	ctx := context.Background()
	k := Key{"C0ALERTS", "fp1"}
	require.NoError(t, b.Restore(ctx, k, "alerts", "U0ONCALL", t0, t0.Add(time.Hour)))
	assert.True(t, b.Muted(k, t0.Add(time.Minute)), "read back from the previous owner's message")
	assert.Equal(t, "C0ALERTS", b.ChannelID("alerts"))

	require.NoError(t, b.Unmute(ctx, k, "", "U0OTHER", t0.Add(time.Minute)))
	require.NoError(t, b.Restore(ctx, k, "alerts", "U0ONCALL", t0.Add(2*time.Minute), t0.Add(time.Hour)))
	assert.False(t, b.Muted(k, t0.Add(3*time.Minute)), "an Unmute here is newer than the message")

	ended := Key{"C0ALERTS", "fp2"}
	require.NoError(t, b.Restore(ctx, ended, "alerts", "U0ONCALL", t0.Add(time.Hour), t0.Add(time.Hour)))
	assert.Equal(t, render.EntryState{}, b.State(ended, t0), "a mute that has run out is not brought back")
}

func TestAnInMemoryBookClosesWithNothingToRelease(t *testing.T) {
	assert.NoError(t, New(nil, 1).Close(context.Background()))
}
