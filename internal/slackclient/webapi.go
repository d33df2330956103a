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

// Post sends one message to channel. Link unfurling is off: a log line must
// never make Slack fetch a URL it contains.
func (w *WebAPI) Post(ctx context.Context, channel, text string, blocks []slack.Block) error {
	_, _, err := w.client.PostMessageContext(ctx, channel,
		slack.MsgOptionText(text, false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	)
	if err != nil {
		return classifyWebAPI(err)
	}
	return nil
}
