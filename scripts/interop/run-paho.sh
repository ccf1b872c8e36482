#!/usr/bin/env bash
# Runs Eclipse Paho's interoperability suite against a broker started here on a free loopback port.
#   PAHO_DIR=/path/to/paho.mqtt.testing/interoperability scripts/interop/run-paho.sh labx 3
#   PAHO_DIR=… scripts/interop/run-paho.sh mosquitto 5
# The suite is not shipped with labx (clone eclipse/paho.mqtt.testing); results go to stdout, and the
# figures of the last run are in docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
broker=${1:?usage: run-paho.sh labx|mosquitto 3|5 [paho-interop.py options]}
suite=${2:?usage: run-paho.sh labx|mosquitto 3|5 [paho-interop.py options]}
shift 2
: "${PAHO_DIR:?set PAHO_DIR to the interoperability folder of the suite}"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
work=$(mktemp -d)
case "$broker" in
  labx)
    node --import tsx cli/labx.ts broker --broker-host 127.0.0.1 --broker-port "$port" --data-dir "$work/data" --log-level "${LABX_LOG_LEVEL:-warn}" \
      >"$work/broker.log" 2>&1 &
    ;;
  mosquitto)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$work/mosquitto.conf"
    mosquitto -c "$work/mosquitto.conf" >"$work/broker.log" 2>&1 &
    ;;
  *)
    echo "unknown broker $broker" >&2
    exit 2
    ;;
esac
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; [ -z "${KEEP_LOG:-}" ] || cp "$work/broker.log" "$KEEP_LOG"; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
echo "broker: $broker on port $port, suite: MQTT $([ "$suite" = 3 ] && echo 3.1.1 || echo 5)"
/usr/bin/python3 scripts/interop/paho-interop.py --paho "$PAHO_DIR" --port "$port" --suite "$suite" "$@"
