package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"context"

	"go.opentelemetry.io/collector/component"
)

// startReceivers starts Socket Mode and the request URL, as configured.
func (e *slackExporter) startReceivers(_ context.Context, _ component.Host) error {
	return nil
}
