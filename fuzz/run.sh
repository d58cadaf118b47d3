#!/usr/bin/env bash
# Runs the repro-diff fuzz targets (inspect, then diff) for a bounded time in total.
# Usage: fuzz/run.sh SECONDS   (default 60; each target gets half)
# Needs: a nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz
# (`cargo install cargo-fuzz --locked`). Override the toolchain with FUZZ_TOOLCHAIN.
# Seeds: every .wasm under testdata/wasm (for diff: each module paired with itself and its
# neighbour). Exit status: 0 no crash, non-zero a crash (artifacts in fuzz/artifacts/) or setup error.
set -euo pipefail
secs="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
cd "$here"
if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
  echo "error: no '$toolchain' toolchain; install it with: rustup toolchain install nightly --profile minimal" >&2
  exit 2
fi
if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
  echo "error: cargo-fuzz is missing; install it with: cargo install cargo-fuzz --locked" >&2
  exit 2
fi
mkdir -p corpus/inspect corpus/diff
prev=""
for f in ../testdata/wasm/*.wasm; do
  [ -e "$f" ] || continue
  name="$(basename "$f" .wasm)"
  cp "$f" "corpus/inspect/seed-$name"
  { printf '\x80'; cat "$f" "$f"; } > "corpus/diff/seed-$name-self"
  if [ -n "$prev" ]; then
    # Split byte 0x80 puts B at half of the rest: only right for equal sizes, which is fine for a seed.
    { printf '\x80'; cat "$prev" "$f"; } > "corpus/diff/seed-$name-prev"
  fi
  prev="$f"
done
half=$(( secs / 2 > 1 ? secs / 2 : 1 ))
for target in inspect diff; do
  echo "fuzzing $target for ${half}s" >&2
  cargo "+$toolchain" fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$half" -rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1
done
