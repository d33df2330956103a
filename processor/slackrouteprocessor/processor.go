package slackrouteprocessor // import "github.com/slackexporter/slackexporter/processor/slackrouteprocessor"

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/metric"

	"github.com/slackexporter/slackexporter"
)

// MetadataKey is the client metadata key that carries a batch's owner (a
// channel or a webhook, never a secret) to the next consumer: the kafka
// exporter keys records by it with
// logs.message_key_from_metadata_key: slack.destination.
const MetadataKey = "slack.destination"

type routeProcessor struct {
	component.StartFunc
	component.ShutdownFunc

	router   *slackexporter.Router
	next     consumer.Logs
	filtered metric.Int64Counter
	passed   metric.Int64Counter
}

func newRouteProcessor(cfg *Config, set processor.Settings, next consumer.Logs) (*routeProcessor, error) {
	router, err := slackexporter.NewRouter(cfg.exporter, set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	meter := set.MeterProvider.Meter("github.com/slackexporter/slackexporter/processor/slackrouteprocessor")
	p := &routeProcessor{router: router, next: next}
	if p.filtered, err = meter.Int64Counter("otelcol_processor_slackroute_records_filtered",
		metric.WithDescription("Records dropped by the filter (severity, include, exclude), as the slack exporter would drop them."),
		metric.WithUnit("{record}")); err != nil {
		return nil, err
	}
	if p.passed, err = meter.Int64Counter("otelcol_processor_slackroute_records_passed",
		metric.WithDescription("Records passed on, each in a batch of its destination."),
		metric.WithUnit("{record}")); err != nil {
		return nil, err
	}
	return p, nil
}

// Capabilities: the records passed on are copies; the input is never changed.
func (p *routeProcessor) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// ConsumeLogs passes on each owner's kept records in a call of its own, in
// a stable order, and returns the errors of all calls. When one owner's call
// fails after another's succeeded, the caller's retry sends the latter
// again: with an asynchronous next consumer (the kafka exporter's sending
// queue) a call fails only when that queue is full.
func (p *routeProcessor) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	owned, filtered := p.router.Split(ctx, ld)
	if filtered > 0 {
		p.filtered.Add(ctx, int64(filtered))
	}
	var errs []error
	for _, o := range owned {
		n := o.Logs.LogRecordCount()
		if err := p.next.ConsumeLogs(withOwner(ctx, o.Owner), o.Logs); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.Owner, err))
			continue
		}
		p.passed.Add(ctx, int64(n))
	}
	return errors.Join(errs...)
}

// withOwner is ctx whose client metadata also says slack.destination =
// owner; the rest of the client info (address, auth, other metadata) is
// kept.
func withOwner(ctx context.Context, owner string) context.Context {
	info := client.FromContext(ctx)
	md := map[string][]string{}
	for k := range info.Metadata.Keys() {
		md[k] = info.Metadata.Get(k)
	}
	md[MetadataKey] = []string{owner}
	info.Metadata = client.NewMetadata(md)
	return client.NewContext(ctx, info)
}
