// Package interact receives clicks on the exporter's messages from Slack,
// over Socket Mode or a request URL, checks that they are genuine and
// allowed, and hands each to a Handler.
package interact

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Click is one action of a verified block_actions payload.
type Click struct {
	UserID, UserName, TeamID string
	ChannelID                string // payload.channel.id (or container.channel_id)
	ChannelName              string // payload.channel.name, without #
	MessageTS                string // payload.container.message_ts (or message.ts)
	BlockID, ActionID        string
	Value                    string // button value, or selected_option.value of an overflow / static select
	EventType                string // payload.message.metadata.event_type when the payload carries it, else ""
}

// Results, the values of the `result` attribute of the metric
// otelcol_exporter_slack_interactions.
const (
	// Accepted: the click passed every check and was handed to the Handler
	// (whether the Handler then succeeded is the Handler's to report).
	Accepted = "accepted"
	// BadSignature: the request could not be verified (wrong or missing
	// signature, wrong method, body too large).
	BadSignature = "bad_signature"
	// Stale: genuinely signed, but its timestamp is more than 5 minutes off.
	Stale = "stale"
	// Replay: a signature that already passed the signature and time checks
	// within the last 5 minutes (whatever was then decided).
	Replay = "replay"
	// Forbidden: the user is not in AllowedUsers.
	Forbidden = "forbidden"
	// UnknownMessage: not a click on a message of this exporter (the Handler
	// said so), or not a click at all (another payload type).
	UnknownMessage = "unknown_message"
)

// ErrUnknownMessage is what a Handler returns for a click on a message this exporter did not post.
var ErrUnknownMessage = errors.New("interact: not a message of this exporter")

// Handler applies one click. It must return quickly (it runs inside Slack's 3 s answer window).
type Handler func(ctx context.Context, c Click) error

// Options are what both transports share.
type Options struct {
	AllowedUsers []string            // user ids (U…); empty: anyone
	Handle       Handler             // nil: every click is accepted and dropped
	Count        func(result string) // called exactly once per request or envelope with one of the results above (may be nil)
	Now          func() time.Time    // nil: time.Now
	Logger       *zap.Logger         // nil: zap.NewNop(); never log secrets or raw bodies
}

// handleTimeout leaves the Handler 2.5 s of Slack's 3 s, the rest for the network.
const handleTimeout = 2500 * time.Millisecond

// withDefaults fills the nil fields, so the transports need not check them.
func (o Options) withDefaults() Options {
	if o.Handle == nil {
		o.Handle = func(context.Context, Click) error { return nil }
	}
	if o.Count == nil {
		o.Count = func(string) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o
}

// payload is the part of a block_actions payload a Click is made of.
type payload struct {
	Type string `json:"type"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
		TeamID   string `json:"team_id"`
	} `json:"user"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	Channel struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"channel"`
	Container struct {
		ChannelID string `json:"channel_id"`
		MessageTS string `json:"message_ts"`
	} `json:"container"`
	Message struct {
		TS       string `json:"ts"`
		Metadata struct {
			EventType string `json:"event_type"`
		} `json:"metadata"`
	} `json:"message"`
	Actions []struct {
		ActionID       string `json:"action_id"`
		BlockID        string `json:"block_id"`
		Value          string `json:"value"`
		SelectedOption struct {
			Value string `json:"value"`
		} `json:"selected_option"`
	} `json:"actions"`
}

// errNotClicks: the payload is not a block_actions payload with actions.
var errNotClicks = errors.New("not a block_actions payload")

// parseClicks reads the clicks of a block_actions payload, one per action
// (Slack sends one).
func parseClicks(raw []byte) ([]Click, error) {
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	if p.Type != "block_actions" || len(p.Actions) == 0 {
		return nil, errNotClicks
	}
	base := Click{
		UserID:      p.User.ID,
		UserName:    firstNonEmpty(p.User.Username, p.User.Name),
		TeamID:      firstNonEmpty(p.User.TeamID, p.Team.ID),
		ChannelID:   firstNonEmpty(p.Channel.ID, p.Container.ChannelID),
		ChannelName: strings.TrimPrefix(p.Channel.Name, "#"),
		MessageTS:   firstNonEmpty(p.Container.MessageTS, p.Message.TS),
		EventType:   p.Message.Metadata.EventType,
	}
	clicks := make([]Click, 0, len(p.Actions))
	for _, a := range p.Actions {
		c := base
		c.BlockID, c.ActionID = a.BlockID, a.ActionID
		c.Value = firstNonEmpty(a.Value, a.SelectedOption.Value)
		clicks = append(clicks, c)
	}
	return clicks, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// apply runs the checks both transports share on a genuine payload and
// hands its clicks to the Handler. It returns the result to count and the
// Handler's error, if any (other than ErrUnknownMessage, which is a result).
func (o Options) apply(ctx context.Context, raw []byte) (string, error) {
	clicks, err := parseClicks(raw)
	if err != nil {
		o.Logger.Debug("Slack interaction ignored: not a click", zap.Error(err))
		return UnknownMessage, errNotClicks
	}
	for _, c := range clicks {
		if len(o.AllowedUsers) > 0 && !slices.Contains(o.AllowedUsers, c.UserID) {
			o.Logger.Info("Slack click refused: user not allowed", zap.String("user_id", c.UserID))
			return Forbidden, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()
	for _, c := range clicks {
		err := o.Handle(ctx, c)
		if errors.Is(err, ErrUnknownMessage) {
			o.Logger.Debug("Slack click on a message not ours", zap.String("channel", c.ChannelID), zap.String("ts", c.MessageTS))
			return UnknownMessage, nil
		}
		if err != nil {
			o.Logger.Warn("Slack click not applied", zap.String("action_id", c.ActionID), zap.Error(err))
			return Accepted, err
		}
	}
	return Accepted, nil
}
