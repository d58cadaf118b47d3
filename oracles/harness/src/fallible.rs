//! The harness API of the node 2.x oracles (ee-8.0.0, ee-8.1.1): same answer format as the crate
//! root, errors as `anyhow::Result` (the oracle exits 2), scenario arguments allowed on the step or
//! inside `call`, steps resolved into session bytes and typed arguments before the engine sees them.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use serde_json::{json, Value};

/// `oracle_format` of the documents this harness writes.
pub const ORACLE_FORMAT: u64 = 1;

/// Parsed command line: `--scenarios FILE --wasm-dir DIR --out DIR --protocol V [--chainspec FILE]`.
#[derive(Debug)]
pub struct Cli {
    pub scenarios: PathBuf,
    pub wasm_dir: PathBuf,
    pub out: PathBuf,
    pub protocol: String,
    pub chainspec: Option<PathBuf>,
}

pub const USAGE: &str =
    "usage: oracle --scenarios FILE --wasm-dir DIR --out DIR --protocol V [--chainspec FILE]";

impl Cli {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Cli> {
        let mut scenarios = None;
        let mut wasm_dir = None;
        let mut out = None;
        let mut protocol = None;
        let mut chainspec = None;
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let slot = match flag.as_str() {
                "--scenarios" => &mut scenarios,
                "--wasm-dir" => &mut wasm_dir,
                "--out" => &mut out,
                "--protocol" => &mut protocol,
                "--chainspec" => &mut chainspec,
                "-h" | "--help" => bail!("{USAGE}"),
                other => bail!("unexpected argument {other:?}\n{USAGE}"),
            };
            let value = args
                .next()
                .ok_or_else(|| anyhow!("{flag} needs a value\n{USAGE}"))?;
            if slot.replace(value).is_some() {
                bail!("{flag} given twice");
            }
        }
        let need =
            |v: Option<String>, name: &str| v.ok_or_else(|| anyhow!("{name} is required\n{USAGE}"));
        Ok(Cli {
            scenarios: need(scenarios, "--scenarios")?.into(),
            wasm_dir: need(wasm_dir, "--wasm-dir")?.into(),
            out: need(out, "--out")?.into(),
            protocol: need(protocol, "--protocol")?,
            chainspec: chainspec.map(PathBuf::from),
        })
    }

    /// `major.minor.patch` of `--protocol`.
    pub fn protocol_parts(&self) -> Result<(u32, u32, u32)> {
        let parts: Vec<&str> = self.protocol.split('.').collect();
        let parse = |s: &str| s.parse::<u32>().ok();
        match parts.as_slice() {
            [a, b, c] => match (parse(a), parse(b), parse(c)) {
                (Some(a), Some(b), Some(c)) => Ok((a, b, c)),
                _ => bail!("--protocol {:?} is not MAJOR.MINOR.PATCH", self.protocol),
            },
            _ => bail!("--protocol {:?} is not MAJOR.MINOR.PATCH", self.protocol),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ScenarioFile {
    pub scenarios: Vec<Scenario>,
}

#[derive(Debug, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
pub struct Step {
    pub session: Option<String>,
    pub call: Option<Call>,
    #[serde(default)]
    pub args: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct Call {
    pub named_key: String,
    pub entry_point: String,
    /// The format allows the arguments on the step or inside `call`.
    #[serde(default)]
    pub args: BTreeMap<String, Value>,
}

/// A runtime argument value of the scenario format.
#[derive(Debug, Clone)]
pub enum ArgValue {
    String(String),
    StringList(Vec<String>),
}

/// The two kinds of step, with everything the engine half needs.
#[derive(Debug)]
pub enum StepKind {
    Session {
        file: String,
        bytes: Vec<u8>,
    },
    Call {
        named_key: String,
        entry_point: String,
    },
}

pub fn load_scenarios(path: &Path) -> Result<Vec<Scenario>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: ScenarioFile =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let mut names = BTreeSet::new();
    for s in &file.scenarios {
        if s.name.is_empty() || s.name.contains(['/', '\\']) || s.name.starts_with('.') {
            bail!("scenario name {:?} cannot be a file name", s.name);
        }
        if !names.insert(s.name.as_str()) {
            bail!("scenario {:?} appears twice", s.name);
        }
    }
    Ok(file.scenarios)
}

impl Step {
    /// Resolves the step: reads the session file, merges the arguments.
    pub fn resolve(
        &self,
        wasm_dir: &Path,
    ) -> Result<(StepKind, BTreeMap<String, Value>, Vec<(String, ArgValue)>)> {
        let mut args = self.args.clone();
        let kind = match (&self.session, &self.call) {
            (Some(file), None) => {
                let path = wasm_dir.join(file);
                let bytes =
                    fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                StepKind::Session {
                    file: file.clone(),
                    bytes,
                }
            }
            (None, Some(call)) => {
                for (k, v) in &call.args {
                    if args.insert(k.clone(), v.clone()).is_some() {
                        bail!("argument {k:?} given both on the step and in `call`");
                    }
                }
                StepKind::Call {
                    named_key: call.named_key.clone(),
                    entry_point: call.entry_point.clone(),
                }
            }
            _ => bail!("a step needs exactly one of `session` and `call`"),
        };
        let mut typed = Vec::new();
        for (name, value) in &args {
            let v = match value {
                Value::String(s) => ArgValue::String(s.clone()),
                Value::Array(items) => ArgValue::StringList(
                    items
                        .iter()
                        .map(|i| {
                            i.as_str().map(str::to_owned).ok_or_else(|| {
                                anyhow!("argument {name:?}: only arrays of strings are supported")
                            })
                        })
                        .collect::<Result<_>>()?,
                ),
                other => bail!("argument {name:?}: unsupported JSON value {other}"),
            };
            typed.push((name.clone(), v));
        }
        Ok((kind, args, typed))
    }
}

/// The same digests as the crate root's (one definition: the deploy hash fixes contract addresses).
pub use crate::{deploy_hash, sha256_hex};

/// One `ContractWasm` written by a step (an element of `contracts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContract {
    pub contract_hash: [u8; 32],
    pub contract_wasm_hash: [u8; 32],
    pub entry_points: BTreeSet<String>,
    pub bytes: Vec<u8>,
}

impl StoredContract {
    pub fn to_json(&self) -> Value {
        json!({
            "contract_hash": hex::encode(self.contract_hash),
            "contract_wasm_hash": hex::encode(self.contract_wasm_hash),
            "entry_points": self.entry_points.iter().collect::<Vec<_>>(),
            "stored_sha256": sha256_hex(&self.bytes),
            "stored_len": self.bytes.len(),
        })
    }
}

/// Writes `<out>/blobs/<sha256>.wasm` unless an identical file is there already.
pub fn write_blob(out: &Path, bytes: &[u8]) -> Result<()> {
    let dir = out.join("blobs");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{}.wasm", sha256_hex(bytes)));
    match fs::read(&path) {
        Ok(existing) if existing == bytes => Ok(()),
        Ok(_) => bail!("{} exists with different content", path.display()),
        Err(_) => fs::write(&path, bytes).with_context(|| format!("writing {}", path.display())),
    }
}

/// `value` with the keys of every object in sorted order. The engine's graph turns on
/// serde_json's `preserve_order`, so maps keep insertion order unless sorted here.
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, self::sorted(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(self::sorted).collect()),
        other => other.clone(),
    }
}

/// Pretty JSON with sorted object keys and a trailing newline.
pub fn write_json(path: &Path, value: &Value) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut text = serde_json::to_string_pretty(&sorted(value))?;
    text.push('\n');
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Removes answers of scenarios that no longer exist from `<out>/<engine>/<protocol>/`.
pub fn remove_stale(dir: &Path, keep: &BTreeSet<String>) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        if path.extension().is_some_and(|e| e == "json") && !keep.contains(&stem) {
            eprintln!("removing stale answer {}", path.display());
            fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}
