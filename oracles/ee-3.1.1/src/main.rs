//! Oracle: casper-execution-engine 3.1.1 (yanked; casper-wasm-utils 1.0.0 + parity-wasm 0.42.2),
//! the engine of node 1.4.15 (mainnet 1.4.15).
//! Contract of inputs and outputs: docs/oracle-harness.md.
//!
//! The engine half is `oracles/shared-src/ee-3.rs`, the same file as for ee-3.0.0 (same engine
//! API); engine-independent code is the `harness` crate (`oracles/harness`). This file only names
//! the versions.

/// `<engine>` directory of the answers.
const ENGINE_DIR: &str = "ee-3.1.1";
/// The crates this binary links, pinned with `=` in Cargo.toml (and checked in `Cargo.lock`).
const EXECUTION_ENGINE: &str = "3.1.1";
const ENGINE_TEST_SUPPORT: &str = "3.1.1";

#[path = "../../shared-src/ee-3.rs"]
mod oracle;

fn main() {
    oracle::main()
}
