#!/usr/bin/env bash
# The README's second command: sets up everything the test suite starts for real (Debian packages, once;
# Node.js where no supported one is installed; npm dependencies), checks types and style, builds the
# Docker images where an engine can run, runs the whole suite (`npm test`) and then the platform legs
# (scripts/test-platforms.sh: the ffmpeg-dependent tests on the other Debian release's ffmpeg, the
# platform-sensitive tests on the other Node.js LTS lines). CI runs exactly this (.ci/run).
# LABX_PLATFORMS=0 skips the legs; LABX_DOCKER=0 leaves Docker alone (its tests then skip, saying why).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/packages.sh
. scripts/lib/packages.sh
# shellcheck source=scripts/lib/node-runtime.sh
. scripts/lib/node-runtime.sh

started=$SECONDS
apt_ensure "${LABX_TEST_PACKAGES[@]}"
ensure_node
echo "labx: $(ffmpeg -hide_banner -version | head -1); Node.js $(node --version)" >&2
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "labx: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent typecheck
npm run --silent lint
echo "labx: set up in $((SECONDS - started)) s" >&2

# The Docker tests need an engine and the images (built from a local base: no registry here). Where no
# engine can be had they skip, each saying why. Where one runs, the images must build from this tree: a
# failed build fails the run, and an image left from an earlier build is removed first.
if [ "${LABX_DOCKER:-1}" = 0 ]; then
  echo "labx: LABX_DOCKER=0: the Docker tests will skip" >&2
elif bash scripts/ensure-dockerd.sh; then
  docker image rm -f labx:latest >/dev/null 2>&1 || true
  bash docker/build-images.sh
fi

npm test
if [ "${LABX_PLATFORMS:-1}" != 0 ]; then
  # Every leg: Debian 13's ffmpeg 7.1, Node.js 22 and 24, arm64 (2026-12-07: each passed, in 9.5, 5.5, 5
  # and 1.5 min; the arm64 root's first making 9.5 min more).
  bash scripts/test-platforms.sh
fi
echo "labx: all tests passed in $((SECONDS - started)) s" >&2
