package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// -app-token, -signing-secret and -actions-url reach the emulator: the app
// token opens Socket Mode, and a click is posted to the URL signed with
// the secret.
func TestRunClickFlags(t *testing.T) {
	signedOK := make(chan bool, 1)
	app := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte("flag-signing-secret"))
		mac.Write([]byte("v0:" + r.Header.Get("X-Slack-Request-Timestamp") + ":" + string(body)))
		signedOK <- r.Header.Get("X-Slack-Signature") == "v0="+hex.EncodeToString(mac.Sum(nil))
	}))
	defer app.Close()

	addrFile := filepath.Join(t.TempDir(), "addr")
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr-file", addrFile, "-app-token", "xapp-flag-token",
			"-signing-secret", "flag-signing-secret", "-actions-url", app.URL + "/slack/actions"}, &logs)
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
	base := "http://" + addr
	post := func(path, contentType, body string, header ...string) string {
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	if out := post("/api/apps.connections.open", "application/json", "", "Authorization", "Bearer xapp-flag-token"); !strings.Contains(out, `"ok":true`) {
		t.Errorf("apps.connections.open with -app-token: %s", out)
	}
	var posted struct {
		TS string `json:"ts"`
	}
	blocks := `[{"type":"actions","block_id":"b","elements":[{"type":"button","action_id":"ack","text":{"type":"plain_text","text":"Ack"},"value":"ack"}]}]`
	out := post("/api/chat.postMessage", "application/x-www-form-urlencoded",
		"token=xoxb-emulator-token&channel=%23alerts&text=hi&blocks="+blocks)
	if err := json.Unmarshal([]byte(out), &posted); err != nil || posted.TS == "" {
		t.Fatalf("post: %s", out)
	}
	out = post("/_emu/click", "application/json", `{"channel":"#alerts","ts":"`+posted.TS+`","action_id":"ack","value":"ack"}`)
	if !strings.Contains(out, `"via":"http"`) || !strings.Contains(out, `"status":200`) {
		t.Errorf("click: %s", out)
	}
	select {
	case ok := <-signedOK:
		if !ok {
			t.Error("the click is not signed with -signing-secret")
		}
	default:
		t.Error("the click did not reach -actions-url")
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if l := logs.String(); strings.Contains(l, "flag-token") || strings.Contains(l, "flag-signing-secret") {
		t.Errorf("log shows a secret:\n%s", l)
	}
}

func TestRunRejectsBadClickFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-app-token", ""},
		{"-signing-secret", ""},
		{"-actions-url", "http://example.com/slack/actions"},
		{"-actions-url", "http://10.0.0.1:3000/slack/actions"},
		{"-actions-url", "ftp://127.0.0.1/x"},
		{"-actions-url", "127.0.0.1:3000"},
		{"-actions-url", "http://%zz"},
	} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	for _, ok := range []string{"http://127.0.0.1:3000/slack/actions", "http://localhost:3000/a", "https://[::1]:3000/a"} {
		if err := checkActionsURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
