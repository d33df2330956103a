package main

// Item 4: a storm. 100,000 error records in 10 s, 1,000 fingerprints, three
// channels, Slack holding each channel to 1 message a second. It runs with
// the exporter's defaults and again with threads (live counters) off, so the
// two ways of carrying repeats are compared in the same run.

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

var stormChannels = []string{"#storm-a", "#storm-b", "#storm-c"}

// stormRoute is the bench.route attribute of fingerprint f; bench/collector.yaml
// routes "a" and "b", and "c" goes to the default channel, #storm-c.
func stormRoute(f int) string { return string(rune('a' + f%3)) }

// stormVariant is one exporter configuration the storm runs against.
type stormVariant struct {
	name      string   // column title
	overrides []string // extra --config for the collector
	plot      string   // file name (no extension) of its plot over time; "" for none
}

// asBefore batches as the exporter did before it posted calm records at
// once: a second of records before a push.
const asBefore = "yaml:exporters::slack::sending_queue::batch::flush_timeout: 1s"

var stormVariants = []stormVariant{
	{name: "defaults (threads on)", plot: "storm-threads-on"},
	{name: "threads.enabled: false", overrides: []string{"yaml:exporters::slack::threads::enabled: false"}, plot: "storm-threads-off"},
	{name: "threads on, flush_timeout 1s (as before)", overrides: []string{asBefore}},
	{name: "threads off, flush_timeout 1s (as before)", overrides: []string{"yaml:exporters::slack::threads::enabled: false", asBefore}},
}

// stormResult is what one storm run measured.
type stormResult struct {
	err                         error
	exported, exportFailed      int
	accepted                    float64
	shown                       slackTally
	perChannelShown             []slackTally
	metrics                     promText
	drained                     bool
	began, drainedAt            time.Time
	sendTook, elapsed           time.Duration
	throttled                   map[string]int
	requests, acceptedCalls     int
	hwmKB                       float64
	marks                       []time.Duration
	atMark                      map[time.Duration]float64
	perChannelSent              []int
	queueSize, queueCapacityReq float64
	logged                      []time.Time // when each record was handed to the SDK, for the plot
	calls                       []emuCall   // every Slack call the emulator saw, for the plot
}

func runStorm(ctx context.Context, o *options) []section {
	s := section{order: 4, title: "4. Storm",
		intro: fmt.Sprintf("%s ERROR records in %s (%d fingerprints differing by a letters-only word, since digits are masked; "+
			"%d channels by route) sent by the OTel Go SDK to a fresh collector; the Slack emulator answers after %s and holds each channel "+
			"to 1 message a second (`slackemu -latency %s -rate 1 -burst 3`, a 429 with Retry-After: 1 beyond). The exporter runs with "+
			"bench/collector.yaml (the defaults: rate_limit 1/s burst 3, flush_timeout 10 ms), as it is and with threads off, then both again "+
			"batching a second of records as before (`flush_timeout: 1s`). "+
			"Records are counted in Slack from the final state of every top-level message: each entry's ×N (1 without) plus its "+
			"\"➕ N more records\" fold line; thread replies are samples of records already counted and are not added. "+
			"Each run waits at most %s from the first record for Slack to show every record.",
			num(float64(o.stormRecords)), o.stormDuration, o.stormFingerprints, len(stormChannels), o.slackLatency, o.slackLatency, o.stormDrainLimit)}
	var results []stormResult
	for _, v := range stormVariants {
		logf("storm (%s): %d records in %s", v.name, o.stormRecords, o.stormDuration)
		r := stormOnce(ctx, o, v)
		if r.err != nil {
			logf("storm (%s): %v", v.name, r.err)
		}
		results = append(results, r)
	}
	for _, v := range stormVariants {
		s.columns = append(s.columns, v.name)
	}
	cmd := "make bench BENCH_ONLY=storm"
	each := func(f func(r stormResult) string) []string {
		out := make([]string, len(results))
		for i, r := range results {
			if r.err != nil {
				out[i] = "not measured: " + firstLine(r.err.Error())
				continue
			}
			out[i] = f(r)
		}
		return out
	}
	s.rows = []row{
		{what: "Records sent / received by the collector", figures: each(func(r stormResult) string {
			return fmt.Sprintf("%s exported by the SDK (%d failed) / %s accepted", num(float64(r.exported)), r.exportFailed, num(r.accepted))
		}), command: cmd},
		{what: "Records Slack shows (counts in the final messages)", figures: each(func(r stormResult) string {
			missing := r.exported - r.shown.records
			switch {
			case missing == 0:
				return num(float64(r.shown.records)) + "; none missing"
			case r.drained:
				return fmt.Sprintf("%s; %s missing", num(float64(r.shown.records)), thousands(int64(missing)))
			}
			return fmt.Sprintf("%s; %s not shown when the wait ended, with %s requests still in the exporter's queue",
				num(float64(r.shown.records)), thousands(int64(missing)), num(r.queueSize))
		}), goal: "zero lost counts", command: cmd},
		{what: "…cross-check: `otelcol_exporter_slack_records_delivered`", figures: each(func(r stormResult) string {
			return fmt.Sprintf("%s (of which folded %s)", num(r.metrics.sum("otelcol_exporter_slack_records_delivered")),
				num(r.metrics.sum("otelcol_exporter_slack_records_folded")))
		}), command: cmd},
		{what: "Messages posted", figures: each(func(r stormResult) string {
			return fmt.Sprintf("%d top-level, %d thread replies, %d chat.update calls applied; %s Slack calls in all",
				r.shown.messages, r.shown.replies, r.shown.updates, num(float64(r.requests)))
		}), command: cmd},
		{what: "Records per message", figures: each(func(r stormResult) string {
			return fmt.Sprintf("%s per top-level message (%.0f groups shown or folded in each); %s per Slack call accepted",
				num(float64(r.shown.records)/math.Max(float64(r.shown.messages), 1)),
				float64(r.shown.groups)/math.Max(float64(r.shown.messages), 1),
				num(float64(r.shown.records)/math.Max(float64(r.acceptedCalls), 1)))
		}), command: cmd},
		{what: "429s received", figures: each(func(r stormResult) string {
			var parts []string
			for _, ch := range stormChannels {
				parts = append(parts, fmt.Sprintf("%s %d", ch, r.throttled[ch]))
			}
			var other []string
			for ch, n := range r.throttled {
				if !contains(stormChannels, ch) && n > 0 {
					other = append(other, fmt.Sprintf("%s %d", ch, n))
				}
			}
			sort.Strings(other)
			return strings.Join(append(parts, other...), ", ")
		}), goal: "≤ 1 per channel", command: cmd},
		{what: "Time to first message", figures: each(func(r stormResult) string {
			if r.shown.first.IsZero() {
				return "no message"
			}
			return dur(r.shown.first.Sub(r.began)) + " after the first record was logged"
		}), goal: "< 2 s", command: cmd},
		{what: "Time to drain (last change Slack shows)", figures: each(func(r stormResult) string {
			if r.drained {
				return fmt.Sprintf("%s after the storm began (the storm lasted %s)", dur(r.shown.last.Sub(r.began)), dur(r.sendTook))
			}
			return fmt.Sprintf("not drained within %s (last change %s after the start)", dur(r.elapsed), dur(r.shown.last.Sub(r.began)))
		}), command: cmd},
		{what: "…records delivered (exporter's counter) by time since the start", figures: each(progress), command: cmd},
		{what: "Peak RSS of the collector (VmHWM)", figures: each(func(r stormResult) string {
			return fmt.Sprintf("%.0f MB", r.hwmKB/1024)
		}), goal: "< 200 MB", command: cmd},
	}

	for i, r := range results {
		if r.err != nil {
			continue
		}
		drain := "drained " + dur(r.shown.last.Sub(r.began)) + " after the start"
		if !r.drained {
			drain = "not drained within " + dur(r.elapsed)
		}
		most := 0
		for _, n := range r.throttled {
			most = max(most, n)
		}
		s.glance = append(s.glance, row{what: "Storm, " + stormVariants[i].name,
			figure: fmt.Sprintf("%s of %s records shown, %s; %d top-level messages; first after %s; at most %d 429s per channel; peak RSS %.0f MB",
				num(float64(r.shown.records)), num(float64(r.exported)), drain, r.shown.messages, dur(r.shown.first.Sub(r.began)), most, r.hwmKB/1024),
			goal: "none lost, first < 2 s, ≤ 1 429 per channel, RSS < 200 MB"})
	}
	// One message per record at 1 msg/s per channel: what Fluent Bit's and
	// Logstash's Slack outputs and a plain Slack handler do.
	for i, r := range results {
		if r.err != nil {
			continue
		}
		busiest := 0
		for _, n := range r.perChannelSent {
			busiest = max(busiest, n)
		}
		perRecord := time.Duration(busiest) * time.Second
		if i == 0 {
			s.compare = append(s.compare, comparison{fmt.Sprintf("One message per record at 1 msg/s per channel would post %s messages and need %s (busiest channel: %s records)",
				num(float64(r.exported)), dur(perRecord), num(float64(busiest))), "—"})
		}
		drainRatio := "not drained within " + dur(r.elapsed)
		if r.drained {
			drainRatio = ratio(float64(perRecord), float64(r.shown.last.Sub(r.began)))
		}
		s.compare = append(s.compare,
			comparison{fmt.Sprintf("%s: messages posted (replies included), one per record ÷ ours", stormVariants[i].name),
				ratio(float64(r.exported), float64(r.shown.messages+r.shown.replies))},
			comparison{fmt.Sprintf("%s: time to drain, one per record ÷ ours", stormVariants[i].name), drainRatio},
		)
	}
	// Posting calm records at once must not cost a storm more messages.
	for i := 0; i+2 < len(results); i++ {
		now, before := results[i], results[i+2]
		if now.err != nil || before.err != nil {
			continue
		}
		s.compare = append(s.compare, comparison{
			fmt.Sprintf("%s: top-level messages, flush_timeout 10 ms ÷ 1 s as before (goal ≤ 1.1×)", stormVariants[i].name),
			ratio(float64(now.shown.messages), float64(before.shown.messages))})
	}
	for i, r := range results {
		if r.err != nil {
			continue
		}
		var parts []string
		for c, ch := range stormChannels {
			parts = append(parts, fmt.Sprintf("%s %s of %s in %d messages", ch, num(float64(r.perChannelShown[c].records)),
				num(float64(r.perChannelSent[c])), r.perChannelShown[c].messages))
		}
		s.notes = append(s.notes, fmt.Sprintf("%s — per channel, records shown of sent: %s. Collector counters: %s send failures, %s enqueue failures (queue full), "+
			"%s API errors; %s requests in the exporter's queue at the end (capacity %s). Message headers add up to %s records.",
			stormVariants[i].name, strings.Join(parts, "; "), num(r.metrics.sum("otelcol_exporter_send_failed_log_records")),
			num(r.metrics.sum("otelcol_exporter_enqueue_failed_log_records")), num(r.metrics.sum("otelcol_exporter_slack_api_errors")),
			num(r.queueSize), num(r.queueCapacityReq), num(float64(r.shown.header))))
	}
	plotStorm(o, &s, results)
	s.notes = append(s.notes, "Time to first message and to drain run from when the first record was logged to when the emulator stored (or last updated) a message, after its latency.")
	for _, r := range results {
		if r.err != nil && s.err == nil {
			s.err = r.err
		}
	}
	return []section{s}
}

func stormOnce(ctx context.Context, o *options, v stormVariant) (r stormResult) {
	slug := strings.NewReplacer(" ", "-", "(", "", ")", "", ":", "", ".", "-").Replace(v.name)
	emu, err := startEmulator(o, "storm-slackemu-"+slug, o.slackLatency, 1, 3)
	if err != nil {
		r.err = err
		return r
	}
	defer emu.stop(5 * time.Second)
	col, err := startCollector(o, "storm-otelcol-"+slug, "slack", emu, "#storm-c", v.overrides...)
	if err != nil {
		r.err = err
		return r
	}
	defer col.stop(10 * time.Second)
	snd, err := newSender(ctx, col.httpPort, "storm-bench", false, sdklog.WithMaxQueueSize(o.stormRecords))
	if err != nil {
		r.err = err
		return r
	}
	defer func() { _ = snd.shutdown() }()

	// Send: one tick every 100 ms, records spread evenly over the ticks.
	const tick = 100 * time.Millisecond
	ticks := max(int(o.stormDuration/tick), 1)
	r.perChannelSent = make([]int, len(stormChannels))
	r.logged = make([]time.Time, 0, o.stormRecords)
	r.began = time.Now()
	sent := 0
	for t := range ticks {
		time.Sleep(time.Until(r.began.Add(time.Duration(t) * tick)))
		upTo := o.stormRecords * (t + 1) / ticks
		for ; sent < upTo; sent++ {
			f := sent % o.stormFingerprints
			r.perChannelSent[f%3]++
			body := fmt.Sprintf("storm %s failed after %dms: upstream refused connection to 10.0.%d.%d", word(f), 10+sent%90, sent%7, sent%250)
			r.logged = append(r.logged, time.Now())
			snd.logger.Emit(ctx, snd.errorRecord(body, attribute.String("bench.route", stormRoute(f))))
		}
	}
	r.sendTook = time.Since(r.began)
	flushCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_ = snd.provider.ForceFlush(flushCtx)
	cancel()
	r.exported, r.exportFailed = snd.exp.counts()

	// Wait until the exporter says Slack holds every record, or progress
	// stops for 30 s, or the limit.
	var delivered float64
	lastProgress := time.Now()
	r.marks = []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute}
	r.atMark = map[time.Duration]float64{}
	poll(o.stormDrainLimit-time.Since(r.began), 500*time.Millisecond, func() bool {
		if col.exited() {
			return true
		}
		v, err := col.metric("otelcol_exporter_slack_records_delivered")
		if err != nil {
			return false
		}
		for _, m := range r.marks {
			if time.Since(r.began) <= m {
				r.atMark[m] = v
			}
		}
		if v != delivered {
			delivered, lastProgress = v, time.Now()
		}
		if delivered >= float64(r.exported) && r.exported > 0 {
			r.drained, r.drainedAt = true, time.Now()
			return true
		}
		return time.Since(lastProgress) > 30*time.Second
	})
	if r.drained {
		time.Sleep(time.Second) // let the last answers be stored
	}
	r.elapsed = time.Since(r.began)
	if col.exited() {
		r.err = fmt.Errorf("the collector exited during the storm:\n%s", col.tail(10))
		return r
	}

	r.hwmKB, _ = statusKB(col.pid(), "VmHWM")
	r.metrics, _ = col.metrics()
	_ = os.WriteFile(filepath.Join(o.work, "storm-metrics-"+slug+".txt"), []byte(r.metrics), 0o644)
	r.accepted = r.metrics.sum("otelcol_receiver_accepted_log_records")
	r.queueSize = r.metrics.sum("otelcol_exporter_queue_size")
	r.queueCapacityReq = r.metrics.sum("otelcol_exporter_queue_capacity")
	msgs, err := emu.messages("")
	if err != nil {
		r.err = err
		return r
	}
	stats, err := emu.stats()
	if err != nil {
		r.err = err
		return r
	}
	if r.calls, err = emu.calls(); err != nil {
		r.err = err
		return r
	}
	r.requests, r.acceptedCalls = stats.Totals.Requests, stats.Totals.Accepted
	r.throttled = map[string]int{}
	for ch, d := range stats.Destinations {
		r.throttled[ch] = d.Throttled
	}
	r.shown = tally(msgs)
	byChannel := map[string][]emuMessage{}
	for _, m := range msgs {
		byChannel[m.Channel] = append(byChannel[m.Channel], m)
	}
	for _, ch := range stormChannels {
		r.perChannelShown = append(r.perChannelShown, tally(byChannel[ch]))
	}
	return r
}

// progress shows the delivered counter at each mark reached before the
// storm drained.
func progress(r stormResult) string {
	var parts []string
	for _, m := range r.marks {
		v, ok := r.atMark[m]
		if !ok || (r.drained && r.drainedAt.Sub(r.began) < m-10*time.Second) {
			break
		}
		parts = append(parts, fmt.Sprintf("%s: %.0f%%", dur(m), v/float64(max(r.exported, 1))*100))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " · ")
}
