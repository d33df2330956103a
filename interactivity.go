package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/slackexporter/slackexporter/internal/mutes"
	"github.com/slackexporter/slackexporter/internal/render"
	"github.com/slackexporter/slackexporter/internal/threads"
)

// maxMuteKeys bounds the mutes and acknowledgements remembered.
const maxMuteKeys = 10_000

// interactive gives d's entries the Mute / Acknowledge menu, when
// interactivity is on and d is a channel.
func (e *slackExporter) interactive(d *destination) *destination {
	if e.mutes == nil || d == nil || d.api == nil {
		return d
	}
	l := *d.layout
	l.Actions = &render.Actions{
		MuteDurations: e.cfg.Interactivity.Get().MuteDurations,
		State: func(fingerprint string) render.EntryState {
			ch := d.muteChannel()
			if ch == "" {
				return render.EntryState{}
			}
			return e.mutes.State(mutes.Key{Channel: ch, Fingerprint: fingerprint}, e.now())
		},
	}
	d.layout = &l
	return d
}

// muteChannel is the id of the channel d posts to, as clicks name it, or ""
// while it is not known: no post there yet, and no click named it.
func (d *destination) muteChannel() string {
	if id, _ := d.readState.channelID.Load().(string); id != "" {
		return id
	}
	name := strings.TrimPrefix(d.postChannel, "#")
	if id := d.mutes.ChannelID(name); id != "" {
		return id
	}
	if looksLikeChannelID(name) {
		return name
	}
	return ""
}

// looksLikeChannelID: public (C), private (G) or direct (D) channel ids.
func looksLikeChannelID(s string) bool {
	return len(s) >= 9 && strings.ContainsRune("CGD", rune(s[0])) && strings.ToUpper(s) == s
}

// withoutMuted takes out of shares the fingerprints muted in d's channel:
// their records are counted as muted, not posted, not retried. Their
// lines stay awake, so a muted storm is not called quiet.
func (d *destination) withoutMuted(ctx context.Context, shares []*share) []*share {
	if d.mutes == nil || d.api == nil {
		return shares
	}
	ch := d.muteChannel()
	if ch == "" {
		return shares
	}
	now := d.now()
	muted := 0
	shares = slices.DeleteFunc(shares, func(s *share) bool {
		if !d.mutes.Muted(mutes.Key{Channel: ch, Fingerprint: s.entry.Fingerprint}, now) {
			return false
		}
		muted += s.entry.Count
		if d.tracker != nil {
			d.tracker.Seen(d.key, s.entry.Fingerprint, now)
		}
		return true
	})
	if muted > 0 {
		d.telemetry.ExporterSlackRecordsMuted.Add(ctx, int64(muted))
	}
	return shares
}

// errUnknownMessage: a click on a message this exporter did not post.
var errUnknownMessage = errors.New("not a message of this exporter")

// click is one action someone took on an entry, as the transports read it.
type click struct {
	user                   string
	channelID, channelName string
	messageTS              string
	blockID, actionID      string
	value                  string
	// eventType is the clicked message's metadata event type, when the
	// payload carries it.
	eventType string
}

// applyClick records what a click decided and refreshes the entries that
// show it. It returns quickly: Slack wants an answer within 3 s, and the
// refresh waits for the update budget.
func (e *slackExporter) applyClick(ctx context.Context, c click) error {
	fp, err := e.checkClick(c)
	if err != nil {
		return err
	}
	return e.apply(ctx, c, fp, e.now())
}

// checkClick returns the fingerprint of the entry c is on, or
// errUnknownMessage when c is not a choice a menu of ours offered.
func (e *slackExporter) checkClick(c click) (string, error) {
	fp, ok := render.EntryFingerprint(c.blockID)
	if !ok || c.actionID != render.ActionID || c.channelID == "" || !render.IsUserID(c.user) {
		return "", errUnknownMessage
	}
	if c.eventType != "" && c.eventType != render.EventType {
		return "", errUnknownMessage
	}
	// A relay hands the click to the channel's owner, which this process
	// may not be: it cannot look the message up.
	if c.eventType == "" && e.relay == nil && e.tracker != nil && len(e.tracker.Showing(c.channelID, fp)) == 0 {
		return "", errUnknownMessage
	}
	switch c.value {
	case render.ValueAck, render.ValueUnmute:
		return fp, nil
	}
	if d, ok := render.ParseMute(c.value); !ok || d > slices.Max(e.cfg.Interactivity.Get().MuteDurations) {
		return "", errUnknownMessage
	}
	return fp, nil
}

// apply records a checked click made at at: a mute runs from when it was
// clicked, however late a relay brings it.
func (e *slackExporter) apply(ctx context.Context, c click, fp string, at time.Time) error {
	k := mutes.Key{Channel: c.channelID, Fingerprint: fp}
	var err error
	switch c.value {
	case render.ValueAck:
		err = e.mutes.Ack(ctx, k, c.channelName, c.user, at)
	case render.ValueUnmute:
		err = e.mutes.Unmute(ctx, k, c.channelName, c.user, at)
	default:
		d, _ := render.ParseMute(c.value)
		err = e.mutes.Mute(ctx, k, c.channelName, c.user, at, at.Add(d))
	}
	if err != nil {
		// In force here, but lost at a restart.
		e.logger.Warn("Could not save a mute or acknowledgement", zap.Error(err))
	}
	e.logger.Info("An entry was changed from Slack", zap.String("channel_id", c.channelID),
		zap.String("fingerprint", fp), zap.String("action", c.value), zap.String("user", c.user))
	e.refreshing.Go(func() { e.refresh(k) })
	return nil
}

// refresh updates the live messages that show k, so that their entry says
// who muted or acknowledged it.
func (e *slackExporter) refresh(k mutes.Key) {
	if e.tracker == nil || e.muteCtx.Err() != nil {
		return
	}
	if e.cfg.Threads.RestoreFromSlack {
		// This process may have lost the channel to another gateway,
		// which counted on since: its copy would put the old counts back.
		// Reading the channel back replaces the copy (as for a quiet mark).
		e.readBackShowing(k)
	}
	for _, m := range e.tracker.Showing(k.Channel, k.Fingerprint) {
		e.refreshMessage(m)
	}
}

// readBackShowing reads back the channels of the messages showing k.
func (e *slackExporter) readBackShowing(k mutes.Key) {
	seen := map[string]bool{}
	for _, m := range e.tracker.Showing(k.Channel, k.Fingerprint) {
		if seen[m.Dest] {
			continue
		}
		seen[m.Dest] = true
		d := e.dests.acquire(m.Dest)
		if d != nil {
			ctx, cancel := context.WithTimeout(e.muteCtx, e.cfg.Timeout)
			d.readBackNow(ctx, e.now())
			cancel()
		}
		e.dests.release(d)
	}
}

func (e *slackExporter) refreshMessage(m *threads.Message) {
	d := e.dests.acquire(m.Dest)
	defer e.dests.release(d)
	if d == nil || d.api == nil {
		return
	}
	ctx, cancel := context.WithTimeout(e.muteCtx, e.cfg.Timeout)
	defer cancel()
	if err := m.UpdateWhenReady(ctx, nil, e.updateBudget(e.updateWait()), d.sendUpdate()); err != nil {
		e.logger.Debug("Could not show a change from Slack on its message", zap.String("destination", d.name), zap.Error(err))
	}
}

// muteLoop shows, once, on each entry whose mute ran out, that it did.
func (e *slackExporter) muteLoop(ctx context.Context, since time.Time) {
	defer close(e.muteDone)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			now := e.now()
			for _, k := range e.mutes.Ended(since, now) {
				e.refresh(k)
			}
			since = now
		}
	}
}

// startMutes opens the book of mutes, from interactivity.storage when set.
func (e *slackExporter) startMutes(ctx context.Context, host component.Host) error {
	ic := e.cfg.Interactivity.Get()
	var client storage.Client
	if id := ic.Storage; id != nil {
		ext, ok := host.GetExtensions()[*id]
		if !ok {
			return fmt.Errorf("interactivity.storage: no extension %q in the service's extensions", id)
		}
		se, ok := ext.(storage.Extension)
		if !ok {
			return fmt.Errorf("interactivity.storage: extension %q is not a storage extension", id)
		}
		var err error
		if client, err = se.GetClient(ctx, component.KindExporter, e.id, "mutes"); err != nil {
			return fmt.Errorf("interactivity.storage: %w", err)
		}
	}
	e.mutes = mutes.New(client, maxMuteKeys)
	if err := e.mutes.Load(ctx); err != nil {
		e.logger.Warn("Saved mutes could not be read; they are not in force", zap.Error(err))
	}
	return nil
}

// startInteractivity starts the loop that shows ended mutes and the
// receivers of clicks.
func (e *slackExporter) startInteractivity(ctx context.Context, host component.Host) error {
	since := e.now()
	if e.tracker != nil {
		// Mutes that ran out while the collector was down: their live
		// messages still say muted.
		since = since.Add(-e.cfg.Threads.Window)
	}
	e.muteCtx, e.stopMutes = context.WithCancel(context.Background())
	e.muteDone = make(chan struct{})
	go e.muteLoop(e.muteCtx, since)
	return e.startReceivers(ctx, host)
}

func (e *slackExporter) stopInteractivity(ctx context.Context) error {
	var errs []error
	// Last started, first stopped: no receiver outlives the relay.
	for _, stop := range slices.Backward(e.receivers) {
		errs = append(errs, stop(ctx))
	}
	if e.stopMutes != nil {
		// Redraws still on their way give up: shutdown must not wait for
		// the update budget.
		e.stopMutes()
		<-e.muteDone
		e.refreshing.Wait()
	}
	if e.mutes != nil {
		errs = append(errs, e.mutes.Close(ctx))
	}
	return errors.Join(errs...)
}
