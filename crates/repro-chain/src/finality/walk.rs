//! Chaining the executing block's finality back to a trusted block, as the node's sync leap does
//! (casper-node `types/sync_leap.rs`, `SyncLeap::validate`):
//!
//! 1. the trusted block is fetched by its hash; if it is not a switch block, its ancestors are
//!    fetched by parent hash back to the switch block that ends the previous era, whose header
//!    carries the weights of the trusted block's era;
//! 2. for every later era up to the executing block's, that era's switch block is found (by height,
//!    a search over `chain_get_block` answers that trusts nothing), and accepted only when its
//!    signers hold more than the quorum of the era's weights; its header then gives the next era's
//!    weights — or, at an emergency upgrade, the upgrade's chainspec does;
//! 3. the executing block's signers are weighed against its era's weights.
//!
//! Every block is checked (`Block::verify`: its hash is that of its header and body), every
//! signature is checked cryptographically, and a signer outside the era's validators is rejected.
//! The node's answers steer the search only: a node that lies can make the walk fail, never pass.

use std::collections::BTreeMap;

use casper_types::{Block, BlockHash, PublicKey, U512};
use serde_json::{Value, json};

use super::cache::EraCache;
use super::{Quorum, Trust, check_quorum, percent};
use crate::install::{ResolveError, parse_block_answer, signers};
use crate::{CallError, Source};

/// What the walk concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finality {
    /// The executing block is final by weights chained from the trusted block.
    Final(Box<Chained>),
    /// Not shown final from the trusted block: the chain's answers contradict it (forged,
    /// unsigned, not the trusted chain), or the walk could not be completed (a bundle without its
    /// answers, more eras than allowed).
    Untrusted(String),
    /// No trusted block was given: finality by weight is not decided.
    Unknown(String),
}

/// How the executing block was found final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chained {
    /// The executing block's signers against its era (none when it is the trusted block).
    pub quorum: Option<Quorum>,
    pub era: u64,
    pub trusted: String,
    pub trusted_height: u64,
    /// Switch blocks accepted by signature between the trusted block and the executing block.
    pub switch_blocks: u64,
    /// Eras whose weights came from an emergency upgrade's chainspec.
    pub upgrades: Vec<u64>,
    /// The quorum fraction as (numerator, denominator).
    pub quorum_fraction: (u64, u64),
}

impl Chained {
    /// `finalized: signed by 83.3 % of era 3's weight (threshold 66.7 %), chained from trusted
    /// block H through 2 switch blocks`.
    pub fn describe(&self) -> String {
        let (qn, qd) = self.quorum_fraction;
        let threshold = {
            let permille = (qn * 1000 + qd / 2) / qd;
            format!("{}.{} %", permille / 10, permille % 10)
        };
        let signed = match &self.quorum {
            Some(q) => format!(
                "signed by {} of era {}'s weight (threshold {threshold}; {} signer(s))",
                percent(q.signed, q.total),
                self.era,
                q.signers
            ),
            None => "it is the trusted block itself".to_owned(),
        };
        let upgrades = if self.upgrades.is_empty() {
            String::new()
        } else {
            let eras: Vec<String> = self.upgrades.iter().map(u64::to_string).collect();
            format!(
                "; validators of era(s) {} from the emergency upgrade's chainspec",
                eras.join(", ")
            )
        };
        format!(
            "finalized: {signed}, chained from trusted block {} (height {}) through {} switch block(s){upgrades}",
            self.trusted, self.trusted_height, self.switch_blocks
        )
    }
}

/// Decides whether `block`, signed by `signers` (signatures already checked), is final, chaining
/// era weights from `trust`'s anchor. `ftt` is the chainspec's finality threshold fraction.
pub fn chain(
    source: &mut dyn Source,
    block: &Block,
    signers: &[PublicKey],
    chain_name: &str,
    ftt: (u64, u64),
    trust: &Trust,
) -> Result<Finality, ResolveError> {
    let Some(anchor) = trust.anchor else {
        return Ok(Finality::Unknown(
            "no trusted block given, so the signers' weight is not checked: give --trusted-block HASH (a block hash you trust, e.g. from your own node)".into(),
        ));
    };
    let cache = trust
        .cache
        .as_deref()
        .map(|dir| EraCache::new(dir, chain_name));
    let mut walker = Walker {
        source,
        chain_name,
        ftt,
        trust,
        cache,
        by_height: BTreeMap::new(),
    };
    match walker.walk(anchor, block, signers) {
        Ok(chained) => Ok(Finality::Final(Box::new(chained))),
        Err(Stop::Untrusted(why)) => Ok(Finality::Untrusted(why)),
        // Finality was asked for (a trusted block was given) and is not shown: that is a failure
        // too, with the reason, never a pass by default.
        Err(Stop::Unknown(why)) => Ok(Finality::Untrusted(format!("not decided: {why}"))),
        Err(Stop::Fatal(e)) => Err(e),
    }
}

enum Stop {
    Untrusted(String),
    Unknown(String),
    Fatal(ResolveError),
}

impl From<ResolveError> for Stop {
    fn from(e: ResolveError) -> Self {
        Stop::Fatal(e)
    }
}

/// A block as answered, checked to be the one asked for and consistent with its hash.
#[derive(Clone)]
struct Got {
    block: Block,
    proofs: Option<Value>,
    answer: Value,
}

#[derive(Clone, Copy)]
enum Id {
    Hash(BlockHash),
    Height(u64),
}

impl Id {
    fn params(self) -> Value {
        match self {
            Id::Hash(h) => json!({"block_identifier": {"Hash": h.to_hex_string()}}),
            Id::Height(h) => json!({"block_identifier": {"Height": h}}),
        }
    }

    fn describe(self) -> String {
        match self {
            Id::Hash(h) => format!("block {}", h.to_hex_string()),
            Id::Height(h) => format!("the block at height {h}"),
        }
    }
}

/// The weights of an era and how far the walk has come.
struct Position {
    era: u64,
    weights: BTreeMap<PublicKey, U512>,
    /// A height of the walked chain below the next switch block (the last accepted block).
    height: u64,
    /// The length of the last era crossed, to guess where the next one ends.
    last_era_len: Option<u64>,
}

struct Walker<'a> {
    source: &'a mut dyn Source,
    chain_name: &'a str,
    ftt: (u64, u64),
    trust: &'a Trust,
    cache: Option<EraCache>,
    by_height: BTreeMap<u64, Got>,
}

impl Walker<'_> {
    fn walk(
        &mut self,
        anchor: BlockHash,
        target: &Block,
        target_signers: &[PublicKey],
    ) -> Result<Chained, Stop> {
        let trusted = self.get(Id::Hash(anchor)).map_err(|stop| match stop {
            Stop::Untrusted(why) => Stop::Untrusted(format!(
                "the chain does not reach the trusted block {}: {why}",
                anchor.to_hex_string()
            )),
            other => other,
        })?;
        let mut chained = Chained {
            quorum: None,
            era: target.era_id().value(),
            trusted: anchor.to_hex_string(),
            trusted_height: trusted.block.height(),
            switch_blocks: 0,
            upgrades: Vec::new(),
            quorum_fraction: (self.ftt.0 + self.ftt.1, 2 * self.ftt.1),
        };
        if trusted.block.hash() == target.hash() {
            return Ok(chained);
        }
        if trusted.block.height() >= target.height() {
            return Err(Stop::Untrusted(format!(
                "the trusted block {} (height {}) is not below the executing block (height {}): give a trusted block from before it",
                anchor.to_hex_string(),
                trusted.block.height(),
                target.height()
            )));
        }
        let mut at = self.start(&trusted, &mut chained)?;
        loop {
            let target_era = target.era_id().value();
            if target_era == at.era {
                let q = check_quorum(&at.weights, target_signers, self.ftt).map_err(|e| {
                    Stop::Untrusted(format!("the executing block (era {}): {e}", at.era))
                })?;
                chained.quorum = Some(q);
                return Ok(chained);
            }
            if target_era < at.era {
                return Err(Stop::Untrusted(format!(
                    "the executing block is in era {target_era}, but the chain from the trusted block is already in era {} below its height: they are not one chain",
                    at.era
                )));
            }
            if chained.switch_blocks >= self.trust.max_eras {
                return Err(Stop::Unknown(format!(
                    "more than {} eras lie between the trusted block and the executing block: give a later trusted block",
                    self.trust.max_eras
                )));
            }
            let switch = self.switch_block(&at, target.height())?;
            let height = switch.block.height();
            let weights = self.next_weights(&switch.block, &mut chained)?;
            at = Position {
                era: at.era + 1,
                weights,
                last_era_len: Some(height - at.height),
                height,
            };
            chained.switch_blocks += 1;
        }
    }

    /// The trusted block's successor era and its weights: from the block itself when it is a
    /// switch block, else from the switch block its ancestors lead back to.
    fn start(&mut self, trusted: &Got, chained: &mut Chained) -> Result<Position, Stop> {
        let block = &trusted.block;
        if block.is_switch_block() {
            return Ok(Position {
                era: block.era_id().value() + 1,
                weights: self.next_weights(block, chained)?,
                height: block.height(),
                last_era_len: None,
            });
        }
        let mut child = block.clone();
        for _ in 0..self.trust.max_ancestors {
            let parent = self.get(Id::Hash(*child.parent_hash()))?.block;
            if parent.height() + 1 != child.height() {
                return Err(Stop::Untrusted(format!(
                    "block {} at height {} names as parent a block at height {}",
                    child.hash().to_hex_string(),
                    child.height(),
                    parent.height()
                )));
            }
            if parent.is_switch_block() {
                if parent.era_id().successor() != block.era_id() {
                    return Err(Stop::Untrusted(format!(
                        "the switch block {} before the trusted block ends era {}, not the era before the trusted block's ({})",
                        parent.hash().to_hex_string(),
                        parent.era_id(),
                        block.era_id()
                    )));
                }
                return Ok(Position {
                    era: block.era_id().value(),
                    weights: self.next_weights(&parent, chained)?,
                    height: block.height(),
                    last_era_len: None,
                });
            }
            if parent.era_id() != block.era_id() {
                return Err(Stop::Untrusted(format!(
                    "block {} of era {} is an ancestor of the trusted block (era {}) without a switch block between them",
                    parent.hash().to_hex_string(),
                    parent.era_id(),
                    block.era_id()
                )));
            }
            child = parent;
        }
        Err(Stop::Unknown(format!(
            "more than {} blocks lie between the trusted block and the start of its era: give a switch block's hash as the trusted block",
            self.trust.max_ancestors
        )))
    }

    /// The weights of the era after switch block `block`: its header's, or an emergency
    /// upgrade's when one activates at that era.
    fn next_weights(
        &self,
        block: &Block,
        chained: &mut Chained,
    ) -> Result<BTreeMap<PublicKey, U512>, Stop> {
        let next = block.era_id().value() + 1;
        if let Some(upgrade) = self
            .trust
            .upgrades
            .iter()
            .find(|u| u.activation_era == next)
        {
            chained.upgrades.push(next);
            return Ok(upgrade.validators.clone());
        }
        super::next_era_weights(block).ok_or_else(|| {
            Stop::Untrusted(format!(
                "switch block {} carries no validator weights for era {next}",
                block.hash().to_hex_string()
            ))
        })
    }

    /// The switch block that ends `at.era`, below `below`, accepted by `at.weights`.
    fn switch_block(&mut self, at: &Position, below: u64) -> Result<Got, Stop> {
        // An answer already at hand (a bundle's, the era cache's) is tried first; one that does
        // not pass is set aside and the chain is searched.
        let known = self.source.switch_block_of(at.era);
        let cached = self.cache.as_ref().and_then(|c| c.get(at.era));
        for (answer, from_cache) in [(known, false), (cached, true)] {
            let Some(answer) = answer else { continue };
            let Ok((block, proofs)) = parse_block_answer(&answer) else {
                continue;
            };
            let got = Got {
                block,
                proofs,
                answer,
            };
            match self.accept(&got, at, below) {
                Ok(()) => {
                    if from_cache {
                        let params = Id::Hash(*got.block.hash()).params();
                        self.source.note("chain_get_block", &params, &got.answer);
                    }
                    return Ok(got);
                }
                Err(Stop::Untrusted(why) | Stop::Unknown(why)) => tracing::info!(
                    era = at.era,
                    from_cache,
                    "a switch block at hand is set aside ({why}); searching the chain"
                ),
                Err(Stop::Fatal(e)) => return Err(Stop::Fatal(e)),
            }
        }
        let found = self.search(at, below)?;
        self.accept(&found, at, below)?;
        if let Some(cache) = &self.cache {
            cache.put(at.era, &found.answer);
        }
        Ok(found)
    }

    /// `got` is the switch block of `at.era`, between `at.height` and `below`, signed by more than
    /// the quorum of the era's weights.
    fn accept(&self, got: &Got, at: &Position, below: u64) -> Result<(), Stop> {
        let b = &got.block;
        let name = format!(
            "the switch block of era {} ({})",
            at.era,
            b.hash().to_hex_string()
        );
        if b.verify().is_err() {
            return Err(Stop::Untrusted(format!(
                "{name}: its hash is not that of its contents"
            )));
        }
        if b.era_id().value() != at.era || !b.is_switch_block() {
            return Err(Stop::Untrusted(format!(
                "no switch block of era {} was found between heights {} and {below}",
                at.era, at.height
            )));
        }
        if b.height() <= at.height || b.height() >= below {
            return Err(Stop::Untrusted(format!(
                "{name} is at height {}, outside {}..{below}",
                b.height(),
                at.height
            )));
        }
        let found = signers(b, self.chain_name, got.proofs.as_ref());
        if let Some(bad) = found.invalid.first() {
            return Err(Stop::Untrusted(format!("{name}: {bad}")));
        }
        check_quorum(&at.weights, &found.valid, self.ftt)
            .map(|_| ())
            .map_err(|e| {
                Stop::Untrusted(format!(
                    "{name} is not signed by era {}'s validators as chained from the trusted block (a forged or foreign switch block): {e}",
                    at.era
                ))
            })
    }

    /// The last block of `at.era` below height `below`, found by its era number: a gallop from
    /// where the last era's length says it should end, then bisection. The answers are not
    /// trusted; what is found is checked by [`Self::accept`].
    fn search(&mut self, at: &Position, below: u64) -> Result<Got, Stop> {
        let era = at.era;
        // Invariant: the block at `lo` is in `era` or before it, the block at `hi` after it.
        let (mut lo, mut hi) = (at.height, below);
        if let Some(guess) = at.last_era_len.map(|len| at.height + len + 1)
            && lo < guess
            && guess < hi
        {
            let mut step = 1;
            if self.after(guess, era)? {
                hi = guess;
                while hi - lo > 1 {
                    let x = hi.saturating_sub(step).max(lo + 1);
                    if self.after(x, era)? {
                        hi = x;
                        step *= 2;
                    } else {
                        lo = x;
                        break;
                    }
                }
            } else {
                lo = guess;
                while hi - lo > 1 {
                    let x = (lo + step).min(hi - 1);
                    if self.after(x, era)? {
                        hi = x;
                        break;
                    }
                    lo = x;
                    step *= 2;
                }
            }
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.after(mid, era)? {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        self.get(Id::Height(lo))
    }

    /// The block at `height` is in an era after `era`.
    fn after(&mut self, height: u64, era: u64) -> Result<bool, Stop> {
        Ok(self.get(Id::Height(height))?.block.era_id().value() > era)
    }

    /// `chain_get_block` for `id`, checked to be that block and consistent with its hash.
    fn get(&mut self, id: Id) -> Result<Got, Stop> {
        if let Id::Height(h) = id
            && let Some(got) = self.by_height.get(&h)
        {
            return Ok(got.clone());
        }
        let answer = match self.source.call("chain_get_block", &id.params()) {
            Ok(a) => a,
            Err(CallError::NotInBundle { .. }) => {
                return Err(Stop::Unknown(format!(
                    "the bundle holds no answer for {} (it was saved without --trusted-block, with another trusted block, or by an older casper-repro): fetch it again with this --trusted-block",
                    id.describe()
                )));
            }
            Err(e) if e.is_absent() => {
                return Err(Stop::Untrusted(format!(
                    "{} does not serve {}: {e}",
                    self.source.describe(),
                    id.describe()
                )));
            }
            Err(e) => return Err(Stop::Fatal(e.into())),
        };
        let (block, proofs) = parse_block_answer(&answer)?;
        let matches = match id {
            Id::Hash(h) => *block.hash() == h,
            Id::Height(h) => block.height() == h,
        };
        if !matches {
            return Err(Stop::Untrusted(format!(
                "asked for {}, the node answered block {} at height {}",
                id.describe(),
                block.hash().to_hex_string(),
                block.height()
            )));
        }
        if block.verify().is_err() {
            return Err(Stop::Untrusted(format!(
                "{}: the hash is not that of the block's header and body",
                id.describe()
            )));
        }
        let got = Got {
            block,
            proofs,
            answer,
        };
        self.by_height.insert(got.block.height(), got.clone());
        Ok(got)
    }
}
