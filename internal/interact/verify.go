package interact

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// window is how far a request's timestamp may be from now, either way,
	// and so how long a signature must be remembered to refuse its replay.
	window = 5 * time.Minute
	// maxSeen bounds the signatures remembered. Slack sends a click per
	// person's click: ten thousand within five minutes does not happen.
	maxSeen = 10000
	// sweepEvery: expired signatures are dropped at most this often, or
	// when the set is full.
	sweepEvery = time.Minute
)

// sign is Slack's request signature: v0= and the hex HMAC-SHA256 of
// "v0:{timestamp}:{body}" under the signing secret.
func sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// signatureOK compares in constant time, so the answer's timing does not
// tell how much of a forged signature was right.
func signatureOK(secret, timestamp, signature string, body []byte) bool {
	if timestamp == "" || signature == "" {
		return false
	}
	return hmac.Equal([]byte(sign(secret, timestamp, body)), []byte(signature))
}

// fresh says whether a timestamp (Unix seconds) is within the window of now.
func fresh(timestamp string, now time.Time) (int64, bool) {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return 0, false
	}
	return ts, inWindow(ts, now)
}

func inWindow(ts int64, now time.Time) bool {
	d := now.Sub(time.Unix(ts, 0))
	return d <= window && d >= -window
}

// seenSignatures remembers the signatures accepted within the window.
type seenSignatures struct {
	mu        sync.Mutex
	stamps    map[string]int64 // signature → its request's timestamp
	lastSweep time.Time
	limit     int // maxSeen; smaller in tests
}

func newSeenSignatures() *seenSignatures {
	return &seenSignatures{stamps: map[string]int64{}, limit: maxSeen}
}

// firstTime records a signature and says whether it is new. A signature is
// kept until its timestamp leaves the window, from when the request would
// be refused as stale anyway.
//
// When the set is full of signatures still in the window, the one with the
// oldest timestamp is forgotten: memory stays bounded and no genuine click
// is refused, at the price that the forgotten one could be replayed in what
// is left of its window.
func (s *seenSignatures) firstTime(signature string, ts int64, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.stamps[signature]; seen {
		return false
	}
	if len(s.stamps) >= s.limit || now.Sub(s.lastSweep) >= sweepEvery {
		s.sweepLocked(now)
	}
	if len(s.stamps) >= s.limit {
		s.forgetOldestLocked()
	}
	s.stamps[signature] = ts
	return true
}

func (s *seenSignatures) sweepLocked(now time.Time) {
	s.lastSweep = now
	for sig, ts := range s.stamps {
		if !inWindow(ts, now) {
			delete(s.stamps, sig)
		}
	}
}

func (s *seenSignatures) forgetOldestLocked() {
	sigs := slices.Collect(maps.Keys(s.stamps))
	oldest := slices.MinFunc(sigs, func(a, b string) int { return cmp.Compare(s.stamps[a], s.stamps[b]) })
	delete(s.stamps, oldest)
}

func (s *seenSignatures) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.stamps)
}
