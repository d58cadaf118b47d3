//! `rpc-ee-8-1-1`: node 2.x (casper-sidecar 2.x) JSON-RPC responses for installs that the real
//! casper-execution-engine 8.1.1 (node 2.0.3) executed, serialised from casper-types 6.0.1 values.
//! Test fixtures for `casper-repro verify`.
//!
//! ```text
//! rpc-ee-8-1-1 --wasm-dir testdata/wasm --out testdata/rpc
//! ```
//!
//! Per case, a fresh temporary LMDB global state and genesis (the engine's bundled chainspec, the
//! two fixed accounts of the ee-8.x oracle), a real signed `Deploy` / `TransactionV1` (casper-types
//! 6.0.1, key of the test-support default account, fixed timestamp, chain "casper-repro-test"),
//! executed by the engine with that transaction's own hash, session bytes, args and signers, then a
//! real `BlockV2` whose state root is the engine's post-state hash, and `query_global_state`
//! answers with the merkle proofs of the engine's own global state. A stored-contract call (the
//! factory case) also gets the caller as the sidecar resolves it (account → named key → Contract,
//! one proof per hop) and the caller's ContractWasm; every case gets `info_get_chainspec` (the
//! bytes of the chainspec.toml the engine was configured from). Writes
//! `<out>/<case>/responses.json` (the sidecar bundle) and `<out>/<case>/engine.json`.
//!
//! Then the finality bundles (module `finality`, `sidecar-2.0.3-finality*`): one engine history
//! with several validators (genesis bonds, `add_bid` and `run_auction` through the auction
//! contract) over eras 0..=3, a `BlockV2` chain over it (switch blocks carrying the engine's next
//! era weights, every block signed by its era's validators), the `multi_ep` Deploy executed in
//! the height-10 block; `chain_get_block` of every block by height and by hash, and a `chain.json`
//! describing the chain; plus variants a finality check must reject (too little signing weight,
//! an unknown signer, a forged switch block, a trusted hash from another chain).
//!
//! Everything is fixed (keys, timestamps, engine-internal deploy hashes; ed25519 signatures are
//! deterministic): two runs give byte-identical files.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{anyhow, bail, ensure, Context, Result};
use casper_engine_test_support::{
    ChainspecConfig, ExecuteRequestBuilder, LmdbWasmTestBuilder, ARG_AMOUNT, CHAINSPEC_SYMLINK,
    DEFAULT_ACCOUNT_INITIAL_BALANCE, DEFAULT_ACCOUNT_PUBLIC_KEY, DEFAULT_ACCOUNT_SECRET_KEY,
    DEFAULT_PROPOSER_PUBLIC_KEY,
};
use casper_execution_engine::engine_state::{SessionDataDeploy, SessionDataV1, SessionInputData};
use casper_storage::global_state::trie_store::operations::compute_state_hash;
use casper_types::{
    account::AccountHash,
    bytesrepr::{Bytes, ToBytes},
    calculate_lane_id_for_deploy, calculate_transaction_lane,
    execution::{ExecutionResult, ExecutionResultV2, TransformKindV2},
    global_state::TrieMerkleProof,
    runtime_args, Block, BlockHash, BlockHeader, BlockSignatures, BlockSignaturesV2, BlockTime,
    BlockV2, ChainNameDigest, ChainspecRawBytes, Deploy, Digest, EraId, ExecutableDeployItem,
    ExecutionInfo, FinalitySignatureV2, Gas, GenesisAccount, InitiatorAddr,
    JsonBlockWithSignatures, Key, Motes, Phase, PricingHandling, PricingMode, ProtocolVersion,
    PublicKey, RefundHandling, RewardedSignatures, RuntimeArgs, SecretKey, StoredValue, TimeDiff,
    Timestamp, Transaction, TransactionArgs, TransactionEntryPoint, TransactionLaneDefinition,
    TransactionRuntimeParams, TransactionScheduling, TransactionTarget, TransactionV1,
    TransactionV1Config, TransactionV1Hash, TransactionV1Payload, U256, U512,
};
use serde::Serialize;
use serde_json::{json, Value};

use harness::fallible;

// Beside this file, not in src/bin/ (where cargo would take it for a binary of its own).
#[path = "rpc-ee-8.1.1/finality.rs"]
mod finality;

const EXECUTION_ENGINE: &str = "8.1.1";
const ENGINE_TEST_SUPPORT: &str = "8.1.1";
const PROTOCOL: &str = "2.0.3";
const CHAIN_NAME: &str = "casper-repro-test";
/// What a 2.0.x sidecar reports as `api_version`.
const API_VERSION: &str = "2.0.0";
/// Standard payment of a transaction unless its case says otherwise (motes; gas price 1 → also the
/// gas limit).
const PAYMENT_AMOUNT: u64 = 300_000_000_000;
const GAS_PRICE: u8 = 1;
/// 2025-05-01T12:00:00Z: first transaction's timestamp; blocks follow at fixed offsets.
const BASE_TIMESTAMP_MILLIS: u64 = 1_746_100_800_000;
const BLOCK_DELAY_MILLIS: u64 = 16_384;
const TTL_SECONDS: u32 = 30 * 60;
/// Era and height of the first block of every case (fixed, arbitrary).
const ERA: u64 = 17_000;
const FIRST_HEIGHT: u64 = 5_000_000;

/// `[transactions.v1]` lanes of the engine's bundled chainspec
/// (casper-engine-test-support-8.1.1/resources/chainspec.toml.in); checked against the file.
const BUNDLED_LANES: [&str; 3] = [
    "native_mint_lane = [0, 2048, 1024, 100_000_000, 650]",
    "native_auction_lane = [1, 3096, 2048, 2_500_000_000, 650]",
    "install_upgrade_lane = [2, 750_000, 2048, 1_000_000_000_000, 1]",
];
const BUNDLED_WASM_LANES: [[u64; 5]; 3] = [
    [3, 262_144, 1024, 1_000_000_000_000, 1],
    [4, 131_072, 1024, 100_000_000_000, 2],
    [5, 65_536, 512, 5_000_000_000, 80],
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Deploy,
    V1,
}

/// One transaction of a case.
#[derive(Clone, Copy)]
enum Step {
    /// Session Wasm (a file of `--wasm-dir`) as `ModuleBytes` / a V1 `Session` target.
    Session(&'static str, Kind),
    /// A legacy `Deploy` whose session is `StoredContractByName { name, entry_point, args: empty }`:
    /// the contract under the account's named key `named_key`.
    CallByName {
        named_key: &'static str,
        entry_point: &'static str,
    },
}

/// The session of one transaction.
enum Session<'a> {
    /// Session Wasm and its runtime args.
    Module(&'a [u8], RuntimeArgs),
    ByName {
        named_key: &'a str,
        entry_point: &'a str,
    },
}

struct Case {
    name: &'static str,
    /// Executed in order, each as its own transaction in its own block; the fixture is for the
    /// last one.
    steps: &'static [Step],
    /// Scenario of testdata/scenarios.json whose Deploy-path oracle answer
    /// (`<wasm-dir>/../oracle/ee-8.1.1/2.0.3/<scenario>.json`) the fixture step's stored bytes
    /// (and caller's) must equal.
    oracle_scenario: Option<&'static str>,
    /// Runtime args of every `Step::Session` of the case.
    session_args: fn() -> RuntimeArgs,
    /// Standard payment (motes) of every transaction of the case.
    payment: u64,
}

/// No runtime args.
fn no_args() -> RuntimeArgs {
    RuntimeArgs::new()
}

/// What an Odra 2.x install session reads (odra-core 2.9.1 `consts.rs`; the `call` that
/// odra-macros 2.9.1 generates; odra-casper-wasm-env 2.9.1 `install_new_contract`): whether this
/// is an upgrade, the named key of the package, whether it may replace that key, whether the
/// contract is upgradable; then the constructor's (`init`) args, here those of
/// testdata/odra-cep18's `MyToken::init(symbol, name, decimals, initial_supply)`.
fn odra_cep18_install_args() -> RuntimeArgs {
    runtime_args! {
        "odra_cfg_is_upgrade" => false,
        "odra_cfg_package_hash_key_name" => "my_token_package_hash".to_string(),
        "odra_cfg_allow_key_override" => false,
        "odra_cfg_is_upgradable" => true,
        "symbol" => "MTK".to_string(),
        "name" => "My Token".to_string(),
        "decimals" => 9u8,
        "initial_supply" => U256::from(1_000_000_000_000_000u64),
    }
}

const CASES: [Case; 6] = [
    Case {
        name: "sidecar-2.0.3-deploy-multi_ep",
        steps: &[Step::Session("multi_ep_cc5.wasm", Kind::Deploy)],
        oracle_scenario: None,
        session_args: no_args,
        payment: PAYMENT_AMOUNT,
    },
    Case {
        name: "sidecar-2.0.3-v1-two_contracts",
        steps: &[Step::Session("two_contracts_cc5.wasm", Kind::V1)],
        oracle_scenario: None,
        session_args: no_args,
        payment: PAYMENT_AMOUNT,
    },
    Case {
        name: "sidecar-2.0.3-deploy-upgrade",
        steps: &[
            Step::Session("upgrade_install_cc5.wasm", Kind::Deploy),
            Step::Session("upgrade_v2_cc5.wasm", Kind::Deploy),
        ],
        oracle_scenario: None,
        session_args: no_args,
        payment: PAYMENT_AMOUNT,
    },
    // `factory_cc5` of testdata/scenarios.json: the factory's stored `create` installs a child.
    Case {
        name: "sidecar-2.0.3-deploy-factory",
        steps: &[
            Step::Session("factory_cc5.wasm", Kind::Deploy),
            Step::CallByName {
                named_key: "factory_contract",
                entry_point: "create",
            },
        ],
        oracle_scenario: Some("factory_cc5"),
        session_args: no_args,
        payment: PAYMENT_AMOUNT,
    },
    // `sign_ext_cc5` of testdata/scenarios.json: sign-extension opcodes in the session and in the
    // stored contract (node 1.x rejects the module, 2.x accepts it).
    Case {
        name: "sidecar-2.0.3-deploy-sign_ext",
        steps: &[Step::Session("sign_ext_cc5.wasm", Kind::Deploy)],
        oracle_scenario: Some("sign_ext_cc5"),
        session_args: no_args,
        payment: PAYMENT_AMOUNT,
    },
    // An Odra contract as `cargo odra build` builds it: testdata/odra-cep18's MyToken (a CEP-18
    // on odra 2.9.1), built by the real cargo-odra 0.1.8 with binaryen 132 (docs/verify.md;
    // crates/repro-cli/tests/odra.rs checks the bytes against cargo-odra), installed with Odra's
    // install args and its constructor's. A TransactionV1 install (the install/upgrade lane): at
    // 333 KB the module is larger than any Wasm lane of the chainspec takes (as a Deploy it fits
    // no lane).
    Case {
        name: "sidecar-2.0.3-v1-odra_cep18",
        steps: &[Step::Session("odra_cep18_MyToken.wasm", Kind::V1)],
        oracle_scenario: None,
        session_args: odra_cep18_install_args,
        payment: 1_000_000_000_000,
    },
];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<()> {
    let mut wasm_dir = None;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--wasm-dir" => wasm_dir = args.next().map(PathBuf::from),
            "--out" => out = args.next().map(PathBuf::from),
            other => {
                bail!("unknown argument {other:?}; usage: rpc-ee-8-1-1 --wasm-dir DIR --out DIR")
            }
        }
    }
    let wasm_dir = wasm_dir.ok_or_else(|| anyhow!("--wasm-dir DIR missing"))?;
    let out = out.ok_or_else(|| anyhow!("--out DIR missing"))?;

    // The chainspec.toml the engine is configured from (also the `info_get_chainspec` answer).
    // casper-engine-test-support's build.rs writes it at build time with
    // `activation_point = <build time + 40 s>`; a node's chainspec has a fixed activation point,
    // and the bundles must not depend on when the engine was built, so that one line is replaced
    // by a fixed instant. Nothing the engine reads for Wasm processing is on it.
    let built_bytes = std::fs::read(&*CHAINSPEC_SYMLINK)
        .with_context(|| format!("reading {}", CHAINSPEC_SYMLINK.display()))?;
    let built_text = std::str::from_utf8(&built_bytes)
        .with_context(|| format!("{} is not UTF-8", CHAINSPEC_SYMLINK.display()))?;
    let chainspec_text = fixed_activation_point(built_text)?;
    let chainspec_bytes = chainspec_text.clone().into_bytes();
    let chainspec_text = chainspec_text.as_str();
    for line in BUNDLED_LANES {
        ensure!(
            chainspec_text.contains(line),
            "bundled chainspec lacks {line:?}"
        );
    }
    for lane in BUNDLED_WASM_LANES {
        let text = format!(
            "[{}, {}, {}, {}, {}]",
            lane[0],
            underscored(lane[1]),
            lane[2],
            underscored(lane[3]),
            lane[4]
        );
        ensure!(
            chainspec_text.contains(&text),
            "bundled chainspec lacks wasm lane {text}"
        );
    }
    let chainspec = ChainspecConfig::from_chainspec_path(&*CHAINSPEC_SYMLINK).map_err(|e| {
        anyhow!(
            "loading the bundled chainspec {}: {e:?}",
            CHAINSPEC_SYMLINK.display()
        )
    })?;
    ensure!(
        !chainspec.core_config.enable_addressable_entity,
        "the bundled chainspec enables addressable entities"
    );
    ensure!(
        matches!(
            chainspec.core_config.pricing_handling,
            PricingHandling::PaymentLimited
        ),
        "bundled chainspec: payment_limited pricing expected"
    );
    let lanes = TransactionV1Config::new(
        TransactionLaneDefinition::new(0, 2048, 1024, 100_000_000, 650),
        TransactionLaneDefinition::new(1, 3096, 2048, 2_500_000_000, 650),
        TransactionLaneDefinition::new(2, 750_000, 2048, 1_000_000_000_000, 1),
        BUNDLED_WASM_LANES
            .iter()
            .map(|l| TransactionLaneDefinition::new(l[0] as u8, l[1], l[2], l[3], l[4]))
            .collect(),
    );

    for case in &CASES {
        let started = std::time::Instant::now();
        run_case(case, &chainspec, &chainspec_bytes, &lanes, &wasm_dir, &out)
            .with_context(|| format!("case {}", case.name))?;
        eprintln!("{}: done in {:?}", case.name, started.elapsed());
    }
    finality::run(&finality::Inputs {
        chainspec: &chainspec,
        chainspec_bytes: &chainspec_bytes,
        lanes: &lanes,
        wasm_dir: &wasm_dir,
        out: &out,
    })
    .context("finality bundles")
}

/// `1000000` → `1_000_000` (the chainspec's spelling).
fn underscored(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('_');
        }
        out.push(c);
    }
    out
}

fn protocol_version() -> ProtocolVersion {
    ProtocolVersion::from_parts(2, 0, 3)
}

/// Fresh temporary global state and genesis, as the ee-8.x oracle (`oracles/shared-src/ee-8.rs`).
fn new_builder(chainspec: &ChainspecConfig) -> Result<LmdbWasmTestBuilder> {
    new_builder_with(
        chainspec,
        vec![
            GenesisAccount::account(
                DEFAULT_ACCOUNT_PUBLIC_KEY.clone(),
                Motes::new(DEFAULT_ACCOUNT_INITIAL_BALANCE),
                None,
            ),
            GenesisAccount::account(
                DEFAULT_PROPOSER_PUBLIC_KEY.clone(),
                Motes::new(DEFAULT_ACCOUNT_INITIAL_BALANCE),
                None,
            ),
        ],
    )
}

/// Fresh temporary global state and the engine's genesis with `accounts` (and the chainspec's
/// auction settings), at protocol version 2.0.3.
fn new_builder_with(
    chainspec: &ChainspecConfig,
    accounts: Vec<GenesisAccount>,
) -> Result<LmdbWasmTestBuilder> {
    let mut builder = LmdbWasmTestBuilder::new_temporary_with_config(chainspec.clone());
    let mut engine_config = chainspec.engine_config();
    engine_config.set_protocol_version(protocol_version());
    builder.with_engine_config(engine_config);
    let genesis = chainspec
        .create_genesis_request(accounts, protocol_version())
        .map_err(|e| anyhow!("genesis request from the bundled chainspec: {e:?}"))?;
    builder.run_genesis(genesis);
    Ok(builder)
}

/// The proposer's secret key behind `DEFAULT_PROPOSER_PUBLIC_KEY` (test-support 8.1.1 lib.rs).
fn proposer_secret_key() -> Result<SecretKey> {
    let key = SecretKey::ed25519_from_bytes([198; SecretKey::ED25519_LENGTH])
        .map_err(|e| anyhow!("proposer key: {e}"))?;
    ensure!(
        PublicKey::from(&key) == *DEFAULT_PROPOSER_PUBLIC_KEY,
        "proposer secret key does not match DEFAULT_PROPOSER_PUBLIC_KEY"
    );
    Ok(key)
}

/// A block of one case: everything fixed, derived from the case name and the step index.
struct ChainPosition {
    parent_hash: BlockHash,
    parent_seed: Digest,
    height: u64,
}

struct Executed {
    transaction: Transaction,
    block: BlockV2,
    signatures: BlockSignatures,
    result: ExecutionResultV2,
    post_state: Digest,
}

fn build_transaction(
    kind: Kind,
    session: Session,
    timestamp: Timestamp,
    payment: u64,
) -> Result<Transaction> {
    let secret_key = &*DEFAULT_ACCOUNT_SECRET_KEY;
    ensure!(
        PublicKey::from(secret_key) == *DEFAULT_ACCOUNT_PUBLIC_KEY,
        "DEFAULT_ACCOUNT_SECRET_KEY does not match DEFAULT_ACCOUNT_PUBLIC_KEY"
    );
    let ttl = TimeDiff::from_seconds(TTL_SECONDS);
    Ok(match kind {
        Kind::Deploy => {
            let payment = ExecutableDeployItem::ModuleBytes {
                module_bytes: Bytes::new(),
                args: runtime_args! { ARG_AMOUNT => U512::from(payment) },
            };
            let session = match session {
                Session::Module(bytes, args) => ExecutableDeployItem::ModuleBytes {
                    module_bytes: Bytes::from(bytes.to_vec()),
                    args,
                },
                Session::ByName {
                    named_key,
                    entry_point,
                } => ExecutableDeployItem::StoredContractByName {
                    name: named_key.to_string(),
                    entry_point: entry_point.to_string(),
                    args: RuntimeArgs::new(),
                },
            };
            let deploy = Deploy::new_signed(
                timestamp,
                ttl,
                GAS_PRICE as u64,
                vec![],
                CHAIN_NAME.to_string(),
                payment,
                session,
                secret_key,
                None,
            );
            deploy
                .is_valid()
                .map_err(|e| anyhow!("built deploy invalid: {e}"))?;
            Transaction::Deploy(deploy)
        }
        Kind::V1 => {
            let Session::Module(session, args) = session else {
                bail!("TransactionV1 steps carry session Wasm only");
            };
            // The fields map of TransactionV1 (casper-types 6.0.1 `FieldsContainer::to_map`, which is
            // crate-private): 0 args, 1 target, 2 entry point, 3 scheduling, each in bytesrepr.
            let mut fields: BTreeMap<u16, Bytes> = BTreeMap::new();
            let bytes = |v: &dyn Fn() -> Result<Vec<u8>, casper_types::bytesrepr::Error>| {
                v().map(Bytes::from)
                    .map_err(|e| anyhow!("bytesrepr of a TransactionV1 field: {e}"))
            };
            fields.insert(
                0,
                bytes(&|| TransactionArgs::Named(args.clone()).to_bytes())?,
            );
            fields.insert(
                1,
                bytes(&|| {
                    TransactionTarget::Session {
                        is_install_upgrade: true,
                        module_bytes: Bytes::from(session.to_vec()),
                        runtime: TransactionRuntimeParams::VmCasperV1,
                    }
                    .to_bytes()
                })?,
            );
            fields.insert(2, bytes(&|| TransactionEntryPoint::Call.to_bytes())?);
            fields.insert(3, bytes(&|| TransactionScheduling::Standard.to_bytes())?);
            let payload = TransactionV1Payload::new(
                CHAIN_NAME.to_string(),
                timestamp,
                ttl,
                PricingMode::PaymentLimited {
                    payment_amount: payment,
                    gas_price_tolerance: GAS_PRICE,
                    standard_payment: true,
                },
                InitiatorAddr::PublicKey(DEFAULT_ACCOUNT_PUBLIC_KEY.clone()),
                fields,
            );
            let hash = Digest::hash(
                payload
                    .to_bytes()
                    .map_err(|e| anyhow!("bytesrepr of the payload: {e}"))?,
            );
            let mut v1 =
                TransactionV1::new(TransactionV1Hash::from(hash), payload, BTreeSet::new());
            v1.sign(secret_key);
            v1.verify()
                .map_err(|e| anyhow!("built TransactionV1 invalid: {e}"))?;
            Transaction::V1(v1)
        }
    })
}

/// Executes one transaction in the engine as the node would hand it over (its hash, session,
/// args, initiator and signers), commits, and makes the block that holds it (era [`ERA`], signed
/// by the test-support proposer).
fn execute(
    builder: &mut LmdbWasmTestBuilder,
    chainspec: &ChainspecConfig,
    lanes: &TransactionV1Config,
    transaction: Transaction,
    position: &ChainPosition,
    block_timestamp: Timestamp,
    payment: u64,
) -> Result<Executed> {
    let proposer_key = proposer_secret_key()?;
    let run = execute_in_engine(
        builder,
        chainspec,
        lanes,
        &transaction,
        position.parent_hash,
        position.height,
        block_timestamp,
        payment,
    )?;
    let mut transactions = BTreeMap::new();
    transactions.insert(run.lane, vec![transaction.hash()]);
    let block = BlockV2::new(
        position.parent_hash,
        position.parent_seed,
        run.post_state,
        false,
        None,
        block_timestamp,
        EraId::new(ERA),
        position.height,
        protocol_version(),
        DEFAULT_PROPOSER_PUBLIC_KEY.clone(),
        transactions,
        RewardedSignatures::default(),
        GAS_PRICE,
        Some(BlockHash::new(Digest::hash(
            b"casper-repro-test switch block",
        ))),
    );
    let signatures = sign_block(&block, [&proposer_key])?;
    Ok(Executed {
        transaction,
        block,
        signatures,
        result: run.result,
        post_state: run.post_state,
    })
}

/// `block`'s finality signatures (`FinalitySignatureV2` over its hash, height, era and the hash
/// of [`CHAIN_NAME`]) by each of `keys`, as a node's `BlockSignaturesV2`; every one checked.
fn sign_block<'a>(
    block: &BlockV2,
    keys: impl IntoIterator<Item = &'a SecretKey>,
) -> Result<BlockSignatures> {
    let chain_name_hash = ChainNameDigest::from_chain_name(CHAIN_NAME);
    let (hash, height, era) = (*block.hash(), block.height(), block.era_id());
    let mut signatures = BlockSignaturesV2::new(hash, height, era, chain_name_hash);
    for key in keys {
        let signature = FinalitySignatureV2::create(hash, height, era, chain_name_hash, key);
        signature
            .is_verified()
            .map_err(|e| anyhow!("finality signature on block {hash}: {e}"))?;
        signatures.insert_signature(signature.public_key().clone(), *signature.signature());
    }
    let signatures = BlockSignatures::V2(signatures);
    signatures
        .is_verified()
        .map_err(|e| anyhow!("block signatures: {e}"))?;
    Ok(signatures)
}

/// What the engine made of one transaction: the lane a node puts it in, its execution result as
/// node 2.0.3 reports it, and the committed post-state.
struct EngineRun {
    lane: u8,
    result: ExecutionResultV2,
    post_state: Digest,
}

/// Executes one transaction in the engine as the node would hand it over (its hash, session,
/// args, initiator and signers) in the block at `height` on top of `parent`, and commits.
#[allow(clippy::too_many_arguments)]
fn execute_in_engine(
    builder: &mut LmdbWasmTestBuilder,
    chainspec: &ChainspecConfig,
    lanes: &TransactionV1Config,
    transaction: &Transaction,
    parent: BlockHash,
    height: u64,
    block_timestamp: Timestamp,
    payment: u64,
) -> Result<EngineRun> {
    let (lane, initiator, signers) = match transaction {
        Transaction::Deploy(deploy) => (
            calculate_lane_id_for_deploy(deploy, PricingHandling::PaymentLimited, lanes)
                .map_err(|e| anyhow!("deploy lane: {e}"))?,
            InitiatorAddr::PublicKey(deploy.account().clone()),
            deploy
                .approvals()
                .iter()
                .map(|a| a.signer().to_account_hash())
                .collect::<BTreeSet<_>>(),
        ),
        Transaction::V1(v1) => {
            let target: TransactionTarget = v1
                .deserialize_field(1)
                .map_err(|e| anyhow!("target field: {e:?}"))?;
            let entry_point: TransactionEntryPoint = v1
                .deserialize_field(2)
                .map_err(|e| anyhow!("entry point field: {e:?}"))?;
            let args: TransactionArgs = v1
                .deserialize_field(0)
                .map_err(|e| anyhow!("args field: {e:?}"))?;
            let lane = calculate_transaction_lane(
                &entry_point,
                &target,
                v1.pricing_mode(),
                lanes,
                v1.serialized_length() as u64,
                args.serialized_length() as u64,
            )
            .map_err(|e| anyhow!("transaction lane: {e}"))?;
            (
                lane,
                v1.initiator_addr().clone(),
                v1.approvals()
                    .iter()
                    .map(|a| a.signer().to_account_hash())
                    .collect::<BTreeSet<_>>(),
            )
        }
    };

    let gas_limit = Gas::new(payment);
    let request_builder = match transaction {
        Transaction::Deploy(deploy) => {
            ensure!(deploy.payment().is_standard_payment(Phase::Payment));
            let input = SessionInputData::DeploySessionData {
                data: SessionDataDeploy::new(
                    deploy.hash(),
                    deploy.session(),
                    &initiator,
                    signers.clone(),
                    true,
                ),
            };
            ExecuteRequestBuilder::from_session_input_data_for_protocol_version(
                &input,
                protocol_version(),
            )
        }
        Transaction::V1(v1) => {
            let target: TransactionTarget =
                v1.deserialize_field(1).map_err(|e| anyhow!("{e:?}"))?;
            let entry_point: TransactionEntryPoint =
                v1.deserialize_field(2).map_err(|e| anyhow!("{e:?}"))?;
            let args: TransactionArgs = v1.deserialize_field(0).map_err(|e| anyhow!("{e:?}"))?;
            let args = args
                .into_named()
                .ok_or_else(|| anyhow!("named args expected"))?;
            let is_install_upgrade = matches!(
                target,
                TransactionTarget::Session {
                    is_install_upgrade: true,
                    ..
                }
            );
            let input = SessionInputData::SessionDataV1 {
                data: SessionDataV1::new(
                    &args,
                    &target,
                    &entry_point,
                    is_install_upgrade,
                    v1.hash(),
                    v1.pricing_mode(),
                    &initiator,
                    signers.clone(),
                    true,
                ),
            };
            ExecuteRequestBuilder::from_session_input_data_for_protocol_version(
                &input,
                protocol_version(),
            )
        }
    };
    let mut request = request_builder
        .with_block_time(BlockTime::new(block_timestamp.millis()))
        .with_block_height(height)
        .with_parent_block_hash(parent)
        .with_authorization_keys(signers.clone())
        .build();
    ensure!(
        request.custom_payment.is_none(),
        "standard payment expected"
    );
    ensure!(
        request.session.transaction_hash == transaction.hash(),
        "the engine request carries another transaction hash"
    );
    request.session.gas_limit = gas_limit;

    builder.exec(request);
    let exec = builder.get_last_exec_result().expect("exec result");
    if let Some(error) = exec.error() {
        bail!("the engine failed the transaction: {error}");
    }
    builder.commit();
    let post_state = builder.get_post_state_hash();

    // Cost and refund as node 2.0.3 reports them for a payment-limited transaction: the gas limit
    // is the payment amount, the cost is limit × price, and the refund follows the chainspec's
    // refund handling (the engine's test support runs neither payment nor refund; the effects
    // below are the session's only).
    let cost = U512::from(payment) * U512::from(GAS_PRICE);
    let unspent = cost.saturating_sub(exec.consumed().value() * U512::from(GAS_PRICE));
    let refund = match chainspec.core_config.refund_handling {
        RefundHandling::Refund { refund_ratio } => {
            unspent * U512::from(*refund_ratio.numer()) / U512::from(*refund_ratio.denom())
        }
        _ => U512::zero(),
    };
    let result = ExecutionResultV2 {
        initiator,
        error_message: None,
        current_price: GAS_PRICE,
        limit: gas_limit,
        consumed: exec.consumed(),
        cost,
        refund,
        transfers: exec.transfers().clone(),
        size_estimate: transaction.size_estimate() as u64,
        effects: exec.effects().clone(),
    };
    Ok(EngineRun {
        lane,
        result,
        post_state,
    })
}

fn to_json<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| anyhow!("serializing to JSON: {e}"))
}

/// A contract written by the fixture transaction, read back from committed state.
struct Written {
    contract_hash: [u8; 32],
    contract_wasm_hash: [u8; 32],
    contract_package_hash: [u8; 32],
    entry_points: Vec<String>,
    bytes: Vec<u8>,
}

/// The transaction of step `index` of `case` (session bytes from `wasm_dir`, the case's args and
/// payment, the step's fixed timestamp), with the step's label (session file or
/// `named_key.entry_point`) and session bytes.
struct StepTransaction {
    label: String,
    session_bytes: Option<Vec<u8>>,
    transaction: Transaction,
}

/// Timestamp of the transaction of step `index` of a case.
fn step_timestamp(index: usize) -> Timestamp {
    Timestamp::from(BASE_TIMESTAMP_MILLIS + index as u64 * 60_000)
}

fn step_transaction(case: &Case, index: usize, wasm_dir: &Path) -> Result<StepTransaction> {
    let step = case
        .steps
        .get(index)
        .ok_or_else(|| anyhow!("{} has no step {index}", case.name))?;
    let timestamp = step_timestamp(index);
    Ok(match *step {
        Step::Session(file, kind) => {
            let path = wasm_dir.join(file);
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let transaction = build_transaction(
                kind,
                Session::Module(&bytes, (case.session_args)()),
                timestamp,
                case.payment,
            )?;
            StepTransaction {
                label: file.to_string(),
                session_bytes: Some(bytes),
                transaction,
            }
        }
        Step::CallByName {
            named_key,
            entry_point,
        } => StepTransaction {
            label: format!("{named_key}.{entry_point}"),
            session_bytes: None,
            transaction: build_transaction(
                Kind::Deploy,
                Session::ByName {
                    named_key,
                    entry_point,
                },
                timestamp,
                case.payment,
            )?,
        },
    })
}

fn run_case(
    case: &Case,
    chainspec: &ChainspecConfig,
    chainspec_bytes: &[u8],
    lanes: &TransactionV1Config,
    wasm_dir: &Path,
    out: &Path,
) -> Result<()> {
    let mut builder = new_builder(chainspec)?;
    let mut position = ChainPosition {
        parent_hash: BlockHash::new(Digest::hash(format!(
            "casper-repro-test parent of {}",
            case.name
        ))),
        parent_seed: Digest::hash(format!("casper-repro-test seed of {}", case.name)),
        height: FIRST_HEIGHT,
    };
    let mut last = None;
    for index in 0..case.steps.len() {
        let step = step_transaction(case, index, wasm_dir)?;
        let block_timestamp = Timestamp::from(step_timestamp(index).millis() + BLOCK_DELAY_MILLIS);
        let executed = execute(
            &mut builder,
            chainspec,
            lanes,
            step.transaction,
            &position,
            block_timestamp,
            case.payment,
        )
        .with_context(|| format!("step {index} ({})", step.label))?;
        eprintln!(
            "  step {index} {}: {} consumed {} gas, post-state {}",
            step.label,
            executed.transaction.hash(),
            executed.result.consumed,
            executed.post_state
        );
        position = ChainPosition {
            parent_hash: *executed.block.hash(),
            parent_seed: *executed.block.header().accumulated_seed(),
            height: executed.block.height() + 1,
        };
        last = Some((executed, step.session_bytes));
    }
    let (executed, session_bytes) = last.ok_or_else(|| anyhow!("no steps"))?;
    let fixture = fixture(
        case,
        &builder,
        executed.transaction.clone(),
        executed.result.clone(),
        executed.post_state,
        session_bytes,
        wasm_dir,
    )?;
    let calls = install_calls(
        &fixture,
        &executed.block,
        Some(&executed.signatures),
        chainspec_bytes,
    )?;
    let dir = out.join(case.name);
    fallible::write_json(
        &dir.join("responses.json"),
        &responses_json(&fixture, calls)?,
    )?;
    fallible::write_json(
        &dir.join("engine.json"),
        &engine_json(case.name, case, &fixture, &executed.block),
    )?;
    Ok(())
}

/// One `query_global_state` answer: key, path, the value at its end, and bytesrepr of the
/// merkle proofs (one per hop), all checked against the post-state.
struct Query {
    key: Key,
    path: Vec<String>,
    value: StoredValue,
    proofs: Vec<u8>,
}

/// What a case's fixture transaction (its last step) did, read back from the engine's committed
/// state at `post_state`: everything a bundle says about it except the block that holds it.
struct Fixture {
    transaction: Transaction,
    result: ExecutionResultV2,
    post_state: Digest,
    /// The step's session file (None for a stored-contract call) and bytes.
    session_file: Option<&'static str>,
    session_bytes: Option<Vec<u8>>,
    written: Vec<Written>,
    /// The stored contract a `CallByName` step calls.
    caller: Option<Caller>,
    /// `query_global_state` answers, in the bundle's order.
    queries: Vec<Query>,
}

/// The [`Fixture`] of `case`'s last step, executed in `builder` as `transaction` with `result`
/// and `post_state`; checked against the case's oracle answer if it names one.
fn fixture(
    case: &Case,
    builder: &LmdbWasmTestBuilder,
    transaction: Transaction,
    result: ExecutionResultV2,
    post_state: Digest,
    session_bytes: Option<Vec<u8>>,
    wasm_dir: &Path,
) -> Result<Fixture> {
    let session_file = match case.steps.last() {
        Some(Step::Session(file, _)) => Some(*file),
        _ => None,
    };

    // The stored contract a `CallByName` fixture calls, resolved as casper-repro resolves it: the
    // deploy's account → its named key → the Contract (one merkle proof per hop), then its
    // ContractWasm.
    let caller = match case.steps.last() {
        Some(Step::CallByName { named_key, .. }) => {
            let Transaction::Deploy(deploy) = &transaction else {
                bail!("a stored-contract call is a Deploy");
            };
            Some(resolve_caller(
                builder,
                post_state,
                deploy.account().to_account_hash(),
                named_key,
            )?)
        }
        _ => None,
    };

    // Keys written by the fixture transaction as Contract / ContractWasm / ContractPackage, in the
    // order of the engine's effects, with each one's last write.
    let mut contract_order: Vec<[u8; 32]> = Vec::new();
    let mut write_order: Vec<[u8; 32]> = Vec::new();
    let mut last_writes: BTreeMap<[u8; 32], StoredValue> = BTreeMap::new();
    for transform in result.effects.transforms() {
        // Named keys a contract adds to itself (an Odra constructor's `put_key`s) are AddKeys on
        // the Contract: part of its last state.
        if let (Key::Hash(addr), TransformKindV2::AddKeys(keys)) =
            (transform.key(), transform.kind())
        {
            if let Some(StoredValue::Contract(contract)) = last_writes.get_mut(addr) {
                contract.named_keys_append(keys.clone());
            }
            continue;
        }
        let TransformKindV2::Write(value) = transform.kind() else {
            continue;
        };
        match (transform.key(), value) {
            (Key::Hash(addr), StoredValue::Contract(_)) => {
                if !contract_order.contains(addr) {
                    contract_order.push(*addr);
                }
                if !write_order.contains(addr) {
                    write_order.push(*addr);
                }
                last_writes.insert(*addr, value.clone());
            }
            (Key::Hash(addr), StoredValue::ContractWasm(_) | StoredValue::ContractPackage(_)) => {
                if !write_order.contains(addr) {
                    write_order.push(*addr);
                }
                last_writes.insert(*addr, value.clone());
            }
            (key, StoredValue::ByteCode(_) | StoredValue::AddressableEntity(_)) => {
                bail!("entity-mode record written under {key}")
            }
            _ => {}
        }
    }

    // Contracts installed by the transaction (their ContractWasm written too), each followed by
    // its ContractWasm and ContractPackage; a Contract rewritten without new Wasm (the called
    // factory's named keys) only as itself; then any other such key the effects write.
    let mut written = Vec::new();
    let mut query_keys: Vec<[u8; 32]> = Vec::new();
    for contract_hash in &contract_order {
        let Some(StoredValue::Contract(contract)) = last_writes.get(contract_hash) else {
            unreachable!()
        };
        let wasm_hash = contract.contract_wasm_hash().value();
        let package_hash = contract.contract_package_hash().value();
        let Some(StoredValue::ContractWasm(wasm)) = last_writes.get(&wasm_hash) else {
            ensure!(
                caller.as_ref().is_some_and(
                    |c| c.contract_hash == *contract_hash && c.contract_wasm_hash == wasm_hash
                ),
                "Contract {} references a ContractWasm not written by the transaction",
                hex::encode(contract_hash)
            );
            if !query_keys.contains(contract_hash) {
                query_keys.push(*contract_hash);
            }
            continue;
        };
        ensure!(
            matches!(
                last_writes.get(&package_hash),
                Some(StoredValue::ContractPackage(_))
            ),
            "Contract {} references a ContractPackage not written by the transaction",
            hex::encode(contract_hash)
        );
        // Read back from committed state by the engine: the stored bytes.
        let bytes = match builder.query(Some(post_state), Key::Hash(wasm_hash), &[]) {
            Ok(StoredValue::ContractWasm(w)) => w.take_bytes(),
            other => bail!(
                "querying ContractWasm {}: {other:?}",
                hex::encode(wasm_hash)
            ),
        };
        ensure!(
            bytes == wasm.clone().take_bytes(),
            "effects and state disagree on the Wasm"
        );
        written.push(Written {
            contract_hash: *contract_hash,
            contract_wasm_hash: wasm_hash,
            contract_package_hash: package_hash,
            entry_points: contract
                .entry_points()
                .keys()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            bytes,
        });
        for key in [*contract_hash, wasm_hash, package_hash] {
            if !query_keys.contains(&key) {
                query_keys.push(key);
            }
        }
    }
    ensure!(!written.is_empty(), "the transaction installed no Contract");
    for addr in &write_order {
        if !query_keys.contains(addr) {
            query_keys.push(*addr);
        }
    }

    let mut queries = Vec::new();
    for addr in &query_keys {
        let key = Key::Hash(*addr);
        let (value, proofs) = query_one_hop(builder, post_state, key)?;
        ensure!(
            last_writes.get(addr) == Some(&value),
            "global state under {key} differs from the transaction's last write"
        );
        queries.push(Query {
            key,
            path: Vec::new(),
            value,
            proofs,
        });
    }
    if let Some(caller) = &caller {
        queries.push(Query {
            key: caller.account_key,
            path: caller.path.clone(),
            value: caller.contract.clone(),
            proofs: caller.path_proofs.clone(),
        });
        queries.push(Query {
            key: Key::Hash(caller.contract_wasm_hash),
            path: Vec::new(),
            value: caller.wasm.clone(),
            proofs: caller.wasm_proofs.clone(),
        });
    }

    if let Some(scenario) = case.oracle_scenario {
        check_oracle(wasm_dir, scenario, &written, caller.as_ref())?;
    }
    Ok(Fixture {
        transaction,
        result,
        post_state,
        session_file,
        session_bytes,
        written,
        caller,
        queries,
    })
}

/// The stored bytes `written` (and the caller's) equal the Deploy-path oracle answer of
/// `scenario` (`<wasm-dir>/../oracle/ee-8.1.1/2.0.3/<scenario>.json`).
fn check_oracle(
    wasm_dir: &Path,
    scenario: &str,
    written: &[Written],
    caller: Option<&Caller>,
) -> Result<()> {
    let path = wasm_dir.join(format!("../oracle/ee-8.1.1/{PROTOCOL}/{scenario}.json"));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let oracle: Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("parsing {}: {e}", path.display()))?;
    let step = oracle["steps"]
        .as_array()
        .and_then(|steps| steps.last())
        .ok_or_else(|| anyhow!("{}: no steps", path.display()))?;
    let mut expected: Vec<&str> = step["contracts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["stored_sha256"].as_str())
        .collect();
    expected.sort();
    let mut got: Vec<String> = written
        .iter()
        .map(|c| fallible::sha256_hex(&c.bytes))
        .collect();
    got.sort();
    ensure!(
        got == expected,
        "stored sha256s {got:?} differ from the oracle's {expected:?} ({})",
        path.display()
    );
    let caller_sha = caller.map(|c| fallible::sha256_hex(&c.bytes));
    ensure!(
        caller_sha.as_deref() == step["caller_stored_sha256"].as_str(),
        "caller stored sha256 {caller_sha:?} differs from the oracle's ({})",
        path.display()
    );
    eprintln!("  stored bytes (and caller's) equal {}", path.display());
    Ok(())
}

/// `{"block_with_signatures": ...}` of a sidecar's `chain_get_block` answer.
fn block_with_signatures_json(block: &BlockV2, signatures: &BlockSignatures) -> Result<Value> {
    let block_json =
        JsonBlockWithSignatures::new(Block::V2(block.clone()), Some(signatures.clone()));
    to_json(&block_json)
}

/// A sidecar's `chain_get_block` call for `identifier` (`{"Hash": hex}` / `{"Height": n}`) and its
/// answer: `block` with `signatures`.
fn chain_get_block_call(
    identifier: Value,
    block: &BlockV2,
    signatures: &BlockSignatures,
) -> Result<Value> {
    Ok(json!({
        "method": "chain_get_block",
        "params": { "block_identifier": identifier },
        "result": {
            "api_version": API_VERSION,
            "block_with_signatures": block_with_signatures_json(block, signatures)?,
        },
    }))
}

/// The sidecar's answers about the fixture transaction as executed in `block`:
/// `info_get_transaction` (and `info_get_deploy` for a Deploy), `chain_get_block` by hash (when
/// `signatures` are given), `query_global_state` at `block` for every [`Query`], then
/// `info_get_chainspec`.
fn install_calls(
    fixture: &Fixture,
    block: &BlockV2,
    signatures: Option<&BlockSignatures>,
    chainspec_bytes: &[u8],
) -> Result<Vec<Value>> {
    let block_hash = *block.hash();
    let transaction_hash = fixture.transaction.hash();
    ensure!(
        fixture.post_state == *block.state_root_hash(),
        "block state root is not the post-state"
    );
    ensure!(
        block.all_transactions().any(|h| *h == transaction_hash),
        "block {block_hash} does not hold {transaction_hash}"
    );
    let execution_info = ExecutionInfo {
        block_hash,
        block_height: block.height(),
        execution_result: Some(ExecutionResult::V2(Box::new(fixture.result.clone()))),
    };
    let transaction_json = to_json(&fixture.transaction)?;
    // The serialised JSON must round-trip and verify.
    let back: Transaction = serde_json::from_value(transaction_json.clone())
        .map_err(|e| anyhow!("transaction JSON does not parse back: {e}"))?;
    ensure!(
        back == fixture.transaction,
        "transaction JSON round trip differs"
    );
    match &back {
        Transaction::Deploy(d) => d
            .is_valid()
            .map_err(|e| anyhow!("deploy from JSON invalid: {e}"))?,
        Transaction::V1(v) => v
            .verify()
            .map_err(|e| anyhow!("transaction from JSON invalid: {e}"))?,
    }
    ensure!(back.hash() == transaction_hash);

    let mut calls = vec![json!({
        "method": "info_get_transaction",
        "params": { "transaction_hash": to_json(&transaction_hash)?, "finalized_approvals": false },
        "result": {
            "api_version": API_VERSION,
            "transaction": transaction_json,
            "execution_info": to_json(&execution_info)?,
        },
    })];
    if let Transaction::Deploy(deploy) = &fixture.transaction {
        calls.push(json!({
            "method": "info_get_deploy",
            "params": { "deploy_hash": to_json(deploy.hash())?, "finalized_approvals": false },
            "result": {
                "api_version": API_VERSION,
                "deploy": to_json(deploy)?,
                "execution_info": to_json(&execution_info)?,
            },
        }));
    }
    let block_hash_hex = hex::encode(block_hash.inner().value());
    if let Some(signatures) = signatures {
        calls.push(chain_get_block_call(
            json!({ "Hash": block_hash_hex }),
            block,
            signatures,
        )?);
    }
    let header_json = to_json(&BlockHeader::V2(block.header().clone()))?;
    for query in &fixture.queries {
        calls.push(json!({
            "method": "query_global_state",
            "params": {
                "state_identifier": { "BlockHash": block_hash_hex },
                "key": query.key.to_formatted_string(),
                "path": query.path,
            },
            "result": {
                "api_version": API_VERSION,
                "block_header": header_json,
                "stored_value": to_json(&query.value)?,
                "merkle_proof": hex::encode(&query.proofs),
            },
        }));
    }
    calls.push(json!({
        "method": "info_get_chainspec",
        "params": [],
        "result": {
            "api_version": API_VERSION,
            "chainspec_bytes": to_json(&ChainspecRawBytes::new(
                Bytes::from(chainspec_bytes.to_vec()),
                None,
                None,
            ))?,
        },
    }));
    Ok(calls)
}

/// `responses.json`: the sidecar bundle of `calls` about the fixture transaction.
fn responses_json(fixture: &Fixture, calls: Vec<Value>) -> Result<Value> {
    Ok(json!({
        "format": 1,
        "api": "sidecar-2.x",
        "transaction_hash": to_json(&fixture.transaction.hash())?,
        "calls": calls,
    }))
}

/// `engine.json` of bundle `name`: what the engine did with `case`'s fixture transaction, executed
/// in `block`.
fn engine_json(name: &str, case: &Case, fixture: &Fixture, block: &BlockV2) -> Value {
    let mut engine = json!({
        "format": 1,
        "engine": { "execution_engine": EXECUTION_ENGINE, "engine_test_support": ENGINE_TEST_SUPPORT },
        "protocol": PROTOCOL,
        "case": name,
        "session": fixture.session_file,
        "session_sha256": fixture.session_bytes.as_deref().map(fallible::sha256_hex),
        "block_hash": hex::encode(block.hash().inner().value()),
        "state_root_hash": hex::encode(fixture.post_state.value()),
        "contracts": fixture.written.iter().map(|c| json!({
            "contract_hash": hex::encode(c.contract_hash),
            "contract_wasm_hash": hex::encode(c.contract_wasm_hash),
            "contract_package_hash": hex::encode(c.contract_package_hash),
            "entry_points": c.entry_points,
            "stored_sha256": fallible::sha256_hex(&c.bytes),
            "stored_len": c.bytes.len(),
        })).collect::<Vec<_>>(),
    });
    if let (
        Some(caller),
        Some(Step::CallByName {
            named_key,
            entry_point,
        }),
    ) = (&fixture.caller, case.steps.last())
    {
        let fields = engine.as_object_mut().expect("object");
        fields.insert("session_kind".into(), json!("stored-contract-by-name"));
        fields.insert("session_named_key".into(), json!(named_key));
        fields.insert("session_entry_point".into(), json!(entry_point));
        fields.insert(
            "caller".into(),
            json!({
                "contract_hash": hex::encode(caller.contract_hash),
                "contract_wasm_hash": hex::encode(caller.contract_wasm_hash),
                "stored_sha256": fallible::sha256_hex(&caller.bytes),
                "stored_len": caller.bytes.len(),
            }),
        );
    }
    engine
}

/// `query_with_proof` of one key (empty path) at `post_state`: the value and
/// hex-ready bytesrepr(`Vec<TrieMerkleProof>`), its single proof checked to be about that key and
/// value and to hash to `post_state`.
fn query_one_hop(
    builder: &LmdbWasmTestBuilder,
    post_state: Digest,
    key: Key,
) -> Result<(StoredValue, Vec<u8>)> {
    let (value, proofs): (StoredValue, Vec<TrieMerkleProof<Key, StoredValue>>) = builder
        .query_with_proof(Some(post_state), key, &[])
        .map_err(|e| anyhow!("query {key}: {e}"))?;
    ensure!(
        proofs.len() == 1,
        "one proof expected for {key}, got {}",
        proofs.len()
    );
    let proof = &proofs[0];
    ensure!(
        *proof.key() == key && *proof.value() == value,
        "proof for {key} is about another entry"
    );
    let root = compute_state_hash(proof).map_err(|e| anyhow!("proof hash of {key}: {e}"))?;
    ensure!(
        root == post_state,
        "merkle proof of {key} hashes to {root}, not the block's state root {post_state}"
    );
    let proof_bytes = proofs
        .to_bytes()
        .map_err(|e| anyhow!("bytesrepr of the proofs: {e}"))?;
    Ok((value, proof_bytes))
}

/// The stored contract a deploy calls by named key, with the proofs a sidecar returns.
struct Caller {
    account_key: Key,
    path: Vec<String>,
    contract_hash: [u8; 32],
    contract_wasm_hash: [u8; 32],
    /// `StoredValue::Contract` at the end of the path.
    contract: StoredValue,
    /// bytesrepr(`Vec<TrieMerkleProof>`): the account's proof, then the contract's.
    path_proofs: Vec<u8>,
    /// `StoredValue::ContractWasm` of the contract, and its one proof.
    wasm: StoredValue,
    wasm_proofs: Vec<u8>,
    bytes: Vec<u8>,
}

fn resolve_caller(
    builder: &LmdbWasmTestBuilder,
    post_state: Digest,
    account_hash: AccountHash,
    named_key: &str,
) -> Result<Caller> {
    let account_key = Key::Account(account_hash);
    let path = vec![named_key.to_string()];
    let (value, proofs): (StoredValue, Vec<TrieMerkleProof<Key, StoredValue>>) = builder
        .query_with_proof(Some(post_state), account_key, &path)
        .map_err(|e| anyhow!("query {account_key} / {named_key}: {e}"))?;
    ensure!(
        proofs.len() == 2,
        "two proofs (account, contract) expected for {account_key} / {named_key}, got {}",
        proofs.len()
    );
    for proof in &proofs {
        let root =
            compute_state_hash(proof).map_err(|e| anyhow!("proof hash of {}: {e}", proof.key()))?;
        ensure!(
            root == post_state,
            "merkle proof of {} hashes to {root}, not the block's state root {post_state}",
            proof.key()
        );
    }
    ensure!(
        *proofs[0].key() == account_key,
        "first proof is about {}, not {account_key}",
        proofs[0].key()
    );
    let StoredValue::Account(account) = proofs[0].value() else {
        bail!("{account_key} holds no Account");
    };
    let Some(Key::Hash(contract_hash)) = account.named_keys().get(named_key).copied() else {
        bail!("{account_key} has no named key {named_key:?} to a Key::Hash");
    };
    let last = &proofs[1];
    ensure!(
        *last.key() == Key::Hash(contract_hash) && *last.value() == value,
        "last proof is about {}, not the named key's {}",
        last.key(),
        Key::Hash(contract_hash)
    );
    let StoredValue::Contract(contract) = &value else {
        bail!("{named_key:?} leads to no Contract");
    };
    let contract_wasm_hash = contract.contract_wasm_hash().value();
    let (wasm, wasm_proofs) = query_one_hop(builder, post_state, Key::Hash(contract_wasm_hash))?;
    let StoredValue::ContractWasm(contract_wasm) = &wasm else {
        bail!("the caller's contract_wasm_hash holds no ContractWasm");
    };
    let bytes = contract_wasm.clone().take_bytes();
    Ok(Caller {
        account_key,
        path,
        contract_hash,
        contract_wasm_hash,
        contract: value.clone(),
        path_proofs: proofs
            .to_bytes()
            .map_err(|e| anyhow!("bytesrepr of the proofs: {e}"))?,
        wasm,
        wasm_proofs,
        bytes,
    })
}

/// The activation point every bundle's chainspec carries (see `main`).
const FIXED_ACTIVATION_POINT: &str = "activation_point = \"2024-05-13T16:00:00.000000000Z\"";

/// `text` with its one `activation_point = "…"` line (a timestamp written by the test-support
/// build script) replaced by [`FIXED_ACTIVATION_POINT`]; every other byte unchanged.
fn fixed_activation_point(text: &str) -> Result<String> {
    let mut replaced = 0;
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| {
            if line.starts_with("activation_point = \"") {
                replaced += 1;
                FIXED_ACTIVATION_POINT.to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect();
    ensure!(
        replaced == 1,
        "expected exactly one timestamp activation_point line in the bundled chainspec, found {replaced}"
    );
    Ok(lines.join("\n"))
}
