#!/usr/bin/env bash
# One command from a fresh clone to a recording-ready node: installs what labx needs (Debian/Raspberry
# Pi OS packages, npm dependencies), builds, and runs a node with the embedded MQTT broker. The camera
# is /dev/video0 when one is plugged in, else a synthetic test pattern. Extra arguments go to `labx node`.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/packages.sh
. scripts/lib/packages.sh
# shellcheck source=scripts/lib/node-runtime.sh
. scripts/lib/node-runtime.sh
apt_ensure "${LABX_RUNTIME_PACKAGES[@]}"
ensure_node

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
mapfile -t wasm_flag < <(node_wasm_flag "$(command -v node)")
exec node --max-semi-space-size=1 --v8-pool-size=1 --lite-mode "${wasm_flag[@]}" dist/cli/labx.js node "${broker_args[@]}" --ui-port "$ui_port" --camera "$camera" --data-dir "${LABX_DATA_DIR:-./data}" "$@"
