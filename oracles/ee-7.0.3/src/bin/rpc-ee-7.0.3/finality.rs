//! The finality-chain bundle `node-1.5.8-finality`: a chain of node 1.5.8 blocks (`BlockV1`) over
//! several eras whose validators and weights come from the real 7.0.3 engine's auction, every
//! block signed (`FinalitySignatureV1`) by every validator of its era, the `multi_ep` install
//! executed in one of them. The node 1.5.8 counterpart of the ee-8.1.1 generator's good
//! `sidecar-2.0.3-finality` chain (same design, same validator keys, bonds and bids).
//!
//! One engine history (one `InMemoryWasmTestBuilder`, one global state):
//! - genesis (bundled = mainnet 1.5.8 chainspec, protocol 1.5.8) with the deployer account
//!   (test-support's default account), four validators of unequal bonds (keys `[0x40 + i; 32]`)
//!   and the account of a fifth (key `[0x44; 32]`);
//! - height 0: the genesis switch block of era 0 (parent hash and seed zero; as node 1.5's
//!   immediate switch block, its execution is a step);
//! - era 1 (heights 1..=5), era 2 (6..=8), era 3 (9..=12), each ending in a switch block. A
//!   switch block is executed as node 1.5.8 executes one: its deploys, then the engine's
//!   `commit_step` (`builder.step`: the auction contract's distribute-accumulated-fees,
//!   `distribute` (rewards), `slash` (given slash items only) and `run_auction`, as system calls
//!   whose address generator is seeded from the era end timestamp and the next era id, so
//!   nothing random), with
//!   `era_end_timestamp_millis` = the block's timestamp and `next_era_id` = era + 1. Its
//!   `EraEndV1` carries an empty `era_report` (no rewards, equivocators or inactive validators,
//!   so the step request has no reward, slash or evict items) and `next_era_validator_weights` =
//!   the engine's `era_validators()[era + 1]` after the step (what node 1.5.8 puts there:
//!   `upcoming_era_validators[next_era_id]`);
//! - the auction contract's `add_bid` (a `StoredContractByHash` session of the bidder's account
//!   with a fixed deploy hash: test-support's request builders draw random ones, and the bid's
//!   bonding purse URef derives from it): the fifth validator joins in era 1 (before height 2),
//!   the fourth raises its bond in era 2 (before height 7). With `auction_delay = 1` a bid placed
//!   in era N counts from era N + 2, so era 3 has five validators and era 4 the raised bond.
//!   These calls are engine steps, not deploys of the blocks;
//! - the `node-1.5.8-deploy-multi_ep` case's deploy (same session, args, payment, timestamp, so
//!   the same deploy hash) executed as the one deploy of the height-10 block (era 3), with that
//!   block's proposer and timestamp.
//!
//! Every block's state root is the engine's post-state after that block (an empty block carries
//! the current one); its proposer is validator `height mod n` of its era (in key order). The
//! bundle: `responses.json` (the install's answers as the single-block case writes them, at the
//! executing block, without its `chain_get_block` there; then `chain_get_block` of every block by
//! height and by hash), `engine.json`, and `chain.json` describing the chain for tests.

use super::*;
use std::collections::{BTreeMap, BTreeSet};

use casper_engine_test_support::{DeployItemBuilder, StepRequestBuilder, ARG_AMOUNT, DEFAULT_ACCOUNT_INITIAL_BALANCE};
use casper_execution_engine::core::engine_state::{genesis::GenesisValidator, GenesisAccount};
use casper_types::{
    runtime_args,
    system::auction::{self, DelegationRate},
    Motes, RuntimeArgs, U512,
};

/// The bundle this module writes.
pub(super) const NAME: &str = "node-1.5.8-finality";

/// The case whose install (session, args, payment, timestamp) the chain executes.
const INSTALL_CASE: &str = "node-1.5.8-deploy-multi_ep";
/// The scenario oracle's answer for that install (bundled 1.5.8 chainspec), relative to
/// `--wasm-dir`: the stored bytes and entry points must be its.
const INSTALL_ORACLE_ANSWER: &str = "../oracle/ee-7.0.3/1.5.8/multi_ep.json";

// The chain's design (eras, validators, bids), the same for both engines.
#[path = "../../../../shared-src/finality-chain.rs"]
mod design;
use design::{
    BIDS, CSPR, ERA_LENGTHS, EXECUTING_HEIGHT, GENESIS_VALIDATORS, TRUSTED_NON_SWITCH_HEIGHT,
};

/// Standard payment of an `add_bid` call: the bundled (mainnet 1.5.8) chainspec charges
/// `[system_costs.auction_costs] add_bid = 5_000_000_000_000` (5 000 CSPR; 500 CSPR runs out of
/// gas), checked in [`chainspec_core`].
const BID_PAYMENT_MOTES: u64 = 6_000 * CSPR;

/// An invariant of the chain; fails the run with the message if it does not hold.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Validator weights as the blocks carry them (casper-types 6).
type Weights = BTreeMap<t6::PublicKey, t6::U512>;

/// bytesrepr of an engine (casper-types 4) value read back as the casper-types 6 type.
fn to6<T4: casper_types::bytesrepr::ToBytes, T6: t6::bytesrepr::FromBytes>(v: &T4, what: &str) -> Res<T6> {
    let bytes = v.to_bytes().map_err(|e| format!("{what}: {e}"))?;
    let (out, rest) = T6::from_bytes(&bytes).map_err(|e| format!("{what}: {e}"))?;
    ensure!(rest.is_empty(), "{what}: {} trailing bytes", rest.len());
    Ok(out)
}

/// The engine's (casper-types 4) form of a public key.
fn engine_key(key: &t6::PublicKey) -> Res<casper_types::PublicKey> {
    convert(key, "public key")
}

/// A public key as the node's JSON spells it.
fn key_hex(key: &t6::PublicKey) -> Res<String> {
    match to_json(key)? {
        Value::String(hex) => Ok(hex),
        other => Err(format!("public key serialised as {other}")),
    }
}

fn hash_hex(hash: &t6::BlockHash) -> String {
    hex::encode(hash.inner().value())
}

/// The chainspec's finality threshold fraction.
#[derive(Clone, Copy)]
struct Ftt {
    numer: u64,
    denom: u64,
}

/// The `[core]` settings the chain depends on, read from the bytes of the chainspec the engine
/// was configured from (test-support 7.0.3's `ChainspecConfig` does not parse
/// `finality_threshold_fraction`, and keeps its fields crate-private).
fn chainspec_core(chainspec_bytes: &[u8]) -> Res<Ftt> {
    let spec: toml::Value = toml::from_slice(chainspec_bytes).map_err(|e| format!("bundled chainspec: {e}"))?;
    let core = spec.get("core").ok_or("bundled chainspec: no [core]")?;
    let int = |name: &str| core.get(name).and_then(toml::Value::as_integer);
    ensure!(int("auction_delay") == Some(1), "bundled chainspec: auction_delay {:?} (1 expected)", int("auction_delay"));
    let slots = int("validator_slots").unwrap_or(0);
    ensure!(slots >= 5, "bundled chainspec: validator_slots {slots} (at least 5 expected)");
    let fraction: Vec<i64> = core
        .get("finality_threshold_fraction")
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().filter_map(toml::Value::as_integer).collect())
        .unwrap_or_default();
    ensure!(fraction == [1, 3], "bundled chainspec: finality_threshold_fraction {fraction:?} ([1, 3] expected)");
    let add_bid_cost = spec
        .get("system_costs")
        .and_then(|c| c.get("auction_costs"))
        .and_then(|c| c.get("add_bid"))
        .and_then(toml::Value::as_integer)
        .ok_or("bundled chainspec: no system_costs.auction_costs.add_bid")?;
    ensure!(
        u64::try_from(add_bid_cost).is_ok_and(|cost| cost < BID_PAYMENT_MOTES),
        "bundled chainspec: add_bid costs {add_bid_cost}, more than the bids' payment"
    );
    Ok(Ftt { numer: 1, denom: 3 })
}

/// Writes `<out>/node-1.5.8-finality/{responses,engine,chain}.json`.
pub(super) fn run(wasm_dir: &Path, out: &Path, chainspec_bytes: &[u8]) -> Res<()> {
    let ftt = chainspec_core(chainspec_bytes)?;
    let case = CASES.iter().find(|c| c.name == INSTALL_CASE).ok_or_else(|| format!("no case {INSTALL_CASE}"))?;
    ensure!(case.steps.len() == 1, "{INSTALL_CASE}: one step expected");
    let mut keys = KeyRing::default();
    let history = real_history(case, wasm_dir, chainspec_bytes, &mut keys)?;
    let blocks = &history.blocks;

    let era0 = history.engine_weights.get(&0).cloned().ok_or("no weights for era 0")?;
    let served = served_era_weights(blocks, &era0)?;
    for (era, weights) in &served {
        ensure!(history.engine_weights.get(era) == Some(weights), "era {era}: the switch blocks' weights are not the engine's");
    }
    let signers = era_signers(blocks, &served)?;
    for (block, signers) in blocks.iter().zip(&signers) {
        ensure!(is_final(&served[&block.era_id().value()], signers, ftt), "block {} is not final", block.height());
    }
    let trusted_non_switch = &blocks[TRUSTED_NON_SWITCH_HEIGHT as usize];
    ensure!(blocks[0].is_switch_block() && !trusted_non_switch.is_switch_block(), "trusted blocks of the wrong kind");
    check_install(wasm_dir, out, &history.fixture)?;

    let trusted = json!({ "switch": hash_hex(blocks[0].hash()), "non_switch": hash_hex(trusted_non_switch.hash()) });
    write_bundle(out, &history.fixture, blocks, &signers, &served, trusted, ftt, &keys)
}

/// The fixed secret keys of the chain, by public key.
#[derive(Default)]
struct KeyRing(BTreeMap<t6::PublicKey, t6::SecretKey>);

impl KeyRing {
    /// Adds the ed25519 key `[byte; 32]`; its public key.
    fn add(&mut self, byte: u8) -> Res<t6::PublicKey> {
        let secret = t6::SecretKey::ed25519_from_bytes([byte; 32]).map_err(|e| format!("key [{byte:#x}; 32]: {e}"))?;
        let public = t6::PublicKey::from(&secret);
        self.0.insert(public.clone(), secret);
        Ok(public)
    }

    /// `block`'s proofs: a verified finality signature by each of `signers`, in key order (node
    /// 1.5.8's `BlockSignatures.proofs` is a map by public key).
    fn sign(&self, block: &t6::BlockV1, signers: &BTreeSet<t6::PublicKey>) -> Res<Vec<Value>> {
        signers
            .iter()
            .map(|pk| {
                let secret = self.0.get(pk).ok_or_else(|| format!("no secret key for {pk}"))?;
                finality_signature(block, secret)
            })
            .collect()
    }
}

/// (era, switch block?) of the block at `height`.
fn era_of(height: u64) -> Res<(u64, bool)> {
    let mut first = 0;
    for (era, length) in ERA_LENGTHS.iter().enumerate() {
        if height < first + length {
            return Ok((era as u64, height == first + length - 1));
        }
        first += length;
    }
    Err(format!("height {height} is past the chain"))
}

/// Blocks are a round apart; the executing block is at the single-block case's instant
/// ([`DEPLOY_TIMESTAMP_MS`] + one round), so its deploy is that case's.
fn block_timestamp(height: u64) -> u64 {
    DEPLOY_TIMESTAMP_MS + ROUND_MS + height * ROUND_MS - EXECUTING_HEIGHT * ROUND_MS
}

/// A genesis account of `key` with the test-support default balance, a validator with `bond` if
/// given.
fn genesis_account(key: &t6::PublicKey, bond: Option<(u64, DelegationRate)>) -> Res<GenesisAccount> {
    Ok(GenesisAccount::account(
        engine_key(key)?,
        Motes::new(U512::from(DEFAULT_ACCOUNT_INITIAL_BALANCE)),
        bond.map(|(bond, rate)| GenesisValidator::new(Motes::new(U512::from(bond)), rate)),
    ))
}

/// One block as the engine's history fixes it: everything but its links to the chain.
struct BlockPlan {
    height: u64,
    era: u64,
    timestamp: u64,
    state_root: t6::Digest,
    proposer: t6::PublicKey,
    deploys: Vec<t6::DeployHash>,
    /// A switch block's `era_end.next_era_validator_weights`.
    next_era_weights: Option<Weights>,
}

/// Blocks linked into a chain: each on the previous one's hash and accumulated seed, the first on
/// zeros (as node 1.5's genesis switch block).
#[derive(Default)]
struct Chain {
    blocks: Vec<t6::BlockV1>,
}

impl Chain {
    fn push(&mut self, plan: &BlockPlan) -> Res<&t6::BlockV1> {
        ensure!(plan.height == self.blocks.len() as u64, "block {} pushed at height {}", plan.height, self.blocks.len());
        let (parent_hash, parent_seed) = match self.blocks.last() {
            Some(parent) => {
                ensure!(plan.timestamp > parent.timestamp().millis(), "block {} not after its parent", plan.height);
                (*parent.hash(), *parent.accumulated_seed())
            }
            None => (t6::BlockHash::new(t6::Digest::from([0u8; 32])), t6::Digest::from([0u8; 32])),
        };
        let era_end = plan
            .next_era_weights
            .clone()
            .map(|weights| t6::EraEndV1::new(t6::EraReport::new(Vec::new(), BTreeMap::new(), Vec::new()), weights));
        let block = t6::BlockV1::new(
            parent_hash,
            parent_seed,
            plan.state_root,
            false,
            era_end,
            t6::Timestamp::from(plan.timestamp),
            t6::EraId::new(plan.era),
            plan.height,
            protocol6(),
            plan.proposer.clone(),
            plan.deploys.clone(),
            vec![],
        );
        block.verify().map_err(|e| format!("block {} does not verify: {e:?}", plan.height))?;
        ensure!(block.is_switch_block() == plan.next_era_weights.is_some(), "block {}: switch flag", plan.height);
        self.blocks.push(block);
        Ok(self.blocks.last().expect("just pushed"))
    }
}

/// The install as answered at its block: the calls about it and what `engine.json` says.
struct Fixture {
    deploy: t6::Deploy,
    block_hash: String,
    state_root: String,
    /// `info_get_deploy`, `query_global_state` per written key, `info_get_chainspec`.
    calls: Vec<Value>,
    contracts: Vec<Value>,
    session_file: &'static str,
    session_sha256: String,
}

/// The real chain: its blocks, every era's weights as the engine's auction reported them, and
/// the install.
struct History {
    blocks: Vec<t6::BlockV1>,
    engine_weights: BTreeMap<u64, Weights>,
    fixture: Fixture,
}

fn real_history(case: &Case, wasm_dir: &Path, chainspec_bytes: &[u8], keys: &mut KeyRing) -> Res<History> {
    let account_sk = t6::SecretKey::ed25519_from_bytes(ACCOUNT_SECRET_SEED).map_err(|e| e.to_string())?;
    let account = t6::PublicKey::from(&account_sk);
    ensure!(engine_key(&account)? == *DEFAULT_ACCOUNT_PUBLIC_KEY, "account key is not test-support's default account");
    let mut accounts = vec![genesis_account(&account, None)?];
    let mut genesis_weights = Weights::new();
    for (byte, bond, rate) in GENESIS_VALIDATORS {
        let key = keys.add(byte)?;
        accounts.push(genesis_account(&key, Some((bond, rate)))?);
        genesis_weights.insert(key, t6::U512::from(bond));
    }
    let mut bidders = BTreeMap::new();
    for (_, byte, _, _) in BIDS {
        let key = keys.add(byte)?;
        if !GENESIS_VALIDATORS.iter().any(|v| v.0 == byte) && !bidders.contains_key(&byte) {
            accounts.push(genesis_account(&key, None)?);
        }
        bidders.insert(byte, key);
    }

    // Genesis: the bundled (= mainnet 1.5.8) chainspec, at protocol version 1.5.8.
    let mut b = InMemoryWasmTestBuilder::default();
    let genesis = ChainspecConfig::create_genesis_request_from_production_chainspec(accounts, protocol_1_5_8())
        .map_err(|e| format!("genesis request: {e:?}"))?;
    b.run_genesis(&genesis);
    ensure!(b.get_auction_delay() == 1, "the engine's auction_delay is {}", b.get_auction_delay());
    let mut engine_weights = BTreeMap::new();
    record_era_validators(&mut b, &mut engine_weights)?;
    ensure!(
        engine_weights.keys().copied().collect::<Vec<_>>() == [0, 1] && engine_weights.values().all(|w| *w == genesis_weights),
        "after genesis the engine should know eras 0 and 1, both with the genesis bonds"
    );

    let mut chain = Chain::default();
    let mut fixture = None;
    let last_height = ERA_LENGTHS.iter().sum::<u64>() - 1;
    for height in 0..=last_height {
        let (era, switch) = era_of(height)?;
        let timestamp = block_timestamp(height);
        let validators = engine_weights.get(&era).ok_or_else(|| format!("no weights for era {era}"))?;
        let proposer = validators.keys().nth(height as usize % validators.len()).cloned().ok_or("no validators")?;
        for (bid_height, byte, amount, rate) in BIDS {
            if bid_height == height {
                add_bid(&mut b, &bidders[&byte], amount, rate, (height, timestamp, &proposer))?;
            }
        }
        let mut deploys = Vec::new();
        let mut installed = None;
        if height == EXECUTING_HEIGHT {
            let step = case.steps[0];
            let deploy = step_deploy(&account_sk, step, 0, wasm_dir)?;
            execute_deploy(&mut b, &deploy, timestamp, engine_key(&proposer)?)
                .map_err(|e| format!("install at height {height}: {e}"))?;
            eprintln!("  height {height} {}: deploy {}, state root {}", step.label(), deploy.hash(), b.get_post_state_hash());
            deploys.push(*deploy.hash());
            installed = Some((step, install_of(deploy, b.last_exec_result())?));
        }
        let next_era_weights = if switch {
            end_era(&mut b, era, timestamp)?;
            record_era_validators(&mut b, &mut engine_weights)?;
            Some(engine_weights.get(&(era + 1)).cloned().ok_or_else(|| format!("the engine has no weights for era {}", era + 1))?)
        } else {
            None
        };
        let plan = BlockPlan {
            height,
            era,
            timestamp,
            state_root: t6::Digest::from(b.get_post_state_hash().value()),
            proposer,
            deploys,
            next_era_weights,
        };
        let block = chain.push(&plan)?;
        if let Some((step, install)) = installed {
            fixture = Some(install_fixture(&b, step, install, block, wasm_dir, chainspec_bytes)?);
        }
    }
    for (era, weights) in &engine_weights {
        let weights = weights.iter().map(|(pk, w)| Ok(format!("{}…={w}", &key_hex(pk)?[..8]))).collect::<Res<Vec<_>>>()?;
        eprintln!("  era {era}: {}", weights.join(" "));
    }
    Ok(History { blocks: chain.blocks, engine_weights, fixture: fixture.ok_or("no executing block")? })
}

/// The auction contract's `add_bid` by `bidder`'s own account (a `StoredContractByHash` session,
/// standard payment), in the block at (height, timestamp, proposer), committed. The deploy hash
/// is fixed (the engine derives the bid's bonding purse from it).
fn add_bid(
    b: &mut InMemoryWasmTestBuilder,
    bidder: &t6::PublicKey,
    amount: u64,
    rate: DelegationRate,
    (height, timestamp, proposer): (u64, u64, &t6::PublicKey),
) -> Res<()> {
    let key = engine_key(bidder)?;
    let account = key.to_account_hash();
    let deploy_hash = t6::Digest::hash(format!(
        "casper-repro-test {} by {} at height {height}",
        auction::METHOD_ADD_BID,
        account.to_formatted_string()
    ));
    let args = runtime_args! {
        auction::ARG_PUBLIC_KEY => key,
        auction::ARG_DELEGATION_RATE => rate,
        auction::ARG_AMOUNT => U512::from(amount),
    };
    let item = DeployItemBuilder::new()
        .with_address(account)
        .with_stored_session_hash(b.get_auction_contract_hash(), auction::METHOD_ADD_BID, args)
        .with_empty_payment_bytes(runtime_args! { ARG_AMOUNT => U512::from(BID_PAYMENT_MOTES) })
        .with_authorization_keys(&[account])
        .with_deploy_hash(deploy_hash.value())
        .build();
    let request = ExecuteRequestBuilder::new()
        .push_deploy(item)
        .with_block_time(timestamp)
        .with_protocol_version(protocol_1_5_8())
        .with_proposer(engine_key(proposer)?)
        .build();
    b.try_exec(request).map_err(|e| format!("add_bid at height {height}: {e}"))?;
    b.commit();
    if let Some(e) = b.last_exec_result().as_error() {
        return Err(format!("add_bid at height {height} failed: {e}"));
    }
    Ok(())
}

/// The end of `era` in its switch block at `timestamp`, as node 1.5.8 executes it: the engine's
/// `commit_step` (run_auction included) with no reward, slash or evict items (the block's era
/// report is empty), next era `era + 1`.
fn end_era(b: &mut InMemoryWasmTestBuilder, era: u64, timestamp: u64) -> Res<()> {
    let request = StepRequestBuilder::new()
        .with_parent_state_hash(b.get_post_state_hash())
        .with_protocol_version(protocol_1_5_8())
        .with_next_era_id(casper_types::EraId::new(era + 1))
        .with_era_end_timestamp_millis(timestamp)
        .with_run_auction(true)
        .build();
    b.step(request).map_err(|e| format!("step ending era {era}: {e}"))?;
    let engine_era = b.get_era().value();
    ensure!(engine_era == era + 1, "after the step ending era {era} the engine is in era {engine_era}");
    Ok(())
}

/// Adds the engine's current `era_validators` (the auction's snapshot: the current and upcoming
/// eras) to `known`, failing if an era's weights changed since last seen.
fn record_era_validators(b: &mut InMemoryWasmTestBuilder, known: &mut BTreeMap<u64, Weights>) -> Res<()> {
    for (era, weights) in b.get_era_validators() {
        let weights: Weights = to6(&weights, "validator weights")?;
        ensure!(!weights.is_empty(), "era {era} has no validators");
        match known.get(&era.value()) {
            Some(seen) => ensure!(*seen == weights, "the engine changed era {era}'s weights"),
            None => {
                known.insert(era.value(), weights);
            }
        }
    }
    Ok(())
}

/// The install's answers at `block` (which holds it; the builder's post-state is its state
/// root): `info_get_deploy`, `query_global_state` of every Contract / ContractWasm /
/// ContractPackage key it wrote (merkle proofs checked), `info_get_chainspec`; and what
/// `engine.json` says of it.
fn install_fixture(
    b: &InMemoryWasmTestBuilder,
    step: Step,
    install: Install,
    block: &t6::BlockV1,
    wasm_dir: &Path,
    chainspec_bytes: &[u8],
) -> Res<Fixture> {
    let Step::Module(session_file) = step else { return Err(format!("{INSTALL_CASE}: a module session expected")) };
    let state_root = b.get_post_state_hash();
    ensure!(block.state_root_hash().value() == state_root.value(), "the executing block's state root is not the engine's");
    ensure!(block.deploy_hashes() == [*install.deploy.hash()], "the executing block does not hold the install");
    let block_hash = hash_hex(block.hash());
    let header_json = to_json(block.header())?;
    let mut calls = vec![info_get_deploy_call(&install, &block_hash)];
    for key in &install.keys {
        calls.push(query_call(b, &block_hash, &header_json, *key, &[])?.0);
    }
    calls.push(chainspec_call(chainspec_bytes));
    let contracts = contracts_json(b, &install.contracts)?;
    ensure!(!contracts.is_empty(), "the install installed no Contract");
    let session = fs::read(wasm_dir.join(session_file)).map_err(|e| format!("{session_file}: {e}"))?;
    Ok(Fixture {
        deploy: install.deploy,
        block_hash,
        state_root: hex::encode(state_root.value()),
        calls,
        contracts,
        session_file,
        session_sha256: sha256_hex(&session),
    })
}

/// The install in the chain did what the single-block case (written just before into `out`) and
/// the scenario oracle say: the same deploy, the same contracts (hashes, entry points, stored
/// bytes) as the single-block case, the same stored bytes and entry points as the oracle.
fn check_install(wasm_dir: &Path, out: &Path, fixture: &Fixture) -> Res<()> {
    let read = |path: &Path| -> Res<Value> {
        let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let single_dir = out.join(INSTALL_CASE);
    let single = read(&single_dir.join("engine.json"))?;
    ensure!(
        single["contracts"] == Value::Array(fixture.contracts.clone()),
        "DISAGREEMENT: the chain's install stored {:?}, {INSTALL_CASE} {}",
        fixture.contracts,
        single["contracts"]
    );
    let responses = read(&single_dir.join("responses.json"))?;
    let deploy_hash = hex::encode(fixture.deploy.hash().inner().value());
    ensure!(responses["transaction_hash"]["Deploy"] == json!(deploy_hash), "the chain's deploy is not {INSTALL_CASE}'s");

    let path = wasm_dir.join(INSTALL_ORACLE_ANSWER);
    if !path.exists() {
        eprintln!("rpc-ee-7.0.3: note: {} absent; {NAME} not compared with the scenario oracle", path.display());
        return Ok(());
    }
    let answer = read(&path)?;
    let summary = |c: &Value| json!([c["entry_points"], c["stored_sha256"], c["stored_len"]]);
    let theirs: Vec<Value> =
        answer["steps"][0]["contracts"].as_array().ok_or_else(|| format!("{}: no contracts", path.display()))?.iter().map(summary).collect();
    let ours: Vec<Value> = fixture.contracts.iter().map(summary).collect();
    ensure!(ours == theirs, "DISAGREEMENT with {}: {ours:?} vs {theirs:?}", path.display());
    eprintln!("  install: the contracts of {INSTALL_CASE}, stored bytes of {}", path.display());
    Ok(())
}

/// Every era's weights as `blocks` serve them: era 0's given (no block carries them), era N + 1's
/// from era N's switch block.
fn served_era_weights(blocks: &[t6::BlockV1], era0: &Weights) -> Res<BTreeMap<u64, Weights>> {
    let mut eras = BTreeMap::from([(0, era0.clone())]);
    for block in blocks {
        if let Some(era_end) = block.header().era_end() {
            let previous = eras.insert(block.era_id().value() + 1, era_end.next_era_validator_weights().clone());
            ensure!(previous.is_none(), "two switch blocks in era {}", block.era_id());
        }
    }
    Ok(eras)
}

/// Each block's signers: the validators of its era.
fn era_signers(blocks: &[t6::BlockV1], eras: &BTreeMap<u64, Weights>) -> Res<Vec<BTreeSet<t6::PublicKey>>> {
    blocks
        .iter()
        .map(|b| {
            eras.get(&b.era_id().value())
                .map(|w| w.keys().cloned().collect())
                .ok_or_else(|| format!("no weights for era {}", b.era_id()))
        })
        .collect()
}

/// Whether `signers` hold strictly more than (1 + ftt) / 2 of `weights`' total (signers outside
/// `weights` count nothing).
fn is_final(weights: &Weights, signers: &BTreeSet<t6::PublicKey>, ftt: Ftt) -> bool {
    let total = weights.values().fold(t6::U512::zero(), |a, b| a + *b);
    let signed = signers.iter().filter_map(|pk| weights.get(pk)).fold(t6::U512::zero(), |a, b| a + *b);
    // signed / total > (1 + n/d) / 2  ⇔  2·d·signed > (d + n)·total
    t6::U512::from(2 * ftt.denom) * signed > t6::U512::from(ftt.denom + ftt.numer) * total
}

/// `<out>/<NAME>/{responses,engine,chain}.json`.
#[allow(clippy::too_many_arguments)]
fn write_bundle(
    out: &Path,
    fixture: &Fixture,
    blocks: &[t6::BlockV1],
    signers: &[BTreeSet<t6::PublicKey>],
    era_weights: &BTreeMap<u64, Weights>,
    trusted: Value,
    ftt: Ftt,
    keys: &KeyRing,
) -> Res<()> {
    let executing = &blocks[EXECUTING_HEIGHT as usize];
    ensure!(hash_hex(executing.hash()) == fixture.block_hash, "the fixture is not the executing block's");
    let mut calls = fixture.calls.clone();
    let mut blocks_json = Vec::new();
    for (block, signers) in blocks.iter().zip(signers) {
        let proofs = keys.sign(block, signers)?;
        calls.push(chain_get_block_call(json!({ "Height": block.height() }), block, proofs.clone())?);
        calls.push(chain_get_block_call(json!({ "Hash": hash_hex(block.hash()) }), block, proofs)?);
        blocks_json.push(json!({
            "height": block.height(),
            "era": block.era_id().value(),
            "hash": hash_hex(block.hash()),
            "switch": block.is_switch_block(),
            "signers": signers.iter().map(key_hex).collect::<Res<Vec<_>>>()?,
        }));
    }
    let mut weights_json = serde_json::Map::new();
    for (era, weights) in era_weights.iter().filter(|(era, _)| **era > 0) {
        let mut map = serde_json::Map::new();
        for (pk, weight) in weights {
            map.insert(key_hex(pk)?, json!(weight.to_string()));
        }
        weights_json.insert(era.to_string(), Value::Object(map));
    }
    let chain = json!({
        "chain_name": CHAIN_NAME,
        "finality_threshold_fraction": [ftt.numer, ftt.denom],
        "trusted": trusted,
        "executing_block": fixture.block_hash,
        "transaction": hex::encode(fixture.deploy.hash().inner().value()),
        "blocks": blocks_json,
        "era_weights": weights_json,
    });
    let mut engine = engine_json_head(NAME);
    let obj = engine.as_object_mut().ok_or("engine JSON not an object")?;
    obj.insert("session".into(), json!(fixture.session_file));
    obj.insert("session_sha256".into(), json!(fixture.session_sha256));
    obj.insert("block_hash".into(), json!(fixture.block_hash));
    obj.insert("state_root_hash".into(), json!(fixture.state_root));
    obj.insert("contracts".into(), Value::Array(fixture.contracts.clone()));

    let dir = out.join(NAME);
    let bundle = responses_json(&fixture.deploy, calls);
    write_json(&dir.join("responses.json"), &bundle)?;
    write_json(&dir.join("engine.json"), &engine)?;
    write_json(&dir.join("chain.json"), &chain)?;
    eprintln!("rpc-ee-7.0.3: {NAME} -> {} ({} calls, {} blocks)", dir.display(), bundle["calls"].as_array().map_or(0, Vec::len), blocks.len());
    Ok(())
}
