//! The walk's search and bookkeeping on chains of many shapes, built here with casper-types' own
//! block hashing and signatures (the real engines' chains are in `testdata/rpc/*finality*`, and
//! are checked by `crates/repro-cli/tests/finality.rs`). What each test expects follows from how
//! the chain was built: which block is the switch block of which era, who signed what.

use std::collections::BTreeMap;

use casper_types::{
    Block, BlockHash, BlockV1, BlockV2, ChainNameDigest, Digest, EraEndV1, EraEndV2, EraId,
    EraReport, FinalitySignatureV1, FinalitySignatureV2, ProtocolVersion, PublicKey,
    RewardedSignatures, SecretKey, Timestamp, U512,
};
use serde_json::{Value, json};

use super::walk::{self, Finality};
use super::{EmergencyUpgrade, Trust};
use crate::{CallError, Source};

const CHAIN: &str = "walk-test";
const FTT: (u64, u64) = (1, 3);

fn secret(i: u8) -> SecretKey {
    SecretKey::ed25519_from_bytes([i; 32]).unwrap()
}

fn public(i: u8) -> PublicKey {
    PublicKey::from(&secret(i))
}

/// Validators (key seeds and weights) per era.
type Sets = BTreeMap<u64, Vec<(u8, u64)>>;

fn weights(set: &[(u8, u64)]) -> BTreeMap<PublicKey, U512> {
    set.iter()
        .map(|(k, w)| (public(*k), U512::from(*w)))
        .collect()
}

/// A chain whose era `e` has `lens[e]` blocks, its last one a switch block with era `e + 1`'s
/// weights from `sets`; every block signed by the given signers of its era (default: all of its
/// era's validators).
struct Chain {
    blocks: Vec<(Block, Vec<u8>)>,
}

impl Chain {
    fn build(lens: &[u64], sets: &Sets, signers: impl Fn(u64, u64) -> Option<Vec<u8>>) -> Chain {
        Self::build_as(false, lens, sets, signers)
    }

    /// `v1`: the 1.5 node's blocks (BlockV1, signatures over hash ‖ era).
    fn build_as(
        v1: bool,
        lens: &[u64],
        sets: &Sets,
        signers: impl Fn(u64, u64) -> Option<Vec<u8>>,
    ) -> Chain {
        let mut blocks = Vec::new();
        let mut parent = BlockHash::new(Digest::hash(b"before the walk-test chain"));
        let mut seed = Digest::hash(b"walk-test seed");
        let mut height: u64 = 0;
        for (era, len) in lens.iter().enumerate() {
            let era = era as u64;
            for i in 0..*len {
                let last = i + 1 == *len;
                let next = || weights(&sets[&(era + 1)]);
                let timestamp = Timestamp::from(1_700_000_000_000 + height * 16_384);
                let proposer = public(sets[&era][0].0);
                let state_root = Digest::hash(height.to_le_bytes());
                let block = if v1 {
                    let era_end = last.then(|| {
                        EraEndV1::new(EraReport::new(vec![], BTreeMap::new(), vec![]), next())
                    });
                    Block::V1(BlockV1::new(
                        parent,
                        seed,
                        state_root,
                        false,
                        era_end,
                        timestamp,
                        EraId::new(era),
                        height,
                        ProtocolVersion::from_parts(1, 5, 8),
                        proposer,
                        vec![],
                        vec![],
                    ))
                } else {
                    let era_end =
                        last.then(|| EraEndV2::new(vec![], vec![], next(), BTreeMap::new(), 1));
                    Block::V2(BlockV2::new(
                        parent,
                        seed,
                        state_root,
                        false,
                        era_end,
                        timestamp,
                        EraId::new(era),
                        height,
                        ProtocolVersion::from_parts(2, 0, 3),
                        proposer,
                        BTreeMap::new(),
                        RewardedSignatures::default(),
                        1,
                        None,
                    ))
                };
                parent = *block.hash();
                seed = *block.accumulated_seed();
                let by = signers(era, height)
                    .unwrap_or_else(|| sets[&era].iter().map(|(k, _)| *k).collect());
                blocks.push((block, by));
                height += 1;
            }
        }
        Chain { blocks }
    }

    fn answer(&self, height: u64) -> Value {
        let (block, by) = &self.blocks[height as usize];
        let proofs: Vec<Value> = by
            .iter()
            .map(|k| {
                let signature = match block {
                    Block::V1(_) => {
                        *FinalitySignatureV1::create(*block.hash(), block.era_id(), &secret(*k))
                            .signature()
                    }
                    Block::V2(_) => *FinalitySignatureV2::create(
                        *block.hash(),
                        block.height(),
                        block.era_id(),
                        ChainNameDigest::from_chain_name(CHAIN),
                        &secret(*k),
                    )
                    .signature(),
                };
                json!({"public_key": public(*k), "signature": signature})
            })
            .collect();
        match block {
            // The 1.5 node's JsonBlock: the BlockV1 with its proofs inside.
            Block::V1(b) => {
                let mut b = serde_json::to_value(b).unwrap();
                b["proofs"] = json!(proofs);
                json!({"api_version": "1.5.8", "block": b})
            }
            Block::V2(_) => {
                json!({"api_version": "2.0.0", "block_with_signatures": {"block": block, "proofs": proofs}})
            }
        }
    }

    fn hash(&self, height: u64) -> BlockHash {
        *self.blocks[height as usize].0.hash()
    }

    fn block(&self, height: u64) -> &Block {
        &self.blocks[height as usize].0
    }

    fn signers(&self, height: u64) -> Vec<PublicKey> {
        self.blocks[height as usize]
            .1
            .iter()
            .map(|k| public(*k))
            .collect()
    }
}

/// A node serving `chain` by height and hash, counting calls.
struct Node<'a> {
    chain: &'a Chain,
    calls: usize,
    noted: Vec<Value>,
}

impl Source for Node<'_> {
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, CallError> {
        self.calls += 1;
        assert_eq!(method, "chain_get_block");
        let id = &params["block_identifier"];
        let found = if let Some(h) = id.get("Height").and_then(Value::as_u64) {
            (h < self.chain.blocks.len() as u64).then_some(h)
        } else {
            let hex = id["Hash"].as_str().unwrap();
            (0..self.chain.blocks.len() as u64).find(|h| self.chain.hash(*h).to_hex_string() == hex)
        };
        found
            .map(|h| self.chain.answer(h))
            .ok_or_else(|| CallError::Rpc {
                method: method.into(),
                code: -32001,
                message: "block not known".into(),
            })
    }

    fn describe(&self) -> String {
        "the test node".into()
    }

    fn note(&mut self, _method: &str, _params: &Value, result: &Value) {
        self.noted.push(result.clone());
    }
}

fn run(chain: &Chain, target: u64, trust: &Trust) -> (Finality, usize) {
    let mut node = Node {
        chain,
        calls: 0,
        noted: vec![],
    };
    let outcome = chain_of(&mut node, chain, target, trust);
    (outcome, node.calls)
}

fn chain_of(node: &mut dyn Source, chain: &Chain, target: u64, trust: &Trust) -> Finality {
    walk::chain(
        node,
        chain.block(target),
        &chain.signers(target),
        CHAIN,
        FTT,
        trust,
    )
    .unwrap()
}

fn trusting(chain: &Chain, height: u64) -> Trust {
    Trust {
        anchor: Some(chain.hash(height)),
        ..Trust::default()
    }
}

fn same_sets(eras: u64, set: Vec<(u8, u64)>) -> Sets {
    (0..=eras).map(|e| (e, set.clone())).collect()
}

#[test]
fn every_block_of_a_chain_of_uneven_eras_is_final_from_every_earlier_switch_block() {
    let lens = [3, 1, 7, 2, 12, 5, 1, 9];
    let sets: Sets = (0..=8)
        .map(|e| (e, vec![(1, 10 + e), (2, 20), (3, 30 + 2 * e), (4, 5)]))
        .collect();
    let chain = Chain::build(&lens, &sets, |_, _| None);
    let switches: Vec<u64> = (0..chain.blocks.len() as u64)
        .filter(|h| chain.block(*h).is_switch_block())
        .collect();
    for (i, trusted) in switches.iter().enumerate() {
        for target in trusted + 1..chain.blocks.len() as u64 {
            let (outcome, _) = run(&chain, target, &trusting(&chain, *trusted));
            let Finality::Final(c) = outcome else {
                panic!("trusted {trusted}, target {target}: {outcome:?}")
            };
            // The switch blocks strictly between the trusted block and the target.
            let crossed = switches[i + 1..].iter().filter(|s| **s < target).count() as u64;
            assert_eq!(
                c.switch_blocks, crossed,
                "trusted {trusted}, target {target}"
            );
            assert_eq!(c.era, chain.block(target).era_id().value());
            let q = c.quorum.unwrap();
            assert_eq!(q.signed, q.total);
        }
    }
}

#[test]
fn a_1_5_node_s_v1_blocks_chain_the_same_way() {
    let lens = [3, 4, 2, 5];
    let sets: Sets = (0..=4)
        .map(|e| (e, vec![(1, 40), (2, 30 + e), (3, 30)]))
        .collect();
    let chain = Chain::build_as(true, &lens, &sets, |_, _| None);
    assert!(matches!(chain.block(0), Block::V1(_)));
    let Finality::Final(c) = run(&chain, 12, &trusting(&chain, 4)).0 else {
        panic!()
    };
    assert_eq!((c.era, c.switch_blocks), (3, 2));
    // Era 3's block signed by 2 and 3 only: 63 of 103 is not more than 2/3.
    let chain = Chain::build_as(true, &lens, &sets, |_, h| (h == 12).then(|| vec![2, 3]));
    let Finality::Untrusted(why) = run(&chain, 12, &trusting(&chain, 2)).0 else {
        panic!()
    };
    assert!(why.contains("61.1 %"), "{why}");
}

#[test]
fn a_trusted_block_inside_an_era_is_chained_through_its_ancestors() {
    let lens = [2, 6, 4, 3];
    let chain = Chain::build(
        &lens,
        &same_sets(4, vec![(1, 1), (2, 1), (3, 1)]),
        |_, _| None,
    );
    // Height 4 is the third block of era 1 (heights 2..=7); the target is in era 3.
    let (outcome, _) = run(&chain, 13, &trusting(&chain, 4));
    let Finality::Final(c) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!((c.switch_blocks, c.trusted_height), (2, 4));
    assert!(c.describe().starts_with(
        "finalized: signed by 100.0 % of era 3's weight (threshold 66.7 %; 3 signer(s)), chained from trusted block"
    ));
    // Too few ancestors allowed: not shown final, and said why.
    let mut trust = trusting(&chain, 4);
    trust.max_ancestors = 1;
    let Finality::Untrusted(why) = run(&chain, 13, &trust).0 else {
        panic!()
    };
    assert!(why.starts_with("not decided: more than 1 blocks"), "{why}");
}

#[test]
fn eras_of_even_length_cost_few_calls() {
    // 40 eras of 50 blocks: after the first era's bisection, the last era's length places the
    // next switch block exactly, which takes two probes.
    let lens = vec![50; 40];
    let chain = Chain::build(&lens, &same_sets(40, vec![(1, 3), (2, 4)]), |_, _| None);
    let (outcome, calls) = run(&chain, 1_975, &trusting(&chain, 49));
    let Finality::Final(c) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(c.switch_blocks, 38);
    assert!(calls <= 1 + 11 + 2 * 37, "{calls} calls");
}

#[test]
fn a_switch_block_signed_by_too_little_weight_or_a_stranger_is_untrusted() {
    let lens = [2, 3, 3, 3];
    let sets = same_sets(4, vec![(1, 50), (2, 30), (3, 20)]);
    // The switch block of era 1 (height 4) signed by 1 and 3: 70 of 100 is more than 2/3.
    let chain = Chain::build(&lens, &sets, |_, h| (h == 4).then(|| vec![1, 3]));
    assert!(matches!(
        run(&chain, 9, &trusting(&chain, 1)).0,
        Finality::Final(_)
    ));
    // Signed by 2 and 3: 50 of 100.
    let chain = Chain::build(&lens, &sets, |_, h| (h == 4).then(|| vec![2, 3]));
    let Finality::Untrusted(why) = run(&chain, 9, &trusting(&chain, 1)).0 else {
        panic!()
    };
    assert!(
        why.contains("switch block of era 1") && why.contains("50.0 %"),
        "{why}"
    );
    // All of them and one stranger.
    let chain = Chain::build(&lens, &sets, |_, h| (h == 4).then(|| vec![1, 2, 3, 9]));
    let Finality::Untrusted(why) = run(&chain, 9, &trusting(&chain, 1)).0 else {
        panic!()
    };
    assert!(why.contains(&public(9).to_hex_string()), "{why}");
}

#[test]
fn a_trusted_block_the_node_does_not_know_or_after_the_target_is_untrusted() {
    let chain = Chain::build(&[2, 3, 3], &same_sets(3, vec![(1, 1)]), |_, _| None);
    let trust = Trust {
        anchor: Some(BlockHash::new(Digest::hash(b"another chain"))),
        ..Trust::default()
    };
    let Finality::Untrusted(why) = run(&chain, 6, &trust).0 else {
        panic!()
    };
    assert!(
        why.starts_with("the chain does not reach the trusted block"),
        "{why}"
    );
    let Finality::Untrusted(why) = run(&chain, 3, &trusting(&chain, 6)).0 else {
        panic!()
    };
    assert!(why.contains("is not below the executing block"), "{why}");
    // The executing block itself, trusted.
    let Finality::Final(c) = run(&chain, 3, &trusting(&chain, 3)).0 else {
        panic!()
    };
    assert!(c.quorum.is_none() && c.switch_blocks == 0);
    // Without a trusted block nothing is asked.
    let (outcome, calls) = run(&chain, 6, &Trust::default());
    assert!(matches!(outcome, Finality::Unknown(_)) && calls == 0);
}

#[test]
fn an_emergency_upgrade_replaces_the_weights_at_its_activation_era() {
    // Era 2's switch block still names the old validators for era 3, but an emergency upgrade
    // activating at era 3 replaced them with 7 and 8, who sign era 3.
    let lens = [2, 3, 3, 4];
    let mut sets = same_sets(4, vec![(1, 1), (2, 1)]);
    sets.insert(3, vec![(1, 1), (2, 1)]);
    let chain = Chain::build(&lens, &sets, |era, _| (era == 3).then(|| vec![7, 8]));
    let (outcome, _) = run(&chain, 10, &trusting(&chain, 1));
    assert!(matches!(outcome, Finality::Untrusted(_)), "{outcome:?}");
    let trust = Trust {
        upgrades: vec![EmergencyUpgrade {
            activation_era: 3,
            validators: weights(&[(7, 5), (8, 5)]),
            origin: "test".into(),
        }],
        ..trusting(&chain, 1)
    };
    let Finality::Final(c) = run(&chain, 10, &trust).0 else {
        panic!()
    };
    assert_eq!(c.upgrades, vec![3]);
    assert!(c.describe().contains("emergency upgrade"));
}

#[test]
fn accepted_switch_blocks_are_cached_per_era_and_checked_again() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::build(
        &[2, 9, 9, 9, 4],
        &same_sets(5, vec![(1, 1), (2, 1)]),
        |_, _| None,
    );
    let trust = Trust {
        cache: Some(dir.path().to_owned()),
        ..trusting(&chain, 1)
    };
    let (first, cold) = run(&chain, 30, &trust);
    assert!(matches!(first, Finality::Final(_)));
    let mut node = Node {
        chain: &chain,
        calls: 0,
        noted: vec![],
    };
    let second = chain_of(&mut node, &chain, 30, &trust);
    assert_eq!(first, second);
    // Only the trusted block is asked for; the three switch blocks come from the cache, and a
    // recorder is told of them (so a bundle saved now re-checks offline).
    assert_eq!(
        (node.calls, node.noted.len()),
        (1, 3),
        "cold run: {cold} calls"
    );
    // A cache entry that does not pass is ignored: the chain is searched again.
    let entry = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("era-2.json");
    let other = Chain::build(&[2, 9, 9, 9, 4], &same_sets(5, vec![(5, 1)]), |_, _| None);
    std::fs::write(&entry, other.answer(19).to_string()).unwrap();
    let (third, calls) = run(&chain, 30, &trust);
    assert_eq!(first, third);
    assert!(calls > 1);
}

#[test]
fn the_walk_stops_at_its_era_bound() {
    let chain = Chain::build(&[1; 12], &same_sets(12, vec![(1, 1)]), |_, _| None);
    let trust = Trust {
        max_eras: 5,
        ..trusting(&chain, 0)
    };
    let Finality::Untrusted(why) = run(&chain, 11, &trust).0 else {
        panic!()
    };
    assert!(why.starts_with("not decided: more than 5 eras"), "{why}");
}
