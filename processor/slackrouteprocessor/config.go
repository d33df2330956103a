package slackrouteprocessor // import "github.com/slackexporter/slackexporter/processor/slackrouteprocessor"

import (
	"go.opentelemetry.io/collector/confmap"

	"github.com/slackexporter/slackexporter"
)

// Config is a slack exporter configuration, of which only the selection
// counts here: channel, mention, webhook_url, filter and routes.
type Config struct {
	// exporter is unexported so that the collector's validation does not
	// run the exporter's own Validate, which requires a token this
	// processor does not need.
	exporter *slackexporter.Config
}

// Unmarshal decodes conf as the slack exporter does: the same keys, and the
// same refusal of an unknown one or of a fraction where a whole number is
// meant.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	return c.exporter.Unmarshal(conf)
}

// Validate reports every mistake in the selection keys, with the exporter's
// messages.
func (c *Config) Validate() error {
	return c.exporter.ValidateSelection()
}

// Marshal shows the configuration as the exporter's (print-config).
func (c Config) Marshal(conf *confmap.Conf) error {
	return conf.Marshal(c.exporter)
}
