#!/usr/bin/env bash
# Starts a Docker engine by hand where none runs and there is no systemd (this machine, CI).
# Exit 0 when an engine answers, 1 when none can be started (the Docker tests then skip, saying why).
set -uo pipefail
docker info >/dev/null 2>&1 && exit 0
command -v dockerd >/dev/null || { echo "ensure-dockerd: dockerd is not installed" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "ensure-dockerd: starting dockerd needs root" >&2; exit 1; }
nohup dockerd >/tmp/labx-dockerd.log 2>&1 &
echo $! >/tmp/labx-dockerd.pid
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { echo "ensure-dockerd: dockerd started (pid $(cat /tmp/labx-dockerd.pid))"; exit 0; }
  sleep 1
done
echo "ensure-dockerd: dockerd did not answer within 60 s (see /tmp/labx-dockerd.log)" >&2
exit 1
