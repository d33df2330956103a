package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `package p

const limit = 10 * 3

func classify(n int) string {
	switch {
	case n > limit:
		return "big"
	case n == 0:
		return "zero"
	}
	return "small"
}

func unused(n int) bool {
	switch {
	case n < 0:
		return true
	}
	return false
}
`

// What go test -coverprofile writes for sample when a test calls classify
// (and not unused): no block holds a case expression or the const.
const sampleProfile = `mode: set
example.com/m/p/p.go:5.29,6.9 1 1
example.com/m/p/p.go:7.17,8.15 1 1
example.com/m/p/p.go:9.14,10.16 1 1
example.com/m/p/p.go:12.2,12.16 1 1
example.com/m/p/p.go:15.25,16.9 1 0
example.com/m/p/p.go:17.13,18.14 1 0
example.com/m/p/p.go:20.2,20.14 1 0
`

func TestMutantsOutsideEveryBlock(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.MkdirAll("p", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("p", "p.go"), []byte(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("cover.out", []byte(sampleProfile), 0o600); err != nil {
		t.Fatal(err)
	}
	prof, err := readProfile("cover.out", "example.com/m")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line, col int
		want      bool
		why       string
	}{
		{3, 18, true, "a package-level declaration is evaluated when the package's tests run"},
		{7, 9, true, "a case expression of a switch that ran"},
		{9, 9, true, "a later case expression of a switch that ran"},
		{17, 9, false, "a case expression of a switch that never ran"},
		{18, 3, false, "inside a block that never ran"},
	} {
		got, err := evaluatedOutsideBlocks(mutant{File: "p/p.go", Line: tc.line, Col: tc.col, Type: "CONDITIONALS_NEGATION"}, prof)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%d:%d: got %v, want %v: %s", tc.line, tc.col, got, tc.want, tc.why)
		}
	}
}

func TestMutate(t *testing.T) {
	for _, tc := range []struct {
		m    mutant
		want string
	}{
		{mutant{Line: 7, Col: 9, Type: "CONDITIONALS_BOUNDARY"}, "\tcase n >= limit:"},
		{mutant{Line: 7, Col: 9, Type: "CONDITIONALS_NEGATION"}, "\tcase n <= limit:"},
		{mutant{Line: 9, Col: 9, Type: "CONDITIONALS_NEGATION"}, "\tcase n != 0:"},
		{mutant{Line: 3, Col: 18, Type: "ARITHMETIC_BASE"}, "const limit = 10 / 3"},
	} {
		tc.m.File = "p.go"
		out, err := mutate([]byte(sample), tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Split(string(out), "\n")[tc.m.Line-1]; got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.m.key(), got, tc.want)
		}
	}
	if _, err := mutate([]byte(sample), mutant{File: "p.go", Line: 7, Col: 7, Type: "CONDITIONALS_NEGATION"}); err == nil {
		t.Error("a position without an operator: want an error")
	}
}

func TestOnlyExplainedEquivalentMutantsLeaveTheScore(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "TESTING.md")
	text := "# Testing\n\n| mutant | kind | why |\n| --- | --- | --- |\n" +
		"| `p/p.go:3:18 ARITHMETIC_BASE` | equivalent | the constant is only compared with itself |\n" +
		"| `p/p.go:7:9 CONDITIONALS_BOUNDARY` | alive | a test would restate the constant |\n" +
		"| `p/p.go:9:9 CONDITIONALS_NEGATION` | equivalent | killed meanwhile |\n" +
		beginMarker + "\nold figures\n" + endMarker + "\n"
	if err := os.WriteFile(doc, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	why, err := readExplanations(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(why) != 3 || !why["p/p.go:3:18 ARITHMETIC_BASE"].equivalent || why["p/p.go:7:9 CONDITIONALS_BOUNDARY"].equivalent {
		t.Fatalf("explanations: %+v", why)
	}
	r := result{why: why, Mutants: []mutant{
		{File: "p/p.go", Line: 3, Col: 18, Type: "ARITHMETIC_BASE", Status: lived},
		{File: "p/p.go", Line: 7, Col: 9, Type: "CONDITIONALS_BOUNDARY", Status: lived},
		{File: "p/p.go", Line: 9, Col: 9, Type: "CONDITIONALS_NEGATION", Status: killed},
		{File: "p/p.go", Line: 12, Col: 9, Type: "CONDITIONALS_NEGATION", Status: killed},
		{File: "p/p.go", Line: 17, Col: 9, Type: "CONDITIONALS_NEGATION", Status: notCovered},
	}}
	if r.equivalents() != 1 {
		t.Errorf("equivalents = %d, want 1 (a killed mutant explained as equivalent does not count)", r.equivalents())
	}
	if r.efficacy() != 50 || r.score() != 100*2.0/3 || r.coverage() != 80 {
		t.Errorf("efficacy %v, score %v, coverage %v", r.efficacy(), r.score(), r.coverage())
	}
}
