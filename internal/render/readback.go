package render

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/group"
)

// entryBlockID names an entry's blocks by its fingerprint, so that a
// process reading the message back can find each entry's blocks.
func entryBlockID(fingerprint, part string) string {
	return "otel-" + fingerprint + "-" + part
}

// shownBlocks are the blocks of an entry read back from Slack, if it is one.
func shownBlocks(e *group.Entry) ([]slack.Block, bool) {
	if e.Shown == nil {
		return nil, false
	}
	var bs slack.Blocks
	if err := json.Unmarshal(e.Shown, &bs); err != nil {
		return nil, false // ReadBack checked them; render from the entry
	}
	return bs.BlockSet, true
}

// Snapshot is a message as Slack shows it, read back from its metadata and
// blocks: its entries (each with its count, first-seen time and blocks in
// Shown) and its fold line.
type Snapshot struct {
	Entries              []*group.Entry
	Folded, FoldedGroups int
	// Destination is the Layout.Destination it was rendered with.
	Destination string
	// Mutes are those its entries showed as in force.
	Mutes []Mute
}

// ReadBack reads a top-level message this exporter posted, possibly from
// another process, out of its metadata and blocks. ok is false for a
// message that is not one of ours.
func ReadBack(meta slack.SlackMetadata, blocks []slack.Block) (s Snapshot, ok bool, err error) {
	if meta.EventType != EventType {
		return s, false, nil
	}
	p := meta.EventPayload
	folded, err1 := payloadInt(p, "folded_records")
	groups, err2 := payloadInt(p, "folded_groups")
	fps, err3 := payloadList(p, "fingerprints")
	counts, err4 := payloadList(p, "counts")
	firsts, err5 := payloadList(p, "first_seen")
	severities, err6 := payloadList(p, "severities")
	var services []string
	err7 := json.Unmarshal([]byte(fmt.Sprint(p["services"])), &services)
	for _, err := range []error{err1, err2, err3, err4, err5, err6, err7} {
		if err != nil {
			return s, true, err
		}
	}
	for _, l := range [][]string{counts, firsts, severities, services} {
		if len(l) != len(fps) {
			return s, true, fmt.Errorf("%d fingerprints, %d counts, %d first_seen, %d severities, %d services",
				len(fps), len(counts), len(firsts), len(severities), len(services))
		}
	}
	byID := map[string]slack.Block{}
	for _, b := range blocks {
		byID[b.ID()] = b
	}
	s.Folded, s.FoldedGroups = folded, groups
	s.Destination, _ = p["destination"].(string)
	s.Mutes = readMutes(p, fps)
	for i, fp := range fps {
		count, err := strconv.Atoi(counts[i])
		if err != nil || count < 1 {
			return s, true, fmt.Errorf("count %q of %s", counts[i], fp)
		}
		ms, err := strconv.ParseInt(firsts[i], 10, 64)
		if err != nil {
			return s, true, fmt.Errorf("first_seen %q of %s", firsts[i], fp)
		}
		section, context := byID[entryBlockID(fp, "s")], byID[entryBlockID(fp, "c")]
		if section == nil || context == nil {
			return s, true, fmt.Errorf("the blocks of %s are missing", fp)
		}
		shown, err := json.Marshal([]slack.Block{section, context})
		if err != nil {
			return s, true, err
		}
		severity, err := strconv.Atoi(severities[i])
		if err != nil {
			return s, true, fmt.Errorf("severity %q of %s", severities[i], fp)
		}
		first := time.UnixMilli(ms).UTC()
		s.Entries = append(s.Entries, &group.Entry{
			Fingerprint: fp, Severity: plog.SeverityNumber(severity), Service: services[i],
			Count: count, First: first, Last: first, Shown: shown,
		})
	}
	return s, true, nil
}

// payloadInt reads a number: JSON gives float64, a Go caller int.
func payloadInt(p map[string]any, key string) (int, error) {
	switch v := p[key].(type) {
	case float64:
		return int(v), nil
	case int:
		return v, nil
	}
	return 0, fmt.Errorf("metadata %s is %v, not a number", key, p[key])
}

func payloadList(p map[string]any, key string) ([]string, error) {
	v, ok := p[key].(string)
	if !ok {
		return nil, fmt.Errorf("metadata %s is %v, not a string", key, p[key])
	}
	if v == "" {
		return nil, nil
	}
	return strings.Split(v, ","), nil
}
