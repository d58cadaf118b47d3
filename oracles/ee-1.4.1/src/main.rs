//! Oracle: casper-execution-engine 1.4.1 with casper-engine-test-support 1.4.1 (pwasm-utils
//! 0.16.0 + parity-wasm 0.41.0), the engine of node 1.4.1 (mainnet 1.4.1): no validation, no table rewrite.
//! Contract of inputs and outputs: docs/oracle-harness.md.

use std::collections::BTreeMap;

use casper_engine_test_support::internal::{
    DeployItemBuilder, ExecuteRequestBuilder, InMemoryWasmTestBuilder, ARG_AMOUNT,
    DEFAULT_ACCOUNT_ADDR, DEFAULT_PAYMENT, DEFAULT_RUN_GENESIS_REQUEST,
};
use casper_execution_engine::{
    core::engine_state::{
        engine_config::{DEFAULT_MAX_ASSOCIATED_KEYS, DEFAULT_MAX_QUERY_DEPTH},
        execution_result::ExecutionResult,
        run_genesis_request::RunGenesisRequest, EngineConfig, ExecConfig,
    },
    shared::{transform::Transform, wasm_config::WasmConfig},
    storage::global_state::in_memory::InMemoryGlobalState,
};
use casper_types::{
    runtime_args, CLValue, Contract, ContractHash, Key, RuntimeArgs, StoredValue, U512,
};
use serde_json::{json, Value};

use harness::{die, sha256_hex, ArgValue, ChainspecSource, StoredContract};

const ENGINE_DIR: &str = "ee-1.4.1";

fn engine_json() -> Value {
    json!({ "execution_engine": "1.4.1", "engine_test_support": "1.4.1" })
}

/// The engine's Wasm configuration: test-support 1.4.1 bundles no chainspec, so `bundled` is the
/// engine's `WasmConfig::default()` (as in test-support's `DEFAULT_RUN_GENESIS_REQUEST`); with a
/// chainspec, its `[wasm]` table deserialized into the engine's `WasmConfig`.
fn wasm_config(cli: &harness::Cli) -> (ChainspecSource, WasmConfig) {
    let Some(path) = &cli.chainspec else {
        return (ChainspecSource::Bundled, *DEFAULT_RUN_GENESIS_REQUEST.ee_config().wasm_config());
    };
    let (source, bytes) = harness::read_chainspec(path);
    let table = harness::wasm_table(&bytes);
    let defaults = toml::Value::try_from(WasmConfig::default()).expect("engine defaults to toml");
    let (config, filled) = harness::parse_wasm_table::<WasmConfig>(table, &defaults)
        .unwrap_or_else(|e| die(format!("engine cannot parse [wasm] of {}: {e}", path.display())));
    if !filled.is_empty() {
        eprintln!(
            "note: {}: [wasm] lacks fields of this engine's WasmConfig; taken from the engine's defaults: {}",
            path.display(),
            filled.join(", ")
        );
    }
    (source, config)
}

fn runtime_args(args: &BTreeMap<String, ArgValue>) -> RuntimeArgs {
    let mut ra = RuntimeArgs::new();
    for (k, v) in args {
        let cl = match v {
            ArgValue::Str(s) => CLValue::from_t(s.clone()),
            ArgValue::List(l) => CLValue::from_t(l.clone()),
        }
        .unwrap_or_else(|e| die(format!("arg {k}: {e:?}")));
        ra.insert_cl_value(k.clone(), cl);
    }
    ra
}

fn payment() -> RuntimeArgs {
    // Ten times test-support's default payment: enough for any fixture.
    let amount: U512 = *DEFAULT_PAYMENT * 10;
    runtime_args! { ARG_AMOUNT => amount }
}

/// test-support 1.4.1 has no `last_exec_result()`: the first result of the last exec.
fn last_result(builder: &InMemoryWasmTestBuilder) -> &ExecutionResult {
    builder
        .get_exec_results()
        .last()
        .and_then(|r| r.first())
        .map(|r| r.as_ref())
        .unwrap_or_else(|| die("no execution result"))
}

fn query(builder: &InMemoryWasmTestBuilder, key: Key) -> Option<StoredValue> {
    builder.query(None, key, &[]).ok()
}

fn contract_at(builder: &InMemoryWasmTestBuilder, addr: [u8; 32]) -> Option<Contract> {
    match query(builder, Key::Hash(addr)) {
        Some(StoredValue::Contract(c)) => Some(c),
        _ => None,
    }
}

fn wasm_at(builder: &InMemoryWasmTestBuilder, addr: [u8; 32]) -> Option<Vec<u8>> {
    match query(builder, Key::Hash(addr)) {
        Some(StoredValue::ContractWasm(w)) => Some(w.take_bytes()),
        _ => None,
    }
}

/// Contracts under the account's named keys: name -> contract hash.
fn account_contracts(builder: &InMemoryWasmTestBuilder) -> BTreeMap<String, [u8; 32]> {
    let account = builder
        .get_account(*DEFAULT_ACCOUNT_ADDR)
        .unwrap_or_else(|| die("default account missing"));
    let mut m = BTreeMap::new();
    for (name, key) in account.named_keys() {
        if let Key::Hash(addr) = key {
            if contract_at(builder, *addr).is_some() {
                m.insert(name.clone(), *addr);
            }
        }
    }
    m
}

/// Every ContractWasm written by the last exec, with its Contract's entry points. Engine 1.4.1
/// keeps no ordered journal: the effects are test-support's `get_transforms()` map (which is also
/// the exec result's `effect().transforms`), so contracts are sorted by contract hash.
fn contracts_from_journal(builder: &InMemoryWasmTestBuilder) -> Vec<StoredContract> {
    let map = builder.get_transforms().last().cloned().unwrap_or_else(|| die("no transforms"));
    if last_result(builder).effect().transforms != map {
        die("get_transforms() and the exec result's effects disagree");
    }
    let mut wasms: BTreeMap<[u8; 32], Vec<u8>> = BTreeMap::new();
    let mut contracts: Vec<([u8; 32], Contract)> = Vec::new();
    for (key, transform) in map {
        if let (Key::Hash(addr), Transform::Write(value)) = (key, transform) {
            match value {
                StoredValue::ContractWasm(w) => {
                    wasms.insert(addr, w.take_bytes());
                }
                StoredValue::Contract(c) => contracts.push((addr, c)),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for (wasm_hash, bytes) in wasms {
        let referencing: Vec<&([u8; 32], Contract)> = contracts
            .iter()
            .filter(|(_, c)| c.contract_wasm_hash().value() == wasm_hash)
            .collect();
        let [(contract_hash, contract)] = referencing.as_slice() else {
            die(format!(
                "ContractWasm {} is referenced by {} Contract writes of the same step",
                hex::encode(wasm_hash),
                referencing.len()
            ))
        };
        out.push(StoredContract {
            contract_hash: *contract_hash,
            contract_wasm_hash: wasm_hash,
            entry_points: contract.entry_points().keys().cloned().collect(),
            bytes,
        });
    }
    out.sort_by(|a, b| a.contract_hash.cmp(&b.contract_hash));
    out
}

/// The effects must agree with global state after commit: Key::Hash(contract) -> Contract ->
/// contract_wasm_hash -> ContractWasm, and every contract newly under an account named key is one
/// the step wrote.
fn cross_check(
    builder: &InMemoryWasmTestBuilder,
    recorded: &[StoredContract],
    before: &BTreeMap<String, [u8; 32]>,
    where_: &str,
) {
    for c in recorded {
        let contract = contract_at(builder, c.contract_hash)
            .unwrap_or_else(|| die(format!("{where_}: contract {} not in state", hex::encode(c.contract_hash))));
        if contract.contract_wasm_hash().value() != c.contract_wasm_hash {
            die(format!("{where_}: state Contract points at another wasm than the effects"));
        }
        let bytes = wasm_at(builder, c.contract_wasm_hash)
            .unwrap_or_else(|| die(format!("{where_}: ContractWasm {} not in state", hex::encode(c.contract_wasm_hash))));
        if bytes != c.bytes {
            die(format!("{where_}: stored bytes in state differ from the exec effects"));
        }
        let mut a: Vec<String> = contract.entry_points().keys().cloned().collect();
        let mut b = c.entry_points.clone();
        a.sort();
        b.sort();
        if a != b {
            die(format!("{where_}: entry points in state differ from the exec effects"));
        }
    }
    for (name, addr) in account_contracts(builder) {
        if before.get(&name) == Some(&addr) {
            continue;
        }
        let contract = contract_at(builder, addr).expect("listed");
        let wasm_hash = contract.contract_wasm_hash().value();
        let bytes = wasm_at(builder, wasm_hash)
            .unwrap_or_else(|| die(format!("{where_}: named key {name}: ContractWasm missing")));
        match recorded.iter().find(|c| c.contract_hash == addr) {
            Some(c) if c.contract_wasm_hash == wasm_hash && c.bytes == bytes => {}
            _ => die(format!(
                "{where_}: named key {name} -> contract {} not among the ContractWasm writes of the step",
                hex::encode(addr)
            )),
        }
    }
}

fn run_scenario(
    cli: &harness::Cli,
    engine_config: &EngineConfig,
    genesis: &RunGenesisRequest,
    scenario: &harness::Scenario,
) -> (Value, Vec<Value>) {
    let global_state = InMemoryGlobalState::empty().expect("in-memory global state");
    let empty_root = global_state.empty_root_hash();
    let mut builder = InMemoryWasmTestBuilder::new(global_state, engine_config.clone(), empty_root);
    builder.run_genesis(genesis);
    // Read the Wasm configuration back from the engine that runs the steps.
    let effective = serde_json::to_value(builder.get_engine_state().config().wasm_config())
        .expect("wasm config to json");
    let mut steps = Vec::new();
    for (index, step) in scenario.steps.iter().enumerate() {
        let where_ = format!("{} step {index}", scenario.name);
        let before = account_contracts(&builder);
        let deploy = DeployItemBuilder::new()
            .with_address(*DEFAULT_ACCOUNT_ADDR)
            .with_authorization_keys(&[*DEFAULT_ACCOUNT_ADDR])
            .with_empty_payment_bytes(payment())
            .with_deploy_hash(harness::deploy_hash(&scenario.name, index));
        let mut record;
        let deploy = if let Some(file) = &step.session {
            let bytes = harness::read_session(&cli.wasm_dir, file);
            record = json!({
                "kind": "session",
                "wasm": file,
                "wasm_sha256": sha256_hex(&bytes),
                "args": harness::args_json(&step.args),
            });
            deploy.with_session_bytes(bytes, runtime_args(&step.args))
        } else {
            let call = step.call.as_ref().expect("validated");
            // No contract under the name (e.g. its install failed on this engine): the engine
            // itself reports the failure of the call; the caller fields are null.
            let (caller_hash, caller_sha) = match before.get(&call.named_key) {
                Some(addr) => {
                    let contract = contract_at(&builder, *addr).expect("listed");
                    let caller_bytes = wasm_at(&builder, contract.contract_wasm_hash().value())
                        .unwrap_or_else(|| die(format!("{where_}: caller ContractWasm missing")));
                    (json!(hex::encode(ContractHash::new(*addr).value())), json!(sha256_hex(&caller_bytes)))
                }
                None => (Value::Null, Value::Null),
            };
            record = json!({
                "kind": "call",
                "named_key": call.named_key,
                "entry_point": call.entry_point,
                "args": harness::args_json(&call.args),
                "caller_contract_hash": caller_hash,
                "caller_stored_sha256": caller_sha,
            });
            deploy.with_stored_session_named_key(&call.named_key, &call.entry_point, runtime_args(&call.args))
        };
        let request = ExecuteRequestBuilder::new().push_deploy(deploy.build()).build();
        builder.exec(request);
        let result = last_result(&builder);
        let error = result.as_error().map(|e| e.to_string());
        let success = result.is_success();
        if success != error.is_none() {
            die(format!("{where_}: inconsistent execution result"));
        }
        let contracts = contracts_from_journal(&builder);
        if !success && !contracts.is_empty() {
            die(format!("{where_}: failed step wrote ContractWasm"));
        }
        builder.commit();
        cross_check(&builder, &contracts, &before, &where_);
        for c in &contracts {
            harness::write_blob(&cli.out, &c.bytes);
        }
        let obj = record.as_object_mut().expect("object");
        obj.insert("success".into(), json!(success));
        obj.insert("error".into(), json!(error));
        obj.insert("contracts".into(), Value::Array(contracts.iter().map(StoredContract::json).collect()));
        eprintln!(
            "    {where_}: {} ({} contract(s))",
            error.as_deref().unwrap_or("ok"),
            contracts.len()
        );
        steps.push(record);
    }
    (effective, steps)
}

fn main() {
    let cli = harness::Cli::parse();
    let scenarios = harness::load_scenarios(&cli.scenarios);
    let (source, wasm_config) = wasm_config(&cli);

    let bundled = DEFAULT_RUN_GENESIS_REQUEST.clone();
    let ee = bundled.ee_config();
    let genesis = RunGenesisRequest::new(
        bundled.genesis_config_hash(),
        bundled.protocol_version(),
        ExecConfig::new(
            ee.accounts().to_vec(),
            wasm_config,
            *ee.system_config(),
            ee.validator_slots(),
            ee.auction_delay(),
            ee.locked_funds_period_millis(),
            ee.round_seigniorage_rate(),
            ee.unbonding_delay(),
            ee.genesis_timestamp_millis(),
        ),
    );
    let engine_config = EngineConfig::new(
        DEFAULT_MAX_QUERY_DEPTH,
        DEFAULT_MAX_ASSOCIATED_KEYS,
        wasm_config,
        *ee.system_config(),
    );

    for scenario in &scenarios {
        let (effective, steps) = run_scenario(&cli, &engine_config, &genesis, scenario);
        let doc = harness::answer_doc(
            engine_json(),
            &cli.protocol,
            &source,
            harness::wasm_config_subset(&effective),
            &scenario.name,
            steps,
        );
        harness::write_answer(&cli.out, ENGINE_DIR, &cli.protocol, &scenario.name, doc);
    }
    eprintln!("{ENGINE_DIR} {}: {} scenario(s)", cli.protocol, scenarios.len());
}
