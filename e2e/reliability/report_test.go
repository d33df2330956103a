package reliability

// The report: every scenario adds a row (its figures and whether it
// passed); with RELIABILITY_DOC set, TestMain writes them as markdown after
// the run. `make reliability` points it at docs/RELIABILITY.md.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// row is one scenario run's line in the report.
type row struct {
	Scenario string
	Mode     string // token, webhook, or ""
	// Sent, Delivered, Duplicated, Lost are record counts; -1 where the
	// scenario counts no records.
	Sent, Delivered, Duplicated, Lost int
	RSSKiB                            int64
	Notes                             string
	Pass                              bool
	Command                           string
	order                             int
	elapsed                           time.Duration
}

var (
	reportMu sync.Mutex
	rows     []*row
)

// report registers the running test's row; it is filed when the test ends,
// passed or not.
func report(t *testing.T, order int, scenario, mode string) *row {
	t.Helper()
	r := &row{Scenario: scenario, Mode: mode, Sent: -1, Delivered: -1, Duplicated: -1, Lost: -1, order: order, Command: reproduce(t.Name())}
	start := time.Now()
	t.Cleanup(func() {
		r.Pass = !t.Failed()
		r.elapsed = time.Since(start)
		reportMu.Lock()
		defer reportMu.Unlock()
		rows = append(rows, r)
	})
	return r
}

// set records a tally's figures.
func (r *row) set(tl tally) {
	r.Sent, r.Delivered, r.Duplicated, r.Lost = tl.Sent, tl.Delivered, tl.Duplicated, tl.Lost
}

func (r *row) note(format string, args ...any) {
	if r.Notes != "" {
		r.Notes += "; "
	}
	r.Notes += fmt.Sprintf(format, args...)
}

// reproduce is the command that runs one test (from the repository root,
// after `make build`) with the window of this run.
func reproduce(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return fmt.Sprintf("RELIABILITY_WINDOW=%s go -C e2e test -count=1 -run '%s' ./reliability", window, strings.Join(parts, "/"))
}

func TestMain(m *testing.M) {
	start := time.Now()
	code := m.Run()
	if path := os.Getenv("RELIABILITY_DOC"); path != "" {
		if err := writeReport(path, time.Since(start)); err != nil {
			fmt.Fprintln(os.Stderr, "writing the reliability report:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

func writeReport(path string, took time.Duration) error {
	reportMu.Lock()
	defer reportMu.Unlock()
	slices.SortStableFunc(rows, func(a, b *row) int {
		if a.order != b.order {
			return a.order - b.order
		}
		return strings.Compare(a.Mode, b.Mode)
	})
	var b strings.Builder
	fmt.Fprintf(&b, "# Reliability\n\n")
	fmt.Fprintf(&b, "Measured by `make reliability` (issue #4): each scenario runs the built `bin/otelcol-slack` against\n")
	fmt.Fprintf(&b, "the Slack emulator `bin/slackemu` on loopback, injects its fault, sends ERROR records through the\n")
	fmt.Fprintf(&b, "OpenTelemetry Go SDK, and counts by record id what Slack received. Outage and hang windows: **%s**.\n", window)
	fmt.Fprintf(&b, "The scenarios are the tests in `e2e/reliability/`; `make test` runs them with 5 s windows.\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Machine: %s\n", machine())
	fmt.Fprintf(&b, "- Go: %s\n", runtime.Version())
	if rev := gitRevision(); rev != "" {
		fmt.Fprintf(&b, "- Source: %s\n", rev)
	}
	fmt.Fprintf(&b, "- Scenario run time: %s\n\n", took.Round(time.Second))

	fmt.Fprintf(&b, "Sent: records the application emitted. Delivered: records shown in at least one Slack message.\n")
	fmt.Fprintf(&b, "Duplicated: extra messages showing a record already shown. Lost: sent and never shown (for the\n")
	fmt.Fprintf(&b, "permanent-error and overflow rows, the notes say which losses are the expected, counted drops).\n")
	fmt.Fprintf(&b, "Max RSS: the collector's peak resident memory (VmHWM), over all its runs in the scenario.\n\n")
	fmt.Fprintf(&b, "| scenario | mode | sent | delivered | duplicated | lost | max RSS | result | notes | reproduce |\n")
	fmt.Fprintf(&b, "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |\n")
	num := func(n int) string {
		if n < 0 {
			return "—"
		}
		return strconv.Itoa(n)
	}
	if r := fuzzRow(); r != nil {
		rows = append(rows, r)
	}
	if r := soakRow(); r != nil {
		rows = append(rows, r)
	}
	if len(secretChecks) > 0 {
		// Scenario 9 is checked inside scenarios 1–5, once per mode.
		sec := &row{Scenario: "9. Secrets in logs, errors, metrics", order: 9, Sent: -1, Delivered: -1, Duplicated: -1, Lost: -1, Pass: true,
			Command: fmt.Sprintf("RELIABILITY_WINDOW=%s go -C e2e test -count=1 -run '^Test(Outage|Hang|Throttle|PermanentError|Crash)$' ./reliability", window)}
		var lines, bytes, leaks int
		tests := map[string]bool{}
		for _, c := range secretChecks {
			lines, bytes, leaks = lines+c.lines, bytes+c.bytes, leaks+c.leaks
			tests[c.test] = true
		}
		sec.Pass = leaks == 0
		sec.note("%d collector runs (scenarios 1–5 with a token and with webhooks, and 7): %d lines / %.1f MB of collector log, errors and metrics (and the file_storage files after the crash) searched for the token and the webhook secrets; %d found",
			len(tests), lines, float64(bytes)/1e6, leaks)
		rows = append(rows, sec)
	}
	slices.SortStableFunc(rows, func(a, b *row) int { return a.order - b.order })
	for _, r := range rows {
		rss := "—"
		if r.RSSKiB > 0 {
			rss = fmt.Sprintf("%.1f MiB", float64(r.RSSKiB)/1024)
		}
		result := "pass"
		if !r.Pass {
			result = "**FAIL**"
		}
		mode := r.Mode
		if mode == "" {
			mode = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | `%s` |\n", r.Scenario, mode,
			num(r.Sent), num(r.Delivered), num(r.Duplicated), num(r.Lost), rss, result,
			cell(r.Notes), cell(r.Command))
	}
	b.WriteString(assertionsText)
	b.WriteString(fuzzText)
	b.WriteString(soakText)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// cell makes s safe inside a markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// fuzzProgress is the fuzzer's progress line:
// "fuzz: elapsed: 1m0s, execs: 20957 (24/sec), new interesting: 152 (total: 376)".
var fuzzProgress = regexp.MustCompile(`elapsed: (\S+), execs: (\d+) \(\d+/sec\), new interesting: (\d+) \(total: (\d+)\)`)

// fuzzRow summarises the fuzz run's output (RELIABILITY_FUZZ_LOG), or is
// nil when there was none.
func fuzzRow() *row {
	path := os.Getenv("RELIABILITY_FUZZ_LOG")
	if path == "" {
		return nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var last, result string
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.Contains(line, "fuzz: elapsed:") {
			last = line
		}
		if strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL") {
			result = line
		}
	}
	r := &row{Scenario: "8. Bad input: fuzzed render path", order: 8, Sent: -1, Delivered: -1, Duplicated: -1, Lost: -1,
		Pass:    strings.HasPrefix(result, "ok "),
		Command: os.Getenv("RELIABILITY_FUZZ_CMD")}
	if r.Command == "" {
		r.Command = "go test -run '^$' -fuzz=FuzzMessages -fuzztime=60s -fuzzminimizetime=5s ./internal/render"
	}
	if m := fuzzProgress.FindStringSubmatch(last); m != nil {
		execs, _ := strconv.Atoi(m[2])
		if d, err := time.ParseDuration(m[1]); err == nil && d > 0 {
			r.note("%d inputs in %s (%.0f/s on average), %s new interesting (corpus and cache: %s); no failure", execs, m[1], float64(execs)/d.Seconds(), m[3], m[4])
		}
	} else if last != "" {
		r.note("%s", last)
	}
	if !r.Pass {
		r.note("result: %s", result)
	}
	return r
}

// soakSummary is TestDeliveryInvariants' last line:
// "81 runs in 8m1.586s, 65939 checks, 0 failed runs".
var soakSummary = regexp.MustCompile(`(\d+) runs in (\S+), (\d+) checks, (\d+) failed runs`)

// soakRow summarises the invariant soak's output (RELIABILITY_SOAK_LOG), or
// is nil when there was none.
func soakRow() *row {
	path := os.Getenv("RELIABILITY_SOAK_LOG")
	if path == "" {
		return nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	r := &row{Scenario: "11. Delivery invariants: seeded random runs", order: 11, Sent: -1, Delivered: -1, Duplicated: -1, Lost: -1,
		Command: os.Getenv("RELIABILITY_SOAK_CMD")}
	var failed []string
	var summary []string
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := soakSummary.FindStringSubmatch(line); m != nil {
			summary = m
		}
		if seed, ok := strings.CutPrefix(line, "--- FAIL: TestDeliveryInvariants/"); ok {
			failed = append(failed, strings.Fields(seed)[0])
		}
		if strings.HasPrefix(line, "ok ") {
			r.Pass = true
		}
	}
	if summary == nil {
		r.note("no summary in the soak's output")
		return r
	}
	r.note("%s runs in %s, each a random configuration and script of 8–20 steps; %s checks of the six promises; %s failed runs",
		summary[1], summary[2], summary[3], summary[4])
	if len(failed) > 0 {
		r.note("failed: %s", strings.Join(failed, ", "))
	}
	return r
}

// assertionsText says what each row's "pass" means.
const assertionsText = `
## What each scenario asserts

Scenarios 1–6 send records with unique ids to two destinations (the default one and a route); 1–3, 5
and 6 pass only if every record is shown in exactly one Slack message: none lost, none folded, none twice.

1. **Outage**: every call during the window is answered 503; afterwards all records arrive once, and the
   503s are counted (` + "`otelcol_exporter_slack_api_errors`" + `).
2. **Hang**: the emulator holds every call for the window. Each call is cut by ` + "`timeout`" + ` (the first about one
   timeout after the hang begins, then never more than timeout + max backoff apart; ` + "`api_errors{error=\"timeout\"}`" + `
   counted); no OTLP export from the application takes more than 2 s; all records arrive once afterwards.
3. **Throttle**: one 429 with Retry-After: 5 on the default destination; its next call comes no sooner than
   5 s later (from the emulator's call log), every record for the other destination arrives within 2.5 s of
   being sent, all records once.
4. **Permanent error**: the route's destination answers channel_not_found. The other destination gets all
   its records once; the refused one is called once per refused message and never again (3 s watched);
   ` + "`api_errors{error=\"channel_not_found\"}`" + ` equals the calls; exactly one log line per refused call, whose record
   counts add up to the refused records; the drop counted once (exporterhelper's send_failed plus the
   exporter's records_dropped equal the refused records).
5. **Crash**: sending_queue on file_storage; records sent during a 503 outage; kill -9, restart, more
   records, Slack recovers: all records once. The queue's files are searched for secrets too.
6. **Shutdown**: one consumer, Slack answering after 1 s; SIGTERM with records queued: the collector exits
   with status 0 within 30 s, and every record is in Slack when it has exited.
7. **Overflow**: a 200-record queue, Slack hanging, the application's SDK not retrying. The collector stays
   up; its peak memory grows less than 64 MiB; Slack shows every accepted record once; records shown plus
   exporterhelper's ` + "`otelcol_exporter_enqueue_failed_log_records`" + ` equal the records sent (and the refused count
   equals what the application saw fail).
9. **Secrets**: after scenarios 1–5 (both modes) and 7, the collector's whole log (errors included) and its
   metrics hold neither the bot token nor any webhook secret.
10. **Config abuse**: malformed YAML, wrong types, unknown keys, invalid values and OTTL that does not parse
    are refused by ` + "`otelcol-slack validate`" + ` (or at start) with exit status 1 and a message naming the problem,
    no panic, no secret; a plain-http api_url outside loopback starts with a warning naming api_url; an OTTL
    route condition that fails at runtime (ParseJSON of a non-JSON body) is logged and the record goes to the
    default channel. Unit tests in config_abuse_test.go cover the same at the config level.
`

const soakText = `
## 11. Delivery invariants

` + "`TestDeliveryInvariants` (invariants_test.go, invariants_check_test.go)" + ` drives the exporter's real push
path, limiters, live messages and storage against the emulator through seeded random runs: a random
configuration (token or webhooks, threads, mentions, rate and burst, grouping, templates, routes to 1–4
channels and webhooks, storage), then 8–20 random steps: concurrent pushes of 1–200 records in 1–60
fingerprints (long, hostile and attribute-heavy bodies), faults (429 with Retry-After, ` + "`ratelimited`" + `, 503,
hangs, late answers, dropped connections, ` + "`channel_not_found`" + `, ` + "`message_not_found`" + ` on updates,
` + "`msg_too_long`" + `), clock jumps past quiet_after and window, quiet marks, restarts. Records handed back are pushed
again, as the queue would. After each run it checks: (1) every accepted record is shown once in Slack's final
state or counted in records_dropped, and records_delivered equals what Slack shows; (2) Slack refused no call
by its own rules and never acted on a call the exporter had given up on; (3) mentions only in top-level
messages of a channel that configures them, never from a record; (4) posts within burst + rate × time, nothing
inside a Retry-After, no burst after it; (5) live counts never go down, a line whose count grew is not quiet,
one live message per fingerprint, quiet marks only after quiet_after; (6) shutdown within timeout + 1 s.
` + "`make test`" + ` runs it for about 30 s; ` + "`make soak SOAK=10m`" + ` and ` + "`make reliability`" + ` run it longer.

Defects it found, each fixed with a regression test: a post already waiting for its slot when a 429 arrived
went out inside the Retry-After; a webhook answering ` + "`ratelimited`" + ` with a status other than 429 had its records
dropped as refused for good; sample replies were never sent once a slot had to be free at once; a push that
looked a fingerprint up just before a newer message took it over went on counting it in the old one. It also
found two places where the emulator was kinder or harsher than Slack: a hung call released at the moment its
client gave up was acted on (a hung call is never acted on now), and a strict rate needed more than a fixed
drain time.
`

const fuzzText = `
## 8. Bad input

` + "`FuzzMessages` (internal/render/fuzz_test.go)" + ` builds log records from fuzzed bodies and attributes
(strings with invalid UTF-8, control characters, Slack markup, backticks; bytes; maps; slices; deep
nesting; strings up to 10 MB), groups and renders them as the exporter does, and checks every message
against every Slack limit and for a raw ` + "`<` or `>`" + ` (without them no mention or link can come from record
content). Its seed corpus (internal/render/testdata/fuzz/FuzzMessages) runs in every ` + "`go test`" + `.
`

// machine describes this computer: CPU model and count, memory, kernel.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d CPUs%s%s, %s/%s", cpu, runtime.NumCPU(), mem, kernel, runtime.GOOS, runtime.GOARCH)
}

// gitRevision names the commit checked out (read-only: rev-parse takes no
// lock); the binaries may also hold uncommitted changes.
func gitRevision() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return "commit " + strings.TrimSpace(string(out)) + " (and the working tree at the time of the run)"
}
