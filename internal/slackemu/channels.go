package slackemu

import (
	"fmt"
	"strings"
)

// ChannelState is how the workspace treats a channel the bot posts to, for
// tests of what the exporter does when a channel is not (or no longer)
// there for it.
type ChannelState string

const (
	// ChannelOK: the channel exists and the bot is a member (every channel
	// starts so, created on first use).
	ChannelOK ChannelState = "ok"
	// ChannelMissing: no such channel; posts and updates answer
	// channel_not_found.
	ChannelMissing ChannelState = "missing"
	// ChannelArchived: posts and updates answer is_archived.
	ChannelArchived ChannelState = "archived"
	// ChannelNotMember: the bot is not in the channel; posts and updates
	// answer not_in_channel.
	ChannelNotMember ChannelState = "not_member"
)

// SetChannel puts a channel (a name, with or without "#") in state. Calls
// it refuses are marked Injected, like a fault's: the test arranged them.
// Reset returns every channel to ChannelOK.
func (s *Server) SetChannel(name string, state ChannelState) error {
	n := channelName(name)
	if n == "" || looksLikeID(strings.TrimSpace(name)) {
		return fmt.Errorf("channel %q: give a channel name", name)
	}
	switch state {
	case ChannelOK, ChannelMissing, ChannelArchived, ChannelNotMember:
	default:
		return fmt.Errorf("unknown channel state %q (want ok, missing, archived or not_member)", state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == ChannelOK {
		delete(s.channelStates, n)
	} else {
		s.channelStates[n] = state
	}
	return nil
}

// ChannelStates returns the channels not in ChannelOK.
func (s *Server) ChannelStates() map[string]ChannelState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]ChannelState, len(s.channelStates))
	for k, v := range s.channelStates {
		out[k] = v
	}
	return out
}

// channelRefusal is the error a post or an update to the call's channel
// gets from the channel's state, or "".
func (s *Server) channelRefusal(c *call) string {
	if c.webhook() || c.dest == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.channelStates[c.dest] {
	case ChannelMissing:
		return "channel_not_found"
	case ChannelArchived:
		return "is_archived"
	case ChannelNotMember:
		return "not_in_channel"
	}
	return ""
}
