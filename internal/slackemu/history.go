package slackemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Message metadata as Slack takes it: an event_type and a flat
// event_payload. Slack also accepts objects one level down; the emulator
// is stricter, because the exporter promises flat payloads.
const maxEventType = 255

type wireMetadata struct {
	EventType    string                     `json:"event_type"`
	EventPayload map[string]json.RawMessage `json:"event_payload"`
}

// checkMetadata validates metadata as sent (nil when absent) and returns it
// compacted.
func checkMetadata(raw json.RawMessage) (json.RawMessage, *violation) {
	if raw == nil {
		return nil, nil
	}
	var m wireMetadata
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &violation{"invalid_metadata_format", "[ERROR] metadata must be a JSON object"}
	}
	if m.EventType == "" || len(m.EventType) > maxEventType {
		return nil, &violation{"invalid_metadata_format", "[ERROR] metadata.event_type must be 1 to 255 characters"}
	}
	if m.EventPayload == nil {
		return nil, &violation{"invalid_metadata_format", "[ERROR] metadata.event_payload must be an object"}
	}
	for k, v := range m.EventPayload {
		switch bytes.TrimSpace(v)[0] {
		case '{', '[':
			return nil, &violation{"invalid_metadata_format", fmt.Sprintf("[ERROR] metadata.event_payload.%s is not a string, number or boolean", k)}
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, &violation{"invalid_metadata_format", "[ERROR] metadata is malformed JSON"}
	}
	return buf.Bytes(), nil
}

// conversationsHistory lists a channel's top-level messages, newest first,
// as Slack does: `limit` per page (default 100, at most 999), `cursor` for
// the next page, and each message's metadata only with
// include_all_metadata=true.
func (s *Server) conversationsHistory(c *call) reply {
	if e := s.authError(c); e != "" {
		return c.errorReply(e)
	}
	if c.channelID == "" {
		return c.errorReply("channel_not_found")
	}
	limit, skip, bad := paging(c, 999)
	if bad != "" {
		return c.errorReply(bad)
	}
	withMetadata := c.params["include_all_metadata"] == "true" || c.params["include_all_metadata"] == "1"
	oldest := c.params["oldest"] // only messages after it; ts strings of one width compare as numbers

	s.mu.Lock()
	defer s.mu.Unlock()
	var page []map[string]any
	seen, more := 0, false
	for i := len(s.msgs) - 1; i >= 0; i-- {
		m := s.msgs[i]
		if m.ChannelID != c.channelID || m.ThreadTS != "" || (oldest != "" && !tsAfter(m.TS, oldest)) {
			continue
		}
		if seen++; seen <= skip {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		w := wireMessage(m)
		if withMetadata && m.Metadata != nil {
			w["metadata"] = m.Metadata
		}
		page = append(page, w)
	}
	out := map[string]any{"messages": page, "has_more": more}
	if more {
		out["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(skip + limit)}
	}
	if page == nil {
		out["messages"] = []any{}
	}
	return apiOK(out)
}

// tsAfter reports whether Slack timestamp a is later than b.
func tsAfter(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x > y
}

// conversationsList lists the channels the emulator knows (those posted to
// by name or id), in id order, paged like conversations.history.
func (s *Server) conversationsList(c *call) reply {
	if e := s.authError(c); e != "" {
		return c.errorReply(e)
	}
	limit, skip, bad := paging(c, 1000)
	if bad != "" {
		return c.errorReply(bad)
	}
	s.mu.Lock()
	ids := slices.Sorted(maps.Keys(s.channels))
	page := []map[string]any{}
	for _, id := range ids[min(skip, len(ids)):min(skip+limit, len(ids))] {
		page = append(page, map[string]any{"id": id, "name": strings.TrimPrefix(s.channels[id], "#"), "is_channel": true, "is_member": true})
	}
	s.mu.Unlock()
	out := map[string]any{"channels": page}
	if skip+limit < len(ids) {
		out["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(skip + limit)}
	}
	return apiOK(out)
}

// paging reads a paged method's limit (100 by default, at most maxLimit) and
// cursor (an offset here), or names Slack's error for a bad one.
func paging(c *call, maxLimit int) (limit, skip int, bad string) {
	limit = 100
	if v := c.params["limit"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, "invalid_limit"
		}
		limit = min(n, maxLimit)
	}
	if v := c.params["cursor"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, "invalid_cursor"
		}
		skip = n
	}
	return limit, skip, ""
}
