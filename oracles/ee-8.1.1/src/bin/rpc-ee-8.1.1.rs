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
//! answers with the merkle proofs of the engine's own global state. Writes
//! `<out>/<case>/responses.json` (the sidecar bundle) and `<out>/<case>/engine.json`.
//! Everything is fixed (keys, timestamps, ed25519 signatures are deterministic): two runs give
//! byte-identical files.

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
    bytesrepr::{Bytes, ToBytes},
    calculate_lane_id_for_deploy, calculate_transaction_lane,
    execution::{ExecutionResult, ExecutionResultV2, TransformKindV2},
    global_state::TrieMerkleProof,
    runtime_args, Block, BlockHash, BlockHeader, BlockSignatures, BlockSignaturesV2, BlockTime,
    BlockV2, ChainNameDigest, Deploy, Digest, EraId, ExecutableDeployItem, ExecutionInfo,
    FinalitySignatureV2, Gas, GenesisAccount, InitiatorAddr, JsonBlockWithSignatures, Key, Motes,
    Phase, PricingHandling, PricingMode, ProtocolVersion, PublicKey, RefundHandling,
    RewardedSignatures, RuntimeArgs, SecretKey, StoredValue, TimeDiff, Timestamp, Transaction,
    TransactionArgs, TransactionEntryPoint, TransactionLaneDefinition, TransactionRuntimeParams,
    TransactionScheduling, TransactionTarget, TransactionV1, TransactionV1Config,
    TransactionV1Hash, TransactionV1Payload, U512,
};
use serde::Serialize;
use serde_json::{json, Value};

use harness::fallible;

const EXECUTION_ENGINE: &str = "8.1.1";
const ENGINE_TEST_SUPPORT: &str = "8.1.1";
const PROTOCOL: &str = "2.0.3";
const CHAIN_NAME: &str = "casper-repro-test";
/// What a 2.0.x sidecar reports as `api_version`.
const API_VERSION: &str = "2.0.0";
/// Standard payment of every transaction (motes; gas price 1 → also the gas limit).
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

struct Case {
    name: &'static str,
    /// Session files executed in order, each as its own transaction in its own block; the
    /// fixture is for the last one.
    steps: &'static [(&'static str, Kind)],
}

const CASES: [Case; 3] = [
    Case {
        name: "sidecar-2.0.3-deploy-multi_ep",
        steps: &[("multi_ep_cc5.wasm", Kind::Deploy)],
    },
    Case {
        name: "sidecar-2.0.3-v1-two_contracts",
        steps: &[("two_contracts_cc5.wasm", Kind::V1)],
    },
    Case {
        name: "sidecar-2.0.3-deploy-upgrade",
        steps: &[
            ("upgrade_install_cc5.wasm", Kind::Deploy),
            ("upgrade_v2_cc5.wasm", Kind::Deploy),
        ],
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

    let chainspec_text = std::fs::read_to_string(&*CHAINSPEC_SYMLINK)
        .with_context(|| format!("reading {}", CHAINSPEC_SYMLINK.display()))?;
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
        run_case(case, &chainspec, &lanes, &wasm_dir, &out)
            .with_context(|| format!("case {}", case.name))?;
        eprintln!("{}: done in {:?}", case.name, started.elapsed());
    }
    Ok(())
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
fn new_builder(chainspec: &ChainspecConfig) -> LmdbWasmTestBuilder {
    let mut builder = LmdbWasmTestBuilder::new_temporary_with_config(chainspec.clone());
    let mut engine_config = chainspec.engine_config();
    engine_config.set_protocol_version(protocol_version());
    builder.with_engine_config(engine_config);
    let accounts = vec![
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
    ];
    let genesis = chainspec
        .create_genesis_request(accounts, protocol_version())
        .expect("genesis request from a parsed chainspec");
    builder.run_genesis(genesis);
    builder
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

fn build_transaction(kind: Kind, session: &[u8], timestamp: Timestamp) -> Result<Transaction> {
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
                args: runtime_args! { ARG_AMOUNT => U512::from(PAYMENT_AMOUNT) },
            };
            let session = ExecutableDeployItem::ModuleBytes {
                module_bytes: Bytes::from(session.to_vec()),
                args: RuntimeArgs::new(),
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
            // The fields map of TransactionV1 (casper-types 6.0.1 `FieldsContainer::to_map`, which is
            // crate-private): 0 args, 1 target, 2 entry point, 3 scheduling, each in bytesrepr.
            let mut fields: BTreeMap<u16, Bytes> = BTreeMap::new();
            let bytes = |v: &dyn Fn() -> Result<Vec<u8>, casper_types::bytesrepr::Error>| {
                v().map(Bytes::from)
                    .map_err(|e| anyhow!("bytesrepr of a TransactionV1 field: {e}"))
            };
            fields.insert(
                0,
                bytes(&|| TransactionArgs::Named(RuntimeArgs::new()).to_bytes())?,
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
                    payment_amount: PAYMENT_AMOUNT,
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
/// args, initiator and signers), commits, and makes the block that holds it.
fn execute(
    builder: &mut LmdbWasmTestBuilder,
    chainspec: &ChainspecConfig,
    lanes: &TransactionV1Config,
    transaction: Transaction,
    position: &ChainPosition,
    block_timestamp: Timestamp,
) -> Result<Executed> {
    let proposer_key = proposer_secret_key()?;
    let (lane, initiator, signers) = match &transaction {
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

    let parent = position.parent_hash;
    let height = position.height;
    let gas_limit = Gas::new(PAYMENT_AMOUNT);
    let request_builder = match &transaction {
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

    let mut transactions = BTreeMap::new();
    transactions.insert(lane, vec![transaction.hash()]);
    let era = EraId::new(ERA);
    let block = BlockV2::new(
        parent,
        position.parent_seed,
        post_state,
        false,
        None,
        block_timestamp,
        era,
        height,
        protocol_version(),
        DEFAULT_PROPOSER_PUBLIC_KEY.clone(),
        transactions,
        RewardedSignatures::default(),
        GAS_PRICE,
        Some(BlockHash::new(Digest::hash(
            b"casper-repro-test switch block",
        ))),
    );
    let chain_name_hash = ChainNameDigest::from_chain_name(CHAIN_NAME);
    let signature =
        FinalitySignatureV2::create(*block.hash(), height, era, chain_name_hash, &proposer_key);
    let mut signatures = BlockSignaturesV2::new(*block.hash(), height, era, chain_name_hash);
    signatures.insert_signature(DEFAULT_PROPOSER_PUBLIC_KEY.clone(), *signature.signature());
    let signatures = BlockSignatures::V2(signatures);
    signatures
        .is_verified()
        .map_err(|e| anyhow!("block signatures: {e}"))?;

    // Cost and refund as node 2.0.3 reports them for a payment-limited transaction: the gas limit
    // is the payment amount, the cost is limit × price, and the refund follows the chainspec's
    // refund handling (the engine's test support runs neither payment nor refund; the effects
    // below are the session's only).
    let cost = U512::from(PAYMENT_AMOUNT) * U512::from(GAS_PRICE);
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
    Ok(Executed {
        transaction,
        block,
        signatures,
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

fn run_case(
    case: &Case,
    chainspec: &ChainspecConfig,
    lanes: &TransactionV1Config,
    wasm_dir: &Path,
    out: &Path,
) -> Result<()> {
    let mut builder = new_builder(chainspec);
    let mut position = ChainPosition {
        parent_hash: BlockHash::new(Digest::hash(format!(
            "casper-repro-test parent of {}",
            case.name
        ))),
        parent_seed: Digest::hash(format!("casper-repro-test seed of {}", case.name)),
        height: FIRST_HEIGHT,
    };
    let mut last = None;
    let mut session_file = "";
    let mut session_bytes = Vec::new();
    for (index, (file, kind)) in case.steps.iter().enumerate() {
        let path = wasm_dir.join(file);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let timestamp = Timestamp::from(BASE_TIMESTAMP_MILLIS + index as u64 * 60_000);
        let block_timestamp = Timestamp::from(timestamp.millis() + BLOCK_DELAY_MILLIS);
        let transaction = build_transaction(*kind, &bytes, timestamp)?;
        let executed = execute(
            &mut builder,
            chainspec,
            lanes,
            transaction,
            &position,
            block_timestamp,
        )
        .with_context(|| format!("step {index} ({file})"))?;
        eprintln!(
            "  step {index} {file}: {} consumed {} gas, post-state {}",
            executed.transaction.hash(),
            executed.result.consumed,
            executed.post_state
        );
        position = ChainPosition {
            parent_hash: *executed.block.hash(),
            parent_seed: *executed.block.header().accumulated_seed(),
            height: executed.block.height() + 1,
        };
        session_file = file;
        session_bytes = bytes;
        last = Some(executed);
    }
    let executed = last.ok_or_else(|| anyhow!("no steps"))?;
    let block_hash = *executed.block.hash();
    let post_state = executed.post_state;

    // Keys written by the fixture transaction: every Contract (then its ContractWasm and
    // ContractPackage) in the order of the engine's effects.
    let mut contract_order: Vec<[u8; 32]> = Vec::new();
    let mut last_writes: BTreeMap<[u8; 32], StoredValue> = BTreeMap::new();
    for transform in executed.result.effects.transforms() {
        let TransformKindV2::Write(value) = transform.kind() else {
            continue;
        };
        match (transform.key(), value) {
            (Key::Hash(addr), StoredValue::Contract(_)) => {
                if !contract_order.contains(addr) {
                    contract_order.push(*addr);
                }
                last_writes.insert(*addr, value.clone());
            }
            (Key::Hash(addr), StoredValue::ContractWasm(_) | StoredValue::ContractPackage(_)) => {
                last_writes.insert(*addr, value.clone());
            }
            (key, StoredValue::ByteCode(_) | StoredValue::AddressableEntity(_)) => {
                bail!("entity-mode record written under {key}")
            }
            _ => {}
        }
    }
    ensure!(
        !contract_order.is_empty(),
        "the transaction wrote no Contract"
    );

    let mut written = Vec::new();
    let mut query_keys: Vec<[u8; 32]> = Vec::new();
    for contract_hash in &contract_order {
        let Some(StoredValue::Contract(contract)) = last_writes.get(contract_hash) else {
            unreachable!()
        };
        let wasm_hash = contract.contract_wasm_hash().value();
        let package_hash = contract.contract_package_hash().value();
        let Some(StoredValue::ContractWasm(wasm)) = last_writes.get(&wasm_hash) else {
            bail!(
                "Contract {} references a ContractWasm not written by the transaction",
                hex::encode(contract_hash)
            );
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

    // The sidecar answers.
    let transaction_hash = executed.transaction.hash();
    let execution_info = ExecutionInfo {
        block_hash,
        block_height: executed.block.height(),
        execution_result: Some(ExecutionResult::V2(Box::new(executed.result.clone()))),
    };
    let transaction_json = to_json(&executed.transaction)?;
    // The serialised JSON must round-trip and verify.
    let back: Transaction = serde_json::from_value(transaction_json.clone())
        .map_err(|e| anyhow!("transaction JSON does not parse back: {e}"))?;
    ensure!(
        back == executed.transaction,
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
    if let Transaction::Deploy(deploy) = &executed.transaction {
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
    let block = Block::V2(executed.block.clone());
    let block_json = JsonBlockWithSignatures::new(block, Some(executed.signatures.clone()));
    let block_hash_hex = hex::encode(block_hash.inner().value());
    calls.push(json!({
        "method": "chain_get_block",
        "params": { "block_identifier": { "Hash": block_hash_hex } },
        "result": { "api_version": API_VERSION, "block_with_signatures": to_json(&block_json)? },
    }));
    let header = BlockHeader::V2(executed.block.header().clone());
    for addr in &query_keys {
        let key = Key::Hash(*addr);
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
            root == post_state && root == *executed.block.state_root_hash(),
            "merkle proof of {key} hashes to {root}, not the block's state root {post_state}"
        );
        ensure!(
            last_writes.get(addr) == Some(&value),
            "global state under {key} differs from the transaction's last write"
        );
        let proof_bytes = proofs
            .to_bytes()
            .map_err(|e| anyhow!("bytesrepr of the proofs: {e}"))?;
        calls.push(json!({
            "method": "query_global_state",
            "params": {
                "state_identifier": { "BlockHash": block_hash_hex },
                "key": key.to_formatted_string(),
                "path": [],
            },
            "result": {
                "api_version": API_VERSION,
                "block_header": to_json(&header)?,
                "stored_value": to_json(&value)?,
                "merkle_proof": hex::encode(proof_bytes),
            },
        }));
    }

    let responses = json!({
        "format": 1,
        "api": "sidecar-2.x",
        "transaction_hash": to_json(&transaction_hash)?,
        "calls": calls,
    });
    let engine = json!({
        "format": 1,
        "engine": { "execution_engine": EXECUTION_ENGINE, "engine_test_support": ENGINE_TEST_SUPPORT },
        "protocol": PROTOCOL,
        "case": case.name,
        "session": session_file,
        "session_sha256": fallible::sha256_hex(&session_bytes),
        "block_hash": block_hash_hex,
        "state_root_hash": hex::encode(post_state.value()),
        "contracts": written.iter().map(|c| json!({
            "contract_hash": hex::encode(c.contract_hash),
            "contract_wasm_hash": hex::encode(c.contract_wasm_hash),
            "contract_package_hash": hex::encode(c.contract_package_hash),
            "entry_points": c.entry_points,
            "stored_sha256": fallible::sha256_hex(&c.bytes),
            "stored_len": c.bytes.len(),
        })).collect::<Vec<_>>(),
    });
    let dir = out.join(case.name);
    fallible::write_json(&dir.join("responses.json"), &responses)?;
    fallible::write_json(&dir.join("engine.json"), &engine)?;
    Ok(())
}
