//! The transaction: which API answered, its execution result, what it runs, its hash and
//! approvals.

use super::*;

/// What an execution result says, as far as verification needs it.
pub(super) enum Execution {
    /// 1.x (`ExecutionResultV1`, also served by 2.x sidecars for old blocks).
    V1(ExecutionResultV1),
    /// 2.x: only the error and the effects are read, entry by entry, so that the fields that
    /// changed between casper-types 5, 6 and 7 (`current_price`, `refund`, …) do not matter.
    V2 {
        error_message: Option<String>,
        effects: Vec<TransformV2>,
    },
}

/// Stored-value variants that carry what verification reads: an effect writing one of them must
/// parse; any other effect that this casper-types cannot read is passed over.
const NEEDED_WRITES: [&str; 4] = ["ContractWasm", "Contract", "ContractPackage", "ByteCode"];

fn parse_execution_v2(method: &str, v: &Value) -> Result<Execution, ResolveError> {
    let error_message: Option<String> =
        serde_json::from_value(v.get("error_message").cloned().unwrap_or(Value::Null))
            .map_err(|e| bad(format!("{method}: execution_result.error_message"), e))?;
    let entries = v
        .get("effects")
        .and_then(Value::as_array)
        .ok_or_else(|| bad(format!("{method}: execution_result"), "no effects list"))?;
    let mut effects = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        match serde_json::from_value::<TransformV2>(entry.clone()) {
            Ok(t) => effects.push(t),
            Err(e) => {
                let written = entry.pointer("/kind/Write").and_then(Value::as_object);
                if written.is_some_and(|w| NEEDED_WRITES.iter().any(|k| w.contains_key(*k))) {
                    return Err(bad(
                        format!("{method}: execution_result.effects[{index}]"),
                        e,
                    ));
                }
                tracing::debug!(index, %e, "effect passed over");
            }
        }
    }
    Ok(Execution::V2 {
        error_message,
        effects,
    })
}

/// The transaction, and how the node answered.
pub(super) struct Fetched {
    pub(super) api: Api,
    pub(super) transaction: Transaction,
    pub(super) hash_json: Value,
    /// (block hash, execution result).
    pub(super) execution: Option<(BlockHash, Execution)>,
}

pub(super) fn fetch_transaction(
    source: &mut dyn Source,
    req: &Requested,
) -> Result<Fetched, ResolveError> {
    let h = req.hex();
    let mut attempts: Vec<(&str, Value, Value)> = Vec::new();
    if !matches!(req, Requested::V1(_)) {
        attempts.push((
            "info_get_transaction",
            json!({"transaction_hash": {"Deploy": h}, "finalized_approvals": false}),
            json!({"Deploy": h}),
        ));
    }
    if !matches!(req, Requested::Deploy(_)) {
        attempts.push((
            "info_get_transaction",
            json!({"transaction_hash": {"Version1": h}, "finalized_approvals": false}),
            json!({"Version1": h}),
        ));
    }
    if !matches!(req, Requested::V1(_)) {
        attempts.push((
            "info_get_deploy",
            json!({"deploy_hash": h, "finalized_approvals": false}),
            json!({"Deploy": h}),
        ));
    }
    let mut last = String::from("nothing asked");
    let mut no_transaction_method = false;
    for (method, params, hash_json) in attempts {
        if no_transaction_method && method == "info_get_transaction" {
            continue;
        }
        match source.call(method, &params) {
            Ok(result) => return parse_transaction_result(method, &result, hash_json, req),
            Err(CallError::MethodNotFound { .. }) => {
                no_transaction_method = method == "info_get_transaction";
                last = format!("no method {method}");
            }
            Err(e) if e.is_absent() => last = e.to_string(),
            Err(e) => return Err(e.into()),
        }
    }
    Err(ResolveError::UnknownTransaction {
        source_desc: source.describe(),
        hash: h,
        detail: last,
    })
}

/// Parses `info_get_transaction` / `info_get_deploy` results of either API.
pub(super) fn parse_transaction_result(
    method: &str,
    result: &Value,
    hash_json: Value,
    req: &Requested,
) -> Result<Fetched, ResolveError> {
    let layout = |at: &str, v: &Value| match diagnose::transaction_layout(at, v) {
        Some(problem) => Err(bad(method, problem)),
        None => Ok(()),
    };
    let transaction: Transaction = if let Some(t) = result.get("transaction") {
        layout("transaction", t)?;
        serde_json::from_value(t.clone()).map_err(|e| {
            bad(
                method,
                diagnose::parse_failure("transaction", t, &e.to_string()),
            )
        })?
    } else if let Some(d) = result.get("deploy") {
        layout("deploy", d)?;
        let deploy: Deploy = serde_json::from_value(d.clone())
            .map_err(|e| bad(method, diagnose::parse_failure("deploy", d, &e.to_string())))?;
        Transaction::Deploy(deploy)
    } else {
        return Err(bad(
            method,
            "neither `transaction` nor `deploy` in the result",
        ));
    };
    let answered = match transaction.hash() {
        TransactionHash::Deploy(h) => *h.inner(),
        TransactionHash::V1(h) => *h.inner(),
    };
    if answered.value() != *req.bytes() {
        return Err(ResolveError::WrongTransaction {
            asked: req.hex(),
            answered: hex::encode(answered.value()),
        });
    }
    let (api, execution) = if let Some(results) = result.get("execution_results") {
        // 1.5 node: [{"block_hash", "result": ExecutionResultV1}]
        let list = results
            .as_array()
            .ok_or_else(|| bad(format!("{method}: execution_results"), "not a list"))?;
        let first = match list.first() {
            None => None,
            Some(entry) => {
                let block_hash: BlockHash =
                    serde_json::from_value(entry.get("block_hash").cloned().unwrap_or(Value::Null))
                        .map_err(|e| {
                            bad(format!("{method}: execution_results[0].block_hash"), e)
                        })?;
                let r: ExecutionResultV1 =
                    serde_json::from_value(entry.get("result").cloned().unwrap_or(Value::Null))
                        .map_err(|e| bad(format!("{method}: execution_results[0].result"), e))?;
                Some((block_hash, Execution::V1(r)))
            }
        };
        (Api::Node15, first)
    } else {
        // 2.x: {"block_hash", "block_height", "execution_result": null | {"Version1": …} |
        // {"Version2": …}} (casper-types `ExecutionInfo`), read field by field.
        let info = result.get("execution_info").unwrap_or(&Value::Null);
        let execution = match info.get("execution_result") {
            None | Some(Value::Null) => None,
            Some(r) => {
                let block_hash: BlockHash =
                    serde_json::from_value(info.get("block_hash").cloned().unwrap_or(Value::Null))
                        .map_err(|e| bad(format!("{method}: execution_info.block_hash"), e))?;
                let execution = if let Some(v1) = r.get("Version1") {
                    Execution::V1(serde_json::from_value(v1.clone()).map_err(|e| {
                        bad(format!("{method}: execution_info.execution_result"), e)
                    })?)
                } else if let Some(v2) = r.get("Version2") {
                    parse_execution_v2(method, v2)?
                } else {
                    return Err(bad(
                        format!("{method}: execution_info.execution_result"),
                        "neither Version1 nor Version2",
                    ));
                };
                Some((block_hash, execution))
            }
        };
        (Api::Sidecar2, execution)
    };
    Ok(Fetched {
        api,
        transaction,
        hash_json,
        execution,
    })
}

/// A stored contract called by the transaction.
#[derive(Debug, Clone)]
pub(super) enum Called {
    ByHash(HashAddr),
    ByName(String),
}

/// What the transaction runs.
pub(super) enum Runs {
    Session(Vec<u8>),
    Stored(Called),
}

pub(super) fn what_runs(tx: &Transaction, hash: &str) -> Result<Runs, ResolveError> {
    let not = |what: &str| ResolveError::NotSession {
        hash: hash.to_owned(),
        what: what.to_owned(),
    };
    let native = "it is a native transfer or system call, which installs no contract; give the hash of the deploy or transaction that installed it";
    let versioned = "it calls a versioned contract package: resolving which version ran is not supported yet; replay the factory with `casper-repro replay --factory`";
    match tx {
        Transaction::Deploy(d) => match d.session() {
            ExecutableDeployItem::ModuleBytes { module_bytes, .. } => {
                Ok(Runs::Session(module_bytes.to_vec()))
            }
            ExecutableDeployItem::Transfer { .. } => Err(not(native)),
            ExecutableDeployItem::StoredContractByHash { hash, .. } => {
                Ok(Runs::Stored(Called::ByHash(hash.value())))
            }
            ExecutableDeployItem::StoredContractByName { name, .. } => {
                Ok(Runs::Stored(Called::ByName(name.clone())))
            }
            _ => Err(not(versioned)),
        },
        Transaction::V1(v1) => {
            let target: TransactionTarget = v1.deserialize_field(1).map_err(|_| {
                bad(
                    "the transaction's `target` field",
                    "its bytes are none of a session, stored or native target",
                )
            })?;
            match target {
                TransactionTarget::Session { module_bytes, .. } => {
                    Ok(Runs::Session(module_bytes.to_vec()))
                }
                TransactionTarget::Native => Err(not(native)),
                TransactionTarget::Stored { id, .. } => match id {
                    TransactionInvocationTarget::ByHash(h) => Ok(Runs::Stored(Called::ByHash(h))),
                    TransactionInvocationTarget::ByName(n) => Ok(Runs::Stored(Called::ByName(n))),
                    _ => Err(not(versioned)),
                },
            }
        }
    }
}

pub(super) fn initiator(tx: &Transaction) -> AccountHash {
    match tx {
        Transaction::Deploy(d) => d.header().account().to_account_hash(),
        Transaction::V1(v) => v.initiator_addr().account_hash(),
    }
}

pub(super) fn check_transaction(tx: &Transaction) -> Vec<TrustCheck> {
    let (hash_ok, full) = match tx {
        Transaction::Deploy(d) => (
            d.has_valid_hash().map_err(|e| e.to_string()),
            d.is_valid().map_err(|e| e.to_string()),
        ),
        Transaction::V1(v) => (
            v.has_valid_hash().map_err(|e| e.to_string()),
            v.verify().map_err(|e| e.to_string()),
        ),
    };
    let approvals = match tx {
        Transaction::Deploy(d) => d.approvals().len(),
        Transaction::V1(v) => v.approvals().len(),
    };
    let mut checks = vec![match hash_ok {
        Ok(()) => TrustCheck {
            check: "transaction-hash".into(),
            status: CheckStatus::Passed,
            detail: "the hash recomputed from the transaction's contents is the one asked for"
                .into(),
        },
        Err(e) => TrustCheck {
            check: "transaction-hash".into(),
            status: CheckStatus::Failed,
            detail: format!("the contents do not hash to the transaction hash: {e}"),
        },
    }];
    checks.push(match full {
        Ok(()) => TrustCheck {
            check: "approvals".into(),
            status: CheckStatus::Passed,
            detail: format!("{approvals} approval signature(s), all valid"),
        },
        Err(e) => TrustCheck {
            check: "approvals".into(),
            status: CheckStatus::Failed,
            detail: e.to_string(),
        },
    });
    checks
}
