package slackexporter

// TestFleetInvariants (issue #9) runs TestDeliveryInvariants' promises
// against a fleet: two gateways at once, one Slack (the emulator), the way
// a Kafka consumer group runs them. Both have one configuration: token mode,
// threads on, threads.restore_from_slack. Each channel is owned by one
// gateway at a time and only its owner is pushed its records (a push holds
// one channel's records, as a Kafka record does). The script's steps: pushes
// to both gateways at once (each to the channels it owns), with quiet marks
// from both alongside (a former owner keeps marking the live messages of a
// channel it lost); rebalances that move some channels to the other gateway
// (both are told, rebalanced(), before the new owner is pushed anything);
// kills of a gateway in the middle of its pushes (their contexts end, it is
// shut down; the records of the pushes it had in flight go, whole, to the
// channels' new owner, as Kafka delivers uncommitted records again, and a
// new incarnation of the gateway joins the group); faults, waits for lines
// to go quiet, quiet marks, pauses. The gateways run on the real clock with
// a short quiet_after, so both quiet loops mark lines in the background.
//
// Checks, after the run (invariants_check_test.go where they apply):
//
//	1  every accepted record is shown once or counted as dropped, over both
//	   gateways' counters; only the records of a push in flight at a kill
//	   may be shown twice (counted, not asserted away)
//	2  Slack refused no call for breaking its rules (a call cut by a kill
//	   may have been acted on after its client left: that is the kill)
//	3  mentions
//	4  posts to a channel, from both gateways together as each could know
//	   them (its own, and the others' that Slack took), within burst +
//	   per_second × time; Retry-After kept; at most one real 429 to posts
//	   per channel and gateway incarnation (a burst after a failed
//	   read-back is counted, not failed: the gateway could not know)
//	5  counts in a live message never go down, whichever gateway wrote the
//	   version; a line marked quiet had no records for quiet_after (every
//	   mark, the quiet loops' included); once a newer message counts a
//	   fingerprint the older stops; and a fingerprint another gateway's
//	   message shows within the window is not posted again by the channel's
//	   new owner (unless a by-design reason explains it: see checkHandovers)
//	6  a gateway stops within timeout + 1 s
//	7  metadata stands for what each version shows
//
// The KNOWN RACE (documented): between a former owner's read-back and its
// redraw (a quiet mark), the current owner can update the message; the
// redraw then lowers counts or marks quiet a line just counted. Checks 1
// and 5 leave out exactly those versions (knownRace), count them and log
// them with the seed; the summary line says how many.
//
// FLEET_LOG=1 logs the gateways' own logs, every push and, on a failure,
// every call and message.
//
//	INVARIANTS_DURATION  how long to run: the fixed seeds, then fresh ones until then (default 10s here: with the fixed seeds, about 10–20 s)
//	INVARIANTS_SEED      run only these seeds (comma-separated)

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configmiddleware"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"go.opentelemetry.io/collector/pdata/plog"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/slackexporter/slackexporter/internal/metadata"
	"github.com/slackexporter/slackexporter/internal/slackemu"
)

var fleetSeeds = []uint64{1, 2, 3}

func TestFleetInvariants(t *testing.T) {
	start := time.Now()
	var runs, failed int
	var sum fleetStats
	for seed := range seedsToRun(t, fleetSeeds, 10*time.Second) {
		var st fleetStats
		if !t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { st = runFleet(t, seed) }) {
			failed++
		}
		runs++
		sum.add(st)
	}
	t.Logf("%d runs in %s, %d checks, %d failed runs; %d channel moves, %d kills (%d records in flight, %d shown twice), "+
		"%d real 429s, %d bursts after a failed read-back, %d over the rate with the previous owner's thread replies, %d updates of another gateway's message, %d repeats posted anew after a handover (%v), %d counts lowered (see the log), %d quiet marks or lowered counts by a former owner after its read-back (known race, tolerated)",
		runs, time.Since(start).Round(time.Millisecond), sum.checks, failed, sum.moves, sum.kills, sum.inflight, sum.duplicates,
		sum.real429, sum.blindBursts, sum.replyBlind, sum.crossUpdates, sum.repostsExcused, sum.excuses, sum.lowered, sum.knownRace)
}

// fleetStats is what a run measured, for the summary.
type fleetStats struct {
	checks, moves, kills, inflight, duplicates, real429, crossUpdates, repostsExcused, lowered, blindBursts, replyBlind, knownRace int
	excuses                                                                                                                        map[string]int
}

func (s *fleetStats) add(o fleetStats) {
	s.checks += o.checks
	s.moves += o.moves
	s.kills += o.kills
	s.inflight += o.inflight
	s.duplicates += o.duplicates
	s.real429 += o.real429
	s.crossUpdates += o.crossUpdates
	s.repostsExcused += o.repostsExcused
	s.lowered += o.lowered
	s.blindBursts += o.blindBursts
	s.replyBlind += o.replyBlind
	s.knownRace += o.knownRace
	for k, v := range o.excuses {
		if s.excuses == nil {
			s.excuses = map[string]int{}
		}
		s.excuses[k] += v
	}
}

// fleetRun is one run: the world of TestDeliveryInvariants (emulator,
// configuration, records accepted, pushes and quiet ticks) with two
// gateways in it instead of one exporter.
type fleetRun struct {
	*world
	gws      [2]*fleetGateway
	channels []string                 // the Slack channels of the configuration, sorted
	owner    map[string]int           // channel → index of the gateway that owns it
	owners   []ownerChange            // every change of ownership, in order
	caller   map[string]*fleetGateway // X-Request-Id → the gateway incarnation that made the call
	queue    []fleetParcel            // records handed back, to push again to their channel's owner
	inflight map[string]int           // channel → records of pushes in flight at a kill, pushed again
	moves    map[string]int           // channel → ownership changes
	kills    int
	setupEnd time.Time // calls before this are the test's own (creating the channels)
	stats    fleetStats
}

// fleetGateway is one incarnation of a gateway: a new one joins after a kill.
type fleetGateway struct {
	index  int
	name   string // "g1/2": gateway 1, second incarnation
	exp    *slackExporter
	killed time.Time // zero unless killed
}

type ownerChange struct {
	at      time.Time
	channel string
	to      *fleetGateway
}

// fleetParcel is a push's records, all for one channel.
type fleetParcel struct {
	channel string
	ld      plog.Logs
}

func runFleet(t *testing.T, seed uint64) fleetStats {
	w := &world{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 0xf1ee7)), permanent: map[string]bool{}, dests: map[string]*invDest{}}
	f := &fleetRun{world: w, owner: map[string]int{}, caller: map[string]*fleetGateway{}, inflight: map[string]int{}, moves: map[string]int{}}
	rate, burst := []float64{1, 2, 4}[w.rng.IntN(3)], 1+w.rng.IntN(3)
	opts := slackemu.Options{Token: testToken}
	if w.rng.IntN(3) > 0 {
		// Slack as strict as the configuration: a fleet that posts faster
		// than one gateway may gets real 429s.
		opts.Rate, opts.Burst, opts.RetryAfter = rate, burst, 1
	}
	w.emu = slackemu.New(opts)
	w.srv = httptest.NewServer(w.emu)
	t.Cleanup(func() { w.emu.Close(); w.srv.Close() })
	w.tel = componenttest.NewTelemetry()
	t.Cleanup(func() { _ = w.tel.Shutdown(context.Background()) })
	f.configure(rate, burst)
	f.createChannels()
	f.gws[0], f.gws[1] = f.startGateway(0, 1), f.startGateway(1, 1)
	for _, ch := range f.channels {
		f.owner[ch] = w.rng.IntN(2)
		f.owners = append(f.owners, ownerChange{at: time.Now(), channel: ch, to: f.gws[f.owner[ch]]})
	}
	w.logf("owners: %s", f.ownersText())
	defer func() {
		if t.Failed() {
			t.Logf("reproduce the configuration and script with INVARIANTS_SEED=%d go test -run TestFleetInvariants .", seed)
			t.Logf("script:\n  %s", strings.Join(w.script, "\n  "))
			t.Logf("records_dropped by error: %v; api_errors by error: %v",
				w.counterBy("otelcol_exporter_slack_records_dropped"), w.counterBy("otelcol_exporter_slack_api_errors"))
			if os.Getenv("FLEET_LOG") != "" {
				t.Logf("calls:%s", f.callList())
			}
		}
	}()

	steps := 8 + w.rng.IntN(9)
	for i := 0; i < steps && !t.Failed(); i++ {
		f.step()
	}
	f.drain()
	if !t.Failed() {
		f.check()
	}
	for _, g := range f.gws {
		f.shutdown(g)
	}
	f.stats.checks = w.checks
	f.stats.moves = 0
	for _, n := range f.moves {
		f.stats.moves += n
	}
	f.stats.kills = f.kills
	for _, n := range f.inflight {
		f.stats.inflight += n
	}
	return f.stats
}

// configure draws the fleet's one configuration.
func (f *fleetRun) configure(rate float64, burst int) {
	w, r := f.world, f.rng
	cfg := createDefaultConfig().(*Config)
	cfg.APIURL = w.srv.URL + "/api/"
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.BackOffConfig.Enabled = false
	cfg.Timeout = time.Duration(800+r.IntN(1200)) * time.Millisecond
	cfg.RateLimit = RateLimitConfig{PerSecond: rate, Burst: burst}
	cfg.Grouping = GroupingConfig{Mask: r.IntN(3) > 0}
	if r.IntN(4) == 0 {
		cfg.Grouping.By = []string{"tenant"}
	}
	mentions := []string{"", "", "here", "S0ONCALL", "U0ONCALL"}
	cfg.Token = testToken
	cfg.Channel = "#inv-a"
	cfg.Mention = mentions[r.IntN(len(mentions))]
	w.addDest("", channelKey(cfg.Channel, cfg.Mention), "#inv-a", cfg.Mention)
	channels := 2 + r.IntN(3)
	for i := 1; i < channels; i++ {
		label := fmt.Sprintf("c%d", i)
		route := RouteConfig{Condition: fmt.Sprintf(`resource.attributes["route"] == %q`, label), Mention: mentions[r.IntN(len(mentions))],
			Channel: fmt.Sprintf("#inv-%c", 'a'+i)}
		w.addDest(label, channelKey(route.Channel, route.Mention), route.Channel, route.Mention)
		cfg.Routes = append(cfg.Routes, route)
	}
	if r.IntN(3) == 0 {
		// A second destination on the default channel, paging someone:
		// its records travel under the channel's key, so one owner.
		route := RouteConfig{Condition: `resource.attributes["route"] == "page"`, Channel: "#inv-a", Mention: "S0PAGE"}
		cfg.Routes = append(cfg.Routes, route)
		w.addDest("page", channelKey(route.Channel, route.Mention), "#inv-a", route.Mention)
	}
	titles := []string{"", "", `{{ .Service }}: {{ .Records }} problems in {{ .Groups }} groups`, `{{ .Body }}`}
	texts := []string{"", "", `{{ .Body }} (seen {{ .Count }} times, last {{ .Last.Format "15:04:05" }})`, `{{ .Body }} {{ printf "%0*d" .Count 0 }}`}
	cfg.Message = MessageConfig{Title: titles[r.IntN(len(titles))], Text: texts[r.IntN(len(texts))]}
	if r.IntN(3) == 0 {
		cfg.Message.Link = `https://trace.example/{{ .TraceID }}?q=<{{ .Body }}>`
	}
	enabled := true
	cfg.Threads.Enabled = &enabled
	cfg.Threads.RestoreFromSlack = true
	cfg.Threads.ReplyEvery = []time.Duration{0, time.Minute, time.Hour}[r.IntN(3)]
	cfg.Threads.UpdatesPerMinute = []float64{60, 600}[r.IntN(2)]
	// The gateways run on the real clock, unlike TestDeliveryInvariants'
	// exporter: Slack's ts are real time, and a gateway compares them with
	// its own (the read-back's window, Adopt's post times against
	// Register's), so a clock running ahead of Slack's makes a fleet no
	// production fleet is. quiet_after is short instead, so that lines go
	// quiet within a run and both gateways' quiet loops (every quiet_after/4)
	// mark them in the background, the former owner's included.
	cfg.Threads.QuietAfter = []time.Duration{700 * time.Millisecond, 1500 * time.Millisecond}[r.IntN(2)]
	cfg.Middlewares = []configmiddleware.Config{{ID: component.MustNewID("clientclock")}}
	w.clock = newClientClock()
	require.NoError(w.t, cfg.Validate())
	w.cfg = cfg

	labels := slices.Sorted(func(yield func(string) bool) {
		for l := range w.dests {
			if !yield(l) {
				return
			}
		}
	})
	for _, l := range labels {
		if !slices.Contains(f.channels, w.dests[l].slack) {
			f.channels = append(f.channels, w.dests[l].slack)
		}
	}
	slices.Sort(f.channels)
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
		case 0:
			s.body += " <!channel> <@U0BAD> <!subteam^S0BAD|x> & ``` *bold* <https://evil.example|click>"
		case 1:
			s.body += " " + strings.Repeat("stack frame at handler.go ", 150+r.IntN(300))
		case 2:
			s.attrs = 30
		}
		w.specs = append(w.specs, s)
	}
	w.logf("fleet of 2: channels=%v timeout=%s rate=%v/%d slack_rate=%v/%d mask=%v by=%v mention=%q reply_every=%s updates/min=%v title=%q text=%q link=%q specs=%d",
		f.channels, cfg.Timeout, rate, burst, w.emu.Options().Rate, w.emu.Options().Burst, cfg.Grouping.Mask, cfg.Grouping.By, cfg.Mention,
		cfg.Threads.ReplyEvery, cfg.Threads.UpdatesPerMinute, cfg.Message.Title, cfg.Message.Text, cfg.Message.Link, len(w.specs))
}

// createChannels makes the emulator know the channels before the gateways
// start, as Slack does: it lists only channels posted to, and a gateway
// lists them at most once a minute, so a channel first posted to by one
// gateway would stay invisible to the other's read-back for a minute.
func (f *fleetRun) createChannels() {
	for _, ch := range f.channels {
		resp, err := http.PostForm(f.srv.URL+"/api/conversations.history", url.Values{"token": {testToken}, "channel": {ch}})
		require.NoError(f.t, err)
		_ = resp.Body.Close()
	}
	f.setupEnd = time.Now()
}

// gatewayClock is the clientclock extension of one gateway incarnation:
// the run's one clock (sent and answered times) that also notes which
// incarnation made each call.
type gatewayClock struct {
	component.StartFunc
	component.ShutdownFunc
	f  *fleetRun
	gw *fleetGateway
}

var _ extensionmiddleware.HTTPClient = (*gatewayClock)(nil)

func (c *gatewayClock) GetHTTPRoundTripper(ctx context.Context) (extensionmiddleware.WrapHTTPRoundTripperFunc, error) {
	wrap, err := c.f.clock.GetHTTPRoundTripper(ctx)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, base http.RoundTripper) (http.RoundTripper, error) {
		return wrap(ctx, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			c.f.mu.Lock()
			c.f.caller[r.Header.Get("X-Request-Id")] = c.gw
			c.f.mu.Unlock()
			return base.RoundTrip(r)
		}))
	}, nil
}

func (f *fleetRun) startGateway(index, life int) *fleetGateway {
	g := &fleetGateway{index: index, name: fmt.Sprintf("g%d/%d", index+1, life)}
	set := f.settings()
	if os.Getenv("FLEET_LOG") != "" {
		set.Logger = zaptest.NewLogger(f.t, zaptest.Level(zap.DebugLevel)).Named(g.name)
	}
	e, err := newSlackExporter(f.cfg, set)
	require.NoError(f.t, err)
	e.now = f.now
	e.ownsInput = (f.seed+uint64(index+life))%2 == 0 // in place, as with batching on, or copied
	host := hostWith{component.MustNewID("clientclock"): &gatewayClock{f: f, gw: g}}
	require.NoError(f.t, e.start(context.Background(), host))
	g.exp = e
	return g
}

// shutdown stops a gateway and checks it stops in time (check 6).
func (f *fleetRun) shutdown(g *fleetGateway) {
	start := time.Now()
	err := g.exp.shutdown(context.Background())
	took := time.Since(start)
	f.mu.Lock()
	f.checks++
	f.mu.Unlock()
	if err != nil {
		f.t.Errorf("shutdown of %s: %v", g.name, err)
	}
	if limit := f.cfg.Timeout + time.Second; took > limit {
		f.t.Errorf("check 6: shutdown of %s took %s, more than timeout + 1s (%s)", g.name, took, limit)
	}
}

func (f *fleetRun) ownersText() string {
	var b strings.Builder
	for _, ch := range f.channels {
		fmt.Fprintf(&b, " %s→%s", ch, f.gws[f.owner[ch]].name)
	}
	return b.String()
}

// ownerAt is the gateway incarnation that owned channel at t.
func (f *fleetRun) ownerAt(channel string, t time.Time) *fleetGateway {
	var g *fleetGateway
	for _, c := range f.owners {
		if c.channel == channel && !c.at.After(t) {
			g = c.to
		}
	}
	return g
}

func (f *fleetRun) step() {
	r := f.rng
	switch p := r.IntN(100); {
	case p < 40:
		f.pushStep(-1)
	case p < 50:
		f.rebalance()
	case p < 56:
		f.pushStep(r.IntN(2))
	case p < 66:
		f.fault()
	case p < 71:
		f.logf("clear faults")
		f.emu.ClearFaults()
	case p < 78:
		// The gateways' own clock is the real one (see configure): lines
		// go quiet by waiting, and both quiet loops mark them.
		d := f.cfg.Threads.QuietAfter + f.cfg.Threads.QuietAfter/4 + 100*time.Millisecond
		f.logf("wait %s for lines to go quiet", d)
		time.Sleep(d)
	case p < 90:
		f.logf("quiet tick on both gateways")
		var wg sync.WaitGroup
		for _, g := range f.gws {
			wg.Go(func() { f.quietTick(context.Background(), g) })
		}
		wg.Wait()
	default:
		d := time.Duration(20+r.IntN(400)) * time.Millisecond
		f.logf("sleep %s", d)
		time.Sleep(d)
	}
}

// rebalance moves some channels to the other gateway. Both are told before
// the new owner gets a record, as the consumer group's watcher does.
func (f *fleetRun) rebalance() {
	var moved []string
	for _, ch := range f.channels {
		if f.rng.IntN(2) == 0 {
			moved = append(moved, ch)
		}
	}
	if len(moved) == 0 {
		moved = append(moved, f.channels[f.rng.IntN(len(f.channels))])
	}
	for _, g := range f.gws {
		g.exp.rebalanced()
	}
	f.mu.Lock()
	for _, ch := range moved {
		f.owner[ch] = 1 - f.owner[ch]
		f.moves[ch]++
		f.owners = append(f.owners, ownerChange{at: time.Now(), channel: ch, to: f.gws[f.owner[ch]]})
	}
	f.mu.Unlock()
	f.logf("rebalance: %v move; owners:%s", moved, f.ownersText())
}

// records draws one push's records, all for channel (nil if no error of
// the script goes there).
func (f *fleetRun) records(channel string) plog.Logs {
	var pool []*fpSpec
	for _, s := range f.specs {
		if f.dests[s.route].slack == channel {
			pool = append(pool, s)
		}
	}
	if len(pool) == 0 {
		return plog.Logs{}
	}
	// world.records draws from w.specs: give it this channel's.
	all := f.specs
	f.specs = pool
	defer func() { f.specs = all }()
	return f.world.records()
}

// pushStep pushes records to both gateways at once, each to the channels
// it owns, with what was handed back before. With kill >= 0, that gateway is
// killed while its pushes are in flight.
func (f *fleetRun) pushStep(kill int) {
	r := f.rng
	type job struct {
		gw      *fleetGateway
		channel string
		kept    plog.Logs
	}
	var jobs []job
	n := 1 + r.IntN(6)
	for range n {
		ch := f.channels[r.IntN(len(f.channels))]
		ld := f.records(ch)
		if ld == (plog.Logs{}) {
			continue
		}
		g := f.gws[f.owner[ch]]
		jobs = append(jobs, job{g, ch, f.accept(g, ld)})
	}
	fresh := len(jobs)
	for _, p := range f.takeQueue() {
		jobs = append(jobs, job{f.gws[f.owner[p.channel]], p.channel, p.ld})
	}
	tick := r.IntN(3) == 0
	killAfter := time.Duration(r.IntN(300)) * time.Millisecond
	f.logf("push %d batches and %d handed back, to their owners concurrently; quiet ticks on both alongside: %v; kill: %v",
		fresh, len(jobs)-fresh, tick, map[bool]string{true: fmt.Sprintf("%s after %s", f.gws[max(kill, 0)].name, killAfter), false: "no"}[kill >= 0])
	killCtx, killNow := context.WithCancel(context.Background())
	defer killNow()
	base := func(g *fleetGateway) context.Context {
		if kill >= 0 && g == f.gws[kill] {
			return killCtx
		}
		return context.Background()
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { f.pushKept(base(j.gw), j.gw, j.channel, j.kept) })
	}
	if tick {
		for _, g := range f.gws {
			wg.Go(func() { f.quietTick(base(g), g) })
		}
	}
	if kill >= 0 {
		victim := f.gws[kill]
		time.Sleep(killAfter)
		f.mu.Lock()
		victim.killed = time.Now()
		f.mu.Unlock()
		killNow()
		f.shutdown(victim)
	}
	wg.Wait()
	if kill >= 0 {
		f.takeOver(kill)
	}
}

// accept selects ld as the agents do and counts what was kept.
func (f *fleetRun) accept(g *fleetGateway, ld plog.Logs) plog.Logs {
	kept := g.exp.selectRecords(context.Background(), ld)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, rl := range kept.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			f.destOf(sl).accepted += sl.LogRecords().Len()
		}
	}
	return kept
}

// pushKept pushes one channel's records to gateway g, as its Kafka
// partition's consumer does: records handed back are pushed again to the
// channel's owner then; those of a push in flight when g is killed are
// all pushed again (Kafka never saw them committed).
func (f *fleetRun) pushKept(base context.Context, g *fleetGateway, channel string, kept plog.Logs) {
	e := g.exp
	rec := pushRecord{fake: e.now(), markers: map[string]bool{}}
	for _, rl := range kept.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				rec.markers[f.destOf(sl).slack+" "+markerOf(lr.Body().Str())] = true
			}
		}
	}
	ctx, cancel := context.WithTimeout(base, f.cfg.Timeout)
	defer cancel()
	start := time.Now()
	err := e.push(ctx, kept)
	rec.ended = time.Now()
	if os.Getenv("FLEET_LOG") != "" {
		markers := slices.Sorted(func(yield func(string) bool) {
			for m := range rec.markers {
				if !yield(m) {
					return
				}
			}
		})
		f.logf("  %s: push of %d records to %s, %s–%s: %v; %v", g.name, kept.LogRecordCount(), channel,
			start.Format("15:04:05.000"), rec.ended.Format("15:04:05.000"), err, markers)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	if took := rec.ended.Sub(start); took > f.cfg.Timeout+500*time.Millisecond {
		f.t.Errorf("a push to %s took %s, past its timeout %s", g.name, took, f.cfg.Timeout)
	}
	if !g.killed.IsZero() {
		f.queue = append(f.queue, fleetParcel{channel, kept})
		f.inflight[channel] += kept.LogRecordCount()
		return
	}
	rec.ok = err == nil
	f.pushes = append(f.pushes, rec)
	var failed consumererror.Logs
	switch {
	case err == nil, consumererror.IsPermanent(err):
	case errors.As(err, &failed):
		f.queue = append(f.queue, fleetParcel{channel, failed.Data()})
	default:
		f.t.Errorf("push to %s returned %v: neither permanent nor the records to retry", g.name, err)
	}
}

func (f *fleetRun) takeQueue() []fleetParcel {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queue
	f.queue = nil
	return q
}

// takeOver: the killed gateway's channels go to the other one (told of the
// rebalance), and a new incarnation of the killed one joins the group.
func (f *fleetRun) takeOver(kill int) {
	survivor := f.gws[1-kill]
	survivor.exp.rebalanced()
	next := f.startGateway(kill, f.lifeOf(kill)+1)
	f.mu.Lock()
	f.kills++
	var moved []string
	for _, ch := range f.channels {
		if f.owner[ch] == kill {
			f.owner[ch] = 1 - kill
			f.moves[ch]++
			f.owners = append(f.owners, ownerChange{at: time.Now(), channel: ch, to: survivor})
			moved = append(moved, ch)
		}
	}
	f.gws[kill] = next
	f.mu.Unlock()
	f.logf("killed: %v move to %s; %s joins; owners:%s", moved, survivor.name, next.name, f.ownersText())
}

// lifeOf is the incarnation number of gateway index now.
func (f *fleetRun) lifeOf(index int) int {
	_, life, _ := strings.Cut(f.gws[index].name, "/")
	n, _ := strconv.Atoi(life)
	return n
}

func (f *fleetRun) quietTick(ctx context.Context, g *fleetGateway) {
	e := g.exp
	tick := tickRecord{fake: e.now(), started: time.Now(), firstSeq: f.versionSeq() + 1}
	e.markQuiet(ctx, tick.fake)
	tick.ended, tick.afterSeq = time.Now(), f.versionSeq()
	f.mu.Lock()
	f.ticks = append(f.ticks, tick)
	f.mu.Unlock()
}

// drain ends the faults and pushes what was handed back to its channel's
// owner until nothing is, as Kafka would once Slack recovers.
func (f *fleetRun) drain() {
	f.emu.ClearFaults()
	drainRounds(f.t, func() (int, func()) {
		queue := f.takeQueue()
		records := 0
		for _, p := range queue {
			records += p.ld.LogRecordCount()
		}
		return records, func() {
			var wg sync.WaitGroup
			for _, p := range queue {
				g := f.gws[f.owner[p.channel]]
				wg.Go(func() { f.pushKept(context.Background(), g, p.channel, p.ld) })
			}
			wg.Wait()
		}
	})
}

// check runs the promises of TestDeliveryInvariants that hold for a fleet,
// adapted to two gateways, and the fleet's own.
func (f *fleetRun) check() {
	msgs := f.emu.Messages()
	calls := f.exporterCalls()
	kept := f.withoutKnownRace(msgs, calls)
	f.checkFleetAccounting(kept)
	f.checkLimits(f.withoutCutByKill(calls))
	f.checkMentions(msgs)
	f.checkFleetPacing(calls)
	f.checkLowered(kept, calls)
	f.checkLiveMessages(kept)
	// Not world.checkQuietMarks: it ties a mark to the quiet tick that was
	// running when Slack applied it, and here both quiet loops mark lines
	// on their own at any time. checkLoopQuietMarks checks every mark.
	f.checkLoopQuietMarks(msgs, calls)
	f.checkHandovers(msgs, calls)
	f.checkMetadata(msgs)
}

// withoutKnownRace leaves out of each message the versions that lowered a
// count and were written by a former owner of the channel after it had read
// the channel back since it lost it: the KNOWN RACE (documented): between
// that read-back and its redraw (a quiet mark), the current owner updated
// the message, and the redraw puts the counts read back over the newer
// ones. The message then stands as it would without that redraw: what
// checks 1 and 5 see. Each such version is counted and logged with the
// seed; every other lowering still fails check 5.
func (f *fleetRun) withoutKnownRace(msgs []slackemu.Message, calls []slackemu.Call) []slackemu.Message {
	out := make([]slackemu.Message, 0, len(msgs))
	for _, m := range msgs {
		if m.ThreadTS != "" || len(m.History) < 2 {
			out = append(out, m)
			continue
		}
		kept := []slackemu.Version{m.History[0]}
		for _, v := range m.History[1:] {
			last, err1 := parseShown(kept[len(kept)-1].Blocks)
			cur, err2 := parseShown(v.Blocks)
			if err1 == nil && err2 == nil && lowers(last, cur) {
				writer, owner := f.writerOf(m, v, calls), f.ownerAt(m.Channel, v.At)
				if f.knownRace(writer, m, v.At, calls) {
					f.stats.knownRace++
					f.t.Logf("known race, seed %d: %s in %s version at %s shows %d records, %d before: written by %s, the former owner (the owner: %s)",
						f.seed, m.TS, m.Channel, v.At.Format("15:04:05.000"), cur.records(), last.records(), writer.name, nameOf(owner))
					continue
				}
			}
			kept = append(kept, v)
		}
		last := kept[len(kept)-1]
		m.History, m.Blocks, m.Metadata = kept, last.Blocks, last.Metadata
		out = append(out, m)
	}
	return out
}

// lowers reports whether cur shows fewer records than prev, in all or for
// one of its entries.
func lowers(prev, cur shownMessage) bool {
	if cur.records() < prev.records() || cur.folded < prev.folded {
		return true
	}
	for k, e := range cur.entries {
		if k < len(prev.entries) && e.marker == prev.entries[k].marker && e.count < prev.entries[k].count {
			return true
		}
	}
	return false
}

// exporterCalls are the calls the gateways made (not the test's own, which
// made the channels).
func (f *fleetRun) exporterCalls() []slackemu.Call {
	var out []slackemu.Call
	for _, c := range f.emu.Calls() {
		if c.At.Before(f.setupEnd) && c.RequestID == "" {
			continue
		}
		out = append(out, c)
	}
	return out
}

func (f *fleetRun) callerOf(c slackemu.Call) *fleetGateway {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.caller[c.RequestID]
}

// withoutCutByKill leaves out the calls a kill cut: made by the killed
// incarnation before the kill and not answered before it. Slack may act on
// one after its client is gone; that is what a kill does.
func (f *fleetRun) withoutCutByKill(calls []slackemu.Call) []slackemu.Call {
	return slices.DeleteFunc(slices.Clone(calls), func(c slackemu.Call) bool {
		g := f.callerOf(c)
		if g == nil || g.killed.IsZero() {
			return false
		}
		sent, answered := f.clock.times(c.RequestID)
		return sent.Before(g.killed) && (answered.IsZero() || !answered.Before(g.killed))
	})
}

// checkFleetAccounting is promise 1 across both gateways' counters: every
// accepted record is shown once (entry counts and fold lines, top-level
// messages) or counted as dropped. The records of a push in flight at a
// kill were pushed again, whole, to the new owner: they alone may be shown
// (or counted) twice, and how many were is measured.
func (f *fleetRun) checkFleetAccounting(msgs []slackemu.Message) {
	shown := map[string]int{}
	total := 0
	for _, m := range msgs {
		if m.ThreadTS != "" {
			continue
		}
		s, err := parseShown(m.Blocks)
		if err != nil {
			f.fail("check 1: message %s in %s: %v", m.TS, m.Channel, err)
			continue
		}
		shown[m.Channel] += s.records()
		total += s.records()
	}
	accepted, inflight := map[string]int{}, 0
	all := 0
	for _, d := range f.dests {
		accepted[d.slack] += d.accepted
		all += d.accepted
	}
	for ch, n := range f.inflight {
		inflight += n
		if _, ok := accepted[ch]; !ok {
			f.fail("check 1: records in flight for %s, which no destination names", ch)
		}
	}
	for ch, n := range accepted {
		f.checks++
		switch {
		case shown[ch] > n+f.inflight[ch]:
			f.fail("check 1: %s shows %d records, %d were accepted for it and %d of them were in flight at a kill: some are shown twice",
				ch, shown[ch], n, f.inflight[ch])
		case shown[ch] < n && !f.permanent[ch]:
			f.fail("check 1: %s shows %d of the %d records accepted for it, and Slack never refused one for good there", ch, shown[ch], n)
		}
	}
	dropped := f.counter("otelcol_exporter_slack_records_dropped")
	delivered := f.counter("otelcol_exporter_slack_records_delivered")
	f.checks += 2
	twice := total + dropped - all
	if twice < 0 || twice > inflight {
		f.fail("check 1: %d records shown + %d counted as dropped, %d accepted: %d more, and %d were in flight at a kill",
			total, dropped, all, twice, inflight)
	}
	f.stats.duplicates = max(twice, 0)
	// A call a kill cut may have been acted on by Slack without its
	// gateway counting it.
	if delivered > total || delivered < total-inflight {
		f.fail("check 1: records_delivered says %d, Slack shows %d (%d records were in flight at a kill)", delivered, total, inflight)
	}
}

// checkFleetPacing is promise 4 for the fleet: the posts to a channel from
// both gateways together never exceed burst + per_second × elapsed time (a
// new owner counts the previous owner's posts it reads back); after a 429
// the gateway that got it keeps its Retry-After; a channel gets at most one
// real (not injected) 429 to its posts per gateway incarnation.
func (f *fleetRun) checkFleetPacing(calls []slackemu.Call) {
	rate := f.cfg.RateLimit.PerSecond
	posts := map[string][]timedCall{}     // by channel: the fleet's
	perCaller := map[string][]timedCall{} // by what and incarnation: for Retry-After
	real429 := map[string]int{}
	for _, c := range calls {
		sent, answered := f.clock.times(c.RequestID)
		g := f.callerOf(c)
		if sent.IsZero() || g == nil {
			f.fail("check 4: a %s call to %s that did not go through a gateway's HTTP client", c.Method, c.Dest)
			continue
		}
		tc := timedCall{c, sent, answered}
		switch c.Method {
		case "chat.postMessage":
			posts[c.Dest] = append(posts[c.Dest], tc)
			perCaller[c.Dest+" from "+g.name] = append(perCaller[c.Dest+" from "+g.name], tc)
		case "chat.update":
			perCaller["chat.update from "+g.name] = append(perCaller["chat.update from "+g.name], tc)
		}
		// Slack's per-channel rule is for posting; the emulator's
		// chat.update buckets are stricter than the workspace budget the
		// configuration gives each gateway.
		if c.Status == 429 && !c.Injected && c.Method == "chat.postMessage" {
			real429[c.Dest+" to "+g.name]++
			f.stats.real429++
		}
	}
	bySent := func(a, b timedCall) int { return a.sent.Compare(b.sent) }
	// As each incarnation can know the channel: its own posts (its
	// limiter's), and the messages the others posted there (read back).
	// Another's call Slack refused made no message and used none of the
	// channel's rate (the emulator's bucket counts only what it admits).
	for ch, ps := range posts {
		for _, g := range f.incarnations() {
			var view []timedCall
			own := false
			for _, c := range ps {
				mine := f.callerOf(c.Call) == g
				own = own || mine
				if mine || (c.Status == 200 && c.Error == "") {
					view = append(view, c)
				}
			}
			if !own {
				continue
			}
			slices.SortFunc(view, bySent)
			f.checkBurst(ch, g, view)
		}
	}
	updateRate := f.cfg.Threads.UpdatesPerMinute / 60
	for k, cs := range perCaller {
		slices.SortFunc(cs, bySent)
		if strings.HasPrefix(k, "chat.update") {
			f.checkRetryAfter(k, cs, updateRate)
		} else {
			f.checkRetryAfter(k, cs, rate)
		}
	}
	for k, n := range real429 {
		f.checks++
		if n > 1 {
			f.fail("check 4: %d real 429s (not injected) for %s: more than one burst", n, k)
		}
	}
}

// checkBurst: no posts in ps, g's and the others' it could know of, leave
// closer together than burst + per_second × elapsed time allow. Two
// exceptions are counted instead: g's read-back had failed (it could not
// know the others' posts; Slack's 429, at most one, see real429, paces it),
// and a burst over the rate only with the previous owner's thread replies,
// which conversations.history does not list (FINDING, reported in issue 9:
// readBack primes the limiter from top-level messages only).
func (f *fleetRun) checkBurst(ch string, g *fleetGateway, ps []timedCall) {
	i, j, over := f.overRate(g, ps)
	if !over {
		return
	}
	if f.readFailedBefore(g, ch, ps[j].sent) {
		f.stats.blindBursts++
		return
	}
	topLevel := slices.DeleteFunc(slices.Clone(ps), func(c timedCall) bool { return c.ThreadTS != "" && f.callerOf(c.Call) != g })
	if _, _, over := f.overRate(g, topLevel); !over {
		f.stats.replyBlind++
		return
	}
	f.fail("check 4: %d posts to %s left between %s and %s, from %s: more than burst %d + %v/s allow; they were: %s",
		j-i+1, ch, ps[i].sent.Format("15:04:05.000"), ps[j].sent.Format("15:04:05.000"), f.callers(ps[i:j+1]),
		f.cfg.RateLimit.Burst, f.cfg.RateLimit.PerSecond, f.describe(ps[max(i-2, 0):j+1]))
}

// overRate finds posts i..j of ps, the last g's, closer together than
// burst + per_second × elapsed time allow.
func (f *fleetRun) overRate(g *fleetGateway, ps []timedCall) (first, last int, over bool) {
	rate, burst := f.cfg.RateLimit.PerSecond, f.cfg.RateLimit.Burst
	for j := range ps {
		if f.callerOf(ps[j].Call) != g {
			continue
		}
		for i := range j {
			f.checks++
			allowed := float64(burst) + rate*(ps[j].sent.Sub(ps[i].sent)+pacingSlack).Seconds()
			if n := j - i + 1; float64(n) > allowed {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

// readFailedBefore reports whether g's last attempt to read channel back
// before t failed (conversations.list, which finds its id, or
// conversations.history).
func (f *fleetRun) readFailedBefore(g *fleetGateway, channel string, t time.Time) bool {
	failed := false
	for _, c := range f.emu.Calls() {
		sent, _ := f.clock.times(c.RequestID)
		if sent.IsZero() || sent.After(t) || f.callerOf(c) != g {
			continue
		}
		if c.Method == "conversations.list" || (c.Method == "conversations.history" && c.Dest == channel) {
			failed = c.Status != 200 || c.Error != ""
		}
	}
	return failed
}

// incarnations are every gateway incarnation that made a call.
func (f *fleetRun) incarnations() []*fleetGateway {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*fleetGateway
	for _, g := range f.caller {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b *fleetGateway) int { return strings.Compare(a.name, b.name) })
	return out
}

func (f *fleetRun) callers(cs []timedCall) []string {
	var out []string
	for _, c := range cs {
		if g := f.callerOf(c.Call); g != nil && !slices.Contains(out, g.name) {
			out = append(out, g.name)
		}
	}
	return out
}

// describe is world's describe with the gateway that made each call.
func (f *fleetRun) describe(cs []timedCall) string {
	lines := strings.Split(describe(cs), "\n")
	for i, c := range cs {
		if g := f.callerOf(c.Call); g != nil {
			lines[i+1] += " by " + g.name
		}
	}
	return strings.Join(lines, "\n")
}

// posterOf is the gateway incarnation whose chat.postMessage made top-level
// message m: in a channel one gateway posts at a time, so the last post
// there that arrived before Slack stored m.
func (f *fleetRun) posterOf(m slackemu.Message, calls []slackemu.Call) (*fleetGateway, slackemu.Call) {
	var g *fleetGateway
	var call slackemu.Call
	for _, c := range calls {
		if c.Method == "chat.postMessage" && c.ThreadTS == "" && c.Dest == m.Channel && !c.At.After(m.ReceivedAt) {
			g, call = f.callerOf(c), c
		}
	}
	return g, call
}

// writerOf is the incarnation whose chat.update made version v of m.
func (f *fleetRun) writerOf(m slackemu.Message, v slackemu.Version, calls []slackemu.Call) *fleetGateway {
	var g *fleetGateway
	for _, c := range calls {
		if c.Method == "chat.update" && c.TS == m.TS && !c.At.After(v.At) {
			g = f.callerOf(c)
		}
	}
	return g
}

// checkLowered names, for a count that went down from one version of a
// live message to the next (check 5 fails on it), which gateway wrote the
// lower one and who owned the channel then.
func (f *fleetRun) checkLowered(msgs []slackemu.Message, calls []slackemu.Call) {
	for _, m := range msgs {
		if m.ThreadTS != "" || len(m.History) < 2 {
			continue
		}
		poster, _ := f.posterOf(m, calls)
		for i := 1; i < len(m.History); i++ {
			prev, err1 := parseShown(m.History[i-1].Blocks)
			cur, err2 := parseShown(m.History[i].Blocks)
			if err1 != nil || err2 != nil {
				continue
			}
			writer := f.writerOf(m, m.History[i], calls)
			if writer != nil && writer != poster {
				f.stats.crossUpdates++
			}
			if !lowers(prev, cur) {
				continue
			}
			f.stats.lowered++
			owner := f.ownerAt(m.Channel, m.History[i].At)
			f.t.Logf("seed %d: %s in %s version %d shows %v (%d records), version %d showed %v (%d): written by %s at %s, the channel's owner then was %s",
				f.seed, m.TS, m.Channel, i, cur.entries, cur.records(), i-1, prev.entries, prev.records(), nameOf(writer),
				m.History[i].At.Format("15:04:05.000"), nameOf(owner))
		}
	}
}

func nameOf(g *fleetGateway) string {
	if g == nil {
		return "?"
	}
	return g.name
}

// checkHandovers is the fleet's part of promise 5: a channel's new owner
// reads the live messages back and goes on counting in them, so a
// fingerprint the previous owner's message shows within the window is not
// posted again. By design it is, and each is counted: when the message was
// older than the window by the poster's clock (the test's clock runs ahead
// of Slack's ts, so a jump can put it there), when Slack refused an update
// of it (a fault: the gateway forgets it), when the poster could not read
// the channel back (a fault on conversations.history or .list), when the
// message landed after its poster was killed (after the read-back, maybe),
// and when the poster's chat.update budget may have been spent (a repeat
// that cannot be updated in time is posted anew, as in
// TestDeliveryInvariants). Reposts by the gateway that posted the older
// message are TestDeliveryInvariants' ground (check 5), not a handover.
func (f *fleetRun) checkHandovers(msgs []slackemu.Message, calls []slackemu.Call) {
	latest := map[string]slackemu.Message{} // channel + marker → the latest message showing it
	for _, m := range msgs {
		if m.ThreadTS != "" || m.Via != "api" {
			continue
		}
		s, err := parseShown(m.History[0].Blocks)
		if err != nil {
			continue // check 1 reports it
		}
		for _, e := range s.entries {
			k := m.Channel + " " + e.marker
			if prev, ok := latest[k]; ok {
				f.checks++
				f.judgeRepost(prev, m, e.marker, calls)
			}
			latest[k] = m
		}
	}
}

// checkLoopQuietMarks is checkQuietMarks for every mark, the quiet loops'
// included (they run on their own, on both gateways): a line marked quiet
// in a version Slack applied at v had no push deliver its fingerprint
// there that ended before the mark was decided (at most a timeout before
// v) and started less than quiet_after before v.
func (f *fleetRun) checkLoopQuietMarks(msgs []slackemu.Message, calls []slackemu.Call) {
	newQuietMarks(msgs, f.permanent, func(m slackemu.Message, v slackemu.Version, marker string) {
		for _, p := range f.pushes {
			f.checks++
			if p.ok && p.markers[m.Channel+" "+marker] && p.ended.Before(v.At.Add(-f.cfg.Timeout)) && v.At.Sub(p.fake) < f.cfg.Threads.QuietAfter {
				writer, owner := f.writerOf(m, v, calls), f.ownerAt(m.Channel, v.At)
				if f.knownRace(writer, m, v.At, calls) {
					// KNOWN RACE (documented): between a former
					// owner's read-back and its redraw (a quiet
					// mark), the current owner delivered there;
					// the mark goes out from the copy read back.
					// Tolerated here only, counted and reported.
					f.stats.knownRace++
					f.t.Logf("known race, seed %d: %s in %s marked quiet by %s, the former owner, at %s; %s (the owner) delivered it %s before",
						f.seed, marker, m.Channel, writer.name, v.At.Format("15:04:05.000"), nameOf(owner), v.At.Sub(p.fake).Round(time.Millisecond))
					return
				}
				f.fail("check 5: %s in %s marked quiet by %s at %s (the channel's owner then: %s), %s after a push delivered it",
					marker, m.Channel, nameOf(writer), v.At.Format("15:04:05.000"), nameOf(f.ownerAt(m.Channel, v.At)),
					v.At.Sub(p.fake).Round(time.Millisecond))
				return
			}
		}
	})
}

// knownRace reports whether a version of m that Slack applied at t, written
// by g, is the KNOWN RACE (documented): g is a former owner of the channel,
// read it back after it lost it, and between its last read-back and t
// another gateway updated m.
func (f *fleetRun) knownRace(g *fleetGateway, m slackemu.Message, t time.Time, calls []slackemu.Call) bool {
	if g == nil || g == f.ownerAt(m.Channel, t) {
		return false
	}
	var lost, read time.Time
	for _, c := range f.owners {
		if c.channel == m.Channel && c.to != g && !c.at.After(t) {
			lost = c.at
		}
	}
	for _, c := range calls {
		if c.Method == "conversations.history" && c.Dest == m.Channel && f.callerOf(c) == g && c.At.After(lost) && c.At.Before(t) && c.Status == 200 && c.Error == "" {
			read = c.At
		}
	}
	if read.IsZero() {
		return false
	}
	for _, c := range calls {
		if c.Method == "chat.update" && c.TS == m.TS && c.Status == 200 && c.Error == "" && c.At.After(read) && c.At.Before(t) && f.callerOf(c) != g {
			return true
		}
	}
	return false
}

// ownedSince is when g last became the owner of channel before t.
func (f *fleetRun) ownedSince(channel string, g *fleetGateway, t time.Time) time.Time {
	var since time.Time
	for _, c := range f.owners {
		if c.channel == channel && c.to == g && !c.at.After(t) {
			since = c.at
		}
	}
	return since
}

// budgetPressed reports whether g's chat.update budget may have turned a
// repeat away between from and to: a burst of updates within the time a
// burst takes to come back plus a timeout, or a 429's pause.
func (f *fleetRun) budgetPressed(g *fleetGateway, from, to time.Time) bool {
	span := time.Duration(float64(updateBurst)/(f.cfg.Threads.UpdatesPerMinute/60)*float64(time.Second)) + f.cfg.Timeout
	var sent []time.Time
	for _, c := range f.emu.Calls() {
		if c.Method != "chat.update" || f.callerOf(c) != g {
			continue
		}
		s, _ := f.clock.times(c.RequestID)
		if s.Before(from.Add(-span)) || s.After(to) {
			continue
		}
		if c.Status == 429 {
			return true
		}
		sent = append(sent, s)
	}
	// One slot fewer than the burst: a slot is also spent by a round whose
	// pushes all turned away while it waited (no call is made then), which
	// the calls do not show.
	const pressed = updateBurst - 1
	slices.SortFunc(sent, time.Time.Compare)
	for k := pressed - 1; k < len(sent); k++ {
		if sent[k].Sub(sent[k-pressed+1]) < span {
			return true
		}
	}
	return false
}

func (f *fleetRun) judgeRepost(prev, m slackemu.Message, marker string, calls []slackemu.Call) {
	poster, post := f.posterOf(m, calls)
	prevPoster, _ := f.posterOf(prev, calls)
	if poster == nil || prevPoster == nil || poster == prevPoster {
		return
	}
	excuse := ""
	sent, _ := f.clock.times(post.RequestID)
	switch {
	case f.fakeAt(m.ReceivedAt).Sub(tsTime(prev.TS)) >= f.cfg.Threads.Window-time.Minute:
		excuse = "past the window"
	case !prevPoster.killed.IsZero() && prev.ReceivedAt.After(prevPoster.killed):
		excuse = "landed after a kill"
	}
	for _, c := range calls {
		if excuse != "" || !c.At.Before(m.ReceivedAt) {
			break
		}
		switch {
		case c.Method == "chat.update" && c.TS == prev.TS && c.Injected && c.Error != "":
			excuse = "an update of it refused (fault)"
		case (c.Method == "conversations.history" || c.Method == "conversations.list") && f.callerOf(c) == poster && (c.Error != "" || c.Status != 200):
			excuse = "read-back failed (fault)"
		}
	}
	if excuse == "" && f.budgetPressed(poster, f.ownedSince(m.Channel, poster, m.ReceivedAt), sent) {
		// A repeat waits at most updateWait for the chat.update budget,
		// then goes to the outbox to be posted anew, and its fingerprint
		// leaves the live message for good even if that post is handed
		// back and made later: by design (TestDeliveryInvariants allows
		// it), and seen only as a budget under pressure since the poster
		// took the channel.
		excuse = "update budget under pressure"
	}
	if excuse != "" {
		f.stats.repostsExcused++
		if f.stats.excuses == nil {
			f.stats.excuses = map[string]int{}
		}
		f.stats.excuses[excuse]++
		return
	}
	f.fail("check 5: %s in %s: %s posted message %s showing it at %s, while message %s (posted by %s at %s) showed it within the window: the new owner did not go on counting there",
		marker, m.Channel, poster.name, m.TS, m.ReceivedAt.Format("15:04:05.000"), prev.TS, prevPoster.name, prev.ReceivedAt.Format("15:04:05.000"))
}

// callList lists every call of the run, for FLEET_LOG.
func (f *fleetRun) callList() string {
	var b strings.Builder
	for _, c := range f.emu.Calls() {
		sent, answered := f.clock.times(c.RequestID)
		fmt.Fprintf(&b, "\n  %s %s %s ts=%q thread_ts=%q status=%d %s injected=%v retry_after=%d arrived %s left %s answered %s",
			nameOf(f.callerOf(c)), c.Method, c.Dest, c.TS, c.ThreadTS, c.Status, c.Error, c.Injected, c.RetryAfter,
			c.At.Format("15:04:05.000"), sent.Format("15:04:05.000"), answered.Format("15:04:05.000"))
	}
	for _, m := range f.emu.Messages() {
		s, _ := parseShown(m.Blocks)
		fmt.Fprintf(&b, "\n  message %s %s thread=%q received %s versions %d entries %v", m.Channel, m.TS, m.ThreadTS, m.ReceivedAt.Format("15:04:05.000"), len(m.History), s.entries)
	}
	return b.String()
}

// Found by TestFleetInvariants (seed 153247763545626): a channel handed
// away and back, whose read-back fails when it comes back, is updated from
// the stale copy the gateway kept: the count goes down, and the records the
// other gateway counted there are no longer shown. A failed read is logged
// and delivery goes on (readBack), with the old copy, and the read is not
// tried again while the channel stays busy (its state says it was read).
func TestAFailedReadBackAfterARebalanceNeverLowersACount(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = time.Hour; c.RestoreFromSlack = true })
	ctx := context.Background()
	gateway := func() *slackExporter { return started(t, cfg, exportertest.NewNopSettings(metadata.Type)) }
	push := func(e *slackExporter, n int) {
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(n, func(int) string { return "replica lag 12s" }))))
	}
	a, b := gateway(), gateway()
	push(a, 3)
	a.rebalanced()
	b.rebalanced()
	push(b, 4) // b owns the channel now: ×7
	a.rebalanced()
	b.rebalanced()
	// a owns it again; its read-back (the next call to the channel) fails.
	require.NoError(t, emu.SetFault(slackemu.Fault{Target: "#alerts", Mode: slackemu.FaultStatus, Status: 503, Count: 1}))
	push(a, 1)
	push(a, 1) // a moment later: still busy, so not read again

	msgs := messagesIn(emu, "#alerts")
	for _, m := range msgs {
		for i := 1; i < len(m.History); i++ {
			assert.GreaterOrEqual(t, recordsShown(t, slackVersion(m, i)), recordsShown(t, slackVersion(m, i-1)),
				"counts never go down (%s version %d)", m.TS, i)
		}
	}
	total := 0
	for _, m := range msgs {
		total += recordsShown(t, m)
	}
	assert.Equal(t, 9, total, "every record shown once, in the message or a new one")
}

// Found by TestFleetInvariants (seeds 6038733050817, 111097992322630): a
// new owner counts only the previous owner's posts of the last burst of
// intervals (slackclient.Limiter.Spent ignores older ones), but a previous
// owner that was pacing had its next slot further ahead than those alone
// say: the new owner posts early and Slack answers 429.
func TestANewOwnerPacesAfterAPreviousOwnerThatWasPacing(t *testing.T) {
	emu := slackemu.New(slackemu.Options{Token: testToken, Rate: 2, Burst: 2})
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { emu.Close(); srv.Close() })
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = time.Hour; c.RestoreFromSlack = true })
	cfg.RateLimit = RateLimitConfig{PerSecond: 2, Burst: 2}
	ctx := context.Background()
	gateway := func() *slackExporter { return started(t, cfg, exportertest.NewNopSettings(metadata.Type)) }
	push := func(e *slackExporter, word string) {
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "failed: " + word }))))
	}
	a, b := gateway(), gateway()
	for _, w := range []string{"alpha", "bravo", "charlie", "delta"} { // a burst of 2, then at the pace
		push(a, w)
	}
	a.rebalanced()
	b.rebalanced()
	// At once: Slack counts a's posts against the channel (a 429 comes back
	// as a Throttle error, the records to retry).
	_ = b.push(ctx, b.selectRecords(ctx, errorRecords(1, func(int) string { return "failed: echo" })))
	for _, c := range emu.Calls() {
		assert.NotEqual(t, 429, c.Status, "%s to %s at %s was refused", c.Method, c.Dest, c.At.Format("15:04:05.000"))
	}
}
