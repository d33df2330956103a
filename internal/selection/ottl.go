package selection

import (
	"context"
	"fmt"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottlresource"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/ottlfuncs"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
)

func newParser(set component.TelemetrySettings) (ottl.Parser[*ottllog.TransformContext], error) {
	return ottllog.NewParser(ottlfuncs.StandardConverters[*ottllog.TransformContext](), set)
}

// newResourceParser parses the conditions that read only the resource:
// every path must say resource. (an unprefixed "attributes" means the
// record's in the log context, the resource's in this one).
func newResourceParser(set component.TelemetrySettings) (ottl.Parser[*ottlresource.TransformContext], error) {
	return ottlresource.NewParser(ottlfuncs.StandardConverters[*ottlresource.TransformContext](), set,
		ottl.WithPathContextNames[*ottlresource.TransformContext]([]string{"resource"}))
}

// CheckCondition reports whether an OTTL log condition parses. Config
// validation uses it, before any telemetry exists.
func CheckCondition(condition string) error {
	parser, err := newParser(component.TelemetrySettings{Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	if _, err = parser.ParseCondition(condition); err != nil {
		return fmt.Errorf("OTTL condition %q does not parse: %w", condition, err)
	}
	return nil
}

// condition is one OTTL log condition. One that reads only the resource
// is evaluated once per resource, not once per record: a batch holds many
// records of few resources.
type condition struct {
	text       string
	slot       int // in a resource's results, for a resource condition
	onResource *ottl.Condition[*ottlresource.TransformContext]
	onRecord   *ottl.Condition[*ottllog.TransformContext]
}

// anyOf matches when any of its conditions does.
type anyOf []*condition

// compiler compiles conditions, numbering the resource ones.
type compiler struct {
	logs      ottl.Parser[*ottllog.TransformContext]
	resources ottl.Parser[*ottlresource.TransformContext]
	slots     int
}

func newCompiler(set component.TelemetrySettings) (*compiler, error) {
	logs, err := newParser(set)
	if err != nil {
		return nil, err
	}
	resources, err := newResourceParser(set)
	if err != nil {
		return nil, err
	}
	return &compiler{logs: logs, resources: resources}, nil
}

func (c *compiler) compile(texts []string) (anyOf, error) {
	var out anyOf
	for _, text := range texts {
		cond := &condition{text: text}
		if onResource, err := c.resources.ParseCondition(text); err == nil {
			cond.onResource, cond.slot = onResource, c.slots
			c.slots++
		} else if cond.onRecord, err = c.logs.ParseCondition(text); err != nil {
			return nil, fmt.Errorf("%q: %w", text, err)
		}
		out = append(out, cond)
	}
	return out, nil
}

// evaluation evaluates the conditions for one record. A resource's results
// are kept for all its records; the contexts are made when first needed.
type evaluation struct {
	ctx    context.Context
	logger *zap.Logger
	rl     plog.ResourceLogs
	sl     plog.ScopeLogs
	lr     plog.LogRecord
	// resource holds, by slot, 0 (not evaluated yet), 1 (false), 2 (true).
	resource    []uint8
	resourceCtx *ottlresource.TransformContext
	recordCtx   *ottllog.TransformContext

	// resolved holds, by route, the destination a per-resource Resolve
	// gave this resource ("" until asked).
	resolved []string
}

func (e *evaluation) any(conds anyOf) bool {
	for _, c := range conds {
		if e.match(c) {
			return true
		}
	}
	return false
}

func (e *evaluation) match(c *condition) bool {
	if c.onResource != nil {
		if e.resource[c.slot] == 0 {
			if e.resourceCtx == nil {
				e.resourceCtx = ottlresource.NewTransformContext(e.rl.Resource(), e.rl)
			}
			e.resource[c.slot] = 1
			if ok, err := c.onResource.Eval(e.ctx, e.resourceCtx); e.outcome(c, ok, err) {
				e.resource[c.slot] = 2
			}
		}
		return e.resource[c.slot] == 2
	}
	if e.recordCtx == nil {
		e.recordCtx = ottllog.NewTransformContext(e.rl, e.sl, e.lr)
	}
	ok, err := c.onRecord.Eval(e.ctx, e.recordCtx)
	return e.outcome(c, ok, err)
}

// outcome reads a condition's result: an error counts as no match and is
// logged, as the collector's filter processors do with error_mode: ignore.
func (e *evaluation) outcome(c *condition, ok bool, err error) bool {
	if err != nil {
		e.logger.Warn("failed to eval condition", zap.String("condition", c.text), zap.Error(err))
	}
	return ok && err == nil
}

// nextRecord forgets the record's context; newResource also the resource's.
func (e *evaluation) nextRecord() {
	if e.recordCtx != nil {
		e.recordCtx.Close()
		e.recordCtx = nil
	}
}

func (e *evaluation) newResource(rl plog.ResourceLogs) {
	e.close()
	clear(e.resource)
	clear(e.resolved)
	e.rl = rl
}

// close releases the contexts.
func (e *evaluation) close() {
	e.nextRecord()
	if e.resourceCtx != nil {
		e.resourceCtx.Close()
		e.resourceCtx = nil
	}
}
