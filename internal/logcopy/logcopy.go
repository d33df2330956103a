// Package logcopy builds a plog.Logs from chosen records of another one,
// copying each resource and scope once, however many of its records are
// chosen.
package logcopy

import "go.opentelemetry.io/collector/pdata/plog"

// Builder appends copies of records. Records must be appended in the order
// of their source, as when walking it.
type Builder struct {
	out            plog.Logs
	srcRL, dstRL   plog.ResourceLogs
	srcSL, dstSL   plog.ScopeLogs
	started, fresh bool
}

// New returns an empty Builder.
func New() *Builder {
	return &Builder{out: plog.NewLogs()}
}

// Append copies lr, found in scope sl of resource rl, and returns the copy.
func (b *Builder) Append(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) plog.LogRecord {
	if !b.started || rl != b.srcRL {
		b.srcRL, b.dstRL = rl, b.out.ResourceLogs().AppendEmpty()
		rl.Resource().CopyTo(b.dstRL.Resource())
		b.dstRL.SetSchemaUrl(rl.SchemaUrl())
		b.started, b.fresh = true, true
	}
	if b.fresh || sl != b.srcSL {
		b.srcSL, b.dstSL = sl, b.dstRL.ScopeLogs().AppendEmpty()
		sl.Scope().CopyTo(b.dstSL.Scope())
		b.dstSL.SetSchemaUrl(sl.SchemaUrl())
		b.fresh = false
	}
	out := b.dstSL.LogRecords().AppendEmpty()
	lr.CopyTo(out)
	return out
}

// Logs returns what was appended.
func (b *Builder) Logs() plog.Logs {
	return b.out
}
