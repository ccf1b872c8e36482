#!/usr/bin/env bash
# Builds a local stand-in for node:24-trixie-slim where no image registry is reachable: Debian 13
# (trixie) from debootstrap (minbase) plus Node.js 24 LTS and npm from the npm registry's official
# packages (scripts/lib/node-runtime.sh), imported as labx-base:trixie-node24. docker/build-images.sh
# then builds docker/Dockerfile FROM it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/lib/packages.sh
. "$here/lib/packages.sh"
# shellcheck source=scripts/lib/node-runtime.sh
. "$here/lib/node-runtime.sh"

TAG="${1:-labx-base:trixie-node24}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "docker-base: $TAG already exists"
  exit 0
fi
node_dir="$(dirname "$(node_install_dir "$LABX_NODE_LTS")")"
command -v debootstrap >/dev/null || { echo "docker-base: debootstrap is not installed" >&2; exit 1; }

root="$(mktemp -d /tmp/labx-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase trixie "$root" "$MIRROR" >/tmp/labx-debootstrap.log 2>&1 ||
  { tail -20 /tmp/labx-debootstrap.log >&2; exit 1; }
install -m 0755 "$node_dir/bin/node" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$node_dir/lib/node_modules/npm" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
# This machine reaches the npm registry through a TLS-inspecting proxy: the base trusts the same CAs
# as the host (its bundle), or npm ci inside the build fails with SELF_SIGNED_CERT_IN_CHAIN.
host_ca="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
if [ -f "$host_ca" ]; then
  mkdir -p "$root/etc/ssl/certs"
  cp "$host_ca" "$root/etc/ssl/certs/labx-host-ca.crt"
fi
# As in the official slim images: no apt caches, a node user with uid 1000.
chroot "$root" /bin/sh -c 'apt-get clean && rm -rf /var/lib/apt/lists/* && useradd --create-home --uid 1000 --shell /bin/bash node'
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/labx-host-ca.crt' \
  --change 'CMD ["node"]' - "$TAG" >/dev/null
echo "docker-base: built $TAG"
