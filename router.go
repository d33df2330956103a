package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"context"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/dynchannel"
	"github.com/slackexporter/slackexporter/internal/logcopy"
	"github.com/slackexporter/slackexporter/internal/selection"
)

// Router is the exporter's selection (severity, include, exclude, then the
// first matching route) for a component that runs it before the exporter
// does: the slackroute processor on a fleet's agents. It is built from the
// exporter's own Config, so both sides filter and route alike.
type Router struct {
	selector *selection.Selector
}

// Owned is the part of a batch that goes to one owner.
type Owned struct {
	// Owner names the channel ("channel:alerts") or webhook
	// ("webhook:<hash of its URL>") the records go to. It never holds a
	// secret. The exporter paces each owner with one rate limiter, so in a
	// fleet each owner should be handled by one gateway at a time.
	Owner string
	Logs  plog.Logs
}

// NewRouter compiles cfg's selection. cfg should have passed
// ValidateSelection.
func NewRouter(cfg *Config, set component.TelemetrySettings) (*Router, error) {
	minSeverity, err := selection.ParseMinSeverity(cfg.Filter.MinSeverity)
	if err != nil {
		return nil, err
	}
	// An agent has no token: the mode is told by webhook_url alone.
	defaultKey := webhookKey(string(cfg.WebhookURL), cfg.Mention)
	if cfg.WebhookURL == "" {
		defaultKey = channelKey(cfg.Channel, cfg.Mention)
	}
	sel := selection.Config{
		MinSeverity:        minSeverity,
		Include:            cfg.Filter.Include,
		Exclude:            cfg.Filter.Exclude,
		DefaultDestination: defaultKey,
	}
	r := &Router{}
	// A templated channel is resolved here, on the agent, as the exporter
	// resolves it (the same code, warnings included), so each channel is its
	// own owner and partition.
	resolver := &slackExporter{workspace: &workspace{cfg: cfg, logger: set.Logger}, defaultKey: defaultKey, warned: dynchannel.NewOnce(maxWarnedChannels)}
	for i, route := range cfg.Routes {
		if route.Channel == "" || !dynchannel.IsTemplate(route.Channel) {
			sel.Routes = append(sel.Routes, selection.Route{Condition: route.Condition, Destination: routeDestinationKey(route)})
			continue
		}
		templated, err := resolver.channelRoute(i, route)
		if err != nil {
			return nil, err
		}
		sel.Routes = append(sel.Routes, templated)
	}
	if r.selector, err = selection.New(sel, set); err != nil {
		return nil, err
	}
	return r, nil
}

// Split returns copies of the records of ld that the exporter would keep,
// one Owned per owner in a stable order, and how many records it dropped.
// ld is never modified.
func (r *Router) Split(ctx context.Context, ld plog.Logs) (owned []Owned, filtered int) {
	kept, filtered := r.selector.SelectFor(ctx, ld, selection.Output{Tagged: true})
	if kept.LogRecordCount() == 0 {
		return nil, filtered
	}
	builders := map[string]*logcopy.Builder{}
	for _, rl := range kept.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				owner := ownerKey(selection.Destination(sl))
				b, ok := builders[owner]
				if !ok {
					b = logcopy.New().Moving() // kept is a copy of this call's own
					builders[owner] = b
				}
				b.Append(rl, sl, lr)
			}
		}
	}
	owned = make([]Owned, 0, len(builders))
	for owner, b := range builders {
		owned = append(owned, Owned{Owner: owner, Logs: b.Logs()})
	}
	slices.SortFunc(owned, func(a, b Owned) int { return strings.Compare(a.Owner, b.Owner) })
	return owned, filtered
}

// ownerKey is the key of the place a destination posts to, which one rate
// limiter paces (see start): its destination key less the mention, so a
// channel whatever the mention ("channel:alerts"), a webhook by its hashed
// URL. Neither a channel name nor a hash holds a space; withMention adds
// one before the mention.
func ownerKey(destinationKey string) string {
	owner, _, _ := strings.Cut(destinationKey, " ")
	if channel, ok := strings.CutPrefix(owner, dynamicPrefix); ok {
		return channelKey(channel, "") // a templated channel is the same channel as a configured one
	}
	return owner
}
