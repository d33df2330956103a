package browser

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// interactiveConfig is collectorConfig with interactivity over Socket Mode.
const interactiveConfig = collectorConfig + `interactivity:
  app_token: ${env:SLACK_APP_TOKEN}
`

// entryBlock is the block id of the section holding the otel_entry
// overflow menu in m; the test fails if there is not exactly one.
func entryBlock(t *testing.T, m harness.Message) string {
	t.Helper()
	var blocks []struct {
		BlockID   string `json:"block_id"`
		Accessory struct {
			ActionID string `json:"action_id"`
		} `json:"accessory"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatalf("message %s: blocks: %v", m.TS, err)
	}
	var ids []string
	for _, b := range blocks {
		if b.Accessory.ActionID == "otel_entry" {
			ids = append(ids, b.BlockID)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("want one entry menu in message %s, found blocks %v:\n%s", m.TS, ids, m.Blocks)
	}
	return ids[0]
}

// A person mutes an entry from the inbox page: the page posts the click,
// the emulator hands it to the collector over Socket Mode, and the entry
// changes on the page, without a reload, to say who muted it, with Unmute
// in its menu; Unmute then says who unmuted it. The page logs no error.
func TestInboxMuteFromThePage(t *testing.T) {
	chromium(t) // skip, or fail, before starting anything
	emu := harness.StartEmulator(t)
	col := harness.StartCollector(t, harness.SlackConfig(interactiveConfig),
		append(emu.Env(), "SLACK_APP_TOKEN=xapp-emulator-token")...)
	col.SendLogs(t, harness.Service("checkout", "prod"), timeouts(3, 1)...)
	top, _ := stormMessage(t, emu, 3, 0)
	block := entryBlock(t, top)
	// A click from the page goes over Socket Mode only once the collector
	// has connected.
	harness.Eventually(t, 30*time.Second, func() error {
		resp, err := http.Get(emu.URL + "/_emu/sockets")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var s struct{ Open int }
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			return err
		}
		if s.Open == 0 {
			return errors.New("the collector has no Socket Mode connection open")
		}
		return nil
	})

	p := openPage(t, emu.URL+"/")
	p.selectChannel(t, "#alerts")
	eval[bool](t, p, `window.sameLoad = true`) // gone if the page reloads
	msg := messageSel(top.TS)
	entry := msg + ` [data-block-id=` + js(block) + `]`
	p.waitUntil(t, 20*time.Second, `(() => {
		const m = document.querySelector(`+js(msg)+`);
		if (!m) return 'no message ' + `+js(top.TS)+` + ' yet: ' + document.getElementById('messages').textContent;
		const opts = [...m.querySelectorAll(`+js(`[data-block-id=`+js(block)+`] button.option`)+`)].map((b) => b.dataset.value);
		return JSON.stringify(opts) === '["mute:1h0m0s","mute:24h0m0s","ack"]' ? '' : 'the entry offers ' + JSON.stringify(opts);
	})()`)

	acked := regexp.MustCompile(`^click otel_entry → 200 .*"via":"socket".*"acked":true`)
	if answer := p.clickOverflowOption(t, block, "mute:1h0m0s"); !acked.MatchString(answer) {
		t.Fatalf("after Mute 1h the status line says %q, want a 200 with an acked Socket Mode click", answer)
	}
	p.waitUntil(t, 20*time.Second, `(() => {
		const m = document.querySelector(`+js(msg)+`);
		if (!m) return 'the message is gone';
		if (!/🔇 muted by @U0EMULATOR until ([A-Z][a-z]{2} \d{1,2} )?\d\d:\d\d UTC/.test(m.textContent)) return 'the entry shows ' + m.textContent;
		if (!m.textContent.includes('(edited)')) return 'not marked (edited): ' + m.textContent;
		return m.querySelector(`+js(entry+` button.option[data-value="unmute"]`)+`) ? '' : 'the menu offers no Unmute: ' + m.textContent;
	})()`)
	if !eval[bool](t, p, `window.sameLoad === true`) {
		t.Fatal("the page reloaded to show the mute")
	}

	if answer := p.clickOverflowOption(t, block, "unmute"); !acked.MatchString(answer) {
		t.Fatalf("after Unmute the status line says %q, want a 200 with an acked Socket Mode click", answer)
	}
	p.waitUntil(t, 20*time.Second, `(() => {
		const m = document.querySelector(`+js(msg)+`);
		if (!m) return 'the message is gone';
		if (!m.textContent.includes('🔔 unmuted by @U0EMULATOR') || m.textContent.includes('🔇')) return 'the entry shows ' + m.textContent;
		return m.querySelector(`+js(entry+` button.option[data-value="unmute"]`)+`) ? 'the menu still offers Unmute' : '';
	})()`)
	p.checkClean(t)
}
