package render

import (
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
// of each fingerprint it shows, in the order shown. Slack wants payloads
// flat, so the lists are comma-separated strings. Fingerprints are hashes:
// the payload holds no record text, since the whole workspace can read it.
func metadata(entries []*group.Entry, folded, foldedGroups int) *slack.SlackMetadata {
	var fps, counts strings.Builder
	records := folded
	for i, e := range entries {
		if i > 0 {
			fps.WriteByte(',')
			counts.WriteByte(',')
		}
		fps.WriteString(e.Fingerprint)
		counts.WriteString(strconv.Itoa(e.Count))
		records += e.Count
	}
	return &slack.SlackMetadata{EventType: EventType, EventPayload: map[string]any{
		"records":        records,
		"folded_records": folded,
		"folded_groups":  foldedGroups,
		"fingerprints":   fps.String(),
		"counts":         counts.String(),
	}}
}
