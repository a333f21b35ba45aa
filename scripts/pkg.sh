#!/usr/bin/env bash
# Builds the embeddable widgets (src/bin/widget.rs) into pkg/: an ES module a lecturer imports
# in their own slide page (README "Embedding a widget in your slides"). cargo builds the
# `widget` bin for wasm32, wasm-bindgen writes the module (`--target web`), binaryen's
# wasm-opt shrinks it.
#   scripts/pkg.sh          the release build (wasm-opt -Oz), as ./scripts/serve.sh makes it
#   scripts/pkg.sh --test   the browser tests' build: the wasm-test profile and the `wgpu`
#                           feature of the test page's build (scripts/test.sh), so it reuses
#                           every compiled dependency of that build; no wasm-opt
# Installs what is missing first (wasm32 target, wasm-bindgen-cli, binaryen); nothing is
# downloaded from outside the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

test_build=false
case "${1:-}" in
  --test) test_build=true ;;
  "") ;;
  *) echo "usage: scripts/pkg.sh [--test]" >&2; exit 2 ;;
esac

need_wasm_target
need_npm_tools
need_wasm_bindgen

if $test_build; then
  profile=wasm-test
  cargo build --locked --profile "$profile" --target wasm32-unknown-unknown --features wgpu --bin widget
else
  profile=release
  cargo build --locked --release --target wasm32-unknown-unknown --bin widget
fi

out=pkg
rm -rf "$out"
"$CARGO_BIN/wasm-bindgen" --target web --out-dir "$out" --out-name pretrain_playground \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/widget.wasm"
if ! $test_build; then
  "$PP_CACHE/npm/node_modules/.bin/wasm-opt" -Oz --enable-simd --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    --enable-reference-types --enable-multivalue \
    -o "$out/pretrain_playground_bg.wasm" "$out/pretrain_playground_bg.wasm"
fi
version=$(grep -m1 '^version' Cargo.toml | cut -d'"' -f2)
cat >"$out/package.json" <<EOF
{
  "name": "pretrain-playground-widgets",
  "version": "$version",
  "description": "Pretraining Playground's pictures for a slide page: mask matrices and the comparison scatter.",
  "type": "module",
  "main": "pretrain_playground.js",
  "types": "pretrain_playground.d.ts",
  "files": ["pretrain_playground.js", "pretrain_playground_bg.wasm", "pretrain_playground.d.ts", "pretrain_playground_bg.wasm.d.ts"],
  "license": "MIT OR Apache-2.0"
}
EOF
ls -l "$out"
