#!/usr/bin/env bash
# The platform legs of the test suite (README, "Runs on"), after `npm test` ran everything on this
# machine's ffmpeg and Node.js:
#  1. the ffmpeg-dependent tests again on the other Debian release's ffmpeg: 7.1 from a Debian 13
#     (trixie) root on a Debian 12 machine, 5.1 from a Debian 12 (bookworm) root on a Debian 13 one
#     (scripts/platforms/debian-root.sh, kept between runs; ffmpeg-of-root.sh puts it first on PATH);
#  2. the platform-sensitive tests on each other supported Node.js LTS (22, 24), its official binary
#     from the npm registry's node-linux-* package (scripts/lib/node-runtime.sh);
#  3. arm64 end to end: two arm64 nodes under qemu-user-static in a Debian 13 arm64 root, an embedded
#     broker, a network camera, labx align (scripts/platforms/arm64-e2e.sh; ~2 min once its root is made).
# LABX_LEGS="ffmpeg node22 node24 arm64" chooses legs (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/packages.sh
. scripts/lib/packages.sh
# shellcheck source=scripts/lib/node-runtime.sh
. scripts/lib/node-runtime.sh
# LABX_LEGS: names separated by commas or spaces; an unknown name is an error, not a leg silently skipped.
legs="${LABX_LEGS:-ffmpeg,node22,node24,arm64}"
legs=",${legs// /,},"
for leg in ${legs//,/ }; do
  case "$leg" in
    ffmpeg | node22 | node24 | arm64) ;;
    *) echo "labx: unknown platform leg '$leg' in LABX_LEGS (ffmpeg, node22, node24, arm64)" >&2 && exit 2 ;;
  esac
done

# Every camera kind, batch boundaries, crash and recovery, the preview, audio, time code, the experiment.
FFMPEG_TESTS=(
  recording stream rtsp udp camera-drop burst capture-time batch-boundaries batch-names ffmpeg-pipes
  ffmpeg-crash durability recovery-last torn-manifest stop-ladder preview preview-decoder audio-source
  timecode experiment align cli doctor
)
# What depends on the runtime: everything pure, the node as a process, its broker, files, sockets, the
# S3 SDK (fetch: upload and read back), the dashboard's server, child processes and their environment,
# leaks. The longest files of the suite (durability, upload: ~5 min) run on the machine's Node.js only.
NODE_TESTS=(
  cli recording ffmpeg-crash recovery-last torn-manifest stream embedded-mqtt5 mqtt5-conformance
  broker-limits auth fetch dashboard logs secrets child-secrets commands
)
run_tests() { # NODE_BIN NAME...
  local node_bin="$1"
  shift
  local files=(test/unit/*.test.ts)
  local name
  for name in "$@"; do files+=("test/integration/$name.test.ts"); done
  "$node_bin" --import tsx --import ./test/helpers/leak-check.ts --test --test-concurrency=1 \
    --test-timeout=240000 "${files[@]}"
}
leg_done() { echo "labx: leg $1 passed in $((SECONDS - $2)) s" >&2; }

if [[ "$legs" == *,ffmpeg,* ]]; then
  t=$SECONDS
  case "$(ffmpeg -hide_banner -version | head -1)" in
    "ffmpeg version 5."*) other=trixie ;;
    *) other=bookworm ;;
  esac
  root="$(bash scripts/platforms/debian-root.sh "$other" "$(dpkg --print-architecture)" ffmpeg)"
  bin="$(mktemp -d /tmp/labx-ffmpeg-"$other".XXXXXX)"
  trap 'rm -rf "$bin"' EXIT
  echo "labx: leg ffmpeg: $(bash scripts/platforms/ffmpeg-of-root.sh "$root" "$bin")" >&2
  PATH="$bin:$PATH" run_tests node "${FFMPEG_TESTS[@]}"
  leg_done "ffmpeg ($other)" "$t"
fi
for major in 22 24; do
  [[ "$legs" == *,node$major,* ]] || continue
  [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ] && continue # npm test ran on it
  t=$SECONDS
  version="$([ "$major" = 22 ] && echo "$LABX_NODE_22" || echo "$LABX_NODE_LTS")"
  node_bin="$(node_install_dir "$version")/node"
  echo "labx: leg node$major: Node.js $("$node_bin" --version)" >&2
  run_tests "$node_bin" "${NODE_TESTS[@]}"
  leg_done "node$major" "$t"
done
if [[ "$legs" == *,arm64,* ]]; then
  t=$SECONDS
  bash scripts/platforms/arm64-e2e.sh
  leg_done arm64 "$t"
fi
