package slackemu

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// newEmu starts an emulator on a loopback httptest server.
func newEmu(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	emu := New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	t.Cleanup(emu.Close) // runs first, so held requests do not block srv.Close
	return emu, srv.URL
}

func apiClient(base, token string) *slack.Client {
	return slack.New(token, slack.OptionAPIURL(base+"/api/"))
}

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, u, contentType, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// postForm posts form fields to a Web API method, the way slack-go does.
func postForm(t *testing.T, base, method string, fields url.Values) answer {
	t.Helper()
	return do(t, "POST", base+"/api/"+method, "application/x-www-form-urlencoded", fields.Encode())
}

func postHook(t *testing.T, base, path, body string) answer {
	t.Helper()
	return do(t, "POST", base+"/services/"+path, "application/json", body)
}

// eventually polls cond, for state the server reaches asynchronously.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a log sink safe to read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}
