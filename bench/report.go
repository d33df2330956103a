package main

// The results page: one table per item (what, figure, goal, the command
// that reproduces the row), the ratios measured in the same run, and notes.

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// row is one measured figure; in a section with columns, figures holds one
// per column instead of figure.
type row struct {
	what, figure, goal, command string
	figures                     []string
}

type comparison struct{ what, ratio string }

// pageImage is an image on the page; path is relative to the page.
type pageImage struct{ alt, path string }

type section struct {
	order        int
	title, intro string
	columns      []string // figure columns, when the item runs several variants
	rows         []row
	compare      []comparison
	glance       []row // the item's headline figures, for the summary at the top
	notes        []string
	images       []pageImage // after the table, with imageNote before them
	imageNote    string
	took         time.Duration
	err          error
}

type report struct {
	command  string
	machine  [][2]string
	began    time.Time
	took     time.Duration
	ended    string
	sections []section
}

func (r *report) markdown(_ *options) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("_Rewritten by `make bench` ([bench/main.go](../bench/main.go)); change the harness, not this page._\n\n")
	w("Goals are what we aim for; every figure is what this run measured, whether or not it meets its goal. ")
	w("The machine is shared and noisy, so the comparisons are made within this one run: trust the ratios more than the absolute figures. ")
	w("Each row's command reproduces it from the repository root after `make build` ")
	w("(`make bench BENCH_ONLY=item` runs one item of the harness and prints its table).\n\n")
	w("| | |\n| --- | --- |\n")
	w("| Date | %s |\n", r.began.UTC().Format("2006-01-02 15:04 MST"))
	for _, kv := range r.machine {
		if kv[0] != "loadavg" {
			w("| %s | %s |\n", kv[0], cell(kv[1]))
		}
	}
	w("| Load average (1, 5, 15 min) | at start %s; at end %s |\n", r.machine0load(), r.ended)
	w("| Command | `%s` — %s in total |\n", r.command, r.took.Round(time.Second))
	w("\n")

	slices.SortStableFunc(r.sections, func(a, b section) int { return a.order - b.order })
	w("## At a glance\n\n| Item | What | Figure | Goal |\n| --- | --- | --- | --- |\n")
	for _, s := range r.sections {
		title, _, _ := strings.Cut(s.title, ":")
		if s.err != nil && len(s.glance) == 0 {
			w("| %s | — | not measured: %s | — |\n", cell(title), cell(firstLine(s.err.Error())))
		}
		for _, g := range s.glance {
			w("| %s | %s | %s | %s |\n", cell(title), cell(g.what), cell(g.figure), cell(orDash(g.goal)))
		}
	}
	w("\n")
	for _, s := range r.sections {
		w("## %s\n\n", s.title)
		if s.intro != "" {
			w("%s\n\n", s.intro)
		}
		if s.err != nil {
			w("**Not measured in this run:** %s\n\n", cell(firstLine(s.err.Error())))
		}
		if len(s.rows) > 0 {
			cols := s.columns
			if len(cols) == 0 {
				cols = []string{"Figure"}
			}
			w("| What | %s | Goal | Reproduce |\n|%s\n", strings.Join(cols, " | "), strings.Repeat(" --- |", len(cols)+3))
			for _, rw := range s.rows {
				cmd := ""
				if rw.command != "" {
					cmd = "`" + strings.ReplaceAll(rw.command, "|", `\|`) + "`"
				}
				figs := rw.figures
				if len(s.columns) == 0 {
					figs = []string{rw.figure}
				}
				for i := range figs {
					figs[i] = cell(figs[i])
				}
				w("| %s | %s | %s | %s |\n", cell(rw.what), strings.Join(figs, " | "), cell(orDash(rw.goal)), cmd)
			}
			w("\n")
		}
		if len(s.images) > 0 {
			w("%s\n\n", s.imageNote)
			for _, im := range s.images {
				w("![%s](%s)\n\n", im.alt, im.path)
			}
		}
		if len(s.compare) > 0 {
			w("Compared in the same run:\n\n| Comparison | Ratio |\n| --- | --- |\n")
			for _, c := range s.compare {
				w("| %s | %s |\n", cell(c.what), cell(c.ratio))
			}
			w("\n")
		}
		for _, n := range s.notes {
			w("- %s\n", n)
		}
		if len(s.notes) > 0 {
			w("\n")
		}
		if s.took > 0 {
			w("_This item took %s._\n\n", s.took.Round(time.Second))
		}
	}
	return b.String()
}

func (r *report) machine0load() string {
	for _, kv := range r.machine {
		if kv[0] == "loadavg" {
			return kv[1]
		}
	}
	return "?"
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// describeMachine says what ran the benchmarks. The load average is kept
// aside (key "loadavg") for the header line that shows start and end.
func describeMachine(o *options) [][2]string {
	var out [][2]string
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb float64
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%f", &kb); err == nil {
					mem = fmt.Sprintf(", %.1f GiB RAM", kb/1024/1024)
				}
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	out = append(out, [2]string{"Machine", fmt.Sprintf("%s, %d CPUs%s, Linux %s (%s/%s)", cpu, runtime.NumCPU(), mem,
		strings.TrimSpace(string(kernel)), runtime.GOOS, runtime.GOARCH)})
	gover, _ := exec.Command("go", "version").Output()
	out = append(out, [2]string{"Go", strings.TrimSpace(string(gover))})
	py, _ := exec.Command(o.python, "--version").CombinedOutput()
	out = append(out, [2]string{"Python", strings.TrimSpace(string(py))})
	commit := "unknown"
	if c, err := exec.Command("git", "-C", o.root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(c))
		if st, err := exec.Command("git", "-C", o.root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			commit += " plus uncommitted changes"
		}
	}
	out = append(out, [2]string{"Commit", commit})
	out = append(out, [2]string{"loadavg", describeLoad()})
	return out
}

func describeLoad() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// ---------------------------------------------------------------------------
// Formatting

// dur shows a duration with three significant figures in a fitting unit.
func dur(d time.Duration) string {
	ns := float64(d)
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%.0f ns", ns)
	case d < time.Millisecond:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	case d < 100*time.Second:
		return fmt.Sprintf("%.3g s", ns/1e9)
	case d < time.Hour:
		return fmt.Sprintf("%.1f min", d.Minutes())
	}
	return fmt.Sprintf("%.1f h", d.Hours())
}

// ratio is a/b as "12.3×"; large ratios get thousands separators.
func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "n/a"
	}
	r := a / b
	switch {
	case r >= 1000:
		return thousands(int64(math.Round(r))) + "×"
	case r >= 10:
		return fmt.Sprintf("%.0f×", r)
	case r >= 1:
		return fmt.Sprintf("%.1f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// shellQuote quotes an argument for a shell command line when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func num(f float64) string { return thousands(int64(math.Round(f))) }

// percentile is the nearest-rank p-th percentile of sorted values, as the
// example app and bench/queuehandler.py compute it.
func percentile[T any](sorted []T, p int) T {
	var zero T
	if len(sorted) == 0 {
		return zero
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
