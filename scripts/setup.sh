#!/usr/bin/env bash
# Installs what building and testing the app needs, each tool only when it is missing or has the
# wrong version. Everything lands outside the clone (the cargo home's bin/, the apt system, and
# $PP_CACHE), so a later run on the same machine reuses it. Sourced by serve.sh and test.sh.
# Nothing is downloaded from outside the package registries (crates.io, npm, Debian).
#
# What a machine must have before this runs (the README's "Set-up"): rustup with a stable
# toolchain at least the crate's `rust-version`, Node.js >= 20 with npm >= 9. check_prerequisites
# stops with a sentence saying what to install when one is missing or too old; nothing here pins
# a toolchain, so rustup never downloads one behind the user's back.
set -euo pipefail

PP_CACHE="${PP_CACHE:-$HOME/.cache/pretrain-playground}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PP_CACHE/target}"
# Tools that `cargo install` puts into the cargo home are looked for there and nowhere else, so an
# empty cargo home (CARGO_HOME pointed at a new folder) really starts without them.
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PP_CACHE/npm/node_modules/.bin:$PATH:$HOME/.cargo/bin"
# Trunk must never fetch its own tools: it uses the exact versions installed here.
export TRUNK_OFFLINE=true
export TRUNK_SKIP_VERSION_CHECK=true
mkdir -p "$PP_CACHE"

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0
PLAYWRIGHT_VERSION=1.64.1

NODE_MIN_MAJOR=20   # playwright-core 1.64 needs Node 20; `node --test` with its spec reporter too
NPM_MIN_MAJOR=9

log() { printf '[setup] %s\n' "$*"; }
fail() { printf '[setup] %s\n' "$*" >&2; exit 1; }

# "1.95.0" >= "1.95"? Compares dotted numbers field by field.
version_at_least() {
  local have=$1 want=$2 i
  local -a h w
  IFS=. read -r -a h <<<"$have"
  IFS=. read -r -a w <<<"$want"
  for i in 0 1 2; do
    local a=${h[i]:-0} b=${w[i]:-0}
    a=${a%%[!0-9]*}; b=${b%%[!0-9]*}
    if ((10#${a:-0} > 10#${b:-0})); then return 0; fi
    if ((10#${a:-0} < 10#${b:-0})); then return 1; fi
  done
  return 0
}

# The toolchain and Node are the user's to install; this checks them before anything is built
# and says what is missing instead of failing half an hour later.
check_prerequisites() {
  local root rust_version rustc_version node_version npm_version
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  rust_version=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
  command -v rustup >/dev/null 2>&1 \
    || fail "rustup is not installed: install it from https://rustup.rs (it brings cargo and rustc), then run this again."
  command -v cargo >/dev/null 2>&1 \
    || fail "cargo is not on PATH: add \$HOME/.cargo/bin to PATH (or run 'rustup default stable'), then run this again."
  rustc_version=$(rustc --version 2>/dev/null | awk '{print $2}') \
    || fail "rustc does not run: 'rustup default stable' installs a toolchain."
  [[ -n "$rustc_version" ]] || fail "rustc does not run: 'rustup default stable' installs a toolchain."
  version_at_least "${rustc_version%%-*}" "$rust_version" \
    || fail "rustc $rustc_version is older than this project's rust-version $rust_version: run 'rustup update stable' (or install Rust $rust_version or later), then run this again."
  command -v node >/dev/null 2>&1 \
    || fail "Node.js is not installed: install Node.js $NODE_MIN_MAJOR or later with npm (e.g. Debian's nodejs and npm packages, or nodejs.org), then run this again."
  node_version=$(node --version | sed 's/^v//')
  version_at_least "$node_version" "$NODE_MIN_MAJOR" \
    || fail "Node.js $node_version is too old: the browser tests need Node.js $NODE_MIN_MAJOR or later; install it, then run this again."
  command -v npm >/dev/null 2>&1 \
    || fail "npm is not installed: install npm $NPM_MIN_MAJOR or later (it comes with Node.js), then run this again."
  npm_version=$(npm --version)
  version_at_least "$npm_version" "$NPM_MIN_MAJOR" \
    || fail "npm $npm_version is too old: install npm $NPM_MIN_MAJOR or later, then run this again."
  log "rustc $rustc_version (needs >= $rust_version), node $node_version, npm $npm_version; cargo home bin: $CARGO_BIN"
}

# Every crate any build of the project needs — native and wasm32, every feature (`wgpu` pulls
# crates the feature-less native build never touches) — downloaded once from crates.io, so the
# offline builds after it (trunk passes --offline to cargo) never meet a missing crate.
fetch_crates() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  log "fetching every crate in Cargo.lock (all targets, all features)"
  (cd "$root" && cargo fetch --locked)
}

need_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown && return
  log "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
}

need_trunk() {
  if "$CARGO_BIN/trunk" --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then return; fi
  log "installing trunk $TRUNK_VERSION"
  # trunk only orchestrates cargo, wasm-bindgen and wasm-opt, so its own release profile (fat
  # LTO, opt-level 3) buys nothing we notice: opt-level 0 without LTO builds in a fraction of
  # the time. No default features: they are the update check and TLS for downloading tools,
  # and trunk runs offline here.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_TARGET_DIR="$PP_CACHE/tool-build/trunk" \
    cargo install --locked --quiet --no-default-features "trunk@$TRUNK_VERSION"
}

need_wasm_bindgen() {
  if "$CARGO_BIN/wasm-bindgen" --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then return; fi
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile pins a crate version this registry lacks. No default features:
  # they are TLS for its test runner's WebDriver client, which the project does not use.
  # opt-level 1: it rewrites multi-megabyte wasm files, which opt-level 0 would make slow.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_TARGET_DIR="$PP_CACHE/tool-build/wasm-bindgen" \
    cargo install --force --quiet --no-default-features wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
}

need_npm_tools() {
  # binaryen's wasm-opt (Debian's 108 builds a wasm that crashes) and playwright-core, which
  # drives Debian's chromium; it never downloads a browser.
  local dir="$PP_CACHE/npm"
  if [ -x "$dir/node_modules/.bin/wasm-opt" ] && [ -d "$dir/node_modules/playwright-core" ] \
     && grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$dir/node_modules/playwright-core/package.json"; then
    return
  fi
  log "installing npm packages binaryen@$BINARYEN_VERSION playwright-core@$PLAYWRIGHT_VERSION"
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"name":"pp-tools","private":true}' >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error \
     "binaryen@$BINARYEN_VERSION" "playwright-core@$PLAYWRIGHT_VERSION")
}

need_chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  log "installing Debian's chromium"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

# Runs `$1` (a need_* function), printing how long it took.
timed() {
  local start=$SECONDS
  "$@"
  log "$1: $((SECONDS - start)) s"
}

# The two cargo installs side by side: each has long single-threaded stretches (linking, big
# crates), so together they finish sooner than one after the other on two cores.
need_cargo_tools() {
  local pid status=0
  timed need_wasm_bindgen &
  pid=$!
  timed need_trunk || status=$?
  wait "$pid" || status=$?
  return "$status"
}

# Everything but trunk and wasm-bindgen-cli, which only the wasm build needs: test.sh builds
# them side by side with the native build and tests (need_cargo_tools).
need_all_but_cargo_tools() {
  timed check_prerequisites
  timed fetch_crates
  timed need_wasm_target
  timed need_chromium
  timed need_npm_tools
}
