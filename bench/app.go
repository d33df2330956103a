package main

// Item 1: the application never waits. The example app (log/slog → otelslog
// → OTel SDK batch processor → OTLP/HTTP → collector → slack exporter) logs
// while Slack takes 5 s per call, next to (a) a slog handler that posts to
// chat.postMessage inside the log call and (b) Python's QueueHandler +
// QueueListener posting from its listener thread.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// syncSlackHandler is the problem the exporter exists to remove: a
// slog.Handler whose Handle posts the record to Slack and returns when
// Slack has answered.
type syncSlackHandler struct {
	url, token, channel string
	client              *http.Client
}

func (h *syncSlackHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *syncSlackHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *syncSlackHandler) WithGroup(string) slog.Handler                { return h }

func (h *syncSlackHandler) Handle(ctx context.Context, r slog.Record) error {
	text := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool { text += " " + a.String(); return true })
	body, err := json.Marshal(map[string]string{"channel": h.channel, "text": text})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

type syncResult struct {
	took []time.Duration
	err  error
}

// runSyncHandler makes n ERROR log calls through syncSlackHandler.
func runSyncHandler(emu *emulator, n int) syncResult {
	h := &syncSlackHandler{url: emu.url + "/api/chat.postMessage", token: emuToken, channel: "#sync-handler",
		client: &http.Client{Timeout: 60 * time.Second}}
	logger := slog.New(h)
	var res syncResult
	for i := range n {
		start := time.Now()
		logger.Error("payment declined by provider", "order_id", fmt.Sprintf("ord-%d", 10000+i), "http.status_code", 402)
		res.took = append(res.took, time.Since(start))
	}
	return res
}

// appResult is the example app's summary line.
type appResult struct {
	calls          int
	p50, p99, peak time.Duration
	flush          time.Duration
}

var appLineRE = regexp.MustCompile(`(\d+) log calls: p50=(\S+) p99=(\S+) max=(\S+); Shutdown flushed the rest in (\S+)`)

func parseAppLine(out string) (appResult, error) {
	m := appLineRE.FindStringSubmatch(out)
	if m == nil {
		return appResult{}, fmt.Errorf("no timing summary in slogapp's output: %q", out)
	}
	var r appResult
	r.calls, _ = strconv.Atoi(m[1])
	var errs [4]error
	r.p50, errs[0] = time.ParseDuration(m[2])
	r.p99, errs[1] = time.ParseDuration(m[3])
	r.peak, errs[2] = time.ParseDuration(m[4])
	r.flush, errs[3] = time.ParseDuration(m[5])
	for _, err := range errs {
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

type pyResult struct {
	Calls       int    `json:"calls"`
	Errors      int    `json:"errors"`
	P50         int64  `json:"p50_ns"`
	P99         int64  `json:"p99_ns"`
	Max         int64  `json:"max_ns"`
	PostedByEnd int    `json:"posted_by_end"`
	Python      string `json:"python"`
}

// appRun is one run of the example app and what the collector received.
type appRun struct {
	appResult
	queue    int // the SDK batch processor's queue; 0 = the app's default
	accepted float64
}

// runSlogapp runs the example app against a fresh collector.
func runSlogapp(ctx context.Context, o *options, emu *emulator, queue int) (appRun, error) {
	r := appRun{queue: queue}
	col, err := startCollector(o, fmt.Sprintf("app-otelcol-q%d", queue), "slack", emu, "#alerts")
	if err != nil {
		return r, err
	}
	// It would keep posting at Slack's pace; that is not measured here.
	defer col.stop(10 * time.Second)
	args := []string{"-endpoint", fmt.Sprintf("127.0.0.1:%d", col.httpPort), "-service", "bench-app",
		"-count", strconv.Itoa(o.appCount), "-errors", strconv.FormatFloat(o.appErrors, 'g', -1, 64)}
	if queue > 0 {
		args = append(args, "-queue", strconv.Itoa(queue))
	}
	logf("example app: bin/slogapp %v", args)
	out, err := runCommand(ctx, 3*time.Minute, o.root, o.bin("slogapp"), args...)
	if err != nil {
		return r, err
	}
	if r.appResult, err = parseAppLine(out); err != nil {
		return r, err
	}
	last := -1.0
	poll(10*time.Second, 200*time.Millisecond, func() bool {
		v, err := col.metric("otelcol_receiver_accepted_log_records")
		if err != nil {
			return false
		}
		same := v == last
		last = v
		return same
	})
	r.accepted = max(last, 0)
	return r, nil
}

// startApp measures the example app and Python now and starts the
// synchronous handler, which keeps waiting on Slack in the background; the
// function it returns waits for that and completes the section.
func startApp(ctx context.Context, o *options) func() section {
	began := time.Now()
	s := section{order: 1, title: "1. The application never waits",
		intro: fmt.Sprintf("The example app (examples/slogapp: log/slog → otelslog bridge → OTel SDK batch processor → OTLP/HTTP → "+
			"collector → slack exporter) makes %s log calls as fast as it can, %g%% of them ERROR, while the Slack emulator answers every call after %s "+
			"(`slackemu -latency %s -rate 1 -burst 3`). Each figure is the wall time of one log call.",
			num(float64(o.appCount)), o.appErrors*100, o.appLatency, o.appLatency)}
	fail := func(err error) func() section {
		s.err = err
		s.took = time.Since(began)
		return func() section { return s }
	}
	emu, err := startEmulator(o, "app-slackemu", o.appLatency, 1, 3)
	if err != nil {
		return fail(err)
	}
	syncDone := make(chan syncResult, 1)
	go func() { syncDone <- runSyncHandler(emu, o.syncCalls) }()

	// The app as shipped (its SDK queue: 2,048 records), then with a queue
	// that holds the whole burst, as Python's unbounded queue does.
	shipped, err := runSlogapp(ctx, o, emu, 0)
	if err != nil {
		emu.stop(5 * time.Second)
		return fail(err)
	}
	whole, err := runSlogapp(ctx, o, emu, o.appCount)
	if err != nil {
		emu.stop(5 * time.Second)
		return fail(err)
	}

	logf("python QueueHandler: %d calls", o.appCount)
	pyOut, err := runCommand(ctx, 3*time.Minute, o.root, o.python, filepath.Join(o.root, "bench", "queuehandler.py"),
		"--api-url", emu.url+"/api/", "--token", emuToken, "--count", strconv.Itoa(o.appCount),
		"--errors", strconv.FormatFloat(o.appErrors, 'g', -1, 64))
	var py pyResult
	if err == nil {
		err = json.Unmarshal([]byte(lastLine(pyOut)), &py)
	}
	if err != nil {
		s.notes = append(s.notes, fmt.Sprintf("(b) was not measured: %v", firstLine(err.Error())))
	}

	return func() section {
		var sr syncResult
		select {
		case sr = <-syncDone:
		case <-time.After(time.Duration(o.syncCalls)*(o.appLatency+5*time.Second) + time.Minute):
			sr.err = errors.New("the synchronous handler did not finish")
		}
		emu.stop(5 * time.Second)
		s.took = time.Since(began)
		slices.Sort(sr.took)
		cmd := "make bench BENCH_ONLY=app"
		pct := func(p50, p99, peak time.Duration) string {
			return fmt.Sprintf("p50 %s · p99 %s · max %s", dur(p50), dur(p99), dur(peak))
		}
		received := func(r appRun) string {
			return fmt.Sprintf("%s of %s records reached the collector", num(r.accepted), num(float64(r.calls)))
		}
		s.rows = []row{
			{what: fmt.Sprintf("Example app as shipped (SDK queue of 2,048 records), %s calls", num(float64(shipped.calls))),
				figure: pct(shipped.p50, shipped.p99, shipped.peak) + "; " + received(shipped),
				goal:   "p99 < 10 µs, max < 1 ms, whatever Slack's latency", command: cmd},
			{what: fmt.Sprintf("Example app, SDK queue holding the whole burst (`-queue %d`)", whole.queue),
				figure: pct(whole.p50, whole.p99, whole.peak) + "; " + received(whole),
				goal:   "p99 < 10 µs, max < 1 ms, whatever Slack's latency", command: cmd},
		}
		s.glance = []row{
			{what: "Log call, example app as shipped", figure: pct(shipped.p50, shipped.p99, shipped.peak) +
				fmt.Sprintf(" (%s of %s records reached the collector)", num(shipped.accepted), num(float64(shipped.calls))),
				goal: "p99 < 10 µs, max < 1 ms"},
			{what: "Log call, SDK queue holding the burst", figure: pct(whole.p50, whole.p99, whole.peak), goal: "p99 < 10 µs, max < 1 ms"},
		}
		if py.Calls > 0 {
			s.glance = append(s.glance, row{what: "Log call, Python QueueHandler (same calls)",
				figure: pct(time.Duration(py.P50), time.Duration(py.P99), time.Duration(py.Max))})
		}
		if sr.err == nil && len(sr.took) > 0 {
			s.glance = append(s.glance, row{what: "ERROR log call, slog handler posting synchronously",
				figure: pct(percentile(sr.took, 50), percentile(sr.took, 99), sr.took[len(sr.took)-1])})
		}
		if sr.err == nil && len(sr.took) > 0 {
			s.rows = append(s.rows, row{what: fmt.Sprintf("(a) slog handler posting to chat.postMessage in the log call, %d ERROR calls", len(sr.took)),
				figure: pct(percentile(sr.took, 50), percentile(sr.took, 99), sr.took[len(sr.took)-1]), command: cmd})
		} else {
			s.notes = append(s.notes, fmt.Sprintf("(a) was not measured: %v", sr.err))
		}
		if py.Calls > 0 {
			s.rows = append(s.rows, row{what: fmt.Sprintf("(b) Python %s logging: QueueHandler + QueueListener posting ERRORs, %s calls", py.Python, num(float64(py.Calls))),
				figure: pct(time.Duration(py.P50), time.Duration(py.P99), time.Duration(py.Max)) + "; no record dropped (unbounded queue)",
				command: fmt.Sprintf("python3 bench/queuehandler.py --api-url http://127.0.0.1:PORT/api/ --token %s --count %d --errors %g",
					emuToken, o.appCount, o.appErrors)})
			s.compare = append(s.compare,
				comparison{"Python QueueHandler ÷ example app (queue holding the burst), p50", ratio(float64(py.P50), float64(whole.p50))},
				comparison{"…p99", ratio(float64(py.P99), float64(whole.p99))},
				comparison{"…max", ratio(float64(py.Max), float64(whole.peak))},
			)
		}
		if len(sr.took) > 0 {
			s.compare = append(s.compare,
				comparison{"synchronous handler ÷ example app (queue holding the burst), p50 of an ERROR call ÷ p50 of all calls", ratio(float64(percentile(sr.took, 50)), float64(whole.p50))},
				comparison{"…max ÷ max", ratio(float64(sr.took[len(sr.took)-1]), float64(whole.peak))},
			)
		}
		s.notes = append(s.notes,
			fmt.Sprintf("The example app runs as `bin/slogapp -endpoint 127.0.0.1:PORT -service bench-app -count %d -errors %g [-queue %d]` against a fresh collector "+
				"(bench/collector.yaml) each time. The SDK's batch processor never blocks the caller: when its queue is full it drops records, "+
				"which is what the first row's shortfall is; `Shutdown` flushed what was queued in %s and %s.",
				o.appCount, o.appErrors, o.appCount, dur(shipped.flush), dur(whole.flush)),
			fmt.Sprintf("(a) posts every ERROR record before the call returns, so each ERROR call takes Slack's %s: %d calls take %s, so it is measured on %d ERROR calls rather than %s calls "+
				"(in a %g%% ERROR mix its INFO calls return at once and one call in %d waits %s).",
				o.appLatency, o.syncCalls, time.Duration(o.syncCalls)*o.appLatency, o.syncCalls, num(float64(o.appCount)), o.appErrors*100, int(math.Round(1/o.appErrors)), o.appLatency),
			"(b) enqueues every record (as the SDK ships every record to the collector); the listener's handler, at level ERROR with `respect_handler_level`, "+
				"posts each ERROR with urllib, one request per record, to the same emulator. "+
				fmt.Sprintf("At %s per post its queue is far from drained when the calls end (%d posts had completed); the script exits without draining it.", o.appLatency, py.PostedByEnd),
			"Percentiles are nearest-rank over every call, as the example app prints them. The runs share one emulator, on separate channels; (a) waits on Slack in the background while the others and item 5 run.",
		)
		return s
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
