#!/usr/bin/env bash
# Whole-process `casper-repro replay` next to the node's own pipeline as a whole process
# (`bench-ee-7-0-3 --once`: read the file, casper-execution-engine 7.0.3's preprocess +
# get_module_from_entry_points, write the stored module), in one run, on the same inputs:
# the largest fixture (big.wasm, 379 KB) and a typical one (multi_ep). Protocol 1.5.8.
#
#   benches/replay-process.sh [RUNS]
#
# Both binaries are built with the same Cargo release profile: casper-node's own (`lto = true`,
# `codegen-units = 1`, which is also this workspace's release profile), unless
# CARGO_PROFILE_RELEASE_LTO / CARGO_PROFILE_RELEASE_CODEGEN_UNITS say otherwise. OUR_TARGET_DIR /
# ORACLE_TARGET_DIR choose the target dirs (defaults: target, target/oracles-lto, kept apart from
# the oracle harness's target/oracles).
#
# Needs hyperfine (Debian package). Prints, per input: wall time (hyperfine, RUNS runs of each
# after warm-ups) and CPU time
# (perf stat task-clock, when perf works here) of the engine, `casper-repro replay` (default text
# report) and `casper-repro -v replay` (detailed record: the size after every step), and the
# ratios to the engine. Then instructions per whole process under callgrind (deterministic; note
# that valgrind hides SHA-NI, so casper-repro's sha256 of the output counts in software there).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-100}
command -v hyperfine >/dev/null || { echo "error: hyperfine is needed (apt-get install hyperfine)" >&2; exit 2; }
export CARGO_PROFILE_RELEASE_LTO=${CARGO_PROFILE_RELEASE_LTO:-fat}
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-1}
ours_target=${OUR_TARGET_DIR:-$root/target}
engine_target=${ORACLE_TARGET_DIR:-$root/target/oracles-lto}
CARGO_TARGET_DIR=$engine_target cargo build --release --locked --manifest-path oracles/ee-7.0.3/Cargo.toml --bin bench-ee-7-0-3 >&2
CARGO_TARGET_DIR=$ours_target cargo build --release --locked -p repro-cli >&2
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
# The binaries are timed as installed (`cargo install` copies them): fresh copies of both, side by
# side. How a file came into the page cache changes the page faults of every start (a file the
# linker has just written through a mapping took 8 to 14 more here than a copy of it).
mkdir "$out/bin"
cp "$engine_target/release/bench-ee-7-0-3" "$ours_target/release/casper-repro" \
  "$ours_target/release/casper-repro-full" "$out/bin/"
engine=$out/bin/bench-ee-7-0-3
ours=$out/bin/casper-repro
# The binary that holds every command; `casper-repro` runs replay itself (crates/repro-cli/src/front.rs).
full=$out/bin/casper-repro-full
listed=$(grep -vc '^#' crates/repro-cli/replay-symbols.txt)
found=$(grep -v '^#' crates/repro-cli/replay-symbols.txt | sort | comm -12 - <(nm "$ours" | awk '{print $3}' | sort) | wc -l)
echo "casper-repro's link order (crates/repro-cli/replay-symbols.txt): $found of $listed functions found in the binary"

eps() { python3 -c "import json,sys; d=json.load(open('testdata/oracle/ee-7.0.3/1.5.8/$1.json')); print(','.join(d['steps'][0]['contracts'][0]['entry_points']))"; }
as_json() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }

for name in big multi_ep; do
  input=testdata/wasm/$name.wasm
  e=$(eps "$name")
  engine_cmd=("$engine" --once "$input:$e" "$out/engine.wasm")
  ours_cmd=("$ours" replay --protocol 1.5.8 -e "$e" "$input" -o "$out/ours.wasm")
  verbose_cmd=("$ours" -v replay --protocol 1.5.8 -e "$e" "$input" -o "$out/ours-v.wasm")
  full_cmd=("$full" replay --protocol 1.5.8 -e "$e" "$input" -o "$out/full.wasm")
  "${engine_cmd[@]}"; "${ours_cmd[@]}" >/dev/null; "${verbose_cmd[@]}" >/dev/null 2>&1
  "${full_cmd[@]}" >/dev/null
  cmp "$out/engine.wasm" "$out/ours.wasm" && cmp "$out/engine.wasm" "$out/ours-v.wasm" \
    && cmp "$out/engine.wasm" "$out/full.wasm" \
    || { echo "error: $name: casper-repro's stored module differs from the engine's" >&2; exit 1; }
  echo "== $name.wasm ($(stat -c %s "$input") bytes), hyperfine: $runs runs each after 10 warm-ups"
  hyperfine -N -w 10 -r "$runs" --export-json "$out/h.json" \
    "${engine_cmd[*]}" "${ours_cmd[*]}" "${verbose_cmd[*]}" >/dev/null 2>&1
  python3 - "$out/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
names = ["engine --once", "casper-repro replay", "casper-repro -v replay"]
base = r[0]["mean"]
for n, x in zip(names, r):
    print(f"  wall  {n:<24} mean {x['mean']*1e3:6.2f} ms ± {x['stddev']*1e3:4.2f}  median {x['median']*1e3:6.2f}  user {x['user']*1e3:5.2f}  ratio {x['mean']/base:5.3f}")
PY
  # The same commands interleaved (engine, replay, engine, replay, ...): on a VM whose speed
  # drifts, the ratio of two sequential hyperfine blocks moves with the drift; this one does not.
  # Third: the same replay in the binary that holds every command, to show what the split buys.
  echo "  interleaved, $runs rounds (benches/interleaved.py):"
  python3 "$root/benches/interleaved.py" "$runs" "$(as_json "${engine_cmd[@]}")" "$(as_json "${ours_cmd[@]}")" \
    "$(as_json "${full_cmd[@]}")"
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
