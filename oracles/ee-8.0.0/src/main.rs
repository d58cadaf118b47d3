//! Test oracle for node 2.0.0: the real `casper-execution-engine` 8.0.0 (through
//! `casper-engine-test-support` 8.0.0, in-process, on a temporary LMDB global state).
//! Contract of inputs and outputs: docs/oracle-harness.md.
//!
//! The engine half is `oracles/shared-src/ee-8.rs`, the same file as for ee-8.1.1 (same engine
//! API); engine-independent code is the `harness` crate (`oracles/harness`). This file only names
//! the versions.

/// `<engine>` directory of the answers.
const ENGINE_DIR: &str = "ee-8.0.0";
/// The crates this binary links, pinned with `=` in Cargo.toml (and checked in `Cargo.lock`).
const EXECUTION_ENGINE: &str = "8.0.0";
const ENGINE_TEST_SUPPORT: &str = "8.0.0";

#[path = "../../shared-src/ee-8.rs"]
mod oracle;

fn main() -> std::process::ExitCode {
    oracle::main()
}
