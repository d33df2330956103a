package slackemu

import (
	"encoding/json"
	"net/http"
	"time"
)

// Fixed identities of the emulated workspace and bot.
const (
	teamID = "T0EMULATOR"
	userID = "U0EMULATOR"
	botID  = "B0EMULATOR"
)

func (s *Server) handleAPI(kind callKind, method func(*call) reply) http.HandlerFunc {
	name := map[callKind]string{kindPost: "chat.postMessage", kindUpdate: "chat.update", kindAuthTest: "auth.test",
		kindHistory: "conversations.history", kindList: "conversations.list"}[kind]
	return func(w http.ResponseWriter, r *http.Request) {
		s.serveSlack(w, r, parseAPI(r, kind, name), method)
	}
}

// unknownMethod answers as Slack does for a method it does not have.
func (s *Server) unknownMethod(w http.ResponseWriter, r *http.Request) {
	c := &call{method: r.PathValue("method")}
	rep := c.errorReply("unknown_method")
	w.Header().Set("Content-Type", rep.contentType)
	_, _ = w.Write(rep.body)
	s.logCall(c, http.StatusOK, "unknown_method")
}

// authError is not_authed without a token and invalid_auth with a wrong one.
func (s *Server) authError(c *call) string {
	switch c.token {
	case "":
		return "not_authed"
	case s.opts.Token:
		return ""
	}
	return "invalid_auth"
}

func (s *Server) authTest(c *call) reply {
	if e := s.authError(c); e != "" {
		return c.errorReply(e)
	}
	return apiOK(map[string]any{
		"url": "https://emulator.slack.invalid/", "team": "Emulator", "user": "emulator-bot",
		"team_id": teamID, "user_id": userID, "bot_id": botID,
	})
}

// admit runs the checks a post and an update share, in Slack's order:
// auth, channel, rate (per method and destination), content. It returns
// the checked blocks and metadata, or the refusal to send.
func (s *Server) admit(c *call, method string) (blocks, metadata json.RawMessage, refusal reply, ok bool) {
	if e := s.authError(c); e != "" {
		return nil, nil, c.errorReply(e), false
	}
	if c.channelID == "" {
		return nil, nil, c.errorReply("channel_not_found"), false
	}
	if code := s.channelRefusal(c); code != "" {
		c.injected = true
		return nil, nil, c.errorReply(code), false
	}
	s.mu.Lock()
	allowed := s.allowLocked(method+" "+c.dest, time.Now())
	s.mu.Unlock()
	if !allowed {
		return nil, nil, c.throttle(s.opts.RetryAfter), false
	}
	blocks, v := checkMessage(c)
	if v == nil {
		metadata, v = checkMetadata(c.metadata)
	}
	if v != nil {
		return nil, nil, c.errorReply(v.code, details(v)...), false
	}
	return blocks, metadata, reply{}, true
}

// postMessage checks as admit does, then that a thread's parent exists.
func (s *Server) postMessage(c *call) reply {
	blocks, metadata, refusal, ok := s.admit(c, "chat.postMessage")
	if !ok {
		return refusal
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if c.threadTS != "" {
		// A reply's parent must be a top-level message; a reply's own ts is refused.
		if i := s.findLocked(c.channelID, c.threadTS); i < 0 || s.msgs[i].ThreadTS != "" {
			return c.errorReply("thread_not_found")
		}
	}
	m := s.storeLocked(c, blocks, metadata)
	rep := apiOK(map[string]any{"channel": m.ChannelID, "ts": m.TS, "message": wireMessage(m)})
	rep.note = "ts=" + m.TS
	return rep
}

// updateMessage replaces the text and/or blocks of a stored message in place.
func (s *Server) updateMessage(c *call) reply {
	blocks, metadata, refusal, ok := s.admit(c, "chat.update")
	if !ok {
		return refusal
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.findLocked(c.channelID, c.ts)
	if c.ts == "" || i < 0 {
		return c.errorReply("message_not_found")
	}
	m := &s.msgs[i]
	if c.hasText {
		m.Text = c.text
	}
	if c.blocks != nil {
		m.Blocks = blocks
	}
	if metadata != nil { // an update without metadata keeps the message's
		m.Metadata = metadata
	}
	m.Updates++
	m.UpdatedAt = time.Now()
	m.History = append(m.History, s.versionLocked(m.Text, m.Blocks, m.Metadata))
	rep := apiOK(map[string]any{"channel": m.ChannelID, "ts": m.TS, "text": m.Text, "message": wireMessage(*m)})
	rep.note = "ts=" + m.TS
	return rep
}

func details(v *violation) []string {
	if v.detail == "" {
		return nil
	}
	return []string{v.detail}
}

// wireMessage is the "message" object Slack returns after a post or an update.
func wireMessage(m Message) map[string]any {
	out := map[string]any{
		"type": "message", "subtype": "bot_message", "text": m.Text, "ts": m.TS,
		"user": userID, "bot_id": botID, "team": teamID,
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	return out
}
