package e2e

// A click from Slack in the fleet: Slack hands it to any gateway, but only
// the gateway that owns the channel's partition delivers there. With
// interactivity.kafka the gateway that received the click writes it to the
// topic under the channel's key; the owner reads it among the channel's
// records and mutes. The gateways run examples/fleet with its commented-out
// interactivity block uncommented; the emulator posts clicks to a proxy
// that the test points at one gateway's request URL.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

const (
	metricMuted        = "otelcol_exporter_slack_records_muted"
	metricInteractions = "otelcol_exporter_slack_interactions"
	clickUser          = "U0ONCALL"
	clickWait          = 30 * time.Second
)

func TestFleetClickOnTheGatewayThatDoesNotOwnTheChannel(t *testing.T) {
	if testing.Short() {
		t.Skip("two fleets of three processes each")
	}
	// With the relay, the owner mutes.
	t.Run("relayed", func(t *testing.T) {
		f := startClickFleet(t, true)
		owner, other, m, blockID, options := f.entryAndOwner(t)
		if res := f.clickOn(t, other, m, blockID, options["Mute 1h"]); res.Status != http.StatusOK || res.Error != "" {
			t.Fatalf("the click on the other gateway: answered %+v, want 200", res)
		}
		f.waitEntry(t, func(s string) error {
			if !strings.Contains(s, "🔇 muted by <@"+clickUser+"> until ") {
				return errors.New("not shown muted yet")
			}
			return nil
		})
		f.diskFull(t, 2)
		waitCounter(t, owner, clickWait, 2, metricMuted)
		// Nothing more in Slack: no new message, update or count.
		msgs := f.emu.WaitQuiet(t, time.Second, clickWait)
		if got := messagesContaining(msgs, "disk full"); len(got) != 1 || got[0].Contains("×") {
			t.Errorf("muted records changed Slack; it holds:\n%s", f.emu.MessagesText(t))
		}
		if got := owner.Counter(t, metricDelivered); got != 1 {
			t.Errorf("the owner's %s = %v, want 1: the muted records were shown", metricDelivered, got)
		}
		if got := other.Counter(t, metricMuted); got != 0 {
			t.Errorf("the other gateway's %s = %v, want 0: it holds none of the channel's records", metricMuted, got)
		}
		// The click landed on the other gateway, not on the owner.
		if got := other.Counter(t, metricInteractions, "result=accepted"); got != 1 {
			t.Errorf("the other gateway accepted %v clicks, want 1", got)
		}
		if got := owner.Counter(t, metricInteractions); got != 0 {
			t.Errorf("the owner received %v clicks, want 0: the proxy sent it there", got)
		}
		// The click went in with the channel's records: the same key, the
		// same partition (the agent's kafka exporter and the relay agree on
		// the partitioner), after the first record and before the others.
		if got, want := f.keyLog(t, "channel:payments", 3), "log control log"; got != want {
			t.Errorf("the key channel:payments holds %q, want %q", got, want)
		}
	})

	// Without it, the same click mutes nothing: the relay is what did it.
	t.Run("not relayed", func(t *testing.T) {
		f := startClickFleet(t, false)
		owner, other, m, blockID, options := f.entryAndOwner(t)
		// The other gateway takes the click (the message's metadata says it
		// is ours) and mutes in its own book, where no record of the
		// channel arrives.
		if res := f.clickOn(t, other, m, blockID, options["Mute 1h"]); res.Status != http.StatusOK || res.Error != "" {
			t.Errorf("the click on the other gateway: answered %+v, want 200", res)
		}
		waitCounter(t, other, clickWait, 1, metricInteractions, "result=accepted")
		f.diskFull(t, 1)
		waitCounter(t, owner, clickWait, 2, metricDelivered)
		f.waitEntry(t, func(s string) error {
			if !strings.Contains(s, "×2") {
				return errors.New("the second record is not counted yet")
			}
			return nil
		})
		m, _, _ = f.entry(t)
		if strings.Contains(m.AllText(), "muted") {
			t.Errorf("the entry shows a mute:\n%s", m.AllText())
		}
		for i, g := range []*Collector{owner, other} {
			if got := g.Counter(t, metricMuted); got != 0 {
				t.Errorf("gateway %d (0: the owner): %s = %v, want 0", i, metricMuted, got)
			}
		}
	})
}

// clickFleet is kfake, the emulator, one agent and two gateways whose
// request URLs sit behind proxy.
type clickFleet struct {
	brokers   string
	emu       *Emulator
	agent     *Collector
	gateways  []*Collector
	endpoints []string // each gateway's request URL host:port
	proxy     *switchProxy
	channel   string
}

// startClickFleet starts the fleet, with interactivity.kafka on the gateways
// if relay, and waits until both gateways own partitions.
func startClickFleet(t *testing.T, relay bool) *clickFleet {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	topic := "slack-logs"
	brokers := startKafka(t, fleetPartitions, topic)
	secret := randomSecret(t, "e2e-signing-")
	proxy := startSwitchProxy(t)
	f := &clickFleet{brokers: brokers, proxy: proxy, channel: "#payments"}
	f.emu = StartEmulator(t, "-actions-url", proxy.URL+"/slack/actions", "-signing-secret", secret)
	gateway := gatewayWithInteractivity(t, root, relay)
	kafkaEnv := []string{"KAFKA_BROKERS=" + brokers, "KAFKA_TOPIC=" + topic, "KAFKA_GROUP=e2e-click",
		"KAFKA_SESSION_TIMEOUT=6s", "KAFKA_HEARTBEAT_INTERVAL=1s"}
	for range 2 {
		endpoint := "127.0.0.1:" + strconv.Itoa(harness.FreePort(t))
		env := append(slices.Clone(kafkaEnv), f.emu.Env()...)
		env = append(env, "SLACK_SIGNING_SECRET="+secret, "SLACK_ACTIONS_ENDPOINT="+endpoint)
		f.gateways = append(f.gateways, harness.StartCollectorFile(t, root, gateway, false, env...))
		f.endpoints = append(f.endpoints, endpoint)
	}
	f.agent = harness.StartCollectorFile(t, root, "examples/fleet/agent.yaml", true, kafkaEnv...)
	Eventually(t, clickWait, func() error {
		total := 0
		for i, g := range f.gateways {
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
	return f
}

// gatewayWithInteractivity writes gateway.yaml and slack.yaml of
// examples/fleet to a temporary directory, slack.yaml with its interactivity
// block uncommented (without its kafka part unless relay), and returns the
// gateway config's path.
func gatewayWithInteractivity(t *testing.T, root string, relay bool) string {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(root, "examples/fleet", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var out []string
	block, kafka := false, false
	for line := range strings.SplitSeq(read("slack.yaml"), "\n") {
		switch {
		case line == "#interactivity:":
			block = true
		case block && !strings.HasPrefix(line, "#  "):
			block = false
		}
		if block {
			kafka = kafka || line == "#  kafka:"
			if kafka && !relay {
				continue
			}
			line = line[1:]
		}
		out = append(out, line)
	}
	slack := strings.Join(out, "\n")
	if !strings.Contains(slack, "\ninteractivity:\n") || strings.Contains(slack, "\n  kafka:\n") != relay {
		t.Fatalf("examples/fleet/slack.yaml has no commented-out interactivity block with kafka in it:\n%s", slack)
	}
	dir := t.TempDir()
	slackPath := filepath.Join(dir, "slack.yaml")
	gateway := read("gateway.yaml")
	if !strings.Contains(gateway, "${file:examples/fleet/slack.yaml}") {
		t.Fatal("examples/fleet/gateway.yaml does not read examples/fleet/slack.yaml")
	}
	gateway = strings.ReplaceAll(gateway, "${file:examples/fleet/slack.yaml}", "${file:"+slackPath+"}")
	gatewayPath := filepath.Join(dir, "gateway.yaml")
	for path, text := range map[string]string{slackPath: slack, gatewayPath: gateway} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return gatewayPath
}

// diskFull sends n records of one error to the fleet's channel and waits
// until the agent has them.
func (f *clickFleet) diskFull(t *testing.T, n int) {
	t.Helper()
	records := make([]log.Record, n)
	for i := range records {
		records[i] = Record(log.SeverityError, "disk full on /var/lib/db")
	}
	f.agent.SendLogs(t, []attribute.KeyValue{attribute.String("service.name", "db"), attribute.String("slack.channel", f.channel)}, records...)
}

// entryAndOwner sends the error once and waits until a gateway has shown
// it: that one owns the channel. It returns the owner, the other gateway,
// and the entry's message and menu.
func (f *clickFleet) entryAndOwner(t *testing.T) (owner, other *Collector, m Message, blockID string, options map[string]string) {
	t.Helper()
	f.diskFull(t, 1)
	Eventually(t, clickWait, func() error {
		a, b := f.gateways[0].Counter(t, metricDelivered), f.gateways[1].Counter(t, metricDelivered)
		switch {
		case a+b > 1:
			t.Fatalf("the gateways delivered %v and %v records, want 1 in all", a, b)
		case a == 1:
			owner, other = f.gateways[0], f.gateways[1]
		case b == 1:
			owner, other = f.gateways[1], f.gateways[0]
		default:
			return errors.New("no gateway has delivered the record yet")
		}
		return nil
	})
	m, blockID, options = f.entry(t)
	return owner, other, m, blockID, options
}

// entry is the one top-level message in the channel and its entry's menu.
func (f *clickFleet) entry(t *testing.T) (m Message, blockID string, options map[string]string) {
	t.Helper()
	var tops []Message
	for _, m := range f.emu.Messages(t, f.channel) {
		if m.ThreadTS == "" {
			tops = append(tops, m)
		}
	}
	if len(tops) != 1 {
		t.Fatalf("want one top-level message in %s, have %d:\n%s", f.channel, len(tops), f.emu.MessagesText(t))
	}
	var blocks []struct {
		BlockID   string `json:"block_id"`
		Accessory *struct {
			ActionID string `json:"action_id"`
			Options  []struct {
				Text  struct{ Text string } `json:"text"`
				Value string                `json:"value"`
			} `json:"options"`
		} `json:"accessory"`
	}
	if err := json.Unmarshal(tops[0].Blocks, &blocks); err != nil {
		t.Fatalf("message %s: blocks: %v", tops[0].TS, err)
	}
	for _, b := range blocks {
		if a := b.Accessory; a != nil && a.ActionID == "otel_entry" {
			options = map[string]string{}
			for _, o := range a.Options {
				options[o.Text.Text] = o.Value
			}
			return tops[0], b.BlockID, options
		}
	}
	t.Fatalf("the message has no entry menu (otel_entry):\n%s", tops[0].Blocks)
	return
}

// waitEntry waits until the entry's text satisfies ok.
func (f *clickFleet) waitEntry(t *testing.T, ok func(string) error) {
	t.Helper()
	Eventually(t, clickWait, func() error {
		m, _, _ := f.entry(t)
		if err := ok(m.AllText()); err != nil {
			return fmt.Errorf("%w; the entry shows:\n%s", err, m.AllText())
		}
		return nil
	})
}

// keyLog reads the topic from the start until it has seen n log records and
// a control record under key, and says in what order ("log control log":
// consecutive Kafka records of one kind are one word, as the agent may
// batch records); it fails if they are on more than one partition.
func (f *clickFleet) keyLog(t *testing.T, key string, n int) string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.brokers), kgo.ConsumeTopics("slack-logs"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), clickWait)
	defer cancel()
	var kinds []string
	var partitions []int32
	logs := 0
	for logs < n || !slices.Contains(kinds, "control") {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d log records and %v under %s", logs, n, kinds, key)
		}
		fetches.EachError(func(_ string, _ int32, err error) { t.Fatalf("reading the topic: %v", err) })
		fetches.EachRecord(func(r *kgo.Record) {
			if string(r.Key) != key {
				return
			}
			if !slices.Contains(partitions, r.Partition) {
				partitions = append(partitions, r.Partition)
			}
			var req collogs.ExportLogsServiceRequest
			if err := proto.Unmarshal(r.Value, &req); err != nil {
				t.Fatalf("partition %d offset %d: %v", r.Partition, r.Offset, err)
			}
			kind := "log"
			for _, rl := range req.ResourceLogs {
				for _, kv := range rl.GetResource().GetAttributes() {
					if kv.Key == "slack.control" && kv.GetValue().GetStringValue() == "click" {
						kind = "control"
					}
				}
				if kind == "log" {
					for _, sl := range rl.ScopeLogs {
						logs += len(sl.LogRecords)
					}
				}
			}
			if len(kinds) == 0 || kinds[len(kinds)-1] != kind {
				kinds = append(kinds, kind)
			}
		})
	}
	if len(partitions) != 1 {
		t.Errorf("the Kafka records under %s are on partitions %v, want one", key, partitions)
	}
	return strings.Join(kinds, " ")
}

// emuClick is POST /_emu/click's answer (internal/slackemu/click.go).
type emuClick struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
}

// clickOn has the emulator post a click by clickUser on the option value
// of the entry in m to gateway g's request URL.
func (f *clickFleet) clickOn(t *testing.T, g *Collector, m Message, blockID, value string) emuClick {
	t.Helper()
	if value == "" {
		t.Fatal("the entry's menu lacks the option")
	}
	f.proxy.point(t, f.endpoints[slices.Index(f.gateways, g)])
	body, err := json.Marshal(map[string]string{"channel": m.ChannelID, "ts": m.TS, "block_id": blockID,
		"action_id": "otel_entry", "value": value, "user_id": clickUser, "via": "http"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(f.emu.URL+"/_emu/click", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var res emuClick
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /_emu/click: %s: %s", resp.Status, b)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("POST /_emu/click: %s: %v", b, err)
	}
	return res
}

// switchProxy stands for the load balancer in front of the gateways' request
// URLs: it forwards to the one gateway the test points it at.
type switchProxy struct {
	URL    string
	target atomic.Pointer[url.URL]
}

func startSwitchProxy(t *testing.T) *switchProxy {
	t.Helper()
	p := &switchProxy{}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(p.target.Load()) }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.target.Load() == nil {
			http.Error(w, "no gateway chosen", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	p.URL = "http://" + ln.Addr().String()
	return p
}

// point sends every later request to host:port.
func (p *switchProxy) point(t *testing.T, hostport string) {
	t.Helper()
	u, err := url.Parse("http://" + hostport)
	if err != nil {
		t.Fatal(err)
	}
	p.target.Store(u)
}
