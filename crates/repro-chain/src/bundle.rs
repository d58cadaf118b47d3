//! A bundle: the node's exact JSON-RPC answers for one verification, saved by `casper-repro
//! fetch` (`responses.json`), so that `verify --bundle DIR` re-runs offline and a third party can
//! re-check every commitment (hashes, signatures, merkle proofs) without trusting whoever made it.
//! Nothing in a bundle is derived: the session and stored Wasm written beside it are for people;
//! verification reads `responses.json` only.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::install::{Install, Installer};

use crate::{CallError, Source};

/// File name of the recorded answers inside a bundle directory.
pub const RESPONSES: &str = "responses.json";
/// Version of the bundle format.
pub const FORMAT: u32 = 1;

/// One JSON-RPC call and the node's `result`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Call {
    pub method: String,
    pub params: Value,
    pub result: Value,
}

/// The recorded answers of one verification.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Bundle {
    pub format: u32,
    /// `node-1.5` or `sidecar-2.x`, as far as the answers show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// The transaction, in casper-types' `TransactionHash` JSON (`{"Deploy": hex}` /
    /// `{"Version1": hex}`).
    pub transaction_hash: Value,
    /// Where the answers came from (informative only: nothing is trusted because of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub calls: Vec<Call>,
    /// The first switch block answer of each era among `calls` (built when first asked).
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) switch_blocks: Option<std::collections::BTreeMap<u64, usize>>,
}

/// Why a bundle could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{file} is not a casper-repro bundle: {detail}")]
    NotABundle { file: String, detail: String },
    #[error(
        "{file}: bundle format {found} is not supported (this casper-repro reads format {FORMAT})"
    )]
    Format { file: String, found: u32 },
    #[error("{0} exists and is not an empty directory: choose a new bundle directory")]
    NotEmpty(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Bundle {
    /// Reads `DIR/responses.json` (or a `responses.json` file given directly).
    pub fn load(path: &Path) -> Result<Self, BundleError> {
        let file = if path.is_dir() {
            path.join(RESPONSES)
        } else {
            path.to_path_buf()
        };
        let text = fs_err::read_to_string(&file)?;
        let bundle: Bundle = serde_json::from_str(&text).map_err(|e| BundleError::NotABundle {
            file: file.display().to_string(),
            detail: crate::install::plain_error(&e.to_string()),
        })?;
        if bundle.format != FORMAT {
            return Err(BundleError::Format {
                file: file.display().to_string(),
                found: bundle.format,
            });
        }
        Ok(bundle)
    }

    /// The transaction hash as hex, whichever kind it is.
    pub fn hash_hex(&self) -> Option<&str> {
        self.transaction_hash.as_object()?.values().next()?.as_str()
    }
}

/// Two calls ask the same thing when method and parameters agree, ignoring
/// `finalized_approvals` (it changes only which approvals are shown, not what is checked).
fn same_params(a: &Value, b: &Value) -> bool {
    fn strip(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("finalized_approvals");
        }
        v
    }
    strip(a) == strip(b)
}

impl Source for Bundle {
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, CallError> {
        self.calls
            .iter()
            .find(|c| c.method == method && same_params(&c.params, params))
            .map(|c| c.result.clone())
            .ok_or_else(|| CallError::NotInBundle {
                method: method.to_owned(),
                params: params.to_string(),
            })
    }

    fn describe(&self) -> String {
        "bundle".into()
    }

    fn switch_block_of(&mut self, era: u64) -> Option<Value> {
        // Every answer is parsed once, on the first question: a long walk asks once per era.
        let calls = &self.calls;
        let index = self.switch_blocks.get_or_insert_with(|| {
            let mut index = std::collections::BTreeMap::new();
            for (i, c) in calls.iter().enumerate() {
                if c.method != "chain_get_block" {
                    continue;
                }
                if let Ok((b, _)) = crate::install::parse_block_answer(&c.result)
                    && b.is_switch_block()
                {
                    index.entry(b.era_id().value()).or_insert(i);
                }
            }
            index
        });
        index.get(&era).map(|i| self.calls[*i].result.clone())
    }
}

/// A bundle directory may be created at `dir`: it does not exist or is an empty directory.
pub fn check_output_dir(dir: &Path) -> Result<(), BundleError> {
    if dir.exists() {
        let empty = dir.is_dir() && fs_err::read_dir(dir)?.next().is_none();
        if !empty {
            return Err(BundleError::NotEmpty(dir.display().to_string()));
        }
    }
    Ok(())
}

/// Saves the node's answers (`calls`) for `install` as a bundle in `dir`, with the derived files
/// for people (install.json, the session or caller bytes, every stored module). Written into a
/// temporary directory beside `dir`, then renamed into place: a failure leaves nothing behind.
pub fn save(
    dir: &Path,
    install: &Install,
    calls: Vec<Call>,
    node: Option<String>,
) -> Result<(), BundleError> {
    check_output_dir(dir)?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs_err::create_dir_all(&parent)?;
    let tmp = tempfile::Builder::new()
        .prefix(".casper-repro-bundle.")
        .tempdir_in(&parent)?;
    let bundle = Bundle {
        format: FORMAT,
        api: Some(install.api.as_str().to_owned()),
        transaction_hash: install.transaction_hash_json.clone(),
        node,
        calls,
        switch_blocks: None,
    };
    fs_err::write(tmp.path().join(RESPONSES), pretty(&bundle)?)?;
    fs_err::write(tmp.path().join("install.json"), pretty(install)?)?;
    let input_name = match install.installer {
        Installer::Session => "session.wasm",
        Installer::StoredContract { .. } => "caller.wasm",
    };
    fs_err::write(tmp.path().join(input_name), &install.input)?;
    fs_err::create_dir(tmp.path().join("stored"))?;
    for c in &install.contracts {
        fs_err::write(
            tmp.path()
                .join("stored")
                .join(format!("{}.wasm", c.contract_hash)),
            &c.stored,
        )?;
    }
    if dir.exists() {
        fs_err::remove_dir(dir)?;
    }
    let tmp = tmp.keep();
    if let Err(e) = fs_err::rename(&tmp, dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e.into());
    }
    Ok(())
}

/// Pretty JSON and a final newline.
fn pretty<T: Serialize>(value: &T) -> Result<String, BundleError> {
    let mut text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    text.push('\n');
    Ok(text)
}
