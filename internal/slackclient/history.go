package slackclient

import (
	"context"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

// historyPages bounds a read of a channel's recent messages: 5 pages of 200.
const historyPages, historyPageSize = 5, 200

// Recent returns the top-level messages of channel (an id) posted after
// since, newest first, with their metadata (conversations.history; Slack
// tier 3, scopes channels:history and groups:history).
func (w *WebAPI) Recent(ctx context.Context, channelID string, since time.Time) ([]slack.Message, error) {
	var out []slack.Message
	cursor := ""
	for range historyPages {
		h, err := w.client.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channelID, Oldest: strconv.FormatFloat(float64(since.UnixMicro())/1e6, 'f', 6, 64),
			Limit: historyPageSize, Cursor: cursor, IncludeAllMetadata: true,
		})
		if err != nil {
			return out, classifyWebAPI(err)
		}
		out = append(out, h.Messages...)
		if cursor = h.ResponseMetaData.NextCursor; !h.HasMore || cursor == "" {
			break
		}
	}
	return out, nil
}

// ChannelIDs maps the names of the channels the bot can see ("alerts",
// without #) to their ids (conversations.list; Slack tier 2, scopes
// channels:read and groups:read).
func (w *WebAPI) ChannelIDs(ctx context.Context) (map[string]string, error) {
	ids := map[string]string{}
	cursor := ""
	for {
		chans, next, err := w.client.GetConversationsContext(ctx, &slack.GetConversationsParameters{
			Cursor: cursor, Limit: 1000, ExcludeArchived: true, Types: []string{"public_channel", "private_channel"},
		})
		if err != nil {
			return ids, classifyWebAPI(err)
		}
		for _, c := range chans {
			ids[c.Name] = c.ID
		}
		if cursor = next; cursor == "" {
			return ids, nil
		}
	}
}
