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
inputs=("testdata/wasm/big.wasm:$(eps big)" "testdata/wasm/multi_ep.wasm:$(eps multi_ep)")

cargo build --release --locked --manifest-path oracles/ee-7.0.3/Cargo.toml --bin bench-ee-7-0-3 >&2
cargo bench --locked -p repro-core --bench replay --no-run >&2

engine=$(oracles/ee-7.0.3/target/release/bench-ee-7-0-3 --iterations "$iterations" "${inputs[@]}")
ours=$(cargo bench --locked -q -p repro-core --bench replay -- --protocol 1.5.8 --iterations "$iterations" "${inputs[@]}")

python3 - "$engine" "$ours" <<'PY'
import json, sys
engine = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
ours = [json.loads(l) for l in sys.argv[2].splitlines() if l.strip()]
print(f"{'input':<32} {'bytes':>8} {'engine median':>14} {'repro-core median':>18} {'ratio':>7}")
for e, o in zip(engine, ours):
    assert e["file"] == o["file"], (e, o)
    ratio = o["median_ns"] / e["median_ns"]
    print(f"{e['file']:<32} {e['bytes']:>8} {e['median_ns']/1e6:>11.2f} ms {o['median_ns']/1e6:>15.2f} ms {ratio:>7.3f}")
PY
