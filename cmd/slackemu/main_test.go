package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	addrFile := filepath.Join(t.TempDir(), "addr")
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr-file", addrFile, "-token", "xoxb-secret-token", "-rate", "0.001", "-burst", "1", "-retry-after", "4"}, &logs)
	}()

	var addr string
	deadline := time.Now().Add(5 * time.Second)
	for addr == "" {
		if b, err := os.ReadFile(addrFile); err == nil {
			addr = strings.TrimSpace(string(b))
		} else if time.Now().After(deadline) {
			t.Fatal("no address file")
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("address %q is not loopback", addr)
	}
	base := "http://" + addr

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/_emu/health"); code != 200 {
		t.Errorf("health: %d", code)
	}
	form := url.Values{"token": {"xoxb-secret-token"}, "channel": {"#alerts"}, "text": {"hello"}}
	for i, want := range []int{200, 429} { // the flags reach the server: burst 1, then throttled
		resp, err := http.PostForm(base+"/api/chat.postMessage", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || (want == 429 && resp.Header.Get("Retry-After") != "4") {
			t.Errorf("post %d: %d Retry-After %q", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	resp, err := http.Post(base+"/services/T1/B1/hook-secret", "application/json", strings.NewReader(`{"text":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, body := get("/_emu/messages?format=text"); !strings.Contains(body, "hello") || !strings.Contains(body, "webhook/T1/B1") {
		t.Errorf("messages: %s", body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no clean shutdown")
	}
	if _, err := os.Stat(addrFile); !os.IsNotExist(err) {
		t.Error("the address file outlived the server")
	}
	out := logs.String()
	if strings.Contains(out, "secret") {
		t.Errorf("log shows a secret:\n%s", out)
	}
	if !strings.Contains(out, "chat.postMessage #alerts -> 200") || !strings.Contains(out, "stopped") {
		t.Errorf("log:\n%s", out)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:0"},
		{"-addr", ":8080"},
		{"-addr", "example.com:80"},
		{"-rate", "-1"},
		{"-burst", "0"},
		{"-token", ""},
		{"extra"},
	} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
