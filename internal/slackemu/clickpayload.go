package slackemu

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// clickPayload builds the block_actions payload Slack sends for spec, from
// the stored message. It returns the payload and the channel's id.
func (s *Server) clickPayload(spec ClickSpec) (json.RawMessage, string, error) {
	chID, chName := s.clickChannel(spec.Channel)
	if chID == "" {
		return nil, "", fmt.Errorf("channel %q: unknown", spec.Channel)
	}
	s.mu.Lock()
	i := s.findLocked(chID, spec.TS)
	var m Message
	found := i >= 0 && s.msgs[i].ThreadTS == ""
	if found {
		m = cloneMessages(s.msgs[i : i+1])[0]
	}
	s.mu.Unlock()
	if !found && !spec.Forge {
		return nil, "", fmt.Errorf("no top-level message with ts %q in %s", spec.TS, chName)
	}

	el, ok := findElement(m.Blocks, spec.BlockID, spec.ActionID)
	if !ok && !spec.Forge {
		return nil, "", fmt.Errorf("message %s has no element with action_id %q", spec.TS, spec.ActionID)
	}
	if !ok {
		el = clickable{BlockID: spec.BlockID, Type: "button"}
		if spec.ElementType != "" {
			el.Type = spec.ElementType
		}
	}

	now := time.Now()
	actionTS := fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
	action := map[string]any{"type": el.Type, "action_id": spec.ActionID, "block_id": el.BlockID, "action_ts": actionTS}
	if el.Type == "overflow" || el.Type == "static_select" {
		action["selected_option"] = map[string]any{
			"text":  map[string]any{"type": "plain_text", "text": el.optionText(spec.Value), "emoji": true},
			"value": spec.Value,
		}
	} else {
		action["value"] = spec.Value
		action["text"] = map[string]any{"type": "plain_text", "text": el.Text, "emoji": true}
	}

	msg := map[string]any{"type": "message", "ts": spec.TS, "text": ""}
	if found {
		msg = wireMessage(m)
		if m.Metadata != nil {
			msg["metadata"] = m.Metadata
		}
	}
	p := map[string]any{
		"type":                  "block_actions",
		"user":                  map[string]any{"id": spec.UserID, "username": spec.UserName, "name": spec.UserName, "team_id": teamID},
		"api_app_id":            appID,
		"token":                 "emulator-verification-token", // deprecated by Slack, still sent
		"container":             map[string]any{"type": "message", "message_ts": spec.TS, "channel_id": chID, "is_ephemeral": false},
		"trigger_id":            strings.Join([]string{"1", newTicket()[:10], newTicket()}, "."),
		"team":                  map[string]any{"id": teamID, "domain": "emulator"},
		"enterprise":            nil,
		"is_enterprise_install": false,
		"channel":               map[string]any{"id": chID, "name": strings.TrimPrefix(chName, "#")},
		"message":               msg,
		"state":                 map[string]any{"values": map[string]any{}},
		"response_url":          s.responseURL(),
		"actions":               []any{action},
	}
	raw, err := json.Marshal(p)
	return raw, chID, err
}

// clickChannel resolves a channel id or name to its id and "#name"; a name
// not seen yet still has its derived id (for forged clicks).
func (s *Server) clickChannel(ch string) (string, string) {
	ch = strings.TrimSpace(ch)
	if looksLikeID(ch) {
		s.mu.Lock()
		name, ok := s.channels[ch]
		s.mu.Unlock()
		if !ok {
			return ch, ch
		}
		return ch, name
	}
	name := channelName(ch)
	if name == "" {
		return "", ""
	}
	return channelID(name), name
}

// clickable is an interactive element of a message's blocks.
type clickable struct {
	BlockID string
	Type    string
	Text    string
	Options []struct {
		Text struct {
			Text string `json:"text"`
		} `json:"text"`
		Value string `json:"value"`
	}
}

func (e clickable) optionText(value string) string {
	for _, o := range e.Options {
		if o.Value == value {
			return o.Text.Text
		}
	}
	return value
}

// findElement finds the element with actionID in a section's accessory or
// an actions block's elements, in the block blockID ("" = any block).
func findElement(blocks json.RawMessage, blockID, actionID string) (clickable, bool) {
	type rawElement struct {
		Type     string `json:"type"`
		ActionID string `json:"action_id"`
		// Text is an object for a button, a string for a context block's
		// text elements, which share the elements list.
		Text    json.RawMessage `json:"text"`
		Options []struct {
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
			Value string `json:"value"`
		} `json:"options"`
	}
	var bs []struct {
		BlockID   string       `json:"block_id"`
		Accessory *rawElement  `json:"accessory"`
		Elements  []rawElement `json:"elements"`
	}
	if actionID == "" || json.Unmarshal(blocks, &bs) != nil {
		return clickable{}, false
	}
	for _, b := range bs {
		if blockID != "" && b.BlockID != blockID {
			continue
		}
		candidates := b.Elements
		if b.Accessory != nil {
			candidates = append(candidates, *b.Accessory)
		}
		for _, e := range candidates {
			if e.ActionID == actionID {
				var text struct {
					Text string `json:"text"`
				}
				_ = json.Unmarshal(e.Text, &text) // a button without text has none
				return clickable{BlockID: b.BlockID, Type: e.Type, Text: text.Text, Options: e.Options}, true
			}
		}
	}
	return clickable{}, false
}
