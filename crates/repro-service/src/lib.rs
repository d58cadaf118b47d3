//! casper-repro's verification service: `casper-repro serve` and `casper-repro worker`.
//!
//! - [`codeverifier`]: the API `casper-client` already speaks (its documents, as the client
//!   declares them);
//! - [`archive`]: source archives from strangers, unpacked within limits or refused;
//! - [`git`]: sources fetched from git (one commit, under allowed prefixes) into the same
//!   archive form;
//! - [`store`]: the database (SQLite or PostgreSQL): the job queue, results, content-addressed
//!   blobs, lookups;
//! - [`job`]: one verification, from the stored archive to an outcome (what the service chose,
//!   the report, the rebuilt binary, the logs);
//! - [`batch`]: many submissions queued at once and followed as one (progress, rate, ETA);
//! - [`client`]: the command line's side of batches (the batch file, packing sources, the API
//!   calls);
//! - [`worker`]: claims jobs, keeps their leases alive, runs them a bounded number at a time,
//!   stops gracefully;
//! - [`server`]: the HTTP API (codeverifier and native, with its OpenAPI document [`openapi`]);
//!   [`pages`]: the HTML pages.

// A library never prints: results are returned, logs go through `tracing`.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod archive;
pub mod batch;
pub mod client;
pub mod codeverifier;
pub mod git;
pub mod job;
pub mod openapi;
pub mod pages;
pub mod server;
pub mod service;
pub mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod testdb;
pub mod worker;
