package main

// Processes the harness starts (the Slack emulator, the collector, senders),
// loopback ports, and what /proc and the collector's metrics say about them.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const emuToken = "xoxb-bench-token"

// proc is a child process; every one is registered so that the harness can
// stop what it started, and only that, when it ends or is interrupted.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

var (
	procsMu sync.Mutex
	procs   []*proc
)

// start runs bin with args and env (added to the harness's environment),
// its output going to work/<name>.log.
func start(work, name, bin string, args, env []string) (*proc, error) {
	logPath := filepath.Join(work, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	procsMu.Lock()
	procs = append(procs, p)
	procsMu.Unlock()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit by itself, at most d; then it is
// stopped and an error returned.
func (p *proc) wait(d time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		p.stop(5 * time.Second)
		return fmt.Errorf("%s did not finish within %s", p.name, d)
	}
}

// stop sends SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
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

// tail is the last n lines of the process's output.
func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stopAll stops every process still running (at exit or on a signal).
func stopAll() {
	procsMu.Lock()
	all := slices.Clone(procs)
	procsMu.Unlock()
	var wg sync.WaitGroup
	for _, p := range all {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop(5 * time.Second) }()
	}
	wg.Wait()
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// poll calls cond every interval until it returns true or d has passed.
func poll(d, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func httpGet(url string) ([]byte, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, nil
}

// ---------------------------------------------------------------------------
// The collector

type collector struct {
	*proc
	grpcPort, httpPort, metricsPort int
}

// startCollector runs bin/otelcol-slack with bench/collector.yaml, ending
// its pipeline in exporter ("slack" or "nop"), and waits until it is ready.
// Each of overrides is one more --config (e.g. "yaml:exporters::slack::x: 1").
func startCollector(o *options, name, exporter string, emu *emulator, channel string, overrides ...string) (*collector, error) {
	var ports [3]int
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	c := &collector{grpcPort: ports[0], httpPort: ports[1], metricsPort: ports[2]}
	env := []string{
		"BENCH_EXPORTER=" + exporter,
		"SLACK_BOT_TOKEN=" + emuToken,
		"SLACK_API_URL=" + emu.url + "/api/",
		"BENCH_CHANNEL=" + channel,
		"OTLP_GRPC_PORT=" + strconv.Itoa(c.grpcPort),
		"OTLP_HTTP_PORT=" + strconv.Itoa(c.httpPort),
		"METRICS_PORT=" + strconv.Itoa(c.metricsPort),
	}
	args := []string{"--config", filepath.Join(o.root, "bench", "collector.yaml")}
	for _, ov := range overrides {
		args = append(args, "--config", ov)
	}
	p, err := start(o.work, name, o.bin("otelcol-slack"), args, env)
	if err != nil {
		return nil, err
	}
	c.proc = p
	ready := poll(60*time.Second, 100*time.Millisecond, func() bool {
		if p.exited() {
			return true
		}
		b, _ := os.ReadFile(p.log)
		if !strings.Contains(string(b), "Everything is ready") {
			return false
		}
		_, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", c.metricsPort))
		return err == nil
	})
	if p.exited() || !ready {
		p.stop(5 * time.Second)
		return nil, fmt.Errorf("collector %s did not start:\n%s", name, p.tail(20))
	}
	return c, nil
}

// metric is the sum of every series called name (or name_total) in the
// collector's own metrics; 0 when it has none yet.
func (c *collector) metric(name string) (float64, error) {
	m, err := c.metrics()
	if err != nil {
		return 0, err
	}
	return m.sum(name), nil
}

type promText string

func (c *collector) metrics() (promText, error) {
	b, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", c.metricsPort))
	return promText(b), err
}

func (t promText) sum(name string) float64 {
	total := 0.0
	for _, line := range strings.Split(string(t), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		metric, _, _ := strings.Cut(series, "{")
		if metric != name && metric != name+"_total" {
			continue
		}
		if i := strings.IndexByte(value, ' '); i >= 0 { // a timestamp follows
			value = value[:i]
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			total += v
		}
	}
	return total
}

// ---------------------------------------------------------------------------
// /proc

var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}()

// cpuSeconds is the process's user+system CPU time (utime+stime of
// /proc/PID/stat).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (ut + st) / clockTicks, nil
}

// statusKB reads a "Name:   1234 kB" line of /proc/PID/status (VmHWM, VmRSS).
func statusKB(pid int, key string) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			return strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}

// runCommand runs a command to completion within d and returns its stdout.
func runCommand(ctx context.Context, d time.Duration, dir string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		return string(out), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, msg)
	}
	return string(out), nil
}
