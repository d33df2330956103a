package slackexporter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFleetLoadsFromTheKafkaReceiversWords(t *testing.T) {
	cfg, err := abuseLoad(t, interactiveYAML+"threads:\n  fleet:\n    brokers: kafka-1:9092,kafka-2:9092\n    group_id: slack-gateways\n")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	f := cfg.Threads.Fleet
	require.NotNil(t, f)
	assert.Equal(t, []string{"kafka-1:9092", "kafka-2:9092"}, f.Brokers, "comma-separated, as the kafka receiver takes them")
	assert.Equal(t, defaultFleetPollInterval, fleetPollInterval(f), "omitted: the default")

	cfg, err = abuseLoad(t, interactiveYAML+"threads:\n  fleet:\n    brokers: [k:9092]\n    group_id: g\n    poll_interval: 2s\n")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, 2*time.Second, fleetPollInterval(cfg.Threads.Fleet))
}

func TestFleetMistakesAreRefusedNamingTheKey(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"with a webhook": {"webhook_url: https://hooks.slack.com/services/T/B/hidden-part\nthreads:\n  fleet:\n    brokers: [k:9092]\n    group_id: g\n",
			"threads.fleet: needs threads"},
		"threads off":      {interactiveYAML + "threads:\n  enabled: false\n  fleet:\n    brokers: [k:9092]\n    group_id: g\n", "threads.fleet: needs threads"},
		"no brokers":       {interactiveYAML + "threads:\n  fleet:\n    group_id: g\n", "threads.fleet.brokers: give the fleet's brokers"},
		"an empty broker":  {interactiveYAML + "threads:\n  fleet:\n    brokers: [\"\"]\n    group_id: g\n", "threads.fleet.brokers"},
		"no group":         {interactiveYAML + "threads:\n  fleet:\n    brokers: [k:9092]\n", "threads.fleet.group_id: give the consumer group"},
		"a poll too often": {interactiveYAML + "threads:\n  fleet:\n    brokers: [k:9092]\n    group_id: g\n    poll_interval: 10ms\n", "threads.fleet.poll_interval: must be at least 100ms"},
		"a negative poll":  {interactiveYAML + "threads:\n  fleet:\n    brokers: [k:9092]\n    group_id: g\n    poll_interval: -1s\n", "threads.fleet.poll_interval"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := abuseLoad(t, tc.yaml)
			require.NoError(t, err)
			err = cfg.Validate()
			require.ErrorContains(t, err, tc.want)
			assert.NotContains(t, err.Error(), "hidden", "no secret in the error")
		})
	}
}
