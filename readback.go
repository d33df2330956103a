package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/slackexporter/slackexporter/internal/dynchannel"
	"github.com/slackexporter/slackexporter/internal/mutes"
	"github.com/slackexporter/slackexporter/internal/render"
)

// readBackAfterIdle: with threads.restore_from_slack, a channel this
// process has not delivered to for this long is read back from Slack
// before it delivers there again. A channel taken over from another
// gateway is idle here for at least a consumer-group rebalance; a busy
// channel is read once.
const readBackAfterIdle = 5 * time.Second

// readBackState is a destination's last delivery, guarded so that the
// pushes arriving together read the channel once.
type readBackState struct {
	mu         sync.Mutex
	lastActive time.Time
	// generation is the fleet's rebalance count at the last read: a
	// rebalance since may have handed the channel away and back within
	// readBackAfterIdle.
	generation uint64
	// channelID is the id Slack answered a post here with.
	channelID atomic.Value // string
}

// destinationTag names a destination in message metadata without showing
// its key (which holds a webhook's hash or a mention).
func destinationTag(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// rebalanced tells the exporter that its fleet's consumer group changed:
// any channel may have been handed to another gateway and back, so each is
// read back from Slack before this process delivers there again.
func (e *slackExporter) rebalanced() {
	e.rebalances.Add(1)
}

// readBack adopts the live messages of d's channel that Slack shows and
// this process does not know as they are now: those another gateway
// posted or updated while it owned the channel. A failed read is logged
// and delivery goes on: a second message is better than a late alert.
func (d *destination) readBack(ctx context.Context, now time.Time) {
	d.read(ctx, now, false)
}

// readBackNow reads d's channel back whatever this process did there
// lately: before a redraw no record asked for (a quiet mark, a mute's
// end), which a gateway that lost the channel would otherwise make from
// its old copy, over what the new owner showed since.
func (d *destination) readBackNow(ctx context.Context, now time.Time) {
	d.read(ctx, now, true)
}

func (d *destination) read(ctx context.Context, now time.Time, always bool) {
	if d.api == nil || d.postChannel == "" {
		return
	}
	d.readState.mu.Lock()
	defer d.readState.mu.Unlock()
	gen := d.rebalances.Load()
	idle := d.readState.lastActive.IsZero() || now.Sub(d.readState.lastActive) >= readBackAfterIdle
	stale := always || idle || d.readState.generation != gen
	d.readState.lastActive, d.readState.generation = now, gen
	if !stale {
		return
	}
	id, err := d.channelID(ctx)
	if err == nil && id == "" {
		return // a channel the bot cannot see: the post says why
	}
	var adopted int
	if err == nil {
		adopted, err = d.adoptRecent(ctx, id, now)
	}
	if err != nil {
		// Another gateway may have counted on in them since: updating
		// them from what this process holds could lower a count. Repeats
		// start new messages instead.
		d.tracker.ForgetDest(d.key)
		d.logger.Warn("Could not read the channel's live messages back from Slack; repeats start a new message",
			zap.String("destination", d.name), zap.Error(err))
		return
	}
	if adopted > 0 {
		d.logger.Info("Live messages read back from Slack", zap.String("destination", d.name), zap.Int("messages", adopted))
	}
}

// adoptRecent reads the channel's messages of the last threads.window and
// hands the tracker those of d. Oldest first, so the newest message of a
// fingerprint wins.
func (d *destination) adoptRecent(ctx context.Context, channelID string, now time.Time) (int, error) {
	msgs, err := d.api.Recent(ctx, channelID, now.Add(-d.cfg.Threads.Window))
	if err != nil {
		return 0, err
	}
	tag, adopted := destinationTag(d.key), 0
	var posts []time.Time
	defer func() {
		// Slack counts the previous owner's posts against the channel's
		// rate: a new owner starting with a whole burst would get a 429.
		d.limiter.Spent(posts)
	}()
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		s, ours, err := render.ReadBack(m.Metadata, m.Blocks.BlockSet)
		if ours {
			posts = append(posts, tsTime(m.Timestamp))
		}
		if !ours || s.Destination != tag {
			continue
		}
		if err != nil {
			d.logger.Debug("A message could not be read back", zap.String("destination", d.name), zap.String("ts", m.Timestamp), zap.Error(err))
			continue
		}
		if lm := d.tracker.Adopt(d.key, channelID, m.Timestamp, tsTime(m.Timestamp), now, s.Entries, s.Folded, s.FoldedGroups); lm != nil {
			d.remember(lm)
			adopted++
		}
		d.restoreMutes(ctx, channelID, s.Mutes, now)
	}
	return adopted, nil
}

// tsTime is when a Slack ts ("1700000000.123456") was posted.
func tsTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, _ := strconv.ParseInt(sec, 10, 64)
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000).UTC()
}

// channelIDs caches the workspace's channel ids by name, listed at most
// once a minute: conversations.history needs an id, and routes name
// channels.
type channelIDs struct {
	mu     sync.Mutex
	byName map[string]string
	listed time.Time
}

const channelListEvery = time.Minute

// channelID is d's channel id: the channel itself when it is one, else
// looked up by name; "" when the bot cannot see it.
func (d *destination) channelID(ctx context.Context) (string, error) {
	name := strings.ToLower(strings.TrimPrefix(d.postChannel, "#"))
	if dynchannel.IsID(d.postChannel) {
		return d.postChannel, nil
	}
	if id, ok := d.readState.channelID.Load().(string); ok {
		return id, nil
	}
	c := &d.channelIDs
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.byName[name]; ok {
		return id, nil
	}
	if !c.listed.IsZero() && time.Since(c.listed) < channelListEvery {
		return "", nil
	}
	c.listed = time.Now()
	ids, err := d.api.ChannelIDs(ctx)
	if err != nil {
		return "", err
	}
	c.byName = ids
	return ids[name], nil
}

// restoreMutes puts back the mutes a message read back from the previous
// owner shows: a gateway taking a channel over keeps them in force.
func (d *destination) restoreMutes(ctx context.Context, channelID string, ms []render.Mute, now time.Time) {
	if d.mutes == nil {
		return
	}
	name := strings.TrimPrefix(d.postChannel, "#")
	for _, m := range ms {
		if err := d.mutes.Restore(ctx, mutes.Key{Channel: channelID, Fingerprint: m.Fingerprint}, name, m.By, now, m.Until); err != nil {
			d.logger.Warn("Could not keep a mute read back from Slack", zap.Error(err))
		}
	}
}
