#!/usr/bin/env bash
# Usage: debian-root.sh SUITE ARCH [PACKAGE...]
# Prints the path of a minimal Debian SUITE (bookworm, trixie) root for ARCH (amd64, arm64) holding the
# packages, made once by debootstrap from Debian's mirror and kept under $LABX_CACHE/roots (default
# /var/cache/labx) for the next run. A foreign ARCH runs under qemu-user-static through binfmt_misc
# (mounted here if it is not). A root half made (an interrupted run) is made again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/lib/packages.sh
. "$here/../lib/packages.sh"

suite="${1:?usage: debian-root.sh SUITE ARCH [PACKAGE...]}"
arch="${2:?usage: debian-root.sh SUITE ARCH [PACKAGE...]}"
shift 2
packages=("$@")
cache="${LABX_CACHE:-/var/cache/labx}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# One root per package set (a pristine minbase root and one holding ffmpeg are both kept).
name="$suite-$arch"
[ ${#packages[@]} -eq 0 ] || name+="-$(IFS=+; echo "${packages[*]}")"
root="$cache/roots/$name"
want="$suite $arch ${packages[*]}"

[ "$(id -u)" -eq 0 ] || { echo "debian-root: debootstrap needs root" >&2; exit 1; }
mkdir -p "$cache/roots"
exec 9>"$root.lock"
flock 9
# A foreign root's programs run through qemu-user-static: registered on every run (a cached root
# outlives a reboot, binfmt_misc does not).
host_arch="$(dpkg --print-architecture)"
foreign=()
if [ "$arch" != "$host_arch" ]; then
  apt_ensure qemu-user-static binfmt-support >&2
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  qemu_name="qemu-$(case "$arch" in arm64) echo aarch64 ;; *) echo "$arch" ;; esac)"
  [ -e "/proc/sys/fs/binfmt_misc/$qemu_name" ] || update-binfmts --enable "$qemu_name" >&2
  [ -e "/proc/sys/fs/binfmt_misc/$qemu_name" ] || { echo "debian-root: $qemu_name is not registered with binfmt_misc" >&2; exit 1; }
  foreign=(--foreign)
fi
if [ -f "$root/.labx-root" ] && [ "$(cat "$root/.labx-root")" = "$want" ]; then
  echo "$root"
  exit 0
fi

apt_ensure debootstrap >&2

rm -rf "$root"
include=()
[ ${#packages[@]} -gt 0 ] && include=("--include=$(IFS=,; echo "${packages[*]}")")
log="$root.log"
echo "debian-root: making $root (debootstrap $suite $arch: ${packages[*]:-minbase}; log $log)" >&2
started=$SECONDS
if ! debootstrap --variant=minbase --arch="$arch" "${foreign[@]}" "${include[@]}" "$suite" "$root" "$mirror" >"$log" 2>&1; then
  tail -20 "$log" >&2
  exit 1
fi
if [ ${#foreign[@]} -gt 0 ]; then
  qemu="$(command -v "qemu-$(case "$arch" in arm64) echo aarch64 ;; *) echo "$arch" ;; esac)-static")"
  cp "$qemu" "$root/usr/bin/"
  if ! chroot "$root" /debootstrap/debootstrap --second-stage >>"$log" 2>&1; then
    tail -20 "$log" >&2
    exit 1
  fi
fi
echo "$want" >"$root/.labx-root"
echo "debian-root: $root made in $((SECONDS - started)) s" >&2
echo "$root"
