package slackemu

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
)

// Message is one accepted message, as a test or the demo reads it back.
type Message struct {
	Seq       int    `json:"seq"` // arrival order, from 1 after each reset
	Via       string `json:"via"` // "api" or "webhook"
	Channel   string `json:"channel"`
	ChannelID string `json:"channel_id"` // "" for webhooks
	// TS identifies the message. Webhook messages get one too, although Slack
	// does not tell the poster.
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts"` // the parent's ts for a thread reply
	Text     string `json:"text"`
	// Blocks is the blocks array as posted (compacted), or nil.
	Blocks json.RawMessage `json:"blocks"`
	// Params holds every other field sent (mrkdwn, unfurl_links, username...),
	// so tests can assert what the exporter does and does not send.
	Params map[string]string `json:"params,omitempty"`
	// Metadata is the message metadata (event_type, event_payload) as last
	// posted or updated, compacted; nil when none was sent.
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	Updates    int             `json:"updates"` // chat.update calls applied
	ReceivedAt time.Time       `json:"received_at"`
	UpdatedAt  time.Time       `json:"updated_at"` // zero until updated
	// History is every version Slack showed, the post first, then each
	// update in the order they were applied.
	History []Version `json:"history,omitempty"`
}

// Version is what a message showed from one post or update on.
type Version struct {
	// Seq orders versions across all messages: a version with a lower Seq
	// was applied first.
	Seq      int             `json:"seq"`
	At       time.Time       `json:"at"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// messageJSON is Message on the wire: times as RFC 3339 strings, "" when unset.
type messageJSON struct {
	plainMessage
	ReceivedAt string `json:"received_at"`
	UpdatedAt  string `json:"updated_at"`
}

type plainMessage Message

// MarshalJSON writes updated_at as "" rather than year 1 while never updated.
func (m Message) MarshalJSON() ([]byte, error) {
	return json.Marshal(messageJSON{plainMessage(m), formatTime(m.ReceivedAt), formatTime(m.UpdatedAt)})
}

// UnmarshalJSON reads what MarshalJSON writes, so other packages' tests can
// decode GET /_emu/messages into Message.
func (m *Message) UnmarshalJSON(b []byte) error {
	var w messageJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Message(w.plainMessage)
	var err error
	if m.ReceivedAt, err = parseTime(w.ReceivedAt); err != nil {
		return err
	}
	m.UpdatedAt, err = parseTime(w.UpdatedAt)
	return err
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// Messages returns the accepted messages in arrival order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneMessages(s.msgs)
}

func cloneMessages(msgs []Message) []Message {
	out := make([]Message, len(msgs))
	copy(out, msgs)
	for i := range out {
		out[i].History = slices.Clone(out[i].History)
	}
	return out
}

// versionLocked is the next version of a message.
func (s *Server) versionLocked(text string, blocks, metadata json.RawMessage) Version {
	s.versions++
	return Version{Seq: s.versions, At: time.Now(), Text: text, Blocks: blocks, Metadata: metadata}
}

// channelName folds "#alerts", "alerts" and "Alerts" into one channel, "#alerts".
func channelName(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "#")))
	if s == "" {
		return ""
	}
	return "#" + s
}

// channelID derives the id from the name, so it is the same in every run.
func channelID(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("C%08X", h.Sum32())
}

// looksLikeID tells a channel id (C0123ABCD) from a name: Slack names are
// lowercase, ids are an uppercase C, G or D followed by 8 or more [A-Z0-9].
func looksLikeID(s string) bool {
	if len(s) < 9 || !strings.ContainsRune("CGD", rune(s[0])) {
		return false
	}
	for _, r := range s[1:] {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// resolve fills in the call's destination. A name creates its channel on first
// use; an id must belong to a known channel (else dest is the id and the
// method answers channel_not_found).
func (s *Server) resolve(c *call) {
	if c.webhook() || c.channel == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if looksLikeID(c.channel) {
		c.dest = c.channel
		if name, ok := s.channels[c.channel]; ok {
			c.dest, c.channelID = name, c.channel
		}
		return
	}
	if name := channelName(c.channel); name != "" {
		c.dest, c.channelID = name, channelID(name)
		s.channels[c.channelID] = name
	}
}

// nextTSLocked hands out Slack-style "seconds.micros" timestamps from the
// clock, bumped when needed so each is unique and later than the last.
func (s *Server) nextTSLocked(now time.Time) string {
	us := now.UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// storeLocked appends an accepted message and returns it.
func (s *Server) storeLocked(c *call, blocks, metadata json.RawMessage) Message {
	now := time.Now()
	s.seq++
	m := Message{
		Seq:        s.seq,
		Via:        "api",
		Channel:    c.dest,
		ChannelID:  c.channelID,
		TS:         s.nextTSLocked(now),
		ThreadTS:   c.threadTS,
		Text:       c.text,
		Blocks:     blocks,
		Params:     c.params,
		Metadata:   metadata,
		ReceivedAt: now,
		History:    []Version{s.versionLocked(c.text, blocks, metadata)},
	}
	if c.webhook() {
		m.Via = "webhook"
	}
	if len(m.Params) == 0 {
		m.Params = nil
	}
	s.msgs = append(s.msgs, m)
	return m
}

// findLocked returns the index of the message with ts in the channel, or -1.
// It searches from the newest, the messages threads and updates refer to.
func (s *Server) findLocked(channelID, ts string) int {
	for i := len(s.msgs) - 1; i >= 0; i-- {
		if s.msgs[i].ChannelID == channelID && s.msgs[i].TS == ts {
			return i
		}
	}
	return -1
}

// String is a one-line summary, so that a failed test's output stays
// readable.
func (m Message) String() string {
	return fmt.Sprintf("{%s ts=%s thread_ts=%s updates=%d text=%.80q}", m.Channel, m.TS, m.ThreadTS, m.Updates, m.Text)
}
