package logcopy

import (
	"slices"

	"go.opentelemetry.io/collector/pdata/plog"
)

// InPlace is the walk of Kept for a source the caller owns, as a consumer
// that declares MutatesData owns what the pipeline hands it: instead of
// copying what is kept, it removes from src what is not, tags scopes where
// they are, and returns src. A kept record costs no allocation; only a
// scope whose records go to several tags is split, its records for the
// other tags moved to a new scope per tag, appended to the resource: the
// records of one tag keep their order within each source scope, not
// across scopes.
//
// The walk only notes what it keeps; src changes when Logs is called, so
// the caller may read every record of src until then.
type InPlace struct {
	src     plog.Logs
	tagKey  string
	implied string
	tagAll  bool
	scopes  []walkedScope
	kept    []keptRecord // the kept records of scopes that are not a run
	tags    []string     // keptRecord.tag indexes it
	scratch plog.ScopeLogs
}

// walkedScope is what the walk kept of a scope. Most scopes are a run: the
// records kept are its first ones, all with one tag, and are not listed.
type walkedScope struct {
	rl     plog.ResourceLogs
	sl     plog.ScopeLogs
	tag    string // the tag of its first kept record
	kept   int
	listed int // where its records start in InPlace.kept; -1 for a run
}

type keptRecord struct {
	i, tag int32 // index in its scope, index in InPlace.tags
}

// NewInPlace starts a walk over src, which the caller gives up: Logs
// returns src itself, holding the kept records only. A scope tagged
// implied loses its tagKey attribute (no attribute stands for implied)
// unless tagAll, which tags every scope.
func NewInPlace(src plog.Logs, tagKey, implied string, tagAll bool) *InPlace {
	scopes := 0
	for _, rl := range src.ResourceLogs().All() {
		scopes += rl.ScopeLogs().Len()
	}
	return &InPlace{src: src, tagKey: tagKey, implied: implied, tagAll: tagAll, scopes: make([]walkedScope, 0, scopes)}
}

// Scope starts scope sl of resource rl.
func (k *InPlace) Scope(rl plog.ResourceLogs, sl plog.ScopeLogs) {
	k.scopes = append(k.scopes, walkedScope{rl: rl, sl: sl, listed: -1})
}

// Keep keeps the record at index i of the current scope with tag.
func (k *InPlace) Keep(i int, _ plog.LogRecord, tag string) {
	s := &k.scopes[len(k.scopes)-1]
	if s.kept == 0 {
		s.tag = tag
	}
	if s.listed < 0 {
		if i == s.kept && tag == s.tag {
			s.kept++
			return
		}
		// The run ends here: list it, then this record.
		s.listed = len(k.kept)
		first := k.tagIndex(s.tag)
		for j := range s.kept {
			k.kept = append(k.kept, keptRecord{i: int32(j), tag: first})
		}
	}
	k.kept = append(k.kept, keptRecord{i: int32(i), tag: k.tagIndex(tag)})
	s.kept++
}

// tagIndex is the index of tag in k.tags, added if new: a walk meets few
// tags, most often the last one again.
func (k *InPlace) tagIndex(tag string) int32 {
	for n := len(k.tags) - 1; n >= 0; n-- {
		if k.tags[n] == tag {
			return int32(n)
		}
	}
	k.tags = append(k.tags, tag)
	return int32(len(k.tags) - 1)
}

// Logs ends the walk: src, reduced to what was kept.
func (k *InPlace) Logs() plog.Logs {
	if len(k.kept) == 0 && !slices.ContainsFunc(k.scopes, func(s walkedScope) bool { return s.kept > 0 }) {
		// Nothing kept, as for most batches of a quiet collector: src
		// is emptied at once, none of its records touched.
		k.src.ResourceLogs().MoveAndAppendTo(plog.NewResourceLogsSlice())
		return k.src
	}
	for _, s := range k.scopes {
		k.reduce(s)
	}
	k.src.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool { return sl.LogRecords().Len() == 0 })
		return rl.ScopeLogs().Len() == 0
	})
	return k.src
}

// reduce leaves in scope s the records kept with the tag of its first kept
// one, moves those kept with other tags to new scopes, and tags s.
func (k *InPlace) reduce(s walkedScope) {
	records := s.sl.LogRecords()
	before := records.Len()
	var listed []keptRecord // nil for a run
	if s.listed >= 0 {
		listed = k.kept[s.listed : s.listed+s.kept]
	}
	switch {
	case s.kept == 0:
		// Emptied at once, for Logs to remove: the scratch scope takes
		// what it held.
		s.sl.MoveTo(k.scratchScope())
		return
	case s.kept*4 < before && oneTag(listed):
		k.keepFew(s.sl, s.kept, listed)
	case listed == nil:
		i := 0
		records.RemoveIf(func(plog.LogRecord) bool {
			i++
			return i > s.kept
		})
	default:
		k.split(s, listed)
		compact(records, before)
	}
	k.tag(s.sl, s.tag)
}

// keepFew leaves in sl only its n kept records (its first n when listed is
// nil), in an array of their size. The dropped records, most of the scope,
// are left as they are: RemoveIf would clear each one, which costs more
// than moving the few kept.
func (k *InPlace) keepFew(sl plog.ScopeLogs, n int, listed []keptRecord) {
	old := k.scratchScope()
	sl.MoveTo(old)
	old.Scope().MoveTo(sl.Scope())
	sl.SetSchemaUrl(old.SchemaUrl())
	from, to := old.LogRecords(), sl.LogRecords()
	to.EnsureCapacity(n)
	for j := range n {
		i := j
		if listed != nil {
			i = int(listed[j].i)
		}
		from.At(i).MoveTo(to.AppendEmpty())
	}
}

// scratchScope is where a scope's contents go to be dropped.
func (k *InPlace) scratchScope() plog.ScopeLogs {
	if k.scratch == (plog.ScopeLogs{}) {
		k.scratch = plog.NewScopeLogs()
	}
	return k.scratch
}

// oneTag reports whether every record of listed has the tag of the first.
func oneTag(listed []keptRecord) bool {
	for _, r := range listed {
		if r.tag != listed[0].tag {
			return false
		}
	}
	return true
}

// compact gives records an array of their own size when fewer than a
// quarter of those it held are left after a split: RemoveIf keeps the
// array, and a batch waiting in the queue for one kept record should not
// hold the slots of the thousands dropped around it.
func compact(records plog.LogRecordSlice, before int) {
	if records.Len()*4 >= before {
		return
	}
	fresh := plog.NewLogRecordSlice()
	fresh.EnsureCapacity(records.Len())
	records.MoveAndAppendTo(fresh) // copies the pointers into fresh's array
	fresh.MoveAndAppendTo(records) // hands that array back
}

// split leaves in scope s the records of kept whose tag is s.tag, moving
// the others to a new scope per tag (rare: a route splits the scope).
func (k *InPlace) split(s walkedScope, kept []keptRecord) {
	records := s.sl.LogRecords()
	tag := kept[0].tag // s.tag's index
	var elsewhere map[int32]plog.ScopeLogs
	for _, r := range kept {
		if r.tag == tag {
			continue
		}
		dst, ok := elsewhere[r.tag]
		if !ok {
			if elsewhere == nil {
				elsewhere = map[int32]plog.ScopeLogs{}
			}
			dst = s.rl.ScopeLogs().AppendEmpty()
			s.sl.Scope().CopyTo(dst.Scope())
			dst.SetSchemaUrl(s.sl.SchemaUrl())
			k.tag(dst, k.tags[r.tag])
			elsewhere[r.tag] = dst
		}
		records.At(int(r.i)).MoveTo(dst.LogRecords().AppendEmpty())
	}
	next, i := 0, int32(0)
	records.RemoveIf(func(plog.LogRecord) bool {
		stays := next < len(kept) && kept[next].i == i && kept[next].tag == tag
		if next < len(kept) && kept[next].i == i {
			next++
		}
		i++
		return !stays
	})
}

// tag names tag on sl, over any value it had; for implied, without tagAll,
// by having no tag.
func (k *InPlace) tag(sl plog.ScopeLogs, tag string) {
	attrs := sl.Scope().Attributes()
	if tag == k.implied && !k.tagAll {
		attrs.Remove(k.tagKey)
		return
	}
	attrs.PutStr(k.tagKey, tag)
}
