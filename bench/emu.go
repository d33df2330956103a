package main

// The Slack emulator (bin/slackemu): start it, read back what it received,
// and count the log records its messages stand for.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type emulator struct {
	*proc
	url   string
	flags string // as passed, for the report
}

// startEmulator runs bin/slackemu answering every call after latency and
// holding each channel to rate messages per second after burst.
func startEmulator(o *options, name string, latency time.Duration, rate float64, burst int) (*emulator, error) {
	addrFile := filepath.Join(o.work, name+".addr")
	args := []string{"-addr", "127.0.0.1:0", "-addr-file", addrFile, "-token", emuToken,
		"-latency", latency.String(), "-rate", strconv.FormatFloat(rate, 'f', -1, 64), "-burst", strconv.Itoa(burst)}
	p, err := start(o.work, name, o.bin("slackemu"), args, nil)
	if err != nil {
		return nil, err
	}
	e := &emulator{proc: p, flags: fmt.Sprintf("-latency %s -rate %g -burst %d", latency, rate, burst)}
	ok := poll(10*time.Second, 50*time.Millisecond, func() bool {
		if p.exited() {
			return true
		}
		b, err := os.ReadFile(addrFile)
		if err != nil || len(b) == 0 {
			return false
		}
		e.url = "http://" + strings.TrimSpace(string(b))
		_, err = httpGet(e.url + "/_emu/health")
		return err == nil
	})
	if !ok || p.exited() {
		p.stop(time.Second)
		return nil, fmt.Errorf("slackemu did not start:\n%s", p.tail(10))
	}
	return e, nil
}

// emuMessage is a message as GET /_emu/messages shows it (its final state:
// chat.update replaces text and blocks).
type emuMessage struct {
	Seq        int             `json:"seq"`
	Channel    string          `json:"channel"`
	TS         string          `json:"ts"`
	ThreadTS   string          `json:"thread_ts"`
	Text       string          `json:"text"`
	Blocks     json.RawMessage `json:"blocks"`
	Updates    int             `json:"updates"`
	ReceivedAt string          `json:"received_at"`
	UpdatedAt  string          `json:"updated_at"`
}

func (m emuMessage) received() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, m.ReceivedAt)
	return t
}

// lastChange is when Slack last showed something new in this message.
func (m emuMessage) lastChange() time.Time {
	if t, err := time.Parse(time.RFC3339Nano, m.UpdatedAt); err == nil && !t.IsZero() {
		return t
	}
	return m.received()
}

func (m emuMessage) reply() bool { return m.ThreadTS != "" && m.ThreadTS != m.TS }

func (e *emulator) messages(channel string) ([]emuMessage, error) {
	u := e.url + "/_emu/messages"
	if channel != "" {
		u += "?channel=" + url.QueryEscape(channel)
	}
	b, err := httpGet(u)
	if err != nil {
		return nil, err
	}
	var out struct {
		Messages []emuMessage `json:"messages"`
	}
	return out.Messages, json.Unmarshal(b, &out)
}

// emuCall is a Slack call as GET /_emu/calls shows it.
type emuCall struct {
	Method string    `json:"method"`
	Dest   string    `json:"dest"`
	At     time.Time `json:"at"` // arrival
	Status int       `json:"status"`
}

func (e *emulator) calls() ([]emuCall, error) {
	b, err := httpGet(e.url + "/_emu/calls")
	if err != nil {
		return nil, err
	}
	var out struct {
		Calls []emuCall `json:"calls"`
	}
	return out.Calls, json.Unmarshal(b, &out)
}

type emuDestStats struct {
	Requests  int            `json:"requests"`
	Accepted  int            `json:"accepted"`
	Throttled int            `json:"throttled"`
	Errors    map[string]int `json:"errors"`
}

type emuStats struct {
	Destinations map[string]emuDestStats `json:"destinations"`
	Totals       emuDestStats            `json:"totals"`
}

func (e *emulator) stats() (emuStats, error) {
	var s emuStats
	b, err := httpGet(e.url + "/_emu/stats")
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

// ---------------------------------------------------------------------------
// Counting records in what Slack shows

var (
	// An entry's title line: "*ERROR* · checkout · ×1,234" (no × for one record).
	countRE = regexp.MustCompile(`· ×([0-9,]+)`)
	// The fold line: "➕ 1,234 more records in 56 groups".
	foldRE = regexp.MustCompile(`➕ ([0-9,]+) more records? in ([0-9,]+) groups?`)
	// The header: "🔴 1,234 error records from …" or "🔴 ERROR in …".
	headerCountRE = regexp.MustCompile(`^\S+ ([0-9,]+) (?:\S+ )?records? from`)
)

func atoiCommas(s string) int {
	n, _ := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	return n
}

type block struct {
	Type string `json:"type"`
	Text *struct {
		Text string `json:"text"`
	} `json:"text"`
	Elements []struct {
		Text string `json:"text"`
	} `json:"elements"`
}

// messageCount is what one message says about how many records it stands
// for: its entries (×N each, 1 without a count) plus its fold line, and,
// separately, the count in its header.
type messageCount struct {
	entries, folded, header int
	groups                  int // entries shown plus groups folded
}

func countMessage(m emuMessage) messageCount {
	var c messageCount
	var blocks []block
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		return c
	}
	for _, b := range blocks {
		switch b.Type {
		case "header":
			if b.Text == nil {
				continue
			}
			if mm := headerCountRE.FindStringSubmatch(b.Text.Text); mm != nil {
				c.header = atoiCommas(mm[1])
			} else {
				c.header = 1
			}
		case "section":
			if b.Text == nil || !strings.Contains(b.Text.Text, "```") {
				continue // a mention line, not an entry
			}
			title, _, _ := strings.Cut(b.Text.Text, "\n")
			c.groups++
			if mm := countRE.FindStringSubmatch(title); mm != nil {
				c.entries += atoiCommas(mm[1])
			} else {
				c.entries++
			}
		case "context":
			for _, el := range b.Elements {
				if mm := foldRE.FindStringSubmatch(el.Text); mm != nil {
					c.folded += atoiCommas(mm[1])
					c.groups += atoiCommas(mm[2])
				}
			}
		}
	}
	return c
}

// slackTally sums what top-level messages say; thread replies are samples
// of records their parent already counts.
type slackTally struct {
	messages, replies, updates int
	records, folded, header    int
	groups                     int
	first, last                time.Time
}

func tally(msgs []emuMessage) slackTally {
	var t slackTally
	for _, m := range msgs {
		if t.first.IsZero() || m.received().Before(t.first) {
			t.first = m.received()
		}
		if lc := m.lastChange(); lc.After(t.last) {
			t.last = lc
		}
		if m.reply() {
			t.replies++
			continue
		}
		t.messages++
		t.updates += m.Updates
		c := countMessage(m)
		t.records += c.entries + c.folded
		t.folded += c.folded
		t.header += c.header
		t.groups += c.groups
	}
	return t
}
