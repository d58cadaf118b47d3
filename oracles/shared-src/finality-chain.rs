//! The design of the finality-chain fixtures, shared by both engines' generators
//! (`oracles/ee-7.0.3` → `testdata/rpc/node-1.5.8-finality`, `oracles/ee-8.1.1` →
//! `testdata/rpc/sidecar-2.0.3-finality*`), so that the two chains stay one design. Plain numbers
//! only: each generator has its own casper-types (the delegation rate is a `u8` in both).

/// Blocks per era: era 0 is the genesis switch block alone (height 0); eras 1, 2 and 3 have 5, 3
/// and 4 blocks (heights 1..=5, 6..=8, 9..=12), the last of each a switch block.
pub const ERA_LENGTHS: [u64; 4] = [1, 5, 3, 4];
/// The block executing the install (era 3).
pub const EXECUTING_HEIGHT: u64 = 10;
/// The non-switch block `chain.json` offers as a trusted starting point.
pub const TRUSTED_NON_SWITCH_HEIGHT: u64 = 3;

pub const CSPR: u64 = 1_000_000_000;
/// Genesis validators: secret key `[byte; 32]`, bond (motes), delegation rate.
pub const GENESIS_VALIDATORS: [(u8, u64, u8); 4] = [
    (0x40, 900_000 * CSPR, 10),
    (0x41, 700_000 * CSPR, 5),
    (0x42, 500_000 * CSPR, 15),
    (0x43, 300_000 * CSPR, 0),
];
/// `add_bid` calls of the auction contract, each by the bidder's own account, run before the
/// block at `height`: (height, key byte, amount, delegation rate).
pub const BIDS: [(u64, u8, u64, u8); 2] = [
    // A fifth validator joins during era 1: a validator from era 3 on.
    (2, 0x44, 400_000 * CSPR, 20),
    // The fourth raises its bond during era 2: era 4's weights.
    (7, 0x43, 250_000 * CSPR, 0),
];
