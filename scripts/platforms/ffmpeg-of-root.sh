#!/usr/bin/env bash
# Usage: ffmpeg-of-root.sh ROOT OUTDIR
# Makes OUTDIR/ffmpeg and OUTDIR/ffprobe run ROOT's (another Debian release's) ffmpeg on this machine,
# outside a chroot: through ROOT's own dynamic loader and libraries. The loader is copied under the
# tool's name, so the process is called `ffmpeg` as the real one is (tests and `ps` find it by name).
# Put OUTDIR first on PATH and labx, its tests and its benches record with that ffmpeg.
set -euo pipefail
root="${1:?usage: ffmpeg-of-root.sh ROOT OUTDIR}"
out="${2:?usage: ffmpeg-of-root.sh ROOT OUTDIR}"
triplet="$(uname -m)-linux-gnu"
libdir="$root/usr/lib/$triplet"
loader="$(find "$libdir" -maxdepth 1 -name 'ld-linux*.so.*' | head -1)"
[ -n "$loader" ] || { echo "ffmpeg-of-root: no dynamic loader in $libdir" >&2; exit 1; }
[ -x "$root/usr/bin/ffmpeg" ] || { echo "ffmpeg-of-root: $root has no ffmpeg" >&2; exit 1; }
# Libraries chosen through Debian's alternatives (BLAS, LAPACK) are absolute links into ROOT's /etc:
# their real folders go first. PulseAudio keeps its common library in its own folder (a RUNPATH the
# loader resolves against /usr, not ROOT): it goes after.
libs=""
for d in "$libdir"/*/; do
  case "$d" in */blas/ | */lapack/ | */atlas/ | */openblas-pthread/) libs="$libs${d%/}:" ;; esac
done
libs="$libs$libdir:$root/lib/$triplet:$libdir/pulseaudio"
mkdir -p "$out/.loader"
for tool in ffmpeg ffprobe; do
  cp "$loader" "$out/.loader/$tool"
  cat >"$out/$tool" <<WRAP
#!/bin/sh
exec '$out/.loader/$tool' --library-path '$libs' --argv0 $tool '$root/usr/bin/$tool' "\$@"
WRAP
  chmod 0755 "$out/$tool" "$out/.loader/$tool"
done
"$out/ffmpeg" -hide_banner -version | head -1
