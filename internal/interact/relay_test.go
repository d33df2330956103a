package interact

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

func TestAControlRecordCarriesTheWholeClickThroughProtobuf(t *testing.T) {
	c := Click{UserID: "U0ONCALL", ChannelID: "C0ALERTS", ChannelName: "alerts", MessageTS: "1700000000.000100",
		BlockID: "otel-ab12-s", ActionID: "otel_entry", Value: "mute:1h0m0s", EventType: "otel_log_records"}
	at := time.Date(2026, 12, 1, 15, 4, 5, 0, time.UTC)
	secret := []byte("xoxb-fleet-secret")
	raw, err := (&plog.ProtoMarshaler{}).MarshalLogs(ControlRecord(c, at, secret))
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

	// An application marking its own record as a click, and a click
	// signed with another secret or changed on the way: none is applied.
	forged := logs.ResourceLogs().AppendEmpty()
	forged.Resource().Attributes().PutStr(ControlAttribute, controlClick)
	fl := forged.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	fl.Attributes().PutStr("user_id", "U0ATTACKER")
	fl.Attributes().PutStr("value", "mute:1h0m0s")
	ControlRecord(c, at, []byte("another secret")).ResourceLogs().At(0).CopyTo(logs.ResourceLogs().AppendEmpty())
	changed := ControlRecord(c, at, secret)
	changed.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr("value", "mute:24h0m0s")
	changed.ResourceLogs().At(0).CopyTo(logs.ResourceLogs().AppendEmpty())
	later := ControlRecord(c, at, secret)
	later.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Hour)))
	later.ResourceLogs().At(0).CopyTo(logs.ResourceLogs().AppendEmpty())

	clicks, rest, rejected := TakeControl(logs, secret)
	require.Equal(t, []Relayed{{Click: c, At: at}}, clicks)
	assert.Equal(t, 5, rejected, "an unknown kind, a forged, a foreign, a changed and a re-dated record")
	require.Equal(t, 2, rest.ResourceLogs().Len(), "control records of any kind never reach Slack")
	assert.Equal(t, "disk full", rest.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
	assert.Equal(t, "queue stuck", rest.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
	assert.Equal(t, 8, logs.ResourceLogs().Len(), "the input is not modified")

	none, same, rejected := TakeControl(rest, secret)
	assert.Empty(t, none)
	assert.Zero(t, rejected)
	assert.Equal(t, rest, same, "without control records, the input itself")
}
