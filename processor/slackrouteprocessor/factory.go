package slackrouteprocessor // import "github.com/slackexporter/slackexporter/processor/slackrouteprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"

	"github.com/slackexporter/slackexporter"
)

// Type is the processor's type in a collector configuration.
var Type = component.MustNewType("slackroute")

// NewFactory returns the factory of the slackroute processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(Type, createDefaultConfig,
		processor.WithLogs(createLogs, component.StabilityLevelAlpha))
}

func createDefaultConfig() component.Config {
	return &Config{exporter: slackexporter.NewFactory().CreateDefaultConfig().(*slackexporter.Config)}
}

func createLogs(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	return newRouteProcessor(cfg.(*Config), set, next)
}
