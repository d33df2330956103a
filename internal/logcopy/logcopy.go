// Package logcopy builds a plog.Logs from chosen records of another one,
// copying each resource and scope once, however many of its records are
// chosen.
package logcopy

import "go.opentelemetry.io/collector/pdata/plog"

// Builder appends copies of records. Records must be appended in the order
// of their source, as when walking it.
type Builder struct {
	out            plog.Logs
	tagKey         string
	srcRL, dstRL   plog.ResourceLogs
	srcSL, dstSL   plog.ScopeLogs
	tag            string
	started, fresh bool
}

// New returns an empty Builder.
func New() *Builder {
	return &Builder{out: plog.NewLogs()}
}

// NewTagged returns an empty Builder whose AppendTagged tags each copied
// scope with the attribute tagKey: one attribute per scope, not per record.
func NewTagged(tagKey string) *Builder {
	return &Builder{out: plog.NewLogs(), tagKey: tagKey}
}

// Append copies lr, found in scope sl of resource rl, and returns the copy.
func (b *Builder) Append(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) plog.LogRecord {
	return b.AppendTagged(rl, sl, lr, "")
}

// AppendTagged is Append into a scope whose tag attribute is tag: records
// of one source scope with different tags go to different copies of it.
func (b *Builder) AppendTagged(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord, tag string) plog.LogRecord {
	if !b.started || rl != b.srcRL {
		b.srcRL, b.dstRL = rl, b.out.ResourceLogs().AppendEmpty()
		rl.Resource().CopyTo(b.dstRL.Resource())
		b.dstRL.SetSchemaUrl(rl.SchemaUrl())
		b.started, b.fresh = true, true
	}
	if b.fresh || sl != b.srcSL || tag != b.tag {
		b.srcSL, b.dstSL, b.tag = sl, b.dstRL.ScopeLogs().AppendEmpty(), tag
		sl.Scope().CopyTo(b.dstSL.Scope())
		b.dstSL.SetSchemaUrl(sl.SchemaUrl())
		if b.tagKey != "" {
			b.dstSL.Scope().Attributes().PutStr(b.tagKey, tag)
		}
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
