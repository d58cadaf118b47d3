//! One transaction resolved into what a verification needs, from any [`Source`]: the uploaded
//! session bytes, the block that executed it (protocol version, state root), and for every
//! contract it installed the stored bytes and entry-point names — each with the chain commitment
//! that vouches for it, checked here:
//!
//! - the transaction hash, recomputed from its contents, and every approval's signature
//!   (casper-types `has_valid_hash` / `verify`);
//! - the block hash, recomputed from its header and body (`Block::verify`), and that the block lists
//!   the transaction;
//! - each signature the block answer carries, as a finality signature of that block;
//! - each stored record's merkle proof, folded up to the block's state root hash.
//!
//! - with a trusted block ([`resolve_trusting`]), that the executing block is final: its signers
//!   hold more than the quorum of its era's weights, chained from the trusted block through every
//!   switch block since ([`crate::finality`]).

use std::collections::BTreeSet;

use casper_types::account::AccountHash;
use casper_types::bytesrepr::FromBytes;
use casper_types::execution::execution_result_v1::TransformKindV1;
use casper_types::execution::{ExecutionResultV1, TransformKindV2, TransformV2};
use casper_types::{
    Block, BlockHash, BlockV1, ContractWasm, Deploy, ExecutableDeployItem, HashAddr, Key,
    StoredValue, Transaction, TransactionHash, TransactionInvocationTarget, TransactionTarget,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::finality::{Finality, Trust};
use crate::proof::{self, Proven};
use crate::sha256_hex;
use crate::{CallError, Source};

mod block;
#[cfg(test)]
mod commitment_tests;
mod diagnose;

pub(crate) use diagnose::plain as plain_error;
#[cfg(test)]
mod published_examples;
mod state;
mod transaction;

use block::{Fetched, fetch_block};
pub(crate) use block::{parse_block_answer, signers};
use state::{Read, fetch_chainspec, read_state, resolve_caller};
use transaction::{Execution, Runs, check_transaction, fetch_transaction, initiator, what_runs};

/// The transaction asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// A hash that may be either kind.
    Any([u8; 32]),
    Deploy([u8; 32]),
    V1([u8; 32]),
}

impl Requested {
    /// `HEX`, `deploy-HEX` or `transaction-v1-HEX` (64 hex digits).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (kind, hex_part) = if let Some(h) = s.strip_prefix("deploy-") {
            ("deploy", h)
        } else if let Some(h) = s.strip_prefix("transaction-v1-") {
            ("v1", h)
        } else {
            ("any", s)
        };
        let bytes = hex::decode(hex_part)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                format!("`{s}` is not a transaction hash (64 hex digits, optionally prefixed deploy- or transaction-v1-)")
            })?;
        Ok(match kind {
            "deploy" => Requested::Deploy(bytes),
            "v1" => Requested::V1(bytes),
            _ => Requested::Any(bytes),
        })
    }

    fn bytes(&self) -> &[u8; 32] {
        match self {
            Requested::Any(b) | Requested::Deploy(b) | Requested::V1(b) => b,
        }
    }

    pub fn hex(&self) -> String {
        hex::encode(self.bytes())
    }
}

/// Which API answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum Api {
    #[serde(rename = "node-1.5")]
    Node15,
    #[serde(rename = "sidecar-2.x")]
    Sidecar2,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Node15 => "node-1.5",
            Api::Sidecar2 => "sidecar-2.x",
        }
    }
}

/// Outcome of one commitment check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    Passed,
    Failed,
    NotPossible,
}

/// One commitment check and what it found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TrustCheck {
    pub check: String,
    pub status: CheckStatus,
    pub detail: String,
}

/// The transaction as far as verification cares.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TransactionFacts {
    pub hash: String,
    /// `deploy` or `transaction-v1`.
    pub kind: &'static str,
    pub chain_name: String,
    pub timestamp: String,
    pub approvals: usize,
    /// The uploaded session Wasm (none when the transaction calls a stored contract).
    pub session_sha256: Option<String>,
    pub session_len: Option<usize>,
}

/// Where the installed contracts' Wasm came from.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Installer {
    /// Session Wasm uploaded with the transaction: preprocessed, then optimized per contract.
    Session,
    /// A stored contract the transaction called (a factory): its stored bytes are optimized per
    /// contract, without a second preprocessing.
    StoredContract {
        contract_hash: String,
        contract_wasm_hash: String,
        /// The account's named key the transaction called it by, if by name.
        named_key: Option<String>,
        stored_sha256: String,
        stored_len: usize,
        proven: bool,
    },
}

/// The block that executed it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BlockFacts {
    pub hash: String,
    pub height: u64,
    pub protocol_version: String,
    pub state_root_hash: String,
}

/// One contract the transaction installed (a new contract or a new version of a package).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct InstalledContract {
    pub contract_hash: String,
    pub contract_wasm_hash: String,
    pub package_hash: String,
    pub entry_points: Vec<String>,
    pub stored_sha256: String,
    pub stored_len: usize,
    /// The stored bytes are covered by a merkle proof that leads to the block's state root.
    pub proven: bool,
    /// The protocol version written into the stored `Contract` record at install.
    pub record_protocol_version: String,
    #[serde(skip)]
    pub stored: Vec<u8>,
}

/// Everything a verification needs from the chain.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Install {
    pub api: Api,
    pub transaction: TransactionFacts,
    pub installer: Installer,
    pub block: Option<BlockFacts>,
    pub contracts: Vec<InstalledContract>,
    pub checks: Vec<TrustCheck>,
    /// sha256 of the node's chainspec (`info_get_chainspec`), when it answered.
    pub node_chainspec_sha256: Option<String>,
    /// What the replay starts from: the session bytes, or the calling contract's stored bytes.
    #[serde(skip)]
    pub input: Vec<u8>,
    /// The node's chainspec.toml, when it answered `info_get_chainspec`.
    #[serde(skip)]
    pub node_chainspec: Option<String>,
    /// The transaction hash as casper-types `TransactionHash` JSON, for bundles.
    #[serde(skip)]
    pub transaction_hash_json: Value,
}

/// Why a transaction cannot be resolved into an install.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "{source_desc} knows no deploy or transaction {hash} ({detail}): check the hash, and that the node serves the network it was sent to"
    )]
    UnknownTransaction {
        source_desc: String,
        hash: String,
        detail: String,
    },
    #[error(
        "asked for {asked} but the answer is about {answered}: the node is faulty or hostile; use another node"
    )]
    WrongTransaction { asked: String, answered: String },
    #[error(
        "transaction {hash} has not been executed (no execution result yet): try again once a block includes it"
    )]
    NotExecuted { hash: String },
    #[error("transaction {hash} failed in execution, so it stored nothing: {error}")]
    FailedExecution { hash: String, error: String },
    #[error("transaction {hash} installed no contract (its effects write no contract Wasm)")]
    NothingInstalled { hash: String },
    #[error("transaction {hash} is not an install from session Wasm: {what}")]
    NotSession { hash: String, what: String },
    #[error("{what} is not what the node's API promises: {detail}")]
    BadResponse { what: String, detail: String },
    #[error("the stored state of {key} is not available: {detail}")]
    StateUnavailable { key: String, detail: String },
    #[error(transparent)]
    Call(#[from] CallError),
}

fn bad(what: impl Into<String>, detail: impl ToString) -> ResolveError {
    ResolveError::BadResponse {
        what: what.into(),
        detail: diagnose::plain(&detail.to_string()),
    }
}

/// A stored record the 1.x effects name but do not carry, and `source` did not give.
fn state_missing(source: &dyn Source, key: &Key, what: &str) -> ResolveError {
    let detail = if source.answers_state_queries() {
        format!(
            "the 1.x effects name the {what} but do not carry it, and {} did not answer query_global_state for it",
            source.describe()
        )
    } else {
        format!(
            "the 1.x effects name the {what} but do not carry it: a 1.x answer (info_get_deploy) holds no stored bytes, so verifying it needs the node's state: give --node URL (a node that still has that block's state) or --bundle DIR (saved by `casper-repro fetch`)"
        )
    };
    ResolveError::StateUnavailable {
        key: key.to_formatted_string(),
        detail,
    }
}

/// What the execution wrote that matters here.
#[derive(Default)]
struct Written {
    /// `Key::Hash` of every ContractWasm write, with the bytes when the effects carry them (2.x).
    wasm: Vec<(Key, Option<Vec<u8>>)>,
    /// Every Contract write, with the record when the effects carry it (2.x).
    contracts: Vec<(Key, Option<casper_types::contracts::Contract>)>,
    packages: BTreeSet<Key>,
}

fn written(result: &Execution, hash: &str) -> Result<Written, ResolveError> {
    let mut w = Written::default();
    match result {
        Execution::V1(ExecutionResultV1::Failure { error_message, .. }) => {
            return Err(ResolveError::FailedExecution {
                hash: hash.to_owned(),
                error: error_message.clone(),
            });
        }
        Execution::V1(ExecutionResultV1::Success { effect, .. }) => {
            for t in &effect.transforms {
                let key = || {
                    Key::from_formatted_str(&t.key)
                        .map_err(|e| bad(format!("transform key `{}`", t.key), e))
                };
                match t.transform {
                    TransformKindV1::WriteContractWasm => w.wasm.push((key()?, None)),
                    TransformKindV1::WriteContract => w.contracts.push((key()?, None)),
                    TransformKindV1::WriteContractPackage => {
                        w.packages.insert(key()?);
                    }
                    _ => {}
                }
            }
        }
        Execution::V2 {
            error_message,
            effects,
        } => {
            if let Some(error) = error_message {
                return Err(ResolveError::FailedExecution {
                    hash: hash.to_owned(),
                    error: error.clone(),
                });
            }
            for t in effects {
                if let TransformKindV2::Write(value) = t.kind() {
                    match value {
                        StoredValue::ContractWasm(cw) => {
                            w.wasm.push((*t.key(), Some(cw.clone().take_bytes())))
                        }
                        StoredValue::ByteCode(bc) => {
                            w.wasm.push((*t.key(), Some(bc.bytes().to_vec())))
                        }
                        StoredValue::Contract(c) => w.contracts.push((*t.key(), Some(c.clone()))),
                        StoredValue::ContractPackage(_) => {
                            w.packages.insert(*t.key());
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(w)
}

/// Resolves one transaction into an install, without a trusted block: finality by weight is
/// reported as not checked.
pub fn resolve(source: &mut dyn Source, req: &Requested) -> Result<Install, ResolveError> {
    resolve_trusting(source, req, &Trust::default())
}

/// Resolves one transaction into an install, with the executing block's finality chained from
/// `trust`'s trusted block (the `finality` check).
pub fn resolve_trusting(
    source: &mut dyn Source,
    req: &Requested,
    trust: &Trust,
) -> Result<Install, ResolveError> {
    let fetched = fetch_transaction(source, req)?;
    let hash = req.hex();
    let tx = &fetched.transaction;
    let mut checks = check_transaction(tx);
    let runs = what_runs(tx, &hash)?;
    let (block_hash, result) = fetched
        .execution
        .as_ref()
        .ok_or_else(|| ResolveError::NotExecuted { hash: hash.clone() })?;
    let block_hash = *block_hash;
    let w = written(result, &hash)?;
    if w.wasm.is_empty() {
        return Err(ResolveError::NothingInstalled { hash });
    }
    let chain_name = match tx {
        Transaction::Deploy(d) => d.header().chain_name().to_owned(),
        Transaction::V1(v) => v.chain_name().to_owned(),
    };
    let block = fetch_block(source, &block_hash, &tx.hash(), &chain_name, &mut checks)?;
    let (installer, input, session) = match runs {
        Runs::Session(bytes) => (Installer::Session, bytes.clone(), Some(bytes)),
        Runs::Stored(called) => {
            let (installer, bytes) =
                resolve_caller(source, &called, initiator(tx), block.as_ref(), &mut checks)?;
            (installer, bytes, None)
        }
    };

    let wasm_keys: BTreeSet<Key> = w.wasm.iter().map(|(k, _)| *k).collect();
    let mut contracts = Vec::new();
    for (contract_key, effect_record) in &w.contracts {
        let read = read_state(source, contract_key, &[], block.as_ref(), &mut checks)?;
        let (record, record_proven) = match (&read, effect_record) {
            (
                Some(Read {
                    value: StoredValue::Contract(c),
                    proven,
                    ..
                }),
                _,
            ) => (c.clone(), *proven),
            (Some(_), _) => {
                return Err(bad(
                    format!("query_global_state {}", contract_key.to_formatted_string()),
                    "the stored value is not a Contract",
                ));
            }
            (None, Some(c)) => (c.clone(), false),
            (None, None) => {
                return Err(state_missing(source, contract_key, "contract"));
            }
        };
        let wasm_key = Key::Hash(record.contract_wasm_hash().value());
        if !wasm_keys.contains(&wasm_key) {
            // A contract record rewritten without new Wasm: not an install.
            continue;
        }
        let inline = w
            .wasm
            .iter()
            .find(|(k, _)| *k == wasm_key)
            .and_then(|(_, b)| b.clone());
        let read = read_state(source, &wasm_key, &[], block.as_ref(), &mut checks)?;
        let (stored, wasm_proven) = match read {
            Some(Read {
                value: StoredValue::ContractWasm(cw),
                proven,
                ..
            }) => {
                let bytes = cw.take_bytes();
                if let Some(inline) = &inline
                    && *inline != bytes
                {
                    checks.push(TrustCheck {
                        check: format!("effects-agree {}", wasm_key.to_formatted_string()),
                        status: CheckStatus::Failed,
                        detail:
                            "the bytes in the execution effects differ from the proven stored bytes"
                                .into(),
                    });
                }
                (bytes, proven)
            }
            Some(_) => {
                return Err(bad(
                    format!("query_global_state {}", wasm_key.to_formatted_string()),
                    "the stored value is not ContractWasm",
                ));
            }
            None => match inline {
                Some(bytes) => (bytes, false),
                None => {
                    return Err(state_missing(source, &wasm_key, "Wasm"));
                }
            },
        };
        let mut entry_points: Vec<String> = record.entry_points().keys().cloned().collect();
        entry_points.sort();
        contracts.push(InstalledContract {
            contract_hash: hex::encode(contract_key.into_hash_addr().unwrap_or_default()),
            contract_wasm_hash: hex::encode(record.contract_wasm_hash().value()),
            package_hash: hex::encode(record.contract_package_hash().value()),
            entry_points,
            stored_sha256: sha256_hex(&stored),
            stored_len: stored.len(),
            proven: record_proven && wasm_proven,
            record_protocol_version: record.protocol_version().to_string(),
            stored,
        });
    }
    for package in &w.packages {
        read_state(source, package, &[], block.as_ref(), &mut checks)?;
    }
    let node_chainspec = fetch_chainspec(source)?;
    if contracts.is_empty() {
        return Err(ResolveError::NothingInstalled { hash });
    }
    if let Some(b) = &block {
        checks.push(check_finality(
            source,
            b,
            &chain_name,
            node_chainspec.as_deref(),
            trust,
        )?);
    }
    let (kind, chain_name, timestamp, approvals) = match tx {
        Transaction::Deploy(d) => (
            "deploy",
            d.header().chain_name().to_owned(),
            d.header().timestamp().to_string(),
            d.approvals().len(),
        ),
        Transaction::V1(v) => (
            "transaction-v1",
            v.chain_name().to_owned(),
            v.timestamp().to_string(),
            v.approvals().len(),
        ),
    };
    Ok(Install {
        api: fetched.api,
        transaction: TransactionFacts {
            hash,
            kind,
            chain_name,
            timestamp,
            approvals,
            session_sha256: session.as_deref().map(sha256_hex),
            session_len: session.as_ref().map(Vec::len),
        },
        installer,
        block: block.map(|f| f.facts),
        contracts,
        checks,
        node_chainspec_sha256: node_chainspec.as_deref().map(|t| sha256_hex(t.as_bytes())),
        input,
        node_chainspec,
        transaction_hash_json: fetched.hash_json,
    })
}

/// The `finality` check: the executing block's signers against its era's weights, chained from
/// the trusted block.
fn check_finality(
    source: &mut dyn Source,
    b: &Fetched,
    chain_name: &str,
    node_chainspec: Option<&str>,
    trust: &Trust,
) -> Result<TrustCheck, ResolveError> {
    let (ftt, origin) = crate::finality::threshold(chain_name, node_chainspec);
    let outcome = crate::finality::chain(source, &b.block, &b.signers, chain_name, ftt, trust)?;
    let (status, detail) = match outcome {
        Finality::Final(chained) => (
            CheckStatus::Passed,
            format!(
                "{} (finality threshold fraction {}/{}, {origin})",
                chained.describe(),
                ftt.0,
                ftt.1
            ),
        ),
        Finality::Untrusted(why) => (CheckStatus::Failed, why),
        Finality::Unknown(why) => (CheckStatus::NotPossible, why),
    };
    Ok(TrustCheck {
        check: "finality".into(),
        status,
        detail,
    })
}

/// Resolves from a node's `info_get_transaction` / `info_get_deploy` answer saved in a file (the
/// JSON-RPC response, or just its `result`), with nothing else: 2.x effects carry the stored bytes
/// and contract records inline; 1.x effects only name them, so those need a node or a bundle.
pub fn resolve_from_answer(answer: &Value) -> Result<Install, ResolveError> {
    let result = answer.get("result").unwrap_or(answer);
    let hash = result
        .get("transaction")
        .and_then(|t| t.as_object())
        .and_then(|t| t.values().next())
        .or_else(|| result.get("deploy"))
        .and_then(|t| t.get("hash"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad(
                "the transaction JSON",
                "no transaction or deploy hash in it",
            )
        })?;
    let req = Requested::parse(hash).map_err(|e| bad("the transaction JSON", e))?;
    let mut single = OneAnswer {
        result: result.clone(),
    };
    resolve(&mut single, &req)
}

/// A source holding one answer: to whichever transaction method is asked first.
struct OneAnswer {
    result: Value,
}

impl Source for OneAnswer {
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, CallError> {
        let is_v1 = params
            .get("transaction_hash")
            .is_some_and(|h| h.get("Version1").is_some());
        let answer_is_v1 = self
            .result
            .get("transaction")
            .is_some_and(|t| t.get("Version1").is_some());
        let fits = match method {
            "info_get_transaction" => {
                self.result.get("transaction").is_some() && is_v1 == answer_is_v1
            }
            "info_get_deploy" => self.result.get("deploy").is_some(),
            _ => false,
        };
        if fits {
            Ok(self.result.clone())
        } else {
            Err(CallError::NotInBundle {
                method: method.to_owned(),
                params: params.to_string(),
            })
        }
    }

    fn describe(&self) -> String {
        "the transaction file".into()
    }

    fn answers_state_queries(&self) -> bool {
        false
    }
}
