#!/usr/bin/env bash
# Check an otelcol-slack image without running a container (this sandbox, like
# some CI runners, builds images but cannot run them): create a container,
# export its filesystem, and check the files, the image's user, entrypoint and
# command, then run the binary from that filesystem (inside it with chroot, as
# the image's user, where chroot is allowed) with --version and with validate
# on the image's own config; then start it there against bin/slackemu on
# loopback (the host's network, not a container's) and deliver one record.
#
#   scripts/verify-image.sh ENGINE IMAGE VERSION
#   scripts/verify-image.sh podman otelcol-slack:0.1.0 0.1.0
set -euo pipefail
engine=$1 image=$2 version=$3

root=$(mktemp -d)
chmod 0755 "$root" # the image's / as its user sees it
cid=""
cleanup() {
  if [ -n "$cid" ]; then "$engine" rm "$cid" >/dev/null 2>&1 || true; fi
  rm -rf "$root" "$root.tar"
}
trap cleanup EXIT

fail() { echo "verify-image: FAIL: $*" >&2; exit 1; }
ok() { echo "verify-image: ok: $*"; }

# The image's config, as the engine records it.
want_user="10001:10001"
want_entrypoint='["/otelcol-slack"]'
want_cmd='["--config=/etc/otelcol-slack/config.yaml"]'
user=$("$engine" image inspect --format '{{.Config.User}}' "$image")
entrypoint=$("$engine" image inspect --format '{{json .Config.Entrypoint}}' "$image")
cmd=$("$engine" image inspect --format '{{json .Config.Cmd}}' "$image")
[ "$user" = "$want_user" ] || fail "user is '$user', want $want_user"
[ "$entrypoint" = "$want_entrypoint" ] || fail "entrypoint is $entrypoint, want $want_entrypoint"
[ "$cmd" = "$want_cmd" ] || fail "cmd is $cmd, want $want_cmd"
ok "user $user, entrypoint $entrypoint, cmd $cmd"

# The filesystem, from a created (never started) container.
cid=$("$engine" create "$image")
"$engine" export "$cid" >"$root.tar"
listing=$(tar -tvf "$root.tar" --numeric-owner)
tar -xf "$root.tar" -C "$root"
rm -f "$root.tar"

entries=$(printf '%s\n' "$listing" | awk '{print $NF}' | sed 's|^\./||; s|/$||' | grep -v '^$' | sort)
echo "verify-image: the image holds:"
printf '%s\n' "$listing" | sed 's/^/    /'
for want in otelcol-slack etc/ssl/certs/ca-certificates.crt etc/passwd etc/group etc/otelcol-slack/config.yaml var/lib/otelcol-slack; do
  printf '%s\n' "$entries" | grep -qx "$want" || fail "/$want is missing"
done
# Nothing else than those files and their directories (plus what the engine
# itself adds for every container).
extra=$(printf '%s\n' "$entries" | grep -v -x -E 'otelcol-slack|etc|etc/ssl|etc/ssl/certs|etc/ssl/certs/ca-certificates.crt|etc/passwd|etc/group|etc/otelcol-slack|etc/otelcol-slack/config.yaml|var|var/lib|var/lib/otelcol-slack|dev|proc|sys|run|etc/hosts|etc/hostname|etc/resolv.conf|run/.containerenv|\.' || true)
[ -z "$extra" ] || fail "unexpected files in the image: $extra"
owner() { printf '%s\n' "$listing" | grep -E " (\./)?$1/?\$" | awk '{print $2}'; }
[ "$(owner var/lib/otelcol-slack)" = 10001/10001 ] || fail "/var/lib/otelcol-slack is owned by $(owner var/lib/otelcol-slack), want 10001/10001"
for d in etc var var/lib otelcol-slack; do
  [ "$(owner "$d")" = 0/0 ] || fail "/$d is owned by $(owner "$d"), want root"
done
certs=$(grep -c 'BEGIN CERTIFICATE' "$root/etc/ssl/certs/ca-certificates.crt" || true)
[ "$certs" -gt 50 ] || fail "the CA bundle holds $certs certificates"
grep -q '^otelcol:x:10001:10001:' "$root/etc/passwd" || fail "/etc/passwd has no otelcol user 10001"
ok "files: the binary, $certs CA certificates, passwd/group, the config, /var/lib/otelcol-slack owned by 10001"

# Run the binary from the image's filesystem: inside it (chroot, as the
# image's user, with an empty environment but the token) when allowed,
# else from the host with paths into the exported tree.
token=xoxb-verify-image-not-a-secret
chroot_bin=$(command -v chroot || true)
if [ -n "$chroot_bin" ] && "$chroot_bin" --userspec="$want_user" "$root" /otelcol-slack --version >/dev/null 2>&1; then
  how="chroot into the image's filesystem as $want_user"
  run() { env -i SLACK_BOT_TOKEN=$token "$chroot_bin" --userspec="$want_user" "$root" "$@"; }
  config=/etc/otelcol-slack/config.yaml
else
  how="from the host: chroot is missing or not allowed here"
  run() { local bin=$1; shift; env -i SLACK_BOT_TOKEN=$token "$root$bin" "$@"; }
  config=$root/etc/otelcol-slack/config.yaml
fi
out=$(run /otelcol-slack --version 2>&1) || fail "--version: $out"
[ "$out" = "otelcol-slack version $version" ] || fail "--version says '$out', want 'otelcol-slack version $version'"
ok "--version ($how): $out"
out=$(run /otelcol-slack validate "--config=$config" 2>&1) || fail "validate: $out"
case $out in *"$token"*) fail "validate printed the token" ;; esac
ok "validate --config=$config ($how)${out:+: $out}"

# Start it from the image's filesystem, as the image's user, with the image's
# config (ports moved to free loopback ones, Slack's API to the local
# emulator), and deliver one record: the user can write the queue's directory,
# the health check answers, and a record reaches Slack. This needs chroot (the
# image's own paths) and bin/slackemu; without them it is skipped.
slackemu=${SLACKEMU_BIN:-bin/slackemu}
if [ "$how" != "chroot into the image's filesystem as $want_user" ] || [ ! -x "$slackemu" ] || ! command -v curl >/dev/null; then
  echo "verify-image: skipped starting the collector: needs chroot, curl and $slackemu"
  echo "verify-image: $image is good"
  exit 0
fi
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}
emu_addr="$root.emu-addr"
"$slackemu" -addr 127.0.0.1:0 -addr-file "$emu_addr" >"$root.emu-log" 2>&1 &
emu_pid=$!
col_pid=""
stop_all() {
  if [ -n "$col_pid" ]; then kill -TERM "$col_pid" 2>/dev/null || true; wait "$col_pid" 2>/dev/null || true; fi
  kill "$emu_pid" 2>/dev/null || true
  wait "$emu_pid" 2>/dev/null || true
  rm -f "$emu_addr" "$root.emu-log" "$root.col-log"
  cleanup
}
trap stop_all EXIT
for _ in $(seq 50); do [ -s "$emu_addr" ] && break; sleep 0.1; done
[ -s "$emu_addr" ] || fail "slackemu did not start: $(cat "$root.emu-log")"
emu=http://$(cat "$emu_addr")
health=$(free_port) grpc=$(free_port) http=$(free_port)
env -i SLACK_BOT_TOKEN=xoxb-emulator-token "SLACK_API_URL=$emu/api/" \
  "$chroot_bin" --userspec="$want_user" "$root" /otelcol-slack --config=/etc/otelcol-slack/config.yaml \
  "--set=extensions::health_check::endpoint=127.0.0.1:$health" \
  "--set=receivers::otlp::protocols::grpc::endpoint=127.0.0.1:$grpc" \
  "--set=receivers::otlp::protocols::http::endpoint=127.0.0.1:$http" \
  "--set=service::telemetry::metrics::level=none" >"$root.col-log" 2>&1 &
col_pid=$!
code=""
for _ in $(seq 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$health/" || true)
  [ "$code" = 200 ] && break
  kill -0 "$col_pid" 2>/dev/null || fail "the collector exited: $(tail -n 20 "$root.col-log")"
  sleep 0.1
done
[ "$code" = 200 ] || fail "health_check answered '$code' after 10s: $(tail -n 20 "$root.col-log")"
ok "started in the image's filesystem as $want_user; health_check answers 200"
body="verify-image: a record through $image"
record='{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"verify-image"}}]},"scopeLogs":[{"logRecords":[{"severityNumber":17,"severityText":"ERROR","body":{"stringValue":"'"$body"'"}}]}]}]}'
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$record" "http://127.0.0.1:$http/v1/logs")
[ "$code" = 200 ] || fail "OTLP/HTTP answered $code"
shown=""
for _ in $(seq 100); do
  shown=$(curl -s "$emu/_emu/messages?format=text" || true)
  case $shown in *"$body"*) break ;; esac
  sleep 0.1
done
case $shown in *"$body"*) ;; *) fail "the record did not reach the emulator: $(tail -n 20 "$root.col-log")" ;; esac
[ -n "$(find "$root/var/lib/otelcol-slack/queue" -user 10001 -name 'exporter_slack__logs')" ] ||
  fail "no queue file of user 10001 in /var/lib/otelcol-slack/queue"
ok "one ERROR record delivered to the emulator; queue file /var/lib/otelcol-slack/queue/exporter_slack__logs written by $want_user"
kill -TERM "$col_pid"
wait "$col_pid" || fail "the collector exited with $? after SIGTERM: $(tail -n 20 "$root.col-log")"
col_pid=""
if grep -q xoxb-emulator-token "$root.col-log"; then fail "the token is in the collector's log"; fi
ok "stopped on SIGTERM, exit 0; the token is not in its log"
echo "verify-image: $image is good"
