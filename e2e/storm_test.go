package e2e

// Storm-proof delivery end to end (issue #3): repeats of an error update the
// message that first showed it instead of posting again, and a storm of
// 20,000 records across two channels reaches Slack within its rate limits,
// every record accounted for by the counts Slack shows.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// Counters besides those in helpers_test.go: the exporter's own, and
// exporterhelper's.
const (
	metricFolded        = "otelcol_exporter_slack_records_folded"
	metricSentRecords   = "otelcol_exporter_sent_log_records"
	metricSendFailed    = "otelcol_exporter_send_failed_log_records"
	metricEnqueueFailed = "otelcol_exporter_enqueue_failed_log_records"
)

// threadsMode is a bot token posting to #alerts with every threads and
// rate_limit setting at its default, a quick batch flush, and extra
// settings (YAML at column 0) appended.
func threadsMode(extra string) string {
	return `
token: ${env:SLACK_BOT_TOKEN}
api_url: ${env:SLACK_API_URL}
channel: "#alerts"
` + fastDelivery + extra
}

// timeouts returns n records of one error whose text differs only in its
// numbers ("timeout after 31ms for user 42"); seed varies the numbers.
func timeouts(n, seed int) []log.Record {
	out := make([]log.Record, n)
	for i := range out {
		k := seed*100 + i
		out[i] = Record(log.SeverityError, fmt.Sprintf("timeout after %dms for user %d", 10+(k*37)%990, 1+(k*53)%5000))
	}
	return out
}

// The same error, its numbers different each time, sent in two bursts
// seconds apart: one message, whose counter the second burst updates
// (chat.update) to the total; no thread reply within reply_every (5m).
func TestRepeatsUpdateTheirMessage(t *testing.T) {
	emu := StartEmulator(t)
	col := StartCollector(t, SlackConfig(threadsMode("")), emu.Env()...)
	res := Service("checkout", "prod")

	col.SendLogs(t, res, timeouts(5, 1)...)
	waitCounter(t, col, 30*time.Second, 5, metricDelivered)
	first := emu.WaitQuiet(t, 500*time.Millisecond, 30*time.Second)
	if len(first) != 1 {
		t.Fatalf("want 1 message after the first burst, got %d:\n%s", len(first), emu.MessagesText(t))
	}
	parent := first[0]
	if got := shownRecords(t, parent); got != 5 {
		t.Fatalf("the first message shows %d records, want 5:\n%s", got, emu.MessagesText(t))
	}

	time.Sleep(2 * time.Second)
	col.SendLogs(t, res, timeouts(7, 2)...)
	waitCounter(t, col, 30*time.Second, 12, metricDelivered)
	msgs := emu.WaitQuiet(t, time.Second, 30*time.Second)

	if len(msgs) != 1 {
		t.Fatalf("want the one message, updated; got %d messages:\n%s", len(msgs), emu.MessagesText(t))
	}
	m := msgs[0]
	if m.TS != parent.TS || m.ThreadTS != "" {
		t.Fatalf("the message is not the first one (ts %s, thread_ts %q; first was %s)", m.TS, m.ThreadTS, parent.TS)
	}
	if m.Updates <= parent.Updates {
		t.Errorf("the message was updated %d times after the second burst, %d before it: the second burst did not update it", m.Updates, parent.Updates)
	}
	shown := parseShown(t, m)
	if len(shown.Entries) != 1 || shown.Entries[0].Count != 12 || shown.Folded != 0 {
		t.Errorf("the message shows %+v, want one entry ×12", shown)
	}
	if !m.Contains("×12") {
		t.Errorf("the message does not say ×12:\n%s", m.AllText())
	}
	if got := col.Counter(t, metricSent); got != 1 {
		t.Errorf("%s = %v, want 1", metricSent, got)
	}
	if got := col.Counter(t, metricFolded); got != 7 {
		t.Errorf("%s = %v, want 7 (the second burst reached Slack only as a higher count)", metricFolded, got)
	}
	if t.Failed() {
		t.Logf("emulator holds:\n%s", emu.MessagesText(t))
	}
	t.Logf("one message, %d updates, shows ×%d", m.Updates, shown.Entries[0].Count)
}

// With threads.reply_every short, a repeat after it also posts a sample as
// a thread reply under the message; the reply is not counted again.
func TestRepeatsReplyInTheThreadAfterReplyEvery(t *testing.T) {
	emu := StartEmulator(t)
	col := StartCollector(t, SlackConfig(threadsMode(`
threads:
  reply_every: 1s
`)), emu.Env()...)
	res := Service("checkout", "prod")

	col.SendLogs(t, res, timeouts(5, 1)...)
	waitCounter(t, col, 30*time.Second, 5, metricDelivered)
	parent := emu.WaitForMessages(t, "#alerts", 1, 30*time.Second)[0]

	time.Sleep(1500 * time.Millisecond) // past reply_every
	col.SendLogs(t, res, timeouts(7, 2)...)
	waitCounter(t, col, 30*time.Second, 12, metricDelivered)
	waitCounter(t, col, 30*time.Second, 2, metricSent) // the parent and the reply
	msgs := emu.WaitQuiet(t, time.Second, 30*time.Second)

	var top, replies []Message
	for _, m := range msgs {
		if m.ThreadTS == "" {
			top = append(top, m)
		} else {
			replies = append(replies, m)
		}
	}
	if len(top) != 1 || top[0].TS != parent.TS {
		t.Fatalf("want the one top-level message %s, got %d:\n%s", parent.TS, len(top), emu.MessagesText(t))
	}
	if len(replies) != 1 {
		t.Fatalf("want 1 thread reply, got %d:\n%s", len(replies), emu.MessagesText(t))
	}
	r := replies[0]
	if r.ThreadTS != parent.TS || r.Channel != parent.Channel {
		t.Errorf("the reply is in %s under %s, want %s under %s", r.Channel, r.ThreadTS, parent.Channel, parent.TS)
	}
	if !r.Contains("timeout after") {
		t.Errorf("the reply shows no sample of the error:\n%s", r.AllText())
	}
	if top[0].Updates < 1 {
		t.Errorf("the parent was not updated (updates %d)", top[0].Updates)
	}
	if got := shownRecords(t, top[0]); got != 12 {
		t.Errorf("the parent shows %d records, want 12", got)
	}
	if t.Failed() {
		t.Logf("emulator holds:\n%s", emu.MessagesText(t))
	}
}

// ---------------------------------------------------------------------------
// The storm

// stormService is one application in the storm and the channel its records
// go to.
type stormService struct {
	name, channel string
}

// stormGenerator makes one service's records: a few recurring errors whose
// numbers vary, and now and then one never seen before (its text differs in
// letters, which masking keeps).
type stormGenerator struct {
	service string
	rng     *rand.Rand
	unique  int
}

func (g *stormGenerator) next() log.Record {
	r := g.rng
	switch p := r.IntN(100); {
	case p < 40:
		return Record(log.SeverityError, fmt.Sprintf("upstream timeout after %dms calling inventory for user %d", 5+r.IntN(3000), r.IntN(100000)))
	case p < 65:
		return Record(log.SeverityError, fmt.Sprintf("connection refused by 10.0.%d.%d:5432", r.IntN(256), 1+r.IntN(254)))
	case p < 80:
		return Record(log.SeverityError, fmt.Sprintf("payment %d declined: issuer answered %d", r.IntN(1e9), 1+r.IntN(99)),
			attribute.String("exception.type", "CardDeclinedError"))
	case p < 90:
		return Record(log.SeverityError, fmt.Sprintf("retry budget of %d exhausted for job %d", 3+r.IntN(5), r.IntN(1e6)))
	case p < 98:
		return Record(log.SeverityError, fmt.Sprintf("invalid session 'sess-%d' for request %d", r.IntN(1e6), r.IntN(1e6)))
	}
	g.unique++
	return Record(log.SeverityError, fmt.Sprintf("no handler registered for event %s in %s", word(g.unique), g.service))
}

// At least 20,000 ERROR records in 10 s from 3 services into 2 channels,
// against an emulator that holds each channel to 1 message per second
// (burst 3) and answers 429 with Retry-After beyond it, with the exporter's
// default rate_limit, threads and sending_queue: at most one 429 per
// channel, every record accounted for by the counts Slack shows, the first
// message within 2 s, the queue drained within 15 s of the storm's end, and
// repeats updating their message instead of posting it again.
func TestStormStaysWithinSlackLimits(t *testing.T) {
	const (
		perService = 7000
		ticks      = 100
		tickEvery  = 100 * time.Millisecond // 10 s
		total      = 3 * perService

		firstMessageWithin = 2 * time.Second
		drainWithin        = 15 * time.Second
	)
	services := []stormService{{"checkout", "#alerts"}, {"search", "#alerts"}, {"billing", "#payments"}}
	emu := StartEmulator(t, "-rate", "1", "-burst", "3", "-retry-after", "1")
	col := StartCollector(t, SlackConfig(`
token: ${env:SLACK_BOT_TOKEN}
api_url: ${env:SLACK_API_URL}
channel: "#alerts"
routes:
  - condition: 'resource.attributes["service.name"] == "billing"'
    channel: "#payments"
`), emu.Env()...)

	senders := make([]*Sender, len(services))
	for i, s := range services {
		senders[i] = col.NewSender(t, Service(s.name, "prod")...)
	}
	var wg sync.WaitGroup
	flushErrs := make([]error, len(services))
	start := time.Now()
	for i, s := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gen := &stormGenerator{service: s.name, rng: rand.New(rand.NewPCG(uint64(i)+1, 2026))}
			batch := make([]log.Record, perService/ticks)
			for tick := range ticks {
				if d := time.Until(start.Add(time.Duration(tick) * tickEvery)); d > 0 {
					time.Sleep(d)
				}
				for j := range batch {
					batch[j] = gen.next()
				}
				senders[i].Emit(context.Background(), batch...)
				if tick == 0 {
					// Ship the first records at once rather than when the
					// SDK's batch fills, so the first message's latency
					// is the collector's alone.
					_ = senders[i].TryFlush(10 * time.Second)
				}
			}
			flushErrs[i] = senders[i].TryFlush(30 * time.Second)
		}()
	}
	wg.Wait()
	stormEnd := time.Now()
	var sent int64
	for i, s := range senders {
		if flushErrs[i] != nil || s.Failed() > 0 {
			t.Fatalf("%s: the collector did not accept every record (%d failed): %v", services[i].name, s.Failed(), flushErrs[i])
		}
		sent += s.Exported()
	}
	if sent != total {
		t.Fatalf("the collector accepted %d records, want %d", sent, total)
	}
	stormTook := stormEnd.Sub(start)

	// The queue drains: every record delivered, in some form.
	var drained time.Duration
	var delivered float64
	drainedOK := false
	for deadline := stormEnd.Add(2 * drainWithin); ; {
		delivered = col.Counter(t, metricDelivered)
		if delivered > total {
			t.Fatalf("%s = %v, more than the %d records sent", metricDelivered, delivered, total)
		}
		if delivered == total {
			drained, drainedOK = time.Since(stormEnd), true
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	msgs := emu.WaitQuiet(t, 1500*time.Millisecond, 30*time.Second)
	stats := emu.Stats(t)
	calls := emu.Calls(t)

	// What Slack shows: top-level messages with their counts; replies are
	// samples, not counted.
	var top []Message
	replies, updates := 0, 0
	updatesIn := map[string]int{}
	var firstAt time.Time
	for _, m := range msgs {
		at := parseTime(t, m.ReceivedAt)
		if firstAt.IsZero() || at.Before(firstAt) {
			firstAt = at
		}
		if m.ThreadTS != "" {
			replies++
			continue
		}
		top = append(top, m)
		updates += m.Updates
		updatesIn[m.Channel] += m.Updates
	}
	channelOf := map[string]string{}
	wantIn := map[string]int{}
	for _, s := range services {
		channelOf[s.name] = s.channel
		wantIn[s.channel] += perService
	}
	shownTotal, foldedShown := 0, 0
	shownIn := map[string]int{}
	topIn := map[string]int{}
	// Where each fingerprint is shown as an entry, per channel.
	where := map[string]map[string][]int{}
	topOf := map[string]int{} // channel and key → messages it tops
	for _, m := range top {
		s := parseShown(t, m)
		n := s.Records()
		shownTotal += n
		foldedShown += s.Folded
		shownIn[m.Channel] += n
		topIn[m.Channel]++
		if s.Header != n {
			t.Errorf("message %d (%s): the header says %d records, its entries and fold line %d", m.Seq, m.Channel, s.Header, n)
		}
		if where[m.Channel] == nil {
			where[m.Channel] = map[string][]int{}
		}
		for i, e := range s.Entries {
			if channelOf[e.Service] != m.Channel {
				t.Errorf("message %d in %s shows an entry of %q, whose records go to %s", m.Seq, m.Channel, e.Service, channelOf[e.Service])
			}
			where[m.Channel][e.Key] = append(where[m.Channel][e.Key], m.Seq)
			if i == 0 {
				topOf[m.Channel+" "+e.Key]++
			}
		}
	}
	for ch, keys := range where {
		for key, seqs := range keys {
			if len(seqs) > 1 {
				t.Errorf("%s: %q is shown in %d top-level messages %v (the top entry of %d), want 1: posted again instead of updated",
					ch, key, len(seqs), seqs, topOf[ch+" "+key])
			}
		}
	}

	// 429s per channel, and by method from the emulator's call log.
	throttled := map[string]int{}
	for _, c := range calls {
		if c.Status == 429 {
			throttled[c.Dest+" "+c.Method]++
		}
	}
	for _, ch := range []string{"#alerts", "#payments"} {
		st := stats.Destinations[ch]
		if st.Throttled > 1 {
			t.Errorf("%s was answered 429 %d times (chat.postMessage %d, chat.update %d), want at most 1",
				ch, st.Throttled, throttled[ch+" chat.postMessage"], throttled[ch+" chat.update"])
		}
		if topIn[ch] == 0 || updatesIn[ch] == 0 {
			t.Errorf("%s: %d messages, %d updates; want messages whose counters were updated", ch, topIn[ch], updatesIn[ch])
		}
	}
	if other := stats.Totals.Throttled - stats.Destinations["#alerts"].Throttled - stats.Destinations["#payments"].Throttled; other != 0 {
		t.Errorf("%d 429s elsewhere than the two channels: %+v", other, stats.Destinations)
	}
	if len(stats.Totals.Errors) > 0 {
		t.Errorf("the emulator answered errors: %v", stats.Totals.Errors)
	}

	// Every record accounted for.
	if shownTotal != total {
		t.Errorf("the messages' counts add up to %d records (%v), want the %d sent (%v)", shownTotal, shownIn, total, wantIn)
	} else {
		for ch, want := range wantIn {
			if shownIn[ch] != want {
				t.Errorf("%s's messages count %d records, want the %d sent there", ch, shownIn[ch], want)
			}
		}
	}
	if delivered != float64(shownTotal) {
		t.Errorf("%s = %v, but the messages show %d records", metricDelivered, delivered, shownTotal)
	}
	if got := col.Counter(t, metricAPIErrors); got != float64(stats.Totals.Throttled) {
		t.Errorf("%s = %v, but the emulator answered %d calls with 429", metricAPIErrors, got, stats.Totals.Throttled)
	}
	if got := col.Counter(t, metricFiltered); got != 0 {
		t.Errorf("%s = %v, want 0 (every record is an ERROR)", metricFiltered, got)
	}
	if got := col.Counter(t, metricEnqueueFailed); got != 0 {
		t.Errorf("%s = %v: the sending queue refused records", metricEnqueueFailed, got)
	}
	if got := col.Counter(t, metricSentRecords); got != total {
		t.Errorf("%s = %v, want %d", metricSentRecords, got, total)
	}
	if got := col.Counter(t, metricSendFailed); got != 0 {
		t.Errorf("%s = %v: records were given up", metricSendFailed, got)
	}

	// In time.
	firstLatency := firstAt.Sub(start)
	switch {
	case len(msgs) == 0:
		t.Errorf("no message reached Slack")
	case firstLatency > firstMessageWithin:
		t.Errorf("the first message reached Slack %v after the first record was sent, want within %v", firstLatency.Round(time.Millisecond), firstMessageWithin)
	}
	switch {
	case !drainedOK:
		t.Errorf("the queue had not drained %v after the storm: %s = %v of %d", 2*drainWithin, metricDelivered, delivered, total)
	case drained > drainWithin:
		t.Errorf("the queue drained %v after the storm ended, want within %v", drained.Round(time.Millisecond), drainWithin)
	}

	t.Logf("storm: %d records in %v from %d services; %d messages (%v), %d replies, %d updates; 429s %v; first message after %v; drained %v after the storm; shown %d (%d in fold lines); %s %v, %s %v, %s %v",
		total, stormTook.Round(time.Millisecond), len(services), len(top), topIn, replies, updates, throttledSummary(throttled),
		firstLatency.Round(time.Millisecond), drained.Round(time.Millisecond), shownTotal, foldedShown,
		metricDelivered, delivered, metricFolded, col.Counter(t, metricFolded), metricAPIErrors, col.Counter(t, metricAPIErrors))
	if t.Failed() {
		t.Logf("messages:\n%s", describeMessages(t, top))
		t.Logf("emulator stats: %+v", stats)
		t.Logf("calls (from the first record sent):\n%s", describeCalls(calls, start))
	}
}

// describeCalls is one line per Slack call, timed from start.
func describeCalls(calls []harness.Call, start time.Time) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "  +%v %s %s %d %s\n", c.At.Sub(start).Round(time.Millisecond), c.Method, c.Dest, c.Status, c.Result)
	}
	return b.String()
}

func throttledSummary(byDestMethod map[string]int) string {
	if len(byDestMethod) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(byDestMethod))
	for k := range byDestMethod {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, byDestMethod[k])
	}
	return strings.Join(parts, " ")
}

// describeMessages is one line per message: where, when, updates, counts.
func describeMessages(t testing.TB, msgs []Message) string {
	var b strings.Builder
	for _, m := range msgs {
		s := parseShown(t, m)
		fmt.Fprintf(&b, "  %d %s ts=%s at=%s updates=%d header=%d entries=%d shown=%d folded=%d/%d groups; top %q\n",
			m.Seq, m.Channel, m.TS, m.ReceivedAt, m.Updates, s.Header, len(s.Entries), s.Records()-s.Folded, s.Folded, s.FoldedGroups, topKey(s))
	}
	return b.String()
}

func topKey(s shown) string {
	if len(s.Entries) == 0 {
		return ""
	}
	return s.Entries[0].Key
}

// ---------------------------------------------------------------------------
// Reading the counts back out of a message's blocks

// shown is what one message says in Slack: its header's count, its entries
// and its fold line.
type shown struct {
	Header               int // the count in the header
	Entries              []shownEntry
	Folded, FoldedGroups int // "➕ N more records in M groups, folded …"
}

// Records is how many records the message accounts for.
func (s shown) Records() int {
	n := s.Folded
	for _, e := range s.Entries {
		n += e.Count
	}
	return n
}

// shownEntry is one entry section: "*ERROR* · service · ×1,234" and the body.
type shownEntry struct {
	Severity, Service, Body string
	Count                   int
	// Key is the service and the body with its variable parts masked, as
	// the exporter fingerprints it.
	Key string
}

var (
	// "*ERROR* · checkout · ×1,234 · quiet since 14:05 UTC, 1,234 in total"
	// (the time is "Dec 1 23:58 UTC" when it is not today's)
	entryTitle = regexp.MustCompile(`^\*([A-Z]+)\* · (.*?)(?: · ×([0-9,]+))?(?: · quiet since (?:[A-Z][a-z]{2} \d{1,2} )?\d\d:\d\d UTC, ([0-9,]+) in total)?$`)
	foldLine   = regexp.MustCompile(`^➕ ([0-9,]+) more records in ([0-9,]+) groups, folded`)
	// "🔴 ERROR in checkout", "🔴 1,234 error records from a, b", "🔴 1,234 records from a, b"
	headerCount = regexp.MustCompile(`^\S+ (?:[A-Z]+ in |([0-9,]+) (?:[a-z]+ )?records from )`)

	quotedValue  = regexp.MustCompile(`'[^'\n]*'|"[^"\n]*"`)
	variablePart = regexp.MustCompile(`\w*\d\w*`)
)

// mask is the exporter's grouping mask: quoted values and every word that
// holds a digit.
func mask(body string) string {
	return variablePart.ReplaceAllString(quotedValue.ReplaceAllString(body, "'…'"), "#")
}

func number(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	if err != nil {
		t.Fatalf("count %q: %v", s, err)
	}
	return n
}

// parseShown reads a message's blocks as the exporter writes them. A block
// it does not recognise fails the test: the counts would be unreliable.
func parseShown(t testing.TB, m Message) shown {
	t.Helper()
	type text struct{ Type, Text string }
	var blocks []struct {
		Type     string
		Text     *text
		Elements []text
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatalf("message %d: blocks: %v", m.Seq, err)
	}
	var s shown
	for _, b := range blocks {
		switch {
		case b.Type == "header" && b.Text != nil:
			h := headerCount.FindStringSubmatch(b.Text.Text)
			switch {
			case h == nil:
				t.Fatalf("message %d: header %q has no count", m.Seq, b.Text.Text)
			case h[1] == "":
				s.Header = 1
			default:
				s.Header = number(t, h[1])
			}
		case b.Type == "section" && b.Text != nil:
			title, rest, _ := strings.Cut(b.Text.Text, "\n")
			e := entryTitle.FindStringSubmatch(title)
			if e == nil {
				t.Fatalf("message %d: section %q is not an entry", m.Seq, title)
			}
			entry := shownEntry{Severity: e[1], Service: e[2], Count: 1}
			if e[3] != "" {
				entry.Count = number(t, e[3])
			}
			if e[4] != "" && number(t, e[4]) != entry.Count {
				t.Fatalf("message %d: %q counts two different totals", m.Seq, title)
			}
			entry.Body = strings.TrimSuffix(strings.TrimPrefix(rest, "```"), "```")
			entry.Key = entry.Service + " | " + mask(entry.Body)
			s.Entries = append(s.Entries, entry)
		case b.Type == "context":
			for _, el := range b.Elements {
				if f := foldLine.FindStringSubmatch(el.Text); f != nil {
					s.Folded += number(t, f[1])
					s.FoldedGroups += number(t, f[2])
				}
			}
		}
	}
	return s
}

// shownRecords is how many records message m accounts for.
func shownRecords(t testing.TB, m Message) int {
	t.Helper()
	return parseShown(t, m).Records()
}
