#!/usr/bin/env bash
# Replay throughput of repro-core next to the real engine's own preprocess + optimize, in one run,
# on the same inputs: the largest fixture (testdata/wasm/big.wasm, ≥ 250 KB) and a typical one
# (multi_ep). Protocol 1.5.8 (casper-execution-engine 7.0.3, the oracle project oracles/ee-7.0.3).
#
#   benches/side-by-side.sh [ITERATIONS]
#
# ORACLE_TARGET_DIR, when set, is the oracle projects' shared Cargo target dir (as for
# oracles/run.sh); default oracles/ee-7.0.3/target.
# Prints each tool's JSON line per input and the ratio repro-core / engine of the median times
# (< 1 means repro-core is faster).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
iterations=${1:-30}

# Entry points as the engine stored them (from the committed oracle answers).
eps() { python3 -c "import json,sys; d=json.load(open('testdata/oracle/ee-7.0.3/1.5.8/$1.json')); print(','.join(d['steps'][0]['contracts'][0]['entry_points']))"; }
inputs=("$root/testdata/wasm/big.wasm:$(eps big)" "$root/testdata/wasm/multi_ep.wasm:$(eps multi_ep)")

engine_target=${ORACLE_TARGET_DIR:-$root/oracles/ee-7.0.3/target}
engine_bin=$engine_target/release/bench-ee-7-0-3
CARGO_TARGET_DIR=$engine_target cargo build --release --locked --manifest-path oracles/ee-7.0.3/Cargo.toml --bin bench-ee-7-0-3 >&2
cargo bench --locked -p repro-core --bench replay --no-run >&2

# Alternate the two tools over several rounds so that both see the same machine load, and
# compare the fastest run of each (the least disturbed by other processes).
rounds=${ROUNDS:-3}
engine_runs=""; our_runs=""
for _ in $(seq "$rounds"); do
  engine_runs+=$("$engine_bin" --iterations "$iterations" "${inputs[@]}")$'\n'
  our_runs+=$(cargo bench --locked -q -p repro-core --bench replay -- --protocol 1.5.8 --iterations "$iterations" "${inputs[@]}")$'\n'
done

python3 - "$engine_runs" "$our_runs" "$rounds" "$iterations" <<'PY'
import json, sys
def best(text):
    out = {}
    for line in text.splitlines():
        if line.strip():
            d = json.loads(line)
            prev = out.get(d["file"])
            if prev is None or d["min_ns"] < prev["min_ns"]:
                out[d["file"]] = d
    return out
engine, ours = best(sys.argv[1]), best(sys.argv[2])
print(f"{sys.argv[3]} alternating rounds x {sys.argv[4]} iterations; fastest single replay of each tool:")
print(f"{'input':<16} {'bytes':>8} {'engine':>10} {'repro-core':>11} {'ratio':>7}")
for f, e in engine.items():
    o = ours[f]
    ratio = o["min_ns"] / e["min_ns"]
    name = f.rsplit("/", 1)[-1]
    print(f"{name:<16} {e['bytes']:>8} {e['min_ns']/1e6:>7.2f} ms {o['min_ns']/1e6:>8.2f} ms {ratio:>7.3f}")
PY

# Wall-clock time on a shared machine is noisy; instructions executed are not. Under callgrind,
# run each tool twice with different iteration counts; the difference divided by the number of
# extra replays is the instruction count of one replay (setup and file reading cancel out).
# bench-ee-7-0-3 runs min(10, N) warm-up replays before N timed ones; repro-core's bench runs 3.
if [ "${INSTRUCTIONS:-1}" = 1 ] && command -v valgrind >/dev/null 2>&1; then
  count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
  ours_bin=$(ls -t target/release/deps/replay-* | grep -v '\.d$' | head -n1)
  echo
  echo "instructions per replay (callgrind; engine / repro-core):"
  for input in "${inputs[@]}"; do
    e2=$(count "$engine_bin" --iterations 2 "$input")
    e4=$(count "$engine_bin" --iterations 4 "$input")
    o2=$(count "$ours_bin" --protocol 1.5.8 --iterations 2 "$input")
    o4=$(count "$ours_bin" --protocol 1.5.8 --iterations 4 "$input")
    python3 -c "
e = ($e4 - $e2) / 4   # engine: (4+4) - (2+2) replays
o = ($o4 - $o2) / 2   # repro-core: (3+4) - (3+2) replays
print(f'{\"$input\".split(\":\")[0].rsplit(\"/\", 1)[-1]:<16} {e:>14,.0f} {o:>14,.0f}   ratio {o / e:.3f}')"
  done
fi
