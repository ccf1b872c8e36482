#!/usr/bin/env bash
# Builds labx:latest from docker/Dockerfile, plus a mosquitto image for compose.yaml and the tests,
# both FROM a local base (scripts/docker-base.sh) because no image registry is reachable here.
# With registry access, plain `docker build -f docker/Dockerfile -t labx .` does the same FROM node:24-trixie-slim.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${LABX_BASE:-labx-base:trixie-node24}"
export DOCKER_BUILDKIT=0 # the legacy builder: BuildKit wants to reach a registry for its frontend

bash scripts/docker-base.sh "$BASE"
docker build --build-arg "BASE=$BASE" -f docker/Dockerfile -t labx:latest . >/tmp/labx-docker-build.log 2>&1 || { tail -30 /tmp/labx-docker-build.log >&2; exit 1; }
echo "build-images: labx:latest"
docker build --build-arg "BASE=$BASE" -f docker/mosquitto.Dockerfile -t labx-test/mosquitto:2 . >/tmp/labx-docker-build.log 2>&1 || { tail -30 /tmp/labx-docker-build.log >&2; exit 1; }
echo "build-images: labx-test/mosquitto:2"
