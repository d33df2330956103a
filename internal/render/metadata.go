package render

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/slackexporter/slackexporter/internal/group"
)

// EventType is the event_type of the metadata every top-level message
// carries.
const EventType = "otel_log_records"

// metadata is what a message tells machines (another gateway taking over
// the channel, a workflow): how many records it stands for, and the count
// first-seen time (Unix milliseconds), severity number and service of each
// fingerprint it shows, in the order shown: what its header and a later
// update need. Slack wants payloads
// flat, so the lists are comma-separated strings. Fingerprints are hashes:
// the payload holds no record text, since the whole workspace can read it.
func metadata(entries []*group.Entry, folded, foldedGroups int) *slack.SlackMetadata {
	var fps, counts, firsts, severities strings.Builder
	services := make([]string, len(entries))
	records := folded
	for i, e := range entries {
		if i > 0 {
			fps.WriteByte(',')
			counts.WriteByte(',')
			firsts.WriteByte(',')
			severities.WriteByte(',')
		}
		fps.WriteString(e.Fingerprint)
		counts.WriteString(strconv.Itoa(e.Count))
		firsts.WriteString(strconv.FormatInt(e.First.UnixMilli(), 10))
		severities.WriteString(strconv.Itoa(int(e.Severity)))
		services[i] = clip(e.Service, 100) // as the entry shows it: a payload stays small
		records += e.Count
	}
	// Service names may hold commas: a JSON array, in a string to stay flat.
	servicesJSON, _ := json.Marshal(services)
	return &slack.SlackMetadata{EventType: EventType, EventPayload: map[string]any{
		"records":        records,
		"folded_records": folded,
		"folded_groups":  foldedGroups,
		"fingerprints":   fps.String(),
		"counts":         counts.String(),
		"first_seen":     firsts.String(),
		"severities":     severities.String(),
		"services":       string(servicesJSON),
	}}
}
