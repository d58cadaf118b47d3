//! A bundle: the node's exact JSON-RPC answers for one verification, saved by `casper-repro
//! fetch` (`responses.json`), so that `verify --bundle DIR` re-runs offline and a third party can
//! re-check every commitment (hashes, signatures, merkle proofs) without trusting whoever made it.
//! Nothing in a bundle is derived: the session and stored Wasm written beside it are for people;
//! verification reads `responses.json` only.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CallError, Source};

/// File name of the recorded answers inside a bundle directory.
pub const RESPONSES: &str = "responses.json";
/// Version of the bundle format.
pub const FORMAT: u32 = 1;

/// One JSON-RPC call and the node's `result`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Call {
    pub method: String,
    pub params: Value,
    pub result: Value,
}

/// The recorded answers of one verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

impl Bundle {
    /// Reads `DIR/responses.json` (or a `responses.json` file given directly).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let file = if path.is_dir() {
            path.join(RESPONSES)
        } else {
            path.to_path_buf()
        };
        let text = fs_err::read_to_string(&file)?;
        let bundle: Bundle = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a casper-repro bundle", file.display()))?;
        if bundle.format != FORMAT {
            anyhow::bail!(
                "{}: bundle format {} is not supported (this casper-repro reads format {FORMAT})",
                file.display(),
                bundle.format
            );
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
}
