package main

// Item 5: latency when calm. One error record a second, each a new
// fingerprint, from the log call to the Slack emulator, with the defaults
// and batching a second of records as before, in the same run.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// calmVariant is one exporter configuration the calm run measures.
type calmVariant struct {
	name      string
	overrides []string
}

var calmVariants = []calmVariant{
	{name: "defaults (flush_timeout 10 ms)"},
	{name: "flush_timeout 1s (as before)", overrides: []string{asBefore}},
}

// calmResult holds the latencies of one variant, sorted.
type calmResult struct {
	total, sdkPart, colPart, toCall []time.Duration
	missing                         int
	err                             error
}

func runCalm(ctx context.Context, o *options) []section {
	s := section{order: 5, title: "5. Latency when calm",
		intro: fmt.Sprintf("%d error records, one every %s, each a new fingerprint, sent by the OTel Go SDK's batch processor "+
			"with a 200 ms export interval (as the example app; the SDK's default is 1 s) over OTLP/HTTP to the collector, "+
			"and Slack answering after %s (`slackemu -latency %s -rate 1 -burst 3`); once with the exporter's defaults and once "+
			"batching a second of records as before. \"Log call → Slack\" runs from just before the log call to the emulator storing "+
			"the message, after its latency; \"OTLP export → chat.postMessage\" (the collector's share) from the SDK's export call to "+
			"the post reaching the emulator.", o.calmRecords, o.calmInterval, o.slackLatency, o.slackLatency)}
	var results []calmResult
	for _, v := range calmVariants {
		s.columns = append(s.columns, v.name)
		r := calmOnce(ctx, o, v)
		if r.err != nil {
			logf("calm (%s): %v", v.name, r.err)
			if s.err == nil {
				s.err = r.err
			}
		}
		results = append(results, r)
	}
	pct := func(d []time.Duration) string {
		if len(d) == 0 {
			return "n/a"
		}
		return fmt.Sprintf("p50 %s · p99 %s · max %s", dur(percentile(d, 50)), dur(percentile(d, 99)), dur(d[len(d)-1]))
	}
	each := func(f func(r calmResult) []time.Duration) []string {
		out := make([]string, len(results))
		for i, r := range results {
			out[i] = pct(f(r))
			if r.err != nil {
				out[i] = "not measured: " + firstLine(r.err.Error())
			}
		}
		return out
	}
	cmd := "make bench BENCH_ONLY=calm"
	s.rows = []row{
		{what: "Log call → Slack", figures: each(func(r calmResult) []time.Duration { return r.total }), command: cmd},
		{what: "…of which: log call → the SDK hands the record to OTLP (batch processor's interval)", figures: each(func(r calmResult) []time.Duration { return r.sdkPart }), command: cmd},
		{what: "…of which: OTLP export → chat.postMessage reaches Slack (the collector's share)", figures: each(func(r calmResult) []time.Duration { return r.toCall }),
			goal: "p99 < 50 ms with the defaults", command: cmd},
		{what: "…of which: OTLP export → Slack stored it (the collector and Slack's answer)", figures: each(func(r calmResult) []time.Duration { return r.colPart }), command: cmd},
	}
	for i, r := range results {
		if r.err != nil {
			continue
		}
		goal := "" // the goal is for the defaults
		if i == 0 {
			goal = "p99 < 50 ms"
		}
		s.glance = append(s.glance,
			row{what: "Log call → Slack, 1 error/s, " + calmVariants[i].name, figure: pct(r.total)},
			row{what: "…of which OTLP export → chat.postMessage (collector's share)", figure: pct(r.toCall), goal: goal})
		s.notes = append(s.notes, fmt.Sprintf("%s: %d of %d records reached Slack.", calmVariants[i].name, len(r.total), o.calmRecords))
		if r.missing > 0 {
			s.notes = append(s.notes, fmt.Sprintf("%s: %d records had not reached Slack 30 s after the last one was logged.", calmVariants[i].name, r.missing))
		}
	}
	if len(results) == 2 && results[0].err == nil && results[1].err == nil {
		now, before := results[0], results[1]
		s.compare = []comparison{
			{"collector's share, as before ÷ defaults, p99", ratio(float64(percentile(before.toCall, 99)), float64(percentile(now.toCall, 99)))},
			{"log call → Slack, as before ÷ defaults, p99", ratio(float64(percentile(before.total, 99)), float64(percentile(now.total, 99)))},
			{"collector's share ÷ log call → Slack, defaults, p50", ratio(float64(percentile(now.toCall, 50)), float64(percentile(now.total, 50)))},
		}
	}
	if len(results) > 0 {
		n := len(results[0].total)
		s.notes = append(s.notes,
			fmt.Sprintf("With %d samples the nearest-rank p99 is sample %d of %d, sorted.", n, max((n*99+99)/100, 1), n),
			fmt.Sprintf("Slack's own answer time here is %s of \"log call → Slack\"; the SDK's 200 ms export interval is most of the rest.", o.slackLatency))
	}
	return []section{s}
}

func calmOnce(ctx context.Context, o *options, v calmVariant) (r calmResult) {
	slug := strings.NewReplacer(" ", "-", "(", "", ")", "", ".", "-").Replace(v.name)
	emu, err := startEmulator(o, "calm-slackemu-"+slug, o.slackLatency, 1, 3)
	if err != nil {
		r.err = err
		return r
	}
	defer emu.stop(5 * time.Second)
	col, err := startCollector(o, "calm-otelcol-"+slug, "slack", emu, "#calm", v.overrides...)
	if err != nil {
		r.err = err
		return r
	}
	defer col.stop(10 * time.Second)
	snd, err := newSender(ctx, col.httpPort, "calm-bench", true, sdklog.WithExportInterval(200*time.Millisecond))
	if err != nil {
		r.err = err
		return r
	}

	bodies := make([]string, o.calmRecords)
	called := make([]time.Time, o.calmRecords)
	begin := time.Now().Add(200 * time.Millisecond)
	logf("calm (%s): %d records, one every %s", v.name, o.calmRecords, o.calmInterval)
	for i := range o.calmRecords {
		time.Sleep(time.Until(begin.Add(time.Duration(i) * o.calmInterval)))
		bodies[i] = fmt.Sprintf("calm probe %s failed: connection reset by peer", word(i))
		called[i] = time.Now()
		snd.logger.Emit(ctx, snd.errorRecord(bodies[i]))
	}
	// Wait for Slack to show every record, at most 30 s.
	received := make([]time.Time, o.calmRecords)
	posted := make([]time.Time, o.calmRecords) // when its post reached the emulator
	poll(30*time.Second, 250*time.Millisecond, func() bool {
		msgs, err := emu.messages("#calm")
		if err != nil {
			return false
		}
		calls, err := emu.calls()
		if err != nil {
			return false
		}
		// One record a second, one post at a time: the k-th post accepted
		// is the k-th message.
		var arrivals []time.Time
		for _, c := range calls {
			if c.Method == "chat.postMessage" && c.Dest == "#calm" && c.Status == 200 {
				arrivals = append(arrivals, c.At)
			}
		}
		sort.Slice(msgs, func(i, j int) bool { return msgs[i].Seq < msgs[j].Seq })
		missing := 0
		for i, body := range bodies {
			received[i], posted[i] = time.Time{}, time.Time{}
			for k, m := range msgs {
				if m.reply() || !(strings.Contains(m.Text, body) || strings.Contains(string(m.Blocks), body)) {
					continue
				}
				if t := m.received(); received[i].IsZero() || t.Before(received[i]) {
					received[i] = t
					if k < len(arrivals) {
						posted[i] = arrivals[k]
					}
				}
			}
			if received[i].IsZero() {
				missing++
			}
		}
		return missing == 0
	})
	_ = snd.shutdown()

	for i := range bodies {
		if received[i].IsZero() {
			r.missing++
			continue
		}
		r.total = append(r.total, received[i].Sub(called[i]))
		if at, ok := snd.exp.exportedAt(bodies[i]); ok {
			r.sdkPart = append(r.sdkPart, at.Sub(called[i]))
			r.colPart = append(r.colPart, received[i].Sub(at))
			if !posted[i].IsZero() {
				r.toCall = append(r.toCall, posted[i].Sub(at))
			}
		}
	}
	if len(r.total) == 0 {
		r.err = fmt.Errorf("no calm record reached Slack within 30 s:\n%s", col.tail(10))
		return r
	}
	for _, d := range [][]time.Duration{r.total, r.sdkPart, r.colPart, r.toCall} {
		slices.Sort(d)
	}
	return r
}
