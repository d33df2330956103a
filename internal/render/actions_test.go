package render

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slackexporter/slackexporter/internal/group"
)

func interactiveEntry() *group.Entry {
	e := entry("checkout", "disk full", 3)
	e.Fingerprint = "a1b2c3"
	return e
}

func sectionOf(t *testing.T, m Message) (*slack.SectionBlock, *slack.ContextBlock) {
	t.Helper()
	for i, b := range m.Blocks {
		if s, ok := b.(*slack.SectionBlock); ok && s.BlockID == "otel-a1b2c3-s" {
			return s, m.Blocks[i+1].(*slack.ContextBlock)
		}
	}
	t.Fatal("no entry section")
	return nil, nil
}

func optionValues(s *slack.SectionBlock) []string {
	var out []string
	for _, o := range s.Accessory.OverflowElement.Options {
		out = append(out, o.Text.Text+"="+o.Value)
	}
	return out
}

func TestAnEntryOffersItsMenuWithoutAnExtraBlock(t *testing.T) {
	plain := Messages([]*group.Entry{interactiveEntry()}, 1)[0]
	l := &Layout{Actions: &Actions{MuteDurations: []time.Duration{time.Hour, 24 * time.Hour, 90 * time.Minute}}}
	m := l.Messages([]*group.Entry{interactiveEntry()}, 1)[0]
	require.Len(t, m.Blocks, len(plain.Blocks), "the menu is the section's accessory")
	s, _ := sectionOf(t, m)
	assert.Equal(t, ActionID, s.Accessory.OverflowElement.ActionID)
	assert.Equal(t, []string{"Mute 1h=mute:1h0m0s", "Mute 24h=mute:24h0m0s", "Mute 90m=mute:1h30m0s", "Acknowledge=ack"}, optionValues(s))
	requireWithinLimits(t, m)
	requireNoMarkup(t, m)

	reply := l.WithoutMention().Messages([]*group.Entry{interactiveEntry()}, 1)[0]
	s, _ = sectionOf(t, reply)
	assert.Nil(t, s.Accessory, "a thread reply's sample has no menu: the parent's entry does")
}

func TestAnEntrySaysWhoMutedOrAcknowledgedIt(t *testing.T) {
	until := time.Now().UTC().Add(time.Hour).Truncate(time.Minute)
	for name, tc := range map[string]struct {
		st     EntryState
		status string
		unmute bool
	}{
		"muted":        {EntryState{MutedBy: "U0ONCALL", MutedUntil: until}, "🔇 muted by <@U0ONCALL> until " + clock(until), true},
		"acknowledged": {EntryState{AckedBy: "W0ONCALL"}, "👀 <@W0ONCALL> is on it", false},
		"both":         {EntryState{MutedBy: "U01", MutedUntil: until, AckedBy: "U02"}, "", true},
		"unmuted":      {EntryState{UnmutedBy: "U0OTHER", MuteEnded: until}, "🔔 unmuted by <@U0OTHER>", false},
		"ran out":      {EntryState{MuteEnded: until}, "🔔 mute ended at " + clock(until), false},
		"nothing":      {EntryState{}, "", false},
		// Only a Slack user id is ever written into a mention.
		"forged user": {EntryState{MutedBy: "<!channel>", AckedBy: "U1> <!here"}, "", false},
	} {
		l := &Layout{Actions: &Actions{MuteDurations: []time.Duration{time.Hour}, State: func(fp string) EntryState {
			require.Equal(t, "a1b2c3", fp)
			return tc.st
		}}}
		m := l.Live([]*group.Entry{interactiveEntry()}, 0, 0)
		s, c := sectionOf(t, m)
		first := c.ContextElements.Elements[0].(*slack.TextBlockObject).Text
		switch {
		case name == "both":
			assert.Equal(t, "🔇 muted by <@U01> until "+clock(until)+" · 👀 <@U02> is on it", first, name)
		case tc.status == "":
			assert.NotContains(t, first, "<@", name)
			assert.NotContains(t, first, "<!", name)
		default:
			assert.Equal(t, tc.status, first, name)
		}
		assert.Equal(t, tc.unmute, strings.Contains(strings.Join(optionValues(s), " "), "Unmute=unmute"), name)
		requireWithinLimits(t, m)
	}
}

func TestClickValuesReadBack(t *testing.T) {
	d, ok := ParseMute(MuteValue(24 * time.Hour))
	assert.True(t, ok)
	assert.Equal(t, 24*time.Hour, d)
	for _, bad := range []string{"mute:", "mute:-1h", "mute:0s", "mute:x", "ack", "unmute", "MUTE:1h"} {
		_, ok := ParseMute(bad)
		assert.False(t, ok, bad)
	}
	fp, ok := EntryFingerprint("otel-a1b2-s")
	assert.True(t, ok)
	assert.Equal(t, "a1b2", fp)
	for _, bad := range []string{"otel-a1b2-c", "otel--s", "a1b2-s", "otel-a1b2", ""} {
		_, ok := EntryFingerprint(bad)
		assert.False(t, ok, bad)
	}
	for id, want := range map[string]bool{"U0ONCALL": true, "W123": true, "U1": false, "u0oncall": false, "C0CHANNEL": false, "U0<!here>": false, "U" + strings.Repeat("A", 21): false} {
		assert.Equal(t, want, IsUserID(id), id)
	}
	assert.Equal(t, "1m30s", shortDuration(90*time.Second), "not a whole number of minutes")
}

// A new post pings nobody it does not mean to: the status, which names the
// people who clicked, is shown only by updates (an edit notifies nobody).
func TestANewPostShowsNoStatus(t *testing.T) {
	l := &Layout{Actions: &Actions{MuteDurations: []time.Duration{time.Hour}, State: func(string) EntryState {
		return EntryState{AckedBy: "U0ONCALL", UnmutedBy: "U0OTHER"}
	}}}
	m := l.Messages([]*group.Entry{interactiveEntry()}, 1)[0]
	requireNoMarkup(t, m)
	s, _ := sectionOf(t, m)
	assert.Equal(t, []string{"Mute 1h=mute:1h0m0s", "Acknowledge=ack"}, optionValues(s))
	assert.Contains(t, strings.Join(texts(l.Live([]*group.Entry{interactiveEntry()}, 0, 0)), "\n"), "👀 <@U0ONCALL> is on it")
}

// A message's metadata carries its entries' mutes, and reads back with
// them; without a mute in force it carries none.
func TestMutesTravelInTheMetadata(t *testing.T) {
	until := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	second := entry("payments", "ledger locked", 1)
	second.Fingerprint = "d4e5f6"
	l := &Layout{Actions: &Actions{MuteDurations: []time.Duration{time.Hour}, State: func(fp string) EntryState {
		if fp == "d4e5f6" {
			return EntryState{MutedBy: "U0ONCALL", MutedUntil: until, AckedBy: "U0OTHER"}
		}
		return EntryState{AckedBy: "U0OTHER", MuteEnded: until}
	}}}
	m := l.Live([]*group.Entry{interactiveEntry(), second}, 0, 0)
	assert.Equal(t, "0,"+strconv.FormatInt(until.UnixMilli(), 10), m.Metadata.EventPayload["muted_until"])
	assert.Equal(t, ",U0ONCALL", m.Metadata.EventPayload["muted_by"])
	s, ours, err := ReadBack(*m.Metadata, m.Blocks)
	require.NoError(t, err)
	require.True(t, ours)
	assert.Equal(t, []Mute{{Fingerprint: "d4e5f6", By: "U0ONCALL", Until: until}}, s.Mutes)

	quiet := &Layout{Actions: &Actions{MuteDurations: []time.Duration{time.Hour}, State: func(string) EntryState { return EntryState{AckedBy: "U0OTHER"} }}}
	assert.NotContains(t, quiet.Live([]*group.Entry{interactiveEntry()}, 0, 0).Metadata.EventPayload, "muted_until")

	for name, p := range map[string]map[string]any{
		"lists of another length": {"muted_until": "1", "muted_by": "U0ONCALL"},
		"not a user":              {"muted_until": "0,1", "muted_by": ",<!here>"},
		"not a time":              {"muted_until": "0,soon", "muted_by": ",U0ONCALL"},
		"missing":                 {"muted_until": "0,1"},
	} {
		assert.Empty(t, readMutes(p, []string{"a1b2c3", "d4e5f6"}), name)
	}
}

// An entry's times are read at a glance: the time of day when it is today,
// with the date when it is not.
func TestStatusTimesCarryTheirDateUnlessToday(t *testing.T) {
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 9, 5, 0, 0, time.UTC)
	assert.Equal(t, "09:05 UTC", clock(today))
	assert.Equal(t, "09:05 UTC", clock(today.In(time.FixedZone("east", 3600))), "in UTC whatever the zone")
	for _, other := range []time.Time{today.AddDate(1, 0, 0), today.AddDate(0, 1, 0), today.AddDate(0, 0, 1)} {
		assert.Equal(t, other.Format("Jan 2")+" 09:05 UTC", clock(other))
	}
}
