package slackemu

import (
	"embed"
	"encoding/json"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// The inbox: a page at the emulator's root that shows each channel's messages
// as Slack lays them out, live. The page (inbox/) is static; it reads
// GET /_emu/inbox/data (every message, blocks already parsed into nodes, see
// inbox_mrkdwn.go) whenever GET /_emu/inbox/events, a server-sent event
// stream, says something changed.

//go:embed inbox
var inboxFiles embed.FS

// inboxCSP allows the page's own script, style and requests and nothing
// else: no inline script, nothing from another host.
const inboxCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// inboxCheckEvery is how often the event stream looks for a change: the store
// has no change hook, and reading two counters under the lock costs nothing.
const inboxCheckEvery = 100 * time.Millisecond

func (s *Server) inboxRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { serveInboxFile(w, r, "index.html") })
	m.HandleFunc("GET /_emu/inbox/{file}", func(w http.ResponseWriter, r *http.Request) {
		serveInboxFile(w, r, r.PathValue("file"))
	})
	// Not logged, like health: the page reads them on every change.
	m.HandleFunc("GET /_emu/inbox/data", func(w http.ResponseWriter, _ *http.Request) {
		inboxHeaders(w)
		jsonOut(w, http.StatusOK, s.inboxData())
	})
	m.HandleFunc("GET /_emu/inbox/events", s.inboxEvents)
}

// inboxTypes are the page's files by extension; nothing else is served.
var inboxTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// serveInboxFile writes one embedded file whole: no directory listing, no
// ranges (http.ServeFileFS would parse Range headers for a few small files).
func serveInboxFile(w http.ResponseWriter, r *http.Request, name string) {
	b, err := inboxFiles.ReadFile("inbox/" + name)
	typ := inboxTypes[path.Ext(name)]
	if err != nil || typ == "" {
		http.NotFound(w, r)
		return
	}
	inboxHeaders(w)
	w.Header().Set("Content-Type", typ)
	_, _ = w.Write(b)
}

func inboxHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", inboxCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// inboxToken changes whenever a message is posted or updated, or the
// messages are reset.
func (s *Server) inboxToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.Itoa(s.versions) + "-" + strconv.Itoa(len(s.msgs))
}

// inboxEvents sends "change" (with the token) at once and after every change,
// until the page leaves or the emulator closes.
func (s *Server) inboxEvents(w http.ResponseWriter, r *http.Request) {
	inboxHeaders(w)
	w.Header().Set("Content-Type", "text/event-stream")
	rc := http.NewResponseController(w)
	tick := time.NewTicker(inboxCheckEvery)
	defer tick.Stop()
	last, idle := "", 0
	for {
		var event string
		if tok := s.inboxToken(); tok != last {
			last, idle, event = tok, 0, "event: change\ndata: "+tok+"\n\n"
		} else if idle >= 150 { // a comment every 15 s keeps proxies from closing the stream
			idle, event = 0, ": idle\n\n"
		}
		if event != "" {
			if _, err := w.Write([]byte(event)); err != nil || rc.Flush() != nil {
				return
			}
		}
		select {
		case <-tick.C:
			idle++
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		}
	}
}

// inboxMessage is one message as the page shows it.
type inboxMessage struct {
	Seq       int    `json:"seq"`
	Channel   string `json:"channel"`    // "#alerts" or "webhook/T/B"
	ChannelID string `json:"channel_id"` // "" for webhooks
	TS        string `json:"ts"`
	ThreadTS  string `json:"thread_ts,omitempty"`
	Via       string `json:"via"`
	Time      string `json:"time"` // local "15:04:05"
	Updates   int    `json:"updates"`
	Replies   int    `json:"replies"`
	// Body is the blocks, or the text for a message without blocks.
	Body     []node     `json:"body"`
	Metadata *inboxMeta `json:"metadata,omitempty"`
}

type inboxMeta struct {
	EventType string `json:"event_type"`
	Payload   string `json:"payload"` // indented JSON
}

type inboxChannel struct {
	Name     string `json:"name"`
	ID       string `json:"id,omitempty"`
	Messages int    `json:"messages"` // top-level ones
}

type inboxState struct {
	Token    string         `json:"token"`
	Channels []inboxChannel `json:"channels"` // in order of their first message
	Messages []inboxMessage `json:"messages"` // in arrival order
}

func (s *Server) inboxData() inboxState {
	token := s.inboxToken()
	msgs := s.Messages()
	st := inboxState{Token: token, Channels: []inboxChannel{}, Messages: make([]inboxMessage, 0, len(msgs))}
	channel := map[string]int{}
	replies := map[string]int{}
	for _, m := range msgs {
		if m.ThreadTS != "" {
			replies[m.Channel+" "+m.ThreadTS]++
		}
	}
	for _, m := range msgs {
		i, ok := channel[m.Channel]
		if !ok {
			i = len(st.Channels)
			channel[m.Channel] = i
			st.Channels = append(st.Channels, inboxChannel{Name: m.Channel, ID: m.ChannelID})
		}
		if m.ThreadTS == "" {
			st.Channels[i].Messages++
		}
		st.Messages = append(st.Messages, inboxMessage{
			Seq: m.Seq, Channel: m.Channel, ChannelID: m.ChannelID, TS: m.TS, ThreadTS: m.ThreadTS, Via: m.Via,
			Time: m.ReceivedAt.Local().Format(time.TimeOnly), Updates: m.Updates,
			Replies: replies[m.Channel+" "+m.TS], Body: renderBody(m.Text, m.Blocks), Metadata: inboxMetadata(m.Metadata),
		})
	}
	return st
}

// inboxMetadata reads {"event_type": …, "event_payload": {…}}; nil if absent.
func inboxMetadata(raw json.RawMessage) *inboxMeta {
	var md struct {
		EventType string          `json:"event_type"`
		Payload   json.RawMessage `json:"event_payload"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &md) != nil {
		return nil
	}
	var v any
	payload := string(md.Payload)
	if json.Unmarshal(md.Payload, &v) == nil {
		var sb strings.Builder
		enc := json.NewEncoder(&sb)
		enc.SetEscapeHTML(false) // shown as text: keep < as <
		enc.SetIndent("", "  ")
		if enc.Encode(v) == nil {
			payload = strings.TrimSuffix(sb.String(), "\n")
		}
	}
	return &inboxMeta{EventType: md.EventType, Payload: payload}
}
