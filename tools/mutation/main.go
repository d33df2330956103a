// Command mutation runs gremlins (mutation testing) on packages of the module
// in the working directory, one package at a time, and gates on the figures:
// it exits 1 if a package's test efficacy or mutator coverage is below the
// thresholds. With -doc it rewrites the generated part of that file, and
// reads from the rest of it the hand-written explanations of surviving
// mutants: one explained as equivalent (no test can tell it apart from the
// code) is left out of the efficacy the gate checks; gremlins' own figure
// is shown beside it.
//
// gremlins decides that a mutant is covered when its position lies in a
// block of the coverage profile, and the cover tool puts no block around
// a switch's case expressions or around package-level declarations: every
// mutant there is reported NOT COVERED, even when the tests evaluate it
// (go-gremlins/gremlins#298). This command runs those mutants itself, with
// `go test -overlay` (the source tree is never written): a case expression
// of a switch that the tests reach, and any package-level declaration of a
// package whose tests run. A mutant the tests never evaluate then lives, so
// this can lower efficacy but never raise it unduly.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Statuses, as gremlins names them.
const (
	killed     = "KILLED"
	lived      = "LIVED"
	notCovered = "NOT COVERED"
	timedOut   = "TIMED OUT"
	notViable  = "NOT VIABLE"
)

type mutant struct {
	File      string // relative to the module root, slash-separated
	Line, Col int
	Type      string
	Status    string
	// Ours: gremlins reported it NOT COVERED and this command ran it.
	Ours bool
}

func (m mutant) key() string { return fmt.Sprintf("%s:%d:%d %s", m.File, m.Line, m.Col, m.Type) }

type result struct {
	Pkg     string
	Mutants []mutant
	Elapsed time.Duration
	// why holds the hand-written explanations of surviving mutants, by key.
	why map[string]explanation
}

// explanation is a row of the hand-written table in -doc: a surviving
// mutant that is equivalent (no test can tell it apart: it is left out of
// the gated efficacy), or one left alive on purpose (it still counts).
type explanation struct {
	equivalent bool
	reason     string
}

// equivalents counts the lived mutants explained as equivalent.
func (r result) equivalents() int {
	n := 0
	for _, m := range r.Mutants {
		if m.Status == lived && r.why[m.key()].equivalent {
			n++
		}
	}
	return n
}

func (r result) count(status string) int {
	n := 0
	for _, m := range r.Mutants {
		if m.Status == status {
			n++
		}
	}
	return n
}

func (r result) ours() int {
	n := 0
	for _, m := range r.Mutants {
		if m.Ours {
			n++
		}
	}
	return n
}

// efficacy is killed over killed and lived; coverage is killed and lived
// over killed, lived and not covered (gremlins' definitions: timed out and
// not viable mutants count in neither).
func (r result) efficacy() float64 {
	return percent(r.count(killed), r.count(killed)+r.count(lived))
}

// score is efficacy without the mutants explained as equivalent: no test
// can kill those. It is what the gate checks.
func (r result) score() float64 {
	return percent(r.count(killed), r.count(killed)+r.count(lived)-r.equivalents())
}

func (r result) coverage() float64 {
	tested := r.count(killed) + r.count(lived)
	return percent(tested, tested+r.count(notCovered))
}

func percent(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

type options struct {
	gremlins           string
	workers            int
	timeoutCoefficient int
	minEfficacy        float64
	minCoverage        float64
	doc                string
	command            string
}

func main() {
	var o options
	flag.StringVar(&o.gremlins, "gremlins", "gremlins", "the gremlins binary")
	flag.IntVar(&o.workers, "workers", 2, "mutants tested at once")
	flag.IntVar(&o.timeoutCoefficient, "timeout-coefficient", 10, "a mutant's tests time out after this many times the package's coverage run")
	flag.Float64Var(&o.minEfficacy, "efficacy", 90, "least test efficacy (percent) of every package")
	flag.Float64Var(&o.minCoverage, "coverage", 90, "least mutator coverage (percent) of every package")
	flag.StringVar(&o.doc, "doc", "", "a Markdown file whose generated section (between "+beginMarker+" and "+endMarker+") is rewritten")
	flag.StringVar(&o.command, "command", "", "the command shown in -doc")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: mutation [flags] ./PKG ...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(o, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mutation:", err)
		os.Exit(1)
	}
}

var errGate = errors.New("below the thresholds")

func run(o options, pkgs []string) error {
	modPath, err := modulePath("go.mod")
	if err != nil {
		return err
	}
	why := map[string]explanation{}
	if o.doc != "" {
		if why, err = readExplanations(o.doc); err != nil {
			return err
		}
	}
	start := time.Now()
	var results []result
	for _, pkg := range pkgs {
		r, err := runPackage(o, modPath, pkg)
		if err != nil {
			return fmt.Errorf("%s: %w", pkg, err)
		}
		r.why = why
		results = append(results, r)
		printResult(r, o)
	}
	elapsed := time.Since(start)
	fmt.Println()
	fmt.Print(table(results, o))
	fmt.Printf("\ntook %s\n", elapsed.Round(time.Second))
	if o.doc != "" {
		if err := writeDoc(o, results, elapsed); err != nil {
			return err
		}
		fmt.Println("wrote", o.doc)
	}
	var low []string
	for _, r := range results {
		if !r.passes(o) {
			low = append(low, r.Pkg)
		}
	}
	if len(low) > 0 {
		return fmt.Errorf("%s: %w (efficacy %.0f%%, mutator coverage %.0f%%)", strings.Join(low, ", "), errGate, o.minEfficacy, o.minCoverage)
	}
	return nil
}

func (r result) passes(o options) bool {
	return r.score() >= o.minEfficacy && r.coverage() >= o.minCoverage
}

func modulePath(goMod string) (string, error) {
	b, err := os.ReadFile(goMod)
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s: no module line", goMod)
}

// runPackage measures the package's coverage, lets gremlins loose on it and
// runs the mutants gremlins cannot see as covered.
func runPackage(o options, modPath, pkg string) (result, error) {
	start := time.Now()
	dir := filepath.Clean(pkg)
	tmp, err := os.MkdirTemp("", "mutation-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(tmp)

	fmt.Printf("== %s\n", pkg)
	profilePath := filepath.Join(tmp, "cover.out")
	covStart := time.Now()
	cmd := exec.Command("go", "test", "-count=1", "-coverprofile="+profilePath, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("go test -coverprofile: %w\n%s", err, out)
	}
	covElapsed := time.Since(covStart)
	prof, err := readProfile(profilePath, modPath)
	if err != nil {
		return result{}, err
	}

	jsonPath := filepath.Join(tmp, "gremlins.json")
	// gremlins walks the directory and everything below it (for ".", the
	// whole module and the modules nested in it); files in a subdirectory
	// belong to another package: leave them out.
	cmd = exec.Command(o.gremlins, "unleash", "--workers", strconv.Itoa(o.workers),
		"--timeout-coefficient", strconv.Itoa(o.timeoutCoefficient), "--exclude-files", "/",
		"-S", "lt", "-o", jsonPath, pkg)
	// gremlins times each mutant's tests out after its own coverage run
	// times the coefficient: that run must not come from the test cache.
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -count=1"))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("gremlins: %w", err)
	}
	mutants, err := readGremlins(jsonPath, dir)
	if err != nil {
		return result{}, err
	}

	var blind []int
	for i, m := range mutants {
		if m.Status != notCovered {
			continue
		}
		ok, err := evaluatedOutsideBlocks(m, prof)
		if err != nil {
			return result{}, err
		}
		if ok {
			blind = append(blind, i)
		}
	}
	if len(blind) > 0 {
		fmt.Printf("running %d mutants gremlins reports as not covered (case expressions, package-level declarations)\n", len(blind))
	}
	timeout := covElapsed * time.Duration(o.timeoutCoefficient)
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(o.workers, 1))
	var mu sync.Mutex
	var runErr error
	for _, i := range blind {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			status, err := runMutant(mutants[i], pkg, tmp, timeout)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				runErr = errors.Join(runErr, err)
				return
			}
			mutants[i].Status, mutants[i].Ours = status, true
			if status == lived || status == timedOut {
				fmt.Printf("%12s %s at %s:%d:%d\n", status, mutants[i].Type, filepath.Base(mutants[i].File), mutants[i].Line, mutants[i].Col)
			}
		})
	}
	wg.Wait()
	if runErr != nil {
		return result{}, runErr
	}
	slices.SortFunc(mutants, func(a, b mutant) int {
		return strings.Compare(fmt.Sprintf("%s:%06d:%06d %s", a.File, a.Line, a.Col, a.Type), fmt.Sprintf("%s:%06d:%06d %s", b.File, b.Line, b.Col, b.Type))
	})
	return result{Pkg: pkg, Mutants: mutants, Elapsed: time.Since(start)}, nil
}

// ---------------------------------------------------------------------------
// gremlins' report

type gremlinsReport struct {
	Files []struct {
		FileName  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// readGremlins reads gremlins' -o output for the package in dir (file
// names in it are relative to the package).
func readGremlins(path, dir string) ([]mutant, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep gremlinsReport
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []mutant
	for _, f := range rep.Files {
		name := filepath.ToSlash(filepath.Join(dir, f.FileName))
		for _, m := range f.Mutations {
			out = append(out, mutant{File: name, Line: m.Line, Col: m.Column, Type: m.Type, Status: m.Status})
		}
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Coverage blocks

type block struct {
	startLine, startCol, endLine, endCol int
	count                                int
}

func (b block) contains(line, col int) bool {
	after := line > b.startLine || line == b.startLine && col >= b.startCol
	before := line < b.endLine || line == b.endLine && col <= b.endCol
	return after && before
}

// profile holds each file's blocks, by path relative to the module root.
type profile map[string][]block

func readProfile(path, modPath string) (profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := profile{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "mode:") || line == "" {
			continue
		}
		// name.go:line.col,line.col statements count
		colon := strings.LastIndex(line, ":")
		fields := strings.Fields(line[colon+1:])
		var b block
		if colon < 0 || len(fields) != 3 {
			return nil, fmt.Errorf("%s: cannot read %q", path, line)
		}
		if _, err := fmt.Sscanf(fields[0], "%d.%d,%d.%d", &b.startLine, &b.startCol, &b.endLine, &b.endCol); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		if b.count, err = strconv.Atoi(fields[2]); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		name := strings.TrimPrefix(line[:colon], modPath+"/")
		p[name] = append(p[name], b)
	}
	return p, s.Err()
}

func (p profile) blockAt(file string, line, col int) (block, bool) {
	for _, b := range p[file] {
		if b.contains(line, col) {
			return b, true
		}
	}
	return block{}, false
}

// evaluatedOutsideBlocks reports whether m, which gremlins found in no
// covered block, lies where the cover tool puts no block but the tests do
// evaluate it: a case expression of a switch statement that lies in an
// executed block, or a package-level declaration of a package whose tests
// executed something.
func evaluatedOutsideBlocks(m mutant, p profile) (bool, error) {
	if _, ok := p.blockAt(m.File, m.Line, m.Col); ok {
		return false, nil // in a block that never ran: really not covered
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.FromSlash(m.File), nil, parser.SkipObjectResolution)
	if err != nil {
		return false, err
	}
	tf := fset.File(f.Pos())
	if m.Line < 1 || m.Line > tf.LineCount() {
		return false, fmt.Errorf("%s: no line %d", m.File, m.Line)
	}
	pos := tf.LineStart(m.Line) + token.Pos(m.Col-1)
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Pos() <= pos && pos < gd.End() {
			return p.anyExecuted(), nil
		}
	}
	evaluated := false
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil || evaluated || pos < n.Pos() || pos >= n.End() {
			return false
		}
		sw, ok := n.(*ast.SwitchStmt)
		if !ok {
			return true
		}
		for _, c := range sw.Body.List {
			cc, ok := c.(*ast.CaseClause)
			if !ok {
				continue
			}
			for _, e := range cc.List {
				if e.Pos() <= pos && pos < e.End() {
					at := fset.Position(sw.Pos())
					b, ok := p.blockAt(m.File, at.Line, at.Column)
					evaluated = ok && b.count > 0
					return false
				}
			}
		}
		return true
	})
	return evaluated, nil
}

func (p profile) anyExecuted() bool {
	for _, blocks := range p {
		for _, b := range blocks {
			if b.count > 0 {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Running a mutant

// mutations are gremlins' default mutators: what each turns a token into.
var mutations = map[string]map[token.Token]token.Token{
	"ARITHMETIC_BASE":       {token.ADD: token.SUB, token.SUB: token.ADD, token.MUL: token.QUO, token.QUO: token.MUL, token.REM: token.MUL},
	"CONDITIONALS_BOUNDARY": {token.GEQ: token.GTR, token.GTR: token.GEQ, token.LEQ: token.LSS, token.LSS: token.LEQ},
	"CONDITIONALS_NEGATION": {token.EQL: token.NEQ, token.NEQ: token.EQL, token.GEQ: token.LSS, token.GTR: token.LEQ, token.LEQ: token.GTR, token.LSS: token.GEQ},
	"INCREMENT_DECREMENT":   {token.INC: token.DEC, token.DEC: token.INC},
	"INVERT_NEGATIVES":      {token.SUB: token.ADD},
}

// mutate returns src with m applied: the token at m's position replaced.
func mutate(src []byte, m mutant) ([]byte, error) {
	fset := token.NewFileSet()
	tf := fset.AddFile(m.File, -1, len(src))
	var s scanner.Scanner
	s.Init(tf, src, nil, 0)
	for {
		pos, tok, _ := s.Scan()
		if tok == token.EOF {
			return nil, fmt.Errorf("%s: no token at %d:%d", m.File, m.Line, m.Col)
		}
		at := fset.Position(pos)
		if at.Line != m.Line || at.Column != m.Col {
			continue
		}
		to, ok := mutations[m.Type][tok]
		if !ok {
			return nil, fmt.Errorf("%s: %s cannot mutate %q", m.key(), m.Type, tok)
		}
		off := tf.Offset(pos)
		out := slices.Concat(src[:off], []byte(to.String()), src[off+len(tok.String()):])
		return out, nil
	}
}

// runMutant tests pkg with m applied through an overlay, and says what
// became of m.
func runMutant(m mutant, pkg, tmp string, timeout time.Duration) (string, error) {
	abs, err := filepath.Abs(filepath.FromSlash(m.File))
	if err != nil {
		return "", err
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		return "", err
	}
	mutated, err := mutate(src, m)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(tmp, "mutant-")
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, filepath.Base(abs))
	if err := os.WriteFile(file, mutated, 0o600); err != nil {
		return "", err
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {abs: file}})
	if err != nil {
		return "", err
	}
	overlayPath := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayPath, overlay, 0o600); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-overlay="+overlayPath, "-failfast",
		"-timeout="+(timeout+2*time.Second).String(), pkg)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return timedOut, nil
	case err == nil:
		return lived, nil
	case bytes.Contains(out.Bytes(), []byte("[build failed]")) || bytes.Contains(out.Bytes(), []byte("[setup failed]")):
		return notViable, nil
	case errors.As(err, &exit):
		return killed, nil
	default:
		return "", fmt.Errorf("%s: go test: %w", m.key(), err)
	}
}

// ---------------------------------------------------------------------------
// Output

func printResult(r result, o options) {
	verdict := "pass"
	if !r.passes(o) {
		verdict = "BELOW THE THRESHOLDS"
	}
	fmt.Printf("%s: killed %d, lived %d (%d equivalent), not covered %d, timed out %d, not viable %d; efficacy %.2f%% (%.2f%% without the equivalent), mutator coverage %.2f%% (%s, %s)\n",
		r.Pkg, r.count(killed), r.count(lived), r.equivalents(), r.count(notCovered), r.count(timedOut), r.count(notViable),
		r.efficacy(), r.score(), r.coverage(), r.Elapsed.Round(time.Second), verdict)
	for _, m := range r.Mutants {
		if m.Status == lived {
			if _, ok := r.why[m.key()]; !ok {
				fmt.Printf("  lived, not explained in the doc: %s\n", m.key())
			}
		}
	}
	fmt.Println()
}

func table(results []result, o options) string {
	var b strings.Builder
	b.WriteString("| package | killed | lived | of them equivalent | not covered | timed out | not viable | efficacy | efficacy without the equivalent | mutator coverage | run by tools/mutation | time | gate |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, r := range results {
		verdict := "pass"
		if !r.passes(o) {
			verdict = "**fail**"
		}
		fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %d | %d | %d | %.2f%% | %.2f%% | %.2f%% | %d | %s | %s |\n",
			strings.TrimPrefix(r.Pkg, "./"), r.count(killed), r.count(lived), r.equivalents(), r.count(notCovered),
			r.count(timedOut), r.count(notViable), r.efficacy(), r.score(), r.coverage(), r.ours(),
			r.Elapsed.Round(time.Second), verdict)
	}
	return b.String()
}

const (
	beginMarker = "<!-- begin: written by make mutation -->"
	endMarker   = "<!-- end: written by make mutation -->"
)

// explainedRow matches a row of the hand-written table of surviving
// mutants: | `internal/pkg/file.go:LINE:COL TYPE` | equivalent or alive | why |
var explainedRow = regexp.MustCompile("(?m)^\\| `([^`]+\\.go:\\d+:\\d+ [A-Z_]+)` \\| *(equivalent|alive) *\\| *(.*?) *\\|$")

// readExplanations reads the hand-written rows of doc, outside the
// generated section.
func readExplanations(doc string) (map[string]explanation, error) {
	b, err := os.ReadFile(doc)
	if err != nil {
		return nil, err
	}
	before, rest, ok1 := strings.Cut(string(b), beginMarker)
	_, after, ok2 := strings.Cut(rest, endMarker)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s: no %s … %s section", doc, beginMarker, endMarker)
	}
	why := map[string]explanation{}
	for _, m := range explainedRow.FindAllStringSubmatch(before+after, -1) {
		why[m[1]] = explanation{equivalent: m[2] == "equivalent", reason: m[3]}
	}
	return why, nil
}

func writeDoc(o options, results []result, elapsed time.Duration) error {
	old, err := os.ReadFile(o.doc)
	if err != nil {
		return err
	}
	before, rest, ok1 := strings.Cut(string(old), beginMarker)
	_, after, ok2 := strings.Cut(rest, endMarker)
	if !ok1 || !ok2 {
		return fmt.Errorf("%s: no %s … %s section", o.doc, beginMarker, endMarker)
	}
	why := map[string]explanation{}
	if len(results) > 0 {
		why = results[0].why
	}
	var b strings.Builder
	b.WriteString(beginMarker + "\n")
	fmt.Fprintf(&b, "- Command: `%s`\n", o.command)
	fmt.Fprintf(&b, "- gremlins v0.6.0: `--workers %d --timeout-coefficient %d`; thresholds: efficacy without the equivalent %.0f%%, mutator coverage %.0f%%\n",
		o.workers, o.timeoutCoefficient, o.minEfficacy, o.minCoverage)
	fmt.Fprintf(&b, "- Go: %s, %d CPUs, %s/%s\n", runtime.Version(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "- Source: commit %s (and the working tree at the time of the run)\n", commit())
	fmt.Fprintf(&b, "- Took: %s\n\n", elapsed.Round(time.Second))
	b.WriteString(table(results, o))

	var livedLines, otherLines []string
	ran := map[string]bool{}
	for _, r := range results {
		ran[filepath.ToSlash(filepath.Clean(r.Pkg))] = true
	}
	stale := map[string]bool{} // explanations of the packages run, until their mutant is found
	for k := range why {
		file, _, _ := strings.Cut(k, ":")
		if ran[path.Dir(file)] {
			stale[k] = true
		}
	}
	for _, r := range results {
		for _, m := range r.Mutants {
			code := sourceLine(m)
			switch m.Status {
			case lived:
				note := "**not explained**"
				if e, ok := why[m.key()]; ok {
					note = "alive, see above"
					if e.equivalent {
						note = "equivalent, see above"
					}
					delete(stale, m.key())
				}
				livedLines = append(livedLines, fmt.Sprintf("| `%s` | `%s` | %s |", m.key(), code, note))
			case notCovered, timedOut, notViable:
				otherLines = append(otherLines, fmt.Sprintf("| `%s` | %s | `%s` |", m.key(), strings.ToLower(m.Status), code))
			}
		}
	}
	b.WriteString("\nLived mutants:\n\n")
	if len(livedLines) == 0 {
		b.WriteString("none\n")
	} else {
		b.WriteString("| mutant | code | |\n| --- | --- | --- |\n" + strings.Join(livedLines, "\n") + "\n")
	}
	b.WriteString("\nNot covered, timed out and not viable mutants:\n\n")
	if len(otherLines) == 0 {
		b.WriteString("none\n")
	} else {
		b.WriteString("| mutant | status | code |\n| --- | --- | --- |\n" + strings.Join(otherLines, "\n") + "\n")
	}
	if len(stale) > 0 {
		b.WriteString("\nExplained above but no longer a lived mutant (the code moved, or a test kills it now): `" +
			strings.Join(slices.Sorted(maps.Keys(stale)), "`, `") + "`\n")
	}
	b.WriteString(endMarker)
	return os.WriteFile(o.doc, []byte(before+b.String()+after), 0o600)
}

func sourceLine(m mutant) string {
	b, err := os.ReadFile(filepath.FromSlash(m.File))
	if err != nil {
		return "?"
	}
	lines := strings.Split(string(b), "\n")
	if m.Line < 1 || m.Line > len(lines) {
		return "?"
	}
	s := strings.TrimSpace(lines[m.Line-1])
	s = strings.ReplaceAll(s, "`", "'")
	s = strings.ReplaceAll(s, "|", `\|`)
	if r := []rune(s); len(r) > 100 {
		s = string(r[:97]) + "..."
	}
	return s
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
