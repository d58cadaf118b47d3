#!/usr/bin/env bash
# Run the real execution engines (one Cargo project per engine line under oracles/) on every
# scenario of testdata/scenarios.json, for every protocol configuration listed in
# oracles/<engine>/configs.txt, and write their answers under testdata/oracle/.
#
#   oracles/run.sh [--check] [ENGINE ...]     ENGINE = directory name, e.g. ee-7.0.3
#
# --check regenerates into a temporary directory and fails if any answer differs from the committed
# one (CI). Chainspec files named in configs.txt are read from $CASPER_REPRO_CHAINSPECS
# (default: ../shared/chainspecs beside the repository).
#
# ORACLE_TARGET_DIR, when set, is one Cargo target directory shared by all oracle projects
# (dependency builds they have in common are reused; CI sets it). Default: each project's own.
#
# configs.txt: one configuration per line, `PROTOCOL SOURCE`, where SOURCE is `bundled` (the
# engine's own bundled chainspec / defaults) or a chainspec file name. `#` starts a comment.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
chainspecs=${CASPER_REPRO_CHAINSPECS:-$root/../shared/chainspecs}
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi

if [ $# -gt 0 ]; then engines=("$@"); else
  engines=(); for d in "$root"/oracles/ee-*/; do engines+=("$(basename "$d")"); done
fi

if [ $check = 1 ]; then out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; else out=$root/testdata/oracle; fi
mkdir -p "$out/blobs"

for e in "${engines[@]}"; do
  dir=$root/oracles/$e
  [ -f "$dir/configs.txt" ] || { echo "error: $dir/configs.txt missing" >&2; exit 2; }
  target=${ORACLE_TARGET_DIR:-$dir/target}
  name=oracle-${e//./-}
  echo "==> building oracle $e" >&2
  start=$(date +%s)
  CARGO_TARGET_DIR=$target cargo build --release --locked --manifest-path "$dir/Cargo.toml" --bin "$name" >&2
  echo "==> built $e in $(( $(date +%s) - start )) s" >&2
  bin=$target/release/$name
  [ -x "$bin" ] || { echo "error: no $name binary in $target/release" >&2; exit 2; }
  while read -r protocol source _; do
    case "$protocol" in ''|'#'*) continue;; esac
    args=(--scenarios "$root/testdata/scenarios.json" --wasm-dir "$root/testdata/wasm" --out "$out" --protocol "$protocol")
    if [ "$source" != "bundled" ]; then
      [ -f "$chainspecs/$source" ] || { echo "error: chainspec $chainspecs/$source not found (set CASPER_REPRO_CHAINSPECS)" >&2; exit 2; }
      args+=(--chainspec "$chainspecs/$source")
    fi
    echo "==> $e protocol $protocol ($source)" >&2
    (cd "$dir" && "$bin" "${args[@]}")
  done < "$dir/configs.txt"
done

if [ $check = 1 ]; then
  status=0
  for e in "${engines[@]}"; do
    if ! diff -r "$out/$e" "$root/testdata/oracle/$e" >&2; then
      echo "error: oracle answers of $e differ from testdata/oracle/$e" >&2; status=1
    fi
  done
  for b in "$out"/blobs/*.wasm; do
    [ -e "$b" ] || continue
    if ! cmp -s "$b" "$root/testdata/oracle/blobs/$(basename "$b")"; then
      echo "error: blob $(basename "$b") missing or different in testdata/oracle/blobs" >&2; status=1
    fi
  done
  [ $status = 0 ] && echo "oracle answers reproduced for: ${engines[*]}" >&2
  exit $status
fi
