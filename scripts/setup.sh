#!/usr/bin/env bash
# Installs what building and testing the app needs, each tool only when it is missing or has the
# wrong version. Everything lands outside the clone (~/.cargo/bin, the apt system, and
# $PP_CACHE), so a later run on the same machine reuses it. Sourced by serve.sh and test.sh.
# Nothing is downloaded from outside the package registries (crates.io, npm, Debian).
set -euo pipefail

PP_CACHE="${PP_CACHE:-$HOME/.cache/pretrain-playground}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PP_CACHE/target}"
export PATH="$HOME/.cargo/bin:$PP_CACHE/npm/node_modules/.bin:$PATH"
# Trunk must never fetch its own tools: it uses the exact versions installed here.
export TRUNK_OFFLINE=true
export TRUNK_SKIP_VERSION_CHECK=true
mkdir -p "$PP_CACHE"

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0
PLAYWRIGHT_VERSION=1.64.1

log() { printf '[setup] %s\n' "$*"; }

need_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown && return
  log "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
}

need_trunk() {
  if trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then return; fi
  log "installing trunk $TRUNK_VERSION (≈8 min on 2 cores)"
  # trunk's own release profile (fat LTO) doubles the build time for no benefit to us.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=2 CARGO_TARGET_DIR="$PP_CACHE/tool-build" \
    cargo install --locked "trunk@$TRUNK_VERSION"
}

need_wasm_bindgen() {
  if wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then return; fi
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (≈3 min)"
  # Not --locked: its lockfile pins a crate version this registry lacks.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_TARGET_DIR="$PP_CACHE/tool-build" \
    cargo install --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
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

need_all() {
  need_wasm_target
  need_chromium
  need_npm_tools
  need_wasm_bindgen
  need_trunk
}
