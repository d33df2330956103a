package slackexporter // import "github.com/slackexporter/slackexporter"

// Dynamic channels (issue 9): a route whose channel is a template names a
// channel per record. The template runs before the queue, in selection, and
// the queued records carry the concrete channel in their destination key,
// so a persisted queue replays to the same channel after a restart. The
// destinations those keys name are made when a push first needs them and
// kept in a bounded registry; Slack refusing such a channel sends its
// records to the default channel instead of dropping them.

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/slackexporter/slackexporter/internal/dynchannel"
	"github.com/slackexporter/slackexporter/internal/render"
	"github.com/slackexporter/slackexporter/internal/selection"
	"github.com/slackexporter/slackexporter/internal/slackclient"
)

const (
	// maxDynamicDestinations bounds the destinations made for templated
	// channels that are kept between pushes (each holds a rate limiter, an
	// outbox and a layout). Past it the least recently used idle ones are
	// forgotten; see registry.
	maxDynamicDestinations = 1000
	// maxWarnedChannels bounds the bad channel names remembered so that
	// each is warned about once.
	maxWarnedChannels = 1000
	// maxFailedChannels bounds the templated channels remembered as refused
	// by Slack.
	maxFailedChannels = 1000
	// failedChannelMemory is how long records for a templated channel that
	// Slack refused go straight to the default channel, without asking
	// Slack again. Long enough that a flood for a missing channel costs one
	// failing call every few minutes, not one per message; short enough
	// that creating the channel, or inviting the bot, takes effect soon
	// without a restart.
	failedChannelMemory = 5 * time.Minute
)

// Destination keys of templated channels. They name the concrete channel,
// and are told apart from a configured channel's ("channel:…"), so that
// only they are rerouted when Slack refuses the channel:
//
//	dynamic:<channel>[ <mention>]   a channel a route's template named
//	rerouted:<channel>              the default channel, for the records of
//	                                <channel>, which Slack refused
//
// <channel> is a name without its "#" or an id (dynchannel.Name), so it
// holds no space. One rerouted destination per channel, whatever Slack
// answered, keeps one live message per fingerprint in the default channel
// for it even if the answer changes (not_in_channel, later is_archived).
const (
	dynamicPrefix  = "dynamic:"
	reroutedPrefix = "rerouted:"
)

func dynamicKey(channel, mention string) string {
	return withMention(dynamicPrefix+channel, mention)
}

func reroutedKey(channel string) string {
	return reroutedPrefix + channel
}

// rerouteCodes are Slack's answers that mean "not this channel" rather than
// "not this message": for a templated channel, its records go to the
// default channel.
var rerouteCodes = map[string]bool{"channel_not_found": true, "not_in_channel": true, "is_archived": true}

// rerouteCode is Slack's error when err means a templated channel cannot
// take messages, or "".
func rerouteCode(err error) string {
	var se *slackclient.Error
	if errors.As(err, &se) && se.Class == slackclient.Permanent && rerouteCodes[se.Code] {
		return se.Code
	}
	return ""
}

// channelRoute is the selection route of a route whose channel is a
// template: each record it matches goes to the channel the template gives,
// or, when that is no channel, to the default destination, with one warning
// per bad name.
func (e *slackExporter) channelRoute(i int, r RouteConfig) (selection.Route, error) {
	key := routeKey(i) + ".channel"
	t, err := r.channelTemplate(key)
	if err != nil {
		return selection.Route{}, err
	}
	mention := r.Mention
	resolve := func(rl plog.ResourceLogs, lr plog.LogRecord) string {
		out, err := t.Execute(rl, lr, selection.Severity(lr))
		if err != nil {
			e.warnBadChannel(key, "", err)
			return e.defaultKey
		}
		channel, ok := dynchannel.Name(out)
		if !ok {
			e.warnBadChannel(key, out, nil)
			return e.defaultKey
		}
		return dynamicKey(channel, mention)
	}
	return selection.Route{Condition: r.Condition, Resolve: resolve, PerResource: t.ResourceOnly()}, nil
}

// maxShownName bounds what a warning quotes of a bad channel name (it comes
// from a record, and may be anything).
const maxShownName = 100

// warnBadChannel logs, once per name (or per failing template and error),
// that a templated channel gave no channel.
func (e *slackExporter) warnBadChannel(key, result string, err error) {
	shown := result
	if len(shown) > maxShownName {
		shown = strings.ToValidUTF8(shown[:maxShownName], "") + "…"
	}
	seen := "name " + shown
	if err != nil {
		seen = key + " error " + err.Error()
	}
	if !e.warned.First(seen) {
		return
	}
	if err != nil {
		e.logger.Warn("A templated channel failed for a record; its records go to the default channel",
			zap.String("key", key), zap.String("default_channel", e.cfg.Channel), zap.Error(err))
		return
	}
	e.logger.Warn("A templated channel gave no Slack channel name or id; its records go to the default channel (warned once per name)",
		zap.String("key", key), zap.String("result", shown), zap.String("default_channel", e.cfg.Channel))
}

// dynamicDestination makes the destination a dynamic or rerouted key names,
// or returns nil when the key names nothing this configuration can deliver
// to: a webhook-mode exporter, a bad channel, a mention no templated route
// has (a queued key must not bring a ping nobody configured).
func (e *slackExporter) dynamicDestination(key string, limiter func(channel string) *slackclient.Limiter) *destination {
	if e.api == nil {
		return nil
	}
	if rest, ok := strings.CutPrefix(key, dynamicPrefix); ok {
		channel, mention, _ := strings.Cut(rest, " ")
		if c, valid := dynchannel.Name(channel); !valid || c != channel || (mention != "" && !e.templatedMentions[mention]) {
			return nil
		}
		target := dynchannel.Display(channel)
		return e.interactive(&destination{workspace: e.workspace, key: key, name: target, channel: channel, postChannel: target, dynamic: true, api: e.api,
			limiter: limiter(channel), layout: e.layout(key, mention), outbox: newOutbox(),
			send: func(ctx context.Context, m render.Message) (slackclient.Ref, error) {
				return e.api.Post(ctx, target, "", m.Text, m.Blocks, m.Metadata)
			}})
	}
	if channel, ok := strings.CutPrefix(key, reroutedPrefix); ok {
		if c, valid := dynchannel.Name(channel); !valid || c != channel {
			return nil
		}
		def := e.cfg.Channel
		layout := e.layout(key, e.cfg.Mention)
		// Slack's answer, as remembered when the destination is made. A
		// quiet mark after a restart makes it without one: that one is
		// used once and not kept, so that the next reroute, which knows the
		// answer, makes the one that is kept.
		code := e.failed.last(channel)
		layout.Note = "↪ meant for " + dynchannel.Display(channel)
		if code != "" {
			layout.Note += ": " + code
		}
		return e.interactive(&destination{workspace: e.workspace, key: key, name: "#" + strings.TrimPrefix(def, "#") + " (for " + dynchannel.Display(channel) + ")",
			channel: channel, postChannel: def, rerouted: true, reroutedCode: cmp.Or(code, "unknown"), provisional: code == "", api: e.api,
			limiter: limiter(strings.TrimPrefix(def, "#")), layout: layout, outbox: newOutbox(),
			send: func(ctx context.Context, m render.Message) (slackclient.Ref, error) {
				return e.api.Post(ctx, def, "", m.Text, m.Blocks, m.Metadata)
			}})
	}
	return nil
}

// reroute delivers to the default channel the shares Slack refused for a
// templated channel, with a line saying where they were meant to go, and
// remembers the refusal so that the channel's next records go there
// directly for a while.
func (d *destination) reroute(ctx context.Context, err error, shares []*share) {
	code := rerouteCode(err)
	if d.failed.add(d.channel, code, d.now()) {
		d.logger.Warn("Slack refused a templated channel; its records go to the default channel, marked with where they were meant to go",
			zap.String("destination", d.name), zap.String("slack_error", code), zap.String("default_channel", d.cfg.Channel),
			zap.Duration("for", failedChannelMemory))
	}
	rd := d.dests.acquire(reroutedKey(d.channel))
	if rd == nil { // cannot be: d's channel passed the same checks
		d.refuse(ctx, err, shares)
		return
	}
	defer d.dests.release(rd)
	for _, s := range shares {
		// Retired from d's live messages already; nothing of rd's
		// counts them.
		s.notOn = nil
	}
	// What is muted in the default channel stays out of it, whichever
	// channel it was meant for.
	shares = rd.withoutMuted(ctx, shares)
	if rd.threaded() {
		rd.deliverThreaded(ctx, shares)
		return
	}
	rd.post(ctx, shares)
}

// rerouted counts records Slack showed in the default channel for a
// templated channel it refused.
func (d *destination) countRerouted(ctx context.Context, records int) {
	if d.rerouted && records > 0 {
		d.telemetry.ExporterSlackRecordsRerouted.Add(ctx, int64(records), metric.WithAttributes(attribute.String("error", d.reroutedCode)))
	}
}

// failedChannels remembers, for failedChannelMemory, the templated
// channels Slack refused, at most max of them: when full, expired entries
// go first, then arbitrary ones (a forgotten channel only costs one more
// failing call).
type failedChannels struct {
	mu  sync.Mutex
	max int
	m   map[string]channelFailure
}

type channelFailure struct {
	code  string
	until time.Time
}

func newFailedChannels(limit int) *failedChannels {
	return &failedChannels{max: limit, m: map[string]channelFailure{}}
}

// add remembers that Slack refused channel with code at now, reporting
// whether this is news (not already remembered with that code).
func (f *failedChannels) add(channel, code string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	old, had := f.m[channel]
	news := !had || old.code != code || !now.Before(old.until)
	if !had && len(f.m) >= f.max {
		for k, v := range f.m {
			if !now.Before(v.until) {
				delete(f.m, k)
			}
		}
		for k := range f.m {
			if len(f.m) < f.max {
				break
			}
			delete(f.m, k)
		}
	}
	f.m[channel] = channelFailure{code: code, until: now.Add(failedChannelMemory)}
	return news
}

// code is Slack's refusal of channel, if it is remembered at now.
func (f *failedChannels) code(channel string, now time.Time) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.m[channel]; ok && now.Before(v.until) {
		return v.code
	}
	return ""
}

// last is Slack's last refusal of channel, even if it is no longer acted
// on, or "" (never refused since start, or forgotten to make room): what a
// rerouted message says. Entries stay until room is needed, so a caller
// that has just seen code or add say so finds it here.
func (f *failedChannels) last(channel string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[channel].code
}

func (f *failedChannels) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}

// registry owns the destinations: those of the configuration, made at
// start and kept for good, and those templated channels name, made when a
// push first needs them and kept, at most max of them, while they are used.
//
// A destination is busy while a push (or a quiet mark, or a reroute) holds
// it: it has an outbox that pushes meet in, and perhaps a poster waiting
// for its slot. A busy destination is never forgotten: a push that
// acquired it delivers through it, and the next push for its key finds it.
// Past max, the least recently used idle destination is forgotten, and an
// idle one whose rate limiter is not full (it posted within the last few
// seconds, or Slack paused it) only when the registry holds twice max:
// forgetting it would forget its pace, and a new limiter would let a burst
// go to a channel that just had one. What a forgotten destination leaves
// behind is nothing a new one for its key cannot pick up: its live messages
// are kept by the tracker under its key (bounded by threads.max_tracked),
// its refusal by failedChannels.
type registry struct {
	static map[string]*destination
	make   func(key string, limiter func(channel string) *slackclient.Limiter) *destination
	max    int
	burst  int

	mu    sync.Mutex
	lru   list.List // of *destination, most recently used first
	byKey map[string]*list.Element
	// limiters are per channel: every destination posting to a channel
	// (with or without a mention, configured or templated) shares one.
	// Those of configured channels stay; the others go with their last
	// destination.
	staticLimiters map[string]*slackclient.Limiter
	limiters       map[string]*sharedLimiter
	newLimiter     func() *slackclient.Limiter
}

type sharedLimiter struct {
	limiter *slackclient.Limiter
	users   int
}

// acquire returns the destination key names, busy until release, or nil
// if the key names none.
func (r *registry) acquire(key string) *destination {
	if d := r.static[key]; d != nil {
		return d
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if el := r.byKey[key]; el != nil {
		d := el.Value.(*destination)
		d.refs++
		r.lru.MoveToFront(el)
		return d
	}
	d := r.make(key, r.limiterLocked)
	if d == nil || d.provisional {
		return d
	}
	d.refs = 1
	r.byKey[key] = r.lru.PushFront(d)
	r.evictLocked()
	return d
}

// release ends a use of d that acquire began.
func (r *registry) release(d *destination) {
	if d == nil || r.static[d.key] == d || d.provisional {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	d.refs--
}

// known says whether key names a destination, without making it.
func (r *registry) known(key string) bool {
	if r.static[key] != nil {
		return true
	}
	return r.make(key, func(string) *slackclient.Limiter { return nil }) != nil
}

// dynamicLen is how many templated destinations are kept.
func (r *registry) dynamicLen() (destinations, limiters int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lru.Len(), len(r.limiters)
}

func (r *registry) limiterLocked(channel string) *slackclient.Limiter {
	if l := r.staticLimiters[channel]; l != nil {
		return l
	}
	s := r.limiters[channel]
	if s == nil {
		s = &sharedLimiter{limiter: r.newLimiter()}
		r.limiters[channel] = s
	}
	s.users++
	return s.limiter
}

func (r *registry) evictLocked() {
	for r.lru.Len() > r.max {
		victim := r.oldestIdleLocked(r.lru.Len() > 2*r.max)
		if victim == nil {
			return // all busy: they are what pushes in flight hold
		}
		d := r.lru.Remove(victim).(*destination)
		delete(r.byKey, d.key)
		if s := r.limiters[d.channel]; s != nil && s.limiter == d.limiter {
			if s.users--; s.users == 0 {
				delete(r.limiters, d.channel)
			}
		}
	}
}

// oldestIdleLocked is the least recently used destination that no one
// holds and whose pace a new limiter would keep; failing that, with
// anyPace, the least recently used one no one holds.
func (r *registry) oldestIdleLocked(anyPace bool) *list.Element {
	var oldestIdle *list.Element
	for el := r.lru.Back(); el != nil; el = el.Prev() {
		d := el.Value.(*destination)
		if d.refs > 0 {
			continue
		}
		if r.paceKept(d) {
			return el
		}
		if oldestIdle == nil {
			oldestIdle = el
		}
	}
	if anyPace {
		return oldestIdle
	}
	return nil
}

// paceKept says whether forgetting d keeps its channel's pace: its limiter
// stays (a configured channel's, or shared with another destination), or a
// new one would be in the same state (full).
func (r *registry) paceKept(d *destination) bool {
	s := r.limiters[d.channel]
	if s == nil || s.limiter != d.limiter {
		return true // not one of the pool's: a configured channel's, which stays
	}
	return s.users > 1 || d.limiter.Available() >= r.burst
}
