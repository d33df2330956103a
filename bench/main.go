// Command bench is the harness behind `make bench` (issue #5, "Measure it").
//
// It measures the slack exporter against the alternatives, every
// comparison within one run on one machine, and writes docs/BENCHMARKS.md:
//
//   - go: the pre-queue filter (internal/selection) beside contrib's
//     filterprocessor (bench/filterprocessor, its own module), and rendering
//     one full message (internal/render), as Go benchmarks;
//   - app: the example app's log call (log/slog → OTel SDK → collector) while
//     Slack takes 5 s per call, beside a slog handler that posts in the log
//     call and Python's QueueHandler + QueueListener (bench/queuehandler.py);
//   - quiet: the collector's CPU per million records, ending in the slack
//     exporter and in the nop exporter, fed by telemetrygen at 99:1 INFO:ERROR;
//   - storm: 100,000 error records in 10 s to 3 channels held to 1 msg/s,
//     with threads on and off plotted over time (docs/img/storm-*.svg);
//   - calm: one error a second, from the log call to Slack.
//
// It needs bin/otelcol-slack, bin/slackemu and bin/slogapp (make build),
// telemetrygen (make bench installs it, pinned) and python3. Everything
// listens on 127.0.0.1; every loop is bounded in count and time.
//
//	bench -root . -out docs/BENCHMARKS.md      # everything (make bench)
//	bench -only storm                          # one item, printed to stdout
//	bench -only storm -plots docs/img          # and its plots written, linked from docs/
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type options struct {
	root, out, only, work string
	plots                 string // directory for the storm's plots (SVG)
	telemetrygen, python  string
	keep                  bool

	goCount     int
	goBenchtime string

	appCount   int
	appErrors  float64
	appLatency time.Duration
	syncCalls  int

	slackLatency time.Duration

	quietDuration                   time.Duration
	quietRounds                     int
	quietInfoWorkers, quietInfoRate int
	quietErrWorkers, quietErrRate   int

	stormRecords      int
	stormDuration     time.Duration
	stormFingerprints int
	stormDrainLimit   time.Duration

	calmRecords  int
	calmInterval time.Duration
}

func (o *options) bin(name string) string { return filepath.Join(o.root, "bin", name) }

// items, in the order they run.
var items = []string{"go", "app", "calm", "quiet", "storm"}

func main() {
	var o options
	flag.StringVar(&o.root, "root", ".", "the repository root (bin/, bench/, internal/)")
	flag.StringVar(&o.out, "out", "", "write the results page here (default: stdout)")
	flag.StringVar(&o.only, "only", "", "run only these items, comma-separated: "+strings.Join(items, ","))
	flag.StringVar(&o.work, "work", "", "directory for logs (default: a new temporary one, removed on success)")
	flag.BoolVar(&o.keep, "keep", false, "keep the log directory")
	flag.StringVar(&o.plots, "plots", "", "write the storm's plots (SVG) here (default: img/ beside -out; none when printing)")
	flag.StringVar(&o.telemetrygen, "telemetrygen", ".tools/bin/telemetrygen", "telemetrygen binary (relative to -root)")
	flag.StringVar(&o.python, "python", "python3", "Python 3 interpreter")

	flag.IntVar(&o.goCount, "go-count", 5, "rounds of the Go benchmarks (medians are reported)")
	flag.StringVar(&o.goBenchtime, "go-benchtime", "500ms", "-test.benchtime of each Go benchmark")

	flag.IntVar(&o.appCount, "app-count", 100_000, "log calls of the example app and of the Python app")
	flag.Float64Var(&o.appErrors, "app-errors", 0.01, "fraction of those calls that are ERROR")
	flag.DurationVar(&o.appLatency, "app-latency", 5*time.Second, "Slack's answer time for the app item")
	flag.IntVar(&o.syncCalls, "sync-calls", 20, "ERROR calls of the slog handler that posts synchronously")

	flag.DurationVar(&o.slackLatency, "slack-latency", 100*time.Millisecond, "Slack's answer time for quiet, storm and calm")

	flag.DurationVar(&o.quietDuration, "quiet-duration", 15*time.Second, "telemetrygen run per collector in the quiet item")
	flag.IntVar(&o.quietRounds, "quiet-rounds", 3, "rounds of the quiet item (nop and slack side by side)")
	flag.IntVar(&o.quietInfoWorkers, "quiet-info-workers", 30, "telemetrygen INFO workers")
	flag.IntVar(&o.quietInfoRate, "quiet-info-rate", 1000, "INFO records per second per worker")
	flag.IntVar(&o.quietErrWorkers, "quiet-error-workers", 3, "telemetrygen ERROR workers")
	flag.IntVar(&o.quietErrRate, "quiet-error-rate", 100, "ERROR records per second per worker")

	flag.IntVar(&o.stormRecords, "storm-records", 100_000, "error records in the storm")
	flag.DurationVar(&o.stormDuration, "storm-duration", 10*time.Second, "how long the storm lasts")
	flag.IntVar(&o.stormFingerprints, "storm-fingerprints", 1000, "distinct fingerprints in the storm")
	flag.DurationVar(&o.stormDrainLimit, "storm-drain-limit", 150*time.Second, "give up waiting for Slack to show every storm record after this")

	flag.IntVar(&o.calmRecords, "calm-records", 60, "error records in the calm item")
	flag.DurationVar(&o.calmInterval, "calm-interval", time.Second, "between two calm records")
	flag.Parse()

	if err := run(&o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o *options) error {
	var err error
	if o.root, err = filepath.Abs(o.root); err != nil {
		return err
	}
	if o.plots == "" && o.out != "" {
		o.plots = filepath.Join(filepath.Dir(o.out), "img")
	}
	if !filepath.IsAbs(o.telemetrygen) {
		o.telemetrygen = filepath.Join(o.root, o.telemetrygen)
	}
	selected := map[string]bool{}
	for _, it := range strings.Split(o.only, ",") {
		if it = strings.TrimSpace(it); it != "" {
			selected[it] = true
		}
	}
	for it := range selected {
		if !contains(items, it) {
			return fmt.Errorf("-only %s: unknown item (have %s)", it, strings.Join(items, ","))
		}
	}
	want := func(it string) bool { return len(selected) == 0 || selected[it] }
	for _, b := range []string{"otelcol-slack", "slackemu", "slogapp"} {
		if _, err := os.Stat(o.bin(b)); err != nil {
			return fmt.Errorf("%s is missing: run make build first", o.bin(b))
		}
	}
	if o.work == "" {
		if o.work, err = os.MkdirTemp("", "slack-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(o.work, 0o755); err != nil {
		return err
	}

	// Stop what we started on Ctrl-C or SIGTERM, and on the way out.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "bench: interrupted; stopping the processes it started")
		stopAll()
		os.Exit(130)
	}()
	defer stopAll()

	began := time.Now()
	page := &report{machine: describeMachine(o), began: began, command: "make bench"}
	if o.only != "" {
		page.command = "make bench BENCH_ONLY=" + o.only
	}
	logf("logs in %s", o.work)
	ctx := context.Background()
	runItem := func(name string, f func() []section) {
		if !want(name) {
			return
		}
		t := time.Now()
		logf("== %s", name)
		for _, s := range f() {
			if s.took == 0 {
				s.took = time.Since(t)
			}
			if s.err != nil {
				logf("%s: %v", name, s.err)
			}
			page.sections = append(page.sections, s)
		}
	}

	runItem("go", func() []section { return runGoBench(ctx, o) })
	// The synchronous handler waits 5 s per call: it keeps waiting in the
	// background (it uses no CPU) while calm runs.
	var finishApp func() section
	if want("app") {
		logf("== app")
		finishApp = startApp(ctx, o)
	}
	runItem("calm", func() []section { return runCalm(ctx, o) })
	if finishApp != nil {
		s := finishApp()
		if s.err != nil {
			logf("app: %v", s.err)
		}
		page.sections = append(page.sections, s)
	}
	runItem("quiet", func() []section { return runQuiet(ctx, o) })
	runItem("storm", func() []section { return runStorm(ctx, o) })
	page.took = time.Since(began)
	page.ended = describeLoad()

	failed := 0
	for _, s := range page.sections {
		if s.err != nil {
			failed++
		}
	}
	text := page.markdown(o)
	if o.out == "" {
		fmt.Print(text)
	} else {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
			return err
		}
		logf("wrote %s (%s)", o.out, page.took.Round(time.Second))
	}
	if failed > 0 || o.keep {
		logf("logs kept in %s", o.work)
	} else {
		stopAll()
		_ = os.RemoveAll(o.work)
	}
	if failed > 0 {
		return fmt.Errorf("%d item(s) could not be measured; see the page and %s", failed, o.work)
	}
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
