//! Engine-independent half of the oracles: command line, scenarios, deterministic deploy hashes,
//! blobs and the JSON answer format of `docs/oracle-harness.md`.
//!
//! Used by every `oracles/ee-*` project except ee-7.0.3 (whose single `main.rs` predates this
//! crate). The engine-specific half of each oracle is its `main.rs` (shared between projects whose
//! engine API is the same, see `oracles/shared-src/`).
//!
//! Two flavours of the same format:
//! - the crate root: the API of the oracles for engines 1.4.1 … 5.0.0 (errors print and exit 1,
//!   `die`);
//! - [`fallible`]: the API of the node 2.x oracles (ee-8.0.0, ee-8.1.1): `anyhow::Result` errors,
//!   steps resolved into session bytes and typed arguments.
//!
//! Both write byte-identical JSON for the same document (pretty, sorted keys, trailing newline)
//! and share the deploy hash and the blob naming.

pub mod fallible;

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process,
};

use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};

/// Print an error and exit non-zero. Oracles fail loudly.
pub fn die(msg: impl AsRef<str>) -> ! {
    eprintln!("error: {}", msg.as_ref());
    process::exit(1)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[derive(Debug)]
pub struct Cli {
    pub scenarios: PathBuf,
    pub wasm_dir: PathBuf,
    pub out: PathBuf,
    pub protocol: String,
    pub chainspec: Option<PathBuf>,
}

impl Cli {
    pub fn parse() -> Cli {
        let usage = "usage: --scenarios FILE --wasm-dir DIR --out DIR --protocol V [--chainspec FILE]";
        let mut args = std::env::args().skip(1);
        let (mut scenarios, mut wasm_dir, mut out, mut protocol, mut chainspec) =
            (None, None, None, None, None);
        while let Some(flag) = args.next() {
            let mut value = || args.next().unwrap_or_else(|| die(format!("{flag} needs a value; {usage}")));
            match flag.as_str() {
                "--scenarios" => scenarios = Some(PathBuf::from(value())),
                "--wasm-dir" => wasm_dir = Some(PathBuf::from(value())),
                "--out" => out = Some(PathBuf::from(value())),
                "--protocol" => protocol = Some(value()),
                "--chainspec" => chainspec = Some(PathBuf::from(value())),
                "-h" | "--help" => {
                    println!("{usage}");
                    process::exit(0)
                }
                other => die(format!("unknown argument {other:?}; {usage}")),
            }
        }
        Cli {
            scenarios: scenarios.unwrap_or_else(|| die(usage)),
            wasm_dir: wasm_dir.unwrap_or_else(|| die(usage)),
            out: out.unwrap_or_else(|| die(usage)),
            protocol: protocol.unwrap_or_else(|| die(usage)),
            chainspec,
        }
    }
}

/// A runtime argument value: a JSON string is a `String` CLValue, an array of strings a
/// `Vec<String>` (`List<String>`) CLValue.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ArgValue {
    Str(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    pub named_key: String,
    pub entry_point: String,
    #[serde(default)]
    pub args: BTreeMap<String, ArgValue>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub call: Option<Call>,
    #[serde(default)]
    pub args: BTreeMap<String, ArgValue>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Scenario {
    pub name: String,
    #[allow(dead_code)]
    #[serde(default)]
    pub description: Option<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct ScenarioFile {
    scenarios: Vec<Scenario>,
}

pub fn load_scenarios(path: &Path) -> Vec<Scenario> {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|e| die(format!("cannot read {}: {e}", path.display())));
    let file: ScenarioFile = serde_json::from_str(&text)
        .unwrap_or_else(|e| die(format!("cannot parse {}: {e}", path.display())));
    for s in &file.scenarios {
        for (i, step) in s.steps.iter().enumerate() {
            if step.session.is_some() == step.call.is_some() {
                die(format!("scenario {} step {i}: exactly one of `session` / `call`", s.name));
            }
            if step.call.is_some() && !step.args.is_empty() {
                die(format!("scenario {} step {i}: put call arguments inside `call`", s.name));
            }
        }
    }
    file.scenarios
}

pub fn args_json(args: &BTreeMap<String, ArgValue>) -> Value {
    let mut m = Map::new();
    for (k, v) in args {
        m.insert(
            k.clone(),
            match v {
                ArgValue::Str(s) => json!(s),
                ArgValue::List(l) => json!(l),
            },
        );
    }
    Value::Object(m)
}

/// Deploy hash of step `index` of `scenario`: fixed, so two runs give identical answers.
pub fn deploy_hash(scenario: &str, index: usize) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"casper-repro oracle deploy\0");
    h.update(scenario.as_bytes());
    h.update(b"\0");
    h.update(index.to_string().as_bytes());
    h.finalize().into()
}

/// Where the engine's Wasm configuration came from.
#[derive(Debug, Clone)]
pub enum ChainspecSource {
    Bundled,
    File { name: String, sha256: String },
}

impl ChainspecSource {
    pub fn json(&self) -> Value {
        match self {
            ChainspecSource::Bundled => json!({ "source": "bundled" }),
            ChainspecSource::File { name, sha256 } => {
                json!({ "source": "file", "name": name, "sha256": sha256 })
            }
        }
    }
}

/// Read a chainspec file: (source record, bytes).
pub fn read_chainspec(path: &Path) -> (ChainspecSource, Vec<u8>) {
    let bytes = fs::read(path).unwrap_or_else(|e| die(format!("cannot read {}: {e}", path.display())));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| die(format!("bad chainspec path {}", path.display())));
    (ChainspecSource::File { name, sha256: sha256_hex(&bytes) }, bytes)
}

/// One `ContractWasm` written by a step, with the entry points of the `Contract` referencing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContract {
    pub contract_hash: [u8; 32],
    pub contract_wasm_hash: [u8; 32],
    pub entry_points: Vec<String>,
    pub bytes: Vec<u8>,
}

impl StoredContract {
    pub fn json(&self) -> Value {
        let mut eps = self.entry_points.clone();
        eps.sort();
        json!({
            "contract_hash": hex::encode(self.contract_hash),
            "contract_wasm_hash": hex::encode(self.contract_wasm_hash),
            "entry_points": eps,
            "stored_sha256": sha256_hex(&self.bytes),
            "stored_len": self.bytes.len(),
        })
    }
}

/// Content-addressed blob store `<out>/blobs/<sha256>.wasm`.
pub fn write_blob(out: &Path, bytes: &[u8]) {
    let dir = out.join("blobs");
    fs::create_dir_all(&dir).unwrap_or_else(|e| die(format!("mkdir {}: {e}", dir.display())));
    let path = dir.join(format!("{}.wasm", sha256_hex(bytes)));
    if let Ok(existing) = fs::read(&path) {
        if existing == bytes {
            return;
        }
        die(format!("blob {} exists with other content", path.display()));
    }
    fs::write(&path, bytes).unwrap_or_else(|e| die(format!("write {}: {e}", path.display())));
}

/// Recursively order object keys (independent of serde_json's `preserve_order` feature, which
/// the engine's dependency graph may switch on).
pub fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k, sorted(v));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Write `<out>/<engine>/<protocol>/<scenario>.json`, pretty, sorted keys, trailing newline.
pub fn write_answer(out: &Path, engine_dir: &str, protocol: &str, scenario: &str, doc: Value) {
    let dir = out.join(engine_dir).join(protocol);
    fs::create_dir_all(&dir).unwrap_or_else(|e| die(format!("mkdir {}: {e}", dir.display())));
    let path = dir.join(format!("{scenario}.json"));
    let mut text = serde_json::to_string_pretty(&sorted(doc)).expect("json");
    text.push('\n');
    fs::write(&path, text).unwrap_or_else(|e| die(format!("write {}: {e}", path.display())));
}

/// Keep only the chainspec keys the preprocessing depends on, in the chainspec's layout.
pub fn wasm_config_subset(full: &Value) -> Value {
    let obj = full.as_object().unwrap_or_else(|| die("wasm config is not an object"));
    let mut m = Map::new();
    for key in ["max_memory", "max_stack_height", "opcode_costs"] {
        let v = obj
            .get(key)
            .unwrap_or_else(|| die(format!("engine wasm config has no `{key}`: {full}")));
        m.insert(key.to_string(), v.clone());
    }
    Value::Object(m)
}

/// Parse a chainspec `[wasm]` table into the engine's own type `T`. If the file lacks a field that
/// this engine requires (for example `host_function_costs.random_bytes`, which mainnet 1.4.15
/// predates), take exactly that field from the engine's own default table (`defaults`), one field
/// at a time as the engine's deserializer reports it, and parse again. Never overrides a value the
/// file has. Returns the value and the dotted paths filled.
pub fn parse_wasm_table<T: serde::de::DeserializeOwned>(
    mut table: toml::Value,
    defaults: &toml::Value,
) -> Result<(T, Vec<String>), String> {
    let mut filled = Vec::new();
    loop {
        let err = match table.clone().try_into::<T>() {
            Ok(v) => return Ok((v, filled)),
            Err(e) => e.to_string(),
        };
        // toml 0.5: "missing field `f`" optionally followed by " for key `a.b`".
        let field = between(&err, "missing field `", "`").ok_or_else(|| err.clone())?;
        let key = between(&err, "for key `", "`").unwrap_or_default();
        let mut path: Vec<&str> = key.split('.').filter(|p| !p.is_empty() && *p != "wasm").collect();
        path.push(field);
        let default = path
            .iter()
            .try_fold(defaults, |v, p| v.get(*p))
            .ok_or_else(|| format!("{err} (and the engine's defaults have no {})", path.join(".")))?
            .clone();
        let (last, parents) = path.split_last().expect("non-empty");
        let mut slot = &mut table;
        for p in parents {
            slot = slot.get_mut(*p).ok_or_else(|| err.clone())?;
        }
        let t = slot.as_table_mut().ok_or_else(|| err.clone())?;
        if t.contains_key(*last) {
            return Err(err);
        }
        t.insert(last.to_string(), default);
        filled.push(path.join("."));
    }
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let len = s[start..].find(close)?;
    Some(&s[start..start + len])
}

/// The `[wasm]` table of a chainspec file.
pub fn wasm_table(chainspec: &[u8]) -> toml::Value {
    let text = std::str::from_utf8(chainspec).unwrap_or_else(|e| die(format!("chainspec not UTF-8: {e}")));
    let doc: toml::Value = toml::from_str(text).unwrap_or_else(|e| die(format!("chainspec TOML: {e}")));
    doc.get("wasm").cloned().unwrap_or_else(|| die("chainspec has no [wasm] table"))
}

/// The document of one scenario.
pub fn answer_doc(
    engine: Value,
    protocol: &str,
    chainspec: &ChainspecSource,
    wasm_config: Value,
    scenario: &str,
    steps: Vec<Value>,
) -> Value {
    json!({
        "oracle_format": 1,
        "engine": engine,
        "protocol": protocol,
        "chainspec": chainspec.json(),
        "wasm_config": wasm_config,
        "scenario": scenario,
        "steps": steps,
    })
}

pub fn read_session(wasm_dir: &Path, file: &str) -> Vec<u8> {
    let p = wasm_dir.join(file);
    fs::read(&p).unwrap_or_else(|e| die(format!("cannot read session {}: {e}", p.display())))
}
