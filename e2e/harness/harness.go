// Package harness runs the e2e tests' processes: the Slack emulator
// (bin/slackemu) and the collector (bin/otelcol-slack) on loopback ports. It
// sends them logs through the OpenTelemetry Go SDK and reads back what Slack
// received and what the collector counted and logged.
//
// It is a plain package, not a _test file, so that every e2e test package
// (e2e, e2e/reliability, …) can import it.
package harness

// The harness: start the Slack emulator and the collector as processes on
// loopback ports, send them logs through the OpenTelemetry Go SDK, and read
// back what Slack received and what the collector counted and logged.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

const (
	// DefaultToken is the bot token the emulator accepts unless started with -token.
	DefaultToken = "xoxb-emulator-token"
	// DefaultWebhookPath is the webhook Emulator.Env hands out as SLACK_WEBHOOK_URL.
	// The emulator counts and filters it as destination "webhook/T0E2E/B0E2E".
	DefaultWebhookPath = "T0E2E/B0E2E/e2e-webhook-secret"

	startTimeout = 60 * time.Second
	stopTimeout  = 15 * time.Second
)

// ---------------------------------------------------------------------------
// Processes

// binary finds a built binary: $env, else bin/<name> in the nearest
// directory at or above the working directory that has one (the repository
// root, for any test package under e2e/). A missing binary fails the test:
// `make test` builds them first.
func binary(t testing.TB, env, name string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = findUp(filepath.Join("bin", name))
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
		t.Fatalf("%s is missing: run `make build` first (or set %s to the binary's path)", abs, env)
	}
	return abs
}

// collectorBinary is binary for bin/otelcol-slack, refused if it is older
// than a source of the exporter it is built from: it would test old code.
// `make test` builds it first, so refusing is enough.
func collectorBinary(t testing.TB) string {
	t.Helper()
	bin := binary(t, "OTELCOL_BIN", "otelcol-slack")
	root := filepath.Dir(findUp("builder-config.yaml"))
	if err := olderThanSources(bin, root); err != nil {
		t.Fatal(err)
	}
	return bin
}

// olderThanSources returns an error naming the newest of the exporter's
// sources under root if bin was built before it changed. The sources are
// what the Makefile rebuilds the collector for (a subset of them, so that
// `make build` always makes the binary newer than every one): go.mod,
// go.sum, builder-config.yaml, and the non-test .go files of the module
// root's package, of internal/ and of processor/.
func olderThanSources(bin, root string) error {
	fi, err := os.Stat(bin)
	if err != nil {
		return err
	}
	built := fi.ModTime()
	var newest string
	var newestAt time.Time
	consider := func(path string, at time.Time) {
		if at.After(built) && at.After(newestAt) {
			newest, newestAt = path, at
		}
	}
	for _, name := range []string{"go.mod", "go.sum", "builder-config.yaml"} {
		fi, err := os.Stat(filepath.Join(root, name))
		if err != nil {
			return fmt.Errorf("%s is not the exporter's source tree: %w", root, err)
		}
		consider(name, fi.ModTime())
	}
	isSource := func(name string) bool {
		return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
	}
	top, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, e := range top {
		if e.Type().IsRegular() && isSource(e.Name()) {
			fi, err := e.Info()
			if err != nil {
				return err
			}
			consider(e.Name(), fi.ModTime())
		}
	}
	for _, sub := range []string{"internal", "processor"} {
		dir := filepath.Join(root, sub)
		if _, err := os.Stat(dir); err != nil && sub != "internal" {
			continue // an older tree without processors
		}
		err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || !isSource(d.Name()) {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			consider(rel, fi.ModTime())
			return nil
		})
		if err != nil {
			return err
		}
	}
	if newest != "" {
		return fmt.Errorf("%s was built at %s, before %s changed (%s): it would test old code; run `make build` (make test does)",
			bin, built.Format(time.DateTime), newest, newestAt.Format(time.DateTime))
	}
	return nil
}

// RepoRoot is the repository's root: the nearest directory at or above the
// working directory that holds builder-config.yaml.
func RepoRoot(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs(findUp("builder-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the repository root (with builder-config.yaml) is not at or above the working directory: %v", err)
	}
	return filepath.Dir(p)
}

// findUp returns rel under the nearest of the working directory and its
// parents (at most 6 levels) where it exists, else rel under the parent of
// the working directory (where it would be for package e2e).
func findUp(rel string) string {
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", rel)
	}
	for range 6 {
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			return filepath.Join(dir, rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return filepath.Join("..", rel)
}

// output collects a process's stdout and stderr.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid once done is closed
}

func startProcess(t testing.TB, bin string, args, env []string, out io.Writer) *process {
	t.Helper()
	return startProcessIn(t, "", bin, args, env, out)
}

// startProcessIn is startProcess with the working directory dir ("" for
// the test's own).
func startProcessIn(t testing.TB, dir, bin string, args, env []string, out io.Writer) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, and SIGKILL if the process has not exited after grace.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[… %d earlier lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// FreePort returns a loopback TCP port nobody listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Eventually polls cond every 100ms until it returns nil, and fails the test with
// cond's last error if that has not happened within timeout.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still not true after %v: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// The Slack emulator

// Emulator is a running bin/slackemu.
type Emulator struct {
	URL   string // http://127.0.0.1:PORT
	Token string // the bot token it accepts

	proc   *process
	out    *output
	client *http.Client
}

// StartEmulator starts bin/slackemu on a free loopback port with extra flags
// (e.g. "-latency", "2s", "-rate", "1") and stops it when the test ends.
func StartEmulator(t testing.TB, flags ...string) *Emulator {
	t.Helper()
	bin := binary(t, "SLACKEMU_BIN", "slackemu")
	addrFile := filepath.Join(t.TempDir(), "slackemu.addr")
	args := append([]string{"-addr", "127.0.0.1:0", "-addr-file", addrFile}, flags...)
	e := &Emulator{
		Token:  flagValue(flags, "token", DefaultToken),
		out:    &output{},
		client: &http.Client{Timeout: 10 * time.Second},
	}
	e.proc = startProcess(t, bin, args, os.Environ(), e.out)
	t.Cleanup(func() {
		e.proc.stop(5 * time.Second)
		if t.Failed() {
			t.Logf("slackemu output (tail):\n%s", Tail(e.out.String(), 30))
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		if e.proc.exited() {
			t.Fatalf("slackemu exited at start (%v):\n%s", e.proc.err, Tail(e.out.String(), 30))
		}
		if b, err := os.ReadFile(addrFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			e.URL = "http://" + strings.TrimSpace(string(b))
			if resp, err := e.client.Get(e.URL + "/_emu/health"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return e
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("slackemu not healthy after %v:\n%s", startTimeout, Tail(e.out.String(), 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// flagValue finds -name value / -name=value (or --name) in flags.
func flagValue(flags []string, name, def string) string {
	for i, f := range flags {
		f = strings.TrimLeft(f, "-")
		if f == name && i+1 < len(flags) {
			return flags[i+1]
		}
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v
		}
	}
	return def
}

// APIURL is the Web API base URL, with the trailing slash api_url wants.
func (e *Emulator) APIURL() string { return e.URL + "/api/" }

// WebhookURL is the incoming webhook at path ("T1/B1/secret"); the emulator
// names its destination "webhook/T1/B1".
func (e *Emulator) WebhookURL(path string) string { return e.URL + "/services/" + path }

// Env is the environment that points a collector at this emulator:
// SLACK_BOT_TOKEN, SLACK_API_URL and SLACK_WEBHOOK_URL (DefaultWebhookPath).
func (e *Emulator) Env() []string {
	return []string{
		"SLACK_BOT_TOKEN=" + e.Token,
		"SLACK_API_URL=" + e.APIURL(),
		"SLACK_WEBHOOK_URL=" + e.WebhookURL(DefaultWebhookPath),
	}
}

// Output is what the emulator printed (one line per call).
func (e *Emulator) Output() string { return e.out.String() }

// Message is one message the emulator accepted (GET /_emu/messages).
type Message struct {
	Seq        int               `json:"seq"`
	Via        string            `json:"via"`     // "api" or "webhook"
	Channel    string            `json:"channel"` // "#alerts", or "webhook/T/B"
	ChannelID  string            `json:"channel_id"`
	TS         string            `json:"ts"`
	ThreadTS   string            `json:"thread_ts"`
	Text       string            `json:"text"`
	Blocks     json.RawMessage   `json:"blocks"`
	Params     map[string]string `json:"params"` // every other field posted
	Updates    int               `json:"updates"`
	ReceivedAt string            `json:"received_at"` // RFC 3339
	UpdatedAt  string            `json:"updated_at"`  // "" until updated
}

// AllText is the fallback text and every "text" string inside the blocks,
// one per line, exactly as posted (mrkdwn escapes included).
func (m Message) AllText() string {
	parts := []string{m.Text}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			// In key order: map order is random, and callers compare
			// or show the result.
			for _, k := range slices.Sorted(maps.Keys(v)) {
				if s, ok := v[k].(string); ok && k == "text" {
					parts = append(parts, s)
				} else {
					walk(v[k])
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	if len(m.Blocks) > 0 {
		var blocks any
		if json.Unmarshal(m.Blocks, &blocks) == nil {
			walk(blocks)
		}
	}
	return strings.Join(parts, "\n")
}

// Contains reports whether the text or the blocks contain s.
func (m Message) Contains(s string) bool { return strings.Contains(m.AllText(), s) }

// DestStats counts what one destination was asked and answered.
type DestStats struct {
	Requests  int            `json:"requests"`
	Accepted  int            `json:"accepted"`
	Throttled int            `json:"throttled"` // HTTP 429s sent
	Errors    map[string]int `json:"errors"`    // Slack error (or http_NNN, …) → count
}

// Stats is GET /_emu/stats: per destination ("#alerts", "webhook/T/B") and totals.
type Stats struct {
	Destinations map[string]DestStats `json:"destinations"`
	Totals       DestStats            `json:"totals"`
}

// Fault is POST /_emu/faults. Target is "#alerts", "webhook/T/B" or "*"; Mode is
// "status", "error", "ratelimit", "hang", "slow" or "drop". Latency and For are
// Go durations ("2s"); Count limits how many calls it hits.
type Fault struct {
	Target     string `json:"target"`
	Mode       string `json:"mode"`
	Status     int    `json:"status,omitempty"`
	Error      string `json:"error,omitempty"`
	Body       string `json:"body,omitempty"`
	RetryAfter int    `json:"retry_after,omitempty"`
	Latency    string `json:"latency,omitempty"`
	Count      int    `json:"count,omitempty"`
	For        string `json:"for,omitempty"`
}

func (e *Emulator) do(t testing.TB, method, path string, body any, into any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encoding %T: %v", body, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	switch into := into.(type) {
	case nil:
	case *string:
		*into = string(b)
	default:
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
}

// Messages returns the accepted messages in arrival order; channel "" means all,
// else "#alerts", a channel id or "webhook/T/B".
func (e *Emulator) Messages(t testing.TB, channel string) []Message {
	t.Helper()
	path := "/_emu/messages"
	if channel != "" {
		path += "?channel=" + url.QueryEscape(channel)
	}
	var resp struct {
		Messages []Message `json:"messages"`
	}
	e.do(t, http.MethodGet, path, nil, &resp)
	return resp.Messages
}

// MessagesText is the emulator's human-readable rendering of every message.
func (e *Emulator) MessagesText(t testing.TB) string {
	t.Helper()
	var s string
	e.do(t, http.MethodGet, "/_emu/messages?format=text", nil, &s)
	return s
}

// Stats returns the per-destination counters.
func (e *Emulator) Stats(t testing.TB) Stats {
	t.Helper()
	var s Stats
	e.do(t, http.MethodGet, "/_emu/stats", nil, &s)
	return s
}

// SetFault makes the emulator misbehave (replacing any fault on the same target).
func (e *Emulator) SetFault(t testing.TB, f Fault) {
	t.Helper()
	e.do(t, http.MethodPost, "/_emu/faults", f, nil)
}

// SetChannel puts a channel in a state: "missing", "archived", "not_member"
// or "ok" (posts answer channel_not_found, is_archived, not_in_channel).
func (e *Emulator) SetChannel(t testing.TB, channel, state string) {
	t.Helper()
	e.do(t, http.MethodPost, "/_emu/channels", map[string]string{"channel": channel, "state": state}, nil)
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults(t testing.TB) {
	t.Helper()
	e.do(t, http.MethodDelete, "/_emu/faults", nil, nil)
}

// Reset forgets messages, stats and faults.
func (e *Emulator) Reset(t testing.TB) {
	t.Helper()
	e.do(t, http.MethodPost, "/_emu/reset", nil, nil)
}

// WaitForMessages waits until channel ("" for all) holds at least n messages
// and returns them.
func (e *Emulator) WaitForMessages(t testing.TB, channel string, n int, timeout time.Duration) []Message {
	t.Helper()
	var msgs []Message
	Eventually(t, timeout, func() error {
		msgs = e.Messages(t, channel)
		if len(msgs) < n {
			return fmt.Errorf("want %d messages in %q, have %d", n, channel, len(msgs))
		}
		return nil
	})
	return msgs
}

// WaitQuiet waits until nothing has changed in the emulator's messages (new
// ones or updates) for quiet, and returns them. Use it before asserting that
// something did NOT arrive: quiet should exceed the exporter's flush interval.
func (e *Emulator) WaitQuiet(t testing.TB, quiet, timeout time.Duration) []Message {
	t.Helper()
	var last string
	var msgs []Message
	since := time.Now()
	Eventually(t, timeout, func() error {
		msgs = e.Messages(t, "")
		b, _ := json.Marshal(msgs)
		if string(b) != last {
			last, since = string(b), time.Now()
		}
		if d := time.Since(since); d < quiet {
			return fmt.Errorf("messages still changing %v ago (have %d)", d.Round(time.Millisecond), len(msgs))
		}
		return nil
	})
	return msgs
}

// ---------------------------------------------------------------------------
// The collector

// Collector is a running bin/otelcol-slack.
type Collector struct {
	OTLPHTTP   string // host:port of the OTLP/HTTP receiver
	OTLPGRPC   string // host:port of the OTLP/gRPC receiver
	MetricsURL string // the Prometheus endpoint of the collector's own metrics
	StorageDir string // a per-test directory for file_storage
	ConfigPath string

	bin  string
	dir  string // working directory; "" for the test's own
	env  []string
	out  *output
	proc *process
	// peakRSS is the largest VmHWM (KiB) seen across this collector's runs.
	peakRSS atomic.Int64
}

// StartCollector writes config to a temporary file and runs bin/otelcol-slack
// with it, waiting until it is ready. Besides env ("KEY=value", e.g. from
// Emulator.Env), the config can use these variables:
//
//	${env:OTLP_HTTP_ENDPOINT}  ${env:OTLP_GRPC_ENDPOINT}  free loopback host:port
//	${env:METRICS_PORT}        free loopback port for service.telemetry.metrics
//	${env:STORAGE_DIR}         an empty directory for the file_storage extension
//
// SlackConfig builds a complete config from the exporter's settings alone.
// The collector is stopped when the test ends; if the test failed, the tail
// of its log is printed.
func StartCollector(t testing.TB, config string, env ...string) *Collector {
	t.Helper()
	return StartCollectorBinary(t, collectorBinary(t), config, env...)
}

// StartCollectorBinary is StartCollector for another collector binary than
// bin/otelcol-slack (one a test built itself, e.g. with ocb from the
// README's manifest). bin must hold the otlp receiver and the slack exporter.
func StartCollectorBinary(t testing.TB, bin, config string, env ...string) *Collector {
	t.Helper()
	dir := t.TempDir()
	c := &Collector{
		StorageDir: filepath.Join(dir, "storage"),
		ConfigPath: filepath.Join(dir, "config.yaml"),
		bin:        bin,
		out:        &output{},
	}
	if err := os.MkdirAll(c.StorageDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.ConfigPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.proc != nil {
			c.proc.stop(stopTimeout)
		}
		if t.Failed() {
			t.Logf("collector log (tail):\n%s", Tail(c.Logs(), 60))
		}
	})
	// A free port can be taken by another test's process between FreePort
	// and the collector's listen: then the collector starts again on others.
	for attempt := 1; ; attempt++ {
		c.OTLPHTTP = fmt.Sprintf("127.0.0.1:%d", FreePort(t))
		c.OTLPGRPC = fmt.Sprintf("127.0.0.1:%d", FreePort(t))
		metricsPort := FreePort(t)
		c.MetricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
		c.env = append(os.Environ(),
			"OTLP_HTTP_ENDPOINT="+c.OTLPHTTP,
			"OTLP_GRPC_ENDPOINT="+c.OTLPGRPC,
			"METRICS_PORT="+strconv.Itoa(metricsPort),
			"STORAGE_DIR="+c.StorageDir,
		)
		c.env = append(c.env, env...)
		from := len(c.out.String())
		err := c.tryStart(t)
		if err == nil {
			return c
		}
		if attempt < 3 && strings.Contains(c.Logs()[from:], "address already in use") {
			continue
		}
		t.Fatalf("%v", err)
	}
}

// StartCollectorFile runs bin/otelcol-slack with an existing config file
// (path relative to dir, or absolute) in the working directory dir, as a
// user would run an example: `bin/otelcol-slack --config FILE` from the
// repository root. It sets these variables besides env:
//
//	OTLP_HTTP_PORT  OTLP_GRPC_PORT  METRICS_PORT   free loopback ports
//
// If receivesOTLP, it waits until the OTLP/HTTP port answers too (an
// agent); otherwise only for the collector's "Everything is ready". The
// collector is stopped when the test ends (SIGKILL after 15s, so a failed
// test never leaves it behind); if the test failed, the tail of its log is
// printed.
func StartCollectorFile(t testing.TB, dir, path string, receivesOTLP bool, env ...string) *Collector {
	t.Helper()
	httpPort, grpcPort, metricsPort := FreePort(t), FreePort(t), FreePort(t)
	c := &Collector{
		OTLPGRPC:   fmt.Sprintf("127.0.0.1:%d", grpcPort),
		MetricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort),
		ConfigPath: path,
		bin:        collectorBinary(t),
		dir:        dir,
		out:        &output{},
	}
	if receivesOTLP {
		c.OTLPHTTP = fmt.Sprintf("127.0.0.1:%d", httpPort)
	}
	c.env = append(os.Environ(),
		"OTLP_HTTP_PORT="+strconv.Itoa(httpPort),
		"OTLP_GRPC_PORT="+strconv.Itoa(grpcPort),
		"METRICS_PORT="+strconv.Itoa(metricsPort),
	)
	c.env = append(c.env, env...)
	t.Cleanup(func() {
		if c.proc != nil {
			c.proc.stop(stopTimeout)
		}
		if t.Failed() {
			t.Logf("collector %s log (tail):\n%s", path, Tail(c.Logs(), 60))
		}
	})
	c.start(t)
	return c
}

func (c *Collector) start(t testing.TB) {
	t.Helper()
	if err := c.tryStart(t); err != nil {
		t.Fatalf("%v", err)
	}
}

// tryStart is start, returning an error when the collector exits at start.
func (c *Collector) tryStart(t testing.TB) error {
	t.Helper()
	// "Everything is ready" may already be in the log from an earlier run.
	from := len(c.out.String())
	c.proc = startProcessIn(t, c.dir, c.bin, []string{"--config", c.ConfigPath}, c.env, c.out)
	go c.sampleRSS(c.proc)
	deadline := time.Now().Add(startTimeout)
	for {
		if c.proc.exited() {
			return fmt.Errorf("the collector exited at start (%w):\n%s", c.proc.err, Tail(c.Logs(), 40))
		}
		if strings.Contains(c.Logs()[from:], "Everything is ready") {
			if c.OTLPHTTP == "" {
				return nil
			}
			if conn, err := net.DialTimeout("tcp", c.OTLPHTTP, time.Second); err == nil {
				conn.Close()
				return nil
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the collector was not ready after %v:\n%s", startTimeout, Tail(c.Logs(), 40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Logs is everything the collector wrote to stdout and stderr so far, across restarts.
func (c *Collector) Logs() string { return c.out.String() }

// Stop shuts the collector down gracefully (SIGTERM), SIGKILL after 15s.
func (c *Collector) Stop(t testing.TB) {
	t.Helper()
	c.recordRSS(c.proc)
	c.proc.stop(stopTimeout)
}

// Kill ends the collector at once (SIGKILL), as a crash would.
func (c *Collector) Kill(t testing.TB) {
	t.Helper()
	c.recordRSS(c.proc)
	c.proc.kill()
}

// Restart starts the collector again (stopping it first if it runs) with the
// same config, environment, ports and storage directory.
func (c *Collector) Restart(t testing.TB) {
	t.Helper()
	c.recordRSS(c.proc)
	c.proc.stop(stopTimeout)
	c.start(t)
}

// MetricsText is the collector's own metrics in the Prometheus text format.
func (c *Collector) MetricsText(t testing.TB) string {
	t.Helper()
	resp, err := http.Get(c.MetricsURL)
	if err != nil {
		t.Fatalf("scraping %s: %v", c.MetricsURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scraping %s: %s %v", c.MetricsURL, resp.Status, err)
	}
	return string(b)
}

// Counter scrapes the collector's metrics and returns the sum of the series
// called name (or name_total) whose labels include every matcher, each given
// as `key=value` (e.g. "error=channel_not_found"). A metric that has never been
// recorded is absent from the endpoint and counts as 0.
//
//	c.Counter(t, "otelcol_exporter_slack_messages_sent")
func (c *Collector) Counter(t testing.TB, name string, matchers ...string) float64 {
	t.Helper()
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(c.MetricsText(t)))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		metric, labels, _ := strings.Cut(series, "{")
		if metric != name && metric != name+"_total" {
			continue
		}
		if !hasLabels(labels, matchers) {
			continue
		}
		value, _, _ = strings.Cut(value, " ") // drop a timestamp
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

func hasLabels(labels string, matchers []string) bool {
	for _, m := range matchers {
		k, v, _ := strings.Cut(m, "=")
		if !strings.Contains(labels, k+"="+strconv.Quote(v)) {
			return false
		}
	}
	return true
}

// SlackConfig is a complete collector config: the OTLP receiver and the
// metrics endpoint on the harness's ports, the slack exporter with the given
// settings (YAML at column 0), and one logs pipeline otlp → slack.
//
//	StartCollector(t, SlackConfig(`
//	token: ${env:SLACK_BOT_TOKEN}
//	api_url: ${env:SLACK_API_URL}
//	channel: "#alerts"
//	`), emu.Env()...)
func SlackConfig(exporter string) string {
	var b strings.Builder
	b.WriteString(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${env:OTLP_GRPC_ENDPOINT}
      http:
        endpoint: ${env:OTLP_HTTP_ENDPOINT}
exporters:
  slack:
`)
	for _, line := range strings.Split(strings.Trim(exporter, "\n"), "\n") {
		if strings.TrimSpace(line) != "" {
			b.WriteString("    " + line)
		}
		b.WriteString("\n")
	}
	b.WriteString(`service:
  telemetry:
    logs:
      level: info
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ${env:METRICS_PORT}
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [slack]
`)
	return b.String()
}

// ---------------------------------------------------------------------------
// Sending logs, as an application using the OpenTelemetry Go SDK does

// Sender is an SDK LoggerProvider (BatchProcessor → OTLP/HTTP) with one
// resource, sending to a collector. It is shut down when the test ends.
type Sender struct {
	provider *sdklog.LoggerProvider
	logger   log.Logger
	pending  int
	counts   *countingExporter
}

// SenderOptions change how a Sender exports. The zero value is the SDK's
// defaults, as NewSender uses them.
type SenderOptions struct {
	// NoRetry turns off the OTLP exporter's own retries, so a batch the
	// collector refuses (a full queue) is lost and counted by Failed
	// instead of being sent again.
	NoRetry bool
}

// NewSender makes a Sender whose records carry the given resource attributes.
func (c *Collector) NewSender(t testing.TB, res ...attribute.KeyValue) *Sender {
	t.Helper()
	return c.NewSenderWith(t, SenderOptions{}, res...)
}

// NewSenderWith is NewSender with options.
func (c *Collector) NewSenderWith(t testing.TB, o SenderOptions, res ...attribute.KeyValue) *Sender {
	t.Helper()
	opts := []otlploghttp.Option{otlploghttp.WithEndpoint(c.OTLPHTTP), otlploghttp.WithInsecure()}
	if o.NoRetry {
		opts = append(opts, otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
	}
	exp, err := otlploghttp.New(context.Background(), opts...)
	if err != nil {
		t.Fatalf("otlploghttp: %v", err)
	}
	counts := &countingExporter{Exporter: exp}
	p := sdklog.NewLoggerProvider(
		sdklog.WithResource(resource.NewSchemaless(res...)),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(counts)),
	)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})
	return &Sender{provider: p, logger: p.Logger("e2e"), counts: counts}
}

// countingExporter counts the records the collector accepted and those
// whose export failed.
type countingExporter struct {
	sdklog.Exporter
	exported, failed atomic.Int64
}

func (e *countingExporter) Export(ctx context.Context, records []sdklog.Record) error {
	err := e.Exporter.Export(ctx, records)
	if err != nil {
		e.failed.Add(int64(len(records)))
	} else {
		e.exported.Add(int64(len(records)))
	}
	return err
}

// Exported is how many records the collector has accepted from this Sender.
func (s *Sender) Exported() int64 { return s.counts.exported.Load() }

// Failed is how many records this Sender could not export (the collector
// refused them, or did not answer).
func (s *Sender) Failed() int64 { return s.counts.failed.Load() }

// Emit hands records to the SDK; ctx carries the span context, if any (see
// WithSpan). Records are sent in the background; Flush waits for them.
func (s *Sender) Emit(ctx context.Context, records ...log.Record) {
	for _, r := range records {
		s.logger.Emit(ctx, r)
		// Stay under the BatchProcessor's queue (2048), which drops when full.
		if s.pending++; s.pending == 1024 {
			_ = s.provider.ForceFlush(ctx)
			s.pending = 0
		}
	}
}

// Flush waits until every emitted record has been accepted by the collector.
func (s *Sender) Flush(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.provider.ForceFlush(ctx); err != nil {
		t.Fatalf("sending logs to the collector: %v", err)
	}
	s.pending = 0
}

// TryFlush is Flush that returns the export error instead of failing the
// test: for scenarios where the collector is expected to refuse some.
func (s *Sender) TryFlush(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s.pending = 0
	return s.provider.ForceFlush(ctx)
}

// SendLogs sends records with the given resource attributes and waits until
// the collector has accepted them.
//
//	c.SendLogs(t, Service("checkout", "prod"), Record(log.SeverityError, "payment failed"))
func (c *Collector) SendLogs(t testing.TB, res []attribute.KeyValue, records ...log.Record) {
	t.Helper()
	s := c.NewSender(t, res...)
	s.Emit(context.Background(), records...)
	s.Flush(t)
}

// Service is the resource of a service: service.name and deployment.environment.
func Service(name, env string) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("service.name", name),
		attribute.String("deployment.environment", env),
	}
}

// Record makes a log record stamped now.
func Record(sev log.Severity, body string, attrs ...attribute.KeyValue) log.Record {
	var r log.Record
	now := time.Now()
	r.SetTimestamp(now)
	r.SetObservedTimestamp(now)
	r.SetSeverity(sev)
	r.SetSeverityText(sev.String())
	r.SetBody(attribute.StringValue(body))
	r.AddAttributes(attrs...)
	return r
}

// WithSpan returns ctx carrying a new random, sampled span context, as a
// tracing SDK would set it; records emitted with it carry its trace and span ids.
func WithSpan(ctx context.Context) (context.Context, trace.SpanContext) {
	var tid trace.TraceID
	var sid trace.SpanID
	_, _ = rand.Read(tid[:])
	_, _ = rand.Read(sid[:])
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	return trace.ContextWithSpanContext(ctx, sc), sc
}
