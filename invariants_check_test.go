package slackexporter

// The promises TestDeliveryInvariants checks after each run, from Slack's
// final state (the emulator's messages and their histories), every call it
// received, and the exporter's counters.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/slackexporter/slackexporter/internal/render"
	"github.com/slackexporter/slackexporter/internal/slackemu"
)

func (w *world) check() {
	msgs := w.emu.Messages()
	calls := w.emu.Calls()
	w.checkAccounting(msgs)
	w.checkLimits(calls)
	w.checkMentions(msgs)
	w.checkPacing(calls)
	w.checkLiveMessages(msgs)
	w.checkQuietMarks(msgs)
	w.checkMetadata(msgs)
	w.checkMutes(msgs)
}

func (w *world) fail(format string, args ...any) {
	w.t.Helper()
	w.t.Errorf(format, args...)
}

// shownEntry is one entry of a message as Slack shows it.
type shownEntry struct {
	marker string
	count  int
	quiet  bool
}

// shownMessage is what one version of a message shows.
type shownMessage struct {
	entries []shownEntry
	folded  int
	// meantFor is the templated channel a rerouted message's records were
	// meant for ("#gone-inv"), from its note.
	meantFor string
}

var (
	entryTitle = regexp.MustCompile(`^\*(FATAL|ERROR|WARN|INFO|DEBUG|TRACE|UNSPECIFIED)\* · `)
	markerText = regexp.MustCompile(`fp-[g-z]+`)
	meantFor   = regexp.MustCompile(`^↪ meant for (#[a-z0-9_-]+|[CGD][A-Z0-9]+)(?:: [a-z_]+)?$`)
)

// markerOf is the fingerprint's marker in a body or an entry's text.
func markerOf(s string) string {
	return markerText.FindString(s)
}

// parseShown reads the entries and the fold line out of a message's blocks.
func parseShown(raw json.RawMessage) (shownMessage, error) {
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Text string `json:"text"`
		} `json:"elements"`
	}
	var out shownMessage
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return out, err
	}
	for _, b := range blocks {
		switch {
		case b.Type == "section" && b.Text != nil:
			title, rest, _ := strings.Cut(b.Text.Text, "\n")
			if !entryTitle.MatchString(title) {
				continue
			}
			e := shownEntry{count: 1, marker: markerOf(rest), quiet: strings.Contains(title, " · quiet since ")}
			if c := countMark.FindStringSubmatch(title); c != nil {
				e.count, _ = strconv.Atoi(strings.ReplaceAll(c[1], ",", ""))
			}
			if e.marker == "" {
				return out, fmt.Errorf("an entry without its marker: %.200q", b.Text.Text)
			}
			out.entries = append(out.entries, e)
		case b.Type == "context" && len(b.Elements) > 0 && strings.HasPrefix(b.Elements[0].Text, "↪ "):
			c := meantFor.FindStringSubmatch(b.Elements[0].Text)
			if c == nil {
				return out, fmt.Errorf("a note that does not say where its records were meant to go: %q", b.Elements[0].Text)
			}
			out.meantFor = c[1]
		case b.Type == "context" && len(b.Elements) > 0 && strings.HasPrefix(b.Elements[0].Text, "➕ "):
			c := foldMark.FindStringSubmatch(b.Elements[0].Text)
			if c == nil {
				return out, fmt.Errorf("a fold line without its count: %q", b.Elements[0].Text)
			}
			out.folded, _ = strconv.Atoi(strings.ReplaceAll(c[1], ",", ""))
		}
	}
	return out, nil
}

func (s shownMessage) records() int {
	n := s.folded
	for _, e := range s.entries {
		n += e.count
	}
	return n
}

// checkAccounting is promise 1: every accepted record is shown in Slack's
// final state exactly once (entry counts and fold lines, top-level messages
// only), or counted in records_dropped, or (muted from Slack) in
// records_muted. Nothing else. The records of a
// templated channel may be shown in the default channel instead, in
// messages that say they were meant for it: they count for it, and in
// records_rerouted.
func (w *world) checkAccounting(msgs []slackemu.Message) {
	shown := map[string]int{} // by the channel they were meant for
	total, rerouted := 0, 0
	for _, m := range msgs {
		if m.ThreadTS != "" {
			continue // a sample reply shows records already counted
		}
		s, err := parseShown(m.Blocks)
		if err != nil {
			w.fail("check 1: message %s in %s: %v", m.TS, m.Channel, err)
			continue
		}
		ch := m.Channel
		if s.meantFor != "" {
			if m.Channel != w.dests[""].slack {
				w.fail("check 1: message %s in %s says its records were meant for %s: only the default channel takes them", m.TS, m.Channel, s.meantFor)
			}
			ch = s.meantFor
			rerouted += s.records()
		}
		shown[ch] += s.records()
		total += s.records()
	}
	byChannel := map[string]int{}
	permanent := map[string]bool{}
	accepted := 0
	for _, d := range w.dests {
		byChannel[d.slack] += d.accepted
		accepted += d.accepted
		// Rerouted records are dropped if the default channel refuses
		// them for good.
		permanent[d.slack] = permanent[d.slack] || w.permanent[d.slack] || (d.dynamic && w.permanent[w.dests[""].slack])
	}
	w.checks++
	if n := w.counter("otelcol_exporter_slack_records_rerouted"); n != rerouted {
		w.fail("check 1: records_rerouted says %d, the default channel shows %d records meant for another", n, rerouted)
	}
	for ch, n := range byChannel {
		w.checks++
		switch {
		case shown[ch] > n:
			w.fail("check 1: %s shows %d records, only %d were accepted for it: some are shown twice", ch, shown[ch], n)
		case shown[ch] < n && !permanent[ch] && !w.mutedAny():
			w.fail("check 1: %s shows %d of the %d records accepted for it, and Slack never refused one for good there", ch, shown[ch], n)
		}
	}
	dropped := w.counter("otelcol_exporter_slack_records_dropped")
	muted := w.counter("otelcol_exporter_slack_records_muted")
	delivered := w.counter("otelcol_exporter_slack_records_delivered")
	w.checks += 3
	if total+dropped+muted != accepted {
		w.fail("check 1: %d records shown + %d counted as dropped + %d muted != %d accepted", total, dropped, muted, accepted)
	}
	if muted > 0 && !w.mutedAny() {
		w.fail("check 1: %d records counted as muted, and nobody muted anything", muted)
	}
	if delivered != total {
		w.fail("check 1: records_delivered says %d, Slack shows %d", delivered, total)
	}
}

// counter sums an exporter counter over its attributes.
func (w *world) counter(name string) int {
	n := 0
	for _, v := range w.counterBy(name) {
		n += v
	}
	return n
}

// counterBy is an exporter counter by the value of its "error" attribute.
func (w *world) counterBy(name string) map[string]int {
	out := map[string]int{}
	m, err := w.tel.GetMetric(name)
	if err != nil {
		return out // never recorded
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		w.fail("%s is not an int64 sum", name)
		return out
	}
	for _, dp := range sum.DataPoints {
		v, _ := dp.Attributes.Value("error")
		out[v.AsString()] += int(dp.Value)
	}
	return out
}

// checkLimits is promise 2: Slack refused no call for breaking one of its
// rules (the emulator rejects what Slack would), and never acted on a call
// whose caller had given up.
func (w *world) checkLimits(calls []slackemu.Call) {
	for _, c := range calls {
		w.checks++
		switch {
		case c.Injected || c.Status == 429 || c.Error == "":
		case strings.HasPrefix(c.Error, "client_gone after"):
			w.fail("check 2: %s to %s at %s: Slack acted (%s) after the exporter gave up on the call: a retry would post it twice",
				c.Method, c.Dest, c.At.Format("15:04:05.000"), strings.TrimPrefix(c.Error, "client_gone after "))
		default:
			w.fail("check 2: %s to %s at %s refused by Slack's own rules: %s", c.Method, c.Dest, c.At.Format("15:04:05.000"), c.Error)
		}
	}
}

var mentionMarkup = regexp.MustCompile(`<(?:!here|!channel|!everyone|@[UW][A-Z0-9]+|!subteam\^[A-Z0-9]+)(?:\|[^>]*)?>`)

// checkMentions is promise 3: a configured mention appears only in
// top-level messages of a channel it is configured for; a reply never
// pings; no text from a record ever becomes a mention. The one other: the
// person who clicked an entry, named by its status in an update.
func (w *world) checkMentions(msgs []slackemu.Message) {
	allowed := map[string][]string{}
	for _, d := range w.dests {
		if d.mention != "" {
			allowed[d.slack] = append(allowed[d.slack], d.mention)
		}
	}
	for _, m := range msgs {
		for i, v := range m.History {
			w.checks++
			texts, _ := blockTexts(v.Blocks, true) // blocks that do not parse fail check 1
			found := mentionMarkup.FindAllString(v.Text+"\n"+strings.Join(texts, "\n"), -1)
			for _, f := range found {
				switch {
				case m.ThreadTS != "":
					w.fail("check 3: reply %s in %s pings %s", m.TS, m.Channel, f)
				case i > 0 && f == "<@"+clickUser+">" && w.mute != nil:
					// An entry's status names who clicked, in an update:
					// an edit notifies nobody.
				case !slices.Contains(allowed[m.Channel], f):
					w.fail("check 3: message %s (version %d) in %s has the mention %s, configured there: %v", m.TS, i, m.Channel, f, allowed[m.Channel])
				}
			}
		}
	}
}

// timedCall is a call to Slack with the exporter's own times for it: when
// it left (the rate limiter had let it go just before) and when its answer
// came back (a Retry-After pause starts then).
type timedCall struct {
	slackemu.Call
	sent, answered time.Time
}

// pacingSlack is how much closer together than the limiter let them go two
// calls may leave: scheduling and JSON encoding between the limiter and the
// HTTP client on a shared machine (40 ms seen with two mutation-test
// workers beside the tests). The bugs this check is for send calls
// together, not 50 ms early.
const pacingSlack = 50 * time.Millisecond

// checkPacing is promise 4: posts to a destination never exceed burst plus
// per_second × elapsed time; after a 429 nothing goes out before its
// Retry-After, and then nothing faster than the rate. Each exporter
// instance starts with a fresh limiter, so each is checked on its own.
func (w *world) checkPacing(calls []slackemu.Call) {
	rate, burst := w.cfg.RateLimit.PerSecond, w.cfg.RateLimit.Burst
	epochOf := func(at time.Time) int {
		i, _ := slices.BinarySearchFunc(w.epochs, at, func(e, t time.Time) int { return e.Compare(t) })
		return i
	}
	posts := map[string][]timedCall{} // by destination and epoch
	updates := map[int][]timedCall{}
	for _, c := range calls {
		sent, answered := w.clock.times(c.RequestID)
		if sent.IsZero() {
			w.fail("check 4: a %s call to %s that did not go through the exporter's HTTP client", c.Method, c.Dest)
			continue
		}
		tc := timedCall{c, sent, answered}
		switch c.Method {
		case "chat.postMessage", "webhook":
			k := fmt.Sprintf("%s/%d", c.Dest, epochOf(sent))
			posts[k] = append(posts[k], tc)
		case "chat.update":
			updates[epochOf(sent)] = append(updates[epochOf(sent)], tc)
		}
	}
	bySent := func(a, b timedCall) int { return a.sent.Compare(b.sent) }
	for k, ps := range posts {
		slices.SortFunc(ps, bySent)
		for j := range ps {
			for i := range j {
				w.checks++
				allowed := float64(burst) + rate*(ps[j].sent.Sub(ps[i].sent)+pacingSlack).Seconds()
				if n := j - i + 1; float64(n) > allowed {
					w.fail("check 4: %d posts to %s left between %s and %s: more than burst %d + %v/s allow; they were: %s",
						n, k, ps[i].sent.Format("15:04:05.000"), ps[j].sent.Format("15:04:05.000"), burst, rate, describe(ps[max(i-2, 0):j+1]))
					return
				}
			}
		}
		w.checkRetryAfter(k, ps, rate)
	}
	updateRate := w.cfg.Threads.UpdatesPerMinute / 60
	for epoch, us := range updates {
		slices.SortFunc(us, bySent)
		w.checkRetryAfter(fmt.Sprintf("chat.update/%d", epoch), us, updateRate)
	}
}

// describe lists calls for a failure message.
func describe(calls []timedCall) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "\n      %s %s thread_ts=%q status=%d %s retry_after=%d left %s answered %s",
			c.Method, c.Dest, c.ThreadTS, c.Status, c.Error, c.RetryAfter, c.sent.Format("15:04:05.000"), c.answered.Format("15:04:05.000"))
	}
	return b.String()
}

// checkRetryAfter: once a 429 has come back, no call of calls leaves before
// its Retry-After has passed, then none faster than rate from the pause's
// end. A call that had passed the limiter before the 429 came back may
// still leave a moment after it.
func (w *world) checkRetryAfter(what string, calls []timedCall, rate float64) {
	for _, c := range calls {
		if c.Status != 429 || c.answered.IsZero() {
			continue
		}
		resume := c.answered.Add(time.Duration(max(c.RetryAfter, 1)) * time.Second)
		after := 0
		for _, n := range calls {
			if !n.sent.After(c.answered.Add(pacingSlack)) {
				continue
			}
			w.checks++
			if n.sent.Before(resume) {
				w.fail("check 4: %s: a call left at %s, %s after a 429 with Retry-After %ds came back",
					what, n.sent.Format("15:04:05.000"), n.sent.Sub(c.answered).Round(time.Millisecond), c.RetryAfter)
				return
			}
			after++
			if allowed := 1 + rate*(n.sent.Sub(resume)+pacingSlack).Seconds(); float64(after) > allowed {
				w.fail("check 4: %s: %d calls within %s of the end of a Retry-After pause: a burst, not the rate",
					what, after, n.sent.Sub(resume).Round(time.Millisecond))
				return
			}
		}
	}
}

// checkLiveMessages is the first part of promise 5: a live message's counts
// never go down from one version to the next, and a line whose count grew
// is not called quiet; a fingerprint is counted in one message of a channel
// at a time inside the window: once a newer message shows it, the older
// ones' counts for it never change again. A message Slack said was gone
// (an injected message_not_found on its update: for the exporter it was
// deleted) takes nothing over from then on: an older one may count again,
// as it would if a person had deleted the newer one.
func (w *world) checkLiveMessages(msgs []slackemu.Message) {
	type shownAt struct {
		msg     string
		version int       // Seq
		at      time.Time // when the version was applied
		posted  time.Time // the live messages' clock when the message was posted
		count   int
	}
	gone := map[string]time.Time{} // channel + ts → when Slack first said it was not found
	for _, c := range w.emu.Calls() {
		if k := c.Dest + " " + c.TS; c.Method == "chat.update" && c.Injected && c.Error == "message_not_found" && gone[k].IsZero() {
			gone[k] = c.At
		}
	}
	byFingerprint := map[string][][]shownAt{} // channel + marker → per message, its versions
	for _, m := range msgs {
		if m.ThreadTS != "" {
			continue
		}
		var prev shownMessage
		perMarker := map[string][]shownAt{}
		for i, v := range m.History {
			s, err := parseShown(v.Blocks)
			if err != nil {
				w.fail("check 5: %s version %d: %v", m.TS, i, err)
				return
			}
			if i > 0 {
				w.checks++
				w.compareVersions(m, i, prev, s)
			}
			for _, e := range s.entries {
				perMarker[e.marker] = append(perMarker[e.marker], shownAt{m.TS, v.Seq, v.At, w.fakeAt(m.History[0].At), e.count})
			}
			prev = s
		}
		for marker, seen := range perMarker {
			k := m.Channel + " " + marker
			byFingerprint[k] = append(byFingerprint[k], seen)
		}
	}
	for k, messages := range byFingerprint {
		// Messages are in posting order (the emulator's order).
		for i, older := range messages {
			for _, newer := range messages[i+1:] {
				if newer[0].posted.Sub(older[0].posted) >= w.cfg.Threads.Window {
					continue // the older one's window had passed: it may take a last count in flight
				}
				posted := newer[0].version
				channel, _, _ := strings.Cut(k, " ")
				deleted, isGone := gone[channel+" "+newer[0].msg]
				before := -1
				for _, v := range older {
					w.checks++
					switch {
					case v.version < posted:
						before = v.count
					case isGone && v.at.After(deleted):
						// The newer one was gone by then.
					case before >= 0 && v.count != before:
						w.fail("check 5: %s: message %s went on counting (%d → %d) after message %s took the fingerprint over",
							k, v.msg, before, v.count, newer[0].msg)
						return
					}
				}
			}
		}
	}
}

func (w *world) compareVersions(m slackemu.Message, i int, prev, cur shownMessage) {
	if len(prev.entries) != len(cur.entries) {
		w.fail("check 5: %s in %s: version %d shows %d entries, version %d showed %d", m.TS, m.Channel, i, len(cur.entries), i-1, len(prev.entries))
		return
	}
	if cur.folded < prev.folded {
		w.fail("check 5: %s in %s: the fold line went down from %d to %d", m.TS, m.Channel, prev.folded, cur.folded)
	}
	for j, e := range cur.entries {
		p := prev.entries[j]
		switch {
		case e.marker != p.marker:
			w.fail("check 5: %s in %s: entry %d changed from %s to %s", m.TS, m.Channel, j, p.marker, e.marker)
		case e.count < p.count:
			w.fail("check 5: %s in %s: %s went down from %d to %d", m.TS, m.Channel, e.marker, p.count, e.count)
		case e.count > p.count && e.quiet:
			w.fail("check 5: %s in %s: %s went from %d to %d and says quiet", m.TS, m.Channel, e.marker, p.count, e.count)
		}
	}
}

// checkQuietMarks is the second part of promise 5: a line marked quiet had
// no records for quiet_after. A push that returned nil before a quiet tick
// started delivered its fingerprints (unless Slack refused some for good
// there); the tick must not call them quiet if that push's clock was less
// than quiet_after before the tick's.
func (w *world) checkQuietMarks(msgs []slackemu.Message) {
	newQuietMarks(msgs, w.permanent, func(m slackemu.Message, v slackemu.Version, marker string) {
		w.checkQuietMark(m.Channel, marker, v.Seq)
	})
}

// newQuietMarks calls mark for each line that a version of a top-level
// message outside the skipped channels marks quiet, the version before not.
// A version that cannot be read ends the walk (check 1 reports it).
func newQuietMarks(msgs []slackemu.Message, skip map[string]bool, mark func(m slackemu.Message, v slackemu.Version, marker string)) {
	for _, m := range msgs {
		if m.ThreadTS != "" || skip[m.Channel] {
			continue
		}
		var prev shownMessage
		for i, v := range m.History {
			s, err := parseShown(v.Blocks)
			if err != nil {
				return
			}
			if i > 0 && len(prev.entries) == len(s.entries) {
				for j, e := range s.entries {
					if e.quiet && !prev.entries[j].quiet {
						mark(m, v, e.marker)
					}
				}
			}
			prev = s
		}
	}
}

func (w *world) checkQuietMark(channel, marker string, seq int) {
	for _, tick := range w.ticks {
		if seq < tick.firstSeq || seq > tick.afterSeq {
			continue
		}
		for _, p := range w.pushes {
			w.checks++
			if p.ok && p.ended.Before(tick.started) && p.markers[channel+" "+marker] && tick.fake.Sub(p.fake) < w.cfg.Threads.QuietAfter {
				w.fail("check 5: %s in %s marked quiet at %s, %s after a push delivered it",
					marker, channel, tick.fake.Format("15:04:05"), tick.fake.Sub(p.fake).Round(time.Second))
				return
			}
		}
	}
}

// checkMetadata is promise 7: every version of every top-level message the
// Web API took carries metadata that stands for exactly what it shows (its
// records, folded included, and each entry's count in order), in a flat
// payload of known keys only: nothing a reader of the workspace should not
// see.
func (w *world) checkMetadata(msgs []slackemu.Message) {
	known := map[string]bool{"records": true, "folded_records": true, "folded_groups": true, "fingerprints": true, "counts": true,
		"first_seen": true, "severities": true, "services": true, "destination": true, "muted_until": w.mute != nil, "muted_by": w.mute != nil}
	for _, m := range msgs {
		if m.ThreadTS != "" || m.Via != "api" {
			continue
		}
		for i, v := range m.History {
			w.checks++
			var meta struct {
				EventType    string         `json:"event_type"`
				EventPayload map[string]any `json:"event_payload"`
			}
			if err := json.Unmarshal(v.Metadata, &meta); err != nil || meta.EventType != render.EventType {
				w.fail("check 7: %s in %s version %d: metadata %s (%v)", m.TS, m.Channel, i, v.Metadata, err)
				continue
			}
			s, err := parseShown(v.Blocks)
			if err != nil {
				continue // check 1 or 5 reports it
			}
			counts := make([]string, len(s.entries))
			for j, e := range s.entries {
				counts[j] = strconv.Itoa(e.count)
			}
			p := meta.EventPayload
			if p["records"] != float64(s.records()) || p["folded_records"] != float64(s.folded) || p["counts"] != strings.Join(counts, ",") {
				w.fail("check 7: %s in %s version %d shows %d records (counts %v, %d folded), its metadata says %v",
					m.TS, m.Channel, i, s.records(), counts, s.folded, p)
			}
			for k := range p {
				if !known[k] {
					w.fail("check 7: %s in %s: metadata has %q", m.TS, m.Channel, k)
				}
			}
			if by, ok := p["muted_by"].(string); ok && strings.Trim(strings.ReplaceAll(by, clickUser, ""), ",") != "" {
				w.fail("check 7: %s in %s: muted by %q, and only %s clicks", m.TS, m.Channel, by, clickUser)
			}
		}
	}
}
