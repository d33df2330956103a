package interact

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// In a fleet, Slack hands a click to any gateway (any Socket Mode
// connection, any replica behind the request URL), but only the gateway
// that owns the channel's Kafka partition delivers there. A Relay writes
// the click to the fleet's topic as a control record, keyed like the
// channel's log records, so the owner reads it in order with them and
// applies it. Kafka is already the fleet's engine: no other shared store.

// ControlAttribute marks the resource of a control record; its value says
// what the record carries.
const (
	ControlAttribute = "slack.control"
	controlClick     = "click"
)

// deliveryTimeout bounds how long a record waits for Kafka.
const deliveryTimeout = 2 * time.Second

// Relay writes clicks to a Kafka topic.
type Relay struct {
	client *kgo.Client
	secret []byte
}

// NewRelay connects lazily to brokers; records go to topic, signed with
// secret (see ControlRecord).
func NewRelay(brokers []string, topic string, secret []byte) (*Relay, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic),
		// The partitioner contrib's kafka exporter uses by default, so a
		// control record lands on its channel's partition.
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(kgo.SaramaCompatHasher(fnv32a))),
		// Applying a click twice changes nothing (it carries its time), so
		// a record may be written twice; what matters is that a Kafka out
		// of reach fails the click in time for Slack's 3 s, which an
		// idempotent producer would not.
		kgo.DisableIdempotentWrite(),
		kgo.RecordDeliveryTimeout(deliveryTimeout))
	if err != nil {
		return nil, err
	}
	return &Relay{client: cl, secret: secret}, nil
}

func fnv32a(b []byte) uint32 {
	h := fnv.New32a()
	_, _ = h.Write(b)
	return h.Sum32()
}

// Send writes c, made at at, once under each key, and returns when Kafka
// has every copy.
func (r *Relay) Send(ctx context.Context, keys []string, c Click, at time.Time) error {
	value, err := (&plog.ProtoMarshaler{}).MarshalLogs(ControlRecord(c, at, r.secret))
	if err != nil {
		return err
	}
	recs := make([]*kgo.Record, len(keys))
	for i, k := range keys {
		recs[i] = &kgo.Record{Key: []byte(k), Value: value}
	}
	done := make(chan error, 1)
	go func() { done <- r.client.ProduceSync(ctx, recs...).FirstErr() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// A record on the wire is not failed by its context: stop waiting
		// for it (if it lands after all, applying it again is harmless).
		return ctx.Err()
	}
}

// Close releases the client.
func (r *Relay) Close() {
	r.client.Close()
}

// Relayed is a click read from a control record, with when it was made.
type Relayed struct {
	Click
	At time.Time
}

// The control record's attributes, one per field of a click.
var clickFields = []struct {
	key string
	get func(*Click) *string
}{
	{"user_id", func(c *Click) *string { return &c.UserID }},
	{"channel_id", func(c *Click) *string { return &c.ChannelID }},
	{"channel_name", func(c *Click) *string { return &c.ChannelName }},
	{"message_ts", func(c *Click) *string { return &c.MessageTS }},
	{"block_id", func(c *Click) *string { return &c.BlockID }},
	{"action_id", func(c *Click) *string { return &c.ActionID }},
	{"value", func(c *Click) *string { return &c.Value }},
	{"event_type", func(c *Click) *string { return &c.EventType }},
}

// ControlRecord is c as a log record in a resource marked as control,
// signed with secret (HMAC-SHA256 of its fields and time). Records of the
// applications travel the same topic: an application that marked its own
// records as control records must not be able to mute anything, and it does
// not know the secret the gateways share.
func ControlRecord(c Click, at time.Time, secret []byte) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(ControlAttribute, controlClick)
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
	for _, f := range clickFields {
		lr.Attributes().PutStr(f.key, *f.get(&c))
	}
	lr.Attributes().PutStr(signatureKey, signClick(secret, c, at))
	return ld
}

const signatureKey = "signature"

func signClick(secret []byte, c Click, at time.Time) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(at.UnixNano(), 10)))
	for _, f := range clickFields {
		v := *f.get(&c)
		// Length-prefixed, so no two clicks sign alike.
		mac.Write([]byte("\x00" + strconv.Itoa(len(v)) + ":" + v))
	}
	return hex.EncodeToString(mac.Sum(nil))
}

// TakeControl returns the clicks ld's control records carry, signed with
// secret, and ld without any control record; rejected counts those whose
// signature did not hold. ld is not modified: rest is a copy when it had
// any control record, else ld itself.
func TakeControl(ld plog.Logs, secret []byte) (clicks []Relayed, rest plog.Logs, rejected int) {
	found := false
	for _, rl := range ld.ResourceLogs().All() {
		if _, ok := rl.Resource().Attributes().Get(ControlAttribute); ok {
			found = true
			break
		}
	}
	if !found {
		return nil, ld, 0
	}
	rest = plog.NewLogs()
	for _, rl := range ld.ResourceLogs().All() {
		kind, ok := rl.Resource().Attributes().Get(ControlAttribute)
		if !ok {
			rl.CopyTo(rest.ResourceLogs().AppendEmpty())
			continue
		}
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				var r Relayed
				r.At = lr.Timestamp().AsTime()
				for _, f := range clickFields {
					if v, ok := lr.Attributes().Get(f.key); ok {
						*f.get(&r.Click) = v.Str()
					}
				}
				got, _ := lr.Attributes().Get(signatureKey)
				if kind.Str() != controlClick || !hmac.Equal([]byte(got.Str()), []byte(signClick(secret, r.Click, r.At))) {
					rejected++
					continue
				}
				clicks = append(clicks, r)
			}
		}
	}
	return clicks, rest, rejected
}
