package interactivity

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

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
	_, mu = waitEntry(t, emu, "🔇 muted by <@"+oncall+"> until ", " UTC", "×2")
	before := settled(t, emu)
	if mu.options["Unmute"] != "unmute" {
		t.Errorf("a muted entry's menu does not offer Unmute: %v", mu.options)
	}
	waitInteractions(t, col, map[string]float64{"accepted": 1})

	for range 3 {
		diskFull(t, col, 1)
	}
	waitCounter(t, col, 3, metricMuted)
	// records_muted is counted where the records are dropped, past the
	// point of posting: nothing may follow (no post, update or reply).
	if now := settled(t, emu); now != before {
		t.Errorf("muted records changed Slack; it holds:\n%s", emu.MessagesText(t))
	}
	after, _ := entry(t, emu)
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

// requestURL starts the emulator, posting clicks signed with secret to the
// collector's request URL, and a collector that receives them there, with
// extra interactivity settings (YAML at column 0).
func requestURL(t *testing.T, secret, extra string) (*harness.Emulator, *harness.Collector) {
	t.Helper()
	// The emulator must know the URL before the collector listens on it.
	addr := "127.0.0.1:" + strconv.Itoa(harness.FreePort(t))
	emu := harness.StartEmulator(t, "-actions-url", "http://"+addr+"/slack/actions", "-signing-secret", secret)
	col := harness.StartCollector(t, config(`
signing_secret: ${env:SLACK_SIGNING_SECRET}
http:
  endpoint: ${env:ACTIONS_ENDPOINT}
`+extra), append(emu.Env(), "SLACK_SIGNING_SECRET="+secret, "ACTIONS_ENDPOINT="+addr)...)
	return emu, col
}

// The request URL refuses every click Slack did not sign or that is not
// for it, each with its status, counted under its result, changing
// nothing; a replayed click counts once; a genuine click mutes.
func TestRequestURLRefusesAllButGenuineClicks(t *testing.T) {
	emu, col := requestURL(t, randomSecret(t, "e2e-signing-"), "allowed_users: ["+oncall+"]\n")
	diskFull(t, col, 1)
	waitCounter(t, col, 1, metricDelivered)
	m, mu := waitEntry(t, emu)
	before := settled(t, emu)

	want := map[string]float64{}
	for _, tc := range []struct {
		name   string
		change func(*clickSpec)
		status int
		result string
	}{
		{"signed with another secret", func(c *clickSpec) { c.BadSignature = true }, http.StatusUnauthorized, "bad_signature"},
		{"signed 10 minutes ago", func(c *clickSpec) { c.Stale = true }, http.StatusUnauthorized, "stale"},
		{"a body over 1 MiB", func(c *clickSpec) { c.Oversize = true }, http.StatusRequestEntityTooLarge, "bad_signature"},
		{"a user not in allowed_users", func(c *clickSpec) { c.UserID = "U0STRANGER" }, http.StatusForbidden, "forbidden"},
		{"a message of another app", func(c *clickSpec) {
			c.Forge, c.TS, c.BlockID, c.ElementType = true, "1700000000.000100", "deploy-1", "overflow"
		}, http.StatusForbidden, "unknown_message"},
	} {
		c := option(t, m, mu, "Mute 1h", "http")
		tc.change(&c)
		if res := click(t, emu, c); res.Status != tc.status || res.Error != "" {
			t.Errorf("%s: answered %+v, want status %d", tc.name, res, tc.status)
		}
		want[tc.result]++
		waitInteractions(t, col, want)
	}
	if now := settled(t, emu); now != before {
		t.Errorf("refused clicks changed Slack; it holds:\n%s", emu.MessagesText(t))
	}
	// Nothing was muted: the same error is shown again, ×2.
	diskFull(t, col, 1)
	waitCounter(t, col, 2, metricDelivered)
	m, mu = waitEntry(t, emu, "×2")
	if s := m.AllText(); strings.Contains(s, "muted") || strings.Contains(s, "is on it") {
		t.Errorf("a refused click changed the entry:\n%s", s)
	}
	if got := col.Counter(t, metricMuted); got != 0 {
		t.Errorf("%s = %v after refused clicks, want 0", metricMuted, got)
	}

	// The same signed request twice: the first is applied, the second refused.
	ack := option(t, m, mu, "Acknowledge", "http")
	ack.Replay = true
	if res := click(t, emu, ack); res.FirstStatus != http.StatusOK || res.Status != http.StatusUnauthorized {
		t.Errorf("a replayed Acknowledge: answered %d then %d, want 200 then 401 (%+v)", res.FirstStatus, res.Status, res)
	}
	want["accepted"]++
	want["replay"]++
	waitInteractions(t, col, want)
	m, mu = waitEntry(t, emu, "👀 <@"+oncall+"> is on it")

	if res := click(t, emu, option(t, m, mu, "Mute 1h", "http")); res.Status != http.StatusOK {
		t.Fatalf("a genuine Mute 1h: answered %+v, want 200", res)
	}
	want["accepted"]++
	waitInteractions(t, col, want)
	waitEntry(t, emu, "🔇 muted by <@"+oncall+"> until ")
	diskFull(t, col, 1)
	waitCounter(t, col, 1, metricMuted)
	if got := col.Counter(t, metricDelivered); got != 2 {
		t.Errorf("%s = %v after a muted record, want still 2", metricDelivered, got)
	}
}

// A mute kept in file_storage outlives the collector: after a graceful
// stop and a start with the same config and directory, the muted error is
// counted, not posted.
func TestMuteSurvivesARestart(t *testing.T) {
	emu, col := socketMode(t, "storage: file_storage\n", withFileStorage)
	diskFull(t, col, 1)
	waitCounter(t, col, 1, metricDelivered)
	m, mu := waitEntry(t, emu)
	socketClick(t, emu, option(t, m, mu, "Mute 1h", "socket"))
	waitEntry(t, emu, "🔇 muted by <@"+oncall+"> until ")
	before := settled(t, emu)

	col.Restart(t) // SIGTERM, then the same config, ports and storage directory
	diskFull(t, col, 2)
	waitCounter(t, col, 2, metricMuted)
	if now := settled(t, emu); now != before {
		t.Errorf("after the restart, muted records changed Slack; it holds:\n%s", emu.MessagesText(t))
	}
	if got := col.Counter(t, metricDelivered); got != 0 {
		t.Errorf("%s = %v after the restart, want 0: the mute was forgotten", metricDelivered, got)
	}
}

// A mute runs out by itself: the entry then says when it ended, and the
// next record is shown again.
func TestMuteEnds(t *testing.T) {
	emu, col := socketMode(t, "mute_durations: [3s]\n", nil)
	diskFull(t, col, 1)
	waitCounter(t, col, 1, metricDelivered)
	m, mu := waitEntry(t, emu)
	if len(mu.options) != 2 || mu.options["Mute 3s"] != "mute:3s" {
		t.Fatalf("with mute_durations [3s], the menu offers %v, want Mute 3s and Acknowledge", mu.options)
	}
	socketClick(t, emu, option(t, m, mu, "Mute 3s", "socket"))
	// Not a wait on "muted by": a slow machine may show it for less than a
	// poll. "mute ended" appears only once a mute ran out.
	_, mu = waitEntry(t, emu, "🔔 mute ended at ", " UTC")
	if _, ok := mu.options["Unmute"]; ok {
		t.Errorf("the entry still offers Unmute after its mute ended: %v", mu.options)
	}
	diskFull(t, col, 1)
	waitCounter(t, col, 2, metricDelivered)
	waitEntry(t, emu, "×2")
	if got := col.Counter(t, metricMuted); got != 0 {
		t.Errorf("%s = %v, want 0: nothing was sent while muted", metricMuted, got)
	}
}

// Neither the app token nor the signing secret appears in what the
// collector writes (at debug level) or exposes as metrics, through
// connections, a dropped connection, genuine clicks and refused ones.
func TestSecretsStayOutOfTheCollectorsOutput(t *testing.T) {
	appToken := randomSecret(t, "xapp-e2e-")
	signing := randomSecret(t, "e2e-signing-")
	addr := "127.0.0.1:" + strconv.Itoa(harness.FreePort(t))
	emu := harness.StartEmulator(t, "-app-token", appToken, "-signing-secret", signing,
		"-actions-url", "http://"+addr+"/slack/actions")
	cfg := strings.Replace(config(`
app_token: ${env:SLACK_APP_TOKEN}
signing_secret: ${env:SLACK_SIGNING_SECRET}
http:
  endpoint: ${env:ACTIONS_ENDPOINT}
`), "level: info", "level: debug", 1)
	col := harness.StartCollector(t, cfg,
		append(emu.Env(), "SLACK_APP_TOKEN="+appToken, "SLACK_SIGNING_SECRET="+signing, "ACTIONS_ENDPOINT="+addr)...)
	waitSocket(t, emu)
	diskFull(t, col, 1)
	waitCounter(t, col, 1, metricDelivered)
	m, mu := waitEntry(t, emu)

	socketClick(t, emu, option(t, m, mu, "Acknowledge", "socket"))
	// A dropped connection makes the collector open a new one with the token.
	post(t, emu, "/_emu/sockets/disconnect?abrupt=true")
	waitSocket(t, emu)
	harness.Eventually(t, wait, func() error {
		res, err := tryClick(emu, option(t, m, mu, "Acknowledge", "socket"))
		if err == nil && !res.Acked {
			err = fmt.Errorf("a click after the reconnect: %+v", res)
		}
		return err
	})
	bad := option(t, m, mu, "Mute 1h", "http")
	bad.BadSignature = true
	if res := click(t, emu, bad); res.Status != http.StatusUnauthorized {
		t.Errorf("a click signed with another secret: %+v, want 401", res)
	}
	if res := click(t, emu, option(t, m, mu, "Mute 1h", "http")); res.Status != http.StatusOK {
		t.Errorf("a genuine click to the request URL: %+v, want 200", res)
	}
	waitEntry(t, emu, "🔇 muted by <@"+oncall+"> until ")

	metrics := col.MetricsText(t)
	col.Stop(t) // what it logs while stopping counts too
	logs := col.Logs()
	for name, secret := range map[string]string{"the app token": appToken, "the signing secret": signing} {
		// The random part alone: a prefix swapped or cut must not hide it.
		random := secret[strings.LastIndex(secret, "-")+1:]
		for what, out := range map[string]string{"log": logs, "metrics": metrics} {
			if strings.Contains(out, random) {
				t.Errorf("%s appears in the collector's %s", name, what) // not shown: it is one
			}
		}
	}
	if !strings.Contains(logs, "debug") {
		t.Error("the collector did not log at debug level: the check saw less than it could")
	}
}

// post sends an empty POST to the emulator's path and fails the test
// unless it answers 200.
func post(t *testing.T, emu *harness.Emulator, path string) {
	t.Helper()
	resp, err := http.Post(emu.URL+path, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", path, resp.Status)
	}
}
