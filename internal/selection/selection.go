// Package selection decides, once per record and before the queue, whether a
// log record goes to Slack and to which destination.
package selection

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/slackexporter/slackexporter/internal/logcopy"
)

// DestinationAttribute is the scope attribute that carries kept records'
// destination through the sending queue, so that a persisted queue replays
// to the right place after a restart. (Earlier releases put it on each
// record.) Rendering never shows it.
const DestinationAttribute = "slack.destination"

// Route sends the records matching Condition to Destination.
type Route struct {
	Condition   string
	Destination string
	// Resolve, when set, names the destination of each record the route
	// matches, instead of Destination: a templated channel. It must never
	// return "" (it falls back to a destination of its own choosing).
	Resolve func(rl plog.ResourceLogs, lr plog.LogRecord) string
	// PerResource says Resolve reads only the resource: it runs once per
	// resource, not once per record.
	PerResource bool
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
	condition   *condition
	destination string
	resolve     func(plog.ResourceLogs, plog.LogRecord) string
	perResource bool
}

// Selector filters and routes log records.
type Selector struct {
	minSeverity        plog.SeverityNumber
	include, exclude   anyOf
	routes             []route
	defaultDestination string
	resourceSlots      int
	needsOTTL          bool
	logger             *zap.Logger
}

// New compiles cfg. Conditions were checked by config validation; an error
// here names the condition that failed.
func New(cfg Config, set component.TelemetrySettings) (*Selector, error) {
	c, err := newCompiler(set)
	if err != nil {
		return nil, err
	}
	s := &Selector{minSeverity: cfg.MinSeverity, defaultDestination: cfg.DefaultDestination, logger: set.Logger}
	if s.include, err = c.compile(cfg.Include); err != nil {
		return nil, fmt.Errorf("filter.include: %w", err)
	}
	if s.exclude, err = c.compile(cfg.Exclude); err != nil {
		return nil, fmt.Errorf("filter.exclude: %w", err)
	}
	for i, r := range cfg.Routes {
		cond, err := c.compile([]string{r.Condition})
		if err != nil {
			return nil, fmt.Errorf("routes[%d].condition: %w", i, err)
		}
		s.routes = append(s.routes, route{condition: cond[0], destination: r.Destination, resolve: r.Resolve, perResource: r.PerResource})
	}
	s.resourceSlots = c.slots
	s.needsOTTL = len(s.include) != 0 || len(s.exclude) != 0 || len(s.routes) != 0
	return s, nil
}

// Output says what Select may do with its input and how it hands on what
// it keeps.
type Output struct {
	// Owned: the input is the caller's to take apart, as a consumer that
	// declares MutatesData gets its own copy from the pipeline. Select
	// then removes from it what it does not keep and returns it, tagged,
	// instead of copying what it keeps.
	Owned bool
	// Tagged: every scope handed on names its destination; Select never
	// hands on an untagged input for the default destination.
	Tagged bool
}

// Select returns the records that go to Slack, and how many records it
// dropped. ld is never modified. When it keeps every record of ld for the
// default destination it returns ld itself (untagged: see DestinationOf),
// and the caller must not modify it either; otherwise it returns copies,
// each scope tagged with its records' destination in DestinationAttribute
// (a scope all of whose records are kept is copied in one go). Records
// below the minimum severity cost one comparison; a condition that reads
// only the resource is evaluated once per resource.
func (s *Selector) Select(ctx context.Context, ld plog.Logs) (kept plog.Logs, filtered int) {
	return s.SelectFor(ctx, ld, Output{})
}

// SelectFor is Select with what out allows and asks for.
func (s *Selector) SelectFor(ctx context.Context, ld plog.Logs, out Output) (kept plog.Logs, filtered int) {
	var w walk
	switch {
	case out.Owned:
		w = logcopy.NewInPlace(ld, DestinationAttribute, s.defaultDestination, out.Tagged)
	case out.Tagged:
		w = logcopy.NewKeptTagged(DestinationAttribute)
	default:
		w = logcopy.NewKept(ld, DestinationAttribute, s.defaultDestination)
	}
	return s.selectInto(ctx, ld, w)
}

// walk gathers the records a selection keeps: logcopy's Kept or InPlace.
type walk interface {
	Scope(rl plog.ResourceLogs, sl plog.ScopeLogs)
	Keep(i int, lr plog.LogRecord, tag string)
	Logs() plog.Logs
}

func (s *Selector) selectInto(ctx context.Context, ld plog.Logs, out walk) (kept plog.Logs, filtered int) {
	eval := evaluation{ctx: ctx, logger: s.logger, resource: make([]uint8, s.resourceSlots), resolved: make([]string, len(s.routes))}
	for _, rl := range ld.ResourceLogs().All() {
		eval.newResource(rl)
		for _, sl := range rl.ScopeLogs().All() {
			eval.sl = sl
			out.Scope(rl, sl)
			for i, lr := range sl.LogRecords().All() {
				if Severity(lr) < s.minSeverity {
					filtered++
					continue
				}
				eval.lr = lr
				destination, keep := s.destination(&eval)
				eval.nextRecord()
				if !keep {
					filtered++
					continue
				}
				out.Keep(i, lr, destination)
			}
		}
	}
	eval.close()
	return out.Logs(), filtered
}

// destination runs the OTTL part of the selection for a record that passed
// the severity check.
func (s *Selector) destination(e *evaluation) (string, bool) {
	if !s.needsOTTL {
		return s.defaultDestination, true
	}
	if len(s.include) > 0 && !e.any(s.include) {
		return "", false
	}
	if e.any(s.exclude) {
		return "", false
	}
	for i, r := range s.routes {
		if e.match(r.condition) {
			return e.destinationOf(i, r), true
		}
	}
	return s.defaultDestination, true
}

// destinationOf is the destination route i gives the record: its own, or
// what its Resolve says, kept for the resource's other records when it
// reads only the resource.
func (e *evaluation) destinationOf(i int, r route) string {
	switch {
	case r.resolve == nil:
		return r.destination
	case !r.perResource:
		return r.resolve(e.rl, e.lr)
	case e.resolved[i] == "":
		e.resolved[i] = r.resolve(e.rl, e.lr)
	}
	return e.resolved[i]
}

// DestinationOf is the destination of a record Select kept: Destination,
// or the default destination for a record of an untagged scope (Select
// hands on untagged the input it keeps whole for the default destination).
func (s *Selector) DestinationOf(sl plog.ScopeLogs) string {
	if d := Destination(sl); d != "" {
		return d
	}
	return s.defaultDestination
}

// Destination is the destination a queued record was routed to: its
// scope's tag, or "" for the default destination (see DestinationOf). Only
// the scope is read: the selection tags every scope it copies, and a
// record's own attributes are the producer's, who must not choose where
// its records go.
func Destination(sl plog.ScopeLogs) string {
	if v, ok := sl.Scope().Attributes().Get(DestinationAttribute); ok {
		return v.Str()
	}
	return ""
}
