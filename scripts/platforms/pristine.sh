#!/usr/bin/env bash
# The README's two commands, exactly as written, on a pristine Debian: a fresh clone of this checkout's
# HEAD in a minbase root of SUITE (bookworm = Debian 12, trixie = Debian 13) that nothing has touched,
# with /proc, /dev and /sys bound in. The first command runs with `--duration 10` (it records and exits);
# the second installs what the suite needs and runs it. Each step's time and what it installed are
# printed. The untouched root is kept in $LABX_CACHE/roots; every run works on a fresh copy, removed after.
# A Docker engine is not started inside the root (it would meet this machine's): the Docker tests skip.
# Usage: scripts/platforms/pristine.sh bookworm|trixie   (LABX_PLATFORMS=0 to skip the suite's legs)
set -euo pipefail
cd "$(dirname "$0")/../.."
suite="${1:?usage: pristine.sh bookworm|trixie}"
say() { echo "pristine($suite): $*" >&2; }
base="$(bash scripts/platforms/debian-root.sh "$suite" "$(dpkg --print-architecture)")"
root="$(mktemp -d "/var/tmp/labx-pristine-$suite.XXXXXX")"
mounts=()
cleanup() {
  # Daemons the run left (dockerd, a broker): nothing of the root may outlive it.
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  # What the run mounted inside (ip netns: /run/netns), deepest first, then ours.
  awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
cp -a "$base/." "$root/"
# As in any chroot or container: packages' scripts do not start their daemons here (they would bind the
# machine's ports); the tests start each one themselves.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
# shellcheck disable=SC2016 # dpkg-query's own ${Package}
packages() { chroot "$root" dpkg-query -W -f='${Package}\n' | sort; }
before="$(packages)"
git clone -q "$PWD" "$root/root/labx"
# The root a mount point, as / is on any machine (`ip netns exec`, the tests' second host, remounts it).
mount --bind "$root" "$root"
mounts+=("$root")
for m in proc sys dev dev/pts; do
  mount --bind "/$m" "$root/$m"
  mounts+=("$root/$m")
done
# This machine reaches the npm registry through a TLS-inspecting proxy: the root trusts its CAs too.
ca="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
cp "$ca" "$root/etc/labx-host-ca.crt"
run() {
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    TERM=dumb LANG=C.UTF-8 NODE_EXTRA_CA_CERTS=/etc/labx-host-ca.crt CURL_CA_BUNDLE=/etc/labx-host-ca.crt \
    LABX_PLATFORMS="${LABX_PLATFORMS:-1}" LABX_DOCKER=0 /bin/bash -c "cd /root/labx && $1"
}
t=$SECONDS
run './scripts/start.sh --duration 10'
say "./scripts/start.sh --duration 10: exit 0 in $((SECONDS - t)) s"
manifest="$(find "$root/root/labx/data" -name manifest.jsonl | head -1)"
[ -s "$manifest" ] || { say "FAILED: the first command recorded no manifest"; exit 1; }
say "it recorded: $(wc -l <"$manifest") batches in ${manifest#"$root"}"
after_start="$(packages)"
say "it installed $(comm -13 <(echo "$before") <(echo "$after_start") | wc -l) Debian packages; node $(run 'node --version')"
t=$SECONDS
run './scripts/test.sh'
say "./scripts/test.sh: exit 0 in $((SECONDS - t)) s"
after_test="$(packages)"
say "it installed $(comm -13 <(echo "$after_start") <(echo "$after_test") | wc -l) more Debian packages"
