package slackexporter

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/memstorage"
	"github.com/slackexporter/slackexporter/internal/metadata"
)

// Issue #11: pushes from different queue consumers that wait for the same
// slot go out as one message, with threads and without, and identical
// records from different pushes are one entry.
func TestPushesWaitingForOneSlotShareOneMessage(t *testing.T) {
	for _, threadsOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("threads=%v", threadsOn), func(t *testing.T) {
			emu, srv := emulator(t, nil)
			cfg := tokenConfig(srv)
			cfg.Threads.Enabled = &threadsOn
			cfg.RateLimit = RateLimitConfig{PerSecond: 2, Burst: 1} // the next slot ~510ms after the first
			cfg.Timeout = 5 * time.Second
			e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
			defer cancel()
			require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "the first takes the slot" }))))

			var wg sync.WaitGroup
			for i := range 6 {
				wg.Go(func() {
					ld := errorRecords(3, func(j int) string {
						if j == 0 {
							return "shared by every push"
						}
						return fmt.Sprintf("push %c record %c", 'a'+i, 'a'+j)
					})
					assert.NoError(t, e.push(ctx, e.selectRecords(ctx, ld)))
				})
			}
			wg.Wait()
			msgs := messagesIn(emu, "#alerts")
			require.Len(t, msgs, 2, "six pushes waiting for one slot: one message")
			text := shown(t, msgs[1])
			assert.Contains(t, text, "×6", "the record all six pushes carried is one entry")
			assert.Equal(t, 18, recordsShown(t, msgs[1]))
		})
	}
}

// A push whose deadline comes before the slot hands its records back; the
// others go out together.
func TestAPushWithoutTimeForTheSlotIsHandedBack(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := tokenConfig(srv)
	cfg.RateLimit = RateLimitConfig{PerSecond: 1, Burst: 1}
	cfg.Timeout = 4 * time.Second
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	long, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	require.NoError(t, e.push(long, e.selectRecords(long, errorRecords(1, func(int) string { return "first" }))))

	short, cancelShort := context.WithTimeout(context.Background(), 1200*time.Millisecond) // the slot: ~1s; the call needs 2s
	defer cancelShort()
	var shortErr, longErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		shortErr = e.push(short, e.selectRecords(short, errorRecords(1, func(int) string { return "short" })))
	})
	wg.Go(func() {
		longErr = e.push(long, e.selectRecords(long, errorRecords(1, func(int) string { return "long" })))
	})
	wg.Wait()
	require.Error(t, shortErr, "its records come back for a retry")
	require.NoError(t, longErr)
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 2)
	assert.Contains(t, shown(t, msgs[1]), "long")
	assert.NotContains(t, shown(t, msgs[1]), "short")
}

// Found by TestDeliveryInvariants: when two fingerprints of one live
// message were folded into a new message, the message was saved after the
// first was marked seen and not after the second; after a restart the
// second was called quiet although its records had just reached Slack.
func TestFoldedRepeatsKeepTheirLinesAliveAcrossARestart(t *testing.T) {
	_, srv := emulator(t, nil)
	storageID := component.MustNewID("file_storage")
	host := hostWith{storageID: memstorage.New()}
	cfg := tokenConfig(srv)
	cfg.Threads.Storage = &storageID
	cfg.Threads.UpdatesPerMinute = 0.01 // a burst of 3 updates, then none for hours
	cfg.RateLimit = RateLimitConfig{PerSecond: 100, Burst: 1}
	cfg.Grouping.Mask = false
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	startAt := func() *slackExporter {
		e, err := newSlackExporter(cfg, exportertest.NewNopSettings(metadata.Type))
		require.NoError(t, err)
		e.now = func() time.Time { return clock }
		require.NoError(t, e.start(context.Background(), host))
		return e
	}
	ctx := context.Background()
	e := startAt()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(2, func(i int) string { return []string{"quiet one", "quiet two"}[i] }))))
	for range 3 { // spend the update budget
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "quiet one" }))))
	}
	clock = clock.Add(10 * time.Minute)
	// The two repeat with 30 errors that fill the message first: no update
	// budget, so they are posted anew, and folded.
	var recs []rec
	for i := range 30 {
		recs = append(recs, copies(2, rec{"checkout", "dev", plog.SeverityNumberError, fmt.Sprintf("filler %c%c", 'a'+i/26, 'a'+i%26)})...)
	}
	recs = append(recs, rec{"checkout", "dev", plog.SeverityNumberError, "quiet one"}, rec{"checkout", "dev", plog.SeverityNumberError, "quiet two"})
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, logsOf(recs...))))
	require.NoError(t, e.shutdown(ctx))

	clock = clock.Add(6 * time.Minute) // 16 minutes after the first post, 6 after the last records
	restarted := startAt()
	defer func() { require.NoError(t, restarted.shutdown(ctx)) }()
	for _, m := range restarted.tracker.GoingQuiet(clock) {
		assert.Empty(t, restarted.tracker.QuietMarks(m, clock), "records folded 6 minutes ago: nothing is quiet")
	}
}
