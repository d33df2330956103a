package harness

import (
	"encoding/json"
	"testing"
)

// AllText is the same string every time for the same message: tests
// compare it, and show it when they fail.
func TestAllTextIsStable(t *testing.T) {
	m := Message{Text: "fallback", Blocks: json.RawMessage(`[{"type":"section","block_id":"b",
		"text":{"type":"mrkdwn","text":"one"},
		"fields":[{"type":"mrkdwn","text":"two"},{"type":"mrkdwn","text":"three"}],
		"accessory":{"type":"overflow","options":[{"text":{"type":"plain_text","text":"four"},"value":"4"}]},
		"extra":{"text":"five"},"more":{"text":"six"}}]`)}
	first := m.AllText()
	for range 50 {
		if got := m.AllText(); got != first {
			t.Fatalf("AllText changed between calls:\n%s\nthen\n%s", first, got)
		}
	}
}
