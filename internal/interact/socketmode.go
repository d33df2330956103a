package interact

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"go.uber.org/zap"
)

// RunSocketMode connects with the app-level token (xapp-…) through
// apps.connections.open at apiURL (a Web API base URL such as
// http://127.0.0.1:PORT/api/), acks each envelope, reconnects on disconnect
// or error with backoff, until ctx ends (then it returns nil).
// httpClient may be nil.
//
// slack-go's client does the reconnecting: after a disconnect message, a
// dropped connection or 30 s without a ping it connects again, and it
// retries a failed apps.connections.open or dial with exponential backoff
// (up to 5 min, or Retry-After). It gives up only when Slack refuses the
// token (invalid_auth, not_authed, token_revoked, account_inactive or a
// 404); RunSocketMode then returns that error, which never holds the token.
func RunSocketMode(ctx context.Context, appToken, apiURL string, httpClient *http.Client, o Options) error {
	o = o.withDefaults()
	// slack-go logs only with OptionDebug, which stays off: its debug
	// lines include payloads.
	client := socketmode.New(slack.New("",
		slack.OptionAppLevelToken(appToken),
		slack.OptionAPIURL(apiURL),
		slack.OptionHTTPClient(clientOrDefault(httpClient))))

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		receiveEnvelopes(ctx, client, o)
	}()
	defer func() {
		cancel() // stops the receiver, then wait for it
		<-done
	}()

	err := client.RunContext(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("slack socket mode stopped: %w", err)
}

// clientOrDefault: slack-go's own client has no timeout, and a hung
// apps.connections.open would hold up every reconnect.
func clientOrDefault(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// receiveEnvelopes handles the client's events until ctx ends. Every
// envelope is acked, refused or not, so that Slack does not send it again.
func receiveEnvelopes(ctx context.Context, client *socketmode.Client, o Options) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-client.Events:
			handleEvent(ctx, client, o, evt)
		}
	}
}

func handleEvent(ctx context.Context, client *socketmode.Client, o Options, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeInteractive:
		// Applied and counted before the ack, so that whoever waits for
		// the ack sees the effect; apply takes at most 2.5 s of Slack's 3.
		result, _ := o.apply(ctx, evt.Request.Payload) // apply logs what failed
		o.Count(result)
		ack(ctx, client, o, evt.Request.EnvelopeID)
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand:
		// Not clicks: this app asks for none, but acks what comes.
		o.Count(UnknownMessage)
		ack(ctx, client, o, evt.Request.EnvelopeID)
	case socketmode.EventTypeErrorBadMessage:
		// An envelope slack-go could not parse still has an id to ack.
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
				o.Count(UnknownMessage)
				ack(ctx, client, o, env.EnvelopeID)
			}
		}
	case socketmode.EventTypeConnectionError:
		if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			o.Logger.Warn("Slack Socket Mode connection failed", zap.Error(ce.ErrorObj), zap.Duration("retry_in", ce.Backoff))
		}
	case socketmode.EventTypeConnected:
		o.Logger.Info("Slack Socket Mode connected")
	default:
		o.Logger.Debug("Slack Socket Mode event", zap.String("type", string(evt.Type)))
	}
}

func ack(ctx context.Context, client *socketmode.Client, o Options, envelopeID string) {
	if err := client.AckCtx(ctx, envelopeID, nil); err != nil {
		o.Logger.Debug("Slack envelope not acked", zap.String("envelope_id", envelopeID), zap.Error(err))
	}
}
