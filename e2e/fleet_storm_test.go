package e2e

// make fleet: a storm through the fleet of examples/fleet (one agent, three
// gateways, Kafka on loopback, the Slack emulator at Slack's pace), one
// gateway killed with SIGKILL a quarter of the way in, another stopped with
// SIGTERM once the kill's takeover is over, and the figures written to
// docs/FLEET.md. It runs only when FLEET_DOC names the file to write.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// envInt reads a positive integer setting, or def.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// cpuSeconds is the CPU time (user + system) a live process has used, from
// /proc; 0 if it cannot be read.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count from after it.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return 0
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

type fleetChannelFigures struct {
	sent, shown, top, updates, throttled, fingerprints, multiTop int
	// 429s by method, and the first one's time from the storm's start.
	throttledBy   map[string]int
	firstThrottle time.Duration
}

func TestFleetStorm(t *testing.T) {
	doc := os.Getenv("FLEET_DOC")
	if doc == "" {
		t.Skip("make fleet runs this (FLEET_DOC names the document to write)")
	}
	var (
		rate       = envInt(t, "FLEET_RATE", 200)     // records per second per channel
		seconds    = envInt(t, "FLEET_SECONDS", 40)   // of storm
		partitions = envInt(t, "FLEET_PARTITIONS", 6) // of the topic
		nGateways  = 3
	)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	brokers := startKafka(t, int32(partitions), fleetTopic)
	emu := StartEmulator(t, "-rate", "1", "-burst", "3", "-retry-after", "1")
	kafkaEnv := []string{
		"KAFKA_BROKERS=" + brokers,
		"KAFKA_TOPIC=" + fleetTopic,
		"KAFKA_GROUP=fleet-storm",
		"KAFKA_SESSION_TIMEOUT=10s",
		"KAFKA_HEARTBEAT_INTERVAL=3s",
	}
	gatewayEnv := append(slices.Clone(kafkaEnv), emu.Env()...)
	var gateways []*Collector
	for range nGateways {
		gateways = append(gateways, harness.StartCollectorFile(t, root, "examples/fleet/gateway.yaml", false, gatewayEnv...))
	}
	agent := harness.StartCollectorFile(t, root, "examples/fleet/agent.yaml", true, kafkaEnv...)
	Eventually(t, 60*time.Second, func() error {
		total := 0
		for i, g := range gateways {
			owned := int(g.Counter(t, metricPartitionStart) - g.Counter(t, metricPartitionClose))
			if owned == 0 {
				return fmt.Errorf("gateway %d owns no partition yet", i)
			}
			total += owned
		}
		if total != partitions {
			return fmt.Errorf("the gateways own %d partitions, want %d", total, partitions)
		}
		return nil
	})

	// The storm: each channel's service sends rate records a second, from a
	// few recurring errors (numbers varying) and now and then a new one.
	channelOf := map[string]string{}
	senders := make([]*Sender, len(fleetChannels))
	names := make([]string, len(fleetChannels))
	for i, ch := range fleetChannels {
		names[i] = "svc-" + word(i)
		res := []attribute.KeyValue{attribute.String("service.name", names[i])}
		channelOf[names[i]] = "#alerts"
		if ch != "" {
			res = append(res, attribute.String("slack.channel", ch))
			channelOf[names[i]] = ch
		}
		senders[i] = agent.NewSender(t, res...)
	}
	const tick = 100 * time.Millisecond
	ticks := seconds * int(time.Second/tick)
	killTick := ticks / 4
	var (
		wg                     sync.WaitGroup
		killedAt               time.Time
		killed                 *Collector
		killedCPU              float64
		stopped                *Collector
		stoppedAt              time.Time
		stopTook               time.Duration
		stopErr                error
		stoppedCPU             float64
		recordsDeliveredAtStop float64
		cpuBefore              = map[*Collector]float64{}
		agentCPU0              = cpuSeconds(agent.PID())
		flushErrs              = make([]error, len(senders))
		postedBeforeKill       []float64
		recordsDeliveredAtKill float64
		stormStart             = time.Now()
		perTick                = max(1, rate/int(time.Second/tick))
	)
	for _, g := range gateways {
		cpuBefore[g] = cpuSeconds(g.PID())
	}
	for i := range senders {
		wg.Go(func() {
			gen := &stormGenerator{service: names[i], rng: rand.New(rand.NewPCG(uint64(i)+1, 9))}
			batch := make([]log.Record, perTick)
			for k := range ticks {
				if d := time.Until(stormStart.Add(time.Duration(k) * tick)); d > 0 {
					time.Sleep(d)
				}
				for j := range batch {
					batch[j] = gen.next()
				}
				senders[i].Emit(context.Background(), batch...)
			}
			flushErrs[i] = senders[i].TryFlush(60 * time.Second)
		})
	}
	// Kill the gateway that has posted the most, a quarter of the way in.
	time.Sleep(time.Until(stormStart.Add(time.Duration(killTick) * tick)))
	for _, g := range gateways {
		n := g.Counter(t, metricSent)
		postedBeforeKill = append(postedBeforeKill, n)
		if killed == nil || n > slices.Max(postedBeforeKill[:len(postedBeforeKill)-1]) {
			killed = g
		}
	}
	recordsDeliveredAtKill = killed.Counter(t, metricDelivered)
	killedCPU = cpuSeconds(killed.PID()) - cpuBefore[killed]
	killed.Kill(t)
	killedAt = time.Now()

	// Once the two left own every partition, and 3 s later, stop one of
	// them gracefully (SIGTERM), as a rolling restart does: the busier.
	Eventually(t, 60*time.Second, func() error {
		owned := 0
		for _, g := range gateways {
			if g != killed {
				owned += int(g.Counter(t, metricPartitionStart) - g.Counter(t, metricPartitionClose))
			}
		}
		if owned != partitions {
			return fmt.Errorf("the gateways left own %d partitions, want %d", owned, partitions)
		}
		return nil
	})
	time.Sleep(3 * time.Second)
	for _, g := range gateways {
		if g != killed && (stopped == nil || g.Counter(t, metricSent) > stopped.Counter(t, metricSent)) {
			stopped = g
		}
	}
	recordsDeliveredAtStop = stopped.Counter(t, metricDelivered)
	stoppedCPU = cpuSeconds(stopped.PID()) - cpuBefore[stopped]
	stoppedAt = time.Now()
	stopTook, stopErr = stopped.Terminate(t, 60*time.Second)
	if stopErr != nil {
		t.Errorf("the gateway stopped with SIGTERM exited with %v", stopErr)
	}
	wg.Wait()
	stormEnd := time.Now()
	sentIn := map[string]int{}
	sentTotal := 0
	for i, s := range senders {
		if flushErrs[i] != nil || s.Failed() > 0 {
			t.Fatalf("%s: the agent did not accept every record (%d failed): %v", names[i], s.Failed(), flushErrs[i])
		}
		sentIn[channelOf[names[i]]] += int(s.Exported())
		sentTotal += int(s.Exported())
	}
	agentCPU := cpuSeconds(agent.PID()) - agentCPU0

	// Wait until every channel shows at least what was sent, or give up.
	var msgs []Message
	shownIn := map[string]int{}
	drainedOK := true
	deadline := time.Now().Add(3 * time.Minute)
	for {
		msgs = emu.Messages(t, "")
		clear(shownIn)
		for _, m := range msgs {
			if m.ThreadTS == "" {
				shownIn[m.Channel] += parseShown(t, m).Records()
			}
		}
		done := true
		for ch, n := range sentIn {
			if shownIn[ch] < n {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			drainedOK = false
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	allShown := time.Now()
	msgs = emu.WaitQuiet(t, 2*time.Second, 60*time.Second)
	stats := emu.Stats(t)
	calls := emu.Calls(t)
	var gatewayCPU float64
	var gatewayRecords float64
	for _, g := range gateways {
		if g == killed || g == stopped {
			continue
		}
		gatewayCPU += cpuSeconds(g.PID()) - cpuBefore[g]
		gatewayRecords += g.Counter(t, metricDelivered)
	}
	gatewayCPU += killedCPU + stoppedCPU
	gatewayRecords += recordsDeliveredAtKill + recordsDeliveredAtStop

	// Per channel: records, messages, fingerprints in more than one
	// top-level message, updates, 429s.
	figures := map[string]*fleetChannelFigures{}
	for _, ch := range fleetChannels {
		if ch == "" {
			ch = "#alerts"
		}
		figures[ch] = &fleetChannelFigures{sent: sentIn[ch], throttled: stats.Destinations[ch].Throttled}
	}
	topsOf := map[string]map[string]int{} // channel → fingerprint → top-level messages showing it
	for _, m := range msgs {
		f := figures[m.Channel]
		if f == nil || m.ThreadTS != "" {
			continue
		}
		s := parseShown(t, m)
		f.shown += s.Records()
		f.top++
		f.updates += m.Updates
		if topsOf[m.Channel] == nil {
			topsOf[m.Channel] = map[string]int{}
		}
		for _, e := range s.Entries {
			if channelOf[e.Service] != m.Channel {
				t.Errorf("message %d in %s shows %s, whose records go to %s", m.Seq, m.Channel, e.Service, channelOf[e.Service])
			}
			topsOf[m.Channel][e.Key]++
		}
	}
	spread := map[int]int{} // top-level messages per fingerprint → fingerprints
	for ch, keys := range topsOf {
		figures[ch].fingerprints = len(keys)
		for _, n := range keys {
			spread[n]++
			if n > 1 {
				figures[ch].multiTop++
			}
		}
	}
	// chat.update calls accepted: the most in any 60 s of the run, and in all.
	var updateTimes []time.Time
	for _, c := range calls {
		if c.Method == "chat.update" && c.Status == 200 {
			updateTimes = append(updateTimes, c.At)
		}
	}
	sort.Slice(updateTimes, func(i, j int) bool { return updateTimes[i].Before(updateTimes[j]) })
	maxUpdatesPerMinute := 0
	for i, j := 0, 0; j < len(updateTimes); j++ {
		for updateTimes[j].Sub(updateTimes[i]) >= time.Minute {
			i++
		}
		maxUpdatesPerMinute = max(maxUpdatesPerMinute, j-i+1)
	}
	for _, c := range calls {
		if f := figures[c.Dest]; f != nil && c.Status == 429 {
			if f.throttledBy == nil {
				f.throttledBy = map[string]int{}
				f.firstThrottle = c.At.Sub(stormStart)
			}
			f.throttledBy[c.Method]++
		}
	}
	for ch, f := range figures {
		if f.throttled > 1 {
			t.Errorf("%s was answered 429 %d times, want at most 1", ch, f.throttled)
		}
	}

	lost, duplicated, shownTotal := 0, 0, 0
	for ch, f := range figures {
		shownTotal += f.shown
		if f.shown < f.sent {
			lost += f.sent - f.shown
			t.Errorf("%s: %d records sent, %d shown: %d lost", ch, f.sent, f.shown, f.sent-f.shown)
		} else {
			duplicated += f.shown - f.sent
		}
	}
	if !drainedOK {
		t.Errorf("not every record was shown 3 minutes after the storm")
	}

	commit := "unknown"
	if out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
	}
	r := fleetReport{
		commit: commit, when: began.UTC(), rate: rate, seconds: seconds, partitions: partitions, gateways: nGateways,
		stormTook: stormEnd.Sub(stormStart), allShownAfter: allShown.Sub(stormEnd), killAfter: killedAt.Sub(stormStart),
		sent: sentTotal, shown: shownTotal, lost: lost, duplicated: duplicated, messages: len(msgs),
		figures: figures, spread: spread, updates: len(updateTimes), maxUpdatesPerMinute: maxUpdatesPerMinute,
		takeover:  longestGap(msgs, killedAt),
		stopAfter: stoppedAt.Sub(stormStart), stopTook: stopTook, stopGap: longestGap(msgs, stoppedAt),
		agentCPUPerRec:   agentCPU / float64(sentTotal),
		gatewayCPUPerRec: gatewayCPU / max(gatewayRecords, 1),
		killedDelivered:  recordsDeliveredAtKill, postedBeforeKill: postedBeforeKill,
		failed: t.Failed(), total: time.Since(began),
	}
	if err := os.WriteFile(doc, []byte(r.markdown()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d sent, %d shown, %d lost, %d duplicated; takeover %v", doc, sentTotal, shownTotal, lost, duplicated, r.takeover.Round(100*time.Millisecond))
}

type fleetReport struct {
	commit                                  string
	when                                    time.Time
	rate, seconds, partitions, gateways     int
	stormTook, allShownAfter, killAfter     time.Duration
	sent, shown, lost, duplicated, messages int
	figures                                 map[string]*fleetChannelFigures
	spread                                  map[int]int
	updates, maxUpdatesPerMinute            int
	takeover                                time.Duration
	agentCPUPerRec, gatewayCPUPerRec        float64
	killedDelivered                         float64
	stopAfter, stopTook, stopGap            time.Duration
	postedBeforeKill                        []float64
	failed                                  bool
	total                                   time.Duration
}

func (r fleetReport) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	verdict := "passed: no record lost"
	if r.failed {
		verdict = "FAILED (see the figures)"
	}
	p("# The fleet, measured\n\n")
	p("Written by `make fleet` (e2e/fleet_storm_test.go) on %s at commit %s; %s. Reproduce with `make fleet`\n",
		r.when.Format("2006-01-02 15:04 UTC"), r.commit, verdict)
	p("(`FLEET_RATE`, `FLEET_SECONDS`, `FLEET_PARTITIONS` change the storm; about %v here, on 2 shared cores).\n\n", r.total.Round(time.Second))
	p("## Topology\n\n```\n")
	p("6 services ──OTLP──▶ agent: otlp ▶ memory_limiter ▶ slackroute (the selection of slack.yaml) ▶ kafka\n")
	p("                                                                   │ one Kafka record per channel batch,\n")
	p("                                                                   │ key channel:NAME\n")
	p("                                                                   ▼\n")
	p("                     topic slack-logs, %d partitions (kfake on 127.0.0.1): a channel is on one partition\n", r.partitions)
	p("                                                                   │ one consumer group:\n")
	p("                                                                   │ a partition has one owner at a time\n")
	p("                         ┌─────────────────────────┬───────────────┘\n")
	p("                         ▼                         ▼                         ▼\n")
	p("                     gateway 1                 gateway 2                 gateway 3\n")
	p("                 kafka ▶ slack (slack.yaml), each; one is killed with SIGKILL %v into the storm,\n", r.killAfter.Round(100*time.Millisecond))
	p("                 another stopped with SIGTERM %v into it (a rolling restart)\n", r.stopAfter.Round(100*time.Millisecond))
	p("                         │                         │                         │\n")
	p("                         └─────────────────────────┴─────────────────────────┘\n")
	p("                                                   ▼\n")
	p("                       Slack emulator: 1 message/s per channel (burst 3), 429 beyond\n")
	p("```\n\n")

	p("## Results\n\n")
	p("| figure | value |\n| --- | --- |\n")
	p("| storm | %d records/s into each of 6 channels for %v (%d ERROR records) |\n", r.rate, r.stormTook.Round(100*time.Millisecond), r.sent)
	p("| records sent | %d |\n", r.sent)
	p("| records shown in Slack (message counts, fold lines included) | %d |\n", r.shown)
	p("| lost | %d |\n", r.lost)
	p("| duplicated (shown more than sent: in flight at the kill or the stop) | %d |\n", r.duplicated)
	p("| messages (top-level and replies) | %d |\n", r.messages)
	p("| takeover: longest silence of a channel across the kill | %v (session_timeout 10s) |\n", r.takeover.Round(100*time.Millisecond))
	p("| graceful stop (SIGTERM) of a second gateway: exit took; longest silence of a channel across it | %v; %v |\n",
		r.stopTook.Round(time.Millisecond), r.stopGap.Round(100*time.Millisecond))
	p("| every record shown, after the storm ended | %v |\n", r.allShownAfter.Round(100*time.Millisecond))
	p("| agent CPU per record | %.1f µs |\n", r.agentCPUPerRec*1e6)
	p("| gateway CPU per record delivered (all gateways) | %.1f µs |\n", r.gatewayCPUPerRec*1e6)
	p("| messages posted per gateway before the kill | %v (the killed one had delivered %.0f records) |\n\n", r.postedBeforeKill, r.killedDelivered)

	p("Per channel:\n\n| channel | sent | shown | top-level messages | fingerprints | fingerprints in more than one top-level message | chat.update | 429s (method, first at) |\n")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	channels := make([]string, 0, len(r.figures))
	for ch := range r.figures {
		channels = append(channels, ch)
	}
	sort.Strings(channels)
	for _, ch := range channels {
		f := r.figures[ch]
		throttled := strconv.Itoa(f.throttled)
		if len(f.throttledBy) > 0 {
			var by []string
			for m, n := range f.throttledBy {
				by = append(by, fmt.Sprintf("%s %d", m, n))
			}
			sort.Strings(by)
			throttled += fmt.Sprintf(" (%s, %v into the storm)", strings.Join(by, ", "), f.firstThrottle.Round(100*time.Millisecond))
		}
		p("| %s | %d | %d | %d | %d | %d | %d | %s |\n", ch, f.sent, f.shown, f.top, f.fingerprints, f.multiTop, f.updates, throttled)
	}
	p("\nFingerprints by the number of top-level messages that show them (fingerprints in messages):")
	keys := make([]int, 0, len(r.spread))
	for n := range r.spread {
		keys = append(keys, n)
	}
	sort.Ints(keys)
	for _, n := range keys {
		p(" %d in %d;", r.spread[n], n)
	}
	p("\n\nA fingerprint is shown in more than one top-level message when its repeats could not be updated in place\n")
	p("within one post interval from the gateway's share of the chat.update budget: they are posted as a new message\n")
	p("carrying their count, which becomes their live message. The fingerprints shown in many messages are the storm's\n")
	p("hot ones, repeating in every push: a share of about 8 updates a minute per channel cannot keep one message per\n")
	p("fingerprint current, and holding their records back until it could would hold the channel's partition too.\n")
	p("A longer `timeout` in slack.yaml lets them wait longer: with `timeout: 20s` one run showed each fingerprint in at\n")
	p("most 3 top-level messages (99 messages in all), but 1,208 records shown twice (pushes waiting at the kill are\n")
	p("delivered again whole) and a takeover of 18.6 s: slack.yaml keeps 10s.\n")
	p("A channel's new owner does not post its fingerprints again: it reads the channel's live messages back from\n")
	p("Slack (`threads.restore_from_slack`: their metadata, through conversations.history) and goes on counting in them.\n\n")
	p("A 429 on a channel right after it moved came, in the one trace looked at, 1.0 s after the new owner's first\n")
	p("burst of 3 posts: most likely pacing from when the burst was reserved rather than when it reached Slack (the\n")
	p("exporter's 2%% margin eaten by the burst's own latency). At most one per channel and move.\n\n")
	p("chat.update calls accepted: %d in all, at most %d in any 60 s of the run; the workspace's budget is about 50 a\n", r.updates, r.maxUpdatesPerMinute)
	p("minute for the whole fleet: with `threads.fleet`, each of the %d gateways watches the consumer group and spends\n", r.gateways)
	p("`threads.updates_per_minute` divided by the gateways in it (a dead one's share goes back once the group drops it).\n\n")
	p(`## Configuration

- [examples/fleet/slack.yaml](../examples/fleet/slack.yaml): the one source of routing, the slack exporter's
  configuration, read whole by the gateways' exporter and by the agents' slackroute processor through the file provider.
- [examples/fleet/agent.yaml](../examples/fleet/agent.yaml): otlp → memory_limiter → slackroute → kafka, keyed by
  ` + "`logs.message_key_from_metadata_key: slack.destination`" + `, batches partitioned by that key.
- [examples/fleet/gateway.yaml](../examples/fleet/gateway.yaml): kafka (one group, ` + "`message_marking.after: true`" + `,
  ` + "`on_permanent_error: true`" + `, independent partitions, 64 records in flight each) → slack with
  ` + "`sending_queue.wait_for_result: true`" + `, no batching, bounded retry.

## Kafka settings that matter

- **Partitions**: the ceiling on gateways doing work. A channel lives on one partition (its key's hash), so two
  channels may share one, and more gateways than partitions idle. Give the topic several times as many partitions
  as gateways; adding partitions later moves channels (the hash changes), so choose once. Create the topic
  beforehand: agent.yaml does not let the producer auto-create it with the broker's default (often 1 partition).
- **session_timeout** (receiver): how long a dead gateway keeps its channels; takeover is about this plus a
  rebalance. Lower is faster failover but evicts a gateway stalled by a long GC or CPU starvation. heartbeat_interval
  about a third of it: a gateway that stops gracefully leaves the group at once, and the others learn of it at their
  next heartbeats (the cooperative protocol takes two rounds), so a rolling restart moves channels within a few
  heartbeats, not a session timeout.
- **autocommit.interval** (receiver): records delivered but not yet committed at a crash are shown again by the next
  owner; a shorter interval means fewer duplicates for more commits. (A graceful stop or a rebalance commits at once.)
- **message_marking.after / on_error / on_permanent_error**: after Slack, never on a transient error (the record is
  retried by error_backoff), and on a permanent one (Slack refused it for good; counted in
  ` + "`otelcol_exporter_slack_records_dropped`" + `), or the partition would stop.
- **Retention**: must outlast the longest Slack outage plus the time to drain the backlog at one message per second
  per channel; records older than retention are gone before a gateway could deliver them.
- **Rebalance timeout** (franz-go: 60 s): a revoked partition waits for its in-flight ConsumeLogs calls. Without
  batching in the exporter's queue (gateway slack.yaml) a push runs under its partition's context and is cancelled at
  once on revoke or stop (its Kafka record stays unmarked: the next owner delivers it, what it had already posted is
  shown twice); otherwise ` + "`timeout`" + ` and ` + "`retry_on_failure.max_elapsed_time`" + ` keep a push under about 35 s.
- **initial_offset: earliest** for a new group, so nothing written before the first gateway joined is skipped.
`)
	p("%s", fleetClicksDoc)
	return b.String()
}

// fleetClicksDoc is docs/FLEET.md's section on clicks: text, not a
// measurement, kept here so that `make fleet` writes it back.
const fleetClicksDoc = `
## Clicks from Slack in a fleet

Slack hands a click (Mute, Acknowledge, Unmute; see the README's "Act from Slack") to whichever gateway it reaches:
one of the app's Socket Mode connections, or any gateway behind the request URL's load balancer. Only the channel's
owner, the gateway holding its partition, posts there and keeps the book of mutes that decides what is shown. A
gateway that applies a click only where it landed mutes in its own book, where no record of that channel arrives:
the click is answered 200 and changes nothing.

With ` + "`" + `interactivity.kafka` + "`" + ` (the brokers and topic of the gateways' kafka receiver), the gateway that receives a
click checks it (signature or app token, ` + "`" + `allowed_users` + "`" + `, one of this exporter's menus), then writes it to the topic
as a control record (resource attribute ` + "`" + `slack.control: click` + "`" + `) under the key the agents give the channel's
records (` + "`" + `channel:<name>` + "`" + `, or ` + "`" + `channel:<id>` + "`" + ` for a route that names the channel by id; both when routes name it
both ways), and under no other: a gateway that does not carry the channel might hold a stale copy of its message. So the
click lands on the channel's partition and its owner reads it in order among the channel's records: it applies it,
redraws the entry (` + "`" + `🔇 muted by @someone until …` + "`" + `) and counts that error's later records in
` + "`" + `otelcol_exporter_slack_records_muted` + "`" + `. The click is answered once Kafka has it (within Slack's 3 s); if Kafka does
not take it within 2 s, it is applied where it landed, and a warning says so. A control record carries the time of
the click: a mute runs from the click however late the owner reads it, and reading it twice changes nothing. The
click is counted in ` + "`" + `otelcol_exporter_slack_interactions` + "`" + ` on the gateway that received it, not on the owner.
A control record is signed (HMAC-SHA256) with the bot token, which every gateway has and no application does: the
applications' records travel the same topic, and one dressed as a control record is dropped, not applied (a
warning counts them). Only a gateway with ` + "`" + `interactivity.kafka` + "`" + ` reads control records at all.
e2e/fleet_click_test.go clicks on the gateway that does not own the channel, with and without the relay.

On the gateways, uncomment the ` + "`" + `interactivity` + "`" + ` block at the end of
[examples/fleet/slack.yaml](../examples/fleet/slack.yaml) (agents ignore it):

` + "`" + `` + "`" + `` + "`" + `yaml
interactivity:
  signing_secret: ${env:SLACK_SIGNING_SECRET}
  http:
    endpoint: ${env:SLACK_ACTIONS_ENDPOINT:-127.0.0.1:3000}   # POST /slack/actions, behind the app's request URL
  kafka:
    brokers: ${env:KAFKA_BROKERS:-localhost:9092}
    topic: ${env:KAFKA_TOPIC:-slack-logs}
` + "`" + `` + "`" + `` + "`" + `

(or ` + "`" + `app_token` + "`" + ` for Socket Mode instead of ` + "`" + `signing_secret` + "`" + ` and ` + "`" + `http` + "`" + `; the relay works the same.)

Limits:
- **The same partitioner as the agents.** The relay places a key as contrib's kafka exporter does by default
  (` + "`" + `record_partitioner.sticky_key` + "`" + ` with the ` + "`" + `sarama_compat` + "`" + ` hasher: FNV-1a). If the agents' kafka exporter sets
  another ` + "`" + `record_partitioner` + "`" + ` (` + "`" + `murmur2` + "`" + `, ` + "`" + `round_robin` + "`" + `, ` + "`" + `least_backup` + "`" + `, an extension), a click may land on another
  partition than its channel's records, and so on a gateway that does not deliver there: it changes nothing.
- **A handover keeps mutes.** Mutes live in the owner's book (in memory, or in its own ` + "`" + `interactivity.storage` + "`" + `),
  and also in the metadata of the message that shows the muted entry (` + "`" + `muted_until` + "`" + `, ` + "`" + `muted_by` + "`" + `), written when the
  entry is redrawn after the click. When a channel moves (a gateway dies or leaves, a rebalance), its new owner
  reads the channel's live messages back before it delivers there (` + "`" + `threads.restore_from_slack` + "`" + `, which the example
  sets) and keeps those mutes in force. A mute whose redraw had not reached Slack when the owner died (it waits for
  the workspace's ` + "`" + `chat.update` + "`" + ` budget) is lost with it, and so is an acknowledgement, which only the entry's text
  shows.
`
