package slackexporter

// Clicks from Slack in TestDeliveryInvariants: in half the token-mode runs
// interactivity is on, and before some pushes someone mutes, unmutes or
// acknowledges a random entry of a random message. Drawn from their own
// random source, so a seed's run without them is what it always was.

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"

	"github.com/slackexporter/slackexporter/internal/memstorage"
	"github.com/slackexporter/slackexporter/internal/render"
	"github.com/slackexporter/slackexporter/internal/slackemu"
)

// clickUser is who clicks in these runs.
const clickUser = "U0INV"

// muteRun is a run's clicks and the mutes they put in force.
type muteRun struct {
	rng       *rand.Rand
	persisted bool // mutes outlive a restart (interactivity.storage)

	mu        sync.Mutex
	intervals []*muteInterval
	clicks    int
}

// muteInterval is a fingerprint (by its marker) muted in a channel, from
// after the Mute click returned until before the Unmute click (or the
// restart that forgot it) began; to is zero while it holds.
type muteInterval struct {
	channel, marker string
	from, to        time.Time
}

// configureMutes turns interactivity on in half the token-mode runs. Mutes
// last a year, so no jump of the clock ends one: an interval ends only by
// a click or a restart that forgets it.
func (w *world) configureMutes(cfg *Config, webhookMode bool, host hostWith) {
	r := rand.New(rand.NewPCG(w.seed, 0x3e7e))
	if webhookMode || r.IntN(2) == 0 {
		return
	}
	ic := defaultInteractivity()
	ic.AppToken = testAppToken
	ic.MuteDurations = []time.Duration{8760 * time.Hour}
	w.mute = &muteRun{rng: r}
	if r.IntN(2) == 0 {
		id := component.MustNewID("mute_storage")
		ic.Storage = &id
		host[id] = memstorage.New()
		w.mute.persisted = true
	}
	cfg.Interactivity = configoptional.Some(ic)
	w.logf("interactivity: mutes persisted=%v", w.mute.persisted)
}

// entryMenus are the entries of a message that offer a menu: block id →
// the entry's marker.
func entryMenus(raw json.RawMessage) map[string]string {
	var blocks []struct {
		BlockID string `json:"block_id"`
		Text    *struct {
			Text string `json:"text"`
		} `json:"text"`
		Accessory *struct {
			ActionID string `json:"action_id"`
		} `json:"accessory"`
	}
	out := map[string]string{}
	if json.Unmarshal(raw, &blocks) != nil {
		return out
	}
	for _, b := range blocks {
		if b.Accessory != nil && b.Accessory.ActionID == render.ActionID && b.Text != nil {
			if m := markerOf(b.Text.Text); m != "" {
				out[b.BlockID] = m
			}
		}
	}
	return out
}

// maybeClick clicks, before one push in two, an entry of a message Slack shows.
func (w *world) maybeClick() {
	m := w.mute
	if m == nil || m.rng.IntN(2) != 0 {
		return
	}
	var candidates []slackemu.Message
	for _, msg := range w.emu.Messages() {
		if msg.ThreadTS == "" && len(entryMenus(msg.Blocks)) > 0 {
			candidates = append(candidates, msg)
		}
	}
	if len(candidates) == 0 {
		return
	}
	msg := candidates[m.rng.IntN(len(candidates))]
	menus := entryMenus(msg.Blocks)
	ids := make([]string, 0, len(menus))
	for id := range menus {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	blockID := ids[m.rng.IntN(len(ids))]
	marker := menus[blockID]
	value := []string{render.MuteValue(8760 * time.Hour), render.MuteValue(8760 * time.Hour), render.ValueUnmute, render.ValueAck}[m.rng.IntN(4)]
	w.logf("click %s on %s in %s (%s)", value, marker, msg.Channel, msg.TS)
	c := click{user: clickUser, channelID: msg.ChannelID, channelName: strings.TrimPrefix(msg.Channel, "#"), messageTS: msg.TS,
		blockID: blockID, actionID: render.ActionID, value: value, eventType: render.EventType}
	m.mu.Lock()
	m.clicks++
	if value == render.ValueUnmute {
		m.end(msg.Channel, marker, time.Now())
	}
	m.mu.Unlock()
	require.NoError(w.t, w.current().applyClick(w.t.Context(), c))
	if strings.HasPrefix(value, "mute:") {
		m.mu.Lock()
		if m.open(msg.Channel, marker) == nil {
			m.intervals = append(m.intervals, &muteInterval{channel: msg.Channel, marker: marker, from: time.Now()})
		}
		m.mu.Unlock()
	}
}

func (m *muteRun) open(channel, marker string) *muteInterval {
	for _, iv := range m.intervals {
		if iv.channel == channel && iv.marker == marker && iv.to.IsZero() {
			return iv
		}
	}
	return nil
}

func (m *muteRun) end(channel, marker string, at time.Time) {
	if iv := m.open(channel, marker); iv != nil {
		iv.to = at
	}
}

// forget ends every mute at a restart that does not keep them.
func (w *world) forgetMutes(at time.Time) {
	if w.mute == nil || w.mute.persisted {
		return
	}
	w.mute.mu.Lock()
	defer w.mute.mu.Unlock()
	for _, iv := range w.mute.intervals {
		if iv.to.IsZero() {
			iv.to = at
		}
	}
}

// mutedAny reports whether records may have been muted in this run.
func (w *world) mutedAny() bool {
	if w.mute == nil {
		return false
	}
	w.mute.mu.Lock()
	defer w.mute.mu.Unlock()
	return len(w.mute.intervals) > 0
}

// checkMutes is promise 8: while a fingerprint is muted in a channel, no
// message and no reply there shows it (and so none pings anyone for it).
func (w *world) checkMutes(msgs []slackemu.Message) {
	if w.mute == nil {
		return
	}
	w.mute.mu.Lock()
	defer w.mute.mu.Unlock()
	for _, iv := range w.mute.intervals {
		w.checks++
		for _, msg := range msgs {
			if msg.Channel != iv.channel || msg.ReceivedAt.Before(iv.from) || (!iv.to.IsZero() && !msg.ReceivedAt.Before(iv.to)) {
				continue
			}
			s, err := parseShown(msg.Blocks)
			if err != nil {
				continue // check 1 reports it
			}
			for _, e := range s.entries {
				if e.marker == iv.marker {
					w.fail("check 8: %s in %s was muted from %s, yet message %s (reply to %q) showing it arrived at %s",
						iv.marker, iv.channel, iv.from.Format(time.StampMicro), msg.TS, msg.ThreadTS, msg.ReceivedAt.Format(time.StampMicro))
				}
			}
		}
	}
}
