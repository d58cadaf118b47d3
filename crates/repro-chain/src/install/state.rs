//! Global state at the executing block: stored records with their merkle proofs, the node's
//! chainspec, a factory's stored bytes.

use super::transaction::Called;
use super::*;

/// A stored value read at the block, with its proofs checked.
pub(super) struct Read {
    /// The key of the value (the last key of the path).
    pub(super) key: Key,
    pub(super) value: StoredValue,
    pub(super) proven: bool,
}

/// `query_global_state` at the block for `key` (and a named-key `path` from it), every proof
/// folded to the block's state root. `None` when there is no block or the state is not served.
pub(super) fn read_state(
    source: &mut dyn Source,
    key: &Key,
    path: &[String],
    block: Option<&Fetched>,
    checks: &mut Vec<TrustCheck>,
) -> Result<Option<Read>, ResolveError> {
    let Some(Fetched { block, facts, .. }) = block else {
        return Ok(None);
    };
    let key_str = key.to_formatted_string();
    let label = if path.is_empty() {
        key_str.clone()
    } else {
        format!("{key_str}/{}", path.join("/"))
    };
    let params =
        json!({"state_identifier": {"BlockHash": facts.hash}, "key": key_str, "path": path});
    let result = match source.call("query_global_state", &params) {
        Ok(r) => r,
        Err(e) if e.is_absent() => {
            checks.push(TrustCheck {
                check: format!("merkle-proof {label}"),
                status: CheckStatus::NotPossible,
                detail: format!("state not available: {e}"),
            });
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let what = format!("query_global_state {label}");
    let proof_hex = result
        .get("merkle_proof")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(&what, "no merkle_proof string"))?;
    let proofs = proof::read_proofs(proof_hex).map_err(|e| bad(&what, e))?;
    let root = block.state_root_hash();
    let mut failed = Vec::new();
    if proofs[0].key != *key {
        failed.push(format!(
            "the proof is for {} not {key_str}",
            proofs[0].key.to_formatted_string()
        ));
    }
    if proofs.len() != path.len() + 1 {
        failed.push(format!(
            "{} proof(s) for a path of {} key(s)",
            proofs.len(),
            path.len() + 1
        ));
    }
    for p in &proofs {
        if p.state_root != *root {
            failed.push(format!(
                "the proof of {} leads to state root {} but the block's is {}",
                p.key.to_formatted_string(),
                hex::encode(p.state_root.value()),
                hex::encode(root.value())
            ));
        }
    }
    let last: &Proven = proofs
        .last()
        .expect("read_proofs returns at least one proof");
    if let Err(e) = json_agrees(result.get("stored_value"), last) {
        failed.push(e);
    }
    let proven = failed.is_empty();
    checks.push(TrustCheck {
        check: format!("merkle-proof {label}"),
        status: if proven {
            CheckStatus::Passed
        } else {
            CheckStatus::Failed
        },
        detail: if proven {
            format!(
                "the stored value is proven under the block's state root hash {}",
                hex::encode(root.value())
            )
        } else {
            failed.join("; ")
        },
    });
    Ok(Some(Read {
        key: last.key,
        value: last.value.clone(),
        proven,
    }))
}

/// The node's chainspec, if it serves one (`info_get_chainspec`; both APIs).
pub(super) fn fetch_chainspec(source: &mut dyn Source) -> Result<Option<String>, ResolveError> {
    let result = match source.call("info_get_chainspec", &json!([])) {
        Ok(r) => r,
        Err(e) if e.is_absent() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let hex_str = result
        .pointer("/chainspec_bytes/chainspec_bytes")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("info_get_chainspec", "no chainspec_bytes.chainspec_bytes"))?;
    let bytes = hex::decode(hex_str).map_err(|e| bad("info_get_chainspec", e))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| bad("info_get_chainspec", e))
}

/// The stored contract a factory transaction called, and its stored bytes.
pub(super) fn resolve_caller(
    source: &mut dyn Source,
    called: &Called,
    account: AccountHash,
    block: Option<&Fetched>,
    checks: &mut Vec<TrustCheck>,
) -> Result<(Installer, Vec<u8>), ResolveError> {
    let (key, path, named_key) = match called {
        Called::ByHash(h) => (Key::Hash(*h), Vec::new(), None),
        Called::ByName(n) => (Key::Account(account), vec![n.clone()], Some(n.clone())),
    };
    let unavailable = |what: &str| {
        ResolveError::StateUnavailable {
        key: what.to_owned(),
        detail: "the transaction calls a stored contract (a factory install), whose stored bytes are read at the executing block; the block or that state is not available".into(),
    }
    };
    let contract = read_state(source, &key, &path, block, checks)?
        .ok_or_else(|| unavailable(&key.to_formatted_string()))?;
    let StoredValue::Contract(record) = &contract.value else {
        return Err(bad(
            format!("query_global_state {}", key.to_formatted_string()),
            "the called stored value is not a Contract",
        ));
    };
    let wasm_key = Key::Hash(record.contract_wasm_hash().value());
    let wasm = read_state(source, &wasm_key, &[], block, checks)?
        .ok_or_else(|| unavailable(&wasm_key.to_formatted_string()))?;
    let StoredValue::ContractWasm(cw) = wasm.value else {
        return Err(bad(
            format!("query_global_state {}", wasm_key.to_formatted_string()),
            "the stored value is not ContractWasm",
        ));
    };
    let bytes = cw.take_bytes();
    Ok((
        Installer::StoredContract {
            contract_hash: hex::encode(contract.key.into_hash_addr().unwrap_or_default()),
            contract_wasm_hash: hex::encode(record.contract_wasm_hash().value()),
            named_key,
            stored_sha256: sha256_hex(&bytes),
            stored_len: bytes.len(),
            proven: contract.proven && wasm.proven,
        },
        bytes,
    ))
}

/// The answer's JSON `stored_value` says the same as the proven value. 2.x serialises with
/// casper-types; the 1.5 node's json_compatibility form of `ContractWasm` is the hex of its
/// bytesrepr, and of `Contract` a record whose entry-point names are compared.
fn json_agrees(json_value: Option<&Value>, proven: &Proven) -> Result<(), String> {
    let Some(v) = json_value else {
        return Err("no stored_value in the answer".into());
    };
    if let Ok(parsed) = serde_json::from_value::<StoredValue>(v.clone()) {
        return if parsed == proven.value {
            Ok(())
        } else {
            Err("the answer's stored_value differs from the value its merkle proof proves".into())
        };
    }
    // 1.5 json_compatibility shapes.
    if let Some(hex_str) = v.get("ContractWasm").and_then(Value::as_str) {
        let bytes = hex::decode(hex_str).map_err(|e| format!("stored_value hex: {e}"))?;
        let (wasm, rest) =
            ContractWasm::from_bytes(&bytes).map_err(|e| format!("stored_value bytes: {e}"))?;
        return match &proven.value {
            StoredValue::ContractWasm(p) if rest.is_empty() && *p == wasm => Ok(()),
            _ => Err(
                "the answer's ContractWasm differs from the value its merkle proof proves".into(),
            ),
        };
    }
    if let Some(c) = v.get("Contract") {
        let names: BTreeSet<String> = c
            .get("entry_points")
            .and_then(Value::as_array)
            .map(|eps| {
                eps.iter()
                    .filter_map(|e| e.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        return match &proven.value {
            StoredValue::Contract(p)
                if p.entry_points().keys().cloned().collect::<BTreeSet<_>>() == names =>
            {
                Ok(())
            }
            _ => Err("the answer's Contract differs from the value its merkle proof proves".into()),
        };
    }
    Ok(())
}
