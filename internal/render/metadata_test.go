package render

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slackexporter/slackexporter/internal/group"
)

// requireMetadataStandsFor checks a message's metadata against what it
// shows: its records, folded ones included, and each entry's count.
func requireMetadataStandsFor(t *testing.T, m Message, records, folded, foldedGroups int) {
	t.Helper()
	require.NotNil(t, m.Metadata)
	assert.Equal(t, EventType, m.Metadata.EventType)
	p := m.Metadata.EventPayload
	for k, v := range p {
		switch v.(type) {
		case string, int:
		default:
			t.Errorf("payload %s is a %T: payloads are flat", k, v)
		}
	}
	assert.Equal(t, records, p["records"])
	assert.Equal(t, folded, p["folded_records"])
	assert.Equal(t, foldedGroups, p["folded_groups"])
	var fps, counts []string
	for _, e := range m.Entries {
		fps = append(fps, e.Fingerprint)
		counts = append(counts, strconv.Itoa(e.Count))
	}
	assert.Equal(t, strings.Join(fps, ","), p["fingerprints"])
	assert.Equal(t, strings.Join(counts, ","), p["counts"])
}

func TestMetadataStandsForTheRecordsAMessageShowsOrFolds(t *testing.T) {
	var entries []*group.Entry
	for i := range 120 {
		e := entry("svc", fmt.Sprintf("error %d %s", i, strings.Repeat("x", 300)), i%4+1)
		e.Fingerprint = fmt.Sprintf("%032x", i)
		entries = append(entries, e)
	}
	msgs := Messages(entries, 2)
	require.Len(t, msgs, 2)
	require.NotEmpty(t, msgs[1].Folded)
	for _, m := range msgs {
		requireMetadataStandsFor(t, m, m.Records(), m.FoldedRecords(), len(m.Folded))
	}

	live := (&Layout{Mention: "<!here>"}).Live(entries[:3], 7, 2)
	requireMetadataStandsFor(t, live, entries[0].Count+entries[1].Count+entries[2].Count+7, 7, 2)
}

func TestMetadataNamesTheDestinationWhenTheLayoutHasOne(t *testing.T) {
	e := entry("svc", "boom", 1)
	tagged := (&Layout{Destination: "0a1b2c"}).Live([]*group.Entry{e}, 0, 0)
	assert.Equal(t, "0a1b2c", tagged.Metadata.EventPayload["destination"])
	plain := (&Layout{}).Live([]*group.Entry{e}, 0, 0)
	assert.NotContains(t, plain.Metadata.EventPayload, "destination")
}

func TestMetadataHoldsNoRecordText(t *testing.T) {
	e := entry("checkout", "card 4242 declined for alice@example.com", 2)
	e.Fingerprint = strings.Repeat("ab", 16)
	e.Attributes = []group.Attr{{Key: "user", Value: "alice"}}
	m := Messages([]*group.Entry{e}, 1)[0]
	for k, v := range m.Metadata.EventPayload {
		s := fmt.Sprint(v)
		// The service is in the header for all to see; the body and the
		// attributes are not in the payload.
		for _, secret := range []string{"alice", "4242", "declined"} {
			assert.NotContains(t, s, secret, "payload %s", k)
		}
	}
}

func TestMetadataKeepsAServiceNameAsShort(t *testing.T) {
	e := entry(strings.Repeat("s", 5000), "boom", 1)
	m := Messages([]*group.Entry{e}, 1)[0]
	var services []string
	require.NoError(t, json.Unmarshal([]byte(m.Metadata.EventPayload["services"].(string)), &services))
	require.Len(t, services, 1)
	assert.LessOrEqual(t, utf8.RuneCountInString(services[0]), 100, "as the entry shows it")
	assert.True(t, strings.HasPrefix(services[0], "sss"))
}
