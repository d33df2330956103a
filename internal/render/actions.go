package render

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slackexporter/slackexporter/internal/group"
)

// ActionID names the overflow menu every entry offers with interactivity;
// its block is the entry's section (EntryFingerprint reads it back).
const ActionID = "otel_entry"

// The values of the menu's options. A mute's value carries its duration,
// so that a click on an older message means what its menu said.
const (
	ValueAck      = "ack"
	ValueUnmute   = "unmute"
	valueMutePref = "mute:"
)

// Actions is what entries offer when interactivity is on: Mute for each of
// MuteDurations, Acknowledge, and Unmute while muted. State says how a
// fingerprint stands now; nil means no entry is muted or acknowledged.
type Actions struct {
	MuteDurations []time.Duration
	State         func(fingerprint string) EntryState
}

// EntryState is what the people in a channel decided about a fingerprint.
// User fields are Slack user ids, checked with IsUserID before use.
type EntryState struct {
	MutedBy    string
	MutedUntil time.Time // zero: not muted
	// UnmutedBy clicked Unmute; when it is empty and MuteEnded is set, the
	// mute ran out.
	UnmutedBy string
	MuteEnded time.Time
	AckedBy   string
}

// actionsReserve is room per entry for what a click adds to it: the status
// line and the Unmute option, so a click never pushes a message over
// Slack's size budget.
const actionsReserve = 260

// reserve is the room an entry keeps for its live updates.
func (l *Layout) reserve() int {
	if l.Actions != nil {
		return liveReserve + actionsReserve
	}
	return liveReserve
}

// MuteValue is the option value that mutes for d.
func MuteValue(d time.Duration) string { return valueMutePref + d.String() }

// ParseMute reads the duration out of a Mute option's value.
func ParseMute(value string) (time.Duration, bool) {
	s, ok := strings.CutPrefix(value, valueMutePref)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d > 0
}

// EntryFingerprint is the fingerprint of the entry a block belongs to.
func EntryFingerprint(blockID string) (string, bool) {
	rest, ok := strings.CutPrefix(blockID, "otel-")
	if !ok {
		return "", false
	}
	fp, ok := strings.CutSuffix(rest, "-s")
	return fp, ok && fp != ""
}

var userID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// IsUserID reports whether s is a Slack user id: it is the only text from a
// click that a message shows, as a mention, so nothing else may pass.
func IsUserID(s string) bool { return userID.MatchString(s) }

// menu is the entry's overflow menu.
func (l *Layout) menu(st EntryState) *slack.OverflowBlockElement {
	var opts []*slack.OptionBlockObject
	for _, d := range l.Actions.MuteDurations {
		opts = append(opts, option("Mute "+shortDuration(d), MuteValue(d)))
	}
	opts = append(opts, option("Acknowledge", ValueAck))
	if !st.MutedUntil.IsZero() {
		opts = append(opts, option("Unmute", ValueUnmute))
	}
	return slack.NewOverflowBlockElement(ActionID, opts...)
}

func option(text, value string) *slack.OptionBlockObject {
	return slack.NewOptionBlockObject(value, slack.NewTextBlockObject(slack.PlainTextType, text, false, false), nil)
}

// statusText says who muted or acknowledged an entry, or "" when nobody
// did.
func statusText(st EntryState) string {
	var parts []string
	switch {
	case !st.MutedUntil.IsZero() && IsUserID(st.MutedBy):
		parts = append(parts, "🔇 muted by <@"+st.MutedBy+"> until "+clock(st.MutedUntil))
	case IsUserID(st.UnmutedBy):
		parts = append(parts, "🔔 unmuted by <@"+st.UnmutedBy+">")
	case !st.MuteEnded.IsZero():
		parts = append(parts, "🔔 mute ended at "+clock(st.MuteEnded))
	}
	if IsUserID(st.AckedBy) {
		parts = append(parts, "👀 <@"+st.AckedBy+"> is on it")
	}
	return strings.Join(parts, " · ")
}

// clock is a time as an entry shows it: the time of day in UTC, with the
// date when it is not today.
func clock(t time.Time) string {
	t = t.UTC()
	if y, m, d := time.Now().UTC().Date(); t.Year() == y && t.Month() == m && t.Day() == d {
		return t.Format("15:04") + " UTC"
	}
	return t.Format("Jan 2 15:04") + " UTC"
}

// shortDuration writes 1h for 1h0m0s, 24h for 24h0m0s, 90m for 1h30m0s.
func shortDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// muteMetadata adds to a message's metadata, when any entry is muted, until
// when (Unix milliseconds, 0 for none) and by whom, per fingerprint in the
// order shown: a gateway that takes the channel over reads the mutes back
// with the counts.
func (l *Layout) muteMetadata(entries []*group.Entry, payload map[string]any) {
	if l.Actions == nil || l.Actions.State == nil {
		return
	}
	until, by := make([]string, len(entries)), make([]string, len(entries))
	muted := false
	for i, e := range entries {
		until[i] = "0"
		if st := l.Actions.State(e.Fingerprint); !st.MutedUntil.IsZero() && IsUserID(st.MutedBy) {
			until[i], by[i], muted = strconv.FormatInt(st.MutedUntil.UnixMilli(), 10), st.MutedBy, true
		}
	}
	if muted {
		payload["muted_until"] = strings.Join(until, ",")
		payload["muted_by"] = strings.Join(by, ",")
	}
}

// Mute is a mute a message's metadata says is in force on one of its
// entries.
type Mute struct {
	Fingerprint string
	By          string
	Until       time.Time
}

// readMutes reads the mutes of a read-back message's entries; a message
// without them, or with lists that do not match its fingerprints, has none.
func readMutes(p map[string]any, fps []string) []Mute {
	until, err1 := payloadList(p, "muted_until")
	by, err2 := payloadList(p, "muted_by")
	if err1 != nil || err2 != nil || len(until) != len(fps) || len(by) != len(fps) {
		return nil
	}
	var out []Mute
	for i, fp := range fps {
		ms, err := strconv.ParseInt(until[i], 10, 64)
		// An entry not muted has 0 and no user; a mute that has ended
		// since is turned away by whoever restores it.
		if err != nil || !IsUserID(by[i]) {
			continue
		}
		out = append(out, Mute{Fingerprint: fp, By: by[i], Until: time.UnixMilli(ms).UTC()})
	}
	return out
}
