package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser, or skips the test (fails it with
// REQUIRE_BROWSER=1) when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROME_PATH=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "NO CHROMIUM: neither chromium nor chromium-browser is on PATH and CHROME_PATH is unset, " +
		"so the inbox page was NOT tested in a browser (apt-get install chromium)"
	if os.Getenv("REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + "; REQUIRE_BROWSER=1 makes this a failure")
	}
	t.Skip("\n\n*** SKIPPED: " + msg + "; set REQUIRE_BROWSER=1 to fail instead ***\n")
	return ""
}

// tab is one browser tab and what its console reported.
type tab struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string // console errors, uncaught exceptions, dialogs
}

// openPage starts a headless Chromium with one tab on url, closed when the
// test ends. Everything the page writes to its console as an error, every
// uncaught exception and every dialog (alert) is collected; checkClean fails
// the test on any.
func openPage(t *testing.T, url string) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.WindowSize(1280, 900),
		// Nothing leaves the machine: no background services, no DNS, no proxy;
		// any host but 127.0.0.1 fails to resolve.
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater"),
		chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	if os.Geteuid() == 0 { // Chromium refuses to sandbox itself as root (CI containers)
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })

	p := &tab{ctx: ctx}
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chromium(t), err)
	}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleException, "assert":
				// The click endpoint's answer, whatever its status, is checked
				// in the page's status line; a 4xx is not a page error.
				if m.Source == "network" && strings.HasSuffix(m.URL, "/_emu/click") {
					continue
				}
				p.problem(fmt.Sprintf("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1))
			}
		}
	}()
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			p.problem("a dialog opened: " + ev.Message)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#channels"))); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
	t.Logf("Chromium started and the inbox opened in %v", time.Since(start).Round(time.Millisecond))
	return p
}

func (p *tab) problem(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, s)
}

// checkClean fails the test if the page reported an error so far.
func (p *tab) checkClean(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.problems {
		t.Error(s)
	}
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// eval runs expression in the page (5 s at most) and decodes its result.
func eval[T any](t *testing.T, p *tab, expression string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expression, err)
	}
	return v
}

// waitUntil evaluates expression, which returns "" once the page shows what
// is wanted and else says what it shows instead, until it returns "" or
// timeout passes.
func (p *tab) waitUntil(t *testing.T, timeout time.Duration, expression string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := eval[string](t, p, expression)
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			p.checkClean(t)
			t.Fatalf("the page did not get there within %v: %s", timeout, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// click clicks the element selector matches, as a person would (mouse events).
func (p *tab) click(t *testing.T, selector string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(selector))); err != nil {
		t.Fatalf("clicking %s: %v", selector, err)
	}
}

// messageSel selects the message with ts in the channel's list.
func messageSel(ts string) string { return `#messages .msg[data-ts="` + ts + `"]` }

// selectChannel shows a channel's messages.
func (p *tab) selectChannel(t *testing.T, name string) {
	t.Helper()
	p.click(t, `#channels .channel-link[data-channel=`+js(name)+`]`)
	p.waitUntil(t, 5*time.Second, `document.getElementById('channel-name').textContent === `+js(name)+
		` ? '' : 'the channel shown is ' + document.getElementById('channel-name').textContent`)
}

// clickOverflowOption opens the overflow menu of the block blockID (in the
// channel shown) and clicks its option whose value is value, and returns
// what the page's status line then says about the click: "click ACTION →
// STATUS ANSWER".
func (p *tab) clickOverflowOption(t *testing.T, blockID, value string) string {
	t.Helper()
	block := `#messages [data-block-id=` + js(blockID) + `]`
	before := eval[string](t, p, `document.getElementById('action').textContent`)
	p.click(t, block+` details.overflow > summary`)
	p.click(t, block+` details.overflow button.option[data-value=`+js(value)+`]`)
	p.waitUntil(t, 20*time.Second, `(() => {
		const s = document.getElementById('action').textContent;
		return s !== `+js(before)+` && / → /.test(s) ? '' : 'the status line says ' + JSON.stringify(s);
	})()`)
	return eval[string](t, p, `document.getElementById('action').textContent`)
}
