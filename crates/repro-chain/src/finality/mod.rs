//! Finality by weight, as the node decides it: a block is final when the validators that signed it
//! hold strictly more than the quorum of its era's total weight, where the quorum is
//! `(finality_threshold_fraction + 1) / 2` (casper-node `utils/block_signatures.rs`; mainnet's
//! fraction 1/3 gives more than 2/3). A signer that is not one of the era's validators is
//! rejected, as the node rejects it. The era's weights are those its previous switch block's
//! header carries (`era_end.next_era_validator_weights`), which the switch block's hash covers.
//!
//! This module only weighs signers; that each signature is valid is checked where the block is
//! read, and chaining the weights from a trusted block is the caller's part.

use std::collections::{BTreeMap, BTreeSet};

use casper_types::{Block, PublicKey, U512};

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
