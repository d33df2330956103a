package selection

import (
	"fmt"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/ottlfuncs"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
)

// conditions is a compiled list of OTTL log conditions; it matches when any
// of them does. Evaluation errors are logged and count as no match.
type conditions = ottl.ConditionSequence[*ottllog.TransformContext]

func newParser(set component.TelemetrySettings) (ottl.Parser[*ottllog.TransformContext], error) {
	return ottllog.NewParser(ottlfuncs.StandardConverters[*ottllog.TransformContext](), set)
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

func compile(parser ottl.Parser[*ottllog.TransformContext], set component.TelemetrySettings, texts []string) (*conditions, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	parsed, err := parser.ParseConditions(texts)
	if err != nil {
		return nil, err
	}
	seq := ottllog.NewConditionSequence(parsed, set, ottllog.WithConditionSequenceErrorMode(ottl.IgnoreError))
	return &seq, nil
}
