// Package group collapses the records of one push that share a fingerprint
// into entries with a count, so a burst of the same error becomes one line
// that says how often it happened.
package group

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Attr is one attribute shown with an entry.
type Attr struct {
	Key, Value string
}

// Entry is one fingerprint's records: a sample (the first record seen) and
// how many records it stands for.
type Entry struct {
	// Fingerprint identifies the records this entry stands for.
	Fingerprint  string
	Severity     plog.SeverityNumber
	SeverityText string
	Service      string
	Body         string
	// Resource holds the sample's resource attributes.
	Resource []Attr
	// Attributes are the sample's record attributes, in the record's order.
	Attributes  []Attr
	TraceID     string
	SpanID      string
	Count       int
	First, Last time.Time
	// QuietSince, when set, says the fingerprint has had no records since.
	QuietSince time.Time
	// Shown, for an entry read back from a message another process posted,
	// is its blocks as Slack shows them (a JSON array): there is no sample
	// to render it from until a record of its fingerprint arrives.
	Shown          json.RawMessage `json:",omitempty"`
	firstSeenOrder int
	// Records are the positions (as given to Add) of the records this entry
	// stands for, so a failed delivery can be retried record by record.
	Records []int
}

// Options say what makes two records the same.
type Options struct {
	// Mask replaces the variable parts of bodies (numbers, ids, addresses,
	// quoted values) before comparing them.
	Mask bool
	// By adds these attributes (record first, then resource) to the
	// fingerprint.
	By []string
	// Hidden is an attribute never shown (an internal tag).
	Hidden string
}

// Grouper collects entries; the zero value is not usable, use New.
type Grouper struct {
	opts    Options
	byKey   map[string]*Entry
	entries []*Entry
}

// New returns an empty Grouper.
func New(opts Options) *Grouper {
	return &Grouper{opts: opts, byKey: make(map[string]*Entry)}
}

// Add counts record lr (at position pos) into its entry.
func (g *Grouper) Add(res pcommon.Resource, lr plog.LogRecord, severity plog.SeverityNumber, pos int) {
	service := ""
	if v, ok := res.Attributes().Get("service.name"); ok {
		service = v.AsString()
	}
	body := bodyText(lr)
	key := g.fingerprint(res, lr, service, severity, body)
	at := recordTime(lr)
	e, ok := g.byKey[key]
	if !ok {
		e = newEntry(res, lr, severity, service, body, at, g.opts.Hidden)
		e.Fingerprint, e.firstSeenOrder = key, len(g.entries)
		g.byKey[key] = e
		g.entries = append(g.entries, e)
	}
	e.Count++
	e.Records = append(e.Records, pos)
	if at.Before(e.First) {
		e.First = at
	}
	if at.After(e.Last) {
		e.Last = at
	}
}

// newEntry is an entry with lr as its sample and no records counted yet.
func newEntry(res pcommon.Resource, lr plog.LogRecord, severity plog.SeverityNumber, service, body string, at time.Time, hidden string) *Entry {
	e := &Entry{
		Severity: severity, SeverityText: lr.SeverityText(), Service: service, Body: body,
		Resource: allAttributes(res.Attributes(), ""), Attributes: allAttributes(lr.Attributes(), hidden),
		First: at, Last: at,
	}
	if id := lr.TraceID(); !id.IsEmpty() {
		e.TraceID = id.String()
	}
	if id := lr.SpanID(); !id.IsEmpty() {
		e.SpanID = id.String()
	}
	return e
}

// One is the entry of lr alone, as Add would make it (without a
// fingerprint): what a template over one record sees, before any grouping.
func One(res pcommon.Resource, lr plog.LogRecord, severity plog.SeverityNumber, hidden string) *Entry {
	service := ""
	if v, ok := res.Attributes().Get("service.name"); ok {
		service = v.AsString()
	}
	at := recordTime(lr)
	e := newEntry(res, lr, severity, service, bodyText(lr), at, hidden)
	e.Count = 1
	return e
}

// Entries returns the entries, most frequent first, then in order of first
// appearance.
func (g *Grouper) Entries() []*Entry {
	out := slices.Clone(g.entries)
	slices.SortStableFunc(out, func(a, b *Entry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.firstSeenOrder, b.firstSeenOrder)
	})
	return out
}

// fingerprint identifies records that are the same error: same service,
// severity, exception type, (masked) body and grouping attributes. It is a
// hash, so a huge body costs no more to remember than a short one, and it is
// stable across restarts (live messages are stored by fingerprint).
func (g *Grouper) fingerprint(res pcommon.Resource, lr plog.LogRecord, service string, severity plog.SeverityNumber, body string) string {
	body = body[:min(len(body), maxFingerprintBody)]
	if g.opts.Mask {
		body = maskVariableParts(body)
	}
	h := sha256.New()
	field := func(s string) {
		_, _ = io.WriteString(h, s)
		_, _ = h.Write([]byte{0})
	}
	field(service)
	field(strconv.Itoa(int(severity)))
	exceptionType := ""
	if v, ok := lr.Attributes().Get("exception.type"); ok {
		exceptionType = v.AsString()
	}
	field(exceptionType)
	field(body)
	for _, key := range g.opts.By {
		v, ok := lr.Attributes().Get(key)
		if !ok {
			v, ok = res.Attributes().Get(key)
		}
		if ok {
			field(v.AsString())
		} else {
			field("\x00absent")
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// maxFingerprintBody: records whose bodies agree this far are the same
// error; comparing megabytes would only cost time.
const maxFingerprintBody = 16 << 10

// bodyText is a string body as is, a map or slice as compact JSON, and, for
// a record without a body, its exception message.
func bodyText(lr plog.LogRecord) string {
	if lr.Body().Type() != pcommon.ValueTypeEmpty {
		return lr.Body().AsString()
	}
	if v, ok := lr.Attributes().Get("exception.message"); ok {
		return v.AsString()
	}
	return ""
}

func recordTime(lr plog.LogRecord) time.Time {
	if ts := lr.Timestamp(); ts != 0 {
		return ts.AsTime()
	}
	if ts := lr.ObservedTimestamp(); ts != 0 {
		return ts.AsTime()
	}
	return time.Time{}
}

// allAttributes lists m's attributes in order, except hidden.
func allAttributes(m pcommon.Map, hidden string) []Attr {
	attrs := make([]Attr, 0, m.Len())
	for k, v := range m.All() {
		if k != hidden {
			attrs = append(attrs, Attr{Key: k, Value: v.AsString()})
		}
	}
	return attrs
}
