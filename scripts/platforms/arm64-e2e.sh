#!/usr/bin/env bash
# labx end to end on arm64 (a Raspberry Pi's architecture), on this x86-64 machine: a Debian arm64 root
# (scripts/platforms/debian-root.sh: debootstrap --foreign, qemu-user-static, binfmt_misc) runs two
# arm64 nodes under emulation, side by side, in one session:
#   ARM1 records the synthetic camera and runs the embedded broker, until ARM2 is done (then SIGTERM);
#   ARM2 records a network camera (the tests' fake MJPEG camera, on this machine) for 20 s through ARM1's broker.
# A mosquitto_sub on this machine takes every message off the embedded broker; then the arm64 `labx align`
# indexes the session. It checks: both nodes exit 0, each manifest holds its batches with the last one
# marked, every batch was announced on the broker as listed, both were online, align indexed both.
# Timing is not judged under emulation. Usage: scripts/platforms/arm64-e2e.sh  (LABX_SUITE=trixie|bookworm)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/packages.sh
. scripts/lib/packages.sh
# shellcheck source=scripts/lib/node-runtime.sh
. scripts/lib/node-runtime.sh
suite="${LABX_SUITE:-trixie}"
seconds="${LABX_SECONDS:-20}"
started=$SECONDS
say() { echo "arm64-e2e: $*" >&2; }

# Raspberry Pi OS 13 users get Debian's nodejs (20.19); on 12 (Node.js 18) the installer puts 24 LTS.
packages=(ffmpeg ca-certificates)
[ "$suite" = bookworm ] || packages+=(nodejs)
apt_ensure mosquitto-clients
root="$(bash scripts/platforms/debian-root.sh "$suite" arm64 "${packages[@]}")"
stage="$root/opt/labx-e2e"
pids=()
mounts=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done
  rm -rf "$stage"
}
trap cleanup EXIT

# labx as built here, with its production dependencies (all plain JavaScript: checked below).
say "building labx and staging it in $stage"
npm run --silent build
rm -rf "$stage" && mkdir -p "$stage/ui" "$stage/scripts"
cp -a package.json package-lock.json dist schemas patches "$stage/"
cp -a ui/public "$stage/ui/public"
cp scripts/patches.mjs scripts/patches.d.mts "$stage/scripts/"
(cd "$stage" && npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error && node scripts/patches.mjs >/dev/null)
native="$(find "$stage/node_modules" -name '*.node' | head -3)"
[ -z "$native" ] || { say "a production dependency is native (built for this machine): $native"; exit 1; }
if [ "$suite" = bookworm ]; then
  node_dir="$(dirname "$(LABX_NODE_ARCH=arm64 node_install_dir "$LABX_NODE_LTS")")"
  rm -rf "$root/usr/local/lib/labx-node" && cp -a "$node_dir" "$root/usr/local/lib/labx-node"
  ln -sf /usr/local/lib/labx-node/bin/node "$root/usr/local/bin/node"
fi
for m in proc sys dev; do
  mount --bind "/$m" "$root/$m"
  mounts+=("$root/$m")
done
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root TZ=UTC "$@"; }
# The same as the process itself (a background job's PID is then the program's, to signal it).
exec_in_root() { exec chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root TZ=UTC "$@"; }
say "$(in_root uname -m): Node.js $(in_root node --version), $(in_root ffmpeg -hide_banner -version | head -1)"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
broker_port="$(free_port)"
camera_port="$(free_port)"
out="$(mktemp -d /tmp/labx-arm64-e2e.XXXXXX)"
node --import tsx test/helpers/fake-camera.ts "$camera_port" "$out/camera-sent.csv" 30 "" tcp 320x240 0 "" &
pids+=($!)
data=/opt/labx-e2e/data
root_node() { in_root node "$@"; }
# The V8 flags of labx's launchers (cli/node-flags.ts) for the root's Node.js.
mapfile -t wasm_flag < <(node_wasm_flag root_node)
labx_argv=(node --max-semi-space-size=1 --v8-pool-size=1 --lite-mode "${wasm_flag[@]}" /opt/labx-e2e/dist/cli/labx.js)
labx() { in_root "${labx_argv[@]}" "$@"; }
common=(--batch-duration 5 --disable-sync --no-ha-discovery --log-level warn)
say "ARM1: synthetic camera, embedded broker on $broker_port, started and stopped by command; ARM2: tcp://127.0.0.1:$camera_port through it, $seconds s"
exec_in_root "${labx_argv[@]}" node --sbc-id ARM1 --embedded-broker --broker-port "$broker_port" --camera synthetic --video-size 320x240 \
  --data-dir "$data/ARM1" "${common[@]}" >"$out/ARM1.log" 2>&1 &
arm1=$!
pids+=("$arm1")
# This machine's mosquitto_sub takes everything off the arm64 broker once it listens.
for _ in $(seq 1 120); do
  (exec 3<>"/dev/tcp/127.0.0.1/$broker_port") 2>/dev/null && break
  sleep 0.5
done
mosquitto_sub -p "$broker_port" -t 'labx/#' -v -q 1 >"$out/messages.txt" &
pids+=($!)
fail() { say "FAILED: $*"; exit 1; }
# Waits up to SECONDS for a line of the broker's messages matching PATTERN.
seen() { for _ in $(seq 1 $(($1 * 2))); do grep -aq "$2" "$out/messages.txt" && return 0; sleep 0.5; done; return 1; }
seen 60 '^labx/ARM1/availability online' || fail "ARM1 never came online"
# ARM1 is commanded over MQTT as a lab does (from this machine: anonymous on loopback).
mosquitto_pub -p "$broker_port" -q 1 -t labx/ARM1/cmd -m '{"cmd":"start","session":"e2e","id":"s1"}'
seen 60 '^labx/ARM1/reply .*"id":"s1".*"ok":true' || fail "ARM1 did not start: $(grep -a '^labx/ARM1/reply' "$out/messages.txt")"
exec_in_root "${labx_argv[@]}" node --sbc-id ARM2 --broker-url "mqtt://127.0.0.1:$broker_port" --camera "tcp://127.0.0.1:$camera_port" \
  --data-dir "$data/ARM2" --session e2e --duration "$seconds" "${common[@]}" >"$out/ARM2.log" 2>&1 &
arm2=$!
pids+=("$arm2")
wait "$arm2" || { say "ARM2 failed:"; cat "$out/ARM2.log" >&2; exit 1; }
mosquitto_pub -p "$broker_port" -q 1 -t labx/ARM1/cmd -m '{"cmd":"stop","id":"s2"}'
seen 60 '^labx/ARM1/event .*"session_ended"' || fail "ARM1's session did not end"
# Then stopped as systemd stops it.
kill -TERM "$arm1"
wait "$arm1" || { say "ARM1 failed:"; cat "$out/ARM1.log" >&2; exit 1; }
sleep 1

for id in ARM1 ARM2; do
  manifest="$root$data/$id/e2e/manifest.jsonl"
  [ -s "$manifest" ] || fail "$id wrote no manifest"
  listed="$(wc -l <"$manifest")"
  announced="$(grep -c "^labx/$id/batch " "$out/messages.txt" || true)"
  frames="$(node -e 'let n=0;for(const l of require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n"))n+=JSON.parse(l).frames;console.log(n)' "$manifest")"
  last="$(tail -1 "$manifest" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).last===true)')"
  [ "$listed" -ge 3 ] || fail "$id listed $listed batches in $seconds s"
  [ "$announced" = "$listed" ] || fail "$id announced $announced batches, listed $listed"
  [ "$last" = true ] || fail "$id's last batch is not marked last"
  grep -q "^labx/$id/availability online" "$out/messages.txt" || fail "$id was never online"
  say "$id: $listed batches, $frames frames, all announced, the last marked last"
done
labx align e2e --from "$data" --out /opt/labx-e2e/aligned --json >"$out/summary.json" || fail "labx align failed"
indexed="$(node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(Object.keys(s.nodes).sort().join(",")+" "+s.ticks)' "$out/summary.json")"
[ "${indexed% *}" = "ARM1,ARM2" ] || fail "labx align indexed ${indexed% *}"
[ "${indexed#* }" -gt 0 ] || fail "labx align found no common time of the two nodes"
# shellcheck disable=SC2016 # JavaScript's template literals
say "labx align: $(node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(`${s.ticks} ticks of ${s.period_ms} ms from ${s.start}; `+Object.entries(s.nodes).map(([k,v])=>`${k}: ${v.batches} batches, ${v.frames} frames ${v.first_frame}..${v.last_frame} (${v.time_source}), ${v.missing_ticks} ticks without a frame`).join("; "))' "$out/summary.json")"
say "passed in $((SECONDS - started)) s (messages and logs in $out)"
