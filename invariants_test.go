package slackexporter

// TestDeliveryInvariants (issue #8) checks the exporter's promises over
// seeded random runs instead of scenarios. Each run draws a configuration
// (threads on or off, mentions, rate and burst, grouping, templates, routes
// to 1–4 channels and webhooks, storage for live messages; in half the
// token-mode runs a route whose channel is a template, naming channels
// that exist, channels the emulator says are missing, archived or without
// the bot, and a name that is no channel; in half the token-mode runs
// interactivity, with mutes kept or not across restarts) and a script of
// steps (1–6 concurrent pushes of 1–200 records in 1–60 fingerprints, which
// meet in the destinations' outboxes, faults
// from the emulator, clock jumps past quiet_after and window, quiet marks,
// restarts, clicks on entries: mute, unmute, acknowledge), drives the real push path against the Slack emulator the way
// exporterhelper's queue would (records handed back are pushed again), then
// checks Slack's final state and every call Slack received
// (invariants_check_test.go).
//
// A run is reproducible from its seed as far as its configuration and
// script go; the timing of concurrent pushes is not. A failure prints the
// seed and the script.
//
//	INVARIANTS_DURATION  how long to run: the fixed seeds, then fresh ones until then (default 30s; make soak sets it)
//	INVARIANTS_SEED      run only these seeds (comma-separated)

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configmiddleware"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/dynchannel"
	"github.com/slackexporter/slackexporter/internal/memstorage"
	"github.com/slackexporter/slackexporter/internal/metadatatest"
	"github.com/slackexporter/slackexporter/internal/selection"
	"github.com/slackexporter/slackexporter/internal/slackemu"
)

// invariantSeeds always run, so that make test covers the same ground each
// time before it tries fresh seeds.
var invariantSeeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8}

func TestDeliveryInvariants(t *testing.T) {
	start := time.Now()
	var runs, checks, failed, templated, rerouted, clicks, muted int
	for seed := range seedsToRun(t, invariantSeeds, 30*time.Second) {
		var r runResult
		if !t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { r = runInvariants(t, seed) }) {
			failed++
		}
		runs++
		checks += r.checks
		if r.templated {
			templated++
		}
		rerouted += r.rerouted
		clicks += r.clicks
		muted += r.muted
	}
	t.Logf("%d runs in %s, %d checks, %d failed runs; %d runs with a templated channel, %d records rerouted; %d clicks, %d records muted",
		runs, time.Since(start).Round(time.Millisecond), checks, failed, templated, rerouted, clicks, muted)
}

// seedsToRun yields the seeds of INVARIANTS_SEED (comma-separated) if it is
// set; otherwise fixed, then fresh seeds until INVARIANTS_DURATION (or
// budget) has passed since the first.
func seedsToRun(t *testing.T, fixed []uint64, budget time.Duration) iter.Seq[uint64] {
	seeds, fresh := fixed, true
	if s := os.Getenv("INVARIANTS_SEED"); s != "" {
		seeds, fresh = nil, false
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			require.NoError(t, err, "INVARIANTS_SEED")
			seeds = append(seeds, n)
		}
	}
	if s := os.Getenv("INVARIANTS_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		require.NoError(t, err, "INVARIANTS_DURATION")
		budget = d
	}
	return func(yield func(uint64) bool) {
		start := time.Now()
		for _, seed := range seeds {
			if !yield(seed) {
				return
			}
		}
		next := uint64(start.UnixNano())
		for fresh && time.Since(start) < budget {
			next = next*6364136223846793005 + 1442695040888963407
			if !yield(next >> 16) {
				return
			}
		}
	}
}

// world is one run: the emulator, the exporter (replaced at each restart),
// and what the test knows about every record it accepted.
type world struct {
	t      *testing.T
	seed   uint64
	rng    *rand.Rand
	emu    *slackemu.Server
	srv    *httptest.Server
	tel    *componenttest.Telemetry
	cfg    *Config
	host   component.Host
	exp    *slackExporter
	offset atomic.Int64 // the live messages' clock runs this far ahead
	jumps  []clockJump  // every change of offset
	dests  map[string]*invDest
	specs  []*fpSpec
	// Templated channels: their own random source (so that the rest of
	// a seed's run is what it was before they came), whether the run has
	// a templated route, and the bound of the exporter's registry.
	dyn        *rand.Rand
	dynamic    bool
	maxDynamic int
	// mute: clicks from Slack, when the run has interactivity (nil if not).
	mute *muteRun

	clock *clientClock // when each call to Slack left and was answered

	mu        sync.Mutex
	pending   []plog.Logs // handed back for retry, as the queue keeps them
	pushes    []pushRecord
	ticks     []tickRecord
	epochs    []time.Time // when each exporter instance started
	permanent map[string]bool
	script    []string
	checks    int
}

// invDest is one destination of the configuration, as Slack names it.
type invDest struct {
	key      string // the exporter's destination key
	slack    string // "#inv-b" or "webhook/TINV/B1"
	mention  string // configured mention, as markup
	accepted int    // records the exporter took for it
	// dynamic: a channel a templated route named; its records may be
	// shown in the default channel instead, marked as meant for it.
	dynamic bool
}

// fpSpec is one error the script's applications log over and over.
type fpSpec struct {
	marker   string // "fp-hkmq": shown in every entry, never masked
	service  string
	route    string // resource attribute "route": which destination
	severity plog.SeverityNumber
	body     string
	tenant   string
	attrs    int    // extra attributes on each record
	team     string // for the templated route: which channel it names
}

// pushRecord is what the test knows of one push: for the quiet check.
type pushRecord struct {
	fake    time.Time // the live messages' clock when it started
	ended   time.Time
	ok      bool
	markers map[string]bool // dest + marker
}

// clockJump is when the test moved the live messages' clock, and by how
// much it was ahead from then on.
type clockJump struct {
	at     time.Time
	offset time.Duration
}

// fakeAt is the live messages' clock at real time t.
func (w *world) fakeAt(t time.Time) time.Time {
	offset := time.Duration(0)
	for _, j := range w.jumps {
		if t.Before(j.at) {
			break
		}
		offset = j.offset
	}
	return t.Add(offset)
}

type tickRecord struct {
	fake               time.Time
	started, ended     time.Time
	firstSeq, afterSeq int
}

func (w *world) logf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.script = append(w.script, fmt.Sprintf(format, args...))
}

func (w *world) now() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) }

// runResult is what a run reports for the summary.
type runResult struct {
	checks    int
	templated bool // the run had a templated route
	rerouted  int  // records shown in the default channel for a refused templated one
	clicks    int  // clicks from Slack (mute, unmute, acknowledge)
	muted     int  // records not shown because they were muted
}

func runInvariants(t *testing.T, seed uint64) runResult {
	w := &world{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x5eed)), permanent: map[string]bool{}, dests: map[string]*invDest{}}
	opts := slackemu.Options{Token: testToken}
	if w.rng.IntN(6) == 0 {
		// Slack stricter than the configured rate (at most 2/s here):
		// real 429s.
		opts.Rate, opts.Burst, opts.RetryAfter = 1, 1, 1
	}
	w.emu = slackemu.New(opts)
	w.srv = httptest.NewServer(w.emu)
	t.Cleanup(func() { w.emu.Close(); w.srv.Close() })
	w.tel = componenttest.NewTelemetry()
	t.Cleanup(func() { _ = w.tel.Shutdown(context.Background()) })
	w.configure()
	w.startExporter()
	defer func() {
		if t.Failed() {
			t.Logf("reproduce the configuration and script with INVARIANTS_SEED=%d go test -run TestDeliveryInvariants .", seed)
			t.Logf("script:\n  %s", strings.Join(w.script, "\n  "))
			t.Logf("records_dropped by error: %v; api_errors by error: %v",
				w.counterBy("otelcol_exporter_slack_records_dropped"), w.counterBy("otelcol_exporter_slack_api_errors"))
		}
	}()

	steps := 8 + w.rng.IntN(13)
	for i := 0; i < steps && !t.Failed(); i++ {
		w.step()
	}
	w.drain()
	if !t.Failed() {
		w.check()
	}

	w.shutdownExporter()
	r := runResult{checks: w.checks, templated: w.dynamic, rerouted: w.counter("otelcol_exporter_slack_records_rerouted"),
		muted: w.counter("otelcol_exporter_slack_records_muted")}
	if w.mute != nil {
		r.clicks = w.mute.clicks
	}
	return r
}

// configure draws the run's configuration.
func (w *world) configure() {
	r := w.rng
	cfg := createDefaultConfig().(*Config)
	cfg.APIURL = w.srv.URL + "/api/"
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.BackOffConfig.Enabled = false
	cfg.Timeout = time.Duration(800+r.IntN(1200)) * time.Millisecond
	cfg.RateLimit = RateLimitConfig{PerSecond: []float64{2, 4, 8}[r.IntN(3)], Burst: 1 + r.IntN(4)}
	if w.emu.Options().Rate > 0 {
		cfg.RateLimit.PerSecond = 2
	}
	cfg.Grouping = GroupingConfig{Mask: r.IntN(3) > 0}
	if r.IntN(4) == 0 {
		cfg.Grouping.By = []string{"tenant"}
	}
	mentions := []string{"", "", "here", "S0ONCALL", "U0ONCALL"}
	webhookMode := r.IntN(5) == 0
	hook := func(b string) string { return w.srv.URL + "/services/TINV/" + b + "/secret-" + strings.ToLower(b) }
	channels := 1 + r.IntN(4)
	if webhookMode {
		cfg.WebhookURL = configopaqueString(hook("B0"))
		w.addDest("", webhookKey(hook("B0"), ""), "webhook/TINV/B0", "")
	} else {
		cfg.Token = testToken
		cfg.Channel = "#inv-a"
		cfg.Mention = mentions[r.IntN(len(mentions))]
		w.addDest("", channelKey(cfg.Channel, cfg.Mention), "#inv-a", cfg.Mention)
	}
	for i := 1; i < channels; i++ {
		label := fmt.Sprintf("c%d", i)
		route := RouteConfig{Condition: fmt.Sprintf(`resource.attributes["route"] == %q`, label), Mention: mentions[r.IntN(len(mentions))]}
		if webhookMode || r.IntN(4) == 0 {
			b := fmt.Sprintf("B%d", i)
			route.WebhookURL = configopaqueString(hook(b))
			w.addDest(label, webhookKey(hook(b), route.Mention), "webhook/TINV/"+b, route.Mention)
		} else {
			route.Channel = fmt.Sprintf("#inv-%c", 'a'+i)
			w.addDest(label, channelKey(route.Channel, route.Mention), route.Channel, route.Mention)
		}
		cfg.Routes = append(cfg.Routes, route)
	}
	if !webhookMode && r.IntN(3) == 0 {
		// A second destination on the default channel, paging someone.
		route := RouteConfig{Condition: `resource.attributes["route"] == "page"`, Channel: "#inv-a", Mention: "S0PAGE"}
		cfg.Routes = append(cfg.Routes, route)
		w.addDest("page", channelKey(route.Channel, route.Mention), "#inv-a", route.Mention)
	}
	w.configureDynamic(cfg, webhookMode, mentions)
	titles := []string{"", "", `{{ .Service }}: {{ .Records }} problems in {{ .Groups }} groups`, `{{ .Body }}`}
	texts := []string{"", "", `{{ .Body }} (seen {{ .Count }} times, last {{ .Last.Format "15:04:05" }})`, `{{ .Body }} {{ printf "%0*d" .Count 0 }}`}
	cfg.Message = MessageConfig{Title: titles[r.IntN(len(titles))], Text: texts[r.IntN(len(texts))]}
	if r.IntN(3) == 0 {
		cfg.Message.Link = `https://trace.example/{{ .TraceID }}?q=<{{ .Body }}>`
	}
	enabled := !webhookMode && r.IntN(5) > 0
	cfg.Threads.Enabled = &enabled
	clockID := component.MustNewID("clientclock")
	cfg.Middlewares = []configmiddleware.Config{{ID: clockID}}
	w.clock = newClientClock()
	host := hostWith{clockID: w.clock}
	cfg.Threads.ReplyEvery = []time.Duration{0, time.Minute, time.Hour}[r.IntN(3)]
	cfg.Threads.UpdatesPerMinute = []float64{6, 60, 600}[r.IntN(3)]
	cfg.Threads.MaxTracked = []int{4, 100, 10_000}[r.IntN(3)]
	if enabled && r.IntN(2) == 0 {
		id := component.MustNewID("file_storage")
		cfg.Threads.Storage = &id
		host[id] = memstorage.New()
	}
	// A restart without storage then stands for another gateway taking
	// the channels over: it reads the live messages back from Slack.
	cfg.Threads.RestoreFromSlack = enabled && r.IntN(3) == 0
	w.configureMutes(cfg, webhookMode, host)
	w.host = host
	require.NoError(w.t, cfg.Validate())
	w.cfg = cfg

	labels := slices.Sorted(func(yield func(string) bool) {
		for l := range w.dests {
			if !yield(l) {
				return
			}
		}
	})
	for i := range 5 + r.IntN(60) {
		word := letters(i)
		s := &fpSpec{
			marker:   "fp-" + word,
			service:  "svc-" + letters(r.IntN(6)),
			route:    labels[r.IntN(len(labels))],
			severity: []plog.SeverityNumber{plog.SeverityNumberError, plog.SeverityNumberFatal}[r.IntN(2)],
			tenant:   letters(r.IntN(3)),
		}
		s.body = "fp-" + word + " failed"
		switch r.IntN(6) {
		case 0: // hostile: mentions and markup that must stay inert
			s.body += " <!channel> <@U0BAD> <!subteam^S0BAD|x> & ``` *bold* <https://evil.example|click>"
		case 1: // long
			s.body += " " + strings.Repeat("stack frame at handler.go ", 150+r.IntN(300))
		case 2:
			s.attrs = 30
		}
		w.specs = append(w.specs, s)
	}
	if w.dynamic {
		for _, s := range w.specs {
			if w.dyn.IntN(3) == 0 {
				s.route, s.team = "dyn", dynamicTeams[w.dyn.IntN(len(dynamicTeams))].team
			}
		}
	}
	w.logf("mode=%s channels=%d routes=%d timeout=%s rate=%v/%d mask=%v by=%v mention=%q threads=%v reply_every=%s updates/min=%v max_tracked=%d storage=%v restore_from_slack=%v title=%q text=%q link=%q specs=%d",
		map[bool]string{true: "webhook", false: "token"}[webhookMode], channels, len(cfg.Routes), cfg.Timeout, cfg.RateLimit.PerSecond, cfg.RateLimit.Burst,
		cfg.Grouping.Mask, cfg.Grouping.By, cfg.Mention, enabled, cfg.Threads.ReplyEvery, cfg.Threads.UpdatesPerMinute, cfg.Threads.MaxTracked,
		cfg.Threads.Storage != nil, cfg.Threads.RestoreFromSlack, cfg.Message.Title, cfg.Message.Text, cfg.Message.Link, len(w.specs))
}

// dynamicTeams are what the specs of a templated route name their channel
// after ("#<team>-inv"): channels that take messages, channels the
// emulator says are missing, archived or without the bot, and a name that
// is no channel (its records go to the default one).
var dynamicTeams = []struct {
	team  string
	state slackemu.ChannelState
}{
	{"ok1", ""}, {"ok2", ""}, {"gone", slackemu.ChannelMissing}, {"arch", slackemu.ChannelArchived},
	{"nomember", slackemu.ChannelNotMember}, {"Bad Team", ""},
}

// configureDynamic adds, in half the token-mode runs, a route whose channel
// is a template, drawn from its own random source.
func (w *world) configureDynamic(cfg *Config, webhookMode bool, mentions []string) {
	w.dyn = rand.New(rand.NewPCG(w.seed, 0xd1c))
	if webhookMode || w.dyn.IntN(2) == 0 {
		return
	}
	templates := []string{
		`#{{ index .Resource "team" }}-inv`, // once per resource
		`{{ index .Attributes "to" }}`,      // per record
		`{{ if eq .Severity "FATAL" }}#{{ index .Resource "team" }}-inv{{ else }}{{ index .Resource "team" }}-inv{{ end }}`,
	}
	route := RouteConfig{Condition: `resource.attributes["route"] == "dyn"`, Channel: templates[w.dyn.IntN(len(templates))],
		Mention: mentions[w.dyn.IntN(len(mentions))]}
	cfg.Routes = append(cfg.Routes, route)
	for _, t := range dynamicTeams {
		name := t.team + "-inv"
		if _, ok := dynchannel.Name(name); !ok {
			continue
		}
		label := "dyn/" + t.team
		w.addDest(label, dynamicKey(name, route.Mention), "#"+name, route.Mention)
		w.dests[label].dynamic = true
		if t.state != "" {
			require.NoError(w.t, w.emu.SetChannel("#"+name, t.state))
		}
	}
	// Its own channels and their rerouted destinations number at most 10:
	// a bound of 5 makes the registry forget idle ones, never past twice
	// the bound (where it would forget a channel's pace too).
	w.maxDynamic = []int{maxDynamicDestinations, 5}[w.dyn.IntN(2)]
	w.dynamic = true
	w.logf("templated route: channel=%q mention=%q max_dynamic=%d", route.Channel, route.Mention, w.maxDynamic)
}

func (w *world) addDest(label, key, slackName, mention string) {
	w.dests[label] = &invDest{key: key, slack: slackName, mention: normalizedMention(mention)}
}

// letters spells i with the letters g–z, which grouping never masks.
func letters(i int) string {
	const alphabet = "ghijklmnopqrstuvwxyz"
	s := ""
	for {
		s = string(alphabet[i%len(alphabet)]) + s
		i /= len(alphabet)
		if i == 0 {
			return s
		}
	}
}

func (w *world) settings() exporter.Settings {
	return metadatatest.NewSettings(w.tel)
}

func (w *world) startExporter() {
	e, err := newSlackExporter(w.cfg, w.settings())
	require.NoError(w.t, err)
	e.now = w.now
	if w.maxDynamic > 0 {
		e.maxDynamic = w.maxDynamic
	}
	// Every other exporter reduces the records it is pushed in place, as
	// with batching on; the others copy what they keep.
	e.ownsInput = (w.seed+uint64(len(w.epochs)))%2 == 0
	w.logf("exporter %d takes its input in place: %v", len(w.epochs)+1, e.ownsInput)
	require.NoError(w.t, e.start(context.Background(), w.host))
	w.mu.Lock()
	w.exp = e
	w.epochs = append(w.epochs, time.Now())
	w.mu.Unlock()
}

// shutdownExporter stops the current exporter and checks it stops in time,
// whatever is hanging (check 6).
func (w *world) shutdownExporter() {
	start := time.Now()
	err := w.exp.shutdown(context.Background())
	took := time.Since(start)
	w.mu.Lock()
	w.checks++
	w.mu.Unlock()
	if err != nil {
		w.t.Errorf("shutdown: %v", err)
	}
	if limit := w.cfg.Timeout + time.Second; took > limit {
		w.t.Errorf("check 6: shutdown took %s, more than timeout + 1s (%s)", took, limit)
	}
}

// step runs one random step of the script.
func (w *world) step() {
	r := w.rng
	switch p := r.IntN(100); {
	case p < 40:
		// Several queue consumers at once: their pushes meet in each
		// destination's outbox.
		w.maybeClick()
		n := 1 + r.IntN(6)
		batches := make([]plog.Logs, n)
		for i := range batches {
			batches[i] = w.records()
		}
		retries := w.takePending()
		tick := r.IntN(4) == 0
		w.logf("push %d batches and %d retries concurrently, quiet tick alongside: %v", n, len(retries), tick)
		e := w.current()
		var wg sync.WaitGroup
		for _, ld := range batches {
			wg.Go(func() { w.push(e, ld) })
		}
		for _, ld := range retries {
			wg.Go(func() { w.pushKept(e, ld) })
		}
		if tick {
			wg.Go(w.quietTick)
		}
		wg.Wait()
	case p < 55:
		w.fault()
	case p < 62:
		w.logf("clear faults")
		w.emu.ClearFaults()
	case p < 72:
		d := []time.Duration{w.cfg.Threads.QuietAfter / 2, w.cfg.Threads.QuietAfter + time.Minute, w.cfg.Threads.Window + time.Minute, time.Duration(r.IntN(600)) * time.Second}[r.IntN(4)]
		w.logf("advance the clock %s", d)
		w.mu.Lock()
		w.jumps = append(w.jumps, clockJump{at: time.Now(), offset: time.Duration(w.offset.Add(int64(d)))})
		w.mu.Unlock()
	case p < 80:
		w.logf("quiet tick")
		w.quietTick()
	case p < 86:
		w.restart()
	default:
		d := time.Duration(20+r.IntN(400)) * time.Millisecond
		w.logf("sleep %s", d)
		time.Sleep(d)
	}
}

// records draws one batch as an application would send it: kept records of
// several fingerprints and a few INFO records that the filter drops.
func (w *world) records() plog.Logs {
	r := w.rng
	ld := plog.NewLogs()
	groups := 1 + r.IntN(min(60, len(w.specs)))
	specs := make([]*fpSpec, groups)
	for i := range specs {
		specs[i] = w.specs[r.IntN(len(w.specs))]
	}
	n := groups + r.IntN(200-groups+1)
	ts := pcommon.NewTimestampFromTime(w.now())
	for i := range n {
		s := specs[i%groups]
		if i >= groups {
			s = specs[r.IntN(groups)]
		}
		rl := ld.ResourceLogs().AppendEmpty()
		res := rl.Resource().Attributes()
		res.PutStr("service.name", s.service)
		res.PutStr("route", s.route)
		res.PutStr("deployment.environment", "inv")
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetTimestamp(ts)
		lr.SetSeverityNumber(s.severity)
		body := s.body
		if w.cfg.Grouping.Mask {
			body += fmt.Sprintf(" after %dms for order %d", r.IntN(5000), r.IntN(1e6))
		}
		lr.Body().SetStr(body)
		lr.Attributes().PutStr("tenant", s.tenant)
		if s.team != "" {
			res.PutStr("team", s.team)
			lr.Attributes().PutStr("to", "#"+s.team+"-inv")
		}
		for a := range s.attrs {
			lr.Attributes().PutStr(fmt.Sprintf("attr.%02d", a), strings.Repeat("v", 50))
		}
		if r.IntN(3) == 0 {
			lr.SetTraceID([16]byte{byte(i), 1, 2, 3})
		}
		if r.IntN(10) == 0 {
			info := rl.ScopeLogs().At(0).LogRecords().AppendEmpty()
			info.SetSeverityNumber(plog.SeverityNumberInfo)
			info.Body().SetStr("request ok")
		}
	}
	return ld
}

func (w *world) current() *slackExporter {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.exp
}

// push selects ld with exporter e, then pushes what it kept.
func (w *world) push(e *slackExporter, ld plog.Logs) {
	kept := e.selectRecords(context.Background(), ld)
	w.mu.Lock()
	for _, rl := range kept.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			w.destOf(sl).accepted += sl.LogRecords().Len()
		}
	}
	w.mu.Unlock()
	w.pushKept(e, kept)
}

// pushKept pushes records the exporter already took, as a queue consumer
// does, keeping what comes back for a retry.
func (w *world) pushKept(e *slackExporter, kept plog.Logs) {
	rec := pushRecord{fake: e.now(), markers: map[string]bool{}}
	for _, rl := range kept.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				rec.markers[w.destOf(sl).slack+" "+markerOf(lr.Body().Str())] = true
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.Timeout)
	defer cancel()
	start := time.Now()
	err := e.push(ctx, kept)
	rec.ended = time.Now()
	rec.ok = err == nil
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pushes = append(w.pushes, rec)
	w.checks++
	if took := rec.ended.Sub(start); took > w.cfg.Timeout+500*time.Millisecond {
		w.t.Errorf("a push took %s, past its timeout %s", took, w.cfg.Timeout)
	}
	var failed consumererror.Logs
	switch {
	case err == nil, consumererror.IsPermanent(err):
		// Delivered, or refused for good and counted in records_dropped.
	case errors.As(err, &failed):
		w.pending = append(w.pending, failed.Data())
	default:
		w.t.Errorf("push returned %v: neither permanent nor the records to retry", err)
	}
}

func (w *world) takePending() []plog.Logs {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.pending
	w.pending = nil
	return p
}

// destOf is the destination a kept record was routed to.
func (w *world) destOf(sl plog.ScopeLogs) *invDest {
	key := cmp.Or(selection.Destination(sl), w.dests[""].key)
	for _, d := range w.dests {
		if d.key == key {
			return d
		}
	}
	w.t.Fatalf("record routed to unknown destination %q", key)
	return nil
}

func (w *world) quietTick() {
	e := w.current()
	if e.tracker == nil {
		return
	}
	tick := tickRecord{fake: e.now(), started: time.Now(), firstSeq: w.versionSeq() + 1}
	e.markQuiet(context.Background(), tick.fake)
	tick.ended, tick.afterSeq = time.Now(), w.versionSeq()
	w.mu.Lock()
	w.ticks = append(w.ticks, tick)
	w.mu.Unlock()
}

// versionSeq is the emulator's last version number.
func (w *world) versionSeq() int {
	last := 0
	for _, m := range w.emu.Messages() {
		for _, v := range m.History {
			last = max(last, v.Seq)
		}
	}
	return last
}

// fault starts a random fault on one destination or all of them.
func (w *world) fault() {
	r := w.rng
	target := "*"
	if r.IntN(4) > 0 {
		labels := slices.Sorted(func(yield func(string) bool) {
			for l := range w.dests {
				if !yield(l) {
					return
				}
			}
		})
		target = w.dests[labels[r.IntN(len(labels))]].slack
	}
	count := 1 + r.IntN(3)
	var f slackemu.Fault
	switch r.IntN(11) {
	case 0:
		f = slackemu.Fault{Mode: slackemu.FaultRateLimit, RetryAfter: 1 + r.IntN(2), Count: count}
	case 1:
		f = slackemu.Fault{Mode: slackemu.FaultError, Error: "ratelimited", Count: count}
	case 2:
		f = slackemu.Fault{Mode: slackemu.FaultStatus, Status: 503, Count: count}
	case 3:
		f = slackemu.Fault{Mode: slackemu.FaultHang, For: time.Duration(r.IntN(3000)) * time.Millisecond}
	case 4:
		// Slack acts, then answers late: within the share of the timeout
		// kept for the call, or a retry would post twice.
		f = slackemu.Fault{Mode: slackemu.FaultLate, Latency: w.cfg.Timeout / 4, Count: count}
	case 5:
		f = slackemu.Fault{Mode: slackemu.FaultError, Error: "channel_not_found", Count: count}
	case 6:
		f = slackemu.Fault{Method: "chat.update", Mode: slackemu.FaultError, Error: "message_not_found", Count: count}
	case 7:
		f = slackemu.Fault{Mode: slackemu.FaultError, Error: "msg_too_long", Count: 1}
	case 8:
		f = slackemu.Fault{Mode: slackemu.FaultDrop, Count: count}
	case 9:
		f = slackemu.Fault{Mode: slackemu.FaultError, Error: "internal_error", Count: count}
	default:
		f = slackemu.Fault{Mode: slackemu.FaultStatus, Status: 503, For: time.Duration(r.IntN(2000)) * time.Millisecond}
	}
	f.Target = target
	if f.Mode == slackemu.FaultError && (f.Error == "channel_not_found" || f.Error == "msg_too_long") && f.Method == "" {
		w.mu.Lock()
		for _, d := range w.dests {
			if target == "*" || d.slack == target {
				w.permanent[d.slack] = true
			}
		}
		w.mu.Unlock()
	}
	w.logf("fault %s on %s: %+v", f.Mode, target, f)
	require.NoError(w.t, w.emu.SetFault(f))
}

// restart stops the exporter while pushes may be in flight, as a collector
// that is told to stop would, then starts a new one with the same
// configuration (and storage, if any).
func (w *world) restart() {
	inFlight := w.rng.IntN(3)
	w.logf("restart with %d pushes in flight", inFlight)
	e := w.current()
	var wg sync.WaitGroup
	for range inFlight {
		ld := w.records()
		wg.Go(func() { w.push(e, ld) })
	}
	time.Sleep(time.Duration(w.rng.IntN(100)) * time.Millisecond)
	w.shutdownExporter()
	wg.Wait() // their records come back for the next instance, as a queue keeps them
	w.forgetMutes(time.Now())
	w.startExporter()
}

// drain ends the faults and pushes what is pending until nothing is, as the
// queue would once Slack recovers. Each round must deliver something.
func (w *world) drain() {
	w.emu.ClearFaults()
	drainRounds(w.t, func() (int, func()) {
		pending := w.takePending()
		records := 0
		for _, ld := range pending {
			records += ld.LogRecordCount()
		}
		e := w.current()
		return records, func() {
			var wg sync.WaitGroup
			for _, ld := range pending {
				wg.Go(func() { w.pushKept(e, ld) })
			}
			wg.Wait()
		}
	})
}

// drainRounds pushes again, a round every 200 ms, what take hands back (its
// records, and how to push them all), until nothing is: check 1 fails when
// 20 s pass without fewer records handed back than ever before.
func drainRounds(t testing.TB, take func() (records int, push func())) {
	stuckSince, least := time.Now(), -1
	for {
		records, push := take()
		if records == 0 {
			return
		}
		if least < 0 || records < least {
			stuckSince, least = time.Now(), records
		}
		if time.Since(stuckSince) > 20*time.Second {
			t.Errorf("check 1: %d records still handed back after 20s of a healthy Slack without progress", records)
			return
		}
		time.Sleep(200 * time.Millisecond)
		push()
	}
}
