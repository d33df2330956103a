package interact

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

func TestAControlRecordCarriesTheWholeClickThroughProtobuf(t *testing.T) {
	c := Click{UserID: "U0ONCALL", ChannelID: "C0ALERTS", ChannelName: "alerts", MessageTS: "1700000000.000100",
		BlockID: "otel-ab12-s", ActionID: "otel_entry", Value: "mute:1h0m0s", EventType: "otel_log_records"}
	at := time.Date(2026, 12, 1, 15, 4, 5, 0, time.UTC)
	raw, err := (&plog.ProtoMarshaler{}).MarshalLogs(ControlRecord(c, at))
	require.NoError(t, err)
	ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw)
	require.NoError(t, err)

	// Among a channel's records, as a partition delivers it.
	logs := plog.NewLogs()
	before := logs.ResourceLogs().AppendEmpty()
	before.Resource().Attributes().PutStr("service.name", "checkout")
	before.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("disk full")
	ld.ResourceLogs().At(0).CopyTo(logs.ResourceLogs().AppendEmpty())
	unknown := logs.ResourceLogs().AppendEmpty()
	unknown.Resource().Attributes().PutStr(ControlAttribute, "from-a-newer-version")
	unknown.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	after := logs.ResourceLogs().AppendEmpty()
	after.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("queue stuck")

	clicks, rest := TakeControl(logs)
	require.Equal(t, []Relayed{{Click: c, At: at}}, clicks)
	require.Equal(t, 2, rest.ResourceLogs().Len(), "control records of any kind never reach Slack")
	assert.Equal(t, "disk full", rest.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
	assert.Equal(t, "queue stuck", rest.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
	assert.Equal(t, 4, logs.ResourceLogs().Len(), "the input is not modified")

	none, same := TakeControl(rest)
	assert.Empty(t, none)
	assert.Equal(t, rest, same, "without control records, the input itself")
}
