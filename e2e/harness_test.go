package e2e

// The harness itself lives in package e2e/harness (harness/harness.go), so
// that other e2e test packages (e2e/reliability) can import it too. These
// aliases keep its names unqualified in package e2e's tests.

import "github.com/slackexporter/slackexporter/e2e/harness"

const (
	// DefaultToken is the bot token the emulator accepts unless started with -token.
	DefaultToken = harness.DefaultToken
	// DefaultWebhookPath is the webhook Emulator.Env hands out as SLACK_WEBHOOK_URL.
	DefaultWebhookPath = harness.DefaultWebhookPath
)

type (
	Emulator      = harness.Emulator
	Message       = harness.Message
	DestStats     = harness.DestStats
	Stats         = harness.Stats
	Fault         = harness.Fault
	Collector     = harness.Collector
	Sender        = harness.Sender
	SenderOptions = harness.SenderOptions
	RunResult     = harness.RunResult
)

var (
	StartEmulator  = harness.StartEmulator
	StartCollector = harness.StartCollector
	SlackConfig    = harness.SlackConfig
	RunCollector   = harness.RunCollector
	Service        = harness.Service
	Record         = harness.Record
	WithSpan       = harness.WithSpan
	Eventually     = harness.Eventually
)
