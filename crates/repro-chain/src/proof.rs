//! Merkle proofs of global state, as `query_global_state` returns them: the hex of
//! bytesrepr(`Vec<TrieMerkleProof<Key, StoredValue>>`). Recomputes the state root hash the way the
//! node's global state does (`casper-storage` `compute_state_hash`, = `operations::rehash`): the
//! leaf `Trie::Leaf { key, value }` hashed (in chunks if large), then each step folded in as a
//! `Trie::Node` (the pointer block with the hole filled) or a `Trie::Extension`.
//!
//! The leaf is hashed from the proof's own key and value bytes, as sent, never re-serialized: a
//! value that casper-types would serialize differently today is still proven exactly.

use std::collections::VecDeque;

use casper_types::bytesrepr::{Bytes, FromBytes, ToBytes};
use casper_types::global_state::{Pointer, TrieMerkleProofStep};
use casper_types::{Digest, Key, StoredValue};

/// Tags of `casper_storage::global_state::trie::Trie`'s bytesrepr.
const TRIE_LEAF: u8 = 0;
const TRIE_NODE: u8 = 1;
const TRIE_EXTENSION: u8 = 2;
/// Children of a trie node.
const RADIX: usize = 256;

/// One proof: what it proves and the root it leads to.
#[derive(Debug, Clone)]
pub struct Proven {
    pub key: Key,
    pub value: StoredValue,
    /// The state root hash the proof leads to.
    pub state_root: Digest,
}

/// Why a proof could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("the merkle proof is not hex: {0}")]
    Hex(#[from] hex::FromHexError),
    #[error("the merkle proof is empty")]
    Empty,
    #[error("the merkle proof does not decode ({what}): {error}")]
    Decode { what: &'static str, error: String },
    #[error("the merkle proof has {0} trailing bytes")]
    Trailing(usize),
}

fn decode<'a, T: FromBytes>(
    bytes: &'a [u8],
    what: &'static str,
) -> Result<(T, &'a [u8]), ProofError> {
    T::from_bytes(bytes).map_err(|e| ProofError::Decode {
        what,
        error: e.to_string(),
    })
}

/// Reads every proof of a `merkle_proof` string and recomputes the root each leads to. The first
/// proof is the queried key's (further ones follow a path).
pub fn read_proofs(merkle_proof_hex: &str) -> Result<Vec<Proven>, ProofError> {
    let bytes = hex::decode(merkle_proof_hex.trim())?;
    let (count, mut rem) = decode::<u32>(&bytes, "proof count")?;
    if count == 0 {
        return Err(ProofError::Empty);
    }
    let mut proofs = Vec::with_capacity(count.min(64) as usize);
    for _ in 0..count {
        let leaf_start = rem;
        let (key, after_key) = decode::<Key>(rem, "key")?;
        let (value, after_value) = decode::<StoredValue>(after_key, "stored value")?;
        let leaf_raw = &leaf_start[..leaf_start.len() - after_value.len()];
        let (steps, after_steps) = decode::<VecDeque<TrieMerkleProofStep>>(after_value, "steps")?;
        rem = after_steps;
        let state_root = fold(leaf_raw, &steps);
        proofs.push(Proven {
            key,
            value,
            state_root,
        });
    }
    if !rem.is_empty() {
        return Err(ProofError::Trailing(rem.len()));
    }
    Ok(proofs)
}

/// The root reached from a leaf (its key ‖ value bytes) through the proof steps.
fn fold(leaf_key_value: &[u8], steps: &VecDeque<TrieMerkleProofStep>) -> Digest {
    let mut leaf = Vec::with_capacity(1 + leaf_key_value.len());
    leaf.push(TRIE_LEAF);
    leaf.extend_from_slice(leaf_key_value);
    let mut hash = Digest::hash_into_chunks_if_necessary(&leaf);
    for (index, step) in steps.iter().enumerate() {
        let pointer = if index == 0 {
            Pointer::LeafPointer(hash)
        } else {
            Pointer::NodePointer(hash)
        };
        let mut bytes = Vec::new();
        match step {
            TrieMerkleProofStep::Node {
                hole_index,
                indexed_pointers_with_hole,
            } => {
                let mut block: Vec<Option<Pointer>> = vec![None; RADIX];
                for (i, p) in indexed_pointers_with_hole {
                    block[usize::from(*i)] = Some(*p);
                }
                block[usize::from(*hole_index)] = Some(pointer);
                bytes.push(TRIE_NODE);
                for slot in &block {
                    match slot {
                        None => bytes.push(0),
                        Some(p) => {
                            bytes.push(1);
                            bytes.extend_from_slice(&pointer_bytes(p));
                        }
                    }
                }
            }
            TrieMerkleProofStep::Extension { affix } => {
                bytes.push(TRIE_EXTENSION);
                bytes.extend_from_slice(&bytes_of(affix));
                bytes.extend_from_slice(&pointer_bytes(&pointer));
            }
        }
        hash = Digest::hash(&bytes);
    }
    hash
}

fn pointer_bytes(p: &Pointer) -> Vec<u8> {
    // A pointer is a tag and a digest: serialization cannot fail.
    p.to_bytes().unwrap_or_default()
}

fn bytes_of(b: &Bytes) -> Vec<u8> {
    b.to_bytes().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(read_proofs("zz"), Err(ProofError::Hex(_))));
        assert!(matches!(read_proofs("00000000"), Err(ProofError::Empty)));
        assert!(matches!(
            read_proofs("01000000ff"),
            Err(ProofError::Decode { .. })
        ));
    }
}
