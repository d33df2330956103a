// Package selection decides, once per record and before the queue, whether a
// log record goes to Slack and to which destination.
package selection

import (
	"context"
	"fmt"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/logcopy"
)

// DestinationAttribute is the log record attribute that carries a kept
// record's destination through the sending queue, so that a persisted queue
// replays to the right place after a restart. Rendering never shows it.
const DestinationAttribute = "slack.destination"

// Route sends the records matching Condition to Destination.
type Route struct {
	Condition   string
	Destination string
}

// Config says which records to keep and where they go.
type Config struct {
	MinSeverity plog.SeverityNumber
	// Include, if not empty: a record must match one of these conditions.
	Include []string
	// Exclude: a record matching any of these is dropped.
	Exclude []string
	// Routes are tried in order; the first match wins.
	Routes []Route
	// DefaultDestination receives the records no route matches.
	DefaultDestination string
}

type route struct {
	condition   *conditions
	destination string
}

// Selector filters and routes log records.
type Selector struct {
	minSeverity        plog.SeverityNumber
	include, exclude   *conditions
	routes             []route
	defaultDestination string
	needsOTTL          bool
}

// New compiles cfg. Conditions were checked by config validation; an error
// here names the condition that failed.
func New(cfg Config, set component.TelemetrySettings) (*Selector, error) {
	parser, err := newParser(set)
	if err != nil {
		return nil, err
	}
	s := &Selector{minSeverity: cfg.MinSeverity, defaultDestination: cfg.DefaultDestination}
	if s.include, err = compile(parser, set, cfg.Include); err != nil {
		return nil, fmt.Errorf("filter.include: %w", err)
	}
	if s.exclude, err = compile(parser, set, cfg.Exclude); err != nil {
		return nil, fmt.Errorf("filter.exclude: %w", err)
	}
	for i, r := range cfg.Routes {
		cond, err := compile(parser, set, []string{r.Condition})
		if err != nil {
			return nil, fmt.Errorf("routes[%d].condition: %w", i, err)
		}
		s.routes = append(s.routes, route{condition: cond, destination: r.Destination})
	}
	s.needsOTTL = s.include != nil || s.exclude != nil || len(s.routes) > 0
	return s, nil
}

// Select returns copies of the records that go to Slack, each tagged with its
// destination in DestinationAttribute, and how many records it dropped. ld is
// never modified. Records below the minimum severity cost one comparison.
func (s *Selector) Select(ctx context.Context, ld plog.Logs) (kept plog.Logs, filtered int) {
	out := logcopy.New()
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if Severity(lr) < s.minSeverity {
					filtered++
					continue
				}
				destination, keep := s.destination(ctx, rl, sl, lr)
				if !keep {
					filtered++
					continue
				}
				out.Append(rl, sl, lr).Attributes().PutStr(DestinationAttribute, destination)
			}
		}
	}
	return out.Logs(), filtered
}

// destination runs the OTTL part of the selection for a record that passed
// the severity check.
func (s *Selector) destination(ctx context.Context, rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) (string, bool) {
	if !s.needsOTTL {
		return s.defaultDestination, true
	}
	tCtx := ottllog.NewTransformContext(rl, sl, lr)
	defer tCtx.Close()
	if s.include != nil {
		if ok, _ := s.include.Eval(ctx, tCtx); !ok {
			return "", false
		}
	}
	if s.exclude != nil {
		if ok, _ := s.exclude.Eval(ctx, tCtx); ok {
			return "", false
		}
	}
	for _, r := range s.routes {
		if ok, _ := r.condition.Eval(ctx, tCtx); ok {
			return r.destination, true
		}
	}
	return s.defaultDestination, true
}
