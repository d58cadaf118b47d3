//! Engine half of the oracles for casper-execution-engine 8.0.0 and 8.1.1 (node 2.0.0 / 2.0.3,
//! through casper-engine-test-support 8.0.0 / 8.1.1, in-process, on a temporary LMDB global
//! state): the engine API both use is the same, so is this file. Used as `mod oracle` by
//! `oracles/ee-8.0.0` and `ee-8.1.1`, whose `src/main.rs` define `ENGINE_DIR`, `EXECUTION_ENGINE`
//! and `ENGINE_TEST_SUPPORT`. Runs every scenario of `testdata/scenarios.json` and writes the
//! engine's answers in the format of `docs/oracle-harness.md`.
//!
//! Engine-independent code is in the `harness` crate (`oracles/harness`, module `fallible`).

use std::{
    collections::{BTreeMap, BTreeSet},
    process::ExitCode,
};

use anyhow::{anyhow, bail, ensure, Context, Result};
use casper_engine_test_support::{
    ChainspecConfig, DeployItemBuilder, ExecuteRequestBuilder, LmdbWasmTestBuilder, ARG_AMOUNT,
    CHAINSPEC_SYMLINK, DEFAULT_ACCOUNT_ADDR, DEFAULT_ACCOUNT_INITIAL_BALANCE,
    DEFAULT_ACCOUNT_PUBLIC_KEY, DEFAULT_PAYMENT, DEFAULT_PROPOSER_PUBLIC_KEY,
};
use casper_execution_engine::engine_state::BlockInfo;
use casper_types::{
    execution::TransformKindV2, runtime_args, GenesisAccount, Key, Motes, ProtocolVersion,
    RuntimeArgs, StoredValue, WasmV1Config,
};
use serde_json::{json, Value};

use harness::fallible::{self, ArgValue, Cli, StepKind, StoredContract};

use crate::{ENGINE_DIR, ENGINE_TEST_SUPPORT, EXECUTION_ENGINE};

pub fn main() -> ExitCode {
    match Cli::parse(std::env::args().skip(1)).and_then(|cli| run_cli(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run_cli(cli: &Cli) -> Result<()> {
    let (major, minor, patch) = cli.protocol_parts()?;
    let protocol_version = ProtocolVersion::from_parts(major, minor, patch);
    let (chainspec, chainspec_json) = match &cli.chainspec {
        None => (
            ChainspecConfig::from_chainspec_path(&*CHAINSPEC_SYMLINK).map_err(|e| {
                anyhow!(
                    "loading the bundled chainspec {}: {e:?}",
                    CHAINSPEC_SYMLINK.display()
                )
            })?,
            json!({ "source": "bundled" }),
        ),
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let config = ChainspecConfig::from_chainspec_path(path)
                .map_err(|e| anyhow!("parsing chainspec {}: {e:?}", path.display()))?;
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            (
                config,
                json!({ "source": "file", "name": name, "sha256": fallible::sha256_hex(&bytes) }),
            )
        }
    };
    if chainspec.core_config.enable_addressable_entity {
        bail!("the chainspec enables addressable entities; this oracle reads legacy Contract/ContractWasm records only");
    }

    let scenarios = fallible::load_scenarios(&cli.scenarios)?;
    let answers_dir = cli.out.join(ENGINE_DIR).join(&cli.protocol);
    let mut reported_config = false;
    for scenario in &scenarios {
        let started = std::time::Instant::now();
        let mut builder = new_builder(&chainspec, protocol_version);
        let effective = *builder.get_engine_state().config().wasm_config().v1();
        let wasm_config = wasm_config_json(&effective);
        if !reported_config {
            eprintln!(
                "effective [wasm.v1] equals casper-types WasmV1Config::default(): {}",
                effective == WasmV1Config::default()
            );
            reported_config = true;
        }

        let mut steps = Vec::new();
        for (index, step) in scenario.steps.iter().enumerate() {
            let json = run_step(
                &mut builder,
                cli,
                &scenario.name,
                index,
                step,
                protocol_version,
            )
            .with_context(|| format!("scenario {:?} step {index}", scenario.name))?;
            steps.push(json);
        }
        let doc = json!({
            "oracle_format": fallible::ORACLE_FORMAT,
            "engine": { "execution_engine": EXECUTION_ENGINE, "engine_test_support": ENGINE_TEST_SUPPORT },
            "protocol": cli.protocol,
            "chainspec": chainspec_json,
            "wasm_config": wasm_config,
            "scenario": scenario.name,
            "steps": steps,
        });
        fallible::write_json(&answers_dir.join(format!("{}.json", scenario.name)), &doc)?;
        eprintln!(
            "{ENGINE_DIR} {} {}: {} step(s) in {:?}",
            cli.protocol,
            scenario.name,
            scenario.steps.len(),
            started.elapsed()
        );
    }
    fallible::remove_stale(
        &answers_dir,
        &scenarios.iter().map(|s| s.name.clone()).collect(),
    )?;
    Ok(())
}

/// Fresh temporary LMDB global state, genesis with the default test account (and the default
/// proposer), every part of the engine at `protocol_version`.
fn new_builder(
    chainspec: &ChainspecConfig,
    protocol_version: ProtocolVersion,
) -> LmdbWasmTestBuilder {
    let mut builder = LmdbWasmTestBuilder::new_temporary_with_config(chainspec.clone());
    let mut engine_config = chainspec.engine_config();
    engine_config.set_protocol_version(protocol_version);
    builder.with_engine_config(engine_config);
    // Not DEFAULT_ACCOUNTS: that list adds ten accounts with random keys.
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
        .create_genesis_request(accounts, protocol_version)
        .expect("genesis request from a parsed chainspec");
    builder.run_genesis(genesis);
    builder
}

/// `[wasm.v1]` of the engine's effective configuration with the chainspec's key names.
fn wasm_config_json(v1: &WasmV1Config) -> Value {
    json!({
        "max_memory": v1.max_memory(),
        "max_stack_height": v1.max_stack_height(),
        // OpcodeCosts serializes with the chainspec names (`const`, `loop`, `br_table` table, ...).
        "opcode_costs": serde_json::to_value(v1.opcode_costs()).expect("opcode costs serialize"),
    })
}

fn runtime_args(typed: &[(String, ArgValue)]) -> Result<RuntimeArgs> {
    let mut args = RuntimeArgs::new();
    for (name, value) in typed {
        match value {
            ArgValue::String(s) => args.insert(name.as_str(), s.clone()),
            ArgValue::StringList(l) => args.insert(name.as_str(), l.clone()),
        }
        .map_err(|e| anyhow!("argument {name:?}: {e}"))?;
    }
    Ok(args)
}

fn run_step(
    builder: &mut LmdbWasmTestBuilder,
    cli: &Cli,
    scenario: &str,
    index: usize,
    step: &fallible::Step,
    protocol_version: ProtocolVersion,
) -> Result<Value> {
    let (kind, args_json, typed) = step.resolve(&cli.wasm_dir)?;
    let args = runtime_args(&typed)?;
    let account = *DEFAULT_ACCOUNT_ADDR;
    let deploy = DeployItemBuilder::new()
        .with_address(account)
        .with_standard_payment(runtime_args! { ARG_AMOUNT => *DEFAULT_PAYMENT })
        .with_authorization_keys(&[account])
        .with_deploy_hash(fallible::deploy_hash(scenario, index));
    let mut step_json = BTreeMap::<String, Value>::new();
    step_json.insert(
        "args".into(),
        Value::Object(args_json.into_iter().collect()),
    );
    let deploy = match &kind {
        StepKind::Session { file, bytes } => {
            step_json.insert("kind".into(), json!("session"));
            step_json.insert("wasm".into(), json!(file));
            step_json.insert("wasm_sha256".into(), json!(fallible::sha256_hex(bytes)));
            deploy.with_session_bytes(bytes.clone(), args)
        }
        StepKind::Call {
            named_key,
            entry_point,
        } => {
            step_json.insert("kind".into(), json!("call"));
            step_json.insert("named_key".into(), json!(named_key));
            step_json.insert("entry_point".into(), json!(entry_point));
            let caller = read_named_contract(builder, named_key)?;
            step_json.insert(
                "caller_contract_hash".into(),
                json!(caller.as_ref().map(|c| hex::encode(c.contract_hash))),
            );
            step_json.insert(
                "caller_stored_sha256".into(),
                json!(caller.as_ref().map(|c| fallible::sha256_hex(&c.bytes))),
            );
            deploy.with_stored_session_named_key(named_key, entry_point, args)
        }
    }
    .build();

    let mut request = ExecuteRequestBuilder::from_deploy_item(&deploy).build();
    ensure!(
        request.custom_payment.is_none(),
        "standard payment expected"
    );
    let b = request.session.block_info;
    request.session.block_info = BlockInfo::new(
        b.state_hash,
        b.block_time,
        b.parent_block_hash,
        b.block_height,
        protocol_version,
    );

    builder.exec(request);
    let result = builder.get_last_exec_result().expect("exec result");
    let written = contracts_from_effects(result.effects())?;
    match result.error() {
        Some(error) => {
            // A failed execution stores nothing: its effects are not committed.
            if !written.is_empty() {
                eprintln!("note: failed step {index} of {scenario} produced {} ContractWasm write(s) in its (discarded) effects", written.len());
            }
            step_json.insert("success".into(), json!(false));
            step_json.insert("error".into(), json!(error.to_string()));
            step_json.insert("contracts".into(), json!([]));
        }
        None => {
            builder.commit();
            cross_check_state(builder, &written)?;
            for c in &written {
                fallible::write_blob(&cli.out, &c.bytes)?;
            }
            step_json.insert("success".into(), json!(true));
            step_json.insert("error".into(), Value::Null);
            step_json.insert(
                "contracts".into(),
                Value::Array(written.iter().map(StoredContract::to_json).collect()),
            );
        }
    }
    Ok(Value::Object(step_json.into_iter().collect()))
}

/// Every `ContractWasm` written by the effects, in effect order, with the entry points of the
/// `Contract` written in the same effects that references it.
fn contracts_from_effects(
    effects: &casper_types::execution::Effects,
) -> Result<Vec<StoredContract>> {
    let mut wasms: Vec<([u8; 32], Vec<u8>)> = Vec::new();
    let mut contracts: BTreeMap<[u8; 32], casper_types::contracts::Contract> = BTreeMap::new();
    for transform in effects.transforms() {
        let TransformKindV2::Write(value) = transform.kind() else {
            continue;
        };
        match (transform.key(), value) {
            (Key::Hash(addr), StoredValue::ContractWasm(wasm)) => {
                let bytes = wasm.clone().take_bytes();
                match wasms.iter().find(|(a, _)| a == addr) {
                    Some((_, earlier)) if *earlier == bytes => {}
                    Some(_) => bail!(
                        "ContractWasm {} written twice with different bytes",
                        hex::encode(addr)
                    ),
                    None => wasms.push((*addr, bytes)),
                }
            }
            (Key::Hash(addr), StoredValue::Contract(contract)) => {
                // A later write (e.g. named keys added) supersedes an earlier one.
                contracts.insert(*addr, contract.clone());
            }
            (key, StoredValue::ContractWasm(_) | StoredValue::Contract(_)) => {
                bail!("ContractWasm/Contract written under unexpected key {key}")
            }
            (key, StoredValue::ByteCode(_)) => {
                bail!("ByteCode written under {key}: addressable-entity mode is not supported")
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (wasm_hash, bytes) in wasms {
        let referencing: Vec<_> = contracts
            .iter()
            .filter(|(_, c)| c.contract_wasm_hash().value() == wasm_hash)
            .collect();
        let [(contract_hash, contract)] = referencing.as_slice() else {
            bail!(
                "ContractWasm {} is referenced by {} Contract record(s) in the same effects, expected 1",
                hex::encode(wasm_hash),
                referencing.len()
            );
        };
        out.push(StoredContract {
            contract_hash: **contract_hash,
            contract_wasm_hash: wasm_hash,
            entry_points: contract.entry_points().keys().cloned().collect(),
            bytes,
        });
    }
    Ok(out)
}

/// Reads a stored contract from global state: `Key::Hash(contract)` → `Contract` →
/// `contract_wasm_hash` → `ContractWasm`.
fn read_contract(builder: &LmdbWasmTestBuilder, contract_hash: [u8; 32]) -> Result<StoredContract> {
    let contract = match builder.query(None, Key::Hash(contract_hash), &[]) {
        Ok(StoredValue::Contract(c)) => c,
        Ok(other) => bail!(
            "Key::Hash({}) holds a {}, not a Contract",
            hex::encode(contract_hash),
            other.type_name()
        ),
        Err(e) => bail!("querying Key::Hash({}): {e}", hex::encode(contract_hash)),
    };
    let wasm_hash = contract.contract_wasm_hash().value();
    let bytes = match builder.query(None, Key::Hash(wasm_hash), &[]) {
        Ok(StoredValue::ContractWasm(w)) => w.take_bytes(),
        Ok(other) => bail!(
            "Key::Hash({}) holds a {}, not a ContractWasm",
            hex::encode(wasm_hash),
            other.type_name()
        ),
        Err(e) => bail!("querying Key::Hash({}): {e}", hex::encode(wasm_hash)),
    };
    Ok(StoredContract {
        contract_hash,
        contract_wasm_hash: wasm_hash,
        entry_points: contract.entry_points().keys().cloned().collect(),
        bytes,
    })
}

/// The contract under the default account's named key `name`, if that key holds a
/// `Key::Hash` of a `Contract`.
fn read_named_contract(
    builder: &LmdbWasmTestBuilder,
    name: &str,
) -> Result<Option<StoredContract>> {
    let account = builder
        .get_account(*DEFAULT_ACCOUNT_ADDR)
        .ok_or_else(|| anyhow!("default account missing"))?;
    match account.named_keys().get(name) {
        Some(Key::Hash(addr)) => match builder.query(None, Key::Hash(*addr), &[]) {
            Ok(StoredValue::Contract(_)) => Ok(Some(read_contract(builder, *addr)?)),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// Fails unless every contract taken from the effects reads back identically from committed
/// state, and every account named key that leads to one of them leads to the same bytes.
fn cross_check_state(builder: &LmdbWasmTestBuilder, written: &[StoredContract]) -> Result<()> {
    let by_hash: BTreeMap<[u8; 32], &StoredContract> =
        written.iter().map(|c| (c.contract_hash, c)).collect();
    for c in written {
        let from_state = read_contract(builder, c.contract_hash)?;
        ensure!(
            from_state == *c,
            "effects and state disagree on contract {}: effects wasm {} ({} bytes, {:?}), state wasm {} ({} bytes, {:?})",
            hex::encode(c.contract_hash),
            hex::encode(c.contract_wasm_hash),
            c.bytes.len(),
            c.entry_points,
            hex::encode(from_state.contract_wasm_hash),
            from_state.bytes.len(),
            from_state.entry_points
        );
    }
    let account = builder
        .get_account(*DEFAULT_ACCOUNT_ADDR)
        .ok_or_else(|| anyhow!("default account missing"))?;
    let mut via_named_key = BTreeSet::new();
    for (name, key) in account.named_keys().iter() {
        let Key::Hash(addr) = key else { continue };
        let Some(expected) = by_hash.get(addr) else {
            continue;
        };
        let from_state = read_named_contract(builder, name)?
            .ok_or_else(|| anyhow!("named key {name:?} does not lead to a Contract"))?;
        ensure!(
            from_state == **expected,
            "named key {name:?} leads to different stored bytes than the effects"
        );
        via_named_key.insert(*addr);
    }
    eprintln!(
        "  cross-check: {} contract(s) from effects = state ({} also via an account named key)",
        written.len(),
        via_named_key.len()
    );
    Ok(())
}
