#!/usr/bin/env bash
# Builds the app for release (wasm-opt -Oz) and serves it on http://127.0.0.1:${PORT:-8080}/.
# Installs the wasm32 target, trunk, wasm-bindgen-cli and binaryen first when they are missing;
# nothing is downloaded from outside the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
check_prerequisites
fetch_crates
need_wasm_target
need_npm_tools
need_cargo_tools
trunk build --release --locked
# The embeddable widgets (pkg/, README "Embedding a widget in your slides").
scripts/pkg.sh
exec node scripts/static-server.cjs dist "${PORT:-8080}"
