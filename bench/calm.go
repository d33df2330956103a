package main

// Item 5: latency when calm. One error record a second, each a new
// fingerprint, from the log call to the Slack emulator storing it.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

func runCalm(ctx context.Context, o *options) []section {
	s := section{order: 5, title: "5. Latency when calm",
		intro: fmt.Sprintf("%d error records, one every %s, each a new fingerprint, sent by the OTel Go SDK's batch processor "+
			"with a 200 ms export interval (as the example app; the SDK's default is 1 s) over OTLP/HTTP to the collector (`sending_queue.batch.flush_timeout: 1s`), "+
			"and Slack answering after %s (`slackemu -latency %s -rate 1 -burst 3`). Latency runs from just before the log call "+
			"to the emulator storing the message, after its latency.", o.calmRecords, o.calmInterval, o.slackLatency, o.slackLatency)}
	emu, err := startEmulator(o, "calm-slackemu", o.slackLatency, 1, 3)
	if err != nil {
		s.err = err
		return []section{s}
	}
	defer emu.stop(5 * time.Second)
	col, err := startCollector(o, "calm-otelcol", "slack", emu, "#calm")
	if err != nil {
		s.err = err
		return []section{s}
	}
	defer col.stop(10 * time.Second)
	snd, err := newSender(ctx, col.httpPort, "calm-bench", true, sdklog.WithExportInterval(200*time.Millisecond))
	if err != nil {
		s.err = err
		return []section{s}
	}

	bodies := make([]string, o.calmRecords)
	called := make([]time.Time, o.calmRecords)
	begin := time.Now().Add(200 * time.Millisecond)
	logf("calm: %d records, one every %s", o.calmRecords, o.calmInterval)
	for i := range o.calmRecords {
		time.Sleep(time.Until(begin.Add(time.Duration(i) * o.calmInterval)))
		bodies[i] = fmt.Sprintf("calm probe %s failed: connection reset by peer", word(i))
		called[i] = time.Now()
		snd.logger.Emit(ctx, snd.errorRecord(bodies[i]))
	}
	// Wait for Slack to show every record, at most 30 s.
	received := make([]time.Time, o.calmRecords)
	poll(30*time.Second, 250*time.Millisecond, func() bool {
		msgs, err := emu.messages("#calm")
		if err != nil {
			return false
		}
		missing := 0
		for i, body := range bodies {
			received[i] = time.Time{}
			for _, m := range msgs {
				if m.reply() || !(strings.Contains(m.Text, body) || strings.Contains(string(m.Blocks), body)) {
					continue
				}
				if t := m.received(); received[i].IsZero() || t.Before(received[i]) {
					received[i] = t
				}
			}
			if received[i].IsZero() {
				missing++
			}
		}
		return missing == 0
	})
	_ = snd.shutdown()

	var total, sdkPart, colPart []time.Duration
	missing := 0
	for i := range bodies {
		if received[i].IsZero() {
			missing++
			continue
		}
		total = append(total, received[i].Sub(called[i]))
		if at, ok := snd.exp.exportedAt(bodies[i]); ok {
			sdkPart = append(sdkPart, at.Sub(called[i]))
			colPart = append(colPart, received[i].Sub(at))
		}
	}
	if len(total) == 0 {
		s.err = fmt.Errorf("no calm record reached Slack within 30 s:\n%s", col.tail(10))
		return []section{s}
	}
	for _, d := range [][]time.Duration{total, sdkPart, colPart} {
		slices.Sort(d)
	}
	pct := func(d []time.Duration) string {
		if len(d) == 0 {
			return "n/a"
		}
		return fmt.Sprintf("p50 %s · p99 %s · max %s", dur(percentile(d, 50)), dur(percentile(d, 99)), dur(d[len(d)-1]))
	}
	cmd := "make bench BENCH_ONLY=calm"
	s.rows = []row{
		{what: fmt.Sprintf("Log call → Slack, %d of %d records arrived", len(total), o.calmRecords), figure: pct(total),
			goal: "p99 < flush_timeout + 500 ms = 1.5 s", command: cmd},
		{what: "…of which: log call → the SDK hands the record to OTLP (batch processor's interval)", figure: pct(sdkPart), command: cmd},
		{what: "…of which: OTLP export → Slack (collector, queue batching, Slack's answer)", figure: pct(colPart),
			goal: "p99 < flush_timeout + 500 ms = 1.5 s", command: cmd},
	}
	s.glance = []row{
		{what: "Log call → Slack, 1 error/s", figure: pct(total), goal: "p99 < 1.5 s"},
		{what: "…of which OTLP export → Slack", figure: pct(colPart), goal: "p99 < 1.5 s"},
	}
	s.compare = []comparison{
		{"collector's part ÷ whole, p50", ratio(float64(percentile(colPart, 50)), float64(percentile(total, 50)))},
	}
	s.notes = []string{
		fmt.Sprintf("With %d samples the nearest-rank p99 is sample %d of %d, sorted.", len(total), max((len(total)*99+99)/100, 1), len(total)),
		fmt.Sprintf("Slack's own answer time here is %s of every figure.", o.slackLatency),
	}
	if missing > 0 {
		s.notes = append(s.notes, fmt.Sprintf("%d records had not reached Slack 30 s after the last one was logged.", missing))
	}
	return []section{s}
}
