//! `casper-repro verify`: from a deploy or transaction to a verdict — fetch the install (node,
//! bundle or a saved answer), rebuild the source, replay the node's processing, compare at every
//! stage and explain.

use std::path::PathBuf;

use crate::repro_chain::bundle::Bundle;
use crate::repro_chain::install::{self, Install, Requested};
use crate::repro_chain::rpc::HttpSource;
use crate::repro_core::ProtocolVersion;
use anyhow::{Context, bail};
use repro_verify::config::Explicit;
use repro_verify::wire::VerifyDoc;
use repro_verify::{Artifacts, Rebuilt};

use crate::Outcome;
use crate::flags::{BuildOpts, ChainspecFile, ClientArgs, TrustArgs};
use crate::output::{self, Format};
use crate::progress::StderrProgress;

const AFTER_HELP: &str = "\
Stages (each with both sides' sha256):
  1  rebuild vs the uploaded session bytes        a build question
  2  replay(uploaded bytes) vs the stored bytes    a replay / chainspec question (needs no source)
  3  replay(rebuild) vs the stored bytes           the claim: this source is on chain
Without CRATE_DIR (or --wasm) only stage 2 runs. Every contract the transaction installed is checked.

Verdicts: verified, verified-after-normalisation (named steps only), replay-verified (no source
given), mismatch (with the failing stage and ranked causes), untrusted (a chain commitment —
transaction hash, approvals, block hash, merkle proof — failed).

The rebuild's toolchain: the source's pin, or --toolchain NAME, or --toolchain auto (the rustc
that built the uploaded module, from its producers section or its /rustc/<commit>/ paths). A source
that pins nothing is refused, and a pin of just stable/nightly/beta is reported as not reproducible,
with what --toolchain auto would use.

The replay configuration comes from --chainspec, --protocol, or the executing block's protocol
version with the built-in mainnet table.

Examples:
  casper-repro verify ./contract --node http://127.0.0.1:7777 1f2e...9a
  casper-repro verify --node http://127.0.0.1:7777 1f2e...9a          (stage 2 only)
  casper-repro verify ./contract --bundle bundle/ --target wasm32v1-none
  casper-repro verify ./contract --bundle bundle/ --toolchain auto
  casper-repro verify --wasm target/wasm32-unknown-unknown/release/contract.wasm --bundle bundle/
  casper-repro verify --transaction-json info_get_transaction.json

Exit status:
  0  verified, verified-after-normalisation or replay-verified
  1  mismatch or untrusted
  2  error: unknown hash, nothing installed, failed execution, unreachable node, bad answer,
     a crate that does not build";

/// One line on what `casper-repro verify` does: in the top-level help and its own.
pub const ABOUT: &str =
    "Verify that a contract on chain was built from a source: fetch, rebuild, replay, compare";

/// The arguments of `casper-repro verify`.
#[derive(Debug, clap::Args)]
#[command(about = ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    // The brackets are clap's help text, not a doc link.
    #[allow(rustdoc::broken_intra_doc_links)]
    /// [CRATE_DIR] and, with --node, the HASH of the deploy or transaction (either order; the
    /// hash is the 64-hex-digit one).
    #[arg(value_name = "CRATE_DIR|HASH", num_args = 0..=2)]
    positional: Vec<String>,
    /// Fetch from this node's JSON-RPC (1.5 node or 2.x sidecar). --bundle and
    /// --transaction-json take precedence.
    #[arg(long, env = "CASPER_NODE_RPC")]
    node: Option<String>,
    /// Re-run offline from a bundle saved by `casper-repro fetch`.
    #[arg(long, value_name = "DIR", conflicts_with = "transaction_json")]
    bundle: Option<PathBuf>,
    /// A node's info_get_transaction / info_get_deploy answer saved in a file (2.x answers carry
    /// the stored bytes; 1.x answers need --node or --bundle for them).
    #[arg(long, value_name = "FILE")]
    transaction_json: Option<PathBuf>,
    /// Replay with this mainnet protocol version instead of the block's.
    #[arg(long)]
    protocol: Option<ProtocolVersion>,
    /// Replay with this network's chainspec (testnet, private networks).
    #[arg(long, value_name = "FILE")]
    chainspec: Option<PathBuf>,
    /// Compare these already built artifacts instead of building CRATE_DIR (e.g. the output of
    /// the project's own build); repeat for several.
    #[arg(long = "wasm", value_name = "FILE")]
    wasm: Vec<PathBuf>,
    /// Package(s) of CRATE_DIR to build; the artifact that matches is found among them.
    #[arg(short = 'p', long = "package", value_name = "PKG")]
    packages: Vec<String>,
    #[command(flatten)]
    build: BuildOpts,
    /// With --node: also save the node's answers as a bundle in DIR.
    #[arg(long, value_name = "DIR", requires = "node")]
    save_bundle: Option<PathBuf>,
    #[command(flatten)]
    client: ClientArgs,
    #[command(flatten)]
    trust: TrustArgs,
    /// Result format on stdout.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn looks_like_hash(s: &str) -> bool {
    Requested::parse(s).is_ok() && !std::path::Path::new(s).exists()
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (hashes, dirs): (Vec<&String>, Vec<&String>) =
        args.positional.iter().partition(|s| looks_like_hash(s));
    if hashes.len() > 1 || dirs.len() > 1 {
        bail!(
            "give at most one CRATE_DIR and one HASH (got {:?})",
            args.positional
        );
    }
    let crate_dir = dirs.first().map(PathBuf::from);
    if let Some(dir) = &crate_dir
        && !dir.is_dir()
    {
        bail!(
            "{} is neither a crate directory nor a transaction hash (64 hex digits)",
            dir.display()
        );
    }
    let hash = hashes
        .first()
        .map(|h| Requested::parse(h))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if let Some(dir) = &args.save_bundle {
        crate::repro_chain::bundle::check_output_dir(dir)?;
    }

    let trust = args.trust.trust()?;
    let install: Install = match (&args.node, &args.bundle, &args.transaction_json) {
        (Some(node), None, None) => {
            let req = hash.context("give the HASH of the deploy or transaction to verify")?;
            let mut source = HttpSource::new(node, args.client.options())?;
            let install = install::resolve_trusting(&mut source, &req, &trust)
                .with_context(|| format!("fetching {} from {}", req.hex(), source.url()))?;
            if let Some(dir) = &args.save_bundle {
                let url = source.url().to_owned();
                crate::repro_chain::bundle::save(dir, &install, source.recorded, Some(url))?;
            }
            install
        }
        (_, Some(dir), None) => {
            let mut bundle = Bundle::load(dir)?;
            let req = match hash {
                Some(h) => h,
                None => Requested::parse(bundle.hash_hex().unwrap_or_default())
                    .map_err(anyhow::Error::msg)
                    .with_context(|| {
                        format!("the bundle {} names no transaction", dir.display())
                    })?,
            };
            install::resolve_trusting(&mut bundle, &req, &trust)
                .with_context(|| format!("reading {} from bundle {}", req.hex(), dir.display()))?
        }
        (_, None, Some(file)) => {
            if trust.anchor.is_some() {
                bail!(
                    "--trusted-block checks the executing block's signers, which a saved transaction answer does not carry: give --node URL or --bundle DIR"
                );
            }
            let text = fs_err::read_to_string(file)?;
            let answer: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            install::resolve_from_answer(&answer)
                .with_context(|| format!("reading the transaction in {}", file.display()))?
        }
        _ => bail!("give one of --node URL HASH, --bundle DIR or --transaction-json FILE"),
    };

    if crate_dir.is_some() && !args.wasm.is_empty() {
        bail!("give either CRATE_DIR (to build it) or --wasm FILE (already built), not both");
    }
    let chainspec = args
        .chainspec
        .as_deref()
        .map(ChainspecFile::read)
        .transpose()?;
    let explicit = Explicit {
        protocol: args.protocol,
        chainspec: chainspec.as_ref().map(ChainspecFile::as_chainspec),
    };
    // Kept until the report is made: the build writes its artifacts there.
    let out = tempfile::tempdir().context("creating a temporary build output directory")?;
    let artifacts = match &crate_dir {
        None if args.wasm.is_empty() => Artifacts::None,
        None => Artifacts::Files(
            args.wasm
                .iter()
                .map(|path| {
                    Ok(Rebuilt {
                        package: path.display().to_string(),
                        artifact: None,
                        bytes: fs_err::read(path)?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
        Some(dir) => {
            let (req, recipe) =
                args.build
                    .request(dir.clone(), args.packages.clone(), out.path().to_path_buf())?;
            crate::progress::report_recipe(&recipe);
            Artifacts::Build(Box::new(req))
        }
    };
    let mut progress = StderrProgress::new();
    let report = repro_verify::run(install, &explicit, artifacts, &mut progress);
    progress.finish();
    let mut report = report?;
    if let Some(rerun) = &mut report.rerun {
        rerun.command = rerun
            .suggested_protocol
            .as_deref()
            .map(|v| rerun_command(std::env::args().skip(1), v));
    }
    match args.format {
        Format::Json => output::print_json("verify", &VerifyDoc::from(&report))?,
        Format::Text => output::print_text(&repro_verify::text::render_text(&report))?,
    }
    Ok(if report.verdict.is_positive() {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// This command line with `--protocol VERSION` instead of any `--protocol` / `--chainspec`.
fn rerun_command(args: impl Iterator<Item = String>, version: &str) -> String {
    let mut out = vec!["casper-repro".to_owned()];
    let mut skip_value = false;
    for a in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if a == "--protocol" || a == "--chainspec" {
            skip_value = true;
            continue;
        }
        if a.starts_with("--protocol=") || a.starts_with("--chainspec=") {
            continue;
        }
        out.push(shell_word(&a));
    }
    out.push("--protocol".into());
    out.push(version.into());
    out.join(" ")
}

/// `s` quoted for a POSIX shell when it needs to be.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@+%".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
