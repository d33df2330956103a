package slackexporter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const interactiveYAML = "token: " + abuseToken + "\nchannel: \"#alerts\"\n"

func TestInteractivityLoadsWithItsDefaults(t *testing.T) {
	cfg, err := abuseLoad(t, interactiveYAML)
	require.NoError(t, err)
	assert.False(t, cfg.Interactivity.HasValue(), "absent: messages look as before")

	cfg, err = abuseLoad(t, interactiveYAML+"interactivity:\n  app_token: xapp-1-hidden\n")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	ic := cfg.Interactivity.Get()
	assert.Equal(t, []time.Duration{time.Hour, 24 * time.Hour}, ic.MuteDurations)
	assert.False(t, ic.HTTP.HasValue(), "no request URL unless asked for")

	cfg, err = abuseLoad(t, interactiveYAML+`interactivity:
  signing_secret: s3cret-value
  http:
    endpoint: 127.0.0.1:3000
  mute_durations: [30m, 2h, 168h]
  allowed_users: [U0ONCALL, W0ADMIN]
`)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	ic = cfg.Interactivity.Get()
	assert.Equal(t, "127.0.0.1:3000", ic.HTTP.Get().NetAddr.Endpoint)
	assert.Equal(t, []time.Duration{30 * time.Minute, 2 * time.Hour, 168 * time.Hour}, ic.MuteDurations)
}

func TestInteractivityMistakesAreRefusedNamingTheKey(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"with a webhook": {"webhook_url: https://hooks.slack.com/services/T/B/hidden-part\ninteractivity:\n  app_token: xapp-1-hidden\n",
			"interactivity.app_token: interactivity needs a bot token"},
		"no transport":             {interactiveYAML + "interactivity:\n  mute_durations: [1h]\n", "interactivity.app_token: set app_token (Socket Mode) or signing_secret"},
		"secret without endpoint":  {interactiveYAML + "interactivity:\n  signing_secret: s3cret-value\n", "interactivity.http.endpoint: required with signing_secret"},
		"endpoint without secret":  {interactiveYAML + "interactivity:\n  app_token: xapp-1-hidden\n  http:\n    endpoint: 127.0.0.1:3000\n", "interactivity.signing_secret: required with http.endpoint"},
		"a bot token as app token": {interactiveYAML + "interactivity:\n  app_token: xoxb-wrong-hidden\n", "interactivity.app_token: must be an app-level token"},
		"no durations":             {interactiveYAML + "interactivity:\n  app_token: xapp-1-hidden\n  mute_durations: []\n", "interactivity.mute_durations: give at least one"},
		"too many durations":       {interactiveYAML + "interactivity:\n  app_token: xapp-1-hidden\n  mute_durations: [1h, 2h, 3h, 4h]\n", "interactivity.mute_durations: at most 3"},
		"a zero duration":          {interactiveYAML + "interactivity:\n  app_token: xapp-1-hidden\n  mute_durations: [0s]\n", "interactivity.mute_durations[0]: 0s is too short"},
		"a user that is not an id": {interactiveYAML + "interactivity:\n  app_token: xapp-1-hidden\n  allowed_users: [\"@bob\"]\n", `interactivity.allowed_users[0]: "@bob" is not a Slack user id`},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := abuseLoad(t, tc.yaml)
			require.NoError(t, err)
			err = cfg.Validate()
			require.ErrorContains(t, err, tc.want)
			for _, v := range []string{"hidden", "s3cret-value"} {
				assert.NotContains(t, err.Error(), v, "no secret in the error")
			}
		})
	}
	for name, yaml := range map[string]string{
		"an empty duration":      interactiveYAML + "interactivity:\n  app_token: xapp-1-hidden\n  mute_durations: [\"\"]\n",
		"an unparsable duration": interactiveYAML + "interactivity:\n  app_token: xapp-1-hidden\n  mute_durations: [an hour]\n",
		"an unknown key":         interactiveYAML + "interactivity:\n  app_token: xapp-1-hidden\n  mute_for: 1h\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := abuseLoad(t, yaml)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "interactivity")
			assert.NotContains(t, err.Error(), "xapp-1-hidden")
		})
	}
}
