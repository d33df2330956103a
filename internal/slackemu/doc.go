// Package slackemu is a local stand-in for Slack, used by the exporter's tests,
// benchmarks and demo instead of the real service.
//
// It speaks both ways the exporter posts — chat.postMessage / chat.update with a
// bot token, and incoming webhooks — and enforces Slack's size and rate limits,
// so a message Slack would reject fails here too. It records what was posted and
// can be told to misbehave (errors, 429s, hangs, dropped connections) through the
// /_emu/ control endpoints or the Go API, and to treat a channel as missing,
// archived or without the bot (channel_not_found, is_archived, not_in_channel).
//
// In-process use from a test:
//
//	emu := slackemu.New(slackemu.Options{})
//	srv := httptest.NewServer(emu)
//	t.Cleanup(srv.Close)
//	t.Cleanup(emu.Close) // runs first: frees requests held by a "hang" fault
//	api := slack.New(slackemu.DefaultToken, slack.OptionAPIURL(srv.URL+"/api/"))
//
// cmd/slackemu serves the same handler on a loopback port for other processes.
//
// Slack endpoints: POST /api/chat.postMessage, /api/chat.update (both keep
// message metadata, which must be flat), /api/conversations.history
// (newest first, paged, metadata with include_all_metadata), /api/auth.test
// (form or JSON bodies) and POST /services/{a}/{b}/{secret} (recorded as
// destination "webhook/{a}/{b}"). Control endpoints:
//
//	GET    /_emu/health                       200 "ok"
//	GET    /_emu/messages[?channel=&format=text]  {"messages":[...]} or a readable rendering
//	POST   /_emu/reset                        forget messages, faults, stats, rate state
//	POST   /_emu/faults                       {"target","method","mode","status","error","body","retry_after","latency","count","for"}
//	GET    /_emu/faults                       {"faults":[...]} in force
//	DELETE /_emu/faults[?target=]             end all faults, or one
//	POST   /_emu/channels                     {"channel":"#x","state":"missing"|"archived"|"not_member"|"ok"}
//	GET    /_emu/channels                     {"channels":{"#x":"archived"}}: channels not ok
//	GET    /_emu/stats                        {"destinations":{dest:{requests,accepted,throttled,errors}},"totals":{...}}
//	GET    /_emu/calls                        {"calls":[{method,dest,thread_ts,at,status,error,retry_after,injected}]}
//
//	POST   /_emu/click                        a ClickSpec {"channel","ts","action_id","value","user_id","via",...} → its ClickResult
//	GET    /_emu/clicks                       {"clicks":[...]} sent since the last reset
//	GET    /_emu/sockets                      {"open":n}: Socket Mode connections taking envelopes
//	POST   /_emu/sockets/disconnect[?abrupt=true]  send each {"type":"disconnect"}, or drop them without a word
//
// Clicks on stored messages (Server.Click) travel as Slack's do: over Socket
// Mode (POST /api/apps.connections.open with the app-level token, then a
// WebSocket at /link/ that says hello, pings, and sends interactive envelopes
// the client acks) or as a signed form post to Options.ActionsURL, which can
// also be made stale, replayed, wrongly signed or oversized.
//
// Each message carries its history: every version Slack showed, in the
// order posts and updates were applied.
//
// GET / is the inbox page (inbox.go): each channel's messages as Slack lays
// them out, live, for people (make demo) and for the browser tests
// (e2e/browser). It reads GET /_emu/inbox/data when the server-sent events
// of GET /_emu/inbox/events say something changed.
package slackemu
