package e2e

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// An ERROR and an INFO record from one service: Slack gets exactly one
// message, about the error.
func TestSmoke(t *testing.T) {
	emu := StartEmulator(t)
	col := StartCollector(t, SlackConfig(`
token: ${env:SLACK_BOT_TOKEN}
api_url: ${env:SLACK_API_URL}
channel: "#alerts"
filter:
  min_severity: error
sending_queue:
  batch:
    flush_timeout: 200ms
`), emu.Env()...)

	const errBody, infoBody = "payment provider timed out", "cart viewed"
	col.SendLogs(t, Service("checkout", "dev"),
		Record(log.SeverityInfo, infoBody, attribute.String("cart_id", "c-1")),
		Record(log.SeverityError, errBody, attribute.String("order_id", "ord-42")),
	)

	emu.WaitForMessages(t, "#alerts", 1, 30*time.Second)
	msgs := emu.WaitQuiet(t, 2*time.Second, 30*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("want exactly 1 message, got %d:\n%s", len(msgs), emu.MessagesText(t))
	}
	m := msgs[0]
	if m.Channel != "#alerts" || !m.Contains(errBody) || m.Contains(infoBody) {
		t.Fatalf("want one message in #alerts mentioning %q and not %q, got:\n%s", errBody, infoBody, emu.MessagesText(t))
	}
	if strings.Contains(col.Logs(), emu.Token) {
		t.Errorf("the bot token appears in the collector's log")
	}
}
