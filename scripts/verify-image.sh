#!/usr/bin/env bash
# Check an otelcol-slack image without running a container (this sandbox, like
# some CI runners, builds images but cannot run them): create a container,
# export its filesystem, and check the files, the image's user, entrypoint and
# command, then run the binary from that filesystem (inside it with chroot, as
# the image's user, where chroot is allowed) with --version and with validate
# on the image's own config.
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
  rm -rf "$root"
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
echo "verify-image: $image is good"
