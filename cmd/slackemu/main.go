// Command slackemu serves the local Slack emulator (internal/slackemu) on a
// loopback port, for the demo and for tests that run in other processes.
//
//	slackemu -addr-file /tmp/slackemu.addr -rate 1 -latency 300ms
//
// Point the exporter at http://ADDR/api/ (bot token) or
// http://ADDR/services/T/B/X (webhook); read what arrived at
// http://ADDR/_emu/messages?format=text. Clicks (POST /_emu/click) go over
// Socket Mode to a client connected with -app-token, or signed with
// -signing-secret to -actions-url.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/slackexporter/slackexporter/internal/slackemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "slackemu:", err)
		}
		os.Exit(2)
	}
}

// run serves until ctx ends, then shuts down cleanly.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("slackemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback `host:port` to listen on (port 0 picks a free one)")
	addrFile := fs.String("addr-file", "", "write the actual host:port to this `file` once listening (atomically)")
	var opts slackemu.Options
	fs.StringVar(&opts.Token, "token", slackemu.DefaultToken, "bot `token` the Web API accepts")
	fs.DurationVar(&opts.Latency, "latency", 0, "delay before answering every Slack call")
	fs.Float64Var(&opts.Rate, "rate", 0, "messages per second per channel or webhook (0 = unlimited)")
	fs.IntVar(&opts.Burst, "burst", 3, "messages allowed at once before -rate applies")
	fs.IntVar(&opts.RetryAfter, "retry-after", 1, "`seconds` sent in Retry-After when over the rate")
	fs.StringVar(&opts.AppToken, "app-token", slackemu.DefaultAppToken, "app-level `token` (xapp-…) apps.connections.open accepts, for Socket Mode")
	fs.StringVar(&opts.SigningSecret, "signing-secret", slackemu.DefaultSigningSecret, "`secret` that signs clicks posted to -actions-url")
	fs.StringVar(&opts.ActionsURL, "actions-url", "", "request `URL` clicks are posted to when no Socket Mode connection is open (loopback only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if opts.Rate < 0 || opts.Burst < 1 || opts.RetryAfter < 1 || opts.Latency < 0 || opts.Token == "" {
		return errors.New("need -rate >= 0, -burst >= 1, -retry-after >= 1, -latency >= 0 and a -token")
	}
	if opts.AppToken == "" || opts.SigningSecret == "" {
		return errors.New("need an -app-token and a -signing-secret")
	}
	if err := checkLoopback(*addr); err != nil {
		return err
	}
	if err := checkActionsURL(opts.ActionsURL); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	opts.Log = stderr
	emu := slackemu.New(opts)
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	actual := ln.Addr().String()
	if *addrFile != "" {
		if err := writeAtomically(*addrFile, actual+"\n"); err != nil {
			_ = srv.Close()
			return err
		}
		defer os.Remove(*addrFile) // a stale address would send scripts to a dead port
	}
	fmt.Fprintf(stderr, "slackemu: listening on http://%s — inbox page /, Web API /api/, webhooks /services/T/B/X, control /_emu/\n", actual)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	emu.Close() // answer held requests first, or Shutdown would wait on them
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "slackemu: stopped")
	return nil
}

// checkLoopback refuses any address other hosts could reach: the emulator is
// for this machine only.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: listen on a loopback address such as 127.0.0.1", addr)
	}
	return nil
}

// checkActionsURL refuses a request URL on another host: clicks go to a
// collector on this machine.
func checkActionsURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-actions-url %q: want an http:// URL", raw)
	}
	if u.Hostname() == "localhost" {
		return nil
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-actions-url %q: use a loopback address such as 127.0.0.1", raw)
	}
	return nil
}

// writeAtomically writes via a temporary file and a rename, so a script that
// polls for the file never reads it half-written.
func writeAtomically(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".slackemu-addr-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
