package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestPerSecond(t *testing.T) {
	ms := time.Millisecond
	times := []time.Time{
		at(-1 * ms),         // before the start: left out
		at(0), at(999 * ms), // bin 0
		at(time.Second),              // bin 1: a bin's start belongs to it
		at(2500 * ms), at(2750 * ms), // bin 2
		at(2999 * ms),        // bin 2
		at(3 * time.Second),  // past the last bin: left out
		at(10 * time.Second), // far past
	}
	if got, want := perSecond(times, t0, time.Second, 3), []float64{2, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("1 s bins: got %v, want %v", got, want)
	}
	// 250 ms bins give rates per second: one event in a bin is 4/s.
	if got, want := perSecond(times, t0, 250*ms, 4), []float64{4, 0, 0, 4}; !slices.Equal(got, want) {
		t.Errorf("250 ms bins: got %v, want %v", got, want)
	}
	if got := perSecond(nil, t0, time.Second, 2); !slices.Equal(got, []float64{0, 0}) {
		t.Errorf("no events: got %v", got)
	}
}

func TestChannelCallsAndAxes(t *testing.T) {
	run := stormTimeline{began: t0, logged: []time.Time{at(0), at(100 * time.Millisecond), at(200 * time.Millisecond)},
		calls: []emuCall{
			{Method: "auth.test", Dest: "-", At: at(0), Status: 200},
			{Method: "chat.postMessage", Dest: "#a", At: at(time.Second), Status: 200},
			{Method: "chat.postMessage", Dest: "#a", At: at(1500 * time.Millisecond), Status: 429},
			{Method: "chat.update", Dest: "#a", At: at(2 * time.Second), Status: 429},
			{Method: "chat.update", Dest: "#b", At: at(4200 * time.Millisecond), Status: 200},
		}}
	posts, updates, throttled := run.channelCalls("#a")
	if len(posts) != 2 || len(updates) != 1 || len(throttled) != 2 {
		t.Errorf("#a: %d posts, %d updates, %d 429s; want 2, 1, 2", len(posts), len(updates), len(throttled))
	}
	a := sharedAxes([]stormTimeline{run}, []string{"#a", "#b"})
	// The last call is at 4.2 s: bins 0..4 hold the storm, one more is empty.
	if a.bins != 6 || a.records != 3 || a.callsRate != 2 {
		t.Errorf("axes %+v, want 6 bins, records 3/s, calls 2/s", a)
	}
}

// svgTexts checks the SVG parses as XML and returns its text elements.
func svgTexts(t *testing.T, svg []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var texts []string
	inText, root := false, ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			inText = tok.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, strings.TrimSpace(string(tok)))
			}
		case xml.EndElement:
			inText = false
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return texts
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

func stormFixture() stormTimeline {
	run := stormTimeline{title: "threads on", began: t0}
	for i := range 1000 {
		run.logged = append(run.logged, at(time.Duration(i)*10*time.Millisecond))
	}
	for i, ch := range []string{"#storm-a", "#storm-b", "#storm-c"} {
		for s := range 12 {
			run.calls = append(run.calls, emuCall{Method: "chat.postMessage", Dest: ch, At: at(time.Duration(s)*time.Second + 100*time.Millisecond), Status: 200})
			run.calls = append(run.calls, emuCall{Method: "chat.update", Dest: ch, At: at(time.Duration(s)*time.Second + 600*time.Millisecond), Status: 200})
		}
		// #storm-b gets one 429, #storm-c two.
		for k := range i {
			run.calls = append(run.calls, emuCall{Method: "chat.update", Dest: ch, At: at(time.Duration(3+k) * time.Second), Status: 429})
		}
	}
	return run
}

func TestStormSVG(t *testing.T) {
	run := stormFixture()
	svg, err := stormSVG(run, stormChannels, sharedAxes([]stormTimeline{run}, stormChannels))
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, svg)
	// One legend entry per series: records above, three per channel panel.
	for label, want := range map[string]int{
		"records logged": 1, "chat.postMessage": 3, "chat.update": 3,
		"HTTP 429 (0)": 1, "HTTP 429 (1)": 1, "HTTP 429 (2)": 1,
		"Storm, threads on": 1, "time since the first record (s)": 1,
		"#storm-a, calls/s": 1, "#storm-b, calls/s": 1, "#storm-c, calls/s": 1,
	} {
		if got := count(texts, label); got != want {
			t.Errorf("%d texts %q, want %d", got, label, want)
		}
	}
	// Fonts are named, not embedded: the page stays small.
	if len(svg) > 200_000 || bytes.Contains(svg, []byte("@font-face")) {
		t.Errorf("SVG is %d bytes (fonts embedded?)", len(svg))
	}
}

func TestPlotStormWritesAndLinks(t *testing.T) {
	dir := t.TempDir()
	o := &options{root: dir, out: filepath.Join(dir, "docs", "BENCHMARKS.md")}
	o.plots = filepath.Join(dir, "docs", "img")
	run := stormFixture()
	results := make([]stormResult, len(stormVariants))
	for i := range results {
		results[i] = stormResult{began: run.began, logged: run.logged, calls: run.calls}
	}
	results[1].err = errors.New("not measured") // no plot for a run that failed
	var s section
	plotStorm(o, &s, results)
	if len(s.images) != 1 || s.images[0].path != "img/storm-threads-on.svg" || s.imageNote == "" {
		t.Fatalf("images %+v, note %q", s.images, s.imageNote)
	}
	if _, err := os.Stat(filepath.Join(o.plots, "storm-threads-on.svg")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(o.plots, "storm-threads-off.svg")); err == nil {
		t.Error("a plot for the run that failed")
	}
	page := (&report{sections: []section{s}}).markdown(o)
	if !strings.Contains(page, "\n![Storm over time, defaults (threads on)](img/storm-threads-on.svg)\n") ||
		!strings.Contains(page, stormPlotNote) {
		t.Errorf("the page does not link the plot:\n%s", page)
	}
}

func TestWholeTicks(t *testing.T) {
	for _, c := range []struct {
		n    int
		hi   float64
		want string
	}{
		{6, 5.4, "0 1 2 3 4 5"},
		{6, 1.8, "0 1"},
		{6, 7.2, "0 2 4 6"},
		{6, 18, "0 5 10 15"},
		{12, 13, "0 2 4 6 8 10 12"},
		{12, 61, "0 10 20 30 40 50 60"},
		{2, 3000, "0 1800"},
	} {
		var got []string
		for _, tk := range (wholeTicks{n: c.n}).Ticks(-0.7, c.hi) {
			got = append(got, tk.Label)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%d ticks up to %g: %v, want %s", c.n, c.hi, got, c.want)
		}
	}
}
