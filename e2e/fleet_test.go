package e2e

// The fleet (issue #9): agents filter and route before Kafka and key each
// Kafka record by its channel; gateways in one consumer group deliver to
// Slack and commit a Kafka record only after Slack took every record in it.
// One agent and two gateways run the example configs as they are
// (examples/fleet, from the repository root) against a Kafka-protocol broker
// on loopback (franz-go's kfake, in this process) and the Slack emulator.
// One gateway is killed with SIGKILL mid-stream, while Slack answers 503
// for half the channels: every record must still reach its channel (records
// the killed gateway had consumed but not delivered included: with
// sending_queue.wait_for_result off they are lost, and this test fails),
// and a record may be shown twice only if the killed gateway could have
// been delivering it (it was emitted before the kill).

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

const (
	fleetTopic      = "slack-logs"
	fleetPartitions = 6
	// The agent's slackroute processor and the gateways' receiver.
	metricRouteFiltered  = "otelcol_processor_slackroute_records_filtered"
	metricPartitionStart = "otelcol_kafka_receiver_partition_start"
	metricPartitionClose = "otelcol_kafka_receiver_partition_close"
)

// fleetChannels are the channels records name in their resource
// (slack.channel); "" is a service that names none: #alerts, the default.
var fleetChannels = []string{"#payments", "#checkout", "#search", "#identity", "#infra", ""}

// startKafka runs a one-broker Kafka cluster (kfake) on a loopback port with
// the topic seeded, and closes it when the test ends.
func startKafka(t *testing.T, partitions int32, topic string) string {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.Ports(harness.FreePort(t)), kfake.SeedTopics(partitions, topic))
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(cluster.Close)
	addrs := cluster.ListenAddrs()
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "127.0.0.1:") {
		t.Fatalf("kfake listens on %v, want one loopback address", addrs)
	}
	return addrs[0]
}

// fleetRecord is one ERROR record sent: its unique word, its channel, and
// when it was handed to the SDK.
type fleetRecord struct {
	word    string
	channel string // as Slack names it: "#payments", "#alerts"
	emitted time.Time
}

// fleetWord finds a record's word in its body ("payments order step bcd
// failed"); words differ by letters, as the exporter's grouping masks
// numbers.
var fleetWord = regexp.MustCompile(`order step ([a-z]+) failed$`)

func TestFleetKillAGatewayMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("the fleet runs four processes for about a minute")
	}
	started := time.Now()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	brokers := startKafka(t, fleetPartitions, fleetTopic)
	emu := StartEmulator(t, "-rate", "1")
	kafkaEnv := []string{
		"KAFKA_BROKERS=" + brokers,
		"KAFKA_TOPIC=" + fleetTopic,
		"KAFKA_GROUP=e2e-gateways",
		// kfake's smallest session timeout, as Kafka's: 6 s.
		"KAFKA_SESSION_TIMEOUT=6s",
		"KAFKA_HEARTBEAT_INTERVAL=1s",
		// Marked offsets committed every 3 s, not every second as by default:
		// more records are delivered but not yet committed at the kill, so
		// the test sees duplicates and can check they were all in flight.
		"KAFKA_COMMIT_INTERVAL=3s",
	}
	gatewayEnv := append(slices.Clone(kafkaEnv), emu.Env()...)
	gateways := []*Collector{
		harness.StartCollectorFile(t, root, "examples/fleet/gateway.yaml", false, gatewayEnv...),
		harness.StartCollectorFile(t, root, "examples/fleet/gateway.yaml", false, gatewayEnv...),
	}
	// The agent gets no Slack credentials.
	agent := harness.StartCollectorFile(t, root, "examples/fleet/agent.yaml", true, kafkaEnv...)

	// Both gateways own partitions before anything is sent.
	Eventually(t, 45*time.Second, func() error {
		total := 0
		for i, g := range gateways {
			owned := int(g.Counter(t, metricPartitionStart) - g.Counter(t, metricPartitionClose))
			if owned == 0 {
				return fmt.Errorf("gateway %d owns no partition yet", i)
			}
			total += owned
		}
		if total != fleetPartitions {
			return fmt.Errorf("the gateways own %d partitions, want %d", total, fleetPartitions)
		}
		return nil
	})
	t.Logf("fleet up after %v", time.Since(started).Round(100*time.Millisecond))

	senders := make([]*Sender, len(fleetChannels))
	for i, ch := range fleetChannels {
		res := []attribute.KeyValue{attribute.String("service.name", fmt.Sprintf("svc-%s", word(i)))}
		if ch != "" {
			res = append(res, attribute.String("slack.channel", ch))
		}
		senders[i] = agent.NewSender(t, res...)
	}

	// The stream: every 500 ms one ERROR record per channel, each with a
	// word of its own, and one INFO record (filtered at the agent). The
	// gateway that has delivered more is killed 8 s in, amid a Slack outage.
	const (
		ticks  = 36
		period = 500 * time.Millisecond
		killAt = 16
		// Ticks of Slack outage before the kill (3 s).
		outageBefore = 6
	)
	var (
		sent    []fleetRecord
		infos   int
		killed  *Collector
		killed0 time.Time
	)
	seq := 0
	ctx := context.Background()
	for tick := range ticks {
		for i, ch := range fleetChannels {
			w := word(1000 + seq)
			seq++
			name := ch
			if name == "" {
				name = "#alerts"
			}
			sent = append(sent, fleetRecord{word: w, channel: name, emitted: time.Now()})
			senders[i].Emit(ctx, Record(log.SeverityError, fmt.Sprintf("%s order step %s failed", strings.TrimPrefix(name, "#"), w)))
		}
		senders[tick%len(senders)].Emit(ctx, Record(log.SeverityInfo, "routine progress note"))
		infos++
		if tick == killAt-outageBefore {
			// Slack answers 503 for half the channels from 3 s before the
			// kill to 2 s after it: the gateways hold records they
			// consumed but could not deliver, for longer than the commit
			// interval. Marked before delivery (as without
			// wait_for_result), they would be committed and die with the
			// killed gateway; marked after, its successor delivers them.
			// The other channels flow, so some records are delivered but
			// not yet committed at the kill: the duplicates.
			for _, ch := range fleetChannels[:3] {
				emu.SetFault(t, Fault{Target: ch, Mode: "status", Status: 503, For: "5s"})
			}
		}
		if tick == killAt {
			a, b := gateways[0].Counter(t, metricSent), gateways[1].Counter(t, metricSent)
			killed = gateways[0]
			if b > a {
				killed = gateways[1]
			}
			if max(a, b) == 0 {
				t.Fatalf("no gateway has posted anything %v into the stream", time.Duration(killAt)*period)
			}
			killed.Kill(t)
			killed0 = time.Now()
			t.Logf("killed a gateway (SIGKILL) after %d records; the two had posted %v and %v messages", len(sent), a, b)
		}
		time.Sleep(period)
	}
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() { s.Flush(t) })
	}
	wg.Wait()
	survivor := gateways[0]
	if survivor == killed {
		survivor = gateways[1]
	}

	// Every record reaches its channel.
	var shownBy map[string][]shownAt // word → where and how often it is shown
	var folded int
	Eventually(t, 60*time.Second, func() error {
		shownBy, folded = shownWords(t, emu.Messages(t, ""))
		missing := 0
		for _, r := range sent {
			if len(shownBy[r.word]) == 0 {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d of %d records not shown in Slack yet (%d folded)", missing, len(sent), folded)
		}
		return nil
	})
	delivered := time.Now()
	msgs := emu.WaitQuiet(t, 2*time.Second, 30*time.Second)
	shownBy, folded = shownWords(t, msgs)
	if folded > 0 {
		t.Errorf("%d records were folded into a count: the stream is meant to stay within one message a second", folded)
	}

	// Each in its own channel; duplicates only for records the killed
	// gateway could have had in flight.
	duplicated, dupAfterKill := 0, 0
	for _, r := range sent {
		total := 0
		for _, s := range shownBy[r.word] {
			if s.channel != r.channel {
				t.Errorf("record %s for %s shown in %s", r.word, r.channel, s.channel)
			}
			total += s.count
		}
		if total > 1 {
			duplicated += total - 1
			if r.emitted.After(killed0) {
				dupAfterKill++
			}
		}
	}
	if dupAfterKill > 0 {
		t.Errorf("%d records emitted after the kill were shown more than once: only records in flight at the kill may be", dupAfterKill)
	}
	for _, m := range msgs {
		if m.Contains("routine progress note") {
			t.Errorf("an INFO record reached Slack (message %d in %s)", m.Seq, m.Channel)
		}
	}
	if got := agent.Counter(t, metricRouteFiltered); int(got) != infos {
		t.Errorf("the agent's slackroute filtered %v records, want the %d INFO records", got, infos)
	}
	if survivor.Counter(t, metricSent) == 0 {
		t.Error("the surviving gateway posted nothing")
	}
	if owned := survivor.Counter(t, metricPartitionStart) - survivor.Counter(t, metricPartitionClose); owned != fleetPartitions {
		t.Errorf("the surviving gateway owns %v partitions, want all %d: it did not take over", owned, fleetPartitions)
	}

	// Kafka: every record keyed by its channel, each key on one partition.
	keys := topicKeys(t, brokers, fleetTopic, len(sent))
	for key, parts := range keys {
		if len(parts) != 1 {
			t.Errorf("key %q is on partitions %v, want one", key, parts)
		}
	}
	if len(keys) != len(fleetChannels) {
		t.Errorf("the topic holds keys %v, want one per channel (%d)", keys, len(fleetChannels))
	}

	// The figures.
	stats := emu.Stats(t)
	var throttled []string
	for _, ch := range fleetChannels {
		if ch == "" {
			ch = "#alerts"
		}
		throttled = append(throttled, fmt.Sprintf("%s %d", ch, stats.Destinations[ch].Throttled))
	}
	t.Logf("fleet: %d records sent, %d shown (%d duplicated), 0 lost; %d messages; longest silence of a channel across the kill (the outage included) %v; all shown %v after the kill; 429s: %s; total %v",
		len(sent), len(sent)+duplicated, duplicated, len(msgs), longestGap(msgs, killed0).Round(100*time.Millisecond),
		delivered.Sub(killed0).Round(100*time.Millisecond), strings.Join(throttled, ", "), time.Since(started).Round(100*time.Millisecond))
}

// shownAt is one entry showing a record: its channel and count.
type shownAt struct {
	channel string
	count   int
}

// shownWords reads every entry of msgs back: for each record word, the
// channels and counts it is shown with; and how many records were folded.
func shownWords(t testing.TB, msgs []Message) (map[string][]shownAt, int) {
	t.Helper()
	out := map[string][]shownAt{}
	folded := 0
	for _, m := range msgs {
		s := parseShown(t, m)
		folded += s.Folded
		for _, e := range s.Entries {
			if w := fleetWord.FindStringSubmatch(e.Body); w != nil {
				out[w[1]] = append(out[w[1]], shownAt{channel: m.Channel, count: e.Count})
			}
		}
	}
	return out, folded
}

// longestGap is the longest time a channel went without a new message
// across at, which covers the killed gateway's partitions moving.
func longestGap(msgs []Message, at time.Time) time.Duration {
	byChannel := map[string][]time.Time{}
	for _, m := range msgs {
		if ts, err := time.Parse(time.RFC3339Nano, m.ReceivedAt); err == nil && m.ThreadTS == "" {
			byChannel[m.Channel] = append(byChannel[m.Channel], ts)
		}
	}
	var longest time.Duration
	for _, times := range byChannel {
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		for i := 1; i < len(times); i++ {
			if times[i-1].Before(at) && !times[i].Before(at) {
				longest = max(longest, times[i].Sub(times[i-1]))
			}
		}
	}
	return longest
}

// topicKeys reads the topic from the start and returns, for each record
// key, the partitions it is on. It checks that every Kafka record holds log
// records of one channel only, and reads until it has seen want log
// records.
func topicKeys(t *testing.T, brokers, topic string, want int) map[string][]int32 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	keys := map[string][]int32{}
	seen := 0
	for seen < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d log records from the topic", seen, want)
		}
		fetches.EachError(func(_ string, _ int32, err error) { t.Fatalf("reading the topic: %v", err) })
		fetches.EachRecord(func(r *kgo.Record) {
			key := string(r.Key)
			if !slices.Contains(keys[key], r.Partition) {
				keys[key] = append(keys[key], r.Partition)
			}
			var req collogs.ExportLogsServiceRequest
			if err := proto.Unmarshal(r.Value, &req); err != nil {
				t.Fatalf("partition %d offset %d: %v", r.Partition, r.Offset, err)
			}
			for _, rl := range req.ResourceLogs {
				channel := "#alerts"
				for _, kv := range rl.GetResource().GetAttributes() {
					if kv.Key == "slack.channel" {
						channel = kv.GetValue().GetStringValue()
					}
				}
				if wantKey := "channel:" + strings.TrimPrefix(channel, "#"); key != wantKey {
					t.Errorf("a record for %s is keyed %q, want %q", channel, key, wantKey)
				}
				for _, sl := range rl.ScopeLogs {
					seen += len(sl.LogRecords)
				}
			}
		})
	}
	return keys
}

// A gateway's exporter gives up on a push (Slack answers 503 for longer than
// retry_on_failure.max_elapsed_time, shortened to 5 s here): ConsumeLogs
// fails, the Kafka record stays unmarked, and the Kafka receiver retries it
// (error_backoff) until Slack takes it: nothing lost. A message Slack refuses
// for good (invalid_blocks; a channel_not_found would reroute the records of
// the example's templated channel to #alerts) is dropped and counted, and its
// partition goes on: later records of that channel still arrive.
func TestFleetGatewayRetriesWhatSlackDidNotTakeAndSkipsWhatItRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("the fleet runs three processes for about half a minute")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	brokers := startKafka(t, fleetPartitions, fleetTopic)
	emu := StartEmulator(t, "-rate", "1")
	kafkaEnv := []string{"KAFKA_BROKERS=" + brokers, "KAFKA_TOPIC=" + fleetTopic, "KAFKA_GROUP=e2e-retry"}
	gateway := harness.StartCollectorFile(t, root, "examples/fleet/gateway.yaml", false,
		append(append(slices.Clone(kafkaEnv), emu.Env()...), "SLACK_RETRY_MAX_ELAPSED=5s")...)
	agent := harness.StartCollectorFile(t, root, "examples/fleet/agent.yaml", true, kafkaEnv...)
	Eventually(t, 30*time.Second, func() error {
		if owned := gateway.Counter(t, metricPartitionStart); owned != fleetPartitions {
			return fmt.Errorf("the gateway owns %v partitions, want %d", owned, fleetPartitions)
		}
		return nil
	})

	emu.SetFault(t, Fault{Target: "#payments", Mode: "status", Status: 503, For: "10s"})
	emu.SetFault(t, Fault{Target: "#search", Mode: "error", Error: "invalid_blocks", Count: 1})
	channels := []string{"#payments", "#search", "#checkout"}
	senders := map[string]*Sender{}
	for i, ch := range channels {
		senders[ch] = agent.NewSender(t, attribute.String("service.name", "svc-"+word(i)), attribute.String("slack.channel", ch))
	}
	var sent []fleetRecord
	for tick := range 12 {
		for _, ch := range channels {
			w := word(2000 + len(sent))
			sent = append(sent, fleetRecord{word: w, channel: ch, emitted: time.Now()})
			senders[ch].Emit(context.Background(), Record(log.SeverityError, fmt.Sprintf("%s order step %s failed", strings.TrimPrefix(ch, "#"), w)))
		}
		if tick%2 == 1 {
			for _, s := range senders {
				s.Flush(t)
			}
		}
		time.Sleep(500 * time.Millisecond)
	}

	// #payments and #checkout: every record; #search: every record but
	// those of the refused message, which are counted as dropped.
	missingIn := func(shown map[string][]shownAt) map[string][]string {
		out := map[string][]string{}
		for _, r := range sent {
			if len(shown[r.word]) == 0 {
				out[r.channel] = append(out[r.channel], r.word)
			}
		}
		return out
	}
	var shown map[string][]shownAt
	Eventually(t, 60*time.Second, func() error {
		shown, _ = shownWords(t, emu.Messages(t, ""))
		missing := missingIn(shown)
		dropped := int(gateway.Counter(t, "otelcol_exporter_slack_records_dropped", "error=invalid_blocks"))
		if len(missing["#payments"])+len(missing["#checkout"]) > 0 || len(missing["#search"]) != dropped {
			return fmt.Errorf("not shown yet: %v; %d dropped", missing, dropped)
		}
		return nil
	})
	missing := missingIn(shown)
	if len(missing["#search"]) == 0 {
		t.Errorf("no #search record was refused: the fault did not fire")
	}
	last := sent[len(sent)-2] // the last #search record
	if last.channel != "#search" || len(shown[last.word]) == 0 {
		t.Errorf("the last #search record (%s) was not shown: its partition stopped after the refusal", last.word)
	}
	if got := gateway.Counter(t, metricSendFailed); got == 0 {
		t.Errorf("%s = 0: the exporter never gave up on a push, so the Kafka receiver's retry was not exercised", metricSendFailed)
	}
	if !strings.Contains(gateway.Logs(), "Backing off due to error from the next consumer") {
		t.Errorf("the Kafka receiver did not retry the record the exporter gave up on")
	}
	duplicated := 0
	for _, r := range sent {
		total := 0
		for _, s := range shown[r.word] {
			total += s.count
		}
		duplicated += max(0, total-1)
	}
	t.Logf("fleet retry: %d records sent, %d refused for good (dropped, counted), %d shown twice (a retried Kafka record whose push had partly gone through), %s %v",
		len(sent), len(missing["#search"]), duplicated, metricSendFailed, gateway.Counter(t, metricSendFailed))
}
