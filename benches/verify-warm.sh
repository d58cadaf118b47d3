#!/usr/bin/env bash
# Warm end-to-end verification: the build is a cache hit, the node answers come from a local
# bundle. Runs, alternating in each round, side by side:
#   full    verify testdata/contracts -p multi_ep --bundle ...   (build cache hit + 3 stages)
#   replay  verify --bundle ...                                  (stage 2 only, no source)
#   build   build testdata/contracts -p multi_ep                 (the cache hit alone)
# and prints min / median wall-clock of each, and full / replay and full / build ratios.
#
#   benches/verify-warm.sh [ROUNDS]      (default 15)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rounds=${1:-15}
cargo build --release --locked -q -p repro-cli
bin=$root/target/release/casper-repro
cache=$(mktemp -d); out=$(mktemp -d); trap 'rm -rf "$cache" "$out"' EXIT
bundle=testdata/rpc/node-1.5.8-deploy-multi_ep
build=(build testdata/contracts -p multi_ep --target wasm32v1-none --cache-dir "$cache" --out-dir "$out/o" -q)
full=(verify testdata/contracts -p multi_ep --target wasm32v1-none --cache-dir "$cache" --bundle "$bundle" -q)
replay=(verify --bundle "$bundle" -q)
"$bin" "${build[@]}" >/dev/null   # cold: fill the cache
"$bin" "${full[@]}" >/dev/null || { echo "error: the warm verification is not verified" >&2; exit 2; }

now() { date +%s%N; }
declare -a t_full t_replay t_build
for ((i = 0; i < rounds; i++)); do
  s=$(now); "$bin" "${full[@]}" >/dev/null; t_full+=($(( ($(now) - s) / 1000 )))
  s=$(now); "$bin" "${replay[@]}" >/dev/null; t_replay+=($(( ($(now) - s) / 1000 )))
  rm -rf "$out/o"
  s=$(now); "$bin" "${build[@]}" >/dev/null; t_build+=($(( ($(now) - s) / 1000 )))
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%d %d", a[1], a[int((NR+1)/2)]}'; }
read -r fmin fmed <<<"$(stats "${t_full[@]}")"
read -r rmin rmed <<<"$(stats "${t_replay[@]}")"
read -r bmin bmed <<<"$(stats "${t_build[@]}")"
printf '%-8s %10s %12s   (%d rounds, microseconds)\n' what min median "$rounds"
printf '%-8s %10d %12d\n' full "$fmin" "$fmed" replay "$rmin" "$rmed" build "$bmin" "$bmed"
awk -v f="$fmed" -v r="$rmed" -v b="$bmed" 'BEGIN {printf "median ratios: full/replay %.2f, full/build-cache-hit %.2f; full = %.3f s (target < 1 s)\n", f/r, f/b, f/1e6}'
