//! Reading an install from the chain (the `repro-chain` crate): a JSON-RPC client (feature
//! `http`, on by default; without it the crate has no network code) for the node (1.5 node API and 2.x
//! sidecar API), bundles of recorded responses that re-run offline, and the resolution of one
//! transaction into what a verification needs (session bytes, block, protocol version, the stored
//! bytes and entry points of every contract it installed), with the chain's own commitments
//! checked on the way (transaction hash and approvals, block hash, merkle proofs).
//!
//! Every response is parsed with `casper-types`, the node's own types. Where the 1.5 node's JSON
//! differs from casper-types' (its json_compatibility `StoredValue`), the bytes are read from the
//! bytesrepr form the node also sends (the stored value's hex and the merkle proof), again with
//! casper-types.

// A library never prints: results are returned, logs go through `tracing`.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

/// The node's own types, as this crate uses them (block hashes for [`finality::Trust`], …).
pub use casper_types;

pub mod bundle;
pub mod finality;
pub mod install;
pub mod proof;
#[cfg(feature = "http")]
pub mod rpc;

/// Lowercase hex sha256 of `bytes` (the digest every report uses).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

use serde_json::Value;

/// Where JSON-RPC answers come from: a live node ([`rpc::HttpSource`]) or a bundle of recorded
/// answers ([`bundle::Bundle`]). Resolution code is the same for both.
pub trait Source {
    /// Calls `method` with `params` and returns the JSON-RPC `result`.
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, CallError>;
    /// A short description for error messages (`node http://…`, `bundle DIR`).
    fn describe(&self) -> String;
    /// False for a source that holds only a transaction answer and can answer no state query
    /// (a saved `info_get_transaction` / `info_get_deploy` file): errors then say what to give.
    fn answers_state_queries(&self) -> bool {
        true
    }
    /// An answer to `method` with `params` obtained without calling (from the era cache), that a
    /// recording source keeps so that what it saves re-checks offline. Others ignore it.
    fn note(&mut self, _method: &str, _params: &Value, _result: &Value) {}
    /// A `chain_get_block` result this source already holds whose block is the switch block of
    /// `era` (a bundle). Nothing in it is trusted: the finality walk checks it like any answer.
    fn switch_block_of(&mut self, _era: u64) -> Option<Value> {
        None
    }
}

/// Why one call gave no result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The node answered with a JSON-RPC error object.
    #[error("the node answered {method} with error {code}: {message}")]
    Rpc {
        method: String,
        code: i64,
        message: String,
    },
    /// The node does not know the method (e.g. `info_get_transaction` on a 1.5 node).
    #[error("the node does not offer {method}")]
    MethodNotFound { method: String },
    /// A bundle holds no answer for this call.
    #[error("no saved answer to {method} {params}")]
    NotInBundle { method: String, params: String },
    /// The node's URL is not one this client can call.
    #[error("{detail}: give the node's JSON-RPC URL, e.g. http://127.0.0.1:7777/rpc")]
    BadUrl { detail: String },
    /// The node could not be reached or did not answer in time (after retries).
    #[error(
        "{url} did not answer {method}: {detail} (after {attempts} attempt(s)); check the URL, try again later or use another node"
    )]
    Unreachable {
        url: String,
        method: String,
        detail: String,
        attempts: u32,
    },
    /// An answer that is not what the JSON-RPC API promises.
    #[error(
        "{url} answered {method} with something that is not a JSON-RPC response: {detail}; check that the URL is the node's JSON-RPC endpoint (e.g. http://HOST:7777/rpc)"
    )]
    Malformed {
        url: String,
        method: String,
        detail: String,
    },
}

impl CallError {
    /// An answer that means "try the next way of asking" rather than "stop".
    pub fn is_absent(&self) -> bool {
        matches!(
            self,
            CallError::Rpc { .. }
                | CallError::MethodNotFound { .. }
                | CallError::NotInBundle { .. }
        )
    }
}
