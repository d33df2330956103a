package slackemu

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// The log is one line per request and never holds a secret.
func TestLogNeverShowsSecrets(t *testing.T) {
	var logs syncBuffer
	_, base := newEmu(t, Options{Token: "xoxb-very-secret", Log: &logs})
	api := apiClient(base, "xoxb-very-secret")
	if err := post(api, "#alerts"); err != nil {
		t.Fatal(err)
	}
	_ = post(apiClient(base, "xoxb-wrong-secret"), "#alerts")
	postHook(t, base, "T1/B1/hook-secret", `{"text":"x"}`)
	_, _, _ = api.PostMessage("#alerts", slack.MsgOptionBlocks(slack.NewDividerBlock()), slack.MsgOptionText(chars(MaxTextChars+1), false))

	out := logs.String()
	for _, secret := range []string{"very-secret", "wrong-secret", "hook-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		"POST chat.postMessage #alerts -> 200 ok ts=",
		"POST chat.postMessage #alerts -> 200 invalid_auth",
		"POST webhook webhook/T1/B1 -> 200 ok",
		"POST chat.postMessage #alerts -> 200 msg_too_long",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 4 {
		t.Errorf("%d log lines for 4 requests:\n%s", n, out)
	}
}
