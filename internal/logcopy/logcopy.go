// Package logcopy builds a plog.Logs from chosen records of another one,
// copying each resource and scope once, however many of its records are
// chosen. The records themselves are copied, or moved when the caller owns
// the source: moving a record costs one small allocation, where copying it
// allocates its body and each attribute anew. A source the caller owns can
// also be reduced in place to the chosen records (InPlace).
package logcopy

import "go.opentelemetry.io/collector/pdata/plog"

// Builder appends copies of records. Records must be appended in the order
// of their source, as when walking it.
type Builder struct {
	out          plog.Logs
	tagKey       string
	move         bool
	srcRL, dstRL plog.ResourceLogs
	srcSL, dstSL plog.ScopeLogs
	tag          string
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

// Moving makes b move records and scopes out of their source instead of
// copying them, leaving them empty there; resources are still copied, as
// records of one resource may go to several scopes. Only for a source the
// caller owns and reads no more, but for the resources and the records it
// has not appended yet.
func (b *Builder) Moving() *Builder {
	b.move = true
	return b
}

// Append copies lr, found in scope sl of resource rl, and returns the copy.
func (b *Builder) Append(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) plog.LogRecord {
	return b.AppendTagged(rl, sl, lr, "")
}

// AppendTagged is Append into a scope whose tag attribute is tag: records
// of one source scope with different tags go to different copies of it.
func (b *Builder) AppendTagged(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord, tag string) plog.LogRecord {
	b.resource(rl)
	if sl != b.srcSL || tag != b.tag {
		b.newScope(sl, tag)
		sl.Scope().CopyTo(b.dstSL.Scope())
		b.dstSL.SetSchemaUrl(sl.SchemaUrl())
		b.tagScope()
	}
	out := b.dstSL.LogRecords().AppendEmpty()
	if b.move {
		lr.MoveTo(out)
	} else {
		lr.CopyTo(out)
	}
	return out
}

// AppendScope copies all of scope sl of resource rl, records included, in
// one go (pdata sizes the record slice once), tagged as AppendTagged does.
func (b *Builder) AppendScope(rl plog.ResourceLogs, sl plog.ScopeLogs, tag string) {
	b.resource(rl)
	b.newScope(sl, tag)
	if b.move {
		sl.MoveTo(b.dstSL)
	} else {
		sl.CopyTo(b.dstSL)
	}
	b.tagScope()
}

// resource makes the copy of rl the one records go to, copying rl when it
// is not already. Scopes of a new resource are new too: a scope belongs to
// one resource.
func (b *Builder) resource(rl plog.ResourceLogs) {
	if rl == b.srcRL {
		return
	}
	b.srcRL, b.dstRL = rl, b.out.ResourceLogs().AppendEmpty()
	rl.Resource().CopyTo(b.dstRL.Resource())
	b.dstRL.SetSchemaUrl(rl.SchemaUrl())
}

func (b *Builder) newScope(sl plog.ScopeLogs, tag string) {
	b.srcSL, b.dstSL, b.tag = sl, b.dstRL.ScopeLogs().AppendEmpty(), tag
}

// tagScope puts the tag on the current copied scope, over any value the
// source scope had.
func (b *Builder) tagScope() {
	if b.tagKey != "" {
		b.dstSL.Scope().Attributes().PutStr(b.tagKey, b.tag)
	}
}

// Logs returns what was appended.
func (b *Builder) Logs() plog.Logs {
	return b.out
}
