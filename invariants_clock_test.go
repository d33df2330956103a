package slackexporter

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
)

// clientClock is an HTTP client middleware extension (configured through
// confighttp's middlewares, as a collector would) that stamps every call to
// Slack with an X-Request-Id and notes when it left and when its answer
// came back. TestDeliveryInvariants checks pacing and Retry-After on these
// times, where the exporter decides, rather than on arrival at the
// emulator, which network and scheduling jitter blur.
type clientClock struct {
	component.StartFunc
	component.ShutdownFunc

	mu       sync.Mutex
	next     int
	sent     map[string]time.Time
	answered map[string]time.Time
}

func newClientClock() *clientClock {
	return &clientClock{sent: map[string]time.Time{}, answered: map[string]time.Time{}}
}

var _ extensionmiddleware.HTTPClient = (*clientClock)(nil)

func (c *clientClock) GetHTTPRoundTripper(context.Context) (extensionmiddleware.WrapHTTPRoundTripperFunc, error) {
	return func(_ context.Context, base http.RoundTripper) (http.RoundTripper, error) {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			c.mu.Lock()
			c.next++
			id := strconv.Itoa(c.next)
			c.sent[id] = time.Now()
			c.mu.Unlock()
			r = r.Clone(r.Context())
			r.Header.Set("X-Request-Id", id)
			resp, err := base.RoundTrip(r)
			c.mu.Lock()
			c.answered[id] = time.Now()
			c.mu.Unlock()
			return resp, err
		}), nil
	}, nil
}

// times returns when call id left the exporter and when its answer came
// back (zero if it never did).
func (c *clientClock) times(id string) (sent, answered time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent[id], c.answered[id]
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
