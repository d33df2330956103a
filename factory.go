package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/metadata"
)

const (
	defaultAPIURL       = "https://slack.com/api/"
	defaultTimeout      = 10 * time.Second
	defaultFlushTimeout = 10 * time.Millisecond
)

// NewFactory returns the factory of the slack exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = defaultTimeout

	// A calm record goes out at once: batching waits only 10 ms for others
	// sent with it. A storm is gathered where it must wait anyway: in the
	// queue while consumers are busy, and in each destination's outbox
	// while it waits for its next rate-limit slot.
	queue := exporterhelper.NewDefaultQueueConfig()
	batch := exporterhelper.NewDefaultBatchConfig()
	batch.FlushTimeout = defaultFlushTimeout
	queue.Batch = configoptional.Some(batch)

	// An alert that arrives late beats one that is lost: keep retrying, and
	// let the queue's bound (whose drops are counted) be the limit. Start
	// retrying after a second, not five: a 429's Retry-After (the usual
	// failure) is often 1s, and the wait is at least that anyway.
	retry := configretry.NewDefaultBackOffConfig()
	retry.MaxElapsedTime = 0
	retry.InitialInterval = time.Second

	return &Config{
		ClientConfig: client,
		APIURL:       defaultAPIURL,
		Filter:       FilterConfig{MinSeverity: "error"},
		Grouping:     GroupingConfig{Mask: true},
		RateLimit:    RateLimitConfig{PerSecond: 1, Burst: 3},
		Threads: ThreadsConfig{
			Window:           time.Hour,
			ReplyEvery:       5 * time.Minute,
			QuietAfter:       15 * time.Minute,
			MaxTracked:       10_000,
			UpdatesPerMinute: 50,
		},
		Interactivity: configoptional.Default(defaultInteractivity()),
		QueueConfig:   configoptional.Some(queue),
		BackOffConfig: retry,
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e, err := newSlackExporter(c, set)
	if err != nil {
		return nil, err
	}
	queued, err := exporterhelper.NewLogs(ctx, set, cfg, e.push,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: c.Timeout}),
		exporterhelper.WithRetry(c.BackOffConfig),
		exporterhelper.WithQueue(c.QueueConfig),
	)
	if err != nil {
		return nil, err
	}
	// With batching on, exporterhelper declares that it mutates data (its
	// batcher merges requests in place), whatever WithCapabilities says. The
	// pipeline then hands this exporter a copy of its own whenever the data
	// is shared, so selection may reduce it in place rather than copy what
	// it keeps: a second copy would buy nothing.
	e.ownsInput = queued.Capabilities().MutatesData
	return &selectingLogs{Logs: queued, exporter: e}, nil
}

// selectingLogs filters and routes in the caller's goroutine, so only the
// records that go to Slack enter exporterhelper's queue.
type selectingLogs struct {
	exporter.Logs
	exporter *slackExporter
}

func (s *selectingLogs) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if s.exporter.relay != nil {
		// On a fleet's gateway, clicks relayed by the others arrive among
		// the channel's records.
		ld = s.exporter.takeControl(ctx, ld)
	}
	kept := s.exporter.selectRecords(ctx, ld)
	if kept.LogRecordCount() == 0 {
		return nil
	}
	return s.Logs.ConsumeLogs(ctx, kept)
}
