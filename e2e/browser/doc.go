// Package browser drives headless Chromium (through chromedp) against the
// Slack emulator's inbox page while a real collector posts to the emulator:
// what the page shows, live, is what a person would see in Slack.
//
// The tests need Debian's chromium (found as chromium, chromium-browser, or
// CHROME_PATH). Without it they skip with a loud message, unless
// REQUIRE_BROWSER=1 (CI sets it), which makes a missing browser a failure.
// Chromium is started with everything that reaches out to the network turned
// off, and resolves no host but 127.0.0.1.
//
// TestScreenshots writes docs/img/message.png and docs/img/thread.png when
// SCREENSHOTS_DIR names the directory (make screenshots), else to a
// temporary one.
package browser
