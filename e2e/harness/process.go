package harness

// Process-level helpers for the reliability scenarios: the collector's pid,
// its peak memory, a SIGTERM whose exit the test can time, and running the
// collector binary for a one-shot command (validate, a bad config).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PID is the process id of the collector's current run.
func (c *Collector) PID() int { return c.proc.cmd.Process.Pid }

// Running reports whether the collector's current run has not exited.
func (c *Collector) Running() bool { return !c.proc.exited() }

// vmHWM reads the peak resident set size ("VmHWM", KiB) of a live process
// from /proc; 0 if the process is gone or /proc cannot tell.
func vmHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// recordRSS folds p's current peak into the collector's maximum.
func (c *Collector) recordRSS(p *process) {
	if p == nil || p.exited() {
		return
	}
	kb := vmHWM(p.cmd.Process.Pid)
	for {
		old := c.peakRSS.Load()
		if kb <= old || c.peakRSS.CompareAndSwap(old, kb) {
			return
		}
	}
}

// sampleRSS records p's peak every 200ms for as long as it runs.
func (c *Collector) sampleRSS(p *process) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		c.recordRSS(p)
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
	}
}

// MaxRSSKiB is the collector's peak resident memory (the kernel's VmHWM, in
// KiB), the largest over every run of this Collector (restarts included), as
// far as it was sampled: every 200ms, and just before each stop or kill.
func (c *Collector) MaxRSSKiB() int64 {
	c.recordRSS(c.proc)
	return c.peakRSS.Load()
}

// Terminate sends SIGTERM and waits up to timeout for the collector to exit
// by itself. It returns how long the exit took and the process's exit error
// (nil for status 0); if the collector has not exited after timeout it is
// killed and Terminate fails the test.
func (c *Collector) Terminate(t testing.TB, timeout time.Duration) (time.Duration, error) {
	t.Helper()
	c.recordRSS(c.proc)
	start := time.Now()
	if err := c.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil && !c.proc.exited() {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-c.proc.done:
		return time.Since(start), c.proc.err
	case <-time.After(timeout):
		c.proc.kill()
		t.Fatalf("the collector had not exited %v after SIGTERM; killed it", timeout)
		return 0, nil
	}
}

// Exited waits up to timeout for the collector's current run to end by
// itself and returns its exit error; ok is false if it is still running.
func (c *Collector) Exited(timeout time.Duration) (ok bool, err error) {
	select {
	case <-c.proc.done:
		return true, c.proc.err
	case <-time.After(timeout):
		return false, nil
	}
}

// RunResult is what a one-shot run of the collector binary did.
type RunResult struct {
	Output   string // stdout and stderr together
	ExitCode int    // -1 if it was killed at the timeout
	TimedOut bool
}

// RunCollector runs bin/otelcol-slack once with args (use {config} in args
// for the path of a temporary file holding config) and env, and returns
// when it exits, or kills it after timeout. Use it for `validate` and for
// configs the collector must refuse at startup.
//
//	res := harness.RunCollector(t, 30*time.Second, cfg, nil, "validate", "--config", "{config}")
func RunCollector(t testing.TB, timeout time.Duration, config string, env []string, args ...string) RunResult {
	t.Helper()
	bin := collectorBinary(t)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	args = append([]string(nil), args...)
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "{config}", path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &output{}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	res := RunResult{Output: out.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.TimedOut, res.ExitCode = true, -1
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", bin, err)
	}
	return res
}

// ClearFault ends the fault on one target ("#alerts", "webhook/T/B", "*").
func (e *Emulator) ClearFault(t testing.TB, target string) {
	t.Helper()
	e.do(t, "DELETE", "/_emu/faults?target="+url.QueryEscape(target), nil, nil)
}

// Call is one Slack call as the emulator logged it when it answered (or
// gave up on) it.
type Call struct {
	At     time.Time // when the emulator answered, to the microsecond
	Method string    // chat.postMessage, chat.update, auth.test, webhook
	Dest   string    // "#alerts", "webhook/T/B", "-"
	Status int       // HTTP status; 0 when no answer was sent (client_gone, connection_dropped)
	Result string    // "ok", "throttled retry-after=5", "channel_not_found", "client_gone", …
}

// callLine is the emulator's log line for a call:
//
//	slackemu: 15:04:05.123456 POST chat.postMessage #alerts -> 429 throttled retry-after=5
var callLine = regexp.MustCompile(`^slackemu: (\d\d:\d\d:\d\d\.\d{6}) POST (\S+) (\S+) -> (\d{3}|---) ?(.*)$`)

// Calls returns every Slack call the emulator has answered so far, in
// order, from its log. The log has the time of day only; dates are today's,
// and a wrap past midnight is carried over.
func (e *Emulator) Calls(t testing.TB) []Call {
	t.Helper()
	now := time.Now()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
	var out []Call
	var prev time.Time
	for line := range strings.SplitSeq(e.Output(), "\n") {
		m := callLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		tod, err := time.ParseInLocation("15:04:05.000000", m[1], time.Local)
		if err != nil {
			t.Fatalf("emulator log line %q: %v", line, err)
		}
		at := day.Add(time.Duration(tod.Hour())*time.Hour + time.Duration(tod.Minute())*time.Minute +
			time.Duration(tod.Second())*time.Second + time.Duration(tod.Nanosecond()))
		if !prev.IsZero() && at.Before(prev.Add(-12*time.Hour)) {
			at = at.Add(24 * time.Hour)
		}
		if at.After(now.Add(time.Hour)) {
			at = at.Add(-24 * time.Hour) // the run started yesterday
		}
		prev = at
		status, _ := strconv.Atoi(m[4])
		out = append(out, Call{At: at, Method: m[2], Dest: m[3], Status: status, Result: m[5]})
	}
	return out
}
