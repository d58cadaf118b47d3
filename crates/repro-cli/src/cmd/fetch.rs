//! `casper-repro fetch`: save everything a verification needs from a node as a bundle directory
//! that `verify --bundle DIR` re-checks offline.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::Outcome;
use crate::chain::bundle::{self, Bundle};
use crate::chain::install::{self, Install, Requested};
use crate::chain::rpc::{ClientOptions, HttpSource};
use crate::output::{self, Format};

const AFTER_HELP: &str = "\
A bundle directory holds:
  responses.json      the node's exact JSON-RPC answers (what `verify --bundle` reads)
  install.json        what they say: block, protocol version, contracts, commitment checks
  session.wasm        the uploaded session bytes (caller.wasm: the called factory's stored bytes)
  stored/<contract-hash>.wasm   the stored bytes of each installed contract
Only responses.json is read back: everything else is derived from it, for people.

Examples:
  casper-repro fetch --node http://127.0.0.1:7777 1f2e...9a -o bundle/
  casper-repro verify ./contract --bundle bundle/

Exit status:
  0  saved
  2  error: unknown hash, nothing installed, failed execution, unreachable node, bad answer
     (nothing is written)";

/// Options of the JSON-RPC client.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Time limit of one request to the node, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Further attempts after a failed request (time-out, connection error, HTTP 5xx).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,
}

impl ClientArgs {
    pub fn options(&self) -> ClientOptions {
        ClientOptions {
            timeout: std::time::Duration::from_secs(self.timeout.max(1)),
            retries: self.retries,
            ..ClientOptions::default()
        }
    }
}

/// Fetch an install from a node and save it as a bundle for offline verification.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The node's JSON-RPC URL (1.5 node or 2.x sidecar; `/rpc` is added when there is no path).
    #[arg(long, env = "CASPER_NODE_RPC")]
    node: String,
    /// The deploy or transaction hash (hex; `deploy-` / `transaction-v1-` prefixes accepted).
    hash: String,
    /// The bundle directory to create (must not exist, or be empty).
    #[arg(short, long = "output", value_name = "DIR")]
    output: PathBuf,
    #[command(flatten)]
    client: ClientArgs,
    /// Result format on stdout.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Serialize)]
struct Saved<'a> {
    bundle: String,
    install: &'a Install,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let req = Requested::parse(&args.hash).map_err(anyhow::Error::msg)?;
    check_output_dir(&args.output)?;
    let mut source = HttpSource::new(&args.node, args.client.options())?;
    let install = install::resolve(&mut source, &req)
        .with_context(|| format!("fetching {} from {}", req.hex(), source.url()))?;
    let node = source.url().to_owned();
    save_bundle(&args.output, &install, source.recorded, Some(node))?;
    match args.format {
        Format::Json => output::print_json(
            "fetch",
            &Saved {
                bundle: args.output.display().to_string(),
                install: &install,
            },
        )?,
        Format::Text => output::print_text(&format!(
            "saved {} ({} contract(s), block {}) to {}\n",
            install.transaction.hash,
            install.contracts.len(),
            install.block.as_ref().map_or("unknown".into(), |b| format!(
                "{} at protocol {}",
                b.height, b.protocol_version
            )),
            args.output.display()
        ))?,
    }
    Ok(Outcome::Success)
}

/// A bundle directory may be created there: it does not exist or is an empty directory.
pub fn check_output_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = dir.is_dir() && fs_err::read_dir(dir)?.next().is_none();
        if !empty {
            bail!(
                "{} exists and is not an empty directory: choose a new bundle directory",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Writes the bundle into a temporary directory beside `dir`, then renames it into place: a
/// failure leaves nothing behind.
pub fn save_bundle(
    dir: &Path,
    install: &Install,
    calls: Vec<bundle::Call>,
    node: Option<String>,
) -> anyhow::Result<()> {
    check_output_dir(dir)?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs_err::create_dir_all(&parent)?;
    let tmp = tempfile::Builder::new()
        .prefix(".casper-repro-bundle.")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a temporary directory in {}", parent.display()))?;
    let bundle = Bundle {
        format: bundle::FORMAT,
        api: Some(install.api.as_str().to_owned()),
        transaction_hash: install.transaction_hash_json.clone(),
        node,
        calls,
    };
    let mut responses = serde_json::to_string_pretty(&bundle)?;
    responses.push('\n');
    fs_err::write(tmp.path().join(bundle::RESPONSES), responses)?;
    let mut summary = serde_json::to_string_pretty(install)?;
    summary.push('\n');
    fs_err::write(tmp.path().join("install.json"), summary)?;
    let input_name = match install.installer {
        crate::chain::install::Installer::Session => "session.wasm",
        crate::chain::install::Installer::StoredContract { .. } => "caller.wasm",
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
