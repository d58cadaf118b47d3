#!/usr/bin/env bash
# What the build sandbox costs, as a user runs it: `casper-repro build --no-cache` of the fixture
# contract (testdata/contracts -p multi_ep, wasm32v1-none) with and without --sandbox, in
# alternating rounds so that machine drift slows both alike. Without the sandbox, cargo reuses the
# cache's shared target directory (dependencies compiled once); with it, every build compiles its
# dependencies in a private target. Checks that both outputs are byte-identical.
#
#   benches/sandbox-cost.sh [ROUNDS]     (default 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rounds=${1:-3}
cargo build -q -p repro-cli --locked
bin=${CASPER_REPRO:-$root/target/debug/casper-repro}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { # name, extra flags...
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" -q build testdata/contracts -p multi_ep --target wasm32v1-none --no-cache \
    --cache-dir "$work/cache" --out-dir "$work/out-$name" "$@" >/dev/null
  t1=$(date +%s.%N)
  echo "$name $(echo "$t1 - $t0" | bc)" >> "$work/times"
}
run warmup # fills the shared target once, as any earlier build would have
for _ in $(seq "$rounds"); do
  run plain
  run sandboxed --sandbox
done
cmp "$work/out-plain/multi_ep.wasm" "$work/out-sandboxed/multi_ep.wasm"
python3 - "$work/times" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    t.setdefault(k, []).append(float(v))
p, s = statistics.median(t["plain"]), statistics.median(t["sandboxed"])
print(f"rounds: {len(t['plain'])}; outputs byte-identical")
print(f"build --no-cache            median {p:6.2f} s  (all: {', '.join(f'{x:.2f}' for x in t['plain'])})")
print(f"build --no-cache --sandbox  median {s:6.2f} s  (all: {', '.join(f'{x:.2f}' for x in t['sandboxed'])})")
print(f"sandboxed / plain: {s / p:.1f}x")
PY
