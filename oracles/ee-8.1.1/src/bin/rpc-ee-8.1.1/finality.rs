//! Finality-chain bundles (`sidecar-2.0.3-finality*`): a chain of `BlockV2` blocks over several
//! eras whose validators and weights come from the real engine's auction, every block signed by
//! its era's validators, the `multi_ep` install executed in one of them; and four variants of it
//! that a finality check must reject.
//!
//! One engine history (one builder, one LMDB global state):
//! - genesis with the deployer account and four validators of unequal bonds (keys
//!   `[0x40 + i; 32]`), and the account of a fifth (key `[0x44; 32]`);
//! - height 0: the genesis switch block of era 0 (as a node's immediate switch block, its
//!   execution runs the auction);
//! - era 1 (heights 1..=5), era 2 (6..=8), era 3 (9..=12), each ending in a switch block whose
//!   execution runs the auction contract's `run_auction` and whose `era_end` carries the next
//!   era's weights as the engine's `era_validators` reports them after it (what a 2.0 node puts
//!   there: `upcoming_era_validators[era + 1]`);
//! - the auction contract's `add_bid`: the fifth validator joins in era 1 (before height 2), the
//!   fourth raises its bond in era 2 (before height 7); with `auction_delay = 1` a bid placed in
//!   era N counts from era N + 2 (the auction at the end of era N computes era N + 2's
//!   validators), so era 3 has five validators and era 4 the raised bond. These calls are engine
//!   steps, not transactions of the blocks (non-executing blocks carry no transactions);
//! - the `sidecar-2.0.3-deploy-multi_ep` case's Deploy (same session, args, payment, timestamp,
//!   so the same deploy hash) executed as the one transaction of the height-10 block (era 3).
//!
//! Every block's state root is the engine's post-state after that block (an empty block
//! carries the current one). Bundles (`responses.json`: the install's answers as the other cases
//! write them, at the executing block, then `chain_get_block` of every block by height and by
//! hash; `engine.json`; `chain.json` describing the chain for tests):
//! - `sidecar-2.0.3-finality`: the good chain;
//! - `…-too-little-weight`: the executing block signed only by the heaviest set of era 3's
//!   validators that is not final (≤ 2/3 of the weight);
//! - `…-unknown-signer`: the executing block also signed by a key outside era 3 (`[0x66; 32]`);
//! - `…-forged-switch-block`: a hostile node's chain: heights 0..=4 real, the switch block at 5
//!   forged (its `era_end` gives all of era 2 to an attacker key `[0x77; 32]`, signed by the
//!   attacker only), 6..=12 rebuilt on it (eras 2 and 3 signed by the attacker, whose weights the
//!   forged switch blocks carry), the executing block with the same transaction and state root
//!   under a new hash, which this bundle's `info_get_transaction` names;
//! - `…-foreign-trusted`: the good chain plus (by hash only) the genesis switch block of another
//!   chain (own engine genesis, validators `[0x50 + i; 32]`, other parent and seed, same chain
//!   name), which `chain.json` names as `trusted.foreign`.

use super::*;
use casper_engine_test_support::DeployItemBuilder;
use casper_types::{
    system::auction::{self, DelegationRate, ValidatorWeights},
    EraEndV2, GenesisValidator, TransactionHash,
};

const GOOD: &str = "sidecar-2.0.3-finality";
const TOO_LITTLE_WEIGHT: &str = "sidecar-2.0.3-finality-too-little-weight";
const UNKNOWN_SIGNER: &str = "sidecar-2.0.3-finality-unknown-signer";
const FORGED_SWITCH_BLOCK: &str = "sidecar-2.0.3-finality-forged-switch-block";
const FOREIGN_TRUSTED: &str = "sidecar-2.0.3-finality-foreign-trusted";

/// The case whose install (session, args, payment, timestamp, oracle check) the chain executes.
const INSTALL_CASE: &str = "sidecar-2.0.3-deploy-multi_ep";

// The chain's design (eras, validators, bids), the same for both engines.
#[path = "../../../../shared-src/finality-chain.rs"]
mod design;
use design::{
    BIDS, CSPR, ERA_LENGTHS, EXECUTING_HEIGHT, GENESIS_VALIDATORS, TRUSTED_NON_SWITCH_HEIGHT,
};
/// The switch block (era 1's) that the forged bundle replaces.
const FORGED_HEIGHT: u64 = 5;
/// Blocks of the chain are this far apart; the executing block is at the instant of the
/// single-block cases' (`BASE_TIMESTAMP_MILLIS + BLOCK_DELAY_MILLIS`).
const BLOCK_INTERVAL_MILLIS: u64 = BLOCK_DELAY_MILLIS;

/// The forged bundle's attacker and the weight its forged switch blocks give it.
const ATTACKER: u8 = 0x77;
const ATTACKER_WEIGHT: u64 = 1_000_000;
/// A key of no era's validator set.
const UNKNOWN: u8 = 0x66;
/// The other chain's genesis validators.
const FOREIGN_VALIDATORS: [(u8, u64, DelegationRate); 4] = [
    (0x50, 600_000 * CSPR, 10),
    (0x51, 450_000 * CSPR, 10),
    (0x52, 350_000 * CSPR, 10),
    (0x53, 200_000 * CSPR, 10),
];

/// What the generator's `run` hands every case.
pub(super) struct Inputs<'a> {
    pub chainspec: &'a ChainspecConfig,
    pub chainspec_bytes: &'a [u8],
    pub lanes: &'a TransactionV1Config,
    pub wasm_dir: &'a Path,
    pub out: &'a Path,
}

/// Writes the five finality bundles.
pub(super) fn run(inputs: &Inputs) -> Result<()> {
    let core = &inputs.chainspec.core_config;
    ensure!(
        core.auction_delay == 1,
        "bundled chainspec: auction_delay {} (1 expected)",
        core.auction_delay
    );
    ensure!(
        core.validator_slots == 7,
        "bundled chainspec: validator_slots {} (7 expected)",
        core.validator_slots
    );
    let ftt = Ftt {
        numer: *core.finality_threshold_fraction.numer(),
        denom: *core.finality_threshold_fraction.denom(),
    };
    ensure!(
        (ftt.numer, ftt.denom) == (1, 3),
        "bundled chainspec: finality_threshold_fraction {}/{} (1/3 expected)",
        ftt.numer,
        ftt.denom
    );
    let case = CASES
        .iter()
        .find(|c| c.name == INSTALL_CASE)
        .ok_or_else(|| anyhow!("no case {INSTALL_CASE}"))?;
    ensure!(case.steps.len() == 1, "{INSTALL_CASE}: one step expected");

    let mut keys = KeyRing::default();
    let history = real_history(inputs, case, &mut keys)?;
    let real = &history.blocks;
    let era0 = history.engine_weights[&EraId::new(0)].clone();
    let served = served_era_weights(real, &era0)?;
    for (era, weights) in &served {
        ensure!(
            history.engine_weights.get(era) == Some(weights),
            "era {era}: the switch blocks' weights are not the engine's"
        );
    }
    let good_signers = era_signers(real, &served)?;
    for (block, signers) in real.iter().zip(&good_signers) {
        ensure!(
            is_final(&served[&block.era_id()], signers, ftt),
            "good chain: block {} is not final",
            block.height()
        );
    }
    let trusted = json!({
        "switch": hash_hex(real[0].hash()),
        "non_switch": hash_hex(real[TRUSTED_NON_SWITCH_HEIGHT as usize].hash()),
    });
    ensure!(
        real[0].is_switch_block() && !real[TRUSTED_NON_SWITCH_HEIGHT as usize].is_switch_block()
    );
    let unknown = keys.add(UNKNOWN)?;
    ensure!(
        served.values().all(|w| !w.contains_key(&unknown)),
        "the unknown signer is a validator"
    );
    let attacker = keys.add(ATTACKER)?;
    let (foreign, foreign_signers) = foreign_genesis(inputs, &mut keys)?;
    let writer = Writer {
        inputs,
        case,
        fixture: &history.fixture,
        keys: &keys,
        ftt,
    };
    let executing = EXECUTING_HEIGHT as usize;

    writer.write(&Bundle::new(
        GOOD,
        real,
        good_signers.clone(),
        served.clone(),
        trusted.clone(),
    ))?;

    let era3 = &served[&real[executing].era_id()];
    let mut signers = good_signers.clone();
    signers[executing] = heaviest_non_final(era3, ftt)?;
    writer.write(&Bundle::new(
        TOO_LITTLE_WEIGHT,
        real,
        signers,
        served.clone(),
        trusted.clone(),
    ))?;

    let mut signers = good_signers.clone();
    signers[executing].insert(unknown);
    writer.write(&Bundle::new(
        UNKNOWN_SIGNER,
        real,
        signers,
        served.clone(),
        trusted.clone(),
    ))?;

    let forged = forged_chain(&history, &attacker)?;
    let forged_served = served_era_weights(&forged, &era0)?;
    let mut signers = era_signers(&forged, &forged_served)?;
    signers[FORGED_HEIGHT as usize] = BTreeSet::from([attacker.clone()]);
    ensure!(
        !is_final(
            &served[&EraId::new(1)],
            &signers[FORGED_HEIGHT as usize],
            ftt
        ),
        "the forged switch block's signers hold weight in era 1"
    );
    writer.write(&Bundle::new(
        FORGED_SWITCH_BLOCK,
        &forged,
        signers,
        forged_served,
        trusted.clone(),
    ))?;

    ensure!(
        foreign.hash() != real[0].hash(),
        "the foreign genesis is ours"
    );
    ensure!(
        foreign_signers.iter().all(|pk| !era0.contains_key(pk)),
        "the foreign chain shares a validator"
    );
    let mut trusted = trusted;
    trusted["foreign"] = json!(hash_hex(foreign.hash()));
    let mut bundle = Bundle::new(FOREIGN_TRUSTED, real, good_signers, served, trusted);
    bundle.extra.push((&foreign, foreign_signers));
    writer.write(&bundle)?;
    Ok(())
}

/// The chainspec's finality threshold fraction.
#[derive(Clone, Copy)]
struct Ftt {
    numer: u64,
    denom: u64,
}

/// (era, switch block?) of the block at `height`.
fn era_of(height: u64) -> Result<(EraId, bool)> {
    let mut first = 0;
    for (era, length) in ERA_LENGTHS.iter().enumerate() {
        if height < first + length {
            return Ok((EraId::new(era as u64), height == first + length - 1));
        }
        first += length;
    }
    bail!("height {height} is past the chain")
}

fn block_timestamp(height: u64) -> Timestamp {
    let executing = BASE_TIMESTAMP_MILLIS + BLOCK_DELAY_MILLIS;
    Timestamp::from(
        executing + height * BLOCK_INTERVAL_MILLIS - EXECUTING_HEIGHT * BLOCK_INTERVAL_MILLIS,
    )
}

fn hash_hex(hash: &BlockHash) -> String {
    hex::encode(hash.inner().value())
}

/// A public key as the sidecar's JSON spells it.
fn key_hex(key: &PublicKey) -> Result<String> {
    match to_json(key)? {
        Value::String(hex) => Ok(hex),
        other => bail!("public key serialised as {other}"),
    }
}

/// The fixed secret keys of the chains, by public key.
#[derive(Default)]
struct KeyRing(BTreeMap<PublicKey, SecretKey>);

impl KeyRing {
    /// Adds the ed25519 key `[byte; 32]`; its public key.
    fn add(&mut self, byte: u8) -> Result<PublicKey> {
        let secret = SecretKey::ed25519_from_bytes([byte; SecretKey::ED25519_LENGTH])
            .map_err(|e| anyhow!("key [{byte:#x}; 32]: {e}"))?;
        let public = PublicKey::from(&secret);
        self.0.insert(public.clone(), secret);
        Ok(public)
    }

    /// `block` signed by each of `signers`.
    fn sign(&self, block: &BlockV2, signers: &BTreeSet<PublicKey>) -> Result<BlockSignatures> {
        let keys = signers
            .iter()
            .map(|pk| {
                self.0
                    .get(pk)
                    .ok_or_else(|| anyhow!("no secret key for {pk}"))
            })
            .collect::<Result<Vec<_>>>()?;
        let signatures = sign_block(block, keys)?;
        ensure!(
            signatures.signers().eq(signers.iter()),
            "block {} signed by other keys",
            block.height()
        );
        Ok(signatures)
    }
}

/// A genesis account of `byte`'s key with the test-support default balance, a validator with
/// `bond` if given.
fn genesis_account(
    keys: &mut KeyRing,
    byte: u8,
    bond: Option<(u64, DelegationRate)>,
) -> Result<GenesisAccount> {
    Ok(GenesisAccount::account(
        keys.add(byte)?,
        Motes::new(DEFAULT_ACCOUNT_INITIAL_BALANCE),
        bond.map(|(bond, rate)| GenesisValidator::new(Motes::new(bond), rate)),
    ))
}

/// One block as the engine's history fixes it: everything but its links to the chain.
#[derive(Clone)]
struct BlockPlan {
    height: u64,
    era: EraId,
    timestamp: Timestamp,
    state_root: Digest,
    proposer: PublicKey,
    transactions: BTreeMap<u8, Vec<TransactionHash>>,
    /// A switch block's `era_end.next_era_validator_weights`.
    next_era_weights: Option<ValidatorWeights>,
}

/// Blocks linked into a chain: parent hash and accumulated seed of the previous block (of the
/// chain's fixed genesis parent for height 0), the last switch block's hash.
struct Chain {
    genesis_parent: BlockHash,
    genesis_seed: Digest,
    blocks: Vec<BlockV2>,
}

impl Chain {
    fn new(genesis_parent: BlockHash, genesis_seed: Digest) -> Self {
        Chain {
            genesis_parent,
            genesis_seed,
            blocks: Vec::new(),
        }
    }

    /// The parent hash of the next block.
    fn next_parent(&self) -> BlockHash {
        self.blocks
            .last()
            .map_or(self.genesis_parent, |b| *b.hash())
    }

    fn push(&mut self, plan: &BlockPlan) -> Result<()> {
        ensure!(
            plan.height == self.blocks.len() as u64,
            "block {} pushed at height {}",
            plan.height,
            self.blocks.len()
        );
        let (parent_hash, parent_seed) = match self.blocks.last() {
            Some(parent) => {
                ensure!(
                    plan.timestamp > parent.timestamp(),
                    "block {} not after its parent",
                    plan.height
                );
                (*parent.hash(), *parent.accumulated_seed())
            }
            None => (self.genesis_parent, self.genesis_seed),
        };
        let last_switch_block_hash = self
            .blocks
            .iter()
            .rev()
            .find(|b| b.is_switch_block())
            .map(|b| *b.hash());
        let era_end = plan.next_era_weights.clone().map(|weights| {
            EraEndV2::new(Vec::new(), Vec::new(), weights, BTreeMap::new(), GAS_PRICE)
        });
        let block = BlockV2::new(
            parent_hash,
            parent_seed,
            plan.state_root,
            false,
            era_end,
            plan.timestamp,
            plan.era,
            plan.height,
            protocol_version(),
            plan.proposer.clone(),
            plan.transactions.clone(),
            RewardedSignatures::default(),
            GAS_PRICE,
            last_switch_block_hash,
        );
        block
            .verify()
            .map_err(|e| anyhow!("block {} does not verify: {e:?}", plan.height))?;
        ensure!(block.is_switch_block() == plan.next_era_weights.is_some());
        self.blocks.push(block);
        Ok(())
    }
}

/// The real chain: its plans and blocks, every era's weights as the engine's auction reported
/// them, and the install.
struct History {
    plans: Vec<BlockPlan>,
    blocks: Vec<BlockV2>,
    engine_weights: BTreeMap<EraId, ValidatorWeights>,
    fixture: Fixture,
}

fn real_history(inputs: &Inputs, case: &Case, keys: &mut KeyRing) -> Result<History> {
    let mut accounts = vec![GenesisAccount::account(
        DEFAULT_ACCOUNT_PUBLIC_KEY.clone(),
        Motes::new(DEFAULT_ACCOUNT_INITIAL_BALANCE),
        None,
    )];
    for (byte, bond, rate) in GENESIS_VALIDATORS {
        accounts.push(genesis_account(keys, byte, Some((bond, rate)))?);
    }
    let mut bidders = BTreeMap::new();
    for (_, byte, _, _) in BIDS {
        if !GENESIS_VALIDATORS.iter().any(|v| v.0 == byte) && !bidders.contains_key(&byte) {
            accounts.push(genesis_account(keys, byte, None)?);
        }
        bidders.insert(byte, keys.add(byte)?);
    }
    let mut builder = new_builder_with(inputs.chainspec, accounts)?;
    let mut engine_weights = BTreeMap::new();
    record_era_validators(&mut builder, &mut engine_weights)?;
    let genesis_weights: ValidatorWeights = GENESIS_VALIDATORS
        .iter()
        .map(|&(byte, bond, _)| Ok((keys.add(byte)?, U512::from(bond))))
        .collect::<Result<_>>()?;
    ensure!(
        engine_weights.keys().copied().collect::<Vec<_>>() == [EraId::new(0), EraId::new(1)]
            && engine_weights.values().all(|w| *w == genesis_weights),
        "after genesis the engine should know eras 0 and 1, both with the genesis bonds"
    );

    let mut chain = Chain::new(BlockHash::default(), Digest::default());
    let mut plans = Vec::new();
    let mut fixture = None;
    let last_height = ERA_LENGTHS.iter().sum::<u64>() - 1;
    for height in 0..=last_height {
        let (era, switch) = era_of(height)?;
        let timestamp = block_timestamp(height);
        let parent = chain.next_parent();
        for (bid_height, byte, amount, rate) in BIDS {
            if bid_height == height {
                let key = &bidders[&byte];
                let args = runtime_args! {
                    auction::ARG_PUBLIC_KEY => key.clone(),
                    auction::ARG_DELEGATION_RATE => rate,
                    auction::ARG_AMOUNT => U512::from(amount),
                };
                call_auction(
                    &mut builder,
                    key.to_account_hash(),
                    auction::METHOD_ADD_BID,
                    args,
                    (height, timestamp, parent),
                )?;
            }
        }
        let mut transactions = BTreeMap::new();
        if height == EXECUTING_HEIGHT {
            let step = step_transaction(case, 0, inputs.wasm_dir)?;
            let hash = step.transaction.hash();
            let run = execute_in_engine(
                &mut builder,
                inputs.chainspec,
                inputs.lanes,
                &step.transaction,
                parent,
                height,
                timestamp,
                case.payment,
            )
            .with_context(|| format!("install at height {height}"))?;
            eprintln!(
                "  height {height} {}: {hash} consumed {} gas, post-state {}",
                step.label, run.result.consumed, run.post_state
            );
            transactions.insert(run.lane, vec![hash]);
            fixture = Some(super::fixture(
                case,
                &builder,
                step.transaction,
                run.result,
                run.post_state,
                step.session_bytes,
                inputs.wasm_dir,
            )?);
        }
        let next_era_weights = if switch {
            let args = runtime_args! {
                auction::ARG_ERA_END_TIMESTAMP_MILLIS => timestamp.millis(),
                auction::ARG_EVICTED_VALIDATORS => Vec::<PublicKey>::new(),
            };
            call_auction(
                &mut builder,
                PublicKey::System.to_account_hash(),
                auction::METHOD_RUN_AUCTION,
                args,
                (height, timestamp, parent),
            )?;
            let engine_era = builder.get_era();
            ensure!(
                engine_era == era.successor(),
                "after the auction at height {height} the engine is in era {engine_era}"
            );
            record_era_validators(&mut builder, &mut engine_weights)?;
            let next = engine_weights
                .get(&era.successor())
                .cloned()
                .ok_or_else(|| anyhow!("the engine has no weights for era {}", era.successor()))?;
            Some(next)
        } else {
            None
        };
        let validators = engine_weights
            .get(&era)
            .ok_or_else(|| anyhow!("no weights for era {era}"))?;
        let proposer = validators
            .keys()
            .nth(height as usize % validators.len())
            .cloned()
            .ok_or_else(|| anyhow!("era {era} has no validators"))?;
        let plan = BlockPlan {
            height,
            era,
            timestamp,
            state_root: builder.get_post_state_hash(),
            proposer,
            transactions,
            next_era_weights,
        };
        chain.push(&plan)?;
        plans.push(plan);
    }
    let fixture = fixture.ok_or_else(|| anyhow!("no executing block"))?;
    ensure!(
        *chain.blocks[EXECUTING_HEIGHT as usize].state_root_hash() == fixture.post_state,
        "the executing block's state root is not the install's post-state"
    );
    for (era, weights) in &engine_weights {
        let weights = weights
            .iter()
            .map(|(pk, w)| Ok(format!("{}…={w}", &key_hex(pk)?[..8])))
            .collect::<Result<Vec<_>>>()?;
        eprintln!("  {era}: {}", weights.join(" "));
    }
    Ok(History {
        plans,
        blocks: chain.blocks,
        engine_weights,
        fixture,
    })
}

/// Calls `entry_point` of the auction contract with `args` as the session of `account`
/// (`StoredContractByHash`, as test-support's `run_auction` does, at protocol 2.0.3) in the block
/// (height, timestamp, parent), and commits. Test-support's `DeployItemBuilder` draws a random
/// deploy hash unless given one (and the engine derives new URefs, a bid's bonding purse, from
/// it): a fixed one keeps the state roots reproducible.
fn call_auction(
    builder: &mut LmdbWasmTestBuilder,
    account: AccountHash,
    entry_point: &str,
    args: RuntimeArgs,
    (height, timestamp, parent): (u64, Timestamp, BlockHash),
) -> Result<()> {
    let auction = builder.get_auction_contract_hash();
    let deploy_hash = Digest::hash(format!(
        "casper-repro-test {entry_point} by {} at height {height}",
        account.to_formatted_string()
    ));
    let item = DeployItemBuilder::new()
        .with_address(account)
        .with_stored_session_hash(auction, entry_point, args)
        .with_standard_payment(runtime_args! { ARG_AMOUNT => U512::from(PAYMENT_AMOUNT) })
        .with_authorization_keys(&[account])
        .with_deploy_hash(deploy_hash.value())
        .build();
    let request =
        ExecuteRequestBuilder::from_deploy_item_for_protocol_version(&item, protocol_version())
            .with_block_time(BlockTime::new(timestamp.millis()))
            .with_block_height(height)
            .with_parent_block_hash(parent)
            .build();
    builder.exec(request);
    let exec = builder
        .get_last_exec_result()
        .ok_or_else(|| anyhow!("no result of {entry_point}"))?;
    if let Some(error) = exec.error() {
        bail!("auction {entry_point} at height {height} failed: {error}");
    }
    builder.commit();
    Ok(())
}

/// Adds the engine's current `era_validators` (the auction's snapshot: past, current and
/// upcoming eras) to `known`, failing if an era's weights changed since last seen.
fn record_era_validators(
    builder: &mut LmdbWasmTestBuilder,
    known: &mut BTreeMap<EraId, ValidatorWeights>,
) -> Result<()> {
    for (era, weights) in builder.get_era_validators() {
        ensure!(!weights.is_empty(), "era {era} has no validators");
        match known.get(&era) {
            Some(seen) => ensure!(*seen == weights, "the engine changed era {era}'s weights"),
            None => {
                known.insert(era, weights);
            }
        }
    }
    Ok(())
}

/// Every era's weights as `blocks` serve them: era 0's given (no block carries them), era N + 1's
/// from era N's switch block.
fn served_era_weights(
    blocks: &[BlockV2],
    era0: &ValidatorWeights,
) -> Result<BTreeMap<EraId, ValidatorWeights>> {
    let mut eras = BTreeMap::from([(EraId::new(0), era0.clone())]);
    for block in blocks {
        if let Some(era_end) = block.era_end() {
            let previous = eras.insert(
                block.era_id().successor(),
                era_end.next_era_validator_weights().clone(),
            );
            ensure!(
                previous.is_none(),
                "two switch blocks in era {}",
                block.era_id()
            );
        }
    }
    Ok(eras)
}

/// Each block's signers: the validators of its era.
fn era_signers(
    blocks: &[BlockV2],
    eras: &BTreeMap<EraId, ValidatorWeights>,
) -> Result<Vec<BTreeSet<PublicKey>>> {
    blocks
        .iter()
        .map(|b| {
            eras.get(&b.era_id())
                .map(|w| w.keys().cloned().collect())
                .ok_or_else(|| anyhow!("no weights for era {}", b.era_id()))
        })
        .collect()
}

/// Whether `signers` hold strictly more than (1 + ftt) / 2 of `weights`' total (signers outside
/// `weights` count nothing).
fn is_final(weights: &ValidatorWeights, signers: &BTreeSet<PublicKey>, ftt: Ftt) -> bool {
    let total: U512 = weights.values().copied().fold(U512::zero(), |a, b| a + b);
    let signed: U512 = signers
        .iter()
        .filter_map(|pk| weights.get(pk))
        .copied()
        .fold(U512::zero(), |a, b| a + b);
    // signed / total > (1 + n/d) / 2  ⇔  2·d·signed > (d + n)·total
    U512::from(2 * ftt.denom) * signed > U512::from(ftt.denom + ftt.numer) * total
}

/// The heaviest set of `weights`' validators that is not final (the first such in subset order
/// on ties), checked to hold some weight, at most 2/3, and to become final with any other
/// validator.
fn heaviest_non_final(weights: &ValidatorWeights, ftt: Ftt) -> Result<BTreeSet<PublicKey>> {
    let validators: Vec<(&PublicKey, &U512)> = weights.iter().collect();
    ensure!(
        validators.len() < 16,
        "too many validators to try every set"
    );
    let weight_of = |set: &BTreeSet<PublicKey>| -> U512 {
        set.iter()
            .map(|pk| weights[pk])
            .fold(U512::zero(), |a, b| a + b)
    };
    let mut best: Option<(U512, BTreeSet<PublicKey>)> = None;
    for mask in 1u32..(1 << validators.len()) {
        let set: BTreeSet<PublicKey> = validators
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, (pk, _))| (*pk).clone())
            .collect();
        if is_final(weights, &set, ftt) {
            continue;
        }
        let weight = weight_of(&set);
        if best.as_ref().is_none_or(|(b, _)| weight > *b) {
            best = Some((weight, set));
        }
    }
    let (weight, set) = best.ok_or_else(|| anyhow!("every set of validators is final"))?;
    let total = weight_of(&weights.keys().cloned().collect());
    ensure!(
        !weight.is_zero() && U512::from(3) * weight <= U512::from(2) * total,
        "the chosen signers hold {weight} of {total}"
    );
    for pk in weights.keys().filter(|pk| !set.contains(*pk)) {
        let mut more = set.clone();
        more.insert(pk.clone());
        ensure!(
            is_final(weights, &more, ftt),
            "the chosen signers are not the heaviest non-final set"
        );
    }
    eprintln!("  too little weight: {weight} of {total}");
    Ok(set)
}

/// What a hostile node serves: the real plans, but from [`FORGED_HEIGHT`] on every switch block
/// gives the next era to `attacker` alone, who proposes the blocks of the eras it holds; blocks
/// linked anew from there.
fn forged_chain(history: &History, attacker: &PublicKey) -> Result<Vec<BlockV2>> {
    let attacker_weights =
        ValidatorWeights::from([(attacker.clone(), U512::from(ATTACKER_WEIGHT))]);
    let mut chain = Chain::new(BlockHash::default(), Digest::default());
    for plan in &history.plans {
        let mut plan = plan.clone();
        if plan.height >= FORGED_HEIGHT && plan.next_era_weights.is_some() {
            plan.next_era_weights = Some(attacker_weights.clone());
        }
        if plan.height > FORGED_HEIGHT {
            plan.proposer = attacker.clone();
        }
        chain.push(&plan)?;
    }
    let (real, forged) = (&history.blocks, &chain.blocks);
    let at = FORGED_HEIGHT as usize;
    ensure!(
        real[..at] == forged[..at],
        "the forged chain differs below {at}"
    );
    ensure!(
        forged[at].hash() != real[at].hash()
            && forged[at].parent_hash() == real[at].parent_hash()
            && forged[at].height() == real[at].height()
            && forged[at].era_id() == real[at].era_id(),
        "the forged switch block is not a replacement of the real one"
    );
    let executing = EXECUTING_HEIGHT as usize;
    ensure!(
        forged[executing].hash() != real[executing].hash()
            && forged[executing].state_root_hash() == real[executing].state_root_hash()
            && forged[executing].transactions() == real[executing].transactions(),
        "the forged executing block is not the real one under a new hash"
    );
    Ok(chain.blocks)
}

/// The genesis switch block of another chain (its own engine genesis and auction, validators
/// [`FOREIGN_VALIDATORS`], another genesis parent and seed, the same chain name) and its signers.
fn foreign_genesis(inputs: &Inputs, keys: &mut KeyRing) -> Result<(BlockV2, BTreeSet<PublicKey>)> {
    let accounts = FOREIGN_VALIDATORS
        .iter()
        .map(|&(byte, bond, rate)| genesis_account(keys, byte, Some((bond, rate))))
        .collect::<Result<Vec<_>>>()?;
    let mut builder = new_builder_with(inputs.chainspec, accounts)?;
    let mut weights = BTreeMap::new();
    record_era_validators(&mut builder, &mut weights)?;
    let mut chain = Chain::new(
        BlockHash::new(Digest::hash(b"casper-repro-test foreign chain parent")),
        Digest::hash(b"casper-repro-test foreign chain seed"),
    );
    let timestamp = block_timestamp(0);
    let args = runtime_args! {
        auction::ARG_ERA_END_TIMESTAMP_MILLIS => timestamp.millis(),
        auction::ARG_EVICTED_VALIDATORS => Vec::<PublicKey>::new(),
    };
    call_auction(
        &mut builder,
        PublicKey::System.to_account_hash(),
        auction::METHOD_RUN_AUCTION,
        args,
        (0, timestamp, chain.next_parent()),
    )?;
    record_era_validators(&mut builder, &mut weights)?;
    let era0 = weights[&EraId::new(0)].clone();
    let plan = BlockPlan {
        height: 0,
        era: EraId::new(0),
        timestamp,
        state_root: builder.get_post_state_hash(),
        proposer: era0
            .keys()
            .next()
            .cloned()
            .ok_or_else(|| anyhow!("no foreign validators"))?,
        transactions: BTreeMap::new(),
        next_era_weights: Some(weights[&EraId::new(1)].clone()),
    };
    chain.push(&plan)?;
    let block = chain.blocks.remove(0);
    Ok((block, era0.keys().cloned().collect()))
}

/// One finality bundle.
struct Bundle<'a> {
    name: &'static str,
    blocks: &'a [BlockV2],
    /// Per height.
    signers: Vec<BTreeSet<PublicKey>>,
    /// Eras 1.. as the bundle's switch blocks carry them (era 0's too, not written).
    era_weights: BTreeMap<EraId, ValidatorWeights>,
    /// `chain.json`'s `trusted`.
    trusted: Value,
    /// Blocks served by hash only, with their signers.
    extra: Vec<(&'a BlockV2, BTreeSet<PublicKey>)>,
}

impl<'a> Bundle<'a> {
    fn new(
        name: &'static str,
        blocks: &'a [BlockV2],
        signers: Vec<BTreeSet<PublicKey>>,
        era_weights: BTreeMap<EraId, ValidatorWeights>,
        trusted: Value,
    ) -> Self {
        Bundle {
            name,
            blocks,
            signers,
            era_weights,
            trusted,
            extra: Vec::new(),
        }
    }
}

struct Writer<'a> {
    inputs: &'a Inputs<'a>,
    case: &'a Case,
    fixture: &'a Fixture,
    keys: &'a KeyRing,
    ftt: Ftt,
}

impl Writer<'_> {
    /// `<out>/<name>/{responses,engine,chain}.json`.
    fn write(&self, bundle: &Bundle) -> Result<()> {
        let started = std::time::Instant::now();
        let executing = bundle
            .blocks
            .get(EXECUTING_HEIGHT as usize)
            .ok_or_else(|| anyhow!("no executing block"))?;
        ensure!(bundle.signers.len() == bundle.blocks.len());
        let mut calls = install_calls(self.fixture, executing, None, self.inputs.chainspec_bytes)?;
        let mut blocks_json = Vec::new();
        for (block, signers) in bundle.blocks.iter().zip(&bundle.signers) {
            let signatures = self.keys.sign(block, signers)?;
            calls.push(chain_get_block_call(
                json!({ "Height": block.height() }),
                block,
                &signatures,
            )?);
            calls.push(chain_get_block_call(
                json!({ "Hash": hash_hex(block.hash()) }),
                block,
                &signatures,
            )?);
            blocks_json.push(json!({
                "height": block.height(),
                "era": block.era_id().value(),
                "hash": hash_hex(block.hash()),
                "switch": block.is_switch_block(),
                "signers": signers.iter().map(key_hex).collect::<Result<Vec<_>>>()?,
            }));
        }
        for (block, signers) in &bundle.extra {
            let signatures = self.keys.sign(block, signers)?;
            calls.push(chain_get_block_call(
                json!({ "Hash": hash_hex(block.hash()) }),
                block,
                &signatures,
            )?);
        }
        let mut era_weights = serde_json::Map::new();
        for (era, weights) in bundle.era_weights.iter().filter(|(e, _)| e.value() > 0) {
            let mut map = serde_json::Map::new();
            for (pk, weight) in weights {
                map.insert(key_hex(pk)?, json!(weight.to_string()));
            }
            era_weights.insert(era.value().to_string(), Value::Object(map));
        }
        let Transaction::Deploy(deploy) = &self.fixture.transaction else {
            bail!("the install is a Deploy");
        };
        let chain = json!({
            "chain_name": CHAIN_NAME,
            "finality_threshold_fraction": [self.ftt.numer, self.ftt.denom],
            "trusted": bundle.trusted,
            "executing_block": hash_hex(executing.hash()),
            "transaction": hex::encode(deploy.hash().inner().value()),
            "blocks": blocks_json,
            "era_weights": era_weights,
        });
        let dir = self.inputs.out.join(bundle.name);
        fallible::write_json(
            &dir.join("responses.json"),
            &responses_json(self.fixture, calls)?,
        )?;
        fallible::write_json(
            &dir.join("engine.json"),
            &engine_json(bundle.name, self.case, self.fixture, executing),
        )?;
        fallible::write_json(&dir.join("chain.json"), &chain)?;
        eprintln!("{}: done in {:?}", bundle.name, started.elapsed());
        Ok(())
    }
}
