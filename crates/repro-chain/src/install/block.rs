//! The executing block: its hash, its signatures, and that it lists the transaction.

use super::*;

/// The block's signatures (`proofs`): each must be a valid finality signature of this block by
/// its public key. Whether the signers hold enough of the era's stake is not known here.
fn check_signatures(block: &Block, chain_name: &str, proofs: Option<&Value>) -> TrustCheck {
    use casper_types::{ChainNameDigest, FinalitySignatureV1, FinalitySignatureV2};
    let check = |status, detail: String| TrustCheck {
        check: "block-signatures".into(),
        status,
        detail,
    };
    let list = proofs
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if list.is_empty() {
        return check(
            CheckStatus::NotPossible,
            "the answer carries no signatures of the block".into(),
        );
    }
    let mut bad_ones = Vec::new();
    for p in &list {
        // A finality signature of this block by that key, in casper-types' own form (its
        // constructor is test-only; its serde form is the record).
        let (Some(public_key), Some(signature)) = (p.get("public_key"), p.get("signature")) else {
            bad_ones.push(format!("unreadable signature entry {p}"));
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
        if let Err(e) = verified {
            bad_ones.push(format!("{public_key} does not sign this block: {e}"));
        }
    }
    if bad_ones.is_empty() {
        check(
            CheckStatus::Passed,
            format!(
                "{} signature(s) of the block, all valid (whether the signers hold enough of the era's stake is not checked)",
                list.len()
            ),
        )
    } else {
        check(CheckStatus::Failed, bad_ones.join("; "))
    }
}

pub(super) fn fetch_block(
    source: &mut dyn Source,
    block_hash: &BlockHash,
    tx_hash: &TransactionHash,
    chain_name: &str,
    checks: &mut Vec<TrustCheck>,
) -> Result<Option<(Block, BlockFacts)>, ResolveError> {
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
    let (block, proofs): (Block, Option<&Value>) =
        if let Some(bws) = result.get("block_with_signatures") {
            let block = serde_json::from_value(bws.get("block").cloned().unwrap_or(Value::Null))
                .map_err(|e| bad("chain_get_block: block_with_signatures.block", e))?;
            (block, bws.get("proofs"))
        } else if let Some(b) = result.get("block") {
            // 1.5 node: JsonBlock {hash, header, body, proofs}; the block itself is a BlockV1.
            let mut b = b.clone();
            if let Some(o) = b.as_object_mut() {
                o.remove("proofs");
            }
            let v1: BlockV1 =
                serde_json::from_value(b).map_err(|e| bad("chain_get_block: block", e))?;
            (Block::V1(v1), result.pointer("/block/proofs"))
        } else {
            return Err(bad("chain_get_block", "no `block` in the result"));
        };
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
    checks.push(check_signatures(&block, chain_name, proofs));
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
    Ok(Some((block, facts)))
}
