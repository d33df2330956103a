package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/slackexporter/slackexporter/internal/metadata"
	"github.com/slackexporter/slackexporter/internal/mutes"
	"github.com/slackexporter/slackexporter/internal/render"
	"github.com/slackexporter/slackexporter/internal/slackclient"
	"github.com/slackexporter/slackexporter/internal/threads"
)

// workspace is what the destinations of one Slack workspace share: the
// live messages' tracker (bounded across all of them), the workspace's
// chat.update budget, the book of mutes, the channel ids, and the
// exporter's telemetry.
type workspace struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	// now is the clock of live messages (windows, quiet marks); tests
	// move it forward.
	now func() time.Time

	// With threads: the live messages and where they are saved, and this
	// process's share of the workspace's chat.update budget.
	tracker *threads.Tracker
	store   *threads.Store
	updates *slackclient.Limiter
	// With interactivity: the mutes and acknowledgements.
	mutes *mutes.Book

	// dests holds the destinations by key: the configured ones, built at
	// start (HTTP clients need the host), and those templated channels
	// name, built when first needed.
	dests *registry
	// failed remembers the templated channels Slack refused lately.
	failed *failedChannels
	// channelIDs are the workspace's, for threads.restore_from_slack.
	channelIDs channelIDs
	// rebalances counts the changes seen in the fleet's consumer group.
	rebalances atomic.Uint64
}

// destination is one place messages go (a channel through the Web API, or
// a webhook) and the one owner of how they get there: its rate limiter,
// its poster and outbox, and, for a channel with threads, its live
// messages, read back from Slack when it takes the channel over. What
// destinations share belongs to the workspace.
type destination struct {
	*workspace

	key string // as queued records name it
	// name is safe to log: a channel name or which webhook, never its URL.
	name    string
	send    func(ctx context.Context, m render.Message) (slackclient.Ref, error)
	limiter *slackclient.Limiter
	// api is set for channels: updates and thread replies need it.
	api    *slackclient.WebAPI
	layout *render.Layout
	// outbox gathers what concurrent pushes post here, one poster at a
	// time, so a fingerprint is never posted twice and pushes waiting for
	// one slot share one message.
	outbox *outbox
	// readState is when this process last delivered here, for
	// threads.restore_from_slack.
	readState readBackState
	// postChannel is the channel its posts go to (a name or an id); ""
	// for a webhook.
	postChannel string

	// channel is the channel a templated route named (dynamic and
	// rerouted destinations only).
	channel string
	// dynamic: a templated channel, whose records go to the default
	// channel when Slack refuses it (see reroute).
	dynamic bool
	// rerouted makes this the default channel for the records of channel,
	// which Slack refused (with reroutedCode, as far as is known).
	rerouted     bool
	reroutedCode string
	refs         int  // pushes holding it (registry)
	provisional  bool // made for one use, not kept by the registry
}

// deliver takes one push's shares to Slack: it reads the channel back
// first when it may have been another gateway's, leaves out what is muted,
// and posts the rest or, with threads, counts repeats in their live
// messages. Each share ends delivered, refused (counted), or handed back to
// its push for a retry.
func (d *destination) deliver(ctx context.Context, shares []*share) {
	if d.threaded() && d.cfg.Threads.RestoreFromSlack {
		// What the previous owner left in Slack first: its live
		// messages and the mutes they show.
		d.readBack(ctx, d.now())
	}
	shares = d.withoutMuted(ctx, shares)
	if d.threaded() {
		d.deliverThreaded(ctx, shares)
		return
	}
	d.post(ctx, shares)
}

// threaded reports whether d keeps live messages: threads are on and it
// is a channel (a webhook can neither update nor reply).
func (d *destination) threaded() bool {
	return d.tracker != nil && d.api != nil
}

// postMessage posts one message, in a slot the caller holds, and counts
// what Slack accepted.
func (d *destination) postMessage(ctx context.Context, m render.Message) (slackclient.Ref, error) {
	ref, err := d.send(ctx, m)
	if err != nil {
		d.apiError(ctx, d.limiter, err)
		return ref, err
	}
	d.telemetry.ExporterSlackMessagesSent.Add(ctx, 1)
	d.delivered(ctx, m.Records(), m.FoldedRecords())
	if ref.ChannelID != "" {
		d.readState.channelID.Store(ref.ChannelID)
	}
	return ref, nil
}

// delivered counts records Slack accepted in d; folded of them only as a
// count.
func (d *destination) delivered(ctx context.Context, records, folded int) {
	d.telemetry.ExporterSlackRecordsDelivered.Add(ctx, int64(records))
	if folded > 0 {
		d.telemetry.ExporterSlackRecordsFolded.Add(ctx, int64(folded))
	}
	d.countRerouted(ctx, records)
}

// refuse handles a permanent error: the records of shares are dropped,
// counted, and logged once, by one of the pushes they came from, when it is
// done. It reports false for any other error.
func (d *destination) refuse(ctx context.Context, err error, shares []*share) bool {
	var se *slackclient.Error
	if !errors.As(err, &se) || se.Class != slackclient.Permanent {
		return false
	}
	total := 0
	for _, s := range shares {
		total += s.entry.Count
	}
	d.telemetry.ExporterSlackRecordsDropped.Add(ctx, int64(total), metric.WithAttributes(attribute.String("error", se.Code)))
	logged := false
	for _, s := range shares {
		for _, c := range s.claims {
			c.out.mu.Lock()
			c.out.refused += c.entry.Count
			if !logged {
				c.out.refusals = append(c.out.refusals, refusal{dest: d.name, code: se.Code, records: total, err: err})
				logged = true
			}
			c.out.mu.Unlock()
		}
	}
	return true
}

// apiError counts a failed call and honours a Retry-After on the limiter
// that paced it.
func (w *workspace) apiError(ctx context.Context, l *slackclient.Limiter, err error) {
	var se *slackclient.Error
	if errors.As(err, &se) {
		w.telemetry.ExporterSlackAPIErrors.Add(ctx, 1, metric.WithAttributes(attribute.String("error", se.Code)))
		if se.Class == slackclient.Throttled {
			l.Pause(se.RetryAfter)
		}
	}
}
