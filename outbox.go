package slackexporter // import "github.com/slackexporter/slackexporter"

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/slackexporter/slackexporter/internal/group"
	"github.com/slackexporter/slackexporter/internal/slackclient"
	"github.com/slackexporter/slackexporter/internal/threads"
)

// share is an entry on its way to one destination and the pushes whose
// records it carries: one push, or, once an outbox has merged them, every
// push that brought the same fingerprint.
type share struct {
	entry  *group.Entry
	claims []claim
	// notOn is the live message whose update failed for this entry: it is
	// posted anew rather than tried on that message again.
	notOn *threads.Message
}

// claim is one push's part of a share.
type claim struct {
	out   *outcome
	entry *group.Entry // the push's own entry: where its records are
}

func sharesOf(entries []*group.Entry, out *outcome) []*share {
	shares := make([]*share, len(entries))
	for i, e := range entries {
		shares[i] = &share{entry: e, claims: []claim{{out: out, entry: e}}}
	}
	return shares
}

func entriesOfShares(shares []*share) []*group.Entry {
	out := make([]*group.Entry, len(shares))
	for i, s := range shares {
		out[i] = s.entry
	}
	return out
}

// fail hands the records of shares back to their pushes, for a retry.
func fail(d *destination, err error, shares ...*share) {
	for _, s := range shares {
		for _, c := range s.claims {
			c.out.failed(d, err, []*group.Entry{c.entry})
		}
	}
}

// outbox gathers what concurrent pushes post to one destination. While one
// push waits for the destination's next rate-limit slot, the others join
// it, and all they bring goes out together when the slot comes: a storm
// becomes one message per slot, carrying counts, however many queue
// consumers push at once. When a slot is free, a push posts at once.
type outbox struct {
	turn    chan struct{} // held by the push that posts for all
	mu      sync.Mutex
	pending []*parcel
}

func newOutbox() *outbox {
	return &outbox{turn: make(chan struct{}, 1)}
}

// parcel is what one push brings to an outbox.
type parcel struct {
	shares   []*share
	deadline time.Time // zero when the push has none
	done     chan struct{}
}

func (o *outbox) add(p *parcel) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending = append(o.pending, p)
}

// withdraw takes p back, reporting false if a poster has taken it.
func (o *outbox) withdraw(p *parcel) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.pending)
	o.pending = slices.DeleteFunc(o.pending, func(q *parcel) bool { return q == p })
	return len(o.pending) < n
}

// take removes every pending parcel and sorts them: those whose push can
// still wait for a call that starts now, and those too close to their
// deadline for it.
func (o *outbox) take(callTime time.Duration) (taken, tooLate []*parcel) {
	o.mu.Lock()
	defer o.mu.Unlock()
	soonest := time.Now().Add(callTime)
	for _, p := range o.pending {
		if p.deadline.IsZero() || !p.deadline.Before(soonest) {
			taken = append(taken, p)
		} else {
			tooLate = append(tooLate, p)
		}
	}
	o.pending = nil
	return taken, tooLate
}

// post delivers shares to d through its outbox and returns when each has
// been delivered, refused for good, or handed back to its push.
func (d *destination) post(ctx context.Context, shares []*share) {
	if len(shares) == 0 {
		return
	}
	p := &parcel{shares: shares, done: make(chan struct{})}
	p.deadline, _ = ctx.Deadline()
	d.outbox.add(p)
	for {
		select {
		case <-p.done:
			return
		case d.outbox.turn <- struct{}{}:
			select {
			case <-p.done: // delivered by the poster before us
			default:
				d.postPending(ctx, p)
			}
			<-d.outbox.turn
		case <-ctx.Done():
			if d.outbox.withdraw(p) {
				fail(d, ctx.Err(), p.shares...)
				return
			}
			<-p.done // taken: the poster's call ends by our deadline
			return
		}
	}
}

// postPending is the poster's turn: wait until the destination has a free
// slot, then deliver every parcel gathered meanwhile. If the slot comes too
// late for this push, it fails its own parcel and leaves the others to a
// push with more time.
func (d *destination) postPending(ctx context.Context, mine *parcel) {
	if err := d.limiter.Ready(ctx, d.callTime()); err != nil {
		if d.outbox.withdraw(mine) {
			fail(d, err, mine.shares...)
			close(mine.done)
		}
		return
	}
	parcels, tooLate := d.outbox.take(d.callTime())
	for _, p := range tooLate {
		fail(d, &slackclient.WaitTooLongError{}, p.shares...)
		close(p.done)
	}
	if len(parcels) == 0 {
		return
	}
	// The call must end by the earliest deadline among the pushes it
	// carries; take set aside those too close to theirs.
	callCtx := context.WithoutCancel(ctx)
	var earliest time.Time
	for _, p := range parcels {
		if !p.deadline.IsZero() && (earliest.IsZero() || p.deadline.Before(earliest)) {
			earliest = p.deadline
		}
	}
	if !earliest.IsZero() {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithDeadline(callCtx, earliest)
		defer cancel()
	}
	d.deliverGathered(callCtx, merge(parcels))
	for _, p := range parcels {
		close(p.done)
	}
}

// merge joins the shares of several pushes: one share per fingerprint,
// counting the records of all, most frequent first.
func merge(parcels []*parcel) []*share {
	if len(parcels) == 1 {
		return parcels[0].shares
	}
	byFingerprint := map[string]*share{}
	var out []*share
	for _, p := range parcels {
		for _, s := range p.shares {
			m := byFingerprint[s.entry.Fingerprint]
			if m == nil {
				sum := *s.entry
				sum.Records = nil
				m = &share{entry: &sum, notOn: s.notOn}
				byFingerprint[s.entry.Fingerprint] = m
				out = append(out, m)
			} else {
				m.entry.Count += s.entry.Count
				if s.entry.First.Before(m.entry.First) {
					m.entry.First = s.entry.First
				}
				if s.entry.Last.After(m.entry.Last) {
					m.entry.Last = s.entry.Last
				}
				m.notOn = cmp.Or(m.notOn, s.notOn)
			}
			m.claims = append(m.claims, s.claims...)
		}
	}
	slices.SortStableFunc(out, func(a, b *share) int { return cmp.Compare(b.entry.Count, a.entry.Count) })
	return out
}

// deliverGathered posts what a poster took, once a slot was free. With
// threads, a fingerprint that another poster has posted meanwhile updates
// that message instead, so no two messages count it.
func (d *destination) deliverGathered(ctx context.Context, shares []*share) {
	if d.threaded() {
		now := d.now()
		fresh, repeats := d.partition(shares, now)
		// Waiting for the update budget (as the pushes do) keeps a storm
		// of repeats in few messages; a post that gave up at once would
		// start a new message for them at every slot.
		_, overflow := d.updateLive(ctx, repeats, now, recordsOf(shares))
		shares = d.retire(ctx, slices.Concat(fresh, sharesOfRepeats(overflow)))
	}
	d.postShares(ctx, shares)
}

// retire takes the fingerprints about to be posted anew out of the live
// messages that counted them (their update did not go out in time), so
// that no two messages count one fingerprint. It returns the shares to
// post; those it could not retire in time are handed back.
func (d *destination) retire(ctx context.Context, shares []*share) []*share {
	byMsg := map[*threads.Message][]*share{}
	for _, s := range shares {
		if s.notOn != nil {
			byMsg[s.notOn] = append(byMsg[s.notOn], s)
		}
	}
	for m, ss := range byMsg {
		fingerprints := make([]string, len(ss))
		for i, s := range ss {
			fingerprints[i] = s.entry.Fingerprint
		}
		if err := m.Retire(ctx, fingerprints); err != nil {
			fail(d, err, ss...)
			shares = slices.DeleteFunc(shares, func(s *share) bool { return slices.Contains(ss, s) })
		}
	}
	return shares
}

// postShares posts shares as new messages: as many as the free slots allow,
// the rest folded into the last. Each takes its slot just before it goes,
// so posts leave as the rate allows. With threads, each message becomes the
// live message of the fingerprints it shows.
func (d *destination) postShares(ctx context.Context, shares []*share) {
	if len(shares) == 0 {
		return
	}
	byEntry := make(map[*group.Entry]*share, len(shares))
	for _, s := range shares {
		byEntry[s.entry] = s
	}
	of := func(entries ...[]*group.Entry) []*share {
		var out []*share
		for _, list := range entries {
			for _, entry := range list {
				out = append(out, byEntry[entry])
			}
		}
		return out
	}
	messages := d.layout.Messages(entriesOfShares(shares), d.limiter.Available())
	for i, m := range messages {
		// The first waits if another post took the free slot meanwhile;
		// the others go only if a slot is free now.
		maxWait := slackclient.NoMaxWait
		if i > 0 {
			maxWait = 0
		}
		err := d.limiter.Wait(ctx, maxWait, d.callTime())
		var ref slackclient.Ref
		if err == nil {
			ref, err = d.postMessage(ctx, m)
		}
		if err == nil {
			if d.threaded() {
				now := d.now()
				d.remember(d.tracker.Register(d.key, ref.ChannelID, ref.TS, now, m.Entries, m.FoldedRecords(), len(m.Folded)))
				// Counted only in the fold line: a line of theirs
				// elsewhere must not be called quiet, even after a
				// restart. Each message is saved once all its lines are
				// marked.
				seen := map[*threads.Message]bool{}
				for _, f := range m.Folded {
					if live := d.tracker.Seen(d.key, f.Fingerprint, now); live != nil {
						seen[live] = true
					}
				}
				for live := range seen {
					d.remember(live)
				}
			}
			continue
		}
		if d.dynamic && rerouteCode(err) != "" {
			// The channel a template named is not there for us: this
			// message and the rest go to the default channel.
			var rest []*share
			for _, r := range messages[i:] {
				rest = append(rest, of(r.Entries, r.Folded)...)
			}
			d.reroute(ctx, err, rest)
			return
		}
		if d.refuse(ctx, err, of(m.Entries, m.Folded)) {
			continue
		}
		for _, rest := range messages[i:] {
			fail(d, err, of(rest.Entries, rest.Folded)...)
		}
		return
	}
}
