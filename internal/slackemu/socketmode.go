package slackemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// DefaultAppToken is the app-level token apps.connections.open accepts
// unless Options.AppToken says otherwise.
const DefaultAppToken = "xapp-emulator-token"

const (
	appID = "A0EMULATOR"
	// defaultPingInterval: slack-go reconnects after 30 s without a ping.
	defaultPingInterval = 10 * time.Second
	// ackWait is how long Slack waits for an envelope's ack.
	ackWait = 3 * time.Second
	// disconnectGrace: after a disconnect message the client should close
	// the connection itself; if it does not, the emulator does.
	disconnectGrace = 10 * time.Second
)

// errNoSocket: a click was to go over Socket Mode and no connection is open.
var errNoSocket = errors.New("no Socket Mode connection is open")

// sockets are the open Socket Mode connections and the tickets
// apps.connections.open has handed out.
type sockets struct {
	mu      sync.Mutex
	tickets map[string]bool
	open    []*socketConn // in connection order; draining ones removed
	next    int           // round robin over open
	all     map[*socketConn]bool
	closed  bool
}

// socketConn is one Socket Mode WebSocket connection.
type socketConn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex // gorilla allows one writer at a time
	done    chan struct{}
	once    sync.Once

	mu   sync.Mutex
	acks map[string]chan struct{} // envelope id → closed when acked
}

func newTicket() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// connectionsOpen answers apps.connections.open with a one-use WebSocket URL
// on the host the request came to.
func (s *Server) connectionsOpen(c *call, host string) reply {
	switch c.token {
	case "":
		return c.errorReply("not_authed")
	case s.opts.AppToken:
	default:
		return c.errorReply("invalid_auth")
	}
	ticket := newTicket()
	s.sock.mu.Lock()
	s.sock.tickets[ticket] = true
	s.sock.mu.Unlock()
	return apiOK(map[string]any{"url": "ws://" + host + "/link/?ticket=" + ticket + "&app_id=" + appID})
}

func (s *Server) handleConnectionsOpen(w http.ResponseWriter, r *http.Request) {
	s.noteHost(r.Host)
	c := &call{method: "apps.connections.open", params: map[string]string{}, requestID: r.Header.Get("X-Request-Id")}
	if tok, ok := cutBearer(r.Header.Get("Authorization")); ok {
		c.token = tok
	}
	s.serveSlack(w, r, c, func(c *call) reply { return s.connectionsOpen(c, r.Host) })
}

var upgrader = websocket.Upgrader{
	// slack-go sends Origin: https://api.slack.com, which is not this host.
	CheckOrigin: func(*http.Request) bool { return true },
}

// handleSocket upgrades a connection that brings a ticket, says hello and
// pings until either side closes.
func (s *Server) handleSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.sock.mu.Lock()
	valid := s.sock.tickets[ticket] && !s.sock.closed
	delete(s.sock.tickets, ticket)
	s.sock.mu.Unlock()
	if !valid {
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		s.logger.Printf("GET /link -> 401 invalid ticket")
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	sc := &socketConn{ws: ws, done: make(chan struct{}), acks: map[string]chan struct{}{}}
	if !s.addSocket(sc) {
		sc.close()
		return
	}
	s.logger.Printf("socket mode: connection opened")
	hello := map[string]any{
		"type": "hello", "num_connections": s.SocketCount(),
		"debug_info":      map[string]any{"host": "emulator", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": appID},
	}
	if sc.writeJSON(hello) != nil {
		s.removeSocket(sc)
		return
	}
	go s.ping(sc)
	s.readAcks(sc) // until the connection ends
	s.removeSocket(sc)
	s.logger.Printf("socket mode: connection closed")
}

func (s *Server) addSocket(sc *socketConn) bool {
	s.sock.mu.Lock()
	defer s.sock.mu.Unlock()
	if s.sock.closed {
		return false
	}
	s.sock.open = append(s.sock.open, sc)
	s.sock.all[sc] = true
	return true
}

// removeSocket forgets a connection and closes it.
func (s *Server) removeSocket(sc *socketConn) {
	s.sock.mu.Lock()
	s.sock.open = deleteConn(s.sock.open, sc)
	delete(s.sock.all, sc)
	s.sock.mu.Unlock()
	sc.close()
}

func deleteConn(conns []*socketConn, sc *socketConn) []*socketConn {
	out := conns[:0]
	for _, c := range conns {
		if c != sc {
			out = append(out, c)
		}
	}
	return out
}

// readAcks reads what the client sends: acks ({"envelope_id": …}).
func (s *Server) readAcks(sc *socketConn) {
	for {
		_, msg, err := sc.ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if json.Unmarshal(msg, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		sc.mu.Lock()
		if ch, ok := sc.acks[ack.EnvelopeID]; ok {
			close(ch)
			delete(sc.acks, ack.EnvelopeID)
		}
		sc.mu.Unlock()
	}
}

// ping sends WebSocket pings, as Slack does; a client that hears none
// reconnects.
func (s *Server) ping(sc *socketConn) {
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-sc.done:
			return
		case <-t.C:
			if sc.ws.WriteControl(websocket.PingMessage, []byte("emulator"), time.Now().Add(ackWait)) != nil {
				sc.close()
				return
			}
		}
	}
}

func (sc *socketConn) writeJSON(v any) error {
	sc.writeMu.Lock()
	defer sc.writeMu.Unlock()
	_ = sc.ws.SetWriteDeadline(time.Now().Add(ackWait))
	return sc.ws.WriteJSON(v)
}

// close ends the connection without a close frame, as a dropped network
// connection would; the reader then returns.
func (sc *socketConn) close() {
	sc.once.Do(func() {
		close(sc.done)
		_ = sc.ws.Close()
	})
}

// SocketCount is the number of open Socket Mode connections, less those
// told to disconnect.
func (s *Server) SocketCount() int {
	s.sock.mu.Lock()
	defer s.sock.mu.Unlock()
	return len(s.sock.open)
}

// DisconnectSockets sends every open connection {"type":"disconnect",
// "reason":"refresh_requested"}, as Slack does before it recycles one. No
// envelope goes to them afterwards; each is closed when its client closes
// it or after 10 s. It returns how many were told.
func (s *Server) DisconnectSockets() int {
	s.sock.mu.Lock()
	told := s.sock.open
	s.sock.open = nil
	s.sock.mu.Unlock()
	msg := map[string]any{"type": "disconnect", "reason": "refresh_requested", "debug_info": map[string]any{"host": "emulator"}}
	for _, sc := range told {
		if sc.writeJSON(msg) != nil {
			sc.close()
			continue
		}
		time.AfterFunc(disconnectGrace, sc.close)
	}
	return len(told)
}

// DropSockets closes every Socket Mode connection at once, without a
// disconnect message or a close frame, as a network failure would. It
// returns how many it closed.
func (s *Server) DropSockets() int {
	s.sock.mu.Lock()
	all := make([]*socketConn, 0, len(s.sock.all))
	for sc := range s.sock.all {
		all = append(all, sc)
	}
	s.sock.open = nil
	s.sock.mu.Unlock()
	for _, sc := range all {
		sc.close()
	}
	return len(all)
}

// pickSocket takes the open connections in turn.
func (s *Server) pickSocket() *socketConn {
	s.sock.mu.Lock()
	defer s.sock.mu.Unlock()
	if len(s.sock.open) == 0 {
		return nil
	}
	sc := s.sock.open[s.sock.next%len(s.sock.open)]
	s.sock.next++
	return sc
}

// SendEnvelope sends an envelope of any type ("interactive",
// "events_api", "slash_commands") with payload to one open Socket Mode
// connection, in turn, and waits up to 3 s for its ack. It returns the
// envelope id and whether it was acked; an error if no connection is open
// or the write failed. Click uses it; tests use it for what is not a click.
func (s *Server) SendEnvelope(ctx context.Context, envelopeType string, payload json.RawMessage) (string, bool, error) {
	sc := s.pickSocket()
	if sc == nil {
		return "", false, errNoSocket
	}
	id := newTicket()
	acked := make(chan struct{})
	sc.mu.Lock()
	sc.acks[id] = acked
	sc.mu.Unlock()
	defer func() {
		sc.mu.Lock()
		delete(sc.acks, id)
		sc.mu.Unlock()
	}()
	env := map[string]any{"envelope_id": id, "type": envelopeType, "accepts_response_payload": false, "payload": payload}
	if err := sc.writeJSON(env); err != nil {
		sc.close()
		return id, false, err
	}
	t := time.NewTimer(ackWait)
	defer t.Stop()
	select {
	case <-acked:
		return id, true, nil
	case <-t.C:
	case <-sc.done:
	case <-ctx.Done():
	}
	return id, false, nil
}

// closeSockets refuses new connections and closes the open ones: an
// http.Server does not track hijacked connections.
func (s *Server) closeSockets() {
	s.sock.mu.Lock()
	s.sock.closed = true
	s.sock.mu.Unlock()
	s.DropSockets()
}
