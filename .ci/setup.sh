#!/usr/bin/env bash
# Everything the test suite needs that is not a Cargo dependency, installed by the repo's own files.
# Idempotent: safe to run on a machine that already has it all.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# Toolchain of the main workspace (rust-toolchain.toml) and of the fixture contracts.
rustup show active-toolchain >/dev/null
rustup target add wasm32v1-none --toolchain 1.95.0

# wabt (wasm-strip, wat2wasm) and binaryen: test oracles for strip semantics and fixture making.
# chromium: the real browser the service's pages are tested in (crates/repro-cli/tests/service.rs).
# bubblewrap: the build sandbox (crates/repro-build/src/sandbox.rs; prlimit and setpriv come with
# util-linux).
if ! command -v wasm-strip >/dev/null 2>&1 || ! command -v wasm-opt >/dev/null 2>&1 \
   || ! command -v chromium >/dev/null 2>&1 || ! command -v bwrap >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq wabt binaryen chromium bubblewrap
fi

# The tools below are built with `cargo install --debug`: they drive other programs (cargo, rustc,
# wasm-opt) or make a few HTTP calls, so their own speed does not matter, and an unoptimised build
# takes a fraction of the time on a fresh CI machine.

# Fuzzing (repro-diff's cargo-fuzz targets): a nightly toolchain through rustup, cargo-fuzz from
# crates.io.
rustup toolchain install nightly --profile minimal
if ! cargo +nightly fuzz --version 2>/dev/null | grep -q "0.13.2"; then
  cargo install cargo-fuzz --version 0.13.2 --locked --debug
fi

# Odra references (crates/repro-cli/tests/odra.rs): the real cargo-odra, two releases, built from
# crates.io with their own lockfiles, and binaryen 121's wasm-opt from the npm registry
# (.ci/tools/package-lock.json). cargo-odra 0.1.8's lockfile needs rustc 1.96 (kstring 2.0.4).
repo=$(cd "$(dirname "$0")/.." && pwd)
tools=${CASPER_REPRO_TOOLS:-$repo/.tools}
rustup toolchain install nightly-2025-09-01 --profile minimal --target wasm32-unknown-unknown
for spec in 0.1.3:1.95.0 0.1.8:1.96.0; do
  v=${spec%%:*}; tc=${spec##*:}
  if ! "$tools/cargo-odra-$v/bin/cargo-odra" odra --version 2>/dev/null | grep -q "$v"; then
    rustup toolchain install "$tc" --profile minimal
    CARGO_TARGET_DIR="$repo/target/tools-build" \
      cargo "+$tc" install cargo-odra --version "$v" --locked --debug --root "$tools/cargo-odra-$v"
  fi
done
mkdir -p "$tools/npm"
cp "$repo/.ci/tools/package.json" "$repo/.ci/tools/package-lock.json" "$tools/npm/"
(cd "$tools/npm" && npm ci --ignore-scripts --no-audit --no-fund)

# The cargo-casper template reference (crates/repro-cli/tests/cargo_casper.rs): the real
# cargo-casper generates the project, whose contract pins nightly-2024-07-31 in `rust-toolchain`;
# make then builds it with that nightly.
rustup toolchain install nightly-2024-07-31 --profile minimal --target wasm32-unknown-unknown
if ! "$tools/cargo-casper-3.0.0/bin/cargo-casper" casper --version 2>/dev/null | grep -q "3.0.0"; then
  CARGO_TARGET_DIR="$repo/target/tools-build" \
    cargo +1.95.0 install cargo-casper --version 3.0.0 --locked --debug --root "$tools/cargo-casper-3.0.0"
fi

# The service's reference client (crates/repro-cli/tests/service.rs): casper-client 5.0.1's
# verify_contract from crates.io behind a command (clients/codeverifier-client, its own lockfile).
if ! [ -x "$tools/codeverifier-client/bin/codeverifier-client" ] \
   || ! cmp -s "$repo/clients/codeverifier-client/Cargo.lock" "$tools/codeverifier-client/Cargo.lock"; then
  CARGO_TARGET_DIR="$repo/target/tools-build" \
    cargo +1.95.0 install --path "$repo/clients/codeverifier-client" --locked --debug --root "$tools/codeverifier-client"
  cp "$repo/clients/codeverifier-client/Cargo.lock" "$tools/codeverifier-client/Cargo.lock"
fi
