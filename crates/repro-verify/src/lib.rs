//! Verification as a library: from an install read off the chain (`repro-chain`) and a source
//! (built with `repro-build`, or artifacts built elsewhere) to a staged, explained verdict, through
//! the node's processing (`repro-core`) and the structural diff (`repro-diff`).
//!
//! - [`config`]: which Wasm configuration the replay uses, and why;
//! - [`request`]: build options to a build request with the project's recipe applied;
//! - [`toolchain`]: the rebuild's toolchain (`--toolchain auto`: inferred from the upload);
//! - [`profiles`]: the mainnet cost tables as repro-diff cost profiles;
//! - [`stages::verify`]: the three comparisons and the verdict; [`run::run`] the whole pipeline;
//! - [`model`]: the result as types; [`text`] renders it for people, [`wire`] is its JSON.
//!
//! No I/O beyond what it is handed (the build it is asked to run, the artifacts it reads); it never
//! prints.

// A library never prints: results are returned, logs go through `tracing`.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod config;
pub mod model;
pub mod profiles;
pub mod recipe;
pub mod request;
pub mod run;
pub mod stages;
pub mod text;
pub mod toolchain;
pub mod wire;

pub use model::*;
// The crates it composes, for callers that need their types (one dependency arrow: → verify).
pub use run::{Artifacts, VerifyError, run};
pub use {repro_build, repro_chain, repro_core, repro_diff};
