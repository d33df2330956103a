package slackexporter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/slackexporter/slackexporter/internal/memstorage"
	"github.com/slackexporter/slackexporter/internal/metadata"
	"github.com/slackexporter/slackexporter/internal/metadatatest"
	"github.com/slackexporter/slackexporter/internal/selection"
	"github.com/slackexporter/slackexporter/internal/slackemu"
)

const testToken = "xoxb-exporter-test-secret"

// emulator starts slackemu on loopback; wrap, if given, sits in front of it.
func emulator(t *testing.T, wrap func(http.Handler) http.Handler) (*slackemu.Server, *httptest.Server) {
	t.Helper()
	emu := slackemu.New(slackemu.Options{Token: testToken})
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { emu.Close(); srv.Close() })
	return emu, srv
}

func tokenConfig(srv *httptest.Server) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Token = testToken
	cfg.Channel = "#alerts"
	cfg.APIURL = srv.URL + "/api/"
	cfg.RateLimit = RateLimitConfig{PerSecond: 100, Burst: 100}
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.BackOffConfig.Enabled = false
	return cfg
}

type rec struct {
	service, env string
	severity     plog.SeverityNumber
	body         string
}

func logsOf(recs ...rec) plog.Logs {
	ld := plog.NewLogs()
	for _, r := range recs {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", r.service)
		rl.Resource().Attributes().PutStr("deployment.environment", r.env)
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetSeverityNumber(r.severity)
		lr.Body().SetStr(r.body)
		lr.SetTimestamp(1_700_000_000_000_000_000)
	}
	return ld
}

func copies(n int, r rec) []rec {
	out := make([]rec, n)
	for i := range out {
		out[i] = r
	}
	return out
}

// started is an exporter whose push the test calls directly.
func started(t *testing.T, cfg *Config, set exporter.Settings) *slackExporter {
	t.Helper()
	require.NoError(t, cfg.Validate())
	e, err := newSlackExporter(cfg, set)
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })
	return e
}

func messagesIn(emu *slackemu.Server, channel string) []slackemu.Message {
	var out []slackemu.Message
	for _, m := range emu.Messages() {
		if m.Channel == channel {
			out = append(out, m)
		}
	}
	return out
}

// shown is every text of a message's blocks, as Slack would read them.
func shown(t *testing.T, m slackemu.Message) string {
	t.Helper()
	texts, err := blockTexts(m.Blocks, false)
	require.NoError(t, err)
	return strings.Join(texts, "\n") + "\n"
}

// blockTexts is every text in blocks; with mrkdwnOnly, only the mrkdwn ones:
// the texts Slack parses for markup (plain_text is shown literally).
func blockTexts(raw json.RawMessage, mrkdwnOnly bool) ([]string, error) {
	var blocks any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, err
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok && (!mrkdwnOnly || v["type"] == "mrkdwn") {
				out = append(out, s)
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(blocks)
	return out, nil
}

func marshal(t *testing.T, ld plog.Logs) string {
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	return string(b)
}

func TestConsumeLogsFiltersRoutesCollapsesAndCounts(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := tokenConfig(srv)
	cfg.Routes = []RouteConfig{{Condition: `resource.attributes["deployment.environment"] == "prod"`, Channel: "#prod-alerts"}}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	exp, err := NewFactory().CreateLogs(context.Background(), metadatatest.NewSettings(tel), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	assert.False(t, exp.Capabilities().MutatesData, "without batching, the pipeline may share its data with this exporter")
	assert.False(t, exp.(*selectingLogs).exporter.ownsInput, "so selection copies what it keeps")

	recs := copies(100, rec{"checkout", "dev", plog.SeverityNumberInfo, "request ok"})
	recs = append(recs, copies(3, rec{"checkout", "dev", plog.SeverityNumberError, "db down"})...)
	recs = append(recs,
		rec{"checkout", "dev", plog.SeverityNumberWarn, "slow request"},
		rec{"checkout", "dev", plog.SeverityNumberError, "<!channel> payment <@U123> failed & retried"},
		rec{"payments", "prod", plog.SeverityNumberFatal, "ledger corrupt"},
	)
	ld := logsOf(recs...)
	before := marshal(t, ld)
	ld.MarkReadOnly() // as the pipeline marks data it shares: any write panics
	require.NoError(t, exp.ConsumeLogs(context.Background(), ld))
	assert.Equal(t, before, marshal(t, ld), "the exporter never modifies an input it does not own")

	alerts := messagesIn(emu, "#alerts")
	require.Len(t, alerts, 1, "one push to one channel is one message")
	body := shown(t, alerts[0])
	assert.Contains(t, body, "×3")
	assert.Equal(t, 1, strings.Count(body, "db down"), "identical records collapse")
	assert.Contains(t, body, "&lt;!channel&gt; payment &lt;@U123&gt; failed &amp; retried")
	assert.NotContains(t, body, "<!channel>")
	assert.NotContains(t, body, "request ok")
	assert.NotContains(t, body, "slow request")
	assert.NotContains(t, body, selection.DestinationAttribute)
	assert.Equal(t, "false", alerts[0].Params["unfurl_links"])

	prod := messagesIn(emu, "#prod-alerts")
	require.Len(t, prod, 1)
	assert.Contains(t, shown(t, prod[0]), "ledger corrupt")
	assert.NotContains(t, shown(t, prod[0]), "db down")

	sum := func(v int64) []metricdata.DataPoint[int64] { return []metricdata.DataPoint[int64]{{Value: v}} }
	noTime := []metricdatatest.Option{metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars()}
	metadatatest.AssertEqualExporterSlackRecordsFiltered(t, tel, sum(101), noTime...)
	metadatatest.AssertEqualExporterSlackRecordsDelivered(t, tel, sum(5), noTime...)
	metadatatest.AssertEqualExporterSlackMessagesSent(t, tel, sum(2), noTime...)
}

func TestOnlyTheFailedDestinationIsRetried(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := tokenConfig(srv)
	cfg.Routes = []RouteConfig{{Condition: `resource.attributes["deployment.environment"] == "prod"`, Channel: "#prod-alerts"}}
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, emu.SetFault(slackemu.Fault{Target: "#prod-alerts", Mode: slackemu.FaultStatus, Status: 503}))

	kept := e.selectRecords(context.Background(), logsOf(
		rec{"checkout", "dev", plog.SeverityNumberError, "dev error"},
		rec{"payments", "prod", plog.SeverityNumberError, "prod error one"},
		rec{"payments", "prod", plog.SeverityNumberError, "prod error two"},
	))
	err := e.push(context.Background(), kept)
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "#prod-alerts")
	var failed consumererror.Logs
	require.ErrorAs(t, err, &failed)
	assert.Equal(t, 2, failed.Data().LogRecordCount(), "only the prod records come back")
	require.Len(t, messagesIn(emu, "#alerts"), 1)

	emu.ClearFaults()
	require.NoError(t, e.push(context.Background(), failed.Data()))
	assert.Len(t, messagesIn(emu, "#alerts"), 1, "the delivered message is not posted again")
	prod := messagesIn(emu, "#prod-alerts")
	require.Len(t, prod, 1)
	assert.Contains(t, shown(t, prod[0]), "prod error one")
	assert.Contains(t, shown(t, prod[0]), "prod error two")
}

func TestFailureMidDestinationRetriesOnlyUnsentMessages(t *testing.T) {
	var posts atomic.Int32
	failSecond := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "chat.postMessage") && posts.Add(1) == 2 {
				http.Error(w, "upstream down", http.StatusBadGateway)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	emu, srv := emulator(t, failSecond)
	cfg := tokenConfig(srv)
	cfg.Grouping.Mask = false // every record its own entry
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))

	var recs []rec
	for i := 0; i < 80; i++ {
		recs = append(recs, rec{"checkout", "dev", plog.SeverityNumberError, fmt.Sprintf("distinct error %03d", i)})
	}
	err := e.push(context.Background(), e.selectRecords(context.Background(), logsOf(recs...)))
	var failed consumererror.Logs
	require.ErrorAs(t, err, &failed)
	first := messagesIn(emu, "#alerts")
	require.Len(t, first, 1)
	inFirst := strings.Count(shown(t, first[0]), "distinct error")
	assert.Equal(t, 80-inFirst, failed.Data().LogRecordCount(), "exactly the records not yet in Slack come back")

	require.NoError(t, e.push(context.Background(), failed.Data()))
	all := ""
	for _, m := range messagesIn(emu, "#alerts") {
		all += shown(t, m)
	}
	for i := 0; i < 80; i++ {
		assert.Equal(t, 1, strings.Count(all, fmt.Sprintf("distinct error %03d", i)), "record %d delivered exactly once", i)
	}
}

func TestPermanentErrorIsDroppedWithOneClearLogLine(t *testing.T) {
	emu, srv := emulator(t, nil)
	core, logs := observer.New(zap.InfoLevel)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tel)
	set.Logger = zap.New(core)
	e := started(t, tokenConfig(srv), set)
	require.NoError(t, emu.SetFault(slackemu.Fault{Target: "#alerts", Mode: slackemu.FaultError, Error: "channel_not_found"}))

	err := e.push(context.Background(), e.selectRecords(context.Background(), logsOf(rec{"checkout", "dev", plog.SeverityNumberError, "boom"})))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "#alerts")
	assert.Contains(t, err.Error(), "channel_not_found")
	assert.Equal(t, 1, emu.Stats().Destinations["#alerts"].Requests, "no retry loop")

	refused := logs.FilterMessageSnippet("Slack refused").All()
	require.Len(t, refused, 1)
	fields := refused[0].ContextMap()
	assert.Equal(t, "#alerts", fields["destination"])
	assert.Equal(t, "channel_not_found", fields["slack_error"])
	for _, entry := range logs.All() {
		assert.NotContains(t, fmt.Sprint(entry.Message, entry.ContextMap()), testToken)
	}
	notFound := attribute.NewSet(attribute.String("error", "channel_not_found"))
	noTime := []metricdatatest.Option{metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars()}
	metadatatest.AssertEqualExporterSlackAPIErrors(t, tel, []metricdata.DataPoint[int64]{{Value: 1, Attributes: notFound}}, noTime...)
	metadatatest.AssertEqualExporterSlackRecordsDropped(t, tel, []metricdata.DataPoint[int64]{{Value: 1, Attributes: notFound}}, noTime...)
}

func TestRetryAfterPausesTheDestination(t *testing.T) {
	emu, srv := emulator(t, nil)
	e := started(t, tokenConfig(srv), exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, emu.SetFault(slackemu.Fault{Target: "#alerts", Mode: slackemu.FaultRateLimit, RetryAfter: 2, Count: 1}))
	kept := e.selectRecords(context.Background(), logsOf(rec{"checkout", "dev", plog.SeverityNumberError, "boom"}))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	throttledAt := time.Now()
	err := e.push(ctx, kept)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Throttle (2s)", "the queue waits at least Retry-After")
	var failed consumererror.Logs
	require.ErrorAs(t, err, &failed)
	assert.Equal(t, 1, failed.Data().LogRecordCount())

	// A push whose deadline falls inside the pause gives up at once, without
	// calling Slack.
	short, cancelShort := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancelShort()
	err = e.push(short, failed.Data())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "later than the caller can wait")
	assert.Equal(t, 1, emu.Stats().Destinations["#alerts"].Requests)

	require.NoError(t, e.push(ctx, failed.Data()))
	assert.GreaterOrEqual(t, time.Since(throttledAt), 1900*time.Millisecond, "nothing was posted before Retry-After ran out")
	assert.Len(t, messagesIn(emu, "#alerts"), 1)
}

func TestWebhookModeAndRouteWebhooks(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := createDefaultConfig().(*Config)
	cfg.WebhookURL = configopaqueString(srv.URL + "/services/T1/B1/default-hook-secret")
	cfg.Routes = []RouteConfig{{Condition: `resource.attributes["service.name"] == "payments"`, WebhookURL: configopaqueString(srv.URL + "/services/T1/B2/route-hook-secret")}}
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, e.push(context.Background(), e.selectRecords(context.Background(), logsOf(
		rec{"checkout", "dev", plog.SeverityNumberError, "checkout broke"},
		rec{"payments", "dev", plog.SeverityNumberError, "payments broke"},
	))))
	def := messagesIn(emu, "webhook/T1/B1")
	require.Len(t, def, 1)
	assert.Contains(t, shown(t, def[0]), "checkout broke")
	route := messagesIn(emu, "webhook/T1/B2")
	require.Len(t, route, 1)
	assert.Contains(t, shown(t, route[0]), "payments broke")

	// A webhook error names which webhook, never its URL.
	require.NoError(t, emu.SetFault(slackemu.Fault{Target: "webhook/T1/B2", Mode: slackemu.FaultError, Error: "no_active_hooks"}))
	err := e.push(context.Background(), e.selectRecords(context.Background(), logsOf(rec{"payments", "dev", plog.SeverityNumberError, "again"})))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "webhook of routes[0]")
	assert.Contains(t, err.Error(), "no_active_hooks")
	assert.NotContains(t, err.Error(), "secret")
	assert.NotContains(t, err.Error(), srv.URL)
}

func TestQueuedRecordsForARemovedRouteGoToTheDefault(t *testing.T) {
	emu, srv := emulator(t, nil)
	e := started(t, tokenConfig(srv), exportertest.NewNopSettings(metadata.Type))
	ld := logsOf(rec{"checkout", "dev", plog.SeverityNumberError, "queued before a config change"})
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr(selection.DestinationAttribute, "channel:gone")
	require.NoError(t, e.push(context.Background(), ld))
	assert.Len(t, messagesIn(emu, "#alerts"), 1)
}

func TestTransportErrorsNeverShowTheWebhookURL(t *testing.T) {
	_, srv := emulator(t, nil)
	url := srv.URL + "/services/T1/B1/transport-hook-secret"
	srv.Close() // connection refused from now on
	cfg := createDefaultConfig().(*Config)
	cfg.WebhookURL = configopaqueString(url)
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	err := e.push(context.Background(), e.selectRecords(context.Background(), logsOf(rec{"a", "dev", plog.SeverityNumberError, "x"})))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	assert.NotContains(t, err.Error(), "transport-hook-secret")
	assert.Contains(t, err.Error(), "connection refused")
}

func configopaqueString(s string) configopaque.String { return configopaque.String(s) }

func TestUnderPressureTheRestIsFoldedNotPostedOneByOne(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := tokenConfig(srv)
	cfg.Grouping.Mask = false
	cfg.RateLimit = RateLimitConfig{PerSecond: 0.1, Burst: 1} // one post now, the next in 10s
	cfg.Timeout = 2 * time.Second                             // as exporterhelper bounds the push below
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	e := started(t, cfg, metadatatest.NewSettings(tel))

	var recs []rec
	for i := 0; i < 150; i++ {
		recs = append(recs, rec{"checkout", "dev", plog.SeverityNumberError, fmt.Sprintf("distinct error %03d %s", i, strings.Repeat("detail ", 40))})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, logsOf(recs...))))

	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 1, "one slot, one message")
	text := shown(t, msgs[0])
	shownEntries := strings.Count(text, "distinct error")
	assert.Less(t, shownEntries, 150)
	assert.Contains(t, text, fmt.Sprintf("➕ %d more records in %d groups", 150-shownEntries, 150-shownEntries))

	noTime := []metricdatatest.Option{metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars()}
	metadatatest.AssertEqualExporterSlackRecordsDelivered(t, tel, []metricdata.DataPoint[int64]{{Value: 150}}, noTime...)
	metadatatest.AssertEqualExporterSlackRecordsFolded(t, tel, []metricdata.DataPoint[int64]{{Value: int64(150 - shownEntries)}}, noTime...)
}

// threadsConfig keeps the other thread settings at their defaults.
func threadsConfig(srv *httptest.Server, mutate func(*ThreadsConfig)) *Config {
	cfg := tokenConfig(srv)
	mutate(&cfg.Threads)
	return cfg
}

func errorRecords(n int, body func(i int) string) plog.Logs {
	var recs []rec
	for i := 0; i < n; i++ {
		recs = append(recs, rec{"checkout", "dev", plog.SeverityNumberError, body(i)})
	}
	return logsOf(recs...)
}

func TestRepeatsUpdateTheLiveMessageInsteadOfPosting(t *testing.T) {
	emu, srv := emulator(t, nil)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = time.Hour })
	e := started(t, cfg, metadatatest.NewSettings(tel))
	ctx := context.Background()

	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "timeout after 31ms for user 42" }))))
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(3, func(i int) string { return fmt.Sprintf("timeout after %dms for user %d", 80+i, i) }))))

	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 1, "a repeat does not post a new message")
	assert.Equal(t, 1, msgs[0].Updates)
	text := shown(t, msgs[0])
	assert.Contains(t, text, "×4")
	assert.Contains(t, text, "timeout after 31ms for user 42", "the sample is the first record")
	assert.Contains(t, text, "4 error records from checkout")

	noTime := []metricdatatest.Option{metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars()}
	metadatatest.AssertEqualExporterSlackRecordsDelivered(t, tel, []metricdata.DataPoint[int64]{{Value: 4}}, noTime...)
	metadatatest.AssertEqualExporterSlackRecordsFolded(t, tel, []metricdata.DataPoint[int64]{{Value: 3}}, noTime...)
	metadatatest.AssertEqualExporterSlackMessagesSent(t, tel, []metricdata.DataPoint[int64]{{Value: 1}}, noTime...)
}

func TestRepeatPostsASampleReplyAtMostEveryReplyEvery(t *testing.T) {
	emu, srv := emulator(t, nil)
	e := started(t, threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = 0 }), exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return fmt.Sprintf("disk %d%% full", 90+i) }))))
	}
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 3, "the parent and two replies")
	parent := msgs[0]
	assert.Empty(t, parent.ThreadTS)
	assert.Equal(t, 2, parent.Updates)
	for _, reply := range msgs[1:] {
		assert.Equal(t, parent.TS, reply.ThreadTS, "replies go to the parent's thread")
	}
	assert.Contains(t, shown(t, msgs[2]), "disk 92% full")

	e2 := started(t, threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = time.Hour }), exportertest.NewNopSettings(metadata.Type))
	emu.Reset()
	for i := 0; i < 3; i++ {
		require.NoError(t, e2.push(ctx, e2.selectRecords(ctx, errorRecords(1, func(int) string { return "queue full" }))))
	}
	assert.Len(t, messagesIn(emu, "#alerts"), 1, "no reply within reply_every")
}

func TestQuietFingerprintIsMarkedOnce(t *testing.T) {
	emu, srv := emulator(t, nil)
	e := started(t, threadsConfig(srv, func(c *ThreadsConfig) { c.QuietAfter = 200 * time.Millisecond }), exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(2, func(int) string { return "cache unreachable" }))))
	require.Eventually(t, func() bool {
		msgs := messagesIn(emu, "#alerts")
		return len(msgs) == 1 && strings.Contains(shown(t, msgs[0]), "quiet since")
	}, 5*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	msgs := messagesIn(emu, "#alerts")
	assert.Equal(t, 1, msgs[0].Updates, "quiet is said once")
	assert.Contains(t, shown(t, msgs[0]), "2 in total")
}

func TestAfterTheWindowARepeatPostsANewMessage(t *testing.T) {
	emu, srv := emulator(t, nil)
	e := started(t, threadsConfig(srv, func(c *ThreadsConfig) { c.Window = 100 * time.Millisecond }), exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "same error" }))))
	time.Sleep(150 * time.Millisecond)
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "same error" }))))
	assert.Len(t, messagesIn(emu, "#alerts"), 2)
}

func TestFailedUpdateRetriesItsRecordsAndADeletedMessageIsPostedAnew(t *testing.T) {
	emu, srv := emulator(t, nil)
	// Four updates in a row: within the update budget, which is not what
	// this test is about.
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.UpdatesPerMinute = 60_000 })
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "db down" }))))

	require.NoError(t, emu.SetFault(slackemu.Fault{Target: "#alerts", Mode: slackemu.FaultStatus, Status: 503, Count: 1}))
	err := e.push(ctx, e.selectRecords(ctx, errorRecords(2, func(int) string { return "db down" })))
	var failed consumererror.Logs
	require.ErrorAs(t, err, &failed)
	assert.Equal(t, 2, failed.Data().LogRecordCount())
	require.NoError(t, e.push(ctx, failed.Data()))
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 1)
	assert.Contains(t, shown(t, msgs[0]), "×3", "the failed update's counts arrive once")

	// The message is gone from Slack (deleted by someone): the update fails
	// for good, and the records are posted as a new message at once.
	require.NoError(t, emu.SetFault(slackemu.Fault{Target: "#alerts", Mode: slackemu.FaultError, Error: "message_not_found", Count: 1}))
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "db down" }))))
	msgs = messagesIn(emu, "#alerts")
	require.Len(t, msgs, 2)
	assert.Contains(t, shown(t, msgs[1]), "db down")
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "db down" }))))
	assert.Len(t, messagesIn(emu, "#alerts"), 2, "the new message is the live one now")
	assert.Equal(t, 1, messagesIn(emu, "#alerts")[1].Updates)
}

func TestConcurrentPushesNeverPostOneFingerprintTwice(t *testing.T) {
	emu, srv := emulator(t, nil)
	// Within the update budget: a repeat that cannot be updated within a
	// post interval (10 ms here) is posted anew by design.
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.UpdatesPerMinute = 60_000 })
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(5, func(int) string { return "payment provider timeout" }))))
		}()
	}
	wg.Wait()
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 1)
	assert.Contains(t, shown(t, msgs[0]), "×40")
}

func TestRouteMentionAndTemplatesReachSlack(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := tokenConfig(srv)
	cfg.Message = MessageConfig{
		Title: `{{ .Service }}: {{ .Records }} problems`,
		Link:  `https://tracing.example/trace/{{ .TraceID }}`,
	}
	cfg.Routes = []RouteConfig{{Condition: `severity_number >= SEVERITY_NUMBER_FATAL`, Channel: "#alerts", Mention: "S0ONCALL"}}
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	ld := logsOf(
		rec{"checkout", "dev", plog.SeverityNumberError, "<!here> from a record"},
		rec{"checkout", "dev", plog.SeverityNumberFatal, "ledger corrupt"},
	)
	ld.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords().At(0).SetTraceID([16]byte{0xab, 1})
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, ld)))

	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 2, "same channel, two destinations: with and without the mention")
	var plain, paged slackemu.Message
	for _, m := range msgs {
		if strings.Contains(m.Text, "<!subteam^S0ONCALL>") {
			paged = m
		} else {
			plain = m
		}
	}
	assert.Contains(t, shown(t, paged), "ledger corrupt")
	assert.Contains(t, shown(t, paged), "checkout: 1 problems")
	assert.Contains(t, shown(t, paged), "<https://tracing.example/trace/ab010000000000000000000000000000|🔗 link>")
	assert.NotContains(t, plain.Text+shown(t, plain), "<!", "no mention without configuration, none from a record")
	assert.Contains(t, shown(t, plain), "&lt;!here&gt; from a record")
}

func TestAPausedChannelDoesNotHoldUpTheOthersInAPush(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := tokenConfig(srv)
	cfg.Routes = []RouteConfig{{Condition: `resource.attributes["deployment.environment"] == "prod"`, Channel: "#other"}}
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, emu.SetFault(slackemu.Fault{Target: "#alerts", Mode: slackemu.FaultRateLimit, RetryAfter: 2, Count: 1}))
	err := e.push(ctx, e.selectRecords(ctx, logsOf(rec{"checkout", "dev", plog.SeverityNumberError, "first alerts record"})))
	require.ErrorContains(t, err, "Throttle")

	// #alerts is paused for 2s; #other, in the same push, must not wait.
	start := time.Now()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, logsOf(
		rec{"checkout", "dev", plog.SeverityNumberError, "second alerts record"},
		rec{"payments", "prod", plog.SeverityNumberError, "other record"},
	))))
	other := messagesIn(emu, "#other")
	require.Len(t, other, 1)
	assert.Less(t, other[0].ReceivedAt.Sub(start), time.Second, "#other was posted during #alerts's pause")
	alerts := messagesIn(emu, "#alerts")
	require.Len(t, alerts, 1)
	assert.GreaterOrEqual(t, alerts[0].ReceivedAt.Sub(start), 1500*time.Millisecond, "#alerts waited for its Retry-After")
}

type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }

func TestLiveMessagesSurviveARestartWithThreadsStorage(t *testing.T) {
	emu, srv := emulator(t, nil)
	storageID := component.MustNewID("file_storage")
	host := hostWith{storageID: memstorage.New()}
	cfg := tokenConfig(srv)
	cfg.Threads.Storage = &storageID
	ctx := context.Background()
	run := func(body string) {
		e, err := newSlackExporter(cfg, exportertest.NewNopSettings(metadata.Type))
		require.NoError(t, err)
		require.NoError(t, e.start(ctx, host))
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(2, func(int) string { return body }))))
		require.NoError(t, e.shutdown(ctx))
	}
	run("replica lag 12s")
	run("replica lag 31s") // a new collector process, same storage
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 1, "after the restart the repeat updated the message already in Slack")
	assert.Equal(t, 1, msgs[0].Updates)
	assert.Contains(t, shown(t, msgs[0]), "×4")

	cfg.Threads.Storage = nil
	run("replica lag 40s")
	assert.Len(t, messagesIn(emu, "#alerts"), 2, "without storage a new process starts afresh")

	missing := component.MustNewID("nope")
	cfg.Threads.Storage = &missing
	e, err := newSlackExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	assert.ErrorContains(t, e.start(ctx, host), `threads.storage: no extension "nope"`)
	require.NoError(t, e.shutdown(ctx))
}

func TestWhenTheUpdateBudgetIsSpentRepeatsArePostedInstead(t *testing.T) {
	emu, srv := emulator(t, nil)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.UpdatesPerMinute = 0.6 }) // a burst of 3, then one a 100s
	cfg.Grouping.Mask = false
	e := started(t, cfg, metadatatest.NewSettings(tel))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Five messages, one fingerprint each (distinct services: one per entry).
	var recs []rec
	for _, svc := range []string{"a", "b", "c", "d", "e"} {
		recs = append(recs, rec{svc, "dev", plog.SeverityNumberError, "boom"})
	}
	for _, r := range recs {
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, logsOf(r))))
	}
	require.Len(t, messagesIn(emu, "#alerts"), 5)

	// All five repeat: three updates fit the budget, two do not and are
	// posted as new messages, without waiting and without losing a count.
	start := time.Now()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, logsOf(recs...))))
	// The next update is 100 s away: refused at once, not after waiting
	// for it (or for the timeout).
	assert.Less(t, time.Since(start), cfg.Timeout/2, "nobody waited for the budget to refill")
	msgs := messagesIn(emu, "#alerts")
	updated := 0
	for _, m := range msgs[:5] {
		updated += m.Updates
	}
	assert.Equal(t, 3, updated)
	assert.Len(t, msgs, 6, "the two repeats left over share one new message")
	assert.Contains(t, shown(t, msgs[5]), "2 error records")
	metadatatest.AssertEqualExporterSlackRecordsDelivered(t, tel, []metricdata.DataPoint[int64]{{Value: 10}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestPartlyRefusedPushDeliversTheRestAndLogsOnce(t *testing.T) {
	emu, srv := emulator(t, nil)
	core, logs := observer.New(zap.InfoLevel)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tel)
	set.Logger = zap.New(core)
	cfg := tokenConfig(srv)
	cfg.Routes = []RouteConfig{{Condition: `resource.attributes["deployment.environment"] == "prod"`, Channel: "#gone"}}
	e := started(t, cfg, set)
	require.NoError(t, emu.SetFault(slackemu.Fault{Target: "#gone", Mode: slackemu.FaultError, Error: "channel_not_found"}))
	ctx := context.Background()

	err := e.push(ctx, e.selectRecords(ctx, logsOf(
		rec{"checkout", "dev", plog.SeverityNumberError, "delivered"},
		rec{"payments", "prod", plog.SeverityNumberError, "refused one"},
		rec{"payments", "prod", plog.SeverityNumberFatal, "refused two"},
	)))
	assert.NoError(t, err, "the delivered record must not be counted as failed by exporterhelper")
	assert.Len(t, messagesIn(emu, "#alerts"), 1)
	require.Len(t, logs.FilterMessageSnippet("Slack refused").All(), 1)
	gone := attribute.NewSet(attribute.String("error", "channel_not_found"))
	metadatatest.AssertEqualExporterSlackRecordsDropped(t, tel, []metricdata.DataPoint[int64]{{Value: 2, Attributes: gone}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	// Refused whole: a permanent error (exporterhelper counts the push as
	// failed, rightly), and the same one line of ours.
	err = e.push(ctx, e.selectRecords(ctx, logsOf(rec{"payments", "prod", plog.SeverityNumberError, "refused three"})))
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "#gone: slack answered channel_not_found")
	assert.Len(t, logs.FilterMessageSnippet("Slack refused").All(), 2)
}

// With batching on (the default), exporterhelper declares that the exporter
// mutates data, so the pipeline hands it a copy of its own and selection
// moves the kept records out of it instead of copying them: every kept
// record still reaches its channel once, and only those.
func TestWithBatchingTheExporterOwnsItsInputAndDeliversWhatItKeeps(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := tokenConfig(srv)
	cfg.QueueConfig = createDefaultConfig().(*Config).QueueConfig
	cfg.Routes = []RouteConfig{{Condition: `resource.attributes["deployment.environment"] == "prod"`, Channel: "#prod-alerts"}}
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	assert.True(t, exp.Capabilities().MutatesData, "the pipeline gives the exporter its own copy")
	assert.True(t, exp.(*selectingLogs).exporter.ownsInput, "so selection works on it in place")

	ld := plog.NewLogs()
	for _, env := range []string{"dev", "prod", "dev"} {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("deployment.environment", env)
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := range 6 {
			lr := lrs.AppendEmpty()
			lr.SetSeverityNumber([]plog.SeverityNumber{plog.SeverityNumberError, plog.SeverityNumberInfo}[i%2])
			lr.Body().SetStr(env + " " + []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}[i])
			lr.Attributes().PutInt("attempt", int64(i))
		}
	}
	shared := plog.NewLogs()
	ld.CopyTo(shared)
	require.NoError(t, exp.ConsumeLogs(context.Background(), ld))
	// Read-only data, which the pipeline never gives a consumer that
	// mutates, is copied all the same.
	shared.MarkReadOnly()
	before := marshal(t, shared)
	require.NoError(t, exp.ConsumeLogs(context.Background(), shared))
	assert.Equal(t, before, marshal(t, shared))
	require.NoError(t, exp.Shutdown(context.Background())) // drains the queue

	for channel, want := range map[string][]string{ // each shown ×2, in one message or two
		"#alerts":      {"dev alpha", "dev gamma", "dev epsilon"},
		"#prod-alerts": {"prod alpha", "prod gamma", "prod epsilon"},
	} {
		var body string
		for _, m := range messagesIn(emu, channel) {
			body += shown(t, m)
		}
		for _, w := range want {
			assert.Contains(t, body, w, channel)
		}
		for _, dropped := range []string{"beta", "delta", "zeta"} {
			assert.NotContains(t, body, dropped, channel)
		}
		other := map[string]string{"#alerts": "prod", "#prod-alerts": "dev"}[channel]
		assert.NotContains(t, body, other+" ", channel)
	}
}
