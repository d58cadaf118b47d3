#!/usr/bin/env bash
# Everything the test suite needs that is not a Cargo dependency, installed by the repo's own files.
# Idempotent: safe to run on a machine that already has it all.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# Toolchain of the main workspace (rust-toolchain.toml) and of the fixture contracts.
rustup show active-toolchain >/dev/null
rustup target add wasm32v1-none --toolchain 1.95.0

# wabt (wasm-strip, wat2wasm) and binaryen: test oracles for strip semantics and fixture making.
if ! command -v wasm-strip >/dev/null 2>&1 || ! command -v wasm-opt >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq wabt binaryen
fi

# Fuzzing (repro-diff's cargo-fuzz targets): a nightly toolchain through rustup, cargo-fuzz from
# crates.io.
rustup toolchain install nightly --profile minimal
if ! cargo +nightly fuzz --version 2>/dev/null | grep -q "0.13.2"; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
