# shellcheck shell=bash
# The Debian (Raspberry Pi OS) packages labx needs, in one place. Sourced by scripts/start.sh (what a
# node needs) and scripts/test.sh (what the test suite starts for real: brokers, stores, cameras, a
# browser, a second host). apt_ensure installs only what is missing, so a second run installs nothing.

# What a node records and talks with.
LABX_RUNTIME_PACKAGES=(ffmpeg mosquitto mosquitto-clients chrony)

# What the suite starts, each for real (README, "Tests").
# shellcheck disable=SC2034 # used by scripts/test.sh
LABX_TEST_PACKAGES=(
  "${LABX_RUNTIME_PACKAGES[@]}"
  python3-jinja2 python3-paho-mqtt        # Home Assistant's template engine and its MQTT client library
  shellcheck systemd                      # the installer's scripts and its unit file (systemd-analyze)
  iproute2 bsdutils                       # a second host (a network namespace), a terminal for its programs
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-ugly               # a real RTSP camera: GStreamer's RTSP server
  swift swift-proxy swift-object swift-container swift-account memcached # a real S3 store: Swift's s3api
  chromium                                # the dashboard, in a real browser
  nats-server                             # a real MQTT cluster
  debootstrap                             # the other Debian release's ffmpeg, the arm64 root (scripts/platforms/)
  docker.io docker-compose                # the image (its tests skip, saying why, where no engine can run)
)

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The named packages not installed yet.
apt_missing() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii' || echo "$pkg"
  done
}

# Installs the named packages that are missing (apt-get update first, once), saying which.
apt_ensure() {
  local missing
  mapfile -t missing < <(apt_missing "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "labx: installing Debian packages: ${missing[*]}" >&2
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}
