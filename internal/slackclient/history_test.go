package slackclient

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slackexporter/slackexporter/internal/slackemu"
)

func TestRecentReadsEveryPageSinceAndChannelIDsListsThem(t *testing.T) {
	emu := slackemu.New(slackemu.Options{})
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { emu.Close(); srv.Close() })
	api := NewWebAPI(slackemu.DefaultToken, srv.URL+"/api/", srv.Client())
	ctx := context.Background()

	meta := &slack.SlackMetadata{EventType: "otel_log_records", EventPayload: map[string]any{"records": 1}}
	old, err := api.Post(ctx, "#alerts", "", "before", nil, meta)
	require.NoError(t, err)
	since := time.Now()
	time.Sleep(2 * time.Millisecond)
	var posted []string
	for i := range historyPageSize + 5 { // more than one page
		ref, err := api.Post(ctx, "#alerts", "", strconv.Itoa(i), nil, meta)
		require.NoError(t, err)
		posted = append(posted, ref.TS)
	}
	_, err = api.Post(ctx, "#ops", "", "elsewhere", nil, nil)
	require.NoError(t, err)

	got, err := api.Recent(ctx, old.ChannelID, since)
	require.NoError(t, err)
	require.Len(t, got, len(posted), "every message since, over two pages, and none before")
	assert.Equal(t, posted[len(posted)-1], got[0].Timestamp, "newest first")
	assert.Equal(t, "otel_log_records", got[0].Metadata.EventType, "with their metadata")

	ids, err := api.ChannelIDs(ctx)
	require.NoError(t, err)
	assert.Equal(t, old.ChannelID, ids["alerts"])
	assert.Len(t, ids, 2)

	_, err = api.Recent(ctx, "C0NOTTHERE", since)
	var se *Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "channel_not_found", se.Code)
	bad := NewWebAPI("xoxb-wrong", srv.URL+"/api/", srv.Client())
	_, err = bad.ChannelIDs(ctx)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "invalid_auth", se.Code)
}
