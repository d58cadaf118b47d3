#!/usr/bin/env bash
# What the compile cache saves sandboxed builds: `casper-repro build --sandbox --no-cache` of the
# fixture contract (testdata/contracts -p multi_ep, wasm32v1-none), N times without a compile
# cache and N times with a warm one, in alternating rounds so that machine drift slows both alike.
# --no-cache keeps the result cache from short-circuiting any build. Prints the wall time of every
# build, the medians and their ratio, each build's compile-cache hit or miss (from its provenance),
# and the sha256 of every artifact; fails unless all artifacts are identical.
#
#   benches/compile-cache.sh [N]     (default 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-3}
cargo build -q -p repro-cli --locked
bin=${CASPER_REPRO:-$root/target/debug/casper-repro}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
i=0
run() { # name, extra flags...
  local name=$1; shift
  local t0 t1 out
  i=$((i + 1))
  out="$work/out-$i"
  t0=$(date +%s.%N)
  "$bin" -q build testdata/contracts -p multi_ep --target wasm32v1-none --sandbox --no-cache \
    --cache-dir "$work/cache" --out-dir "$out" "$@" >/dev/null
  t1=$(date +%s.%N)
  python3 - "$name" "$(echo "$t1 - $t0" | bc)" "$out" >> "$work/results" <<'PY'
import hashlib, json, sys
name, secs, out = sys.argv[1], sys.argv[2], sys.argv[3]
sha = hashlib.sha256(open(f"{out}/multi_ep.wasm", "rb").read()).hexdigest()
cc = json.load(open(f"{out}/multi_ep.provenance.json")).get("compile_cache")
state = "-" if cc is None else ("hit" if cc["hit"] else "miss") + ("+stored" if cc["stored"] else "")
deps = "-" if cc is None else str(len(cc["dependencies_compiled"]))
print(name, secs, state, deps, sha)
PY
}
# Warms the compile cache once, as the first trusted build of this lock would have.
run warmup --compile-cache "$work/cc" --compile-cache-write
for _ in $(seq "$n"); do
  run without
  run with --compile-cache "$work/cc"
done
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print(f"{'build':8} {'wall s':>7}  {'cache':12} {'deps compiled':>13}  sha256")
for name, secs, state, deps, sha in rows:
    print(f"{name:8} {float(secs):7.2f}  {state:12} {deps:>13}  {sha}")
t = {}
for name, secs, *_ in rows:
    t.setdefault(name, []).append(float(secs))
w, c = statistics.median(t["without"]), statistics.median(t["with"])
hits = sum(1 for r in rows if r[0] == "with" and r[2] == "hit")
print(f"N={len(t['without'])}: without compile cache median {w:.2f} s; with (warm) median {c:.2f} s; "
      f"without/with {w / c:.1f}x; hits {hits}/{len(t['with'])}")
shas = {r[4] for r in rows}
if len(shas) != 1:
    sys.exit(f"artifacts differ: {sorted(shas)}")
print(f"all {len(rows)} artifacts byte-identical: {shas.pop()}")
PY
