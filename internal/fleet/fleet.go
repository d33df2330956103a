// Package fleet watches the Kafka consumer group that a fleet's gateways
// form: how many gateways it holds, so that each spends its share of the
// workspace's chat.update budget, and when a partition may have moved, so
// that each reads its channels back from Slack before it delivers there
// again (a channel may have been handed to another gateway and back).
//
// It asks the group's coordinator (DescribeGroups) every Interval, with a
// client of its own: the kafka receiver that consumes in the group does not
// show its group to the exporter.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// DefaultInterval is how often the group is described when Config.Interval
// is 0. A rebalance takes at least a heartbeat (a few seconds), so a poll
// this often sees the group leave the Stable state before the new
// assignments are complete.
const DefaultInterval = 500 * time.Millisecond

// logEvery spaces the warnings while the group cannot be described: one,
// then one a minute with the number of failed polls.
const logEvery = time.Minute

// pollTimeout bounds one DescribeGroups, retries included.
const pollTimeout = 5 * time.Second

// Config names the group to watch.
type Config struct {
	// Brokers are the seed brokers: those of the gateways' kafka receiver.
	Brokers []string
	// Group is the receiver's consumer group (its group_id).
	Group string
	// Interval between two polls; 0 means DefaultInterval.
	Interval time.Duration
	// ClientOptions are added to the watcher's client after the seed
	// brokers: the receiver's TLS or SASL settings, for a Kafka that
	// requires them.
	ClientOptions []kgo.Opt
}

// View is the group as the last poll saw it.
type View struct {
	// Members is the number of members of the group, at least 1: this
	// gateway counts before the group lists it.
	Members int
	// Stable is whether the group had settled its assignment: false while
	// it rebalances, or when it has no member.
	Stable bool
}

// Watcher polls one consumer group. Its methods are safe for concurrent
// use.
type Watcher struct {
	cfg      Config
	logger   *zap.Logger
	onChange func(View)
	interval time.Duration
	timeout  time.Duration    // pollTimeout; tests shorten it
	now      func() time.Time // time.Now; tests read a clock of their own

	members atomic.Int64 // the last count seen, at least 1
	polls   atomic.Int64 // polls done, failed ones included (for tests)

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	done    chan struct{}
	client  *kgo.Client

	// The polling goroutine's own.
	last         group
	known        bool      // last is what the group is, as far as anyone can tell
	failed       int       // polls failed since the last warning
	warnedAt     time.Time // when the last warning was logged
	warnedFailed bool      // a failure was logged and no poll has succeeded since
}

// group is what can move a partition: the members, their assignments, and
// whether the group is settled.
type group struct {
	stable  bool
	members []member // by id
}

type member struct {
	id         string
	assignment string // as Kafka encodes it; only a Stable group shows it
}

// New returns a watcher of cfg.Group that logs to logger (nil: nowhere).
// onChange, if not nil, is called from
// the polling goroutine (one call at a time; it should return quickly)
// after each poll that finds something that can move a partition changed
// since the poll before: the members (by member id), their assignments, or
// the group leaving or reaching the Stable state. The first poll that
// succeeds calls it, and so does the first after a failed one: a change may
// have been missed.
func New(cfg Config, logger *zap.Logger, onChange func(View)) (*Watcher, error) {
	switch {
	case len(cfg.Brokers) == 0:
		return nil, errors.New("fleet: no brokers")
	case cfg.Group == "":
		return nil, errors.New("fleet: no consumer group")
	case cfg.Interval < 0:
		return nil, fmt.Errorf("fleet: negative interval %s", cfg.Interval)
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	interval := cfg.Interval
	if interval == 0 {
		interval = DefaultInterval
	}
	w := &Watcher{cfg: cfg, logger: logger, onChange: onChange, interval: interval, timeout: pollTimeout, now: time.Now}
	w.members.Store(1)
	return w, nil
}

// Start starts polling in the background. A Kafka out of reach does not
// fail it: the watcher logs (at most once a minute), keeps the last known
// view, and retries every interval. It fails only if the client cannot be
// made (bad ClientOptions), or when called twice.
func (w *Watcher) Start(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		return errors.New("fleet: the watcher was already started")
	}
	opts := append([]kgo.Opt{kgo.SeedBrokers(w.cfg.Brokers...), kgo.ClientID("otelcol-slack-fleet")}, w.cfg.ClientOptions...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.started, w.client, w.cancel, w.done = true, cl, cancel, make(chan struct{})
	go w.run(ctx)
	return nil
}

// Shutdown stops polling and closes the client. It returns ctx's error if
// ctx ends before the poll in flight does (the client is closed when it
// has).
func (w *Watcher) Shutdown(ctx context.Context) error {
	w.mu.Lock()
	cancel, done, cl := w.cancel, w.done, w.client
	w.cancel = nil
	w.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		cl.Close()
		return nil
	case <-ctx.Done():
		go func() { <-done; cl.Close() }()
		return ctx.Err()
	}
}

// Members is the number of members of the group when last seen, at least 1;
// while the group cannot be described, the last count seen.
func (w *Watcher) Members() int {
	return int(w.members.Load())
}

func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.poll(ctx)
		t.Reset(w.interval)
	}
}

// poll describes the group once and tells onChange what changed.
func (w *Watcher) poll(ctx context.Context) {
	defer w.polls.Add(1)
	pctx, cancel := context.WithTimeout(ctx, w.timeout)
	g, err := w.describe(pctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil { // not a shutdown
			w.fail(err)
		}
		return
	}
	if w.warnedFailed {
		w.logger.Info("The fleet's consumer group can be described again", zap.String("group", w.cfg.Group))
		w.warnedFailed = false
	}
	changed := !w.known || g.stable != w.last.stable || !slices.Equal(g.members, w.last.members)
	w.last, w.known = g, true
	view := View{Members: max(len(g.members), 1), Stable: g.stable}
	w.members.Store(int64(view.Members))
	if changed && w.onChange != nil {
		w.onChange(view)
	}
}

func (w *Watcher) fail(err error) {
	w.known = false
	w.failed++
	now := w.now()
	if !w.warnedAt.IsZero() && now.Sub(w.warnedAt) < logEvery {
		return
	}
	w.logger.Warn("Cannot describe the fleet's consumer group; keeping the last known number of gateways",
		zap.String("group", w.cfg.Group), zap.Int("members", w.Members()), zap.Int("failed_polls", w.failed), zap.Error(err))
	w.warnedAt, w.warnedFailed, w.failed = now, true, 0
}

// describe asks the group's coordinator for the group's members. A group
// that does not exist (yet) has none.
func (w *Watcher) describe(ctx context.Context) (group, error) {
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{w.cfg.Group}
	resp, err := req.RequestWith(ctx, w.client)
	if err != nil {
		return group{}, err
	}
	if len(resp.Groups) != 1 {
		return group{}, fmt.Errorf("asked to describe one group, got %d", len(resp.Groups))
	}
	rg := resp.Groups[0]
	if err := kerr.ErrorForCode(rg.ErrorCode); err != nil {
		if errors.Is(err, kerr.GroupIDNotFound) {
			return group{}, nil
		}
		return group{}, err
	}
	g := group{stable: rg.State == "Stable", members: make([]member, 0, len(rg.Members))}
	for _, m := range rg.Members {
		g.members = append(g.members, member{id: m.MemberID, assignment: string(m.MemberAssignment)})
	}
	slices.SortFunc(g.members, func(a, b member) int { return strings.Compare(a.id, b.id) })
	return g, nil
}
