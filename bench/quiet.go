package main

// Item 2: cheap when quiet. Two collectors from the same binary, with the
// same pipeline ending in the slack exporter and in the nop exporter, run
// side by side, each fed the same steady flood of OTLP logs by its own pair
// of telemetrygen processes (99% INFO, 1% ERROR); their CPU time per million
// records is compared. Side by side, both see the same noise from the rest
// of the machine, which one-after-the-other runs on a shared machine do not.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

var quietExporters = []string{"nop", "slack"}

type quietRun struct {
	exporter                    string
	round                       int
	cpu, records                float64
	filtered, posted, delivered float64
	wall                        time.Duration
}

func (r quietRun) perMillion() float64 { return r.cpu / r.records * 1e6 }

func telemetrygenArgs(o *options, grpcPort, workers, rate int, severity int, text, body string) []string {
	return []string{"logs", "--otlp-insecure", "--otlp-endpoint", fmt.Sprintf("127.0.0.1:%d", grpcPort),
		"--workers", strconv.Itoa(workers), "--rate", strconv.Itoa(rate), "--duration", o.quietDuration.String(),
		"--severity-number", strconv.Itoa(severity), "--severity-text", text, "--body", body, "--service", "quiet-bench"}
}

func runQuiet(ctx context.Context, o *options) []section {
	infoRate := o.quietInfoWorkers * o.quietInfoRate
	errRate := o.quietErrWorkers * o.quietErrRate
	s := section{order: 2, title: "2. Cheap when quiet",
		intro: fmt.Sprintf("Two collectors from one binary (bin/otelcol-slack), pipeline otlp → exporter with no processor (bench/collector.yaml), "+
			"one ending in the slack exporter (min_severity error; its errors go to the Slack emulator, `slackemu -latency %s -rate 1 -burst 3`), "+
			"the other in the nop exporter, run side by side. Each gets its own two telemetrygen processes sending OTLP/gRPC for %s: "+
			"%s INFO records/s (%d workers × %d/s) and %s ERROR records/s (%d workers × %d/s), 1%% errors. %d rounds, fresh collectors each. "+
			"The figure is each collector's utime+stime (/proc/PID/stat) while the load runs, per million records it accepted "+
			"(`otelcol_receiver_accepted_log_records`).",
			o.slackLatency, o.quietDuration, num(float64(infoRate)), o.quietInfoWorkers, o.quietInfoRate, num(float64(errRate)),
			o.quietErrWorkers, o.quietErrRate, o.quietRounds)}
	if _, err := runCommand(ctx, 10*time.Second, o.root, o.telemetrygen, "logs", "--help"); err != nil {
		s.err = fmt.Errorf("telemetrygen: %w (make bench installs it)", err)
		return []section{s}
	}
	emu, err := startEmulator(o, "quiet-slackemu", o.slackLatency, 1, 3)
	if err != nil {
		s.err = err
		return []section{s}
	}
	defer emu.stop(5 * time.Second)

	var runs []quietRun
	var roundRatios []float64
	var roundText []string
	for round := 1; round <= o.quietRounds; round++ {
		pair, err := quietRound(o, emu, round)
		if err != nil {
			s.err = err
			return []section{s}
		}
		nop, slack := pair[0], pair[1]
		logf("quiet round %d: nop %.2f, slack %.2f CPU s per million records", round, nop.perMillion(), slack.perMillion())
		runs = append(runs, pair...)
		roundRatios = append(roundRatios, slack.perMillion()/nop.perMillion())
		roundText = append(roundText, fmt.Sprintf("%+.1f%%", (slack.perMillion()/nop.perMillion()-1)*100))
	}

	type total struct {
		cpu, recs                   float64
		per                         []string
		wall                        time.Duration
		filtered, posted, delivered float64
	}
	sum := func(exp string) (t total) {
		for _, r := range runs {
			if r.exporter == exp {
				t.cpu += r.cpu
				t.recs += r.records
				t.wall += r.wall
				t.filtered += r.filtered
				t.posted += r.posted
				t.delivered += r.delivered
				t.per = append(t.per, fmt.Sprintf("%.2f", r.perMillion()))
			}
		}
		return t
	}
	nop, sl := sum("nop"), sum("slack")
	nopPM, slPM := nop.cpu/nop.recs*1e6, sl.cpu/sl.recs*1e6
	figure := func(t total, pm float64) string {
		return fmt.Sprintf("%.2f CPU s per million records (%s records, %.0f records/s; per round %s)",
			pm, num(t.recs), t.recs/t.wall.Seconds(), strings.Join(t.per, ", "))
	}
	cmd := "make bench BENCH_ONLY=quiet"
	added := (slPM/nopPM - 1) * 100
	s.rows = []row{
		{what: "Pipeline ending in the nop exporter", figure: figure(nop, nopPM), command: cmd},
		{what: "Pipeline ending in the slack exporter", figure: figure(sl, slPM), command: cmd},
		{what: "What the slack exporter added (all rounds pooled)", figure: fmt.Sprintf("%+.1f%% (per round %s; median round %+.1f%%)",
			added, strings.Join(roundText, ", "), (median(roundRatios)-1)*100), goal: "< 5%", command: cmd},
	}
	s.compare = []comparison{{"slack ÷ nop, CPU per record", ratio(slPM, nopPM)}}
	s.glance = []row{{what: "Collector CPU per record, slack exporter vs nop exporter (99% INFO)",
		figure: fmt.Sprintf("%+.1f%% (%.2f vs %.2f CPU s per million records; rounds %s)", added, slPM, nopPM, strings.Join(roundText, ", ")),
		goal:   "< 5% more"}}
	s.notes = []string{
		fmt.Sprintf("In the slack runs the exporter dropped %s records before its queue (%.2f%% of those received) and delivered %s to Slack in %s messages.",
			num(sl.filtered), sl.filtered/sl.recs*100, num(sl.delivered), num(sl.posted)),
		"telemetrygen v0.161.0 (installed pinned by `make bench` into .tools/bin), per collector: " +
			"`telemetrygen " + shellJoin(telemetrygenArgs(o, 4317, o.quietInfoWorkers, o.quietInfoRate, 9, "INFO", "request served")) + "` and " +
			"`telemetrygen " + shellJoin(telemetrygenArgs(o, 4317, o.quietErrWorkers, o.quietErrRate, 17, "ERROR", "payment declined by provider")) + "`. " +
			"It cannot mix severities in one process, hence two; each worker sends batches of 100 records.",
		"CPU time is counted in clock ticks (1/" + strconv.Itoa(int(clockTicks)) + " s); telemetrygen's own CPU is not counted. " +
			"The spread between rounds shows how much of a difference this machine can resolve.",
	}
	if selectNsPerRecord > 0 {
		s.notes = append(s.notes, fmt.Sprintf("For scale: item 3 measures the exporter's pre-queue work at %.1f ns per record (severity only, 1%% kept), "+
			"%.2f%% of the %.2f µs of CPU per record the nop pipeline costs here; the rest of what the slack exporter does runs once per batch or per message.",
			selectNsPerRecord, selectNsPerRecord/(nopPM*1e3)*100, nopPM))
	}
	return []section{s}
}

// quietRound runs both collectors at once, each with its own load, and
// returns their runs in quietExporters order.
func quietRound(o *options, emu *emulator, round int) ([]quietRun, error) {
	type side struct {
		col        *collector
		cpu0, rec0 float64
		gens       []*proc
	}
	sides := make([]*side, len(quietExporters))
	defer func() {
		for _, sd := range sides {
			if sd == nil {
				continue
			}
			for _, g := range sd.gens {
				g.stop(5 * time.Second)
			}
			if sd.col != nil {
				sd.col.stop(10 * time.Second)
			}
		}
	}()
	for i, exp := range quietExporters {
		col, err := startCollector(o, fmt.Sprintf("quiet-otelcol-%s-%d", exp, round), exp, emu, "#quiet")
		if err != nil {
			return nil, err
		}
		sides[i] = &side{col: col}
	}
	time.Sleep(time.Second) // settle after start-up
	for _, sd := range sides {
		var err error
		if sd.cpu0, err = cpuSeconds(sd.col.pid()); err != nil {
			return nil, err
		}
		if sd.rec0, err = sd.col.metric("otelcol_receiver_accepted_log_records"); err != nil {
			return nil, err
		}
	}
	began := time.Now()
	for i, sd := range sides {
		for _, g := range []struct {
			name          string
			workers, rate int
			sev           int
			text, body    string
		}{
			{"info", o.quietInfoWorkers, o.quietInfoRate, 9, "INFO", "request served"},
			{"error", o.quietErrWorkers, o.quietErrRate, 17, "ERROR", "payment declined by provider"},
		} {
			p, err := start(o.work, fmt.Sprintf("quiet-telemetrygen-%s-%s-%d", g.name, quietExporters[i], round), o.telemetrygen,
				telemetrygenArgs(o, sd.col.grpcPort, g.workers, g.rate, g.sev, g.text, g.body), nil)
			if err != nil {
				return nil, err
			}
			sd.gens = append(sd.gens, p)
		}
	}
	for _, sd := range sides {
		for _, g := range sd.gens {
			if err := g.wait(o.quietDuration + time.Minute); err != nil {
				return nil, fmt.Errorf("%s: %w\n%s", g.name, err, g.tail(5))
			}
		}
	}
	// A collector has taken every record once its count stops moving.
	for _, sd := range sides {
		last := -1.0
		poll(10*time.Second, 250*time.Millisecond, func() bool {
			v, err := sd.col.metric("otelcol_receiver_accepted_log_records")
			if err != nil {
				return false
			}
			same := v == last
			last = v
			return same
		})
	}
	wall := time.Since(began)
	var out []quietRun
	for i, sd := range sides {
		cpu1, err := cpuSeconds(sd.col.pid())
		if err != nil {
			return nil, err
		}
		m, err := sd.col.metrics()
		if err != nil {
			return nil, err
		}
		r := quietRun{exporter: quietExporters[i], round: round, wall: wall, cpu: cpu1 - sd.cpu0,
			records:  m.sum("otelcol_receiver_accepted_log_records") - sd.rec0,
			filtered: m.sum("otelcol_exporter_slack_records_filtered"), posted: m.sum("otelcol_exporter_slack_messages_sent"),
			delivered: m.sum("otelcol_exporter_slack_records_delivered")}
		if r.records <= 0 {
			return nil, fmt.Errorf("the %s collector received no records:\n%s", r.exporter, sd.col.tail(10))
		}
		out = append(out, r)
	}
	return out, nil
}
