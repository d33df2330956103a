package slackexporter

import (
	"container/list"
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
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
	"github.com/slackexporter/slackexporter/internal/slackclient"
	"github.com/slackexporter/slackexporter/internal/slackemu"
)

// teamConfig routes every record with a "team" resource attribute to the
// channel "#<team>-alerts"; the rest go to #alerts.
func teamConfig(srv *httptest.Server, threads bool) *Config {
	cfg := tokenConfig(srv)
	cfg.Routes = []RouteConfig{{Condition: `resource.attributes["team"] != nil`, Channel: `#{{ index .Resource "team" }}-alerts`}}
	cfg.Threads.Enabled = &threads
	return cfg
}

// teamLogs is one ERROR record per body, each from a resource of team.
func teamLogs(team string, bodies ...string) plog.Logs {
	ld := plog.NewLogs()
	for _, b := range bodies {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", "checkout")
		rl.Resource().Attributes().PutStr("team", team)
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetSeverityNumber(plog.SeverityNumberError)
		lr.Body().SetStr(b)
		lr.SetTimestamp(1_700_000_000_000_000_000)
	}
	return ld
}

type observed struct {
	set  exporter.Settings
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
}

func observe(t *testing.T) observed {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tel)
	set.Logger = zap.New(core)
	return observed{set: set, tel: tel, logs: logs}
}

func send(t *testing.T, e *slackExporter, ld plog.Logs) {
	t.Helper()
	require.NoError(t, e.push(context.Background(), e.selectRecords(context.Background(), ld)))
}

var noTime = []metricdatatest.Option{metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars()}

func TestATemplatedChannelSendsEachRecordToTheChannelItNames(t *testing.T) {
	emu, srv := emulator(t, nil)
	o := observe(t)
	cfg := teamConfig(srv, false)
	cfg.Routes = append([]RouteConfig{{Condition: `attributes["to"] != nil`, Channel: `{{ index .Attributes "to" }}`}}, cfg.Routes...)
	e := started(t, cfg, o.set)

	ld := teamLogs("pay", "pay one", "pay two")
	teamLogs("ship", "ship one").ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
	named := teamLogs("ship", "by name")
	named.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr("to", "#named")
	named.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
	send(t, e, ld)

	assert.Len(t, messagesIn(emu, "#pay-alerts"), 1)
	assert.Contains(t, shown(t, messagesIn(emu, "#pay-alerts")[0]), "pay two")
	require.Len(t, messagesIn(emu, "#named"), 1)
	require.Len(t, messagesIn(emu, "#ship-alerts"), 1)
	assert.Contains(t, shown(t, messagesIn(emu, "#ship-alerts")[0]), "ship one")
	assert.NotContains(t, shown(t, messagesIn(emu, "#ship-alerts")[0]), "by name")

	// A channel id works as well as a name.
	byID := teamLogs("ship", "by id")
	byID.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr("to", messagesIn(emu, "#named")[0].ChannelID)
	send(t, e, byID)
	require.Len(t, messagesIn(emu, "#named"), 2)
	assert.Contains(t, shown(t, messagesIn(emu, "#named")[1]), "by id")
	assert.Empty(t, messagesIn(emu, "#alerts"))
	assert.Empty(t, o.logs.FilterMessageSnippet("templated channel").All())
}

func TestABadChannelGoesToTheDefaultWithOneWarningPerName(t *testing.T) {
	emu, srv := emulator(t, nil)
	o := observe(t)
	cfg := teamConfig(srv, false)
	cfg.Routes[0].Channel = `{{ index .Resource "team" }}`
	e := started(t, cfg, o.set)

	send(t, e, teamLogs("Payments Team", "upper case and a space", "again"))
	send(t, e, teamLogs("Payments Team", "and again"))
	send(t, e, teamLogs("", "empty team"))
	send(t, e, teamLogs("ok", "fine"))

	records := 0
	for _, m := range messagesIn(emu, "#alerts") {
		records += recordsShown(t, m)
	}
	assert.Equal(t, 4, records, "every record whose channel is no channel is in the default one")
	assert.Len(t, messagesIn(emu, "#ok"), 1)

	warned := o.logs.FilterMessageSnippet("gave no Slack channel").All()
	require.Len(t, warned, 2, "one warning per bad name")
	assert.Equal(t, "Payments Team", warned[0].ContextMap()["result"])
	assert.Equal(t, "routes[0].channel", warned[0].ContextMap()["key"])
	assert.Empty(t, warned[1].ContextMap()["result"])
}

func TestAFloodOfBadNamesIsWarnedAboutWithBoundedMemory(t *testing.T) {
	_, srv := emulator(t, nil)
	o := observe(t)
	cfg := teamConfig(srv, false)
	cfg.Routes[0].Channel = `{{ index .Resource "team" }}`
	e := started(t, cfg, o.set)
	var bodies []string
	ld := plog.NewLogs()
	for i := range maxWarnedChannels + 200 {
		teamLogs(fmt.Sprintf("Bad %d", i), "boom").ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
		bodies = append(bodies, "boom")
	}
	send(t, e, ld)
	assert.Len(t, o.logs.FilterMessageSnippet("gave no Slack channel").All(), len(bodies), "each distinct name once")
	assert.Equal(t, maxWarnedChannels, e.warned.Len(), "the names remembered are bounded")
	send(t, e, teamLogs(fmt.Sprintf("Bad %d", maxWarnedChannels+199), "boom"))
	assert.Len(t, o.logs.FilterMessageSnippet("gave no Slack channel").All(), len(bodies), "a recent name is not warned about again")
	huge := strings.Repeat("X", 10_000)
	send(t, e, teamLogs(huge, "boom"))
	last := o.logs.FilterMessageSnippet("gave no Slack channel").All()
	assert.Less(t, len(last[len(last)-1].ContextMap()["result"].(string)), 200, "a warning quotes a bounded part of the name")
}

func TestAFailingTemplateGoesToTheDefaultWithOneWarning(t *testing.T) {
	emu, srv := emulator(t, nil)
	o := observe(t)
	cfg := tokenConfig(srv)
	// Passes the startup check (the sample has 3 records, .Count 3), fails
	// for a record (.Count 1): slice out of range.
	cfg.Routes = []RouteConfig{{Condition: `true`, Channel: `{{ slice "abc" 0 .Count }}x{{ slice "abc" 2 .Count }}`}}
	e := started(t, cfg, o.set)
	send(t, e, teamLogs("pay", "one", "two"))
	send(t, e, teamLogs("pay", "three"))
	assert.Len(t, messagesIn(emu, "#alerts"), 2)
	assert.Len(t, o.logs.FilterMessageSnippet("templated channel failed").All(), 1)
}

func TestSlackRefusingATemplatedChannelReroutesItsRecordsToTheDefault(t *testing.T) {
	for _, threads := range []bool{false, true} {
		for state, code := range map[slackemu.ChannelState]string{
			slackemu.ChannelMissing: "channel_not_found", slackemu.ChannelArchived: "is_archived", slackemu.ChannelNotMember: "not_in_channel",
		} {
			t.Run(fmt.Sprintf("threads=%v/%s", threads, state), func(t *testing.T) {
				emu, srv := emulator(t, nil)
				require.NoError(t, emu.SetChannel("#gone-alerts", state))
				o := observe(t)
				e := started(t, teamConfig(srv, threads), o.set)
				now := time.Now()
				e.now = func() time.Time { return now }

				send(t, e, teamLogs("gone", "lost one", "lost two", "lost two"))
				send(t, e, teamLogs("gone", "lost three"))
				send(t, e, teamLogs("pay", "kept"))

				assert.Empty(t, messagesIn(emu, "#gone-alerts"))
				assert.Len(t, messagesIn(emu, "#pay-alerts"), 1)
				msgs := messagesIn(emu, "#alerts")
				require.NotEmpty(t, msgs)
				records := 0
				for _, m := range msgs {
					records += recordsShown(t, m)
					assert.Contains(t, shown(t, m), "↪ meant for #gone-alerts: "+code)
					assert.Contains(t, m.Text, "meant for #gone-alerts")
				}
				assert.Equal(t, 4, records)
				assert.Equal(t, 1, emu.Stats().Destinations["#gone-alerts"].Requests,
					"records for a refused channel go straight to the default for a while")

				byCode := attribute.NewSet(attribute.String("error", code))
				metadatatest.AssertEqualExporterSlackRecordsRerouted(t, o.tel, []metricdata.DataPoint[int64]{{Value: 4, Attributes: byCode}}, noTime...)
				metadatatest.AssertEqualExporterSlackRecordsDelivered(t, o.tel, []metricdata.DataPoint[int64]{{Value: 5}}, noTime...)
				_, err := o.tel.GetMetric("otelcol_exporter_slack_records_dropped")
				require.Error(t, err, "nothing dropped")
				warned := o.logs.FilterMessageSnippet("Slack refused a templated channel").All()
				require.Len(t, warned, 1)
				assert.Equal(t, "#gone-alerts", warned[0].ContextMap()["destination"])
				assert.Equal(t, code, warned[0].ContextMap()["slack_error"])

				// Once the memory has passed, Slack is asked again: the
				// channel may have been made (or the bot invited).
				require.NoError(t, emu.SetChannel("#gone-alerts", slackemu.ChannelOK))
				now = now.Add(failedChannelMemory + time.Second)
				send(t, e, teamLogs("gone", "found"))
				assert.Len(t, messagesIn(emu, "#gone-alerts"), 1)
			})
		}
	}
}

func TestAChannelArchivedUnderItsLiveMessageReroutesTheRepeats(t *testing.T) {
	emu, srv := emulator(t, nil)
	o := observe(t)
	e := started(t, teamConfig(srv, true), o.set)
	send(t, e, teamLogs("pay", "db down"))
	require.Len(t, messagesIn(emu, "#pay-alerts"), 1)

	require.NoError(t, emu.SetChannel("#pay-alerts", slackemu.ChannelArchived))
	send(t, e, teamLogs("pay", "db down", "db down"))
	send(t, e, teamLogs("pay", "db down"))

	live := messagesIn(emu, "#pay-alerts")
	require.Len(t, live, 1)
	assert.Equal(t, 1, recordsShown(t, live[0]), "the archived channel's message keeps what it showed")
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 1, "the repeats went to one message in the default channel, then updated it")
	assert.Equal(t, 3, recordsShown(t, msgs[0]))
	assert.Contains(t, shown(t, msgs[0]), "meant for #pay-alerts: is_archived")
	metadatatest.AssertEqualExporterSlackRecordsRerouted(t, o.tel,
		[]metricdata.DataPoint[int64]{{Value: 3, Attributes: attribute.NewSet(attribute.String("error", "is_archived"))}}, noTime...)
}

func TestAConfiguredChannelSlackRefusesIsStillDropped(t *testing.T) {
	emu, srv := emulator(t, nil)
	require.NoError(t, emu.SetChannel("#gone", slackemu.ChannelMissing))
	o := observe(t)
	cfg := teamConfig(srv, false)
	cfg.Routes = []RouteConfig{{Condition: `true`, Channel: "#gone"}}
	e := started(t, cfg, o.set)
	err := e.push(context.Background(), e.selectRecords(context.Background(), teamLogs("x", "boom")))
	require.Error(t, err)
	assert.Empty(t, messagesIn(emu, "#alerts"))
	metadatatest.AssertEqualExporterSlackRecordsDropped(t, o.tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: attribute.NewSet(attribute.String("error", "channel_not_found"))}}, noTime...)
	_, err = o.tel.GetMetric("otelcol_exporter_slack_records_rerouted")
	require.Error(t, err, "nothing rerouted")
}

func TestQueuedRecordsKeepTheirTemplatedChannelAcrossARestart(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := teamConfig(srv, false)
	cfg.Routes[0].Mention = "here"
	before := started(t, cfg, observe(t).set)
	queued := before.selectRecords(context.Background(), teamLogs("pay", "queued"))
	// A key with a mention no templated route has (the configuration
	// changed, or the queue was tampered with) must not ping anyone.
	stale := teamLogs("pay", "stale mention")
	stale.ResourceLogs().At(0).ScopeLogs().At(0).Scope().Attributes().PutStr(selection.DestinationAttribute, dynamicKey("pay-alerts", "channel"))
	bad := teamLogs("pay", "bad name")
	bad.ResourceLogs().At(0).ScopeLogs().At(0).Scope().Attributes().PutStr(selection.DestinationAttribute, dynamicKey("Pay Alerts", ""))

	o := observe(t)
	after := started(t, cfg, o.set)
	require.NoError(t, after.push(context.Background(), queued))
	require.NoError(t, after.push(context.Background(), stale))
	require.NoError(t, after.push(context.Background(), bad))
	pay := messagesIn(emu, "#pay-alerts")
	require.Len(t, pay, 1)
	assert.Contains(t, shown(t, pay[0]), "queued")
	assert.True(t, strings.HasPrefix(pay[0].Text, "<!here> "))
	assert.Len(t, messagesIn(emu, "#alerts"), 2)
	assert.Len(t, o.logs.FilterMessageSnippet("no longer configured").All(), 2)
}

func TestAWebhookExporterSendsQueuedTemplatedRecordsToItsWebhook(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := createDefaultConfig().(*Config)
	cfg.WebhookURL = configopaqueString(srv.URL + "/services/T1/B1/secret-one")
	e := started(t, cfg, observe(t).set)
	ld := teamLogs("pay", "queued under a token")
	ld.ResourceLogs().At(0).ScopeLogs().At(0).Scope().Attributes().PutStr(selection.DestinationAttribute, dynamicKey("pay-alerts", ""))
	require.NoError(t, e.push(context.Background(), ld))
	assert.Len(t, messagesIn(emu, "webhook/T1/B1"), 1)
}

func TestAFloodOfDistinctChannelsKeepsBoundedState(t *testing.T) {
	emu, srv := emulator(t, nil)
	o := observe(t)
	cfg := teamConfig(srv, true)
	cfg.Threads.MaxTracked = 50
	e, err := newSlackExporter(cfg, o.set)
	require.NoError(t, err)
	e.maxDynamic = 10
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })

	const teams = 200
	for i := range teams {
		send(t, e, teamLogs(fmt.Sprintf("t%03d", i), "boom"))
		kept, limiters := e.dests.dynamicLen()
		require.LessOrEqual(t, kept, 2*e.maxDynamic, "destinations kept")
		require.LessOrEqual(t, limiters, kept, "a limiter per kept channel at most")
	}
	for i := range teams {
		require.Len(t, messagesIn(emu, fmt.Sprintf("#t%03d-alerts", i)), 1, "every channel got its record")
	}
	assert.LessOrEqual(t, e.tracker.Len(), 50, "live messages are bounded by threads.max_tracked")
}

// testRegistry is a registry of destinations "dynamic:<channel>" whose
// limiters, once used, take many minutes to be full again.
func testRegistry(limit int) *registry {
	return &registry{
		static: map[string]*destination{"channel:alerts": {key: "channel:alerts"}},
		make: func(key string, limiter func(string) *slackclient.Limiter) *destination {
			rest, ok := strings.CutPrefix(key, "dynamic:")
			if !ok {
				return nil
			}
			channel, _, _ := strings.Cut(rest, " ")
			return &destination{key: key, channel: channel, dynamic: true, limiter: limiter(channel)}
		},
		max: limit, burst: 1, byKey: map[string]*list.Element{},
		staticLimiters: map[string]*slackclient.Limiter{"alerts": slackclient.NewLimiter(0.001, 1)},
		limiters:       map[string]*sharedLimiter{},
		newLimiter:     func() *slackclient.Limiter { return slackclient.NewLimiter(0.001, 1) },
	}
}

func (r *registry) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for el := r.lru.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*destination).key)
	}
	return out
}

func TestTheRegistryNeverForgetsABusyDestination(t *testing.T) {
	r := testRegistry(2)
	held := map[string]*destination{}
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		held[k] = r.acquire("dynamic:" + k)
		require.NotNil(t, held[k])
	}
	assert.Len(t, r.keys(), 5, "all busy: none forgotten, past twice the bound even")
	assert.Same(t, held["a"], r.acquire("dynamic:a"), "a kept destination is found again")
	r.release(held["a"])

	for _, k := range []string{"a", "b", "c"} {
		r.release(held[k])
	}
	r.acquire("dynamic:f")
	assert.Equal(t, []string{"dynamic:f", "dynamic:e", "dynamic:d"}, r.keys(),
		"the least recently used idle ones go first, down to the bound; busy ones stay")
	assert.Nil(t, r.acquire("webhook:x"))
	assert.True(t, r.known("dynamic:zz"))
	assert.True(t, r.known("channel:alerts"))
	assert.False(t, r.known("webhook:x"))
	assert.Equal(t, []string{"dynamic:f", "dynamic:e", "dynamic:d"}, r.keys(), "known makes nothing")
	_, limiters := r.dynamicLen()
	assert.Equal(t, 3, limiters, "a forgotten destination's limiter goes with it")
}

func TestTheRegistryKeepsAChannelsPaceWhileItCan(t *testing.T) {
	r := testRegistry(1)
	used := r.acquire("dynamic:used")
	require.NoError(t, used.limiter.Wait(context.Background(), 0, 0), "it just posted: its limiter is not full")
	r.release(used)
	fresh := r.acquire("dynamic:fresh")
	r.release(fresh)
	assert.Equal(t, []string{"dynamic:fresh", "dynamic:used"}, r.keys(), "one over the bound: the idle one whose pace a new limiter would lose stays")

	r.acquire("dynamic:third")
	assert.Equal(t, []string{"dynamic:third", "dynamic:used"}, r.keys(), "the one that can go goes")
	r.acquire("dynamic:fourth")
	assert.Equal(t, []string{"dynamic:fourth", "dynamic:third"}, r.keys(), "past twice the bound, the oldest idle one goes, pace or not")

	// Destinations of one channel share its limiter; a configured
	// channel's limiter is the configured one's.
	x := r.acquire("dynamic:x")
	xHere := r.acquire("dynamic:x <!here>")
	assert.Same(t, x.limiter, xHere.limiter)
	assert.Same(t, r.staticLimiters["alerts"], r.acquire("dynamic:alerts").limiter)
	assert.Same(t, r.static["channel:alerts"], r.acquire("channel:alerts"))
	r.release(r.static["channel:alerts"]) // no-op

	// A destination on a configured channel's limiter can go at once: the
	// limiter stays with the configuration.
	r = testRegistry(1)
	onStatic := r.acquire("dynamic:alerts")
	require.NoError(t, onStatic.limiter.Wait(context.Background(), 0, 0))
	r.release(onStatic)
	r.acquire("dynamic:other")
	assert.Equal(t, []string{"dynamic:other"}, r.keys())
}

func TestFailedChannelsAreRememberedForAWhileWithBoundedMemory(t *testing.T) {
	f := newFailedChannels(3)
	t0 := time.Now()
	assert.True(t, f.add("a", "channel_not_found", t0))
	assert.False(t, f.add("a", "channel_not_found", t0.Add(time.Second)), "already known")
	assert.True(t, f.add("a", "is_archived", t0.Add(time.Second)), "another refusal is news")
	assert.Equal(t, "is_archived", f.code("a", t0.Add(time.Minute)))
	assert.Empty(t, f.code("a", t0.Add(time.Second+failedChannelMemory)), "not acted on after a while")
	assert.Equal(t, "is_archived", f.last("a"), "but what Slack said is still known")
	assert.Empty(t, f.code("b", t0))
	for i := range 100 {
		f.add(strconv.Itoa(i), "channel_not_found", t0)
	}
	assert.Equal(t, 3, f.len())
	assert.True(t, f.add("99", "channel_not_found", t0.Add(failedChannelMemory)), "expired: news again")
}

func TestARefusedChannelKeepsOneLiveMessageInTheDefaultWhateverSlackAnswers(t *testing.T) {
	emu, srv := emulator(t, nil)
	require.NoError(t, emu.SetChannel("#pay-alerts", slackemu.ChannelNotMember))
	o := observe(t)
	e := started(t, teamConfig(srv, true), o.set)
	now := time.Now()
	e.now = func() time.Time { return now }
	send(t, e, teamLogs("pay", "db down"))
	require.NoError(t, emu.SetChannel("#pay-alerts", slackemu.ChannelArchived))
	now = now.Add(failedChannelMemory + time.Second)
	send(t, e, teamLogs("pay", "db down", "db down"))

	assert.Equal(t, 2, emu.Stats().Destinations["#pay-alerts"].Requests, "asked again once the memory passed")
	var msgs []slackemu.Message
	for _, m := range messagesIn(emu, "#alerts") {
		if m.ThreadTS == "" {
			msgs = append(msgs, m)
		}
	}
	require.Len(t, msgs, 1, "the repeats updated the message the first refusal started")
	assert.Equal(t, 3, recordsShown(t, msgs[0]))
	assert.Contains(t, shown(t, msgs[0]), "meant for #pay-alerts: not_in_channel")
}

func TestLiveMessagesOfTemplatedAndReroutedChannelsSurviveARestart(t *testing.T) {
	emu, srv := emulator(t, nil)
	require.NoError(t, emu.SetChannel("#gone-alerts", slackemu.ChannelMissing))
	storageID := component.MustNewID("file_storage")
	host := hostWith{storageID: memstorage.New()}
	cfg := teamConfig(srv, true)
	cfg.Threads.Storage = &storageID
	ctx := context.Background()
	run := func() {
		e, err := newSlackExporter(cfg, exportertest.NewNopSettings(metadata.Type))
		require.NoError(t, err)
		require.NoError(t, e.start(ctx, host))
		ld := teamLogs("pay", "replica lag")
		teamLogs("gone", "disk full").ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, ld)))
		require.NoError(t, e.shutdown(ctx))
	}
	run()
	run() // a new collector process, same storage
	pay := messagesIn(emu, "#pay-alerts")
	require.Len(t, pay, 1, "the repeat updated the templated channel's message")
	assert.Equal(t, 2, recordsShown(t, pay[0]))
	alerts := messagesIn(emu, "#alerts")
	require.Len(t, alerts, 1, "the rerouted repeat updated its message in the default channel")
	assert.Equal(t, 2, recordsShown(t, alerts[0]))
	assert.Contains(t, shown(t, alerts[0]), "meant for #gone-alerts")
}

func TestAQuietMarkAfterARestartDoesNotKeepAReroutedDestinationWithoutItsReason(t *testing.T) {
	emu, srv := emulator(t, nil)
	require.NoError(t, emu.SetChannel("#gone-alerts", slackemu.ChannelMissing))
	storageID := component.MustNewID("file_storage")
	host := hostWith{storageID: memstorage.New()}
	cfg := teamConfig(srv, true)
	cfg.Threads.Storage = &storageID
	ctx := context.Background()
	start := func() *slackExporter {
		e, err := newSlackExporter(cfg, exportertest.NewNopSettings(metadata.Type))
		require.NoError(t, err)
		require.NoError(t, e.start(ctx, host))
		t.Cleanup(func() { require.NoError(t, e.shutdown(ctx)) })
		return e
	}
	first := start()
	require.NoError(t, first.push(ctx, first.selectRecords(ctx, teamLogs("gone", "disk full"))))

	e := start() // a new process: it does not know why #gone-alerts was refused
	e.markQuiet(ctx, time.Now().Add(cfg.Threads.QuietAfter+time.Minute))
	alerts := messagesIn(emu, "#alerts")
	require.Len(t, alerts, 1)
	require.Equal(t, 1, alerts[0].Updates, "marked quiet")
	assert.Contains(t, shown(t, alerts[0]), "↪ meant for #gone-alerts\n", "the reason is not known yet")
	kept, _ := e.dests.dynamicLen()
	assert.Zero(t, kept, "a rerouted destination that does not know its reason is not kept")

	require.NoError(t, e.push(ctx, e.selectRecords(ctx, teamLogs("gone", "cpu hot"))))
	alerts = messagesIn(emu, "#alerts")
	require.Len(t, alerts, 2)
	assert.Contains(t, shown(t, alerts[1]), "↪ meant for #gone-alerts: channel_not_found")
}

func TestConcurrentPushesToManyChannelsKeepBoundedStateAndLoseNothing(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := teamConfig(srv, true)
	cfg.Threads.UpdatesPerMinute = 60_000 // the shared channel's repeats update its message at once
	e, err := newSlackExporter(cfg, observe(t).set)
	require.NoError(t, err)
	e.maxDynamic = 5
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })

	const workers, pushes = 8, 30
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for p := range pushes {
				// Each push brings two channels of its own and one that
				// every worker shares.
				ld := teamLogs(fmt.Sprintf("w%d-p%d", w, p), "own")
				teamLogs(fmt.Sprintf("w%d-q%d", w, p), "own").ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
				teamLogs("shared", fmt.Sprintf("from w%d p%d", w, p)).ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
				assert.NoError(t, e.push(context.Background(), e.selectRecords(context.Background(), ld)))
			}
		})
	}
	wg.Wait()
	kept, limiters := e.dests.dynamicLen()
	assert.LessOrEqual(t, kept, 2*e.maxDynamic+3*workers, "bounded, past the bound only by what pushes in flight hold")
	assert.LessOrEqual(t, limiters, kept)
	for w := range workers {
		for p := range pushes {
			for _, c := range []string{"p", "q"} {
				assert.Len(t, messagesIn(emu, fmt.Sprintf("#w%d-%s%d-alerts", w, c, p)), 1)
			}
		}
	}
	shared := 0
	for _, m := range messagesIn(emu, "#shared-alerts") {
		if m.ThreadTS == "" {
			shared += recordsShown(t, m)
		}
	}
	assert.Equal(t, workers*pushes, shared, "the shared channel shows every record once")
}

// An error muted in the default channel stays out of it when it comes
// rerouted there from a templated channel Slack refuses: the reroute leaves
// out what is muted where it lands, as any delivery does.
func TestAReroutedRecordMutedInTheDefaultChannelIsNotShown(t *testing.T) {
	emu, srv := emulator(t, nil)
	require.NoError(t, emu.SetChannel("#gone-alerts", slackemu.ChannelMissing))
	o := observe(t)
	e := started(t, withInteractivity(teamConfig(srv, true), nil), o.set)
	now := time.Now()
	e.now = func() time.Time { return now }

	send(t, e, teamLogs("gone", "disk full"))
	msg, menu := liveMessage(t, emu)
	require.Contains(t, shown(t, msg), "↪ meant for #gone-alerts")
	require.NoError(t, clickOn(t, e, msg, menu, menu.options["Mute 1h"], "U0ONCALL"))
	eventually(t, func() bool {
		m, _ := liveMessage(t, emu)
		return strings.Contains(shown(t, m), "🔇 muted by <@U0ONCALL>")
	}, "the entry shows the mute")
	posts := len(emu.Messages())

	// Past the memory of the refusal, the templated channel is tried
	// again, refused again, and its records rerouted again.
	now = now.Add(failedChannelMemory + time.Second)
	send(t, e, teamLogs("gone", "disk full", "disk full"))
	assert.Equal(t, 2, emu.Stats().Destinations["#gone-alerts"].Requests, "Slack was asked again")
	assert.Len(t, emu.Messages(), posts, "nothing new in the default channel while the error is muted there")
	metadatatest.AssertEqualExporterSlackRecordsMuted(t, o.tel, []metricdata.DataPoint[int64]{{Value: 2}}, noTime...)
}
