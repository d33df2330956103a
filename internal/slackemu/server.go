package slackemu

import (
	"context"
	"io"
	"log"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultToken is the bot token the Web API accepts unless Options.Token says otherwise.
const DefaultToken = "xoxb-emulator-token"

// Options configure a Server. The zero value is an instant, unthrottled
// emulator that accepts DefaultToken.
type Options struct {
	// Token is the bot token the Web API accepts ("" = DefaultToken).
	Token string
	// Latency delays the answer to every Slack call, so a demo can show that
	// the application never waits on Slack.
	Latency time.Duration
	// Rate is the messages per second allowed per channel or webhook
	// (0 = unlimited), after a burst of Burst (0 = 3). Beyond it the answer is
	// HTTP 429 with Retry-After: RetryAfter seconds (0 = 1).
	Rate       float64
	Burst      int
	RetryAfter int
	// Log receives one line per request (nil = none). Lines never contain the
	// token or a webhook's secret path segment.
	Log io.Writer

	// AppToken is the app-level token apps.connections.open accepts, for
	// Socket Mode ("" = DefaultAppToken).
	AppToken string
	// SigningSecret signs the clicks posted to ActionsURL ("" =
	// DefaultSigningSecret).
	SigningSecret string
	// ActionsURL is the request URL clicks are posted to when they do not
	// go over Socket Mode (e.g. http://127.0.0.1:3000/slack/actions).
	ActionsURL string
	// PingInterval is how often Socket Mode connections are pinged (0 = 10 s;
	// slack-go reconnects after 30 s without a ping).
	PingInterval time.Duration
}

// Server is the emulator: an http.Handler plus the state tests inspect.
type Server struct {
	opts      Options
	mux       *http.ServeMux
	logger    *log.Logger
	closed    chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	channels map[string]string // channel id → "#name"
	msgs     []Message
	seq      int
	versions int    // versions applied, across messages
	calls    []Call // every Slack call, in arrival order
	lastTS   int64  // microseconds of the last ts handed out, so ts never repeats
	faults   map[string]*activeFault
	spent    []*activeFault // count used up, but requests they hold still wait
	stats    map[string]*DestStats
	buckets  map[string]*bucket

	// channelStates: channels that are missing, archived or without the
	// bot (SetChannel); absent means ChannelOK.
	channelStates map[string]ChannelState

	clicks []ClickResult // every click sent, in order

	sock sockets   // Socket Mode connections; own lock
	host hostOfURL // where clients reach this emulator, for response_url
}

// New returns a ready emulator.
func New(opts Options) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Burst <= 0 {
		opts.Burst = 3
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 1
	}
	if opts.AppToken == "" {
		opts.AppToken = DefaultAppToken
	}
	if opts.SigningSecret == "" {
		opts.SigningSecret = DefaultSigningSecret
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = defaultPingInterval
	}
	out := opts.Log
	if out == nil {
		out = io.Discard
	}
	s := &Server{
		opts:     opts,
		logger:   log.New(out, "slackemu: ", log.Ltime|log.Lmicroseconds),
		closed:   make(chan struct{}),
		channels: map[string]string{},
		sock:     sockets{tickets: map[string]bool{}, all: map[*socketConn]bool{}},
	}
	s.resetLocked()
	s.routes()
	return s
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/chat.postMessage", s.handleAPI(kindPost, s.postMessage))
	m.HandleFunc("POST /api/chat.update", s.handleAPI(kindUpdate, s.updateMessage))
	m.HandleFunc("POST /api/auth.test", s.handleAPI(kindAuthTest, s.authTest))
	m.HandleFunc("POST /api/conversations.history", s.handleAPI(kindHistory, s.conversationsHistory))
	m.HandleFunc("POST /api/conversations.list", s.handleAPI(kindList, s.conversationsList))
	m.HandleFunc("POST /api/apps.connections.open", s.handleConnectionsOpen)
	m.HandleFunc("POST /api/{method}", s.unknownMethod)
	m.HandleFunc("GET /link/", s.handleSocket)
	m.HandleFunc("POST /actions/{team}/{id}/{secret}", s.handleResponseURL)
	m.HandleFunc("POST /services/{a}/{b}/{c}", s.handleWebhook)
	s.controlRoutes(m)
	s.inboxRoutes(m)
	s.mux = m
}

// Options are the options the emulator runs with, defaults filled in.
func (s *Server) Options() Options { return s.opts }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close answers every request still waiting (latency, "slow", "hang") with 503
// and makes later waits end at once, so an http.Server can shut down promptly.
// It also closes every Socket Mode connection: an http.Server does not
// track them.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.closeSockets()
	})
}

// Reset forgets messages, clicks, faults, channel states, statistics and rate-limit state. Channel ids
// are derived from names, and ts keep increasing, so neither is reset.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearFaultsLocked()
	s.resetLocked()
}

func (s *Server) resetLocked() {
	s.msgs = nil
	s.seq = 0
	s.calls = nil
	s.clicks = nil
	s.faults = map[string]*activeFault{}
	s.spent = nil
	s.stats = map[string]*DestStats{}
	s.buckets = map[string]*bucket{}
	s.channelStates = map[string]ChannelState{}
}

// serveSlack takes every Slack call through the same steps: count it, wait the
// configured latency, apply an injected fault, then run the method itself.
// Parsing happened before, so the whole body is read and r.Context() notices a
// client that gives up while we wait.
func (s *Server) serveSlack(w http.ResponseWriter, r *http.Request, c *call, method func(*call) reply) {
	s.resolve(c)
	s.countRequest(c)
	switch s.wait(r.Context(), s.opts.Latency, nil) {
	case clientGone:
		s.abandon(c, "client_gone")
		return
	case shuttingDown:
		s.send(w, c, c.status(http.StatusServiceUnavailable, ""))
		return
	}
	f := s.takeFault(c)
	if f != nil && s.applyFault(w, r, c, f) {
		return
	}
	var rep reply
	if c.bad != nil {
		rep = *c.bad
	} else {
		rep = method(c)
	}
	if f != nil && f.Mode == FaultLate {
		// Slack has acted; its answer is late, perhaps later than the
		// client waits.
		if s.wait(r.Context(), f.Latency, nil) == clientGone {
			s.abandon(c, "client_gone after "+rep.summary())
			return
		}
	}
	s.send(w, c, rep)
}

type waitResult int

const (
	waited waitResult = iota
	clientGone
	shuttingDown
)

// wait sleeps for d, or until release is closed when d is 0, giving up early
// if the client leaves or the emulator closes.
func (s *Server) wait(ctx context.Context, d time.Duration, release <-chan struct{}) waitResult {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	} else if release == nil {
		return waited
	}
	select {
	case <-timeout:
		return waited
	case <-release:
		return waited
	case <-ctx.Done():
		return clientGone
	case <-s.closed:
		return shuttingDown
	}
}

// send writes a reply, counts it and logs it: the one place all three happen.
func (s *Server) send(w http.ResponseWriter, c *call, rep reply) {
	s.countOutcome(c, rep.status, rep.errCode, rep.retryAfter)
	if rep.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(rep.retryAfter))
	}
	w.Header().Set("Content-Type", rep.contentType)
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
	s.logCall(c, rep.status, rep.summary())
}

// abandon records a call that got no answer (client left, connection dropped).
func (s *Server) abandon(c *call, why string) {
	s.countOutcome(c, 0, why, 0)
	s.logCall(c, 0, why)
}

// logCall writes the one line per Slack call. It names the destination, never
// the channel as typed nor the request URL, which for a webhook holds its secret.
func (s *Server) logCall(c *call, status int, result string) {
	dest := c.dest
	if dest == "" {
		dest = "-"
	}
	code := "---"
	if status != 0 {
		code = strconv.Itoa(status)
	}
	s.logger.Printf("POST %s %s -> %s %s", c.method, dest, code, result)
}
