// Package slackrouteprocessor is the slackroute processor: the slack
// exporter's filter and routing, run on a fleet's agent collectors before
// Kafka.
//
// It is configured with a slack exporter configuration (the same keys,
// defaults and errors; typically the very file the gateways' exporter reads,
// through the collector's ${file:...} provider), keeps the records the
// exporter would keep, and passes each owner's records (a channel, or a
// webhook) on in a ConsumeLogs call of their own whose context carries the
// client metadata key slack.destination = that owner. The kafka exporter
// keys each Kafka record by it (logs.message_key_from_metadata_key), so
// every record for one channel lands on one partition, owned by one gateway
// at a time. The gateway's slack exporter runs the same selection again.
//
// Delivery settings in its configuration (token, api_url, timeout, queues,
// threads, templates) are read and ignored: an agent needs no Slack
// credentials.
package slackrouteprocessor // import "github.com/slackexporter/slackexporter/processor/slackrouteprocessor"
