package render

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slackexporter/slackexporter/internal/group"
)

// throughSlack is what a reader gets back from Slack: the metadata and the
// blocks, decoded by slack-go from their JSON.
func throughSlack(t *testing.T, m Message) (slack.SlackMetadata, []slack.Block) {
	t.Helper()
	raw, err := json.Marshal(m.Blocks)
	require.NoError(t, err)
	var bs slack.Blocks
	require.NoError(t, json.Unmarshal(raw, &bs))
	rawMeta, err := json.Marshal(m.Metadata)
	require.NoError(t, err)
	var meta slack.SlackMetadata
	require.NoError(t, json.Unmarshal(rawMeta, &meta))
	return meta, bs.BlockSet
}

func liveEntries() []*group.Entry {
	var entries []*group.Entry
	for i := range 3 {
		e := entry(fmt.Sprintf("svc-%d", i), fmt.Sprintf("error <%d> & *%s*", i, strings.Repeat("y", i*50)), []int{5, 4, 1}[i])
		e.Fingerprint = fmt.Sprintf("%032x", i+1)
		e.First = t0.Add(time.Duration(i) * time.Minute)
		e.Attributes = []group.Attr{{Key: "order", Value: strconv.Itoa(i)}}
		entries = append(entries, e)
	}
	return entries
}

func TestAMessageReadBackRendersAsSlackShowsIt(t *testing.T) {
	l := &Layout{Mention: "<!here>"}
	posted := l.Live(liveEntries(), 40, 3)
	meta, blocks := throughSlack(t, posted)

	s, ok, err := ReadBack(meta, blocks)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, 40, s.Folded)
	assert.Equal(t, 3, s.FoldedGroups)
	require.Len(t, s.Entries, 3)
	for i, e := range s.Entries {
		assert.Equal(t, liveEntries()[i].Fingerprint, e.Fingerprint)
		assert.Equal(t, liveEntries()[i].Count, e.Count)
		assert.True(t, liveEntries()[i].First.Equal(e.First), "first seen %s, want %s", e.First, liveEntries()[i].First)
	}

	again := l.Live(s.Entries, s.Folded, s.FoldedGroups)
	assert.Equal(t, jsonOf(t, posted.Blocks), jsonOf(t, again.Blocks), "read back and rendered again, the message is the same")
	assert.Equal(t, posted.Metadata, again.Metadata)

	// A record of the second fingerprint arrives: that entry is rendered
	// from it with the count Slack showed plus one; the others stay as shown.
	sample := liveEntries()[1]
	adopted := *sample
	adopted.Count = s.Entries[1].Count + 1
	s.Entries[1] = &adopted
	updated := l.Live(s.Entries, s.Folded, s.FoldedGroups)
	requireWithinLimits(t, updated)
	assert.Equal(t, jsonOf(t, posted.Blocks[2:4]), jsonOf(t, updated.Blocks[2:4]), "the first entry is untouched")
	assert.Equal(t, jsonOf(t, posted.Blocks[6:]), jsonOf(t, updated.Blocks[6:]), "the third entry and the fold line are untouched")
	assert.Contains(t, texts(updated)[0]+strings.Join(texts(updated), "\n"), "×5")
	assert.Equal(t, 5+5+1+40, updated.Metadata.EventPayload["records"])
}

func TestReadBackRefusesWhatItCannotShow(t *testing.T) {
	posted := (&Layout{}).Live(liveEntries(), 0, 0)
	meta, blocks := throughSlack(t, posted)

	_, ok, err := ReadBack(slack.SlackMetadata{EventType: "someone_else"}, blocks)
	assert.False(t, ok, "not ours")
	require.NoError(t, err)

	_, ok, err = ReadBack(meta, blocks[:3])
	assert.True(t, ok)
	require.ErrorContains(t, err, "missing", "an entry whose blocks are gone cannot be shown again")

	for key, bad := range map[string]any{"counts": "5,x,3", "first_seen": "1", "folded_records": "many", "fingerprints": 7, "severities": "17,a,17", "services": "svc"} {
		broken := slack.SlackMetadata{EventType: EventType, EventPayload: map[string]any{}}
		for k, v := range meta.EventPayload {
			broken.EventPayload[k] = v
		}
		broken.EventPayload[key] = bad
		_, ok, err := ReadBack(broken, blocks)
		assert.True(t, ok)
		assert.Error(t, err, "%s = %v", key, bad)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
