package interactivity

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/log"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// The exporter's metrics read here, as the collector exposes them.
const (
	metricDelivered    = "otelcol_exporter_slack_records_delivered"
	metricMuted        = "otelcol_exporter_slack_records_muted"
	metricInteractions = "otelcol_exporter_slack_interactions"
)

// results are every value of interactions' result attribute.
var results = []string{"accepted", "bad_signature", "stale", "replay", "forbidden", "unknown_message"}

const (
	// oncall is the Slack user who clicks, unless a test says otherwise.
	oncall = "U0ONCALL"
	// actionID names every entry's overflow menu.
	actionID = "otel_entry"
	// wait bounds every wait: generous, for a loaded 2-core machine.
	wait = 30 * time.Second
)

// config is a complete collector config: a bot token posting to #alerts
// with a short flush, and interactivity with the given settings (YAML at
// column 0, at the level of interactivity's keys).
func config(interactivity string) string {
	var b strings.Builder
	b.WriteString(`token: ${env:SLACK_BOT_TOKEN}
api_url: ${env:SLACK_API_URL}
channel: "#alerts"
sending_queue:
  batch:
    flush_timeout: 200ms
retry_on_failure:
  initial_interval: 100ms
  max_interval: 500ms
interactivity:
`)
	for line := range strings.SplitSeq(strings.Trim(interactivity, "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	return harness.SlackConfig(b.String())
}

// withFileStorage adds a file_storage extension in the collector's
// per-test storage directory (the same one across Restart).
func withFileStorage(cfg string) string {
	return "extensions:\n  file_storage:\n    directory: ${env:STORAGE_DIR}\n" +
		strings.Replace(cfg, "service:\n", "service:\n  extensions: [file_storage]\n", 1)
}

// randomSecret is prefix and random hex: a value found nowhere else, so a
// leak check cannot match by chance.
func randomSecret(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// diskFull sends n records of one error (one fingerprint) in one batch and
// waits until the collector has accepted them.
func diskFull(t *testing.T, col *harness.Collector, n int) {
	t.Helper()
	records := make([]log.Record, n)
	for i := range records {
		records[i] = harness.Record(log.SeverityError, "disk full on /var/lib/db")
	}
	col.SendLogs(t, harness.Service("db", "prod"), records...)
}

// waitCounter waits until the collector's counter equals want, and fails at
// once if it goes past it.
func waitCounter(t *testing.T, col *harness.Collector, want float64, name string, matchers ...string) {
	t.Helper()
	harness.Eventually(t, wait, func() error {
		got := col.Counter(t, name, matchers...)
		if got > want {
			t.Fatalf("%s%v = %v, more than the %v expected", name, matchers, got, want)
		}
		if got != want {
			return fmt.Errorf("%s%v = %v, want %v", name, matchers, got, want)
		}
		return nil
	})
}

// interactions is the collector's count of clicks by result (results never
// recorded are left out).
func interactions(t *testing.T, col *harness.Collector) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, r := range results {
		if v := col.Counter(t, metricInteractions, "result="+r); v != 0 {
			out[r] = v
		}
	}
	return out
}

// waitInteractions waits until the clicks counted by result are exactly want.
func waitInteractions(t *testing.T, col *harness.Collector, want map[string]float64) {
	t.Helper()
	harness.Eventually(t, wait, func() error {
		if got := interactions(t, col); fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("%s by result = %v, want %v", metricInteractions, got, want)
		}
		return nil
	})
}

// menu is an entry's overflow menu: its block and its options, label → value.
type menu struct {
	blockID string
	options map[string]string
}

// entryMenus reads the otel_entry overflow menus out of a message's blocks.
func entryMenus(t *testing.T, m harness.Message) []menu {
	t.Helper()
	var blocks []struct {
		BlockID   string `json:"block_id"`
		Accessory *struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Options  []struct {
				Text struct {
					Text string `json:"text"`
				} `json:"text"`
				Value string `json:"value"`
			} `json:"options"`
		} `json:"accessory"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatalf("message %s: blocks: %v", m.TS, err)
	}
	var out []menu
	for _, b := range blocks {
		if a := b.Accessory; a != nil && a.Type == "overflow" && a.ActionID == actionID {
			mu := menu{blockID: b.BlockID, options: map[string]string{}}
			for _, o := range a.Options {
				mu.options[o.Text.Text] = o.Value
			}
			out = append(out, mu)
		}
	}
	return out
}

// entry is the only top-level message in #alerts and its only entry's
// menu; anything else fails the test (every test here logs one error).
func entry(t *testing.T, emu *harness.Emulator) (harness.Message, menu) {
	t.Helper()
	var tops []harness.Message
	for _, m := range emu.Messages(t, "#alerts") {
		if m.ThreadTS == "" {
			tops = append(tops, m)
		}
	}
	if len(tops) != 1 {
		t.Fatalf("want one top-level message in #alerts, have %d:\n%s", len(tops), emu.MessagesText(t))
	}
	menus := entryMenus(t, tops[0])
	if len(menus) != 1 {
		t.Fatalf("want one entry menu (%s) in the message, have %d:\n%s", actionID, len(menus), tops[0].Blocks)
	}
	if !regexp.MustCompile(`^otel-.+-s$`).MatchString(menus[0].blockID) {
		t.Errorf("the entry's menu is in block %q, want otel-<fingerprint>-s", menus[0].blockID)
	}
	return tops[0], menus[0]
}

// waitEntry waits until the entry's message shows every one of want
// (its text and blocks, as posted) and returns it.
func waitEntry(t *testing.T, emu *harness.Emulator, want ...string) (harness.Message, menu) {
	t.Helper()
	var m harness.Message
	var mu menu
	harness.Eventually(t, wait, func() error {
		m, mu = entry(t, emu)
		for _, w := range want {
			if !m.Contains(w) {
				return fmt.Errorf("the entry does not show %q; it shows:\n%s", w, m.AllText())
			}
		}
		return nil
	})
	return m, mu
}

// settled waits until nothing has changed in Slack for a second (longer
// than the 200ms flush) and returns every message, posts and updates, as
// one string to compare.
func settled(t *testing.T, emu *harness.Emulator) string {
	t.Helper()
	b, err := json.Marshal(emu.WaitQuiet(t, time.Second, wait))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// clickSpec is POST /_emu/click's body (see internal/slackemu/click.go).
type clickSpec struct {
	Channel      string `json:"channel"`
	TS           string `json:"ts"`
	BlockID      string `json:"block_id"`
	ActionID     string `json:"action_id"`
	Value        string `json:"value"`
	UserID       string `json:"user_id"`
	Via          string `json:"via,omitempty"`
	BadSignature bool   `json:"bad_signature,omitempty"`
	Stale        bool   `json:"stale,omitempty"`
	Replay       bool   `json:"replay,omitempty"`
	Oversize     bool   `json:"oversize,omitempty"`
	Forge        bool   `json:"forge,omitempty"`
	ElementType  string `json:"element_type,omitempty"`
}

// clickResult is its answer.
type clickResult struct {
	Via         string `json:"via"`
	Acked       bool   `json:"acked"`
	Status      int    `json:"status"`
	FirstStatus int    `json:"first_status"`
	Error       string `json:"error"`
}

// option is a click by oncall on the option labelled label of the entry's
// menu in m, over via.
func option(t *testing.T, m harness.Message, mu menu, label, via string) clickSpec {
	t.Helper()
	v, ok := mu.options[label]
	if !ok {
		t.Fatalf("the entry's menu has no %q: %v", label, mu.options)
	}
	return clickSpec{Channel: m.ChannelID, TS: m.TS, BlockID: mu.blockID, ActionID: actionID, Value: v, UserID: oncall, Via: via}
}

// click has the emulator send a click, and fails the test if it could not
// be sent at all.
func click(t *testing.T, emu *harness.Emulator, c clickSpec) clickResult {
	t.Helper()
	res, err := tryClick(emu, c)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// tryClick is click that returns why the click could not be sent (e.g. no
// Socket Mode connection open) instead of failing the test.
func tryClick(emu *harness.Emulator, c clickSpec) (clickResult, error) {
	var res clickResult
	body, err := json.Marshal(c)
	if err != nil {
		return res, err
	}
	resp, err := http.Post(emu.URL+"/_emu/click", "application/json", bytes.NewReader(body))
	if err != nil {
		return res, fmt.Errorf("POST /_emu/click: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("POST /_emu/click %s: %s: %s", body, resp.Status, b)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("POST /_emu/click: %s: %w", b, err)
	}
	return res, nil
}

// socketClick clicks over Socket Mode and fails unless the collector acked.
func socketClick(t *testing.T, emu *harness.Emulator, c clickSpec) {
	t.Helper()
	c.Via = "socket"
	if res := click(t, emu, c); !res.Acked || res.Error != "" || res.Via != "socket" {
		t.Fatalf("click %s over Socket Mode: %+v, want acked", c.Value, res)
	}
}

// waitSocket waits until the collector holds a Socket Mode connection to
// the emulator: before that, a click has nowhere to go.
func waitSocket(t *testing.T, emu *harness.Emulator) {
	t.Helper()
	harness.Eventually(t, wait, func() error {
		resp, err := http.Get(emu.URL + "/_emu/sockets")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var s struct {
			Open int `json:"open"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			return err
		}
		if s.Open == 0 {
			return errors.New("no Socket Mode connection open")
		}
		return nil
	})
}
