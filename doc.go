// Package slackexporter delivers the log records that matter to Slack.
//
// ConsumeLogs filters and routes each record once, before exporterhelper's
// sending queue; the queue's consumers group the kept records per
// destination, render them as Block Kit within Slack's limits and post them
// with a bot token (chat.postMessage) or an incoming webhook.
//
//go:generate mdatagen metadata.yaml
package slackexporter // import "github.com/slackexporter/slackexporter"
