#!/usr/bin/env bash
# Regenerate the node JSON-RPC bundles under testdata/rpc/ from the real execution engines:
#   rpc-ee-7-0-3 (oracles/ee-7.0.3, node 1.5.8)  -> testdata/rpc/node-1.5.8-*
#   rpc-ee-8-1-1 (oracles/ee-8.1.1, node 2.0.3)  -> testdata/rpc/sidecar-2.0.3-*
#     (including the multi-era finality chains sidecar-2.0.3-finality*, with chain.json)
#
#   oracles/rpc-fixtures.sh [--check]
#
# --check regenerates into a temporary directory and fails if any file differs from the committed
# one (CI). ORACLE_TARGET_DIR: as for oracles/run.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check=0
if [ "${1:-}" = "--check" ]; then check=1; fi
if [ $check = 1 ]; then out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; else out=$root/testdata/rpc; fi
mkdir -p "$out"

for e in ee-7.0.3 ee-8.1.1; do
  dir=$root/oracles/$e
  target=${ORACLE_TARGET_DIR:-$dir/target}
  name=rpc-${e//./-}
  echo "==> building $name" >&2
  CARGO_TARGET_DIR=$target cargo build --release --locked --manifest-path "$dir/Cargo.toml" --bin "$name" >&2
  (cd "$root" && "$target/release/$name" --wasm-dir "$root/testdata/wasm" --out "$out")
done

if [ $check = 1 ]; then
  if diff -r "$out" "$root/testdata/rpc" >&2; then
    echo "rpc bundles reproduced: $(ls "$out" | wc -l) cases" >&2
  else
    echo "error: the engines' JSON-RPC bundles differ from testdata/rpc" >&2
    exit 1
  fi
fi
