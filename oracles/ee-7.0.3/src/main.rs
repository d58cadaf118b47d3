//! `oracle-ee-7.0.3`: the Casper node 1.5.8 execution engine (crates.io
//! `casper-execution-engine` / `casper-engine-test-support` 7.0.3) run in-process on every
//! scenario of `testdata/scenarios.json`, writing the engine's answers in the format of
//! `docs/oracle-harness.md`.
//!
//! ```text
//! oracle-ee-7.0.3 --scenarios FILE --wasm-dir DIR --out DIR --protocol V [--chainspec FILE]
//! ```

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::ExitCode,
};

use casper_engine_test_support::{
    ChainspecConfig, DeployItemBuilder, ExecuteRequestBuilder, InMemoryWasmTestBuilder, ARG_AMOUNT,
    DEFAULT_ACCOUNT_ADDR, DEFAULT_CHAINSPEC_REGISTRY, DEFAULT_GENESIS_CONFIG_HASH,
    DEFAULT_PROTOCOL_VERSION, PRODUCTION_CHAINSPEC_PATH, PRODUCTION_RUN_GENESIS_REQUEST,
};
use casper_execution_engine::{
    core::engine_state::{ExecConfig, RunGenesisRequest},
    shared::transform::Transform,
};
use casper_types::{
    CLValue, ContractHash, ContractWasmHash, Key, RuntimeArgs, StoredValue,
    U512,
};
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};

const ENGINE: &str = "ee-7.0.3";
const EXECUTION_ENGINE_VERSION: &str = "7.0.3";
const ENGINE_TEST_SUPPORT_VERSION: &str = "7.0.3";

/// Standard payment for every step: 1e15 motes at gas price 1, i.e. 1e15 gas (the default test
/// account holds 1e17 motes). Far above what any fixture needs; running out is a real result.
const PAYMENT_MOTES: u64 = 1_000_000_000_000_000;

type Res<T> = Result<T, String>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oracle-{ENGINE}: error: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Cli {
    scenarios: PathBuf,
    wasm_dir: PathBuf,
    out: PathBuf,
    protocol: String,
    chainspec: Option<PathBuf>,
}

const USAGE: &str =
    "usage: oracle-ee-7.0.3 --scenarios FILE --wasm-dir DIR --out DIR --protocol V [--chainspec FILE]";

fn parse_cli() -> Res<Cli> {
    let mut args = std::env::args().skip(1);
    let (mut scenarios, mut wasm_dir, mut out, mut protocol, mut chainspec) =
        (None, None, None, None, None);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--scenarios" => scenarios = Some(PathBuf::from(value)),
            "--wasm-dir" => wasm_dir = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            "--protocol" => protocol = Some(value),
            "--chainspec" => chainspec = Some(PathBuf::from(value)),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    fn need<T>(v: Option<T>, name: &str) -> Res<T> {
        v.ok_or_else(|| format!("missing {name}\n{USAGE}"))
    }
    let protocol: String = need(protocol, "--protocol")?;
    if protocol.is_empty() || protocol.contains(['/', '\\']) || protocol.starts_with('.') {
        return Err(format!("bad --protocol {protocol:?}"));
    }
    Ok(Cli {
        scenarios: need(scenarios, "--scenarios")?,
        wasm_dir: need(wasm_dir, "--wasm-dir")?,
        out: need(out, "--out")?,
        protocol,
        chainspec,
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn read(path: &Path) -> Res<Vec<u8>> {
    fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Res<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Content-addressed blob store `<out>/blobs/<sha256>.wasm`. An existing blob must hold exactly
/// the same bytes.
fn put_blob(out: &Path, bytes: &[u8]) -> Res<String> {
    let sha = sha256_hex(bytes);
    let path = out.join("blobs").join(format!("{sha}.wasm"));
    match fs::read(&path) {
        Ok(existing) if existing == bytes => {}
        Ok(_) => return Err(format!("blob {} exists with different bytes", path.display())),
        Err(_) => write(&path, bytes)?,
    }
    Ok(sha)
}

// ---------------------------------------------------------------------------------------------
// Configuration: which chainspec the engine parses.

/// How the builder and the genesis request are made for one protocol configuration.
enum Config {
    /// The engine's bundled chainspec (`resources/chainspec.toml` of test-support 7.0.3), untouched.
    Bundled,
    /// A chainspec file parsed by the engine's own `ChainspecConfig` parser. `parsed_path` is the
    /// file itself, or (if the engine rejected the file) a completed copy of it.
    File {
        parsed_path: PathBuf,
        json: Value,
        _temp: Option<TempFile>,
    },
}

struct TempFile(PathBuf);
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Sections of the chainspec that test-support's `ChainspecConfig` reads.
const ENGINE_SECTIONS: [&str; 3] = ["core", "wasm", "system_costs"];

fn engine_parse(text: &str) -> Result<ChainspecConfig, String> {
    // Same parser and same `toml` crate (0.5) as `ChainspecConfig::from_chainspec_path`.
    toml::from_str::<ChainspecConfig>(text).map_err(|e| e.to_string())
}

/// Adds to `target` every key of `source` (recursively, tables only) that `target` lacks.
fn missing_keys(target: &toml::value::Table, source: &toml::value::Table, prefix: &str) -> Vec<(String, toml::Value)> {
    let mut out = Vec::new();
    for (k, v) in source {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match (target.get(k), v) {
            (None, _) => out.push((path, v.clone())),
            (Some(toml::Value::Table(t)), toml::Value::Table(s)) => out.extend(missing_keys(t, s, &path)),
            _ => {}
        }
    }
    out
}

fn set_path(table: &mut toml::value::Table, path: &str, value: toml::Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().expect("non-empty path");
    let mut t = table;
    for p in parts {
        t = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()))
            .as_table_mut()
            .expect("table on path");
    }
    t.insert(last.to_string(), value);
}

fn file_config(path: &Path) -> Res<Config> {
    let bytes = read(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut json = json!({ "source": "file", "name": name, "sha256": sha256_hex(&bytes) });

    // First choice: the engine's own parser on the real file, as `new_with_chainspec` does.
    let err = match ChainspecConfig::from_chainspec_path(path) {
        Ok(_) => {
            return Ok(Config::File { parsed_path: path.to_path_buf(), json, _temp: None });
        }
        Err(e) => format!("{e:?}"),
    };
    eprintln!("oracle-{ENGINE}: the engine cannot parse {}: {err}", path.display());

    // The file predates a key this engine requires. Complete it with the smallest set of keys
    // (taken from the engine's bundled mainnet-1.5.8 chainspec) that makes the engine's parser
    // accept it. Every value present in the file is kept as is; what was added is recorded.
    let text = String::from_utf8(bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: toml::value::Table = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let bundled_text = fs::read_to_string(&*PRODUCTION_CHAINSPEC_PATH)
        .map_err(|e| format!("bundled chainspec: {e}"))?;
    let bundled: toml::value::Table = toml::from_str(&bundled_text).map_err(|e| e.to_string())?;
    let mut candidates = Vec::new();
    for section in ENGINE_SECTIONS {
        match (file.get(section), bundled.get(section)) {
            (Some(toml::Value::Table(f)), Some(toml::Value::Table(b))) => candidates.extend(missing_keys(f, b, section)),
            (None, Some(b)) => candidates.push((section.to_string(), b.clone())),
            _ => {}
        }
    }
    let with = |keep: &[bool]| {
        let mut t = file.clone();
        for ((p, v), k) in candidates.iter().zip(keep) {
            if *k {
                set_path(&mut t, p, v.clone());
            }
        }
        t
    };
    let mut keep = vec![true; candidates.len()];
    let full = toml::to_string(&with(&keep)).map_err(|e| e.to_string())?;
    engine_parse(&full).map_err(|e| {
        format!("the engine cannot parse {} even completed from the bundled chainspec: {e}", path.display())
    })?;
    // Drop every added key the parser does not need.
    for i in 0..keep.len() {
        keep[i] = false;
        let t = toml::to_string(&with(&keep)).map_err(|e| e.to_string())?;
        if engine_parse(&t).is_err() {
            keep[i] = true;
        }
    }
    let completed = with(&keep);
    let added: Vec<Value> = candidates
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|((p, v), _)| json!({ "key": p, "value": toml_to_json(v) }))
        .collect();
    let completed_text = toml::to_string(&completed).map_err(|e| e.to_string())?;
    let temp = TempFile(std::env::temp_dir().join(format!(
        "oracle-{ENGINE}-{}-{}.toml",
        std::process::id(),
        name
    )));
    write(&temp.0, completed_text.as_bytes())?;
    // The engine itself must accept the completed file through its public path parser.
    ChainspecConfig::from_chainspec_path(&temp.0)
        .map_err(|e| format!("completed chainspec rejected by the engine: {e:?}"))?;
    eprintln!(
        "oracle-{ENGINE}: completed {} with {} key(s) from the bundled 1.5.8 chainspec: {}",
        path.display(),
        added.len(),
        added.iter().map(|a| a["key"].as_str().unwrap_or("")).collect::<Vec<_>>().join(", ")
    );
    let obj = json.as_object_mut().expect("object");
    obj.insert("engine_parse_error".into(), Value::String(err));
    obj.insert("completed_from_bundled".into(), Value::Array(added));
    Ok(Config::File { parsed_path: temp.0.clone(), json, _temp: Some(temp) })
}

fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl Config {
    fn json(&self) -> Value {
        match self {
            Config::Bundled => json!({ "source": "bundled" }),
            Config::File { json, .. } => json.clone(),
        }
    }

    /// A fresh in-memory global state after genesis, configured from this chainspec.
    fn genesis(&self) -> Res<InMemoryWasmTestBuilder> {
        match self {
            Config::Bundled => {
                let mut b = InMemoryWasmTestBuilder::default();
                b.run_genesis(&PRODUCTION_RUN_GENESIS_REQUEST);
                Ok(b)
            }
            Config::File { parsed_path, .. } => {
                let mut b = InMemoryWasmTestBuilder::new_with_chainspec(parsed_path, None);
                let cfg = ChainspecConfig::from_chainspec_path(parsed_path)
                    .map_err(|e| format!("{e:?}"))?;
                let exec_config = ExecConfig::try_from(cfg).map_err(|e| format!("{e:?}"))?;
                let request = RunGenesisRequest::new(
                    *DEFAULT_GENESIS_CONFIG_HASH,
                    *DEFAULT_PROTOCOL_VERSION,
                    exec_config,
                    DEFAULT_CHAINSPEC_REGISTRY.clone(),
                );
                b.run_genesis(&request);
                Ok(b)
            }
        }
    }
}

/// The engine's effective Wasm configuration, serialised by the engine's own serde impl (the
/// chainspec `[wasm]` key names and nesting), with sorted keys.
/// Only the keys the install processing depends on are kept (`max_memory`, `max_stack_height`,
/// `opcode_costs`), as in the other oracles; host function and storage costs only affect gas.
fn wasm_config_json(b: &InMemoryWasmTestBuilder) -> Res<Value> {
    let full = serde_json::to_value(b.get_engine_state().config().wasm_config()).map_err(|e| e.to_string())?;
    let mut m = Map::new();
    for key in ["max_memory", "max_stack_height", "opcode_costs"] {
        let v = full.get(key).ok_or_else(|| format!("engine WasmConfig has no `{key}`: {full}"))?;
        m.insert(key.to_string(), v.clone());
    }
    Ok(Value::Object(m))
}

/// Recursively sorted object keys, whatever serde_json's `preserve_order` (which the engine's
/// dependencies switch on) does.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

fn runtime_args(args: &Map<String, Value>) -> Res<RuntimeArgs> {
    let mut ra = RuntimeArgs::new();
    for (name, v) in args {
        let cl = match v {
            Value::String(s) => CLValue::from_t(s.clone()),
            Value::Array(items) => {
                let strings = items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<String>>>()
                    .ok_or_else(|| format!("arg {name:?}: only arrays of strings are supported"))?;
                CLValue::from_t(strings)
            }
            other => return Err(format!("arg {name:?}: unsupported JSON value {other}")),
        }
        .map_err(|e| format!("arg {name:?}: {e}"))?;
        ra.insert_cl_value(name.clone(), cl);
    }
    Ok(ra)
}

/// Deploy hash fixed per scenario and step.
fn deploy_hash(scenario: &str, step: usize) -> [u8; 32] {
    Sha256::digest(format!("casper-repro oracle deploy {scenario} step {step}")).into()
}

fn hash_key(key: &Key) -> Option<[u8; 32]> {
    match key {
        Key::Hash(h) => Some(*h),
        _ => None,
    }
}

/// One `ContractWasm` written by a step, with the `Contract` that references it.
struct Installed {
    contract_hash: [u8; 32],
    contract_wasm_hash: [u8; 32],
    entry_points: Vec<String>,
    bytes: Vec<u8>,
}

/// Reads every `ContractWasm` written by the last execution from its effects (journal order),
/// pairs it with the last `Contract` written in the same effects that references it, and
/// cross-checks both against global state after commit.
fn installed_by_last_exec(b: &InMemoryWasmTestBuilder) -> Res<Vec<Installed>> {
    let result = b.last_exec_result();
    let journal = result.execution_journal();
    let mut wasms: Vec<([u8; 32], Vec<u8>)> = Vec::new();
    let mut contracts: BTreeMap<[u8; 32], ([u8; 32], Vec<String>)> = BTreeMap::new();
    for (key, transform) in journal.iter() {
        if let Transform::Write(value) = transform {
            match value {
                StoredValue::ContractWasm(w) => {
                    let h = hash_key(key).ok_or_else(|| format!("ContractWasm under non-hash key {key}"))?;
                    if wasms.iter().any(|(k, _)| *k == h) {
                        // A second write to the same key: keep the last bytes, first position.
                        let slot = wasms.iter_mut().find(|(k, _)| *k == h).expect("present");
                        slot.1 = w.bytes().to_vec();
                    } else {
                        wasms.push((h, w.bytes().to_vec()));
                    }
                }
                StoredValue::Contract(c) => {
                    let h = hash_key(key).ok_or_else(|| format!("Contract under non-hash key {key}"))?;
                    let mut eps: Vec<String> = c.entry_points().keys().cloned().collect();
                    eps.sort();
                    contracts.insert(h, (c.contract_wasm_hash().value(), eps));
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for (wasm_hash, bytes) in wasms {
        let referencing: Vec<_> = contracts.iter().filter(|(_, (w, _))| *w == wasm_hash).collect();
        let (contract_hash, (_, entry_points)) = match referencing.as_slice() {
            [one] => (*one.0, one.1.clone()),
            [] => return Err(format!("ContractWasm {} written without a Contract referencing it", hex::encode(wasm_hash))),
            many => return Err(format!("ContractWasm {} referenced by {} Contracts", hex::encode(wasm_hash), many.len())),
        };
        // Cross-check 1: global state, Contract record -> contract_wasm_hash -> ContractWasm.
        let contract = b
            .get_contract(ContractHash::new(contract_hash))
            .ok_or_else(|| format!("no Contract at hash-{} after commit", hex::encode(contract_hash)))?;
        if contract.contract_wasm_hash() != ContractWasmHash::new(wasm_hash) {
            return Err(format!(
                "DISAGREEMENT: Contract hash-{} in global state points at {}, effects wrote wasm {}",
                hex::encode(contract_hash),
                contract.contract_wasm_hash(),
                hex::encode(wasm_hash)
            ));
        }
        let mut gs_eps: Vec<String> = contract.entry_points().keys().cloned().collect();
        gs_eps.sort();
        if gs_eps != entry_points {
            return Err(format!("DISAGREEMENT: entry points of hash-{}: effects {entry_points:?}, global state {gs_eps:?}", hex::encode(contract_hash)));
        }
        let stored = b
            .get_contract_wasm(ContractHash::new(wasm_hash))
            .ok_or_else(|| format!("no ContractWasm at hash-{} after commit", hex::encode(wasm_hash)))?;
        if stored.bytes() != bytes.as_slice() {
            return Err(format!(
                "DISAGREEMENT: ContractWasm hash-{}: effects {} bytes sha256 {}, global state {} bytes sha256 {}",
                hex::encode(wasm_hash),
                bytes.len(),
                sha256_hex(&bytes),
                stored.bytes().len(),
                sha256_hex(stored.bytes())
            ));
        }
        out.push(Installed { contract_hash, contract_wasm_hash: wasm_hash, entry_points, bytes });
    }
    Ok(out)
}

/// Cross-check 2 (oracle.md §1): every contract the account names resolves, through
/// named key -> `Contract` -> `contract_wasm_hash` -> `StoredValue::ContractWasm`, to the bytes
/// the effects wrote. Returns how many installed contracts were reached that way.
fn cross_check_named_keys(b: &InMemoryWasmTestBuilder, named: &BTreeMap<String, Key>, installed: &[Installed]) -> Res<usize> {
    let mut reached = 0;
    for (name, key) in named {
        let Some(h) = hash_key(key) else { continue };
        let Some(inst) = installed.iter().find(|i| i.contract_hash == h) else { continue };
        let value = b.query(None, Key::Hash(h), &[])?;
        let StoredValue::Contract(contract) = value else {
            return Err(format!("named key {name:?} -> hash-{} is not a Contract", hex::encode(h)));
        };
        let wasm_key = Key::Hash(contract.contract_wasm_hash().value());
        let StoredValue::ContractWasm(wasm) = b.query(None, wasm_key, &[])? else {
            return Err(format!("named key {name:?}: {wasm_key} is not a ContractWasm"));
        };
        if wasm.bytes() != inst.bytes.as_slice() {
            return Err(format!(
                "DISAGREEMENT: named key {name:?} -> Contract -> ContractWasm holds sha256 {}, effects wrote sha256 {}",
                sha256_hex(wasm.bytes()),
                sha256_hex(&inst.bytes)
            ));
        }
        reached += 1;
    }
    Ok(reached)
}

fn account_named_keys(b: &InMemoryWasmTestBuilder) -> Res<BTreeMap<String, Key>> {
    let account = b
        .get_account(*DEFAULT_ACCOUNT_ADDR)
        .ok_or("default account missing")?;
    Ok(account.named_keys().iter().map(|(k, v)| (k.clone(), *v)).collect())
}

fn run_scenario(cfg: &Config, cli: &Cli, scenario: &Value, wasm_config: &Value) -> Res<Value> {
    let name = scenario["name"].as_str().ok_or("scenario without a name")?;
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(format!("bad scenario name {name:?}"));
    }
    let steps = scenario["steps"].as_array().ok_or_else(|| format!("{name}: no steps"))?;
    let mut b = cfg.genesis()?;
    let empty = Map::new();
    let mut out_steps = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let args_json = match step.get("args") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(m)) => m,
            Some(other) => return Err(format!("{name} step {i}: args must be an object, got {other}")),
        };
        let args = runtime_args(args_json)?;
        let deploy = DeployItemBuilder::new()
            .with_address(*DEFAULT_ACCOUNT_ADDR)
            .with_authorization_keys(&[*DEFAULT_ACCOUNT_ADDR])
            .with_empty_payment_bytes({
                let mut p = RuntimeArgs::new();
                p.insert(ARG_AMOUNT, U512::from(PAYMENT_MOTES)).map_err(|e| e.to_string())?;
                p
            })
            .with_deploy_hash(deploy_hash(name, i));
        let mut record = Map::new();
        let deploy = if let Some(file) = step.get("session") {
            let file = file.as_str().ok_or_else(|| format!("{name} step {i}: session must be a string"))?;
            let bytes = read(&cli.wasm_dir.join(file))?;
            record.insert("kind".into(), json!("session"));
            record.insert("wasm".into(), json!(file));
            record.insert("wasm_sha256".into(), json!(sha256_hex(&bytes)));
            deploy.with_session_bytes(bytes, args)
        } else if let Some(call) = step.get("call") {
            let named_key = call["named_key"].as_str().ok_or_else(|| format!("{name} step {i}: call.named_key"))?;
            let entry_point = call["entry_point"].as_str().ok_or_else(|| format!("{name} step {i}: call.entry_point"))?;
            let call_args = match call.get("args") {
                None | Some(Value::Null) => None,
                Some(Value::Object(m)) => Some(m),
                Some(other) => return Err(format!("{name} step {i}: call.args must be an object, got {other}")),
            };
            let (args_json_used, args) = match call_args {
                Some(m) if !m.is_empty() => {
                    if !args_json.is_empty() {
                        return Err(format!("{name} step {i}: args given twice"));
                    }
                    (m, runtime_args(m)?)
                }
                _ => (args_json, args),
            };
            // The called contract and its stored bytes before the step. If the named key is
            // missing (e.g. the install step was rejected), the deploy is still executed: the
            // engine's own error is the answer, and the caller fields are null.
            let caller: Option<([u8; 32], Vec<u8>)> = match account_named_keys(&b)?.get(named_key).and_then(hash_key) {
                None => None,
                Some(h) => match b.query(None, Key::Hash(h), &[]) {
                    Ok(StoredValue::Contract(c)) => {
                        let wasm_key = Key::Hash(c.contract_wasm_hash().value());
                        match b.query(None, wasm_key, &[]) {
                            Ok(StoredValue::ContractWasm(w)) => Some((h, w.bytes().to_vec())),
                            other => return Err(format!("{name} step {i}: Contract hash-{} -> {wasm_key}: {other:?}", hex::encode(h))),
                        }
                    }
                    _ => None,
                },
            };
            let (caller_hash, caller_sha) = match &caller {
                Some((h, bytes)) => (json!(hex::encode(h)), json!(put_blob(&cli.out, bytes)?)),
                None => {
                    eprintln!("oracle-{ENGINE}: {name} step {i}: the account has no contract under {named_key:?}; executing anyway");
                    (Value::Null, Value::Null)
                }
            };
            record.insert("kind".into(), json!("call"));
            record.insert("named_key".into(), json!(named_key));
            record.insert("entry_point".into(), json!(entry_point));
            record.insert("caller_contract_hash".into(), caller_hash);
            record.insert("caller_stored_sha256".into(), caller_sha);
            if call_args.is_some_and(|m| !m.is_empty()) {
                record.insert("args".into(), Value::Object(args_json_used.clone()));
            }
            deploy.with_stored_session_named_key(named_key, entry_point, args)
        } else {
            return Err(format!("{name} step {i}: neither session nor call"));
        };
        record.entry("args").or_insert_with(|| Value::Object(args_json.clone()));

        let request = ExecuteRequestBuilder::from_deploy_item(deploy.build()).build();
        b.try_exec(request).map_err(|e| format!("{name} step {i}: exec request failed: {e}"))?;
        b.commit();
        let result = b.last_exec_result();
        let error = result.as_error().map(|e| e.to_string());
        let installed = installed_by_last_exec(&b).map_err(|e| format!("{name} step {i}: {e}"))?;
        if error.is_some() && !installed.is_empty() {
            return Err(format!("{name} step {i}: failed execution wrote {} ContractWasm", installed.len()));
        }
        // Named-key path: the account's named keys, and for a call also the called contract's.
        let mut named = account_named_keys(&b)?;
        if let Some(Value::String(caller)) = record.get("caller_contract_hash") {
            let mut h = [0u8; 32];
            hex::decode_to_slice(caller, &mut h).map_err(|e| e.to_string())?;
            if let Some(c) = b.get_contract(ContractHash::new(h)) {
                for (k, v) in c.named_keys().iter() {
                    named.entry(format!("{}/{}", hex::encode(h), k)).or_insert(*v);
                }
            }
        }
        let reached = cross_check_named_keys(&b, &named, &installed).map_err(|e| format!("{name} step {i}: {e}"))?;
        eprintln!(
            "oracle-{ENGINE}: {} {name} step {i}: {} , {} contract(s), {reached} reached through named keys",
            cli.protocol,
            error.as_deref().unwrap_or("success"),
            installed.len()
        );
        let mut contracts = Vec::new();
        for inst in &installed {
            let sha = put_blob(&cli.out, &inst.bytes)?;
            contracts.push(json!({
                "contract_hash": hex::encode(inst.contract_hash),
                "contract_wasm_hash": hex::encode(inst.contract_wasm_hash),
                "entry_points": inst.entry_points,
                "stored_sha256": sha,
                "stored_len": inst.bytes.len(),
            }));
        }
        record.insert("success".into(), json!(error.is_none()));
        record.insert("error".into(), json!(error));
        record.insert("contracts".into(), Value::Array(contracts));
        out_steps.push(Value::Object(record));
    }
    Ok(json!({
        "oracle_format": 1,
        "engine": { "execution_engine": EXECUTION_ENGINE_VERSION, "engine_test_support": ENGINE_TEST_SUPPORT_VERSION },
        "protocol": cli.protocol,
        "chainspec": cfg.json(),
        "wasm_config": wasm_config,
        "scenario": name,
        "steps": out_steps,
    }))
}

fn run() -> Res<()> {
    let cli = parse_cli()?;
    let scenarios: Value = serde_json::from_slice(&read(&cli.scenarios)?)
        .map_err(|e| format!("{}: {e}", cli.scenarios.display()))?;
    let list = scenarios["scenarios"]
        .as_array()
        .ok_or_else(|| format!("{}: no \"scenarios\" array", cli.scenarios.display()))?;
    let cfg = match &cli.chainspec {
        None => Config::Bundled,
        Some(p) => file_config(p)?,
    };
    // The effective configuration, read back from an engine set up exactly as for the scenarios.
    let wasm_config = wasm_config_json(&cfg.genesis()?)?;
    let dir = cli.out.join(ENGINE).join(&cli.protocol);
    for scenario in list {
        let doc = run_scenario(&cfg, &cli, scenario, &wasm_config)?;
        let name = doc["scenario"].as_str().expect("name").to_string();
        let mut text = serde_json::to_string_pretty(&sorted(doc)).map_err(|e| e.to_string())?;
        text.push('\n');
        write(&dir.join(format!("{name}.json")), text.as_bytes())?;
    }
    eprintln!("oracle-{ENGINE}: {} scenario(s) for protocol {} -> {}", list.len(), cli.protocol, dir.display());
    Ok(())
}

