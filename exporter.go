package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"cmp"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/slackexporter/slackexporter/internal/dynchannel"
	"github.com/slackexporter/slackexporter/internal/fleet"
	"github.com/slackexporter/slackexporter/internal/group"
	"github.com/slackexporter/slackexporter/internal/interact"
	"github.com/slackexporter/slackexporter/internal/logcopy"
	"github.com/slackexporter/slackexporter/internal/metadata"
	"github.com/slackexporter/slackexporter/internal/render"
	"github.com/slackexporter/slackexporter/internal/selection"
	"github.com/slackexporter/slackexporter/internal/slackclient"
	"github.com/slackexporter/slackexporter/internal/threads"
)

// slackExporter reads the way a record travels:
//
//	selectRecords   before the queue, for every record: filter, route, and
//	                copy what is kept, tagged with its destination
//	sending queue   exporterhelper's queue, batching, retry and timeout
//	                (factory.go)
//	push            group by destination; each destination delivers
//	                (destination.go); the result hands back what to retry
//
// Everything about how messages reach one place belongs to its
// destination; what destinations share belongs to the workspace.
type slackExporter struct {
	*workspace

	id       component.ID
	settings component.TelemetrySettings
	selector *selection.Selector

	groupOptions group.Options
	// templates holds the message templates; layout adds a mention.
	templates *render.Layout

	// The background loop that marks fingerprints quiet, with threads.
	stopQuiet context.CancelFunc
	quietDone chan struct{}
	// fleet watches the consumer group of a fleet's gateways
	// (threads.fleet).
	fleet *fleet.Watcher

	defaultKey string
	// persistentQueue: sending_queue.storage is set.
	persistentQueue bool
	// ownsInput: the pipeline hands this exporter its own copy of what it
	// consumes (see createLogs), so selection reduces it in place.
	ownsInput bool
	// api is the Web API client (token mode), set at start.
	api *slackclient.WebAPI

	// Templated channels: the mentions their routes may bring, the bad
	// names already warned about, and how many of their destinations are
	// kept.
	templatedMentions map[string]bool
	warned            *dynchannel.Once
	maxDynamic        int

	// With interactivity: the loop that shows when a mute ran out, and
	// the receivers of clicks.
	muteCtx    context.Context // ends at shutdown
	stopMutes  context.CancelFunc
	muteDone   chan struct{}
	refreshing sync.WaitGroup                // redraws of clicked entries
	relay      *interact.Relay               // on a fleet's gateways: clicks to the channel's owner
	receivers  []func(context.Context) error // each stops one receiver
}

func newSlackExporter(cfg *Config, set exporter.Settings) (*slackExporter, error) {
	minSeverity, err := selection.ParseMinSeverity(cfg.Filter.MinSeverity)
	if err != nil {
		return nil, err
	}
	e := &slackExporter{
		workspace: &workspace{cfg: cfg, logger: set.Logger, now: time.Now},
		id:        set.ID, settings: set.TelemetrySettings, defaultKey: defaultDestinationKey(cfg),
		persistentQueue: cfg.QueueConfig.HasValue() && cfg.QueueConfig.Get().StorageID != nil,
		groupOptions:    group.Options{Mask: cfg.Grouping.Mask, By: cfg.Grouping.By, Hidden: selection.DestinationAttribute},
	}
	e.templatedMentions, e.maxDynamic = map[string]bool{}, maxDynamicDestinations
	e.warned, e.failed = dynchannel.NewOnce(maxWarnedChannels), newFailedChannels(maxFailedChannels)
	sel := selection.Config{
		MinSeverity:        minSeverity,
		Include:            cfg.Filter.Include,
		Exclude:            cfg.Filter.Exclude,
		DefaultDestination: e.defaultKey,
	}
	for i, r := range cfg.Routes {
		if r.Channel == "" || !dynchannel.IsTemplate(r.Channel) {
			sel.Routes = append(sel.Routes, selection.Route{Condition: r.Condition, Destination: routeDestinationKey(r)})
			continue
		}
		route, err := e.channelRoute(i, r)
		if err != nil {
			return nil, err
		}
		sel.Routes = append(sel.Routes, route)
		if m := normalizedMention(r.Mention); m != "" {
			e.templatedMentions[m] = true
		}
	}
	if e.selector, err = selection.New(sel, set.TelemetrySettings); err != nil {
		return nil, err
	}
	if e.templates, err = cfg.Message.parse(); err != nil {
		return nil, err
	}
	if e.telemetry, err = metadata.NewTelemetryBuilder(set.TelemetrySettings); err != nil {
		return nil, err
	}
	if cfg.threadsEnabled() {
		t := cfg.Threads
		e.tracker = threads.New(threads.Config{Window: t.Window, ReplyEvery: t.ReplyEvery, QuietAfter: t.QuietAfter, MaxTracked: t.MaxTracked}, e.forget)
		e.updates = slackclient.NewLimiter(t.UpdatesPerMinute/60, updateBurst)
	}
	return e, nil
}

// Destination keys travel with the queued records. A channel's key is its
// name (and mention), so routes to one channel share it. A webhook's key is
// a hash of its URL: the queue never holds the URL (a secret), and a record
// queued for one team's webhook can never reach another's because routes
// were inserted or reordered before a restart.
func channelKey(channel, mention string) string {
	return withMention("channel:"+strings.TrimPrefix(channel, "#"), mention)
}

func webhookKey(url, mention string) string {
	sum := sha256.Sum256([]byte(url))
	return withMention("webhook:"+hex.EncodeToString(sum[:12]), mention)
}

// withMention tells apart destinations that post to one place with and
// without a mention: their messages look different.
func withMention(key, mention string) string {
	if m := normalizedMention(mention); m != "" {
		key += " " + m
	}
	return key
}

func defaultDestinationKey(cfg *Config) string {
	if cfg.Token != "" {
		return channelKey(cfg.Channel, cfg.Mention)
	}
	return webhookKey(string(cfg.WebhookURL), cfg.Mention)
}

func routeKey(i int) string {
	return fmt.Sprintf("routes[%d]", i)
}

func routeDestinationKey(r RouteConfig) string {
	if r.Channel != "" {
		return channelKey(r.Channel, r.Mention)
	}
	return webhookKey(string(r.WebhookURL), r.Mention)
}

// normalizedMention is the markup of a mention Validate accepted.
func normalizedMention(m string) string {
	if m == "" {
		return ""
	}
	n, _ := render.NormalizeMention(m)
	return n
}

// layout is how messages to a destination with this mention look.
func (e *slackExporter) layout(key, mention string) *render.Layout {
	l := *e.templates
	l.Mention = normalizedMention(mention)
	l.Destination = destinationTag(key)
	return &l
}

func (e *slackExporter) start(ctx context.Context, host component.Host) error {
	for _, key := range e.cfg.plaintextWarnings() {
		e.logger.Warn("Plain http outside loopback sends a secret unencrypted; use https", zap.String("key", key))
	}
	hc, err := e.cfg.ToClient(ctx, host.GetExtensions(), e.settings)
	if err != nil {
		return err
	}
	// Limiters are per channel name or webhook URL, whichever routes use them.
	limiters := map[string]*slackclient.Limiter{}
	limiter := func(id string) *slackclient.Limiter {
		if l, ok := limiters[id]; ok {
			return l
		}
		l := slackclient.NewLimiter(e.cfg.RateLimit.PerSecond, e.cfg.RateLimit.Burst)
		limiters[id] = l
		return l
	}
	var api *slackclient.WebAPI
	if e.cfg.Token != "" {
		apiURL := e.cfg.APIURL
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		api = slackclient.NewWebAPI(string(e.cfg.Token), apiURL, hc)
	}
	e.api = api
	if e.cfg.Interactivity.HasValue() && api != nil {
		if err := e.startMutes(ctx, host); err != nil {
			return err
		}
	}
	channel := func(key, name, mention string) *destination {
		return e.interactive(&destination{workspace: e.workspace, key: key, name: "#" + strings.TrimPrefix(name, "#"), postChannel: name, limiter: limiter(channelKey(name, "")), api: api,
			layout: e.layout(key, mention), outbox: newOutbox(),
			send: func(ctx context.Context, m render.Message) (slackclient.Ref, error) {
				return api.Post(ctx, name, "", m.Text, m.Blocks, m.Metadata)
			}})
	}
	webhook := func(key, name, url, mention string) *destination {
		w := slackclient.NewWebhook(url, hc)
		return &destination{workspace: e.workspace, key: key, name: name, limiter: limiter(url), layout: e.layout(key, mention), outbox: newOutbox(),
			send: func(ctx context.Context, m render.Message) (slackclient.Ref, error) {
				// An incoming webhook takes no metadata.
				return slackclient.Ref{}, w.Post(ctx, m.Text, m.Blocks)
			}}
	}

	static := map[string]*destination{}
	if e.cfg.Token != "" {
		static[e.defaultKey] = channel(e.defaultKey, e.cfg.Channel, e.cfg.Mention)
	} else {
		static[e.defaultKey] = webhook(e.defaultKey, "webhook", string(e.cfg.WebhookURL), e.cfg.Mention)
	}
	for i, r := range e.cfg.Routes {
		key := routeDestinationKey(r)
		if _, ok := static[key]; ok || dynchannel.IsTemplate(r.Channel) {
			continue
		}
		if r.Channel != "" {
			static[key] = channel(key, r.Channel, r.Mention)
		} else {
			static[key] = webhook(key, fmt.Sprintf("webhook of routes[%d]", i), string(r.WebhookURL), r.Mention)
		}
	}
	e.dests = &registry{static: static, make: e.dynamicDestination, max: e.maxDynamic, burst: e.cfg.RateLimit.Burst,
		byKey: map[string]*list.Element{}, staticLimiters: map[string]*slackclient.Limiter{}, limiters: map[string]*sharedLimiter{},
		newLimiter: func() *slackclient.Limiter {
			return slackclient.NewLimiter(e.cfg.RateLimit.PerSecond, e.cfg.RateLimit.Burst)
		}}
	for id, l := range limiters {
		if ch, ok := strings.CutPrefix(id, "channel:"); ok {
			e.dests.staticLimiters[ch] = l
		}
	}
	if e.tracker != nil {
		if err := e.startThreads(ctx, host); err != nil {
			return err
		}
	}
	if e.mutes != nil {
		return e.startInteractivity(ctx, host)
	}
	return nil
}

func (e *slackExporter) shutdown(ctx context.Context) error {
	err := errors.Join(e.stopInteractivity(ctx), e.stopThreads(ctx))
	if e.telemetry != nil {
		e.telemetry.Shutdown()
	}
	return err
}

// selectRecords is the pre-queue path: it runs for every record the
// collector receives.
func (e *slackExporter) selectRecords(ctx context.Context, ld plog.Logs) plog.Logs {
	// Selection may hand on scopes for the default destination untagged,
	// read as the default when pushed. A persistent queue replays after a
	// restart, when the default may be another one: what it holds must name
	// its destination. Read-only data is never the exporter's to change,
	// whatever it declared.
	owned := e.ownsInput && !ld.IsReadOnly()
	kept, filtered := e.selector.SelectFor(ctx, ld, selection.Output{Owned: owned, Tagged: e.persistentQueue})
	if filtered > 0 {
		e.telemetry.ExporterSlackRecordsFiltered.Add(ctx, int64(filtered))
	}
	return kept
}

// batch is what one push holds for one destination.
type batch struct {
	dest    *destination
	entries *group.Grouper
	held    []*destination // acquired for this push, released when it ends
}

// push delivers one queued request. It returns nil only when Slack took
// every record or the rest failed for good; otherwise it hands back exactly
// the records still to deliver, so a retry never posts a message twice.
func (e *slackExporter) push(ctx context.Context, ld plog.Logs) error {
	batches, total := e.groupByDestination(ld)
	defer func() {
		for _, b := range batches {
			for _, d := range b.held {
				e.dests.release(d)
			}
		}
	}()
	out := &outcome{retry: make([]bool, total)}
	// Destinations are delivered side by side: one paused by a Retry-After
	// or waiting for its slot does not hold up the others.
	var wg sync.WaitGroup
	for _, b := range batches {
		wg.Go(func() { b.dest.deliver(ctx, sharesOf(b.entries.Entries(), out)) })
	}
	wg.Wait()
	return e.result(out, ld)
}

// outcome gathers what a push could not deliver; its destinations report
// to it concurrently.
type outcome struct {
	mu        sync.Mutex
	retry     []bool // by record position
	retryErrs []error
	throttle  time.Duration
	refusals  []refusal
	refused   int // records
}

// refusal is a message Slack refused for good.
type refusal struct {
	dest    string
	code    string
	records int
	err     error
}

// failed marks the records of entries for retry.
func (o *outcome) failed(d *destination, err error, entries ...[]*group.Entry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.throttle = max(o.throttle, retryDelay(err))
	o.retryErrs = append(o.retryErrs, fmt.Errorf("%s: %w", d.name, err))
	for _, list := range entries {
		for _, entry := range list {
			for _, pos := range entry.Records {
				o.retry[pos] = true
			}
		}
	}
}

// result is what push returns: the records to retry, if any; a permanent
// error when Slack refused every record of the push; nil otherwise. Each
// refusal gets one clear log line, whatever the push returns.
func (e *slackExporter) result(out *outcome, ld plog.Logs) error {
	refusedWhole := len(out.retryErrs) == 0 && out.refused == len(out.retry)
	for _, r := range out.refusals {
		e.logger.Error("Slack refused a message; its records are dropped",
			zap.String("destination", r.dest), zap.String("slack_error", r.code),
			zap.Int("records", r.records), zap.Error(r.err))
	}
	switch {
	case len(out.retryErrs) > 0:
		err := consumererror.NewLogs(errors.Join(out.retryErrs...), pick(ld, out.retry))
		if out.throttle > 0 {
			return exporterhelper.NewThrottleRetry(err, out.throttle)
		}
		return err
	case len(out.refusals) > 0 && refusedWhole:
		errs := make([]error, len(out.refusals))
		for i, r := range out.refusals {
			errs[i] = fmt.Errorf("%s: %w", r.dest, r.err)
		}
		return consumererror.NewPermanent(errors.Join(errs...))
	}
	// Part of the push was refused and logged; exporterhelper must not
	// count the delivered rest as failed.
	return nil
}

// groupByDestination collapses the records of ld per destination; records
// are numbered in traversal order.
func (e *slackExporter) groupByDestination(ld plog.Logs) ([]*batch, int) {
	byKey := map[string]*batch{}    // by destination key
	byQueued := map[string]*batch{} // by the key queued records carry
	unknown := map[string]int{}
	now := e.now()
	pos := 0
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				queued := cmp.Or(selection.Destination(sl), e.defaultKey)
				b, ok := byQueued[queued]
				if !ok {
					b = e.batchFor(queued, byKey, unknown, now)
					byQueued[queued] = b
				}
				if n, ok := unknown[queued]; ok {
					unknown[queued] = n + 1
				}
				b.entries.Add(rl.Resource(), lr, selection.Severity(lr), pos)
				pos++
			}
		}
	}
	for key, n := range unknown {
		e.logger.Warn("Queued records name a destination that is no longer configured; sending them to the default one",
			zap.String("destination_key", key), zap.Int("records", n))
	}
	batches := make([]*batch, 0, len(byKey))
	for _, b := range byKey {
		batches = append(batches, b)
	}
	slices.SortFunc(batches, func(a, b *batch) int { return strings.Compare(a.dest.key, b.dest.key) })
	return batches, pos
}

// batchFor finds the batch of the records queued for key: its
// destination's, acquired for the push; the default one's for a key no
// longer configured; the rerouted one's for a templated channel Slack
// refused lately.
func (e *slackExporter) batchFor(key string, byKey map[string]*batch, unknown map[string]int, now time.Time) *batch {
	d := e.dests.acquire(key)
	if d == nil {
		// Queued under a configuration that had this destination:
		// deliver to the default one.
		unknown[key] = 0 // counted per record by the caller
		d = e.dests.acquire(e.defaultKey)
	}
	if d.dynamic && e.failed.code(d.channel, now) != "" {
		if rd := e.dests.acquire(reroutedKey(d.channel)); rd != nil {
			e.dests.release(d)
			d = rd
		}
	}
	b, ok := byKey[d.key]
	if !ok {
		b = &batch{dest: d, entries: group.New(e.groupOptions)}
		byKey[d.key] = b
	}
	b.held = append(b.held, d)
	return b
}

// retryDelay is how long Slack (or our own pacing) asked us to wait.
func retryDelay(err error) time.Duration {
	var se *slackclient.Error
	if errors.As(err, &se) && se.Class == slackclient.Throttled {
		return se.RetryAfter
	}
	var wait *slackclient.WaitTooLongError
	if errors.As(err, &wait) {
		return wait.Delay
	}
	return 0
}

// pick copies the records of ld whose position is marked.
func pick(ld plog.Logs, marked []bool) plog.Logs {
	out := logcopy.New()
	pos := 0
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if marked[pos] {
					out.Append(rl, sl, lr)
				}
				pos++
			}
		}
	}
	return out.Logs()
}
