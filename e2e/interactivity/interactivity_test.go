package interactivity

import (
	"strings"
	"testing"
	"time"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// defaultAppToken is the app-level token the emulator accepts unless
// started with -app-token.
const defaultAppToken = "xapp-emulator-token"

// socketMode starts the emulator and a collector that receives clicks over
// Socket Mode, with extra interactivity settings (YAML at column 0), and
// waits for its connection.
func socketMode(t *testing.T, extra string, wrap func(string) string) (*harness.Emulator, *harness.Collector) {
	t.Helper()
	emu := harness.StartEmulator(t)
	cfg := config("app_token: ${env:SLACK_APP_TOKEN}\n" + extra)
	if wrap != nil {
		cfg = wrap(cfg)
	}
	col := harness.StartCollector(t, cfg, append(emu.Env(), "SLACK_APP_TOKEN="+defaultAppToken)...)
	waitSocket(t, emu)
	return emu, col
}

// Socket Mode: Mute 1h on an entry is acked, the entry says who muted it
// and offers Unmute; the same error is then counted as muted, not shown;
// Unmute says who unmuted it, and the next record is shown again.
func TestSocketModeMuteAndUnmute(t *testing.T) {
	emu, col := socketMode(t, "", nil)
	diskFull(t, col, 1)
	waitCounter(t, col, 1, metricDelivered)
	diskFull(t, col, 1)
	waitCounter(t, col, 2, metricDelivered)
	m, mu := waitEntry(t, emu, "×2")
	if _, ok := mu.options["Unmute"]; ok {
		t.Errorf("the entry offers Unmute before any mute: %v", mu.options)
	}
	for label, value := range map[string]string{"Mute 1h": "mute:1h0m0s", "Mute 24h": "mute:24h0m0s", "Acknowledge": "ack"} {
		if mu.options[label] != value {
			t.Errorf("option %q has value %q, want %q (all: %v)", label, mu.options[label], value, mu.options)
		}
	}

	socketClick(t, emu, option(t, m, mu, "Mute 1h", "socket"))
	muted, mu := waitEntry(t, emu, "🔇 muted by <@"+oncall+"> until ", " UTC", "×2")
	if mu.options["Unmute"] != "unmute" {
		t.Errorf("a muted entry's menu does not offer Unmute: %v", mu.options)
	}
	waitInteractions(t, col, map[string]float64{"accepted": 1})

	for range 3 {
		diskFull(t, col, 1)
	}
	waitCounter(t, col, 3, metricMuted)
	// Nothing may follow: no post, no update, no reply. The quiet window
	// is longer than the 200ms flush, and records_muted is counted where
	// the records are dropped, so they are past the point of posting.
	msgs := emu.WaitQuiet(t, 2*time.Second, wait)
	after, _ := entry(t, emu)
	if len(msgs) != 1 || after.Updates != muted.Updates || !after.Contains("×2") {
		t.Errorf("muted records changed Slack: %d messages, the entry updated %d times (%d when muted):\n%s",
			len(msgs), after.Updates, muted.Updates, emu.MessagesText(t))
	}
	if got := col.Counter(t, metricDelivered); got != 2 {
		t.Errorf("%s = %v after muted records, want 2", metricDelivered, got)
	}

	socketClick(t, emu, option(t, after, mu, "Unmute", "socket"))
	m, mu = waitEntry(t, emu, "🔔 unmuted by <@"+oncall+">")
	if _, ok := mu.options["Unmute"]; ok || strings.Contains(m.AllText(), "🔇") {
		t.Errorf("an unmuted entry still shows the mute (menu %v):\n%s", mu.options, m.AllText())
	}
	diskFull(t, col, 1)
	waitCounter(t, col, 3, metricDelivered)
	waitEntry(t, emu, "×3")
	if got := col.Counter(t, metricMuted); got != 3 {
		t.Errorf("%s = %v after the unmute, want still 3", metricMuted, got)
	}
	waitInteractions(t, col, map[string]float64{"accepted": 2})
}
