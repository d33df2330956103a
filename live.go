package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/slackexporter/slackexporter/internal/fleet"
	"github.com/slackexporter/slackexporter/internal/group"
	"github.com/slackexporter/slackexporter/internal/slackclient"
	"github.com/slackexporter/slackexporter/internal/threads"
)

// updateBurst lets a few counters refresh at once after a quiet spell,
// within Slack's tier-3 budget for chat.update.
const updateBurst = 3

// repeat is a share whose fingerprint already has a live message.
type repeat struct {
	msg   *threads.Message
	line  *threads.Line
	share *share
}

// deliverThreaded delivers a destination's shares with threads: repeats
// update their live message; new fingerprints, and repeats whose update
// cannot go out soon, go to the outbox, which posts them or, if another push
// posted them meanwhile, updates that message.
func (d *destination) deliverThreaded(ctx context.Context, shares []*share) {
	now := d.now()
	fresh, repeats := d.partition(shares, now)
	updated, overflow := d.updateLive(ctx, repeats, now, recordsOf(shares))
	d.post(ctx, append(fresh, sharesOfRepeats(overflow)...))
	d.replySamples(ctx, updated, now)
}

// recordsOf is how many records shares carry.
func recordsOf(shares []*share) int {
	n := 0
	for _, s := range shares {
		n += s.entry.Count
	}
	return n
}

// partition splits shares into those with no live message in dest and the
// repeats of fingerprints Slack already shows. A share is not a repeat of
// the message its update failed on: it is posted anew.
func (d *destination) partition(shares []*share, now time.Time) (fresh []*share, repeats []repeat) {
	for _, s := range shares {
		if m, l := d.tracker.Live(d.key, s.entry.Fingerprint, now); m != nil && m != s.notOn {
			repeats = append(repeats, repeat{msg: m, line: l, share: s})
		} else {
			fresh = append(fresh, s)
		}
	}
	return fresh, repeats
}

// sharesOfRepeats are the shares of repeats whose update did not go out,
// marked so that they are not tried on the same message again.
func sharesOfRepeats(repeats []repeat) []*share {
	out := make([]*share, len(repeats))
	for i, r := range repeats {
		r.share.notOn = r.msg
		out[i] = r.share
	}
	return out
}

// updateLive adds the repeats' counts to their live messages, all at once,
// and returns when Slack shows them: the repeats it updated, and those to
// post as new messages instead: those whose message has no update slot
// within repeatWait (a storm touching more messages than the update budget
// covers), no longer counts their fingerprint, or can no longer be updated.
// pushed is how many records the shares of the push (or the outbox's
// gathering) hold.
// Other failures are handed back for a retry.
func (d *destination) updateLive(ctx context.Context, repeats []repeat, now time.Time, pushed int) (updated, overflow []repeat) {
	byMsg := map[*threads.Message][]repeat{}
	for _, r := range repeats {
		byMsg[r.msg] = append(byMsg[r.msg], r)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for m, rs := range byMsg {
		wg.Go(func() {
			adds := make([]threads.Add, len(rs))
			records := 0
			for i, r := range rs {
				entry := r.share.entry
				adds[i] = threads.Add{Line: r.line, Count: entry.Count, First: entry.First, Last: entry.Last, Seen: now, Sample: entry}
				records += entry.Count
			}
			err := m.UpdateWhenReady(ctx, adds, d.updateBudget(d.repeatWait(records, pushed)), d.sendUpdate())
			switch {
			case err == nil:
				// These records reached Slack only as a higher count.
				d.delivered(ctx, records, records)
				d.remember(m)
				mu.Lock()
				updated = append(updated, rs...)
				mu.Unlock()
			case d.updateFailed(m, err):
				mu.Lock()
				overflow = append(overflow, rs...)
				mu.Unlock()
			default:
				for _, r := range rs {
					fail(d, err, r.share)
				}
			}
		})
	}
	wg.Wait()
	return updated, overflow
}

// updateFailed says what a failed update of m means for the records it
// carried: look their fingerprints up again and post those with no live
// message (true) when m no longer counts them, can no longer be updated
// (which forgets it), or has no update slot in time; retry them (false)
// otherwise.
func (d *destination) updateFailed(m *threads.Message, err error) (postAnew bool) {
	if errors.Is(err, threads.ErrMoved) {
		return true
	}
	var se *slackclient.Error
	if errors.As(err, &se) && se.Class == slackclient.Permanent {
		// Deleted, archived, or too old to edit: its fingerprints start
		// anew, and nothing tries to update it again.
		d.logger.Info("A live message can no longer be updated; its fingerprints are posted anew",
			zap.String("destination", d.name), zap.String("slack_error", se.Code))
		d.tracker.Forget(m)
		return true
	}
	var wait *slackclient.WaitTooLongError
	return errors.As(err, &wait)
}

// callTime is the part of the timeout kept for a call to Slack itself: a
// post or an update takes a rate-limit slot only when at least this much
// of its context is left, so that Slack does not act on a call whose
// caller has given up (and whose retry would post it twice).
func (w *workspace) callTime() time.Duration {
	return w.cfg.Timeout / 2
}

// updateWait is the longest a redraw waits for the update budget: the
// rest of the timeout, once the call's share is kept.
func (w *workspace) updateWait() time.Duration {
	return w.cfg.Timeout - w.callTime()
}

// repeatWait is how long the repeats of one live message wait for the
// update budget before they are posted as a new message instead. Slack's
// budget (about 50 updates a minute for the workspace) keeps few messages
// current in a storm, so it goes to those that carry the storm: repeats
// holding at least a tenth of their push's records wait as long as the
// timeout allows, and stay in one message; the others wait one post
// interval of the channel (1 s by default), after which posting is sooner.
// Waiting for every message alike held the queue consumers until the storm
// drained at the pace of updates (BENCHMARKS.md's storm of 1,000
// fingerprints: 36 s and 66 messages, against 12 s and 39).
func (w *workspace) repeatWait(records, pushed int) time.Duration {
	if records*10 >= pushed {
		return w.updateWait()
	}
	postInterval := time.Duration(float64(time.Second) / w.cfg.RateLimit.PerSecond)
	return min(w.updateWait(), postInterval)
}

// updateBudget waits, at most maxWait, for the workspace's chat.update
// budget: the right for a round of updates to go out.
func (w *workspace) updateBudget(maxWait time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := w.updates.Wait(ctx, maxWait, w.callTime()); err != nil {
			// No call was made: another push in the round may have the
			// time this one lacks.
			return fmt.Errorf("%w: %w", threads.ErrNotSent, err)
		}
		return nil
	}
}

// sendUpdate is how a live message's new counts reach Slack: chat.update.
func (d *destination) sendUpdate() threads.SendFunc {
	return func(ctx context.Context, m *threads.Message, view []*group.Entry) error {
		msg := d.layout.Live(view, m.Folded, m.FoldedGroups)
		err := d.api.Update(ctx, slackclient.Ref{ChannelID: m.ChannelID, TS: m.TS}, msg.Text, msg.Blocks, msg.Metadata)
		if err != nil {
			d.apiError(ctx, d.updates, err)
		}
		return err
	}
}

// replySamples posts a sample of a repeating fingerprint in its thread, at
// most every threads.reply_every, and only when the channel has a free
// slot: a reply is a courtesy, its records are already counted. It never
// carries the destination's mention: that belongs to the top-level post.
func (d *destination) replySamples(ctx context.Context, repeats []repeat, now time.Time) {
	for _, r := range repeats {
		if d.limiter.Available() < 1 || !d.tracker.ReplyDue(r.msg, r.line, now) {
			continue
		}
		if err := d.limiter.Wait(ctx, 0, d.callTime()); err != nil {
			return // taken meanwhile: a reply never waits for a slot
		}
		msg := d.layout.WithoutMention().Messages([]*group.Entry{r.share.entry}, 1)[0]
		if _, err := d.api.Post(ctx, r.msg.ChannelID, r.msg.TS, msg.Text, msg.Blocks, nil); err != nil {
			d.apiError(ctx, d.limiter, err)
			d.logger.Debug("A sample reply failed", zap.String("destination", d.name), zap.Error(err))
			continue
		}
		d.telemetry.ExporterSlackMessagesSent.Add(ctx, 1)
	}
}

// remember saves a live message to storage, when there is one.
func (w *workspace) remember(m *threads.Message) {
	w.tracker.Touch(m)
	if w.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.store.Save(ctx, m); err != nil {
		w.logger.Warn("Could not save a live message; after a restart its fingerprints will be posted anew", zap.Error(err))
	}
}

// forget deletes a message the tracker dropped from storage.
func (w *workspace) forget(m *threads.Message) {
	if w.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.store.Delete(ctx, m); err != nil {
		w.logger.Debug("Could not delete a forgotten live message from storage", zap.Error(err))
	}
}

func (e *slackExporter) startThreads(ctx context.Context, host component.Host) error {
	if id := e.cfg.Threads.Storage; id != nil {
		ext, ok := host.GetExtensions()[*id]
		if !ok {
			return fmt.Errorf("threads.storage: no extension %q in the service's extensions", id)
		}
		se, ok := ext.(storage.Extension)
		if !ok {
			return fmt.Errorf("threads.storage: extension %q is not a storage extension", id)
		}
		client, err := se.GetClient(ctx, component.KindExporter, e.id, "threads")
		if err != nil {
			return fmt.Errorf("threads.storage: %w", err)
		}
		e.store = threads.NewStore(client)
		msgs, err := e.store.Load(ctx)
		if err != nil {
			e.logger.Warn("Some saved live messages could not be read; their fingerprints will be posted anew", zap.Error(err))
		}
		for _, m := range msgs {
			if e.dests.known(m.Dest) {
				e.tracker.Restore(m)
			}
		}
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	e.stopQuiet, e.quietDone = cancel, make(chan struct{})
	go e.quietLoop(loopCtx)
	return e.startFleet(ctx)
}

// startFleet watches the gateways' consumer group (threads.fleet): each
// gateway spends its share of the workspace's chat.update budget, and after
// any change in the group, which may have handed a channel away and back,
// reads each channel back before delivering there again.
func (e *slackExporter) startFleet(ctx context.Context) error {
	f := e.cfg.Threads.Fleet
	if f == nil {
		return nil
	}
	budget := e.cfg.Threads.UpdatesPerMinute
	w, err := fleet.New(fleet.Config{Brokers: f.Brokers, Group: f.GroupID, Interval: fleetPollInterval(f)}, e.logger, func(v fleet.View) {
		share := budget / float64(v.Members)
		e.updates.SetRate(share / 60)
		if v.Stable {
			e.logger.Info("The fleet's consumer group changed: channels are read back before their next delivery",
				zap.Int("gateways", v.Members), zap.Float64("updates_per_minute", share))
		}
		e.rebalanced()
	})
	if err != nil {
		return fmt.Errorf("threads.fleet: %w", err)
	}
	if err := w.Start(ctx); err != nil {
		return fmt.Errorf("threads.fleet: %w", err)
	}
	e.fleet = w
	return nil
}

func (e *slackExporter) stopThreads(ctx context.Context) error {
	if e.fleet != nil {
		if err := e.fleet.Shutdown(ctx); err != nil {
			return err
		}
	}
	if e.stopQuiet != nil {
		e.stopQuiet()
		<-e.quietDone
	}
	if e.store != nil {
		return e.store.Close(ctx)
	}
	return nil
}

// quietLoop tells Slack, once, when a fingerprint has had no records for
// threads.quiet_after, the way an alert resolves.
func (e *slackExporter) quietLoop(ctx context.Context) {
	defer close(e.quietDone)
	tick := time.NewTicker(max(min(e.cfg.Threads.QuietAfter/4, 30*time.Second), 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			e.markQuiet(ctx, e.now())
		}
	}
}

// markQuiet marks the lines that have gone quiet by now. A message that can
// no longer be updated is forgotten; other failures are tried again at the
// next tick.
func (e *slackExporter) markQuiet(ctx context.Context, now time.Time) {
	read := map[*destination]bool{}
	for _, m := range e.tracker.GoingQuiet(now) {
		d := e.dests.acquire(m.Dest)
		if d == nil || d.api == nil {
			e.dests.release(d)
			continue
		}
		callCtx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
		if e.cfg.Threads.RestoreFromSlack && !read[d] {
			// This process may have lost the channel to another gateway,
			// which counted on in m since: read it back first (once a
			// tick), so that a stale copy is replaced (and this mark turned
			// away) rather than lowering what Slack shows.
			d.readBackNow(callCtx, now)
			read[d] = true
		}
		err := m.UpdateWhenReady(callCtx, e.tracker.QuietMarks(m, now), e.updateBudget(e.updateWait()), d.sendUpdate())
		cancel()
		e.dests.release(d)
		if err != nil {
			d.updateFailed(m, err)
			e.logger.Debug("Could not mark a fingerprint quiet", zap.String("destination", d.name), zap.Error(err))
			continue
		}
		e.remember(m)
	}
}
