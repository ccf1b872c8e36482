#!/usr/bin/env bash
# One command from a fresh clone to a recording-ready node: installs what labx needs (Debian/Raspberry
# Pi OS packages, npm dependencies), builds, and runs a node with the embedded MQTT broker. The camera
# is /dev/video0 when one is plugged in, else a synthetic test pattern. Extra arguments go to `labx node`.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for bin in ffmpeg ffprobe mosquitto mosquitto_pub chronyc shellcheck; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
# For `npm test` afterwards: Home Assistant's templates are rendered with Jinja2, as HA does.
/usr/bin/python3 -c 'import jinja2' 2>/dev/null || missing+=("python3-jinja2")
if [ ${#missing[@]} -gt 0 ]; then
  echo "labx: installing system packages (missing: ${missing[*]})" >&2
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg mosquitto mosquitto-clients chrony \
    python3-jinja2 shellcheck >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "labx: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "labx: building" >&2
npm run --silent build

camera=synthetic
if [ -c /dev/video0 ]; then camera=/dev/video0; fi
port="${LABX_BROKER_PORT:-1883}"
broker_args=(--embedded-broker --broker-port "$port")
# A broker already on the port (e.g. the mosquitto service apt just started): use it instead.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "labx: a broker already listens on port $port; connecting to it instead of embedding one" >&2
  broker_args=(--broker-url "mqtt://127.0.0.1:$port")
fi
ui_port="${LABX_UI_PORT:-8080}"
echo "labx: node SBC001, camera $camera, MQTT on port $port, dashboard on port $ui_port. Try:  mosquitto_pub -p $port -t labx/SBC001/cmd -m start" >&2
# V8 flags: cli/node-flags.ts.
exec node --max-semi-space-size=1 --v8-pool-size=1 --lite-mode --no-expose-wasm dist/cli/labx.js node "${broker_args[@]}" --ui-port "$ui_port" --camera "$camera" --data-dir "${LABX_DATA_DIR:-./data}" "$@"
