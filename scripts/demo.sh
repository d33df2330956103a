#!/usr/bin/env bash
# The demo behind `make demo` (run from the repository root, after `make build`).
#
# An example service logs through log/slog → OTel SDK → OTLP → otelcol-slack →
# a local Slack emulator that answers every call after 2 s. The demo prints
# what Slack received, how long the service's log calls took (microseconds:
# they never wait on Slack), and the exporter's own counters. Midway, someone
# "in Slack" mutes one error for an hour from its message's menu: its repeats
# are then counted as muted, not shown. The emulator's
# inbox page (its root URL, printed first) shows the same messages as Slack
# lays them out, live.
#
# Everything runs on 127.0.0.1. Settings (environment):
#   OTLP_GRPC_PORT, OTLP_HTTP_PORT, METRICS_PORT  collector ports (4317, 4318, 8888)
#   DEMO_NOISE      INFO/DEBUG records per noise burst in the app (200)
#   DEMO_LATENCY    the emulator's answer delay (2s)
#   DEMO_RATE       messages/s per channel the emulator accepts before answering 429 (1, like Slack)
#   DEMO_TIMEOUT    seconds to wait for Slack to receive everything (90)
#   DEMO_KEEP=1     keep the log directory even on success
#   DEMO_WAIT       1: after the report, keep the emulator and the collector running (the inbox page stays
#                   up) until Enter is pressed; 0: stop at once. Unset: 1 when stdin is a terminal, else 0,
#                   so that a script, a pipe or CI never hangs.
set -euo pipefail

BIN=${BIN:-bin}
OTLP_GRPC_PORT=${OTLP_GRPC_PORT:-4317}
OTLP_HTTP_PORT=${OTLP_HTTP_PORT:-4318}
METRICS_PORT=${METRICS_PORT:-8888}
DEMO_NOISE=${DEMO_NOISE:-200}
DEMO_LATENCY=${DEMO_LATENCY:-2s}
DEMO_RATE=${DEMO_RATE:-1}
DEMO_TIMEOUT=${DEMO_TIMEOUT:-90}
EMU_TOKEN=xoxb-emulator-token
EMU_APP_TOKEN=xapp-emulator-token
QUIET_SECONDS=6 # delivery is done once Slack's view has not changed for this long
if [[ -z ${DEMO_WAIT:-} ]]; then
  if [[ -t 0 ]]; then DEMO_WAIT=1; else DEMO_WAIT=0; fi
fi

say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[[ $DEMO_WAIT == 0 || $DEMO_WAIT == 1 ]] || die "DEMO_WAIT must be 0 or 1, not '$DEMO_WAIT'"
for b in otelcol-slack slackemu slogapp; do
  [[ -x $BIN/$b ]] || die "$BIN/$b is missing: run 'make build' first"
done
command -v curl >/dev/null || die "curl is required"

alive() { kill -0 "$1" 2>/dev/null; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for v in OTLP_GRPC_PORT OTLP_HTTP_PORT METRICS_PORT; do
  if port_in_use "${!v}"; then
    die "127.0.0.1:${!v} is already in use: choose another port with $v=…"
  fi
done

LOGS=$(mktemp -d "${TMPDIR:-/tmp}/slack-demo.XXXXXX")
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT
  local pid i
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do # a clean shutdown gets 10 s, then SIGKILL
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((rc != 0)); then
    if [[ -s $LOGS/otelcol.log ]]; then
      printf '\n--- collector log (last 40 lines) ---\n' >&2
      tail -n 40 "$LOGS/otelcol.log" >&2
    fi
    printf '\ndemo failed; logs kept in %s\n' "$LOGS" >&2
  elif [[ ${DEMO_KEEP:-} == 1 ]]; then
    say "logs kept in $LOGS"
  else
    rm -rf "$LOGS"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS DESCRIPTION COMMAND…: poll COMMAND every 0.2 s.
wait_for() {
  local secs=$1 what=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out after ${secs}s waiting for $what"
    sleep 0.2
  done
}

# 1. The Slack emulator, answering slowly and enforcing Slack's rate, on a port of its choosing.
"$BIN/slackemu" -addr 127.0.0.1:0 -addr-file "$LOGS/emu.addr" -token "$EMU_TOKEN" -app-token "$EMU_APP_TOKEN" \
  -latency "$DEMO_LATENCY" -rate "$DEMO_RATE" >"$LOGS/slackemu.log" 2>&1 &
EMU_PID=$!
PIDS+=("$EMU_PID")
emu_up() {
  alive "$EMU_PID" || die "slackemu exited: $(tail -n 5 "$LOGS/slackemu.log")"
  [[ -s $LOGS/emu.addr ]] && curl -fsS -o /dev/null "http://$(<"$LOGS/emu.addr")/_emu/health"
}
wait_for 10 "the Slack emulator" emu_up
EMU="http://$(<"$LOGS/emu.addr")"

# 2. The collector, with the slack exporter pointed at the emulator.
SLACK_BOT_TOKEN=$EMU_TOKEN SLACK_APP_TOKEN=$EMU_APP_TOKEN SLACK_API_URL="$EMU/api/" \
  OTLP_GRPC_PORT=$OTLP_GRPC_PORT OTLP_HTTP_PORT=$OTLP_HTTP_PORT METRICS_PORT=$METRICS_PORT \
  "$BIN/otelcol-slack" --config examples/demo.yaml >"$LOGS/otelcol.log" 2>&1 &
COL_PID=$!
PIDS+=("$COL_PID")
collector_up() {
  alive "$COL_PID" || die "the collector exited"
  grep -q 'Everything is ready' "$LOGS/otelcol.log" && port_in_use "$OTLP_HTTP_PORT"
}
wait_for 30 "the collector" collector_up
say "Slack emulator at $EMU (answers after $DEMO_LATENCY, $DEMO_RATE msg/s per channel); collector at 127.0.0.1:$OTLP_HTTP_PORT"
say "Inbox page (the messages as Slack shows them, live): $EMU/"
say ""

# 3. Two services log their scripted scenario.
say "== checkout (env dev) logs:"
"$BIN/slogapp" -endpoint "127.0.0.1:$OTLP_HTTP_PORT" -service checkout -env dev -n "$DEMO_NOISE" \
  | tee "$LOGS/slogapp-checkout.txt" | { grep -v '^slogapp\[' || true; }
say "== payments (env prod) logs the same scenario (it is routed to #prod-alerts)"
"$BIN/slogapp" -endpoint "127.0.0.1:$OTLP_HTTP_PORT" -service payments -env prod -n "$DEMO_NOISE" -quiet \
  >"$LOGS/slogapp-payments.txt"
# The first message is in Slack once the queue's batch (1 s) and Slack's
# answer are through; the same failures after that update its counters.
sleep "$(( ${DEMO_LATENCY%s} + 3 ))"
# Someone in #alerts mutes the first entry of the first message for an hour,
# from its menu: the emulator sends the click over Socket Mode, as Slack would.
first_ts() {
  curl -fsS -G --data-urlencode "channel=#alerts" "$EMU/_emu/messages" | grep -o '"ts":"[0-9.]*"' | head -n 1 | cut -d'"' -f4
}
has_first() { [[ -n $(first_ts) ]]; }
wait_for 30 "the first message in #alerts" has_first
click=$(curl -fsS -X POST "$EMU/_emu/click" -H 'Content-Type: application/json' \
  -d "{\"channel\":\"#alerts\",\"ts\":\"$(first_ts)\",\"action_id\":\"otel_entry\",\"value\":\"mute:1h0m0s\",\"user_id\":\"U0ONCALL\"}")
grep -q '"acked":true' <<<"$click" || die "the Mute click was not acknowledged: $click"
muted_entry=$(curl -fsS -G --data-urlencode "channel=#alerts" "$EMU/_emu/messages" | grep -o '"block_id":"otel-[^"]*-s"' | head -n 1)
say "== in Slack, U0ONCALL mutes the first entry of #alerts for 1h (Mute 1h in its menu; the click arrives over Socket Mode)"
say "== checkout logs the same failures again: no new message, the counters of the first one go up (chat.update), except the muted one's"
"$BIN/slogapp" -endpoint "127.0.0.1:$OTLP_HTTP_PORT" -service checkout -env dev -n "$DEMO_NOISE" -quiet \
  >"$LOGS/slogapp-checkout-again.txt"
say ""

# 4. Wait until Slack has everything: its view of the channels stops changing.
messages() { curl -fsS "$EMU/_emu/messages"; }
count_messages() { messages | grep -o '"received_at"' | wc -l; }
say "waiting for the exporter to deliver…"
deadline=$((SECONDS + DEMO_TIMEOUT))
last="" stable_since=$SECONDS
while :; do
  alive "$COL_PID" || die "the collector exited"
  now=$(messages | cksum)
  if [[ $now != "$last" ]]; then
    last=$now stable_since=$SECONDS
  elif (($(count_messages) > 0 && SECONDS - stable_since >= QUIET_SECONDS)); then
    break
  fi
  if ((SECONDS >= deadline)); then
    (($(count_messages) > 0)) || die "no message reached Slack within ${DEMO_TIMEOUT}s"
    die "Slack was still receiving messages after ${DEMO_TIMEOUT}s"
  fi
  sleep 0.5
done
for ch in '#alerts' '#prod-alerts'; do
  curl -fsS -G --data-urlencode "channel=$ch" "$EMU/_emu/messages" | grep -q '"seq"' \
    || die "no message reached $ch"
done

# The muted entry says so, and its repeats were counted, not shown.
curl -fsS -G --data-urlencode "channel=#alerts" "$EMU/_emu/messages" | grep -q 'muted by \\u003c@U0ONCALL\\u003e' \
  || die "the muted entry does not say who muted it"
[[ -n $muted_entry ]] || die "no entry with a menu in #alerts"

# 5. Report.
say ""
say "== What Slack received ($(count_messages) messages; long ones cut, DEMO_FULL=1 shows all):"
curl -fsS "$EMU/_emu/messages?format=text" | awk -v max="$([[ ${DEMO_FULL:-} == 1 ]] && echo 1000000 || echo 16)" '
  function flush() { if (n > max) printf "  … %d more lines\n", n - max }
  /^▸/ { flush(); if (NR > 1) print ""; n = 0; blank = 0; print; next }
  /^$/ { blank++; next }   # held: a blank line may only separate two messages
  { for (; blank > 0; blank--) if (++n <= max) print ""
    if (++n <= max) print }
  END { flush() }'
# Log text is untrusted: a mention in it must reach Slack escaped, never as a ping.
# (The rendering above shows text as people read it; this checks what was posted.
# In the emulator's JSON, < is \u003c and & is \u0026.)
raw=$(messages)
if grep -qF -e '<!channel' -e '\u003c!channel' -e '<@U123' -e '\u003c@U123' <<<"$raw"; then
  die "a mention from log text reached Slack unescaped"
fi
grep -qF '\u0026lt;!channel\u0026gt;' <<<"$raw" || die "the <!channel> record did not reach Slack"
say ""
say "mentions in log text were posted escaped (&lt;!channel&gt;, &lt;@U123&gt;): shown, nobody pinged"
stats=$(curl -fsS "$EMU/_emu/stats" | grep -o '"totals":{[^}]*' || true)
total() { sed -nE "s/.*\"$1\":([0-9]+).*/\1/p" <<<"$stats"; }
say "Slack emulator: $(total requests) calls, $(total accepted) accepted, $(total throttled) answered 429"
say ""
say "== The apps' log calls (each one only enqueues; the SDK ships batches in the background):"
grep -h '^slogapp\[' "$LOGS/slogapp-checkout.txt" "$LOGS/slogapp-payments.txt" "$LOGS/slogapp-checkout-again.txt" | sed 's/^/  /'
say ""
say "== Collector counters (http://127.0.0.1:$METRICS_PORT/metrics):"
curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" >"$LOGS/metrics.txt"
grep -E '^otelcol_(receiver_accepted_log_records|exporter_slack_[a-z_]+|exporter_sent_log_records|exporter_send_failed_log_records)[{ ]' \
  "$LOGS/metrics.txt" \
  | sed -E 's/otel_scope_[a-z_]+="[^"]*",?//g; s/,?(exporter|receiver|transport)="[^"]*"//g; s/\{,?\}//; s/\{,/{/; s/,\}/}/' \
  | awk '{ printf "  %-60s %s\n", $1, $2 }'
if grep -qF "$EMU_TOKEN" "$LOGS/otelcol.log"; then
  die "the bot token appears in the collector's log"
fi
grep -qE '^otelcol_exporter_slack_records_muted(\{[^}]*\})? [1-9]' "$LOGS/metrics.txt" \
  || die "records_muted did not count the muted entry's repeats"
if grep -qF "$EMU_APP_TOKEN" "$LOGS/otelcol.log"; then
  die "the app token appears in the collector's log"
fi
say ""
say "the muted entry says '🔇 muted by @U0ONCALL until …'; its repeats are in records_muted, not in Slack"
say "demo: ok (neither the bot token nor the app token appeared in the collector's log)"
if [[ $DEMO_WAIT == 1 ]]; then
  say ""
  say "The inbox page is at $EMU/ — press Enter to stop the emulator and the collector."
  read -r _ || true
fi
