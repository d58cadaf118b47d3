#!/usr/bin/env bash
# Whole-process `casper-repro replay` next to the node's own pipeline as a whole process
# (`bench-ee-7-0-3 --once`: read the file, casper-execution-engine 7.0.3's preprocess +
# get_module_from_entry_points, write the stored module), in one run, on the same inputs:
# the largest fixture (big.wasm, 379 KB) and a typical one (multi_ep). Protocol 1.5.8.
#
#   benches/replay-process.sh [RUNS]
#
# Both binaries are built with the same Cargo release profile; set CARGO_PROFILE_RELEASE_LTO /
# CARGO_PROFILE_RELEASE_CODEGEN_UNITS to compare under another one (casper-node's own release
# profile is `lto = true`, `codegen-units = 1`). OUR_TARGET_DIR / ORACLE_TARGET_DIR choose the
# target dirs (defaults: target, target/oracles).
#
# Prints, per input: wall time (median and fastest of RUNS alternating runs) and CPU time
# (perf stat task-clock, when perf works here) of the engine, `casper-repro replay` (default text
# report) and `casper-repro -v replay` (detailed record: the size after every step), and the
# ratios to the engine. Then instructions per whole process under callgrind (deterministic; note
# that valgrind hides SHA-NI, so casper-repro's sha256 of the output counts in software there).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-40}
ours_target=${OUR_TARGET_DIR:-$root/target}
engine_target=${ORACLE_TARGET_DIR:-$root/target/oracles}
CARGO_TARGET_DIR=$engine_target cargo build --release --locked --manifest-path oracles/ee-7.0.3/Cargo.toml --bin bench-ee-7-0-3 >&2
CARGO_TARGET_DIR=$ours_target cargo build --release --locked -p repro-cli >&2
engine=$engine_target/release/bench-ee-7-0-3
ours=$ours_target/release/casper-repro

eps() { python3 -c "import json,sys; d=json.load(open('testdata/oracle/ee-7.0.3/1.5.8/$1.json')); print(','.join(d['steps'][0]['contracts'][0]['entry_points']))"; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

for name in big multi_ep; do
  input=testdata/wasm/$name.wasm
  e=$(eps "$name")
  engine_cmd=("$engine" --once "$input:$e" "$out/engine.wasm")
  ours_cmd=("$ours" replay --protocol 1.5.8 -e "$e" "$input" -o "$out/ours.wasm")
  verbose_cmd=("$ours" -v replay --protocol 1.5.8 -e "$e" "$input" -o "$out/ours-v.wasm")
  "${engine_cmd[@]}"; "${ours_cmd[@]}" >/dev/null; "${verbose_cmd[@]}" >/dev/null 2>&1
  cmp "$out/engine.wasm" "$out/ours.wasm" && cmp "$out/engine.wasm" "$out/ours-v.wasm" \
    || { echo "error: $name: casper-repro's stored module differs from the engine's" >&2; exit 1; }
  echo "== $name.wasm ($(stat -c %s "$input") bytes), $runs alternating runs"
  python3 - "$runs" "${engine_cmd[*]}" "${ours_cmd[*]}" "${verbose_cmd[*]}" <<'PY'
import statistics, subprocess, sys, time
runs = int(sys.argv[1])
cmds = [c.split(" ") for c in sys.argv[2:]]
names = ["engine --once", "casper-repro replay", "casper-repro -v replay"]
times = [[] for _ in cmds]
for _ in range(runs):
    for i, c in enumerate(cmds):
        t = time.perf_counter()
        subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times[i].append(time.perf_counter() - t)
base_med, base_min = statistics.median(times[0]), min(times[0])
for n, t in zip(names, times):
    med, mn = statistics.median(t), min(t)
    print(f"  wall  {n:<24} median {med*1e3:7.2f} ms  min {mn*1e3:7.2f} ms  ratio {med/base_med:5.3f} (median) {mn/base_min:5.3f} (min)")
PY
  if perf stat -e task-clock true >/dev/null 2>&1; then
    for label in engine ours verbose; do
      case $label in
        engine) cmd=("${engine_cmd[@]}");; ours) cmd=("${ours_cmd[@]}");; verbose) cmd=("${verbose_cmd[@]}");;
      esac
      ms=$(perf stat -x, -r "$runs" -e task-clock "${cmd[@]}" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}')
      echo "  cpu   $label task-clock ${ms} ms (mean of $runs)"
    done
  fi
  if command -v valgrind >/dev/null 2>&1; then
    count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
    ie=$(count "${engine_cmd[@]}"); io=$(count "${ours_cmd[@]}"); iv=$(count "${verbose_cmd[@]}")
    python3 -c "print(f'  instr engine {$ie:,}  replay {$io:,} ({$io/$ie:.3f})  -v replay {$iv:,} ({$iv/$ie:.3f})')"
  fi
done
