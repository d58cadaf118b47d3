//! Finality by weight, as the node decides it: a block is final when the validators that signed it
//! hold strictly more than the quorum of its era's total weight, where the quorum is
//! `(finality_threshold_fraction + 1) / 2` (casper-node `utils/block_signatures.rs`; mainnet's
//! fraction 1/3 gives more than 2/3). A signer that is not one of the era's validators is
//! rejected, as the node rejects it. The era's weights are those its previous switch block's
//! header carries (`era_end.next_era_validator_weights`), which the switch block's hash covers.
//!
//! [`check_quorum`] weighs signers; that each signature is valid is checked where the block is
//! read. [`walk::chain`] chains the weights from a trusted block, as the node's sync leap does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use casper_types::{Block, BlockHash, PublicKey, U512};

mod cache;
pub mod walk;
#[cfg(test)]
mod walk_tests;

pub use walk::{Chained, Finality, chain};

/// What the finality walk trusts, and its bounds.
#[derive(Debug, Clone)]
pub struct Trust {
    /// The block every era's weights are chained from (`--trusted-block`). Without one, finality
    /// is not decided.
    pub anchor: Option<BlockHash>,
    /// Emergency upgrades that replaced the validators, from chainspecs the user trusts.
    pub upgrades: Vec<EmergencyUpgrade>,
    /// Where accepted switch blocks are kept between runs (one file per era).
    pub cache: Option<PathBuf>,
    /// The most eras to chain across.
    pub max_eras: u64,
    /// The most ancestors to walk back from a trusted block that is not a switch block.
    pub max_ancestors: u64,
}

impl Default for Trust {
    fn default() -> Self {
        Self {
            anchor: None,
            upgrades: Vec::new(),
            cache: None,
            max_eras: 2_000,
            max_ancestors: 2_000,
        }
    }
}

/// An emergency upgrade whose chainspec replaced the validator set: from its activation era on,
/// the weights are the upgrade's `global_state.toml` validators, not the last switch block's
/// (casper-node `SyncLeap::validate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyUpgrade {
    pub activation_era: u64,
    pub validators: BTreeMap<PublicKey, U512>,
    /// Where it was read from, for reports.
    pub origin: String,
}

/// Why an emergency upgrade's chainspec could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {detail}")]
pub struct UpgradeError {
    pub path: String,
    pub detail: String,
}

impl EmergencyUpgrade {
    /// Reads an upgrade release's chainspec directory: `chainspec.toml` (its
    /// `[protocol] activation_point`, an era) and `global_state.toml` (its `[[validators]]`).
    pub fn from_dir(dir: &Path) -> Result<Self, UpgradeError> {
        let fail = |path: &Path, detail: String| UpgradeError {
            path: path.display().to_string(),
            detail,
        };
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path)
                .map_err(|e| fail(&path, format!("cannot be read: {e}")))
                .and_then(|text| {
                    text.parse::<toml::Table>()
                        .map(|t| (path.clone(), t))
                        .map_err(|e| fail(&path, format!("is not TOML: {}", e.message())))
                })
        };
        let (spec_path, spec) = read("chainspec.toml")?;
        let activation_era = spec
            .get("protocol")
            .and_then(|p| p.get("activation_point"))
            .and_then(toml::Value::as_integer)
            .and_then(|e| u64::try_from(e).ok())
            .ok_or_else(|| {
                fail(
                    &spec_path,
                    "has no `[protocol] activation_point` era (an emergency upgrade activates at an era)"
                        .into(),
                )
            })?;
        let (state_path, state) = read("global_state.toml")?;
        let list = state
            .get("validators")
            .and_then(toml::Value::as_array)
            .ok_or_else(|| {
                fail(
                    &state_path,
                    "has no `[[validators]]`: this upgrade does not replace the validators".into(),
                )
            })?;
        let mut validators = BTreeMap::new();
        for (i, v) in list.iter().enumerate() {
            let field = |name: &str| v.get(name).and_then(toml::Value::as_str);
            let (Some(key), Some(weight)) = (field("public_key"), field("weight")) else {
                return Err(fail(
                    &state_path,
                    format!(
                        "validator {} needs `public_key` and `weight` strings",
                        i + 1
                    ),
                ));
            };
            let key = <PublicKey as casper_types::AsymmetricType>::from_hex(key).map_err(|_| {
                fail(
                    &state_path,
                    format!("validator {}: `{key}` is not a public key", i + 1),
                )
            })?;
            let weight = U512::from_dec_str(weight).map_err(|_| {
                fail(
                    &state_path,
                    format!("validator {}: `{weight}` is not a weight", i + 1),
                )
            })?;
            validators.insert(key, weight);
        }
        Ok(Self {
            activation_era,
            validators,
            origin: dir.display().to_string(),
        })
    }
}

/// Networks whose finality threshold fraction is built in: every published chainspec of them has
/// `finality_threshold_fraction = [1, 3]` (checked against the real files by the `mainnet_table`
/// test).
const KNOWN_THRESHOLDS: &[(&str, (u64, u64))] = &[("casper", (1, 3)), ("casper-test", (1, 3))];

/// The finality threshold fraction for `chain_name`, and where it came from: built in for a known
/// network; else the node's chainspec, but never below 1/3 (a node that lies about its chainspec
/// must not lower the bar).
pub fn threshold(chain_name: &str, node_chainspec: Option<&str>) -> ((u64, u64), String) {
    if let Some((_, ftt)) = KNOWN_THRESHOLDS.iter().find(|(n, _)| *n == chain_name) {
        return (*ftt, format!("built in for network `{chain_name}`"));
    }
    let from_node = node_chainspec
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| {
            // `[core]` since 1.5, `[highway]` in 1.4.
            let pair = ["core", "highway"]
                .iter()
                .find_map(|s| t.get(*s)?.get("finality_threshold_fraction"))?
                .as_array()?;
            let n = u64::try_from(pair.first()?.as_integer()?).ok()?;
            let d = u64::try_from(pair.get(1)?.as_integer()?).ok()?;
            (d > 0 && n < d).then_some((n, d))
        });
    match from_node {
        Some((n, d)) if n * 3 >= d => ((n, d), "from the node's chainspec".into()),
        Some((n, d)) => (
            (1, 3),
            format!("the node's chainspec says {n}/{d}, below 1/3; 1/3 is used"),
        ),
        None => (
            (1, 3),
            "the node's chainspec does not give it; 1/3 (mainnet's) is used".into(),
        ),
    }
}

/// Why a block is not final by the given weights.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FinalityError {
    #[error("{0} signed the block but is not one of the era's validators")]
    UnknownSigner(String),
    /// How the signers weighed: less than the quorum.
    #[error(
        "the signers hold {} of the era's weight; more than {} is needed",
        percent(.0.signed, .0.total),
        fraction(.0.quorum.0, .0.quorum.1)
    )]
    TooLittleWeight(Box<Quorum>),
    #[error("the era's validator weights are empty or add up to zero")]
    NoWeight,
    #[error("the finality threshold fraction {0}/{1} is not between 0 and 1")]
    BadFraction(u64, u64),
}

/// A block's signers weighed against its era.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    /// Weight of the distinct signers.
    pub signed: U512,
    /// The era's total weight.
    pub total: U512,
    /// The quorum fraction, `(ftt + 1) / 2`, as (numerator, denominator).
    pub quorum: (u64, u64),
    /// Distinct signers.
    pub signers: usize,
}

impl Quorum {
    /// `signed by 83.3 % of the era's weight (3 signer(s); more than 2/3 needed)`.
    pub fn describe(&self) -> String {
        format!(
            "signed by {} of the era's weight ({} signer(s); more than {} needed)",
            percent(self.signed, self.total),
            self.signers,
            fraction(self.quorum.0, self.quorum.1)
        )
    }
}

/// The weights of the era after `block`, when it is a switch block.
pub fn next_era_weights(block: &Block) -> Option<BTreeMap<PublicKey, U512>> {
    block.clone_header().next_era_validator_weights().cloned()
}

/// Weighs `signers` (each counted once) against the era's `weights` with the chainspec's
/// `finality_threshold_fraction` `ftt` = (numerator, denominator).
pub fn check_quorum<'a>(
    weights: &BTreeMap<PublicKey, U512>,
    signers: impl IntoIterator<Item = &'a PublicKey>,
    ftt: (u64, u64),
) -> Result<Quorum, FinalityError> {
    let (n, d) = ftt;
    if d == 0 || n >= d {
        return Err(FinalityError::BadFraction(n, d));
    }
    let total = weights.values().fold(U512::zero(), |a, w| a + *w);
    if total.is_zero() {
        return Err(FinalityError::NoWeight);
    }
    let distinct: BTreeSet<&PublicKey> = signers.into_iter().collect();
    let mut signed = U512::zero();
    for key in &distinct {
        match weights.get(key) {
            Some(w) => signed += *w,
            None => return Err(FinalityError::UnknownSigner(key.to_hex_string())),
        }
    }
    // quorum = (n/d + 1) / 2 = (n + d) / 2d; final when signed > total * quorum, in integers.
    let (qn, qd) = (n + d, 2 * d);
    let weighed = Quorum {
        signed,
        total,
        quorum: (qn, qd),
        signers: distinct.len(),
    };
    if signed * U512::from(qd) > total * U512::from(qn) {
        Ok(weighed)
    } else {
        Err(FinalityError::TooLittleWeight(Box::new(weighed)))
    }
}

/// `a / b` as a percentage with one decimal, rounded down.
fn percent(a: U512, b: U512) -> String {
    if b.is_zero() {
        return "0 %".into();
    }
    let permille = (a * U512::from(1000u32) / b).as_u64();
    format!("{}.{} %", permille / 10, permille % 10)
}

/// `n/d` in lowest terms (`2/3`).
fn fraction(n: u64, d: u64) -> String {
    let (mut a, mut b) = (n, d);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    let g = a.max(1);
    format!("{}/{}", n / g, d / g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use casper_types::SecretKey;

    fn key(i: u8) -> PublicKey {
        PublicKey::from(&SecretKey::ed25519_from_bytes([i; 32]).unwrap())
    }

    fn weights(ws: &[u64]) -> BTreeMap<PublicKey, U512> {
        ws.iter()
            .enumerate()
            .map(|(i, w)| (key(i as u8 + 1), U512::from(*w)))
            .collect()
    }

    const MAINNET_FTT: (u64, u64) = (1, 3);

    #[test]
    fn more_than_two_thirds_is_needed_on_mainnet() {
        // Three equal validators: two of them hold exactly 2/3, which is not more than 2/3.
        let w = weights(&[10, 10, 10]);
        let two = [key(1), key(2)];
        assert!(matches!(
            check_quorum(&w, &two, MAINNET_FTT),
            Err(FinalityError::TooLittleWeight(_))
        ));
        let q = check_quorum(&w, &[key(1), key(2), key(3)], MAINNET_FTT).unwrap();
        assert_eq!(
            (q.signed, q.total, q.quorum),
            (30.into(), 30.into(), (4, 6))
        );
        // Unequal weights: 67 of 100 is more than 2/3 (66.67), 66 is not.
        let w = weights(&[67, 33]);
        assert!(check_quorum(&w, &[key(1)], MAINNET_FTT).is_ok());
        let w = weights(&[66, 34]);
        assert!(check_quorum(&w, &[key(1)], MAINNET_FTT).is_err());
    }

    #[test]
    fn a_signer_counts_once_and_a_stranger_is_rejected() {
        let w = weights(&[10, 10, 10]);
        assert!(matches!(
            check_quorum(&w, &[key(1), key(1), key(2), key(2)], MAINNET_FTT),
            Err(FinalityError::TooLittleWeight(_))
        ));
        let e = check_quorum(&w, &[key(1), key(2), key(3), key(9)], MAINNET_FTT).unwrap_err();
        assert_eq!(e, FinalityError::UnknownSigner(key(9).to_hex_string()));
        assert!(
            e.to_string()
                .ends_with("is not one of the era's validators")
        );
    }

    #[test]
    fn other_fractions_follow_the_node_s_formula() {
        // ftt 1/5: quorum (1/5 + 1) / 2 = 3/5; 60 of 100 is not enough, 61 is.
        let w = weights(&[60, 40]);
        assert!(check_quorum(&w, &[key(1)], (1, 5)).is_err());
        let w = weights(&[61, 39]);
        assert!(check_quorum(&w, &[key(1)], (1, 5)).is_ok());
        assert_eq!(
            check_quorum(&w, &[key(1)], (3, 3)),
            Err(FinalityError::BadFraction(3, 3))
        );
        assert_eq!(
            check_quorum(&BTreeMap::new(), &[key(1)], MAINNET_FTT),
            Err(FinalityError::NoWeight)
        );
    }

    #[test]
    fn the_threshold_is_built_in_or_the_node_s_but_never_below_a_third() {
        assert_eq!(
            threshold(
                "casper",
                Some("[core]\nfinality_threshold_fraction = [1, 5]\n")
            )
            .0,
            (1, 3)
        );
        let (ftt, origin) = threshold(
            "private",
            Some("[core]\nfinality_threshold_fraction = [2, 5]\n"),
        );
        assert_eq!(
            (ftt, origin.as_str()),
            ((2, 5), "from the node's chainspec")
        );
        // 1.4 chainspecs have it under [highway].
        assert_eq!(
            threshold(
                "private",
                Some("[highway]\nfinality_threshold_fraction = [1, 2]\n")
            )
            .0,
            (1, 2)
        );
        let (ftt, origin) = threshold(
            "private",
            Some("[core]\nfinality_threshold_fraction = [1, 10]\n"),
        );
        assert_eq!(ftt, (1, 3));
        assert!(origin.contains("below 1/3"), "{origin}");
        assert_eq!(threshold("private", Some("not toml [")).0, (1, 3));
        assert_eq!(threshold("private", None).0, (1, 3));
    }

    #[test]
    fn reports_read_as_percentages() {
        let w = weights(&[50, 30, 20]);
        let q = check_quorum(&w, &[key(1), key(2)], MAINNET_FTT).unwrap();
        assert_eq!(
            q.describe(),
            "signed by 80.0 % of the era's weight (2 signer(s); more than 2/3 needed)"
        );
        let e = check_quorum(&w, &[key(2), key(3)], MAINNET_FTT).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the signers hold 50.0 % of the era's weight; more than 2/3 is needed"
        );
    }
}
