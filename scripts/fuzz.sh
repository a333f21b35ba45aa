#!/usr/bin/env bash
# Runs one fuzz harness (src/fuzz) under libFuzzer, coverage-guided: opt-in, outside CI.
#   scripts/fuzz.sh TARGET [RUNS] [SECONDS]
# TARGET is url, messages, own_text or saved_run; it stops after RUNS inputs (default 100000)
# or SECONDS (default 1200), whichever comes first. An input that panics or runs longer than
# 10 s is a finding: libFuzzer stops and writes it to fuzz/artifacts/TARGET/. The corpus it
# grows is kept in fuzz/corpus/TARGET/ for the next run. Needs a nightly toolchain and a C++
# compiler (libFuzzer is built from source by libfuzzer-sys).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
target=${1:?usage: scripts/fuzz.sh url|messages|own_text|saved_run [RUNS] [SECONDS]}
runs=${2:-100000}
seconds=${3:-1200}
export CARGO_TARGET_DIR="${PP_CACHE:-$HOME/.cache/pretrain-playground}/fuzz-target"
cargo +nightly build --release --locked --bin "$target"
mkdir -p "corpus/$target" "artifacts/$target"
exec "$CARGO_TARGET_DIR/release/$target" -runs="$runs" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="artifacts/$target/" "corpus/$target"
