// Command vulngate reads `govulncheck -format json` on stdin, prints one
// line per vulnerability that the code calls (with one example call site)
// and exits 1 if any of them is in a required module.
//
// Vulnerabilities of the standard library are printed as warnings unless
// -stdlib=fail: they are fixed by a newer Go toolchain, not by this
// repository (the machines here use the Go they come with).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
	} `json:"position"`
}

type message struct {
	Config *struct {
		GoVersion string `json:"go_version"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

type vuln struct {
	id, module, version, fixed, example string
}

func main() {
	stdlib := flag.String("stdlib", "warn", "what a called vulnerability of the standard library does: warn or fail")
	flag.Parse()
	if *stdlib != "warn" && *stdlib != "fail" {
		fmt.Fprintln(os.Stderr, "vulngate: -stdlib must be warn or fail")
		os.Exit(2)
	}

	summaries := map[string]string{}
	called := map[string]*vuln{}
	goVersion := ""
	dec := json.NewDecoder(os.Stdin)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "vulngate: reading govulncheck's output:", err)
			os.Exit(2)
		}
		switch {
		case m.Config != nil:
			goVersion = m.Config.GoVersion
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0 && m.Finding.Trace[0].Function != "":
			// A finding whose innermost frame names a function: the code calls it.
			// One entry may affect the standard library and a module (x/net's http2).
			f := m.Finding
			key := f.OSV + " " + f.Trace[0].Module
			if _, seen := called[key]; !seen {
				called[key] = &vuln{id: f.OSV, module: f.Trace[0].Module, version: f.Trace[0].Version,
					fixed: f.FixedVersion, example: example(f.Trace)}
			}
		}
	}

	keys := make([]string, 0, len(called))
	for key := range called {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	failed := 0
	var warned []string
	for _, key := range keys {
		v := called[key]
		if v.module == "stdlib" && *stdlib == "warn" {
			warned = append(warned, v.id)
			continue
		}
		failed++
		fixed := "no fix yet"
		if v.fixed != "" {
			fixed = "fixed in " + v.fixed
		}
		fmt.Printf("%s %s@%s (%s): %s\n    %s\n", v.id, v.module, v.version, fixed, summaries[v.id], v.example)
	}
	if len(warned) > 0 {
		fmt.Printf("warning: %d reachable vulnerabilities of the standard library of %s, fixed by a newer Go (-stdlib=fail lists them): %s\n",
			len(warned), goVersion, strings.Join(warned, " "))
	}
	if failed > 0 {
		fmt.Printf("%d reachable vulnerabilities to fix\n", failed)
		os.Exit(1)
	}
	fmt.Println("no reachable vulnerability in the required modules")
}

// example tells where the code reaches the vulnerable symbol: the outermost
// frame of the trace (the caller in this repository) and the innermost one.
func example(trace []frame) string {
	outer, inner := trace[len(trace)-1], trace[0]
	at := ""
	if outer.Position != nil {
		at = fmt.Sprintf("%s:%d: ", outer.Position.Filename, outer.Position.Line)
	}
	return fmt.Sprintf("e.g. %s%s calls %s", at, name(outer), name(inner))
}

func name(f frame) string {
	if f.Receiver != "" {
		return fmt.Sprintf("%s.%s.%s", f.Package, f.Receiver, f.Function)
	}
	return f.Package + "." + f.Function
}
