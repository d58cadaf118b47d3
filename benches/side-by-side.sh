#!/usr/bin/env bash
# Replay throughput of repro-core next to the real engine's own preprocess + optimize, in one run,
# on the same inputs: the largest fixture (testdata/wasm/big.wasm, ≥ 250 KB) and a typical one
# (multi_ep). Protocol 1.5.8 (casper-execution-engine 7.0.3, the oracle project oracles/ee-7.0.3).
#
#   benches/side-by-side.sh [ITERATIONS]
#
# Prints each tool's JSON line per input and the ratio repro-core / engine of the median times
# (< 1 means repro-core is faster).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
iterations=${1:-30}

# Entry points as the engine stored them (from the committed oracle answers).
eps() { python3 -c "import json,sys; d=json.load(open('testdata/oracle/ee-7.0.3/1.5.8/$1.json')); print(','.join(d['steps'][0]['contracts'][0]['entry_points']))"; }
inputs=("$root/testdata/wasm/big.wasm:$(eps big)" "$root/testdata/wasm/multi_ep.wasm:$(eps multi_ep)")

cargo build --release --locked --manifest-path oracles/ee-7.0.3/Cargo.toml --bin bench-ee-7-0-3 >&2
cargo bench --locked -p repro-core --bench replay --no-run >&2

# Alternate the two tools over several rounds so that both see the same machine load, and
# compare the fastest run of each (the least disturbed by other processes).
rounds=${ROUNDS:-3}
engine_runs=""; our_runs=""
for _ in $(seq "$rounds"); do
  engine_runs+=$(oracles/ee-7.0.3/target/release/bench-ee-7-0-3 --iterations "$iterations" "${inputs[@]}")$'\n'
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
