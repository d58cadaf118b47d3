#!/usr/bin/env bash
# Overhead of `casper-repro build` against the same bare `cargo build`, cold and warm, and the
# cache-hit time, on the real erc20 fixture (casper-erc20-crate 0.1.3, nightly-2023-03-25).
#
#   crates/repro-build/benches/build_overhead.sh [path/to/casper-repro]
#
# Both sides get the same lock (reconstructed as of 2023-04-30, casper-types 1.6.0 pinned), the
# same toolchain, the same registry cache (fetched before timing), and an empty target dir for
# "cold". "warm": dependencies compiled, the contract crate itself rebuilt (bare: after touching
# its source; casper-repro: --no-cache, which always builds a fresh private copy).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../../target/release/casper-repro}
tc=nightly-2023-03-25
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/../tests/fixtures/erc20-2023" "$work/src"
cd "$work/src"
rustup toolchain install "$tc" --profile minimal --target wasm32-unknown-unknown >/dev/null 2>&1
cargo +nightly generate-lockfile -Zunstable-options --publish-time 2023-04-30T23:59:59Z -q
cargo +nightly update -Zunstable-options -q -p casper-types@1.5.0 --precise 1.6.0
sed -i 's/^version = 4$/version = 3/' Cargo.lock
cargo +"$tc" fetch --locked -q

secs() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc; }
bare() { cargo +"$tc" build --release --locked --offline --target wasm32-unknown-unknown --target-dir "$work/bare-target"; }
ours() { "$bin" -q build "$work/src" --cache-dir "$work/cache" --out-dir "$work/out" "$@"; }

# REVERSE=1 runs casper-repro's cold build first (the first cold build of a pair pays for a
# colder page cache; alternate to see the noise).
if [ "${REVERSE:-0}" = 1 ]; then
  cold_ours=$(secs ours --no-cache)
  cold_bare=$(secs bare)
else
  cold_bare=$(secs bare)
  cold_ours=$(secs ours --no-cache)
fi
touch src/main.rs
warm_bare=$(secs bare)
warm_ours=$(secs ours --no-cache)
ours >/dev/null 2>&1 # fill the cache
hit=$(secs ours)
cmp "$work/bare-target/wasm32-unknown-unknown/release/erc20_token.wasm" "$work/out/erc20_token.wasm" \
  && same=identical || same=DIFFERENT
printf '%-28s %10s %10s %9s\n' step "cargo (s)" "repro (s)" overhead
printf '%-28s %10.2f %10.2f %8.1f%%\n' "cold (empty target dir)" "$cold_bare" "$cold_ours" \
  "$(echo "($cold_ours - $cold_bare) * 100 / $cold_bare" | bc -l)"
printf '%-28s %10.2f %10.2f %8.1f%%\n' "warm (contract rebuilt)" "$warm_bare" "$warm_ours" \
  "$(echo "($warm_ours - $warm_bare) * 100 / $warm_bare" | bc -l)"
printf '%-28s %10s %10.3f\n' "cache hit" "-" "$hit"
echo "bare cargo and casper-repro bytes: $same"
