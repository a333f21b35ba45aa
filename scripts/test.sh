#!/usr/bin/env bash
# Runs every test: native unit and property tests, then the app built for the browser and
# clicked through in headless Chromium (CPU fallback and WebGPU), and the embeddable widgets
# of pkg/ mounted in a plain slide page. Installs what is missing first. Prints each phase's
# time and how many tests of each kind ran. This is the README's test command and exactly what
# CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

declare -a PHASES=()
phase() {
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name ==="
  "$@"
  local took=$((SECONDS - start))
  PHASES+=("$(printf '%-16s %4d s' "$name" "$took")")
  echo "=== $name: ${took} s ==="
}

LOGS=$(mktemp -d)
native_tests() {
  cargo test --locked --no-fail-fast 2>&1 | tee "$LOGS/native.log"
  return "${PIPESTATUS[0]}"
}
bench_quick() {
  # Proves the bench command works, natively and in the page (headless Chromium, CPU and
  # WebGPU paths), on the test builds; the figures are not looked at.
  NODE_PATH="$PP_CACHE/npm/node_modules" \
    "$CARGO_TARGET_DIR/debug/pretrain-playground" bench --quick --page --dist dist --out "$LOGS/bench.json"
}
wasm_build() {
  # The wasm-test profile (Cargo.toml: dependencies at opt-level 1, no debuginfo) and no
  # wasm-opt: the test build is chosen for build time; the serve command makes the optimised
  # release build. All three bins are built with the same features (`wgpu`), so burn and its
  # dependencies compile once, not once per feature set: the page, the WebGPU worker and the
  # CPU worker run the same code as in the release build, the CPU worker with WebGPU code
  # linked in but never asked for.
  sed -E -e 's/(data-trunk rel="rust" data-bin="(app|worker_cpu)")/\1 data-cargo-features="wgpu"/' \
    -e 's/(data-trunk rel="rust")/\1 data-cargo-profile="wasm-test"/' \
    index.html >test-index.html
  trunk build --locked=true test-index.html
}
browser_tests() {
  NODE_PATH="$PP_CACHE/npm/node_modules" node --test --test-reporter=spec tests/e2e/ 2>&1 | tee "$LOGS/browser.log"
  return "${PIPESTATUS[0]}"
}

# trunk and wasm-bindgen-cli are only needed from the wasm build on, so on a new machine they
# compile in the background while the native build and tests run: each of those has long
# stretches that keep one core busy (big crates, linking, a slow test), which the other fills.
# Their own session, so a failing run stops them too.
start_cargo_tools() {
  setsid bash -c 'source scripts/setup.sh && need_cargo_tools' >"$LOGS/tools.log" 2>&1 &
  TOOLS_PID=$!
  trap 'kill -- -"$TOOLS_PID" 2>/dev/null || true' EXIT
}
wait_cargo_tools() {
  local status=0
  wait "$TOOLS_PID" || status=$?
  trap - EXIT
  cat "$LOGS/tools.log"
  return "$status"
}

phase "install" need_all_but_cargo_tools
start_cargo_tools
phase "native build" cargo build --locked --tests --bins
phase "native tests" native_tests
phase "tools (waited)" wait_cargo_tools
phase "wasm build" wasm_build
phase "pkg build" scripts/pkg.sh --test
phase "browser tests" browser_tests
phase "bench (quick)" bench_quick

native_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$LOGS/native.log" | awk '{s+=$4} END {print s+0}')
browser_passed=$(grep -Eo '^ℹ pass [0-9]+' "$LOGS/browser.log" | awk '{print $3}' | tail -1)
browser_passed=${browser_passed:-0}
echo
echo "=== phase times ==="
printf '%s\n' "${PHASES[@]}"
printf '%-16s %4d s\n' "total" "$SECONDS"
echo "native tests passed:  $native_passed"
echo "browser tests passed: $browser_passed"
echo "all: $((native_passed + browser_passed)) passed, 0 failed"
