package main

// The storm over time, drawn with gonum's plot: records logged per second
// above, then one panel per channel with its chat.postMessage and
// chat.update calls per second and a marker for each HTTP 429. The table
// says how long a storm took to drain; the plot shows how the calls were
// spread while it did.

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// stormBin is the width of a plot's bins. At 1 msg/s per channel a 250 ms
// bin would show each call as a spike of 4/s; 1 s shows the rate Slack holds.
const stormBin = time.Second

// stormPlotNote is the page's one sentence on how to read the plots.
const stormPlotNote = "How to read the plots: time runs left to right from the first record logged, in 1 s bins; " +
	"the top panel is the records the storm logged per second, each channel's panel below is the chat.postMessage (solid) " +
	"and chat.update (dashed) calls the exporter made to it per second, whatever Slack answered, and each HTTP 429 is a red × " +
	"under that channel's zero line; both plots share their axes, so threads on and off compare at a glance."

// stormTimeline is one storm run as the plot sees it.
type stormTimeline struct {
	title  string
	began  time.Time
	logged []time.Time
	calls  []emuCall
}

// last is the latest event of the run, relative to its start.
func (t stormTimeline) last() time.Duration {
	var d time.Duration
	for _, at := range t.logged {
		d = max(d, at.Sub(t.began))
	}
	for _, c := range t.calls {
		d = max(d, c.At.Sub(t.began))
	}
	return d
}

// channelCalls splits the calls to one channel into posts, updates and 429s
// (a 429 is also counted as the post or update it answered: the exporter made
// that call).
func (t stormTimeline) channelCalls(ch string) (posts, updates, throttled []time.Time) {
	for _, c := range t.calls {
		if c.Dest != ch {
			continue
		}
		switch c.Method {
		case "chat.postMessage":
			posts = append(posts, c.At)
		case "chat.update":
			updates = append(updates, c.At)
		}
		if c.Status == 429 {
			throttled = append(throttled, c.At)
		}
	}
	return posts, updates, throttled
}

// perSecond counts times into n bins of width from start and gives each bin
// as a rate per second. Times outside the bins are left out.
func perSecond(times []time.Time, start time.Time, width time.Duration, n int) []float64 {
	out := make([]float64, n)
	for _, t := range times {
		d := t.Sub(start)
		if d < 0 || d >= time.Duration(n)*width {
			continue
		}
		out[d/width]++
	}
	perSec := float64(time.Second) / float64(width)
	for i := range out {
		out[i] *= perSec
	}
	return out
}

// stormAxes are shared by every plot of a page, so that they compare.
type stormAxes struct {
	bins               int
	records, callsRate float64 // highest bin of any plot
}

func sharedAxes(runs []stormTimeline, channels []string) stormAxes {
	var span time.Duration
	for _, r := range runs {
		span = max(span, r.last())
	}
	// One empty bin after the last call shows the storm has ended.
	a := stormAxes{bins: int(span/stormBin) + 2}
	for _, r := range runs {
		for _, v := range perSecond(r.logged, r.began, stormBin, a.bins) {
			a.records = max(a.records, v)
		}
		for _, ch := range channels {
			posts, updates, _ := r.channelCalls(ch)
			for _, s := range [][]time.Time{posts, updates} {
				for _, v := range perSecond(s, r.began, stormBin, a.bins) {
					a.callsRate = max(a.callsRate, v)
				}
			}
		}
	}
	return a
}

var (
	recordsColor = color.RGBA{R: 0x33, G: 0x33, B: 0x33, A: 0xff}
	postColor    = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	updateColor  = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	throttleRed  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

// stepLine draws binned rates as steps, each bin flat over its second.
func stepLine(rates []float64, width time.Duration, c color.Color, dashed bool) (*plotter.Line, error) {
	pts := make(plotter.XYs, len(rates)+1)
	for i, v := range rates {
		pts[i] = plotter.XY{X: float64(i) * width.Seconds(), Y: v}
	}
	// The last bin needs its right edge too.
	pts[len(rates)] = plotter.XY{X: float64(len(rates)) * width.Seconds(), Y: rates[len(rates)-1]}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	l.StepStyle = plotter.PostStep
	l.Color = c
	l.Width = vg.Points(1.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return l, nil
}

// wholeTicks labels whole numbers from zero up, at most about n of them: a
// rate of calls in 1 s bins is a whole number, the time line is in whole
// seconds, and the strip below a channel's zero line holds 429 markers, not
// values.
type wholeTicks struct{ n int }

func (w wholeTicks) Ticks(_, hi float64) []plot.Tick {
	step := math.Ceil(hi/float64(w.n)/600) * 600 // whole ten minutes, past the list
	for _, s := range []float64{1, 2, 5, 10, 20, 30, 60, 120, 300} {
		if s*float64(w.n) >= hi {
			step = s
			break
		}
	}
	var out []plot.Tick
	for v := 0.0; v <= hi; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return out
}

// throttleY is where 429 markers sit: in a strip under the zero line, so a
// marker never hides a line that is at zero.
const throttleY = -0.35

// stormSVG draws one run as SVG.
func stormSVG(run stormTimeline, channels []string, axes stormAxes) ([]byte, error) {
	plots, err := stormPanels(run, channels, axes)
	if err != nil {
		return nil, err
	}
	canvas := vgsvg.New(stormPlotSize(len(plots)))
	drawPanels(canvas, plots)
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// stormPanels are one run's panels: records per second on top, then one per
// channel. The storm's three channels fit as panels; a storm with many more
// would need their sums in one panel instead.
func stormPanels(run stormTimeline, channels []string, axes stormAxes) ([]*plot.Plot, error) {
	sans := font.Font{Typeface: "Liberation", Variant: "Sans"}
	style := func(p *plot.Plot) {
		for _, t := range []*plot.Axis{&p.X, &p.Y} {
			t.Label.TextStyle.Font = font.From(sans, 10)
			t.Tick.Label.Font = font.From(sans, 9)
		}
		p.Title.TextStyle.Font = font.From(sans, 11)
		p.Legend.TextStyle.Font = font.From(sans, 9)
		p.Legend.Top = true
		p.Legend.ThumbnailWidth = vg.Points(24)
		p.X.Tick.Marker = wholeTicks{n: 12}
		p.Add(plotter.NewGrid())
	}
	// Add widens the axes to its data; every panel of every plot gets the
	// same time line, and each kind of panel the same height.
	pin := func(p *plot.Plot, ymin, ymax float64) {
		p.X.Min, p.X.Max = 0, float64(axes.bins)*stormBin.Seconds()
		p.Y.Min, p.Y.Max = ymin, ymax
	}
	var plots []*plot.Plot

	top := plot.New()
	style(top)
	top.Title.Text = "Storm, " + run.title
	top.Y.Label.Text = "records/s"
	l, err := stepLine(perSecond(run.logged, run.began, stormBin, axes.bins), stormBin, recordsColor, false)
	if err != nil {
		return nil, err
	}
	top.Add(l)
	top.Legend.Add("records logged", l)
	pin(top, 0, math.Max(axes.records, 1)*1.3) // headroom for the legend
	plots = append(plots, top)

	for _, ch := range channels {
		posts, updates, throttled := run.channelCalls(ch)
		p := plot.New()
		style(p)
		p.Y.Label.Text = ch + ", calls/s"
		p.Y.Tick.Marker = wholeTicks{n: 6}
		lp, err := stepLine(perSecond(posts, run.began, stormBin, axes.bins), stormBin, postColor, false)
		if err != nil {
			return nil, err
		}
		lu, err := stepLine(perSecond(updates, run.began, stormBin, axes.bins), stormBin, updateColor, true)
		if err != nil {
			return nil, err
		}
		marks := make(plotter.XYs, len(throttled))
		for i, at := range throttled {
			marks[i] = plotter.XY{X: at.Sub(run.began).Seconds(), Y: throttleY}
		}
		sc, err := plotter.NewScatter(marks)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: throttleRed, Radius: vg.Points(4), Shape: draw.CrossGlyph{}}
		p.Add(lp, lu, sc)
		p.Legend.Add("chat.postMessage", lp)
		p.Legend.Add("chat.update", lu)
		p.Legend.Add(fmt.Sprintf("HTTP 429 (%d)", len(throttled)), sc)
		pin(p, 2*throttleY, math.Max(axes.callsRate, 1)*1.8) // the strip for 429s below, the legend above
		plots = append(plots, p)
	}
	last := plots[len(plots)-1]
	last.X.Label.Text = "time since the first record (s)"
	return plots, nil
}

// stormPlotSize is the size of a plot of n panels stacked.
func stormPlotSize(n int) (w, h vg.Length) { return 7 * vg.Inch, 1.8 * vg.Inch * vg.Length(n) }

// drawPanels stacks the plots on c, their axes aligned.
func drawPanels(c vg.CanvasSizer, plots []*plot.Plot) {
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadY: vg.Points(6), PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	grid := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		grid[i] = []*plot.Plot{p}
	}
	cells := plot.Align(grid, tiles, draw.New(c))
	for i, p := range plots {
		p.Draw(cells[i][0])
	}
}

// plotStorm writes the plot of each variant that has one into o.plots and
// says on the page where they are. A plot that cannot be drawn is a note,
// not a failed item: the figures stand without it.
func plotStorm(o *options, s *section, results []stormResult) {
	if o.plots == "" {
		return
	}
	var runs []stormTimeline
	var names []string
	for i, r := range results {
		if r.err != nil || stormVariants[i].plot == "" {
			continue
		}
		runs = append(runs, stormTimeline{title: stormVariants[i].name, began: r.began, logged: r.logged, calls: r.calls})
		names = append(names, stormVariants[i].plot)
	}
	if len(runs) == 0 {
		return
	}
	axes := sharedAxes(runs, stormChannels)
	if err := os.MkdirAll(o.plots, 0o755); err != nil {
		s.notes = append(s.notes, "No plot: "+err.Error())
		return
	}
	for i, run := range runs {
		svg, err := stormSVG(run, stormChannels, axes)
		if err == nil {
			path := filepath.Join(o.plots, names[i]+".svg")
			if err = os.WriteFile(path, svg, 0o644); err == nil {
				logf("wrote %s", path)
				s.images = append(s.images, pageImage{alt: "Storm over time, " + run.title, path: pageLink(o, path)})
				continue
			}
		}
		s.notes = append(s.notes, fmt.Sprintf("No plot of %s: %v", run.title, err))
	}
	if len(s.images) > 0 {
		s.imageNote = stormPlotNote
	}
}

// pageLink is path relative to the page's directory: -out's, or docs/ when
// the page is printed.
func pageLink(o *options, path string) string {
	dir := filepath.Join(o.root, "docs")
	if o.out != "" {
		dir = filepath.Dir(o.out)
	}
	absDir, err1 := filepath.Abs(dir)
	absPath, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return filepath.ToSlash(path)
	}
	rel, err := filepath.Rel(absDir, absPath)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}
