package interact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"go.uber.org/zap"
)

// Backoff between runs of slack-go's client when it gives up. It retries
// failed connects itself (with its own backoff); this covers what it
// returns for.
const (
	minRetry = time.Second
	maxRetry = time.Minute
)

// RunSocketMode connects with the app-level token (xapp-…) through
// apps.connections.open at apiURL (a Web API base URL such as
// http://127.0.0.1:PORT/api/), acks each envelope, reconnects on disconnect
// or error with backoff, until ctx ends (then it returns nil). It returns
// an error only when Slack refuses the token (invalid_auth, not_authed,
// token_revoked, account_inactive or a 404): retrying cannot help.
// httpClient may be nil.
func RunSocketMode(ctx context.Context, appToken, apiURL string, httpClient *http.Client, o Options) error {
	o = o.withDefaults()
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	// slack-go logs only with OptionDebug, which stays off: its debug
	// lines include payloads.
	client := socketmode.New(slack.New("",
		slack.OptionAppLevelToken(appToken),
		slack.OptionAPIURL(apiURL),
		slack.OptionHTTPClient(httpClient)))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		receiveEnvelopes(ctx, client, o)
	}()
	defer func() { <-done }() // cancel runs first: the receiver stops

	retry := minRetry
	for {
		// RunContext reconnects by itself after a disconnect or a lost
		// connection, and retries failed connects; it returns when ctx
		// ends or the token is refused.
		err := client.RunContext(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if refusedToken(err) {
			return fmt.Errorf("slack socket mode: app-level token refused: %w", err)
		}
		o.Logger.Warn("Slack Socket Mode stopped; reconnecting", zap.Error(err), zap.Duration("after", retry))
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		retry = min(2*retry, maxRetry)
	}
}

// refusedToken: the errors slack-go's connect gives up on.
func refusedToken(err error) bool {
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return sc.Code == http.StatusNotFound
	}
	if err == nil {
		return false
	}
	switch err.Error() {
	case "invalid_auth", "not_authed", "token_revoked", "account_inactive":
		return true
	}
	return false
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
		// Applied before the ack, so that whoever waits for the ack sees
		// its effect; apply takes at most 2.5 s of Slack's 3.
		result, err := o.apply(ctx, evt.Request.Payload)
		if errors.Is(err, errNotClicks) {
			o.Logger.Debug("Slack interaction ignored", zap.String("envelope_id", evt.Request.EnvelopeID))
		}
		ack(ctx, client, o, evt.Request.EnvelopeID)
		o.Count(result)
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand:
		// Not clicks: this app asks for none, but acks what comes.
		ack(ctx, client, o, evt.Request.EnvelopeID)
		o.Count(UnknownMessage)
	case socketmode.EventTypeErrorBadMessage:
		// An envelope slack-go could not parse still has an id to ack.
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
				ack(ctx, client, o, env.EnvelopeID)
				o.Count(UnknownMessage)
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
