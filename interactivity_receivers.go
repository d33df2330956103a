package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/slackexporter/slackexporter/internal/interact"
)

// actionsPath is where Slack posts clicks in request-URL mode.
const actionsPath = "/slack/actions"

// startReceivers starts Socket Mode and the request URL, as configured.
// Each adds to e.receivers the function that stops it.
func (e *slackExporter) startReceivers(ctx context.Context, host component.Host) error {
	ic := e.cfg.Interactivity.Get()
	opts := interact.Options{AllowedUsers: ic.AllowedUsers, Handle: e.handleClick, Count: e.countInteraction, Logger: e.logger}
	if ic.AppToken != "" {
		// The Web API's client settings (proxy, TLS) reach Slack for
		// apps.connections.open too.
		hc, err := e.cfg.ToClient(ctx, host.GetExtensions(), e.settings)
		if err != nil {
			return err
		}
		apiURL := e.cfg.APIURL
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		runCtx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := interact.RunSocketMode(runCtx, string(ic.AppToken), apiURL, hc, opts); err != nil {
				e.logger.Error("Socket Mode stopped: clicks from Slack no longer arrive over it", zap.Error(err))
			}
		}()
		e.receivers = append(e.receivers, func(context.Context) error {
			cancel()
			<-done
			return nil
		})
	}
	if ic.SigningSecret != "" && ic.HTTP.HasValue() {
		sc := ic.HTTP.Get()
		ln, err := sc.ToListener(ctx)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle(actionsPath, interact.NewActionsHandler(string(ic.SigningSecret), opts))
		srv, err := sc.ToServer(ctx, host.GetExtensions(), e.settings, mux)
		if err != nil {
			_ = ln.Close()
			return err
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				e.logger.Error("The request URL for clicks from Slack stopped", zap.Error(err))
			}
		}()
		e.logger.Info("Receiving clicks from Slack", zap.String("endpoint", ln.Addr().String()), zap.String("path", actionsPath))
		e.receivers = append(e.receivers, func(ctx context.Context) error {
			err := srv.Shutdown(ctx)
			<-done
			return err
		})
	}
	return nil
}

// handleClick applies a click the transports verified.
func (e *slackExporter) handleClick(ctx context.Context, c interact.Click) error {
	err := e.applyClick(ctx, click{user: c.UserID, channelID: c.ChannelID, channelName: c.ChannelName, messageTS: c.MessageTS,
		blockID: c.BlockID, value: c.Value, eventType: c.EventType})
	if errors.Is(err, errUnknownMessage) {
		return interact.ErrUnknownMessage
	}
	return err
}

func (e *slackExporter) countInteraction(result string) {
	e.telemetry.ExporterSlackInteractions.Add(context.Background(), 1, metric.WithAttributes(attribute.String("result", result)))
}
