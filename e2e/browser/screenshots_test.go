package browser

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// TestScreenshots takes the README's pictures from a live storm: the
// message with its count (message.png) and its thread opened (thread.png).
// They go to SCREENSHOTS_DIR (make screenshots: docs/img), else to a
// temporary directory, so that make test checks they can be taken.
func TestScreenshots(t *testing.T) {
	chromium(t)
	dir := os.Getenv("SCREENSHOTS_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	emu := harness.StartEmulator(t)
	col := harness.StartCollector(t, harness.SlackConfig(collectorConfig), emu.Env()...)
	p := openPage(t, emu.URL+"/")
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 700, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}

	res := harness.Service("checkout", "dev")
	stock := func(n, seed int) []log.Record {
		out := make([]log.Record, n)
		for i := range out {
			out[i] = harness.Record(log.SeverityError,
				fmt.Sprintf("failed to reserve stock for order ord-%d: item 770 out of stock", 10100+seed*50+i),
				attribute.String("warehouse", "eu-west"))
		}
		return out
	}
	declined := harness.Record(log.SeverityError, "payment declined by provider",
		attribute.String("order_id", "ord-10042"), attribute.Int("http.status_code", 402))
	col.SendLogs(t, res, append(stock(14, 0), declined)...)
	var top harness.Message
	harness.Eventually(t, 30*time.Second, func() error {
		for _, m := range emu.Messages(t, "#alerts") {
			if m.ThreadTS == "" && m.Contains("×14") {
				top = m
				return nil
			}
		}
		return fmt.Errorf("no message shows ×14:\n%s", emu.MessagesText(t))
	})
	// The storm goes on: the same message counts on, and samples it in its thread.
	col.SendLogs(t, res, stock(22, 1)...)
	harness.Eventually(t, 30*time.Second, func() error {
		replies := 0
		for _, m := range emu.Messages(t, "#alerts") {
			if m.ThreadTS == top.TS {
				replies++
			} else if m.TS == top.TS && !m.Contains("×36") {
				return fmt.Errorf("the message does not show ×36 yet:\n%s", emu.MessagesText(t))
			}
		}
		if replies == 0 {
			return fmt.Errorf("no reply in the thread yet:\n%s", emu.MessagesText(t))
		}
		return nil
	})
	msg := messageSel(top.TS)
	p.waitUntil(t, 20*time.Second, `(() => {
		const m = document.querySelector(`+js(msg)+`);
		return m && m.textContent.includes('×36') && m.querySelector('button.replies') ? '' : 'the message is not updated yet';
	})()`)
	shoot(t, p, msg, filepath.Join(dir, "message.png"))

	p.click(t, msg+` button.replies`)
	p.waitUntil(t, 5*time.Second, `document.getElementById('thread').hidden ? 'the thread is not open' : ''`)
	shoot(t, p, `#thread`, filepath.Join(dir, "thread.png"))
	p.checkClean(t)
}

// shoot writes a PNG of the element selector matches to path.
func shoot(t *testing.T, p *tab, selector, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(selector)))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", selector, err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", selector, err)
	}
	if r := img.Bounds(); r.Dx() < 200 || r.Dy() < 100 {
		t.Fatalf("screenshot of %s is only %dx%d", selector, r.Dx(), r.Dy())
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%dx%d, %d bytes)", path, img.Bounds().Dx(), img.Bounds().Dy(), len(b))
}
