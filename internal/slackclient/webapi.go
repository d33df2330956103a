package slackclient

import (
	"context"
	"net/http"

	"github.com/slack-go/slack"
)

// WebAPI posts with a bot token through chat.postMessage.
type WebAPI struct {
	client *slack.Client
}

// NewWebAPI returns a poster for the Web API at apiURL (with trailing
// slash), sending through hc (confighttp's client: proxy, TLS, timeout).
func NewWebAPI(token, apiURL string, hc *http.Client) *WebAPI {
	return &WebAPI{client: slack.New(token, slack.OptionHTTPClient(hc), slack.OptionAPIURL(apiURL))}
}

// Ref identifies a posted message: chat.update and thread replies need the
// channel's id (not its name) and the message's ts.
type Ref struct {
	ChannelID, TS string
}

// Post sends one message to channel (a name or an id); with threadTS it is
// a reply in that thread. meta, when not nil, is its message metadata. Link
// unfurling is off: a log line must never make Slack fetch a URL it contains.
func (w *WebAPI) Post(ctx context.Context, channel, threadTS, text string, blocks []slack.Block, meta *slack.SlackMetadata) (Ref, error) {
	opts := []slack.MsgOption{
		slack.MsgOptionText(text, false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	if meta != nil {
		opts = append(opts, slack.MsgOptionMetadata(*meta))
	}
	id, ts, err := w.client.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return Ref{}, classifyWebAPI(err)
	}
	return Ref{ChannelID: id, TS: ts}, nil
}

// Update replaces the text, blocks and (when meta is not nil) metadata of a
// posted message (chat.update).
func (w *WebAPI) Update(ctx context.Context, ref Ref, text string, blocks []slack.Block, meta *slack.SlackMetadata) error {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)}
	if meta != nil {
		opts = append(opts, slack.MsgOptionMetadata(*meta))
	}
	_, _, _, err := w.client.UpdateMessageContext(ctx, ref.ChannelID, ref.TS, opts...)
	if err != nil {
		return classifyWebAPI(err)
	}
	return nil
}
