package reliability

// What every scenario shares: the window length, record ids and the tally
// of what Slack received, the two ways of posting (token, webhook) with
// their secrets, sending at a steady pace, and the row each scenario adds
// to the report.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// window is how long outages and hangs last: short for `make test`, 60s for
// `make reliability`.
var window = func() time.Duration {
	v := os.Getenv("RELIABILITY_WINDOW")
	if v == "" {
		return 5 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > 5*time.Minute {
		panic(fmt.Sprintf("RELIABILITY_WINDOW=%q: want a duration between 1s and 5m", v))
	}
	return d
}()

// deliveryTimeout bounds how long delivery may take once Slack is healthy
// again: the backoff (max 1s) plus the queue's backlog, with room for a
// loaded machine.
const deliveryTimeout = 60 * time.Second

// ---------------------------------------------------------------------------
// Record ids

// idLetters are the letters ids are made of: none is a hex digit, so the
// exporter's masking (numbers, hex, UUIDs, IPs, quoted values) never
// touches an id and two records never share a fingerprint.
const idLetters = "ghijklmnopqrstuvwxyz"

// idPattern finds ids in message text.
var idPattern = regexp.MustCompile(`rid-([g-z]{5})\b`)

// recordID is the id of the n-th record: "rid-" and five letters.
func recordID(n int) string {
	b := []byte("ggggg")
	for i := len(b) - 1; i >= 0 && n > 0; i-- {
		b[i] = idLetters[n%len(idLetters)]
		n /= len(idLetters)
	}
	return "rid-" + string(b)
}

// ledger hands out records with unique ids and remembers which were sent,
// where to, and when.
type ledger struct {
	scenario string
	mu       sync.Mutex
	next     int
	sent     []string             // ids, in the order sent
	dest     map[string]string    // id → route ("" default, "other")
	at       map[string]time.Time // id → when it was handed to the SDK
}

func newLedger(scenario string) *ledger {
	return &ledger{scenario: scenario, dest: map[string]string{}, at: map[string]time.Time{}}
}

// records makes n ERROR records for route ("" for the default destination,
// "other" for the second one), each with its own id.
func (l *ledger) records(n int, route string) []log.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]log.Record, 0, n)
	now := time.Now()
	for range n {
		id := recordID(l.next)
		l.next++
		l.sent = append(l.sent, id)
		l.dest[id] = route
		l.at[id] = now
		var attrs []attribute.KeyValue
		if route != "" {
			attrs = append(attrs, attribute.String("route", route))
		}
		out = append(out, harness.Record(log.SeverityError,
			fmt.Sprintf("%s failure while charging the card %s|", l.scenario, id), attrs...))
	}
	return out
}

// ids returns the sent ids for route, or all of them when all is true.
func (l *ledger) ids(all bool, route string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, id := range l.sent {
		if all || l.dest[id] == route {
			out = append(out, id)
		}
	}
	return out
}

func (l *ledger) all() []string { return l.ids(true, "") }

// sentAt is when record id was handed to the SDK.
func (l *ledger) sentAt(id string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.at[id]
}

// ---------------------------------------------------------------------------
// The tally

// tally is what Slack shows of a set of sent records.
type tally struct {
	Sent       int
	Delivered  int // sent ids found in at least one message
	Duplicated int // extra messages showing an id already shown
	Lost       int // sent ids found nowhere
	Unknown    int // ids found that were never sent (never expected)
	Folded     int // records counted only in a fold line (no id shown)

	lost, dups []string
	firstSeen  map[string]time.Time // id → when the first message showing it arrived
}

// foldLine is the count at the end of a message whose other records were
// folded: "➕ 1,234 more records in 56 groups".
var foldLine = regexp.MustCompile(`➕ ([\d,]+) more records`)

// count tallies msgs against the ids sent. A message showing an id in its
// blocks and its fallback text shows it once.
func count(msgs []harness.Message, sent []string) tally {
	want := make(map[string]bool, len(sent))
	for _, id := range sent {
		want[id] = true
	}
	seen := map[string]int{}
	first := map[string]time.Time{}
	res := tally{Sent: len(sent), firstSeen: first}
	for _, m := range msgs {
		text := m.AllText()
		inMsg := map[string]bool{}
		for _, match := range idPattern.FindAllStringSubmatch(text, -1) {
			inMsg["rid-"+match[1]] = true
		}
		at, _ := time.Parse(time.RFC3339Nano, m.ReceivedAt)
		for id := range inMsg {
			seen[id]++
			if f, ok := first[id]; !ok || at.Before(f) {
				first[id] = at
			}
		}
		// The fold line is in the blocks and, as a summary, maybe in the
		// fallback text too: take the largest count in the message once.
		folded := 0
		for _, match := range foldLine.FindAllStringSubmatch(text, -1) {
			n, _ := strconv.Atoi(strings.ReplaceAll(match[1], ",", ""))
			folded = max(folded, n)
		}
		res.Folded += folded
	}
	for _, id := range sent {
		switch n := seen[id]; n {
		case 0:
			res.Lost++
			res.lost = append(res.lost, id)
		default:
			res.Delivered++
			if n > 1 {
				res.Duplicated += n - 1
				res.dups = append(res.dups, id)
			}
		}
	}
	for id := range seen {
		if !want[id] {
			res.Unknown++
		}
	}
	return res
}

func (r tally) String() string {
	s := fmt.Sprintf("sent %d, delivered %d, duplicated %d, lost %d", r.Sent, r.Delivered, r.Duplicated, r.Lost)
	if r.Folded > 0 {
		s += fmt.Sprintf(", folded %d", r.Folded)
	}
	if r.Unknown > 0 {
		s += fmt.Sprintf(", %d unknown ids", r.Unknown)
	}
	if len(r.lost) > 0 {
		s += fmt.Sprintf("; lost e.g. %v", r.lost[:min(5, len(r.lost))])
	}
	if len(r.dups) > 0 {
		s += fmt.Sprintf("; duplicated e.g. %v", r.dups[:min(5, len(r.dups))])
	}
	return s
}

// requireExactlyOnce fails unless every sent record is shown in exactly
// one message, with nothing folded (the configs keep the rate limit out of
// reach, so a fold would hide ids) and no id that was never sent.
func requireExactlyOnce(t testing.TB, what string, r tally) {
	t.Helper()
	if r.Lost > 0 || r.Duplicated > 0 || r.Unknown > 0 || r.Folded > 0 || r.Delivered != r.Sent {
		t.Errorf("%s: want every record exactly once, got %s", what, r)
	}
}

// waitDelivered waits until every id in sent is in some message of emu
// (channel "" for all), then until the messages stop changing, and
// returns the tally. It does not fail the test by itself: the caller
// asserts on the tally, after the figures are recorded.
func waitDelivered(t testing.TB, emu *harness.Emulator, channel string, sent []string, timeout time.Duration) tally {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := count(emu.Messages(t, channel), sent)
		if r.Lost == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Late duplicates (a retry of something already posted) would come
	// within a few backoff intervals.
	msgs := waitQuiet(t, emu, channel, 2*time.Second, 30*time.Second)
	return count(msgs, sent)
}

// waitQuiet is Emulator.WaitQuiet restricted to a channel, without failing:
// after timeout it returns what is there.
func waitQuiet(t testing.TB, emu *harness.Emulator, channel string, quiet, timeout time.Duration) []harness.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	since := time.Now()
	for {
		msgs := emu.Messages(t, channel)
		sig := strconv.Itoa(len(msgs))
		for _, m := range msgs {
			sig += "|" + m.TS + "/" + strconv.Itoa(m.Updates)
		}
		if sig != last {
			last, since = sig, time.Now()
		}
		if time.Since(since) >= quiet || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// Token or webhook

// modes are the two ways the exporter posts; scenarios 1–5 run in both, and
// check that neither secret leaks (scenario 9).
var modes = []string{"token", "webhook"}

// rig is an emulator and how a collector in one mode reaches it: its
// destinations as the emulator names them, the environment the exporter
// config reads, and the secrets that must never appear in the collector's
// output.
type rig struct {
	mode    string
	emu     *harness.Emulator
	env     []string
	secrets []string
	// alerts is the default destination, other the one the route
	// `attributes["route"] == "other"` leads to.
	alerts, other string
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// newRig starts an emulator for mode with a fresh random token (token mode)
// or two webhooks with random secrets (webhook mode).
func newRig(t testing.TB, mode string, emuFlags ...string) *rig {
	t.Helper()
	r := &rig{mode: mode}
	switch mode {
	case "token":
		token := "xoxb-rel-" + randomHex(t, 16)
		r.emu = harness.StartEmulator(t, append([]string{"-token", token}, emuFlags...)...)
		r.env = append(r.env, "SLACK_BOT_TOKEN="+token, "SLACK_API_URL="+r.emu.APIURL())
		r.secrets = []string{token}
		r.alerts, r.other = "#alerts", "#other"
	case "webhook":
		r.emu = harness.StartEmulator(t, emuFlags...)
		alertsSecret, otherSecret := "whs"+randomHex(t, 16), "whs"+randomHex(t, 16)
		r.env = append(r.env,
			"SLACK_WEBHOOK_URL="+r.emu.WebhookURL("T0REL/B0ALERTS/"+alertsSecret),
			"OTHER_WEBHOOK_URL="+r.emu.WebhookURL("T0REL/B0OTHER/"+otherSecret))
		r.secrets = []string{alertsSecret, otherSecret}
		r.alerts, r.other = "webhook/T0REL/B0ALERTS", "webhook/T0REL/B0OTHER"
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	return r
}

// exporter is the slack exporter's config for the rig's mode: the default
// destination, a route for records with attribute route=other, a rate limit
// the scenarios never reach (so nothing is folded), quick batching and
// retries, then extra (YAML at column 0).
func (r *rig) exporter(extra string) string {
	var head string
	switch r.mode {
	case "token":
		head = `
token: ${env:SLACK_BOT_TOKEN}
api_url: ${env:SLACK_API_URL}
channel: "#alerts"
routes:
  - condition: 'attributes["route"] == "other"'
    channel: "#other"
`
	case "webhook":
		head = `
webhook_url: ${env:SLACK_WEBHOOK_URL}
routes:
  - condition: 'attributes["route"] == "other"'
    webhook_url: ${env:OTHER_WEBHOOK_URL}
`
	}
	return head + `
rate_limit:
  per_second: 1000
  burst: 1000
retry_on_failure:
  initial_interval: 200ms
  max_interval: 1s
` + extra
}

// config is a whole collector config around exporter; with storage it adds
// the file_storage extension (directory ${env:STORAGE_DIR}) to the service.
func config(exporter string, storage bool) string {
	cfg := harness.SlackConfig(exporter)
	if !storage {
		return cfg
	}
	return `extensions:
  file_storage:
    directory: ${env:STORAGE_DIR}
    timeout: 1s
` + strings.Replace(cfg, "service:\n", "service:\n  extensions: [file_storage]\n", 1)
}

// queue is a sending_queue with a short batch flush; extra lines (at the
// sending_queue's level, 2 spaces) are added.
func queue(extra ...string) string {
	s := "sending_queue:\n  batch:\n    flush_timeout: 200ms\n"
	for _, e := range extra {
		s += "  " + e + "\n"
	}
	return s
}

// requireNoSecrets scrapes the collector's metrics, stops it, and fails if a
// secret of the rig appears in its log (every line it wrote, errors
// included), in its metrics, or in any of files.
func (r *rig) requireNoSecrets(t testing.TB, col *harness.Collector, files ...string) {
	t.Helper()
	sources := map[string]string{"metrics": col.MetricsText(t)}
	col.Stop(t)
	sources["log"] = col.Logs()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("reading %s: %v", f, err)
			continue
		}
		sources[filepath.Base(f)] = string(b)
	}
	if len(sources["log"]) == 0 {
		t.Errorf("the collector wrote no log at all: nothing to check for secrets")
	}
	check := secretCheck{test: t.Name(), mode: r.mode}
	for _, text := range sources {
		check.bytes += len(text)
		check.lines += strings.Count(text, "\n")
	}
	for _, s := range r.secrets {
		for name, text := range sources {
			if i := strings.Index(text, s); i >= 0 {
				check.leaks++
				from, to := max(0, i-160), min(len(text), i+len(s)+60)
				t.Errorf("%s mode: a secret appears in the collector's %s: …%s[SECRET]%s…", r.mode, name, text[from:i], text[i+len(s):to])
			}
		}
	}
	secretChecksMu.Lock()
	secretChecks = append(secretChecks, check)
	secretChecksMu.Unlock()
}

// secretCheck is one requireNoSecrets, for the report's scenario 9 row.
type secretCheck struct {
	test, mode   string
	lines, bytes int
	leaks        int
}

var (
	secretChecksMu sync.Mutex
	secretChecks   []secretCheck
)

// filesUnder lists the regular files under dir.
func filesUnder(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		t.Errorf("listing %s: %v", dir, err)
	}
	return out
}

// ---------------------------------------------------------------------------
// Sending

// feeder sends records through one SDK sender, flushing after each batch,
// and times every flush: how long the application's export took.
type feeder struct {
	s       *harness.Sender
	led     *ledger
	mu      sync.Mutex
	flushes []time.Duration
}

func newFeeder(t testing.TB, col *harness.Collector, led *ledger) *feeder {
	t.Helper()
	return &feeder{s: col.NewSender(t, harness.Service("checkout", "prod")...), led: led}
}

// send emits n records for route and waits until the collector took them.
func (f *feeder) send(t testing.TB, n int, route string) {
	t.Helper()
	f.s.Emit(context.Background(), f.led.records(n, route)...)
	start := time.Now()
	f.s.Flush(t)
	f.mu.Lock()
	f.flushes = append(f.flushes, time.Since(start))
	f.mu.Unlock()
}

// steady sends n records for each route every interval until d has passed.
func (f *feeder) steady(t testing.TB, d, every time.Duration, n int, routes ...string) {
	t.Helper()
	if len(routes) == 0 {
		routes = []string{""}
	}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		next := time.Now().Add(every)
		for _, r := range routes {
			f.send(t, n, r)
		}
		time.Sleep(time.Until(next))
	}
}

// slowestFlush is the longest the application waited on an export.
func (f *feeder) slowestFlush() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Max(append([]time.Duration{0}, f.flushes...))
}
