package interact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"
)

// The signature is Slack's documented one, computed here independently.
func TestSignMatchesSlacksRecipe(t *testing.T) {
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte("v0:1531420618:token=x&team_id=T1"))
	want := "v0=" + hex.EncodeToString(mac.Sum(nil))
	if got := sign("s3cret", "1531420618", []byte("token=x&team_id=T1")); got != want {
		t.Errorf("sign = %s, want %s", got, want)
	}
	if !signatureOK("s3cret", "1531420618", want, []byte("token=x&team_id=T1")) {
		t.Error("own signature refused")
	}
	if signatureOK("s3cret", "1531420618", "", []byte("token=x&team_id=T1")) {
		t.Error("empty signature accepted")
	}
}

func stamp(t time.Time) int64 { return t.Unix() }

// A signature is remembered while its timestamp is in the window; expired
// ones are dropped at most once a minute.
func TestSeenSignaturesExpire(t *testing.T) {
	s := newSeenSignatures()
	t0 := epoch
	if !s.firstTime("edge", stamp(t0.Add(-window)), t0) { // sweeps: the first call
		t.Fatal("new signature refused")
	}
	if s.firstTime("edge", stamp(t0.Add(-window)), t0) {
		t.Fatal("repeated signature accepted")
	}
	// "edge" is out of the window now, but a minute has not passed: kept.
	s.firstTime("b", stamp(t0.Add(30*time.Second)), t0.Add(30*time.Second))
	if _, kept := s.stamps["edge"]; !kept || s.size() != 2 {
		t.Errorf("swept before a minute: %v", s.stamps)
	}
	// A minute after the last sweep: "edge" goes, "b" stays.
	s.firstTime("c", stamp(t0.Add(sweepEvery)), t0.Add(sweepEvery))
	if _, kept := s.stamps["edge"]; kept || s.size() != 2 {
		t.Errorf("after a minute: %v", s.stamps)
	}
	// "b" exactly at the window's end is still remembered.
	s.firstTime("d", stamp(t0.Add(30*time.Second+window)), t0.Add(30*time.Second+window))
	if _, kept := s.stamps["b"]; !kept {
		t.Errorf("b dropped at the window's end: %v", s.stamps)
	}
}

// At the cap, expired signatures go first; if all are in the window, the
// oldest is forgotten and the newcomer kept.
func TestSeenSignaturesCap(t *testing.T) {
	s := newSeenSignatures()
	s.limit = 3
	t0 := epoch
	s.firstTime("old1", stamp(t0.Add(-window)), t0)
	s.firstTime("old2", stamp(t0.Add(-window)), t0)
	s.firstTime("fresh", stamp(t0), t0)
	// Ten seconds on, no periodic sweep is due, but the set is full: the
	// two expired go, nothing in the window does.
	now := t0.Add(10 * time.Second)
	s.firstTime("new", stamp(now), now)
	if _, a := s.stamps["fresh"]; !a || s.size() != 2 {
		t.Fatalf("after a full set with expired entries: %v", s.stamps)
	}
	s.firstTime("n2", stamp(now.Add(-3*time.Second)), now)
	s.firstTime("n3", stamp(now.Add(-time.Second)), now)
	// Full of entries in the window: the oldest ("fresh", t0) is forgotten.
	if s.size() != 3 {
		t.Fatalf("size %d, want the cap", s.size())
	}
	for _, want := range []string{"new", "n2", "n3"} {
		if _, ok := s.stamps[want]; !ok {
			t.Errorf("%s forgotten: %v", want, s.stamps)
		}
	}
	// The price: the forgotten one is new again.
	if !s.firstTime("fresh", stamp(t0), now) {
		t.Error("forgotten signature still refused")
	}
}

func TestSeenSignaturesDefaultCap(t *testing.T) {
	s := newSeenSignatures()
	for i := range maxSeen + 5 {
		s.firstTime(strconv.Itoa(i), stamp(epoch), epoch)
	}
	if s.size() != maxSeen {
		t.Errorf("size %d, want %d", s.size(), maxSeen)
	}
}
