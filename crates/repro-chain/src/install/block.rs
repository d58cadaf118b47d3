//! The executing block: its hash, its signatures, and that it lists the transaction.

use super::*;

/// A block's signatures (`proofs`) sorted by what they prove: `valid` are finality signatures of
/// this block by their public key (casper-types' own check); `invalid` says why each other entry is
/// not.
#[derive(Debug, Default)]
pub(crate) struct Signers {
    pub valid: Vec<casper_types::PublicKey>,
    pub invalid: Vec<String>,
}

pub(crate) fn signers(block: &Block, chain_name: &str, proofs: Option<&Value>) -> Signers {
    use casper_types::{ChainNameDigest, FinalitySignatureV1, FinalitySignatureV2, PublicKey};
    let mut out = Signers::default();
    for p in proofs.and_then(Value::as_array).into_iter().flatten() {
        // A finality signature of this block by that key, in casper-types' own form (its
        // constructor is test-only; its serde form is the record).
        let (Some(public_key), Some(signature)) = (p.get("public_key"), p.get("signature")) else {
            out.invalid.push(format!("unreadable signature entry {p}"));
            continue;
        };
        let verified = match block {
            Block::V1(_) => serde_json::from_value::<FinalitySignatureV1>(json!({
                "block_hash": block.hash(),
                "era_id": block.era_id(),
                "signature": signature,
                "public_key": public_key,
            }))
            .map_err(|e| e.to_string())
            .and_then(|f| f.is_verified().map_err(|e| e.to_string())),
            Block::V2(_) => serde_json::from_value::<FinalitySignatureV2>(json!({
                "block_hash": block.hash(),
                "block_height": block.height(),
                "era_id": block.era_id(),
                "chain_name_hash": ChainNameDigest::from_chain_name(chain_name),
                "signature": signature,
                "public_key": public_key,
            }))
            .map_err(|e| e.to_string())
            .and_then(|f| f.is_verified().map_err(|e| e.to_string())),
        };
        let key =
            serde_json::from_value::<PublicKey>(public_key.clone()).map_err(|e| e.to_string());
        match (verified, key) {
            (Ok(()), Ok(key)) => out.valid.push(key),
            (Err(e), _) | (Ok(()), Err(e)) => out.invalid.push(format!(
                "{public_key} does not sign this block: {}",
                super::diagnose::plain(&e.to_string())
            )),
        }
    }
    out
}

/// The `block-signatures` check: every signature the answer carries is valid. Whether the signers
/// hold enough of the era's weight is the `finality` check's part.
fn check_signatures(found: &Signers) -> TrustCheck {
    let check = |status, detail: String| TrustCheck {
        check: "block-signatures".into(),
        status,
        detail,
    };
    if found.valid.is_empty() && found.invalid.is_empty() {
        return check(
            CheckStatus::NotPossible,
            "the answer carries no signatures of the block".into(),
        );
    }
    if found.invalid.is_empty() {
        check(
            CheckStatus::Passed,
            format!("{} signature(s) of the block, all valid", found.valid.len()),
        )
    } else {
        check(CheckStatus::Failed, found.invalid.join("; "))
    }
}

/// A `chain_get_block` result read into the block and its signatures (`proofs`): the 2.x sidecar's
/// `block_with_signatures`, or the 1.5 node's `block` (a BlockV1 with `proofs` inside).
pub(crate) fn parse_block_answer(result: &Value) -> Result<(Block, Option<Value>), ResolveError> {
    if let Some(bws) = result.get("block_with_signatures") {
        let block = serde_json::from_value(bws.get("block").cloned().unwrap_or(Value::Null))
            .map_err(|e| bad("chain_get_block: block_with_signatures.block", e))?;
        Ok((block, bws.get("proofs").cloned()))
    } else if let Some(b) = result.get("block") {
        let mut b = b.clone();
        let proofs = b.as_object_mut().and_then(|o| o.remove("proofs"));
        let v1: BlockV1 =
            serde_json::from_value(b).map_err(|e| bad("chain_get_block: block", e))?;
        Ok((Block::V1(v1), proofs))
    } else {
        Err(bad("chain_get_block", "no `block` in the result"))
    }
}

/// The executing block as read: the block, what a report says of it, and its valid signers.
pub(super) struct Fetched {
    pub block: Block,
    pub facts: BlockFacts,
    pub signers: Vec<casper_types::PublicKey>,
}

pub(super) fn fetch_block(
    source: &mut dyn Source,
    block_hash: &BlockHash,
    tx_hash: &TransactionHash,
    chain_name: &str,
    checks: &mut Vec<TrustCheck>,
) -> Result<Option<Fetched>, ResolveError> {
    let params = json!({"block_identifier": {"Hash": block_hash.to_hex_string()}});
    let result = match source.call("chain_get_block", &params) {
        Ok(r) => r,
        Err(e) if e.is_absent() => {
            checks.push(TrustCheck {
                check: "block".into(),
                status: CheckStatus::NotPossible,
                detail: format!("block {} not available: {e}", block_hash.to_hex_string()),
            });
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let (block, proofs) = parse_block_answer(&result)?;
    if block.hash() != block_hash {
        return Err(bad(
            "chain_get_block",
            format!(
                "asked for block {} but got block {}",
                block_hash.to_hex_string(),
                block.hash().to_hex_string()
            ),
        ));
    }
    checks.push(match block.verify() {
        Ok(()) => TrustCheck {
            check: "block-hash".into(),
            status: CheckStatus::Passed,
            detail: format!(
                "block {} hash recomputed from its header and body",
                block_hash.to_hex_string()
            ),
        },
        Err(e) => TrustCheck {
            check: "block-hash".into(),
            status: CheckStatus::Failed,
            detail: format!("block {}: {e}", block_hash.to_hex_string()),
        },
    });
    let found = signers(&block, chain_name, proofs.as_ref());
    checks.push(check_signatures(&found));
    let listed = match &block {
        Block::V1(b) => match tx_hash {
            TransactionHash::Deploy(d) => {
                b.deploy_hashes().contains(d) || b.body().transfer_hashes().contains(d)
            }
            TransactionHash::V1(_) => false,
        },
        Block::V2(b) => b.all_transactions().any(|t| t == tx_hash),
    };
    checks.push(TrustCheck {
        check: "block-lists-transaction".into(),
        status: if listed {
            CheckStatus::Passed
        } else {
            CheckStatus::Failed
        },
        detail: if listed {
            "the executing block's body lists the transaction".into()
        } else {
            "the block named by the execution result does not list the transaction".into()
        },
    });
    let facts = BlockFacts {
        hash: block_hash.to_hex_string(),
        height: block.height(),
        protocol_version: block.protocol_version().to_string(),
        state_root_hash: hex::encode(block.state_root_hash().value()),
    };
    Ok(Some(Fetched {
        block,
        facts,
        signers: found.valid,
    }))
}
