package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
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
	if k := ic.Kafka; k != nil {
		// Signed with the bot token, which every gateway of the fleet has
		// and no application does.
		relay, err := interact.NewRelay(k.Brokers, k.Topic, []byte(e.cfg.Token))
		if err != nil {
			return fmt.Errorf("interactivity.kafka: %w", err)
		}
		e.relay = relay
		e.receivers = append(e.receivers, func(context.Context) error {
			relay.Close()
			return nil
		})
	}
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

// handleClick applies a click the transports verified, or relays it to
// the channel's gateway.
func (e *slackExporter) handleClick(ctx context.Context, ic interact.Click) error {
	c := click{user: ic.UserID, channelID: ic.ChannelID, channelName: ic.ChannelName, messageTS: ic.MessageTS,
		blockID: ic.BlockID, actionID: ic.ActionID, value: ic.Value, eventType: ic.EventType}
	fp, err := e.checkClick(c)
	switch {
	case errors.Is(err, errUnknownMessage):
		return interact.ErrUnknownMessage
	case err != nil:
		return err
	case e.relay != nil:
		return e.relayClick(ctx, c, fp)
	}
	return e.apply(ctx, c, fp, e.now())
}

func (e *slackExporter) countInteraction(result string) {
	e.telemetry.ExporterSlackInteractions.Add(context.Background(), 1, metric.WithAttributes(attribute.String("result", result)))
}

// relayTimeout bounds writing a click to Kafka: the click's answer to
// Slack is due within 3 s.
const relayTimeout = 2 * time.Second

// relayClick writes a checked click to the fleet's topic, under the key
// the channel's records have, for the gateway that owns the channel to
// apply. If Kafka cannot take it, the click is applied here: in force at
// least where it landed.
func (e *slackExporter) relayClick(ctx context.Context, c click, fp string) error {
	keys := e.ownerKeys(c.channelName, c.channelID)
	at := e.now()
	sendCtx, cancel := context.WithTimeout(ctx, relayTimeout)
	defer cancel()
	err := e.relay.Send(sendCtx, keys, interact.Click{UserID: c.user, ChannelID: c.channelID, ChannelName: c.channelName,
		MessageTS: c.messageTS, BlockID: c.blockID, ActionID: c.actionID, Value: c.value, EventType: c.eventType}, at)
	if err != nil {
		e.logger.Warn("Could not relay a click to the channel's gateway through Kafka; applied here only", zap.Error(err))
		return e.apply(ctx, c, fp, at)
	}
	return nil
}

// ownerKeys are the keys the agents give the channel's records: one per
// configured channel that names it (by name or by id), else its name, as a
// templated route's channel is keyed. Only those: a key of a partition
// that does not carry the channel would hand the click to a gateway that
// may hold a stale copy of its message and redraw it.
func (e *slackExporter) ownerKeys(name, id string) []string {
	var keys []string
	configured := []string{e.cfg.Channel}
	for _, r := range e.cfg.Routes {
		configured = append(configured, r.Channel)
	}
	for _, ch := range configured {
		ch = strings.TrimPrefix(ch, "#")
		if ch != "" && (ch == name || ch == id) && !slices.Contains(keys, channelKey(ch, "")) {
			keys = append(keys, channelKey(ch, ""))
		}
	}
	if len(keys) == 0 {
		keys = append(keys, channelKey(name, ""))
	}
	return keys
}

// takeControl applies the clicks relayed in ld's control records, signed
// by a gateway of the fleet, and returns the rest of ld.
func (e *slackExporter) takeControl(ctx context.Context, ld plog.Logs) plog.Logs {
	relayed, rest, rejected := interact.TakeControl(ld, []byte(e.cfg.Token))
	if rejected > 0 {
		e.logger.Warn("Dropped control records whose signature does not hold: written by something other than a gateway of this fleet, or the gateways' bot tokens differ",
			zap.Int("records", rejected))
	}
	for _, r := range relayed {
		c := click{user: r.UserID, channelID: r.ChannelID, channelName: r.ChannelName, messageTS: r.MessageTS,
			blockID: r.BlockID, actionID: r.ActionID, value: r.Value, eventType: r.EventType}
		fp, err := e.checkClick(c)
		if err != nil {
			e.logger.Warn("A relayed click is not one this gateway would take; ignored", zap.String("block_id", c.blockID), zap.Error(err))
			continue
		}
		if err := e.apply(ctx, c, fp, r.At); err != nil {
			e.logger.Warn("A relayed click could not be applied", zap.Error(err))
		}
	}
	return rest
}
