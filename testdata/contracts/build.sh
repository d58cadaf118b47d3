#!/usr/bin/env bash
# Builds every fixture contract into testdata/wasm/ and regenerates the fixture table in
# testdata/README.md (see docs/oracle-harness.md).
#
#   testdata/contracts/build.sh            build, copy to testdata/wasm/, verify, write README
#   testdata/contracts/build.sh --check    also rebuild everything in a fresh target directory and
#                                          fail unless the bytes are identical to testdata/wasm/
#
# Toolchain: rust-toolchain.toml (1.95.0, target wasm32v1-none). wabt (wasm-strip, wasm-objdump,
# wasm2wat) and python3 are needed. Each distinct set of RUSTFLAGS gets its own target directory
# (target/<flagset>), so switching fixtures never rebuilds dependencies.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
TESTDATA="$(cd .. && pwd)"
OUT="$TESTDATA/wasm"
TARGET=wasm32v1-none
TARGET_ROOT="${TARGET_ROOT:-$HERE/target}"
CHECK=0
[[ "${1:-}" == "--check" ]] && CHECK=1
# Some outputs embed panic-location paths of registry sources (CARGO_HOME). Map the local
# CARGO_HOME to the one the committed bytes were built with, so any machine gets the same bytes.
CARGO_HOME_DIR="${CARGO_HOME:-$HOME/.cargo}"
REMAP="--remap-path-prefix=$CARGO_HOME_DIR=/root/.cargo"
REPRO="not re-checked by the last build.sh run (run build.sh --check)"

# name | flagset (target dir) | RUSTFLAGS (space separated; none = "-") | what it demonstrates
FIXTURES=(
  "multi_ep|mvp|-|one contract with entry points inc/get/dispatch; dead exported functions (unused_reset, unused_double, unused_tag) and the session \`call\`; a function table used through call_indirect (fn pointers and trait objects chosen from block time) in \`dispatch\`"
  "two_contracts|mvp|-|one session, two new_contract calls from the same module: {inc, get} and {get, reset, double}"
  "locked|mvp|-|new_locked_contract with entry points ping/get; unused_poke is dead code"
  "upgrade_install|mvp|-|create_contract_package_at_hash + add_contract_version (v1: inc, get_v1); package hash under upgrade_package, access URef under upgrade_access"
  "upgrade_v2|mvp|-|reads upgrade_package and calls add_contract_version on the existing package with a different entry-point set (inc, get, reset); run after upgrade_install"
  "factory|mvp|-|installs factory_contract (create, child_inc, child_get); its \`create\` entry point calls new_contract(child_inc, child_get), so the child is derived from the factory's stored module"
  "args_entry_points|mvp|-|entry points named by the runtime arg entry_points: Vec<String>, chosen among exported alpha/beta/gamma/delta"
  "sign_ext|sign-ext|-Ctarget-feature=+sign-ext|sign-extension opcodes (0xC0-0xC4) on run-time values in the session and in the entry point \`narrow\` (rejected by 1.x, accepted by 2.0)"
  "memory_grow|mvp|-|explicit memory.grow in the session and in the entry point \`grow\`; growing allocator"
  "table_no_max|growable-table|-Clink-arg=--growable-table|function table without maximum (node rewrites max to 4096); call_indirect in the entry point \`apply\`"
  "bulk_memory|bulk-memory|-Ctarget-feature=+bulk-memory|memory.copy / memory.fill (0xFC prefix) in the session and the entry point \`fill\`; rejected by every node"
  "floats|mvp|-|f64 arithmetic on a run-time value in the entry point \`scale\`; rejected by every node (gas rules forbid floats)"
  "overlong_call_indirect|reference-types|-Ctarget-feature=+reference-types|call_indirect with the 5-byte table index 80 80 80 80 00 (LLVM with reference-types) in the entry point \`apply\`; 1.5 and 2.0.0 reject it, 2.0.3 re-encodes it"
  "big|mvp|-|benchmark input: >= 250 KB, 400 generated integer-only entry points + \`route\` (br_table with 200 targets); accepted by every node"
)
# Node 2.x variants (<name>_cc5, crates under cc5/): the same source files built against
# casper-contract 5.0.0 / casper-types 5.0.1 through compat-v2/. Node 2.x deserialises the entry
# points passed to add_contract_version in the casper-types 5 layout (one more field per entry
# point), so the casper-contract 4.0 fixtures cannot install anything there. bulk_memory and floats
# have no variant: every node rejects them before the session runs.
CC5=(multi_ep two_contracts locked upgrade_install upgrade_v2 factory args_entry_points sign_ext
     memory_grow table_no_max overlong_call_indirect big)
for base in "${CC5[@]}"; do
  for spec in "${FIXTURES[@]}"; do
    IFS='|' read -r name flagset flags what <<<"$spec"
    [[ "$name" == "$base" ]] || continue
    FIXTURES+=("${name}_cc5|$flagset|$flags|node 2.x variant of $name (casper-contract 5.0.0; installs through casper_add_contract_version_with_message_topics, a 2.x-only host function): $what")
  done
done
# Derived fixtures: name | source | command (run in testdata/wasm) | what it demonstrates
DERIVED=(
  "multi_ep_stripped|multi_ep|wasm-strip -o multi_ep_stripped.wasm multi_ep.wasm|multi_ep with every custom section (name, producers, target_features) removed by wabt wasm-strip"
  "multi_ep_stripped_cc5|multi_ep_cc5|wasm-strip -o multi_ep_stripped_cc5.wasm multi_ep_cc5.wasm|node 2.x variant: multi_ep_cc5 with every custom section removed by wabt wasm-strip"
)

encoded_flags() { # "a b c" → a\x1fb\x1fc\x1f$REMAP ; "-" → $REMAP
  local all="$REMAP"
  [[ "$1" == "-" ]] || all="$1 $REMAP"
  tr ' ' $'\x1f' <<<"$all" | tr -d '\n'
}

build_all() { # $1 = target root; builds every fixture, prints nothing but cargo's stderr
  local root="$1" spec name flagset flags
  for spec in "${FIXTURES[@]}"; do
    IFS='|' read -r name flagset flags _ <<<"$spec"
    echo "== $name ($flagset)" >&2
    CARGO_ENCODED_RUSTFLAGS="$(encoded_flags "$flags")" \
      cargo build --release --locked --target "$TARGET" -p "$name" --target-dir "$root/$flagset"
  done
}

wasm_of() { echo "$1/$2/$TARGET/release/$3.wasm"; }

build_all "$TARGET_ROOT"
mkdir -p "$OUT"
for spec in "${FIXTURES[@]}"; do
  IFS='|' read -r name flagset _ <<<"$spec"
  install -m 0644 "$(wasm_of "$TARGET_ROOT" "$flagset" "$name")" "$OUT/$name.wasm"
done
for spec in "${DERIVED[@]}"; do
  IFS='|' read -r name _ cmd _ <<<"$spec"
  (cd "$OUT" && eval "$cmd")
done

if [[ $CHECK == 1 ]]; then
  CHECK_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/fixtures-check.XXXXXX")"
  echo "== reproducibility check: rebuilding everything in $CHECK_ROOT" >&2
  build_all "$CHECK_ROOT"
  bad=0
  for spec in "${FIXTURES[@]}"; do
    IFS='|' read -r name flagset _ <<<"$spec"
    if cmp -s "$(wasm_of "$CHECK_ROOT" "$flagset" "$name")" "$OUT/$name.wasm"; then
      echo "identical: $name" >&2
    else
      echo "DIFFERENT: $name" >&2; bad=1
    fi
  done
  rm -rf "$CHECK_ROOT"
  [[ $bad == 0 ]] || { echo "reproducibility check FAILED" >&2; exit 1; }
  echo "reproducibility check passed: every fixture identical in a fresh target dir" >&2
  REPRO="build.sh --check rebuilt every fixture from scratch in a fresh target directory ($(date -u +%Y-%m-%d)): byte-identical"
fi

# Verify the property of every fixture (fails if one is missing) and regenerate the README table.
python3 "$HERE/verify.py" "$OUT" "$TESTDATA/README.md" \
  --remap="$REMAP" --reproducible "$REPRO" --rustc "$(rustc -vV)" --cargo "$(cargo -V)" --wabt "$(wasm-strip --version)" \
  --fixtures "$(printf '%s\n' "${FIXTURES[@]}")" --derived "$(printf '%s\n' "${DERIVED[@]}")"
