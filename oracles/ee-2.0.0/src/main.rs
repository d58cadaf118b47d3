//! Oracle: casper-execution-engine 2.0.0 with casper-engine-test-support 2.2.0 (pwasm-utils
//! 0.16.0 + parity-wasm 0.41.0), the engine of node 1.4.6 (mainnet 1.4.6): no validation, no table rewrite.
//! Contract of inputs and outputs: docs/oracle-harness.md.
//!
//! The engine half is `oracles/shared-src/ee-1.5-2.0.rs`, the same file as for ee-1.5.0, ee-2.0.1
//! (same engine API); engine-independent code is the `harness` crate (`oracles/harness`). This
//! file only names the versions.

/// `<engine>` directory of the answers.
const ENGINE_DIR: &str = "ee-2.0.0";
/// The crates this binary links, pinned with `=` in Cargo.toml (and checked in `Cargo.lock`).
const EXECUTION_ENGINE: &str = "2.0.0";
const ENGINE_TEST_SUPPORT: &str = "2.2.0";

#[path = "../../shared-src/ee-1.5-2.0.rs"]
mod oracle;

fn main() {
    oracle::main()
}
