#!/usr/bin/env bash
# make image: build the otelcol-slack container image (Containerfile) from
# bin/otelcol-slack with podman or docker, then check it with
# scripts/verify-image.sh.
#
#   IMAGE             image name (default otelcol-slack)
#   VERSION           tag (default: dist.version of builder-config.yaml)
#   CONTAINER_ENGINE  podman or docker (default: whichever is found, podman first)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-otelcol-slack}
VERSION=${VERSION:-$(sed -n 's/^  version: *//p' builder-config.yaml | head -n 1)}
ENGINE=${CONTAINER_ENGINE:-$(command -v podman || command -v docker || true)}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

if [ -z "$ENGINE" ]; then
  echo "make image: neither podman nor docker is installed (Debian: apt-get install -y podman)" >&2
  exit 1
fi
if [ ! -s "$CA_BUNDLE" ]; then
  echo "make image: no CA bundle at $CA_BUNDLE (Debian: apt-get install -y ca-certificates, or set CA_BUNDLE)" >&2
  exit 1
fi
if [ ! -x bin/otelcol-slack ]; then
  echo "make image: bin/otelcol-slack is missing; run make build (make image does)" >&2
  exit 1
fi

# The build context holds only what the image gets.
ctx=build/image
rm -rf "$ctx"
mkdir -p "$ctx/var-lib" "$ctx/var/lib"
cp bin/otelcol-slack "$ctx/otelcol-slack"
cp "$CA_BUNDLE" "$ctx/ca-certificates.crt"
cp deploy/container/config.yaml "$ctx/config.yaml"
printf 'otelcol:x:10001:10001:otelcol-slack:/var/lib/otelcol-slack:/sbin/nologin\n' >"$ctx/passwd"
printf 'otelcol:x:10001:\n' >"$ctx/group"

echo "$(basename "$ENGINE") build -f Containerfile -t $IMAGE:$VERSION $ctx"
"$ENGINE" build -f Containerfile --build-arg "VERSION=$VERSION" -t "$IMAGE:$VERSION" "$ctx"

bash scripts/verify-image.sh "$ENGINE" "$IMAGE:$VERSION" "$VERSION"
