package fleet

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	topic = "slack-logs"
	gw    = "slack-gateways"
	// waitFor is how long a test waits for the group or the watcher: long
	// enough for a loaded machine, and only ever reached when it fails.
	waitFor = 30 * time.Second
	tick    = 10 * time.Millisecond
	// fast is the tests' poll interval.
	fast = 20 * time.Millisecond
)

func cluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(6, topic),
		kfake.GroupMinSessionTimeout(100 * time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// gateway joins the group as a gateway's kafka receiver does (franz-go,
// cooperative-sticky, the default balancer), heartbeating often so that
// rebalances are quick.
func gateway(t *testing.T, c *kfake.Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumerGroup(gw),
		kgo.ConsumeTopics(topic), kgo.HeartbeatInterval(100 * time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	var once sync.Once
	t.Cleanup(func() { once.Do(cl.Close) })
	return cl
}

// views records what onChange is told.
type views struct {
	mu  sync.Mutex
	all []View
}

func (v *views) add(view View) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.all = append(v.all, view)
}

func (v *views) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.all)
}

func (v *views) last() View {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.all[len(v.all)-1]
}

// since is whether a view like want came after the first n.
func (v *views) since(n int, want View) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, got := range v.all[min(n, len(v.all)):] {
		if got == want {
			return true
		}
	}
	return false
}

func watch(t *testing.T, brokers []string, logger *zap.Logger, setup func(*Watcher)) (*Watcher, *views) {
	t.Helper()
	v := &views{}
	w, err := New(Config{Brokers: brokers, Group: gw, Interval: fast}, logger, v.add)
	require.NoError(t, err)
	if setup != nil {
		setup(w)
	}
	require.NoError(t, w.Start(context.Background()))
	t.Cleanup(func() { assert.NoError(t, w.Shutdown(context.Background())) })
	return w, v
}

// polled waits for n more polls than done so far.
func polled(t *testing.T, w *Watcher, n int64) {
	t.Helper()
	target := w.polls.Load() + n
	require.Eventually(t, func() bool { return w.polls.Load() >= target }, waitFor, tick)
}

func TestMembersFollowTheGroupAsGatewaysJoinAndLeave(t *testing.T) {
	c := cluster(t)
	w, v := watch(t, c.ListenAddrs(), zap.NewNop(), nil)
	assert.Equal(t, 1, w.Members(), "this gateway counts before the group exists")
	require.Eventually(t, func() bool { return v.since(0, View{Members: 1}) }, waitFor, tick,
		"the first poll tells what it found: no group yet")

	gateway(t, c)
	n := v.count()
	require.Eventually(t, func() bool { return v.since(n, View{Members: 1, Stable: true}) }, waitFor, tick)
	assert.Equal(t, 1, w.Members())

	// Nothing changes while the group stays as it is.
	n = v.count()
	polled(t, w, 5)
	assert.Equal(t, n, v.count(), "no change, no call")

	second := gateway(t, c)
	require.Eventually(t, func() bool { return w.Members() == 2 }, waitFor, tick)
	require.Eventually(t, func() bool { return v.since(n, View{Members: 2, Stable: true}) }, waitFor, tick)

	n = v.count()
	second.Close() // a graceful stop: it leaves the group at once
	require.Eventually(t, func() bool { return w.Members() == 1 }, waitFor, tick)
	require.Eventually(t, func() bool { return v.since(n, View{Members: 1, Stable: true}) }, waitFor, tick)
}

// A gateway that dies does not leave the group: the group drops it when its
// session times out, and its share goes back to the others.
func TestADeadGatewaysShareGoesBackWhenTheGroupDropsIt(t *testing.T) {
	c := cluster(t)
	w, v := watch(t, c.ListenAddrs(), zap.NewNop(), nil)
	gateway(t, c)
	dead := gateway(t, c, kgo.SessionTimeout(time.Second))
	require.Eventually(t, func() bool { return w.Members() == 2 }, waitFor, tick)
	require.Eventually(t, func() bool { return v.since(0, View{Members: 2, Stable: true}) }, waitFor, tick)

	// It dies: its LeaveGroup never reaches the group, and it heartbeats
	// no more.
	deadID, _ := dead.GroupMetadata()
	require.NotEmpty(t, deadID)
	var swallowed atomic.Bool
	c.ControlKey(int16(kmsg.LeaveGroup), func(req kmsg.Request) (kmsg.Response, error, bool) {
		leave := req.(*kmsg.LeaveGroupRequest)
		if leave.MemberID != deadID && (len(leave.Members) == 0 || leave.Members[0].MemberID != deadID) {
			c.KeepControl()
			return nil, nil, false
		}
		swallowed.Store(true)
		return leave.ResponseKind(), nil, true
	})
	n := v.count()
	dead.Close()
	require.True(t, swallowed.Load(), "the dead gateway did not leave")
	require.Eventually(t, func() bool { return w.Members() == 1 }, waitFor, tick)
	require.Eventually(t, func() bool { return v.since(n, View{Members: 1, Stable: true}) }, waitFor, tick)
}

// The group leaving the Stable state is a change of its own: the new
// assignments are not complete yet, but a partition may already be moving.
func TestARebalanceIsSeenBeforeItEnds(t *testing.T) {
	c := cluster(t)
	w, v := watch(t, c.ListenAddrs(), zap.NewNop(), nil)
	gateway(t, c)
	require.Eventually(t, func() bool { return v.since(0, View{Members: 1, Stable: true}) }, waitFor, tick)
	n := v.count()
	// The second member's join is held back while the group waits for it
	// to finish: the group rebalances until the join is let through.
	var hold atomic.Bool
	hold.Store(true)
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.SyncGroup), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if hold.Load() {
			c.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	gateway(t, c)
	require.Eventually(t, func() bool { return v.since(n, View{Members: 2, Stable: false}) }, waitFor, tick,
		"the rebalance in progress is seen")
	hold.Store(false)
	close(release)
	require.Eventually(t, func() bool { return v.since(n, View{Members: 2, Stable: true}) }, waitFor, tick)
	assert.Equal(t, 2, w.Members())
}

// refusedAddr is an address nothing listens on.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// stopped is a clock that stands still until the test moves it, while the
// watcher reads it.
type stopped struct{ at atomic.Int64 }

func (s *stopped) now() time.Time { return time.Unix(0, s.at.Load()) }

// With Kafka out of reach, Start succeeds, the count stays at 1, and the
// failures are logged once, then once a minute, not at every poll.
func TestKafkaOutOfReachIsLoggedOnceAMinute(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	clock := &stopped{}
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock.at.Store(start.UnixNano())
	addr := refusedAddr(t)
	w, v := watch(t, []string{addr}, zap.New(core), func(w *Watcher) {
		w.timeout = 100 * time.Millisecond
		w.now = clock.now
	})
	polled(t, w, 5)
	assert.Equal(t, 1, w.Members())
	assert.Equal(t, 0, v.count(), "nothing seen, nothing changed")
	require.Equal(t, 1, logs.FilterLevelExact(zapcore.WarnLevel).Len(), "one warning for 5 failed polls")

	clock.at.Store(start.Add(logEvery - time.Nanosecond).UnixNano())
	polled(t, w, 2)
	require.Equal(t, 1, logs.FilterLevelExact(zapcore.WarnLevel).Len(), "not within the minute")
	clock.at.Store(start.Add(logEvery).UnixNano())
	polled(t, w, 2)
	all := logs.FilterLevelExact(zapcore.WarnLevel).AllUntimed()
	require.Len(t, all, 2, "a minute later, one more")
	assert.Positive(t, all[1].ContextMap()["failed_polls"])

	// Kafka comes up where the watcher looks for it.
	var port int
	_, p, _ := strings.Cut(addr, ":")
	for _, ch := range p {
		port = port*10 + int(ch-'0')
	}
	cluster(t, kfake.Ports(port))
	require.Eventually(t, func() bool { return v.since(0, View{Members: 1}) }, waitFor, tick, "seen once Kafka is there")
	require.Eventually(t, func() bool {
		return logs.FilterMessageSnippet("can be described again").Len() == 1
	}, waitFor, tick)
}

// While the group cannot be described, the last count seen stands; the
// first poll that succeeds again reports the group, a change or not.
func TestTheLastCountStandsWhileTheGroupCannotBeDescribed(t *testing.T) {
	c := cluster(t)
	var failing atomic.Bool
	c.ControlKey(int16(kmsg.DescribeGroups), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if failing.Load() {
			return nil, errors.New("the coordinator is away"), true
		}
		return nil, nil, false
	})
	w, v := watch(t, c.ListenAddrs(), zap.NewNop(), func(w *Watcher) { w.timeout = 200 * time.Millisecond })
	gateway(t, c)
	gateway(t, c)
	require.Eventually(t, func() bool { return v.since(0, View{Members: 2, Stable: true}) }, waitFor, tick)

	failing.Store(true)
	polled(t, w, 3)
	assert.Equal(t, 2, w.Members())
	n := v.count()
	failing.Store(false)
	require.Eventually(t, func() bool { return v.since(n, View{Members: 2, Stable: true}) }, waitFor, tick,
		"a change may have been missed meanwhile")
}

func TestNewRefusesWhatCannotBeWatched(t *testing.T) {
	for _, cfg := range []Config{
		{Group: gw},
		{Brokers: []string{"127.0.0.1:9092"}},
		{Brokers: []string{"127.0.0.1:9092"}, Group: gw, Interval: -time.Second},
	} {
		_, err := New(cfg, zap.NewNop(), nil)
		assert.Error(t, err, "%+v", cfg)
	}
	w, err := New(Config{Brokers: []string{"127.0.0.1:9092"}, Group: gw}, zap.NewNop(), nil)
	require.NoError(t, err)
	assert.Equal(t, 500*time.Millisecond, w.interval, "the default")
}

func TestStartTwiceAndShutdownWithoutStart(t *testing.T) {
	w, err := New(Config{Brokers: []string{refusedAddr(t)}, Group: gw}, zap.NewNop(), nil)
	require.NoError(t, err)
	require.NoError(t, w.Shutdown(context.Background()), "never started")
	require.NoError(t, w.Start(context.Background()))
	assert.Error(t, w.Start(context.Background()))
	require.NoError(t, w.Shutdown(context.Background()))
	require.NoError(t, w.Shutdown(context.Background()), "twice")
}

// described answers the watcher's DescribeGroups with what the test sets:
// the group as a coordinator could show it.
type described struct {
	mu      sync.Mutex
	state   string
	members map[string]string // member id: assignment
}

func (d *described) set(state string, members map[string]string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.state, d.members = state, members
}

func (d *described) answer(c *kfake.Cluster) func(kmsg.Request) (kmsg.Response, error, bool) {
	return func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		d.mu.Lock()
		defer d.mu.Unlock()
		resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
		g := kmsg.NewDescribeGroupsResponseGroup()
		g.Group, g.State, g.ProtocolType = gw, d.state, "consumer"
		for id, assignment := range d.members {
			m := kmsg.NewDescribeGroupsResponseGroupMember()
			m.MemberID, m.MemberAssignment = id, []byte(assignment)
			g.Members = append(g.Members, m)
		}
		resp.Groups = append(resp.Groups, g)
		return resp, nil, true
	}
}

// What can move a partition is a change: an assignment alone, one member
// for another (a gateway restarted between two polls), the group leaving
// or reaching Stable. What cannot is not: the steps of a rebalance, the
// order in which members are listed.
func TestWhatCanMoveAPartitionIsAChange(t *testing.T) {
	c := cluster(t)
	d := &described{}
	d.set("Stable", map[string]string{"a": "p0 p1", "b": "p2"})
	c.ControlKey(int16(kmsg.DescribeGroups), d.answer(c))
	w, v := watch(t, c.ListenAddrs(), zap.NewNop(), nil)
	require.Eventually(t, func() bool { return v.count() == 1 }, waitFor, tick)

	for _, step := range []struct {
		state   string
		members map[string]string
		change  bool
	}{
		{"Stable", map[string]string{"a": "p0 p1", "b": "p2"}, false},
		{"Stable", map[string]string{"b": "p2", "a": "p0 p1"}, false},
		{"Stable", map[string]string{"a": "p0", "b": "p1 p2"}, true},
		{"Stable", map[string]string{"a": "p0", "c": "p1 p2"}, true},
		{"PreparingRebalance", map[string]string{"a": "", "c": ""}, true},
		{"CompletingRebalance", map[string]string{"a": "", "c": ""}, false},
		{"Stable", map[string]string{"a": "", "c": ""}, true},
		{"Stable", map[string]string{"a": ""}, true},
	} {
		n := v.count()
		d.set(step.state, step.members)
		polled(t, w, 3) // one poll may have begun before the set
		want := n
		if step.change {
			want++
		}
		require.Equal(t, want, v.count(), "%+v", step)
	}
	assert.Equal(t, View{Members: 1, Stable: true}, v.last())
}
