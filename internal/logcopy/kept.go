package logcopy

import "go.opentelemetry.io/collector/pdata/plog"

// Kept builds the part of src that a walk over it keeps: the walk calls
// Scope for every scope of src, in order, then Keep for each record of the
// scope it keeps, in order; each kept record goes into a scope tagged with
// its tag. A record the walk skips is dropped, at no cost to the walk. Kept
// copies as little as it can:
//   - a scope whose records are all kept with one tag is copied in one go;
//   - while every record so far is kept with the tag an untagged scope
//     stands for (implied), in an untagged scope, nothing is copied: if the
//     walk ends so, Logs returns src itself;
//   - other records are copied one by one.
//
// A caller that owns src walks it with InPlace instead.
type Kept struct {
	src     plog.Logs
	tagKey  string
	implied string
	out     Builder // by value: a Kept on the stack needs no allocation
	copying bool    // out is started: something is copied

	// shared: every record before the current scope was kept with implied,
	// in a scope without tagKey, and none of them is copied yet.
	shared bool

	// The current scope. whole: its first seen records were all kept, with
	// tag, and none of them is copied yet.
	rl    plog.ResourceLogs
	sl    plog.ScopeLogs
	whole bool
	seen  int
	tag   string
}

// NewKept starts a walk over src whose kept scopes carry their tag in the
// attribute tagKey; a scope without it stands for the tag implied.
func NewKept(src plog.Logs, tagKey, implied string) *Kept {
	return &Kept{src: src, tagKey: tagKey, implied: implied, shared: true}
}

// NewKeptTagged starts a walk whose Logs is always a copy, every scope of it
// tagged.
func NewKeptTagged(tagKey string) *Kept {
	return &Kept{tagKey: tagKey}
}

// Scope starts scope sl of resource rl. A scope that already carries tagKey
// cannot be handed on as it is: its copy gets the tag anew.
func (k *Kept) Scope(rl plog.ResourceLogs, sl plog.ScopeLogs) {
	k.finish()
	k.rl, k.sl, k.whole, k.seen, k.tag = rl, sl, true, 0, ""
	if _, tagged := sl.Scope().Attributes().Get(k.tagKey); tagged {
		k.unshare()
	}
}

// Keep keeps lr, the record at index i of the current scope, with tag.
func (k *Kept) Keep(i int, lr plog.LogRecord, tag string) {
	if k.whole {
		if i == k.seen && (i == 0 || tag == k.tag) {
			k.seen++
			k.tag = tag
			return
		}
		k.split() // a record before lr was dropped, or lr goes elsewhere
	}
	k.builder().AppendTagged(k.rl, k.sl, lr, tag)
}

// finish ends the current scope: copied whole if all its records were kept
// with one tag (unless src can still be handed on), or split if the ones
// after the first seen were dropped.
func (k *Kept) finish() {
	if !k.whole {
		return
	}
	n := k.sl.LogRecords().Len()
	switch {
	case k.seen < n:
		k.split()
	case n == 0 || k.shared && k.tag == k.implied:
		k.whole = false
	default:
		k.whole = false
		k.unshare()
		k.builder().AppendScope(k.rl, k.sl, k.tag)
	}
}

// split gives up copying the current scope whole: it copies one by one the
// first seen records, kept so far.
func (k *Kept) split() {
	k.whole = false
	k.unshare()
	records := k.sl.LogRecords()
	for i := range k.seen {
		k.builder().AppendTagged(k.rl, k.sl, records.At(i), k.tag)
	}
}

// unshare copies what was handed on as it is so far, every scope before the
// current one that has records, since src itself will not do.
func (k *Kept) unshare() {
	if !k.shared {
		return
	}
	k.shared = false
	for _, rl := range k.src.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			if sl == k.sl {
				return
			}
			if sl.LogRecords().Len() > 0 {
				k.builder().AppendScope(rl, sl, k.implied)
			}
		}
	}
}

func (k *Kept) builder() *Builder {
	if !k.copying {
		k.out, k.copying = Builder{out: plog.NewLogs(), tagKey: k.tagKey}, true
	}
	return &k.out
}

// Logs ends the walk and returns what it kept: src itself when every record
// was kept with implied and no scope of src carries tagKey (the caller must
// then not modify it, as it must not modify src), otherwise a copy.
func (k *Kept) Logs() plog.Logs {
	k.finish()
	switch {
	case k.shared:
		return k.src
	case !k.copying:
		return plog.NewLogs()
	}
	return k.out.Logs()
}
