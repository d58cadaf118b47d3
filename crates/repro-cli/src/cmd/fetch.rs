//! `casper-repro fetch`: save everything a verification needs from a node as a bundle directory
//! that `verify --bundle DIR` re-checks offline.

use std::path::PathBuf;

use anyhow::Context;
use repro_verify::wire::FetchDoc;

use crate::Outcome;
use crate::output::{self, Format};
use crate::repro_chain::bundle;
use crate::repro_chain::install::{self, Requested};
use crate::repro_chain::rpc::HttpSource;

use crate::flags::{ClientArgs, TrustArgs};

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

/// One line on what `casper-repro fetch` does: in the top-level help and its own.
pub const ABOUT: &str =
    "Fetch an install from a node and save it as a bundle for offline verification";

/// The arguments of `casper-repro fetch`.
#[derive(Debug, clap::Args)]
#[command(about = ABOUT, after_help = AFTER_HELP)]
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
    /// With --trusted-block, the bundle also holds every answer the finality check took, so that
    /// it re-checks offline.
    #[command(flatten)]
    trust: TrustArgs,
    /// Result format on stdout.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let req = Requested::parse(&args.hash).map_err(anyhow::Error::msg)?;
    bundle::check_output_dir(&args.output)?;
    let trust = args.trust.trust()?;
    let mut source = HttpSource::new(&args.node, args.client.options())?;
    let install = install::resolve_trusting(&mut source, &req, &trust)
        .with_context(|| format!("fetching {} from {}", req.hex(), source.url()))?;
    let node = source.url().to_owned();
    bundle::save(&args.output, &install, source.recorded, Some(node))?;
    match args.format {
        Format::Json => output::print_json(
            "fetch",
            &FetchDoc {
                bundle: args.output.display().to_string(),
                install: &install,
            },
        )?,
        Format::Text => output::print_text(&format!(
            "saved {} ({} contract(s), block {}) to {}\nchain commitments:\n{}",
            install.transaction.hash,
            install.contracts.len(),
            install.block.as_ref().map_or("unknown".into(), |b| format!(
                "{} at protocol {}",
                b.height, b.protocol_version
            )),
            args.output.display(),
            repro_verify::text::render_checks(&install.checks)
        ))?,
    }
    Ok(Outcome::Success)
}
