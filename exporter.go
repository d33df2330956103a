package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/slack-go/slack"

	"github.com/slackexporter/slackexporter/internal/group"
	"github.com/slackexporter/slackexporter/internal/logcopy"
	"github.com/slackexporter/slackexporter/internal/metadata"
	"github.com/slackexporter/slackexporter/internal/render"
	"github.com/slackexporter/slackexporter/internal/selection"
	"github.com/slackexporter/slackexporter/internal/slackclient"
)

type slackExporter struct {
	cfg       *Config
	settings  component.TelemetrySettings
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	selector  *selection.Selector

	groupOptions group.Options

	defaultKey string
	// destinations by key, built at start (HTTP clients need the host).
	destinations map[string]*destination
}

// destination is one place messages go: a channel through the Web API, or
// a webhook.
type destination struct {
	// name is safe to log: a channel name or which webhook, never its URL.
	name    string
	post    func(ctx context.Context, text string, blocks []slack.Block) error
	limiter *slackclient.Limiter
}

func newSlackExporter(cfg *Config, set exporter.Settings) (*slackExporter, error) {
	minSeverity, err := selection.ParseMinSeverity(cfg.Filter.MinSeverity)
	if err != nil {
		return nil, err
	}
	e := &slackExporter{
		cfg: cfg, settings: set.TelemetrySettings, logger: set.Logger, defaultKey: defaultDestinationKey(cfg),
		groupOptions: group.Options{Mask: cfg.Grouping.Mask, By: cfg.Grouping.By, Hidden: selection.DestinationAttribute},
	}
	sel := selection.Config{
		MinSeverity:        minSeverity,
		Include:            cfg.Filter.Include,
		Exclude:            cfg.Filter.Exclude,
		DefaultDestination: e.defaultKey,
	}
	for i, r := range cfg.Routes {
		sel.Routes = append(sel.Routes, selection.Route{Condition: r.Condition, Destination: routeDestinationKey(i, r)})
	}
	if e.selector, err = selection.New(sel, set.TelemetrySettings); err != nil {
		return nil, err
	}
	if e.telemetry, err = metadata.NewTelemetryBuilder(set.TelemetrySettings); err != nil {
		return nil, err
	}
	return e, nil
}

// Destination keys travel with the queued records. A channel's key is its
// name, so routes to one channel share its rate limit; a webhook's key says
// which one it is without holding its URL (a secret) in the queue.
func channelKey(channel string) string { return "channel:" + strings.TrimPrefix(channel, "#") }

func defaultDestinationKey(cfg *Config) string {
	if cfg.Token != "" {
		return channelKey(cfg.Channel)
	}
	return "webhook:default"
}

func routeDestinationKey(i int, r RouteConfig) string {
	if r.Channel != "" {
		return channelKey(r.Channel)
	}
	return fmt.Sprintf("webhook:routes[%d]", i)
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
	channel := func(name string) *destination {
		key := channelKey(name)
		return &destination{name: "#" + strings.TrimPrefix(name, "#"), limiter: limiter(key),
			post: func(ctx context.Context, text string, blocks []slack.Block) error {
				return api.Post(ctx, name, text, blocks)
			}}
	}
	webhook := func(name, url string) *destination {
		w := slackclient.NewWebhook(url, hc)
		return &destination{name: name, limiter: limiter(url), post: w.Post}
	}

	e.destinations = map[string]*destination{}
	if e.cfg.Token != "" {
		e.destinations[e.defaultKey] = channel(e.cfg.Channel)
	} else {
		e.destinations[e.defaultKey] = webhook("webhook", string(e.cfg.WebhookURL))
	}
	for i, r := range e.cfg.Routes {
		key := routeDestinationKey(i, r)
		if _, ok := e.destinations[key]; ok {
			continue
		}
		if r.Channel != "" {
			e.destinations[key] = channel(r.Channel)
		} else {
			e.destinations[key] = webhook(fmt.Sprintf("webhook of routes[%d]", i), string(r.WebhookURL))
		}
	}
	return nil
}

func (e *slackExporter) shutdown(context.Context) error {
	if e.telemetry != nil {
		e.telemetry.Shutdown()
	}
	return nil
}

// selectRecords is the pre-queue path: it runs for every record the
// collector receives.
func (e *slackExporter) selectRecords(ctx context.Context, ld plog.Logs) plog.Logs {
	kept, filtered := e.selector.Select(ctx, ld)
	if filtered > 0 {
		e.telemetry.ExporterSlackRecordsFiltered.Add(ctx, int64(filtered))
	}
	return kept
}

// batch is what one push holds for one destination.
type batch struct {
	key     string
	dest    *destination
	entries *group.Grouper
}

// push delivers one queued request. It returns nil only when Slack took
// every record or the rest failed for good; otherwise it hands back exactly
// the records still to deliver, so a retry never posts a message twice.
func (e *slackExporter) push(ctx context.Context, ld plog.Logs) error {
	batches, total := e.groupByDestination(ld)
	retry := make([]bool, total)
	var retryErrs, permanentErrs []error
	var throttle time.Duration
	for _, b := range batches {
		// Post what the rate limit allows now; fold the rest into the last.
		messages := render.Messages(b.entries.Entries(), b.dest.limiter.Available())
		for i, m := range messages {
			err := e.deliver(ctx, b.dest, m)
			if err == nil {
				continue
			}
			var se *slackclient.Error
			if errors.As(err, &se) && se.Class == slackclient.Permanent {
				e.logger.Error("Slack refused a message; its records are dropped",
					zap.String("destination", b.dest.name), zap.String("slack_error", se.Code),
					zap.Int("records", m.Records()), zap.Error(err))
				permanentErrs = append(permanentErrs, fmt.Errorf("%s: %w", b.dest.name, err))
				continue
			}
			throttle = max(throttle, retryDelay(err))
			retryErrs = append(retryErrs, fmt.Errorf("%s: %w", b.dest.name, err))
			for _, rest := range messages[i:] {
				for _, entry := range slices.Concat(rest.Entries, rest.Folded) {
					for _, pos := range entry.Records {
						retry[pos] = true
					}
				}
			}
			break
		}
	}
	switch {
	case len(retryErrs) > 0:
		err := consumererror.NewLogs(errors.Join(retryErrs...), pick(ld, retry))
		if throttle > 0 {
			return exporterhelper.NewThrottleRetry(err, throttle)
		}
		return err
	case len(permanentErrs) > 0:
		return consumererror.NewPermanent(errors.Join(permanentErrs...))
	}
	return nil
}

// groupByDestination collapses the records of ld per destination; records
// are numbered in traversal order.
func (e *slackExporter) groupByDestination(ld plog.Logs) ([]*batch, int) {
	byKey := map[string]*batch{}
	pos := 0
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				key := e.defaultKey
				if v, ok := lr.Attributes().Get(selection.DestinationAttribute); ok {
					key = v.Str()
				}
				b, ok := byKey[key]
				if !ok {
					dest := e.destinations[key]
					if dest == nil {
						// Queued under a configuration that had this
						// destination: deliver to the default one.
						e.logger.Warn("Queued records name a destination that is no longer configured; sending them to the default one", zap.String("destination_key", key))
						dest = e.destinations[e.defaultKey]
					}
					b = &batch{key: key, dest: dest, entries: group.New(e.groupOptions)}
					byKey[key] = b
				}
				b.entries.Add(rl.Resource(), lr, selection.Severity(lr), pos)
				pos++
			}
		}
	}
	batches := make([]*batch, 0, len(byKey))
	for _, b := range byKey {
		batches = append(batches, b)
	}
	slices.SortFunc(batches, func(a, b *batch) int { return strings.Compare(a.key, b.key) })
	return batches, pos
}

// deliver waits for the destination's next slot and posts one message.
func (e *slackExporter) deliver(ctx context.Context, d *destination, m render.Message) error {
	if err := d.limiter.Wait(ctx); err != nil {
		return err
	}
	err := d.post(ctx, m.Text, m.Blocks)
	if err == nil {
		e.telemetry.ExporterSlackMessagesSent.Add(ctx, 1)
		e.telemetry.ExporterSlackRecordsDelivered.Add(ctx, int64(m.Records()))
		if folded := m.FoldedRecords(); folded > 0 {
			e.telemetry.ExporterSlackRecordsFolded.Add(ctx, int64(folded))
		}
		return nil
	}
	var se *slackclient.Error
	if errors.As(err, &se) {
		e.telemetry.ExporterSlackAPIErrors.Add(ctx, 1, metric.WithAttributes(attribute.String("error", se.Code)))
		if se.Class == slackclient.Throttled {
			d.limiter.Pause(se.RetryAfter)
		}
	}
	return err
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
