package slackexporter

// Regression tests for the delivery defects of issue #8 that show at the
// exporter's level. Each failed before its fix. (The others are in the
// packages that held them: render, slackclient, threads, config.)

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/slackexporter/slackexporter/internal/metadata"
	"github.com/slackexporter/slackexporter/internal/slackemu"
)

// recordsShown adds up what a message stands for: entry counts (×N, or 1)
// and its fold line.
func recordsShown(t *testing.T, m slackemu.Message) int {
	t.Helper()
	text := shown(t, m)
	total := 0
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "*ERROR*") || strings.HasPrefix(line, "*FATAL*"):
			n := 1
			if c := countMark.FindStringSubmatch(line); c != nil {
				n, _ = strconv.Atoi(strings.ReplaceAll(c[1], ",", ""))
			}
			total += n
		case strings.HasPrefix(line, "➕ "):
			c := foldMark.FindStringSubmatch(line)
			require.NotNil(t, c, line)
			n, _ := strconv.Atoi(strings.ReplaceAll(c[1], ",", ""))
			total += n
		}
	}
	return total
}

var (
	countMark = regexp.MustCompile(` · ×([0-9,]+)`)
	foldMark  = regexp.MustCompile(`^➕ ([0-9,]+) more records`)
)

// Defect 1: with a mention, a push of 30 distinct fingerprints and one
// rate-limit slot used to render 51 blocks; Slack refused the message and
// all 30 records were dropped.
func TestAMentionNeverCostsTheRecordsOfAStorm(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := tokenConfig(srv)
	cfg.Mention = "here"
	cfg.Grouping.Mask = false
	cfg.RateLimit = RateLimitConfig{PerSecond: 1, Burst: 1}
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(30, func(i int) string { return fmt.Sprintf("distinct error %c", 'a'+i) }))))
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 1, "one slot, one message")
	assert.Equal(t, 30, recordsShown(t, msgs[0]))
	assert.Empty(t, emu.Stats().Totals.Errors)
}

// Defect 2: a live message that can no longer be updated was retried by the
// quiet loop at every tick, forever, spending the workspace's update budget.
func TestADeadLiveMessageIsForgottenNotMarkedQuietForever(t *testing.T) {
	for _, code := range []string{"message_not_found", "channel_not_found", "is_archived", "cant_update_message", "edit_window_closed"} {
		t.Run(code, func(t *testing.T) {
			emu, srv := emulator(t, nil)
			e := started(t, tokenConfig(srv), exportertest.NewNopSettings(metadata.Type))
			ctx := context.Background()
			require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "cache unreachable" }))))
			require.Equal(t, 1, e.tracker.Len())
			require.NoError(t, emu.SetFault(slackemu.Fault{Target: "#alerts", Mode: slackemu.FaultError, Error: code}))
			later := e.now().Add(time.Hour)
			for i := range 5 {
				e.markQuiet(ctx, later.Add(time.Duration(i)*time.Minute))
			}
			assert.Equal(t, 2, emu.Stats().Destinations["#alerts"].Requests, "one post, one failed quiet mark, then nothing")
			assert.Equal(t, 0, e.tracker.Len(), "the dead message is forgotten")
		})
	}
}

// Defect 5: sample replies were rendered with the destination's mention,
// which pinged the on-call group at every reply_every.
func TestSampleRepliesNeverRepeatTheMention(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.ReplyEvery = 0 })
	cfg.Mention = "S0ONCALL"
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return fmt.Sprintf("disk %d%% full", 90+i) }))))
	}
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 3, "the parent and two replies")
	assert.Contains(t, msgs[0].Text+shown(t, msgs[0]), "<!subteam^S0ONCALL>", "the top-level post opens with the mention")
	for _, reply := range msgs[1:] {
		require.NotEmpty(t, reply.ThreadTS)
		assert.NotContains(t, reply.Text+shown(t, reply), "<!", "a reply pings nobody")
	}
}

// Suspected in issue #8: webhook destinations were keyed by route index, so
// with a persistent queue, routes inserted or reordered before a restart
// sent queued records to another team's webhook.
func TestQueuedRecordsKeepTheirWebhookWhenRoutesAreReordered(t *testing.T) {
	emu, srv := emulator(t, nil)
	hookA := configopaqueString(srv.URL + "/services/T1/BA/team-a-secret")
	hookB := configopaqueString(srv.URL + "/services/T1/BB/team-b-secret")
	routeA := RouteConfig{Condition: `resource.attributes["service.name"] == "a"`, WebhookURL: hookA}
	routeB := RouteConfig{Condition: `resource.attributes["service.name"] == "b"`, WebhookURL: hookB}
	config := func(routes ...RouteConfig) *Config {
		cfg := createDefaultConfig().(*Config)
		cfg.WebhookURL = configopaqueString(srv.URL + "/services/T1/B0/default-secret")
		cfg.Routes = routes
		return cfg
	}
	ctx := context.Background()
	before := started(t, config(routeA, routeB), exportertest.NewNopSettings(metadata.Type))
	queued := before.selectRecords(ctx, logsOf(
		rec{"a", "dev", plog.SeverityNumberError, "for team a"},
		rec{"b", "dev", plog.SeverityNumberError, "for team b"},
	))
	assert.NotContains(t, marshal(t, queued), "secret", "the queue never holds a webhook URL")

	after := started(t, config(routeB, RouteConfig{Condition: "false", WebhookURL: configopaqueString(srv.URL + "/services/T1/BC/c")}, routeA), exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, after.push(ctx, queued))
	a, b := messagesIn(emu, "webhook/T1/BA"), messagesIn(emu, "webhook/T1/BB")
	require.Len(t, a, 1)
	require.Len(t, b, 1)
	assert.Contains(t, shown(t, a[0]), "for team a")
	assert.Contains(t, shown(t, b[0]), "for team b")
}

// Suspected in issue #8: two pushes whose update of one fingerprint failed
// for good together each posted it anew: two new live messages.
func TestTwoPushesWhoseUpdateFailedPostTheFingerprintOnce(t *testing.T) {
	var deleted atomic.Value // the ts of the message someone deleted
	gone := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			form, _ := url.ParseQuery(string(body))
			if strings.HasSuffix(r.URL.Path, "chat.update") && form.Get("ts") == deleted.Load() {
				time.Sleep(100 * time.Millisecond) // both pushes wait for it before either posts
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"ok":false,"error":"message_not_found"}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	emu, srv := emulator(t, gone)
	e := started(t, tokenConfig(srv), exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "payment provider timeout" }))))
	deleted.Store(messagesIn(emu, "#alerts")[0].TS)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			assert.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(2, func(int) string { return "payment provider timeout" }))))
		})
	}
	wg.Wait()
	msgs := messagesIn(emu, "#alerts")
	require.Len(t, msgs, 2, "the deleted message and one new live message")
	assert.Equal(t, 5, recordsShown(t, msgs[0])+recordsShown(t, msgs[1]))
}

// Suspected in issue #8: a hung connection could hold a message's update
// slot and keep the quiet loop, and so shutdown, waiting without bound.
func TestShutdownIsBoundedWhileAQuietMarkHangs(t *testing.T) {
	emu, srv := emulator(t, nil)
	cfg := threadsConfig(srv, func(c *ThreadsConfig) { c.QuietAfter = 40 * time.Millisecond })
	cfg.Timeout = time.Second
	require.NoError(t, cfg.Validate())
	e, err := newSlackExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, errorRecords(1, func(int) string { return "cache unreachable" }))))
	require.NoError(t, emu.SetFault(slackemu.Fault{Target: "#alerts", Method: "chat.update", Mode: slackemu.FaultHang}))
	require.Eventually(t, func() bool { return emu.Stats().Destinations["#alerts"].Requests >= 2 }, 5*time.Second, 5*time.Millisecond,
		"the quiet loop's update reached Slack and hangs")
	start := time.Now()
	require.NoError(t, e.shutdown(ctx))
	assert.Less(t, time.Since(start), cfg.Timeout+time.Second)
}

// Two routes to one webhook, one with a mention: each keeps its own look.
func TestOneWebhookWithAndWithoutAMention(t *testing.T) {
	emu, srv := emulator(t, nil)
	hook := configopaqueString(srv.URL + "/services/T1/B1/shared-secret")
	cfg := createDefaultConfig().(*Config)
	cfg.WebhookURL = hook
	cfg.Routes = []RouteConfig{{Condition: `severity_number >= SEVERITY_NUMBER_FATAL`, WebhookURL: hook, Mention: "here"}}
	e := started(t, cfg, exportertest.NewNopSettings(metadata.Type))
	ctx := context.Background()
	require.NoError(t, e.push(ctx, e.selectRecords(ctx, logsOf(
		rec{"checkout", "dev", plog.SeverityNumberError, "an error"},
		rec{"checkout", "dev", plog.SeverityNumberFatal, "a fatal one"},
	))))
	msgs := messagesIn(emu, "webhook/T1/B1")
	require.Len(t, msgs, 2)
	for _, m := range msgs {
		paged := strings.Contains(m.Text, "<!here>")
		assert.Equal(t, strings.Contains(shown(t, m), "a fatal one"), paged, "only the FATAL route pages: %q", m.Text)
	}
}
