#!/usr/bin/env bash
# Installs labx on a Raspberry Pi (Raspberry Pi OS / Debian bookworm) as a systemd service.
#
#   sudo deploy/pi/install-pi.sh --sbc-id SBC001 --broker-url mqtt://lab-server:1883 \
#        --local-ntp 192.168.68.126 --local-ntp 192.168.68.158
#
# What it does, in order: apt-get installs ffmpeg and chrony; writes a chrony sources file that
# prefers the lab's GPS/PPS servers (polled every 16 s) with public NTP as the fallback (the old
# guide's choice: time.google.com, time2..4); installs labx into /opt/labx (npm ci, build); creates
# the system user labx (in group video, for the camera); writes /etc/labx/config.json; installs and
# enables labx.service. Run it again to upgrade: an existing config.json is kept unless --force.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: sudo deploy/pi/install-pi.sh [options]
  --sbc-id ID          this node's id (default: the hostname, if it is a valid id)
  --groups A,B         groups it also answers to
  --broker-url URL     the lab's MQTT broker (default mqtt://127.0.0.1:1883)
  --embedded-broker    run the broker in this node instead (a standalone Pi)
  --camera DEV         /dev/video0 (default), synthetic, or a stream URL
  --data-dir DIR       where batches go (default /var/lib/labx/data)
  --local-ntp HOST     a GPS/PPS time server on the LAN, preferred (repeatable)
  --ntp HOST           a fallback NTP server (repeatable; default the time.google.com family)
  --keep-pool          leave the distribution's "pool" lines in chrony.conf active
  --force              overwrite an existing /etc/labx/config.json
  --no-enable          install, but neither enable nor start the service
  --root DIR           write the files under DIR only: no apt, npm, useradd or systemctl (for images and tests)
  -h, --help           this text
USAGE
}

die() { echo "install-pi: $*" >&2; exit 1; }
is_name() { [[ "$1" =~ ^[A-Za-z0-9_-]{1,64}$ ]] && [ "$1" != all ]; }
is_host() { [[ "$1" =~ ^[A-Za-z0-9.:_-]{1,253}$ ]]; }

sbc_id="" groups="" broker_url="mqtt://127.0.0.1:1883" embedded=false camera="/dev/video0"
data_dir="/var/lib/labx/data" keep_pool=false force=false enable=true root=""
local_ntp=() ntp=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sbc-id) sbc_id="${2:?--sbc-id needs a value}"; shift 2 ;;
    --groups) groups="${2:?--groups needs a value}"; shift 2 ;;
    --broker-url) broker_url="${2:?--broker-url needs a value}"; shift 2 ;;
    --embedded-broker) embedded=true; shift ;;
    --camera) camera="${2:?--camera needs a value}"; shift 2 ;;
    --data-dir) data_dir="${2:?--data-dir needs a value}"; shift 2 ;;
    --local-ntp) local_ntp+=("${2:?--local-ntp needs a host}"); shift 2 ;;
    --ntp) ntp+=("${2:?--ntp needs a host}"); shift 2 ;;
    --keep-pool) keep_pool=true; shift ;;
    --force) force=true; shift ;;
    --no-enable) enable=false; shift ;;
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

[ -n "$sbc_id" ] || sbc_id="$(hostname -s 2>/dev/null || echo SBC001)"
is_name "$sbc_id" || die "--sbc-id \"$sbc_id\" is not a valid id ([A-Za-z0-9_-]{1,64}, not \"all\")"
IFS=, read -r -a group_list <<<"$groups"
for g in "${group_list[@]}"; do is_name "$g" || die "--groups: \"$g\" is not a valid group name"; done
[[ "$data_dir" == /* ]] || die "--data-dir must be an absolute path"
[ ${#ntp[@]} -gt 0 ] || ntp=(time.google.com time2.google.com time3.google.com time4.google.com)
for h in "${local_ntp[@]}" "${ntp[@]}"; do is_host "$h" || die "\"$h\" is not a host name or address"; done
[ -n "$root" ] || [ "$(id -u)" = 0 ] || die "run as root (sudo), or give --root DIR"

src="$(cd "$(dirname "$0")/../.." && pwd)"
etc="$root/etc"
opt="$root/opt/labx"
step() { echo "install-pi: $*"; }

# 1. Packages: ffmpeg, chrony and a supported Node.js (20.19+, 22, 24; else the current LTS is installed
# from the npm registry's official binary package, scripts/lib/node-runtime.sh).
# shellcheck source=scripts/lib/packages.sh
. "$src/scripts/lib/packages.sh"
# shellcheck source=scripts/lib/node-runtime.sh
. "$src/scripts/lib/node-runtime.sh"
if [ -z "$root" ]; then
  step "installing ffmpeg, chrony and Node.js where missing"
  apt_ensure ffmpeg chrony
  ensure_node
fi
node_bin="$(command -v node || true)"
if [ -z "$node_bin" ] || ! node_supported "$node_bin"; then
  die "a supported Node.js (20.19+, 22 or 24) is needed: run again as root without --root to install one"
fi

# 2. chrony: the lab's GPS/PPS servers first, public NTP as the fallback.
step "writing chrony sources ($(( ${#local_ntp[@]} )) local, ${#ntp[@]} fallback)"
mkdir -p "$etc/chrony/sources.d"
{
  echo "# Written by labx deploy/pi/install-pi.sh. Local GPS/PPS servers are preferred and polled every 16 s;"
  echo "# the public servers are the fallback. Check with: chronyc sources -v; chronyc tracking"
  for h in "${local_ntp[@]}"; do echo "server $h iburst prefer minpoll 4 maxpoll 4"; done
  for h in "${ntp[@]}"; do echo "server $h iburst minpoll 4 maxpoll 6"; done
} >"$etc/chrony/sources.d/labx.sources"
if [ -f "$etc/chrony/chrony.conf" ]; then
  grep -q '^sourcedir /etc/chrony/sources.d' "$etc/chrony/chrony.conf" ||
    echo "sourcedir /etc/chrony/sources.d" >>"$etc/chrony/chrony.conf"
  # The distribution's pool would compete with the lab's servers; the old guide replaced it.
  $keep_pool || sed -i.labx-bak 's/^pool /# disabled by labx: pool /' "$etc/chrony/chrony.conf"
fi

# 3. labx itself.
step "installing labx into $opt"
mkdir -p "$opt"
cp -r "$src/package.json" "$src/package-lock.json" "$src/tsconfig.json" "$src/tsconfig.build.json" \
  "$src/contract" "$src/platform" "$src/cli" "$src/node" "$src/broker" "$src/ctl" "$src/monitor" "$src/align" "$src/ui" "$src/schemas" "$opt/"
# The dependency patches npm ci applies (postinstall; docs/reliability.md).
mkdir -p "$opt/scripts"
cp -r "$src/patches" "$opt/"
cp "$src/scripts/patches.mjs" "$opt/scripts/"
if [ -z "$root" ]; then
  (cd "$opt" && npm ci --no-audit --no-fund --omit=optional --loglevel=error && npm run -s build &&
    npm prune --omit=dev --omit=optional --no-audit --no-fund --loglevel=error)
  id labx >/dev/null 2>&1 ||
    useradd --system --user-group --groups video --home-dir /var/lib/labx --shell /usr/sbin/nologin labx
fi

# 4. Configuration: JSON written by node from arguments, so no value is ever parsed by a shell.
mkdir -p "$etc/labx"
if [ -f "$etc/labx/config.json" ] && ! $force; then
  step "keeping $etc/labx/config.json (--force to replace it)"
else
  step "writing $etc/labx/config.json"
  node -e '
    const [id, groups, url, embedded, camera, dataDir] = process.argv.slice(1);
    const c = { sbc_id: id, groups: groups ? groups.split(",") : [], data_dir: dataDir, camera };
    if (embedded === "true") c.embedded_broker = true; else c.broker_url = url;
    process.stdout.write(JSON.stringify(c, null, 2) + "\n");
  ' "$sbc_id" "$groups" "$broker_url" "$embedded" "$camera" "$data_dir" | (umask 077 && cat >"$etc/labx/config.json")
fi
[ -f "$etc/labx/labx.env" ] || {
  (umask 077 && echo "# Secrets for labx.service, e.g. LABX_BROKER_USERNAME=... and LABX_BROKER_PASSWORD=..." >"$etc/labx/labx.env")
}
# Camera and broker URLs may carry passwords: only the service's user reads them (never group or others).
chmod 600 "$etc/labx/config.json" "$etc/labx/labx.env"
if id labx >/dev/null 2>&1; then chown labx:labx "$etc/labx/config.json" "$etc/labx/labx.env"; fi

# 5. The service. A data directory outside /var/lib/labx must be made writable to the sandboxed unit.
mkdir -p "$etc/systemd/system"
# The unit runs the Node.js found above (Debian's /usr/bin/node, or the LTS in /usr/local/bin), with
# the flag that one needs besides the unit's (node-runtime.sh, node_wasm_flag).
wasm_flag="$(node_wasm_flag "$node_bin")"
sed -e "s#^ExecStart=/usr/bin/node #ExecStart=$node_bin #" -e "/^ExecStart=/s# --lite-mode # --lite-mode${wasm_flag:+ $wasm_flag} #" \
  "$src/deploy/pi/labx.service" >"$etc/systemd/system/labx.service"
chmod 0644 "$etc/systemd/system/labx.service"
if [[ "$data_dir" != /var/lib/labx/* ]]; then
  mkdir -p "$etc/systemd/system/labx.service.d"
  printf '[Service]\nReadWritePaths=%s\n' "$data_dir" >"$etc/systemd/system/labx.service.d/data-dir.conf"
fi
if [ -z "$root" ]; then
  mkdir -p "$data_dir" && chown labx:labx "$data_dir"
  systemctl daemon-reload
  systemctl restart chrony || true
  if $enable; then
    systemctl enable --now labx.service
    step "labx.service enabled and started: journalctl -u labx -f"
  fi
fi
step "done: node $sbc_id$([ -n "$groups" ] && echo " (groups $groups)")"
