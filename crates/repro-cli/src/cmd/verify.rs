//! `casper-repro verify`: from a deploy or transaction to a verdict — fetch the install (node,
//! bundle or a saved answer), rebuild the source, replay the node's processing, compare at every
//! stage and explain.

use std::path::PathBuf;

use anyhow::{Context, bail};
use repro_core::{Protocol, ProtocolVersion};

use super::build::BuildOpts;
use super::fetch::ClientArgs;
use crate::Outcome;
use crate::output::{self, Format};
use crate::verify::{self, ConfigSource, Rebuilt};
use repro_chain::bundle::Bundle;
use repro_chain::install::{self, Install, Installer, Requested};
use repro_chain::rpc::HttpSource;

const AFTER_HELP: &str = "\
Stages (each with both sides' sha256):
  1  rebuild vs the uploaded session bytes        a build question
  2  replay(uploaded bytes) vs the stored bytes    a replay / chainspec question (needs no source)
  3  replay(rebuild) vs the stored bytes           the claim: this source is on chain
Without CRATE_DIR (or --wasm) only stage 2 runs. Every contract the transaction installed is checked.

Verdicts: verified, verified-after-normalisation (named steps only), replay-verified (no source
given), mismatch (with the failing stage and ranked causes), untrusted (a chain commitment —
transaction hash, approvals, block hash, merkle proof — failed).

The replay configuration comes from --chainspec, --protocol, or the executing block's protocol
version with the built-in mainnet table.

Examples:
  casper-repro verify ./contract --node http://127.0.0.1:7777 1f2e...9a
  casper-repro verify --node http://127.0.0.1:7777 1f2e...9a          (stage 2 only)
  casper-repro verify ./contract --bundle bundle/ --target wasm32v1-none
  casper-repro verify --wasm target/wasm32-unknown-unknown/release/contract.wasm --bundle bundle/
  casper-repro verify --transaction-json info_get_transaction.json

Exit status:
  0  verified, verified-after-normalisation or replay-verified
  1  mismatch or untrusted
  2  error: unknown hash, nothing installed, failed execution, unreachable node, bad answer,
     a crate that does not build";

/// Verify that a contract on chain was built from a source: fetch, rebuild, replay, compare.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
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
        repro_chain::bundle::check_output_dir(dir)?;
    }

    let install: Install = match (&args.node, &args.bundle, &args.transaction_json) {
        (Some(node), None, None) => {
            let req = hash.context("give the HASH of the deploy or transaction to verify")?;
            let mut source = HttpSource::new(node, args.client.options())?;
            let install = install::resolve(&mut source, &req)
                .with_context(|| format!("fetching {} from {}", req.hex(), source.url()))?;
            if let Some(dir) = &args.save_bundle {
                let url = source.url().to_owned();
                repro_chain::bundle::save(dir, &install, source.recorded, Some(url))?;
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
            install::resolve(&mut bundle, &req)
                .with_context(|| format!("reading {} from bundle {}", req.hex(), dir.display()))?
        }
        (_, None, Some(file)) => {
            let text = fs_err::read_to_string(file)?;
            let answer: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            install::resolve_from_answer(&answer)
                .with_context(|| format!("reading the transaction in {}", file.display()))?
        }
        _ => bail!("give one of --node URL HASH, --bundle DIR or --transaction-json FILE"),
    };

    if let (Some(dir), Installer::StoredContract { contract_hash, .. }) =
        (&crate_dir, &install.installer)
    {
        bail!(
            "this transaction installed its contract(s) by calling the stored contract {contract_hash} (a factory), so there is no uploaded session to rebuild: verify the factory's own install transaction against {} instead; without CRATE_DIR this transaction is checked by replaying the factory's proven stored bytes",
            dir.display()
        );
    }
    let (protocol, configuration) = configuration(&args, &install)?;

    if crate_dir.is_some() && !args.wasm.is_empty() {
        bail!("give either CRATE_DIR (to build it) or --wasm FILE (already built), not both");
    }
    let rebuilt = match &crate_dir {
        None => args
            .wasm
            .iter()
            .map(|path| {
                Ok(Rebuilt {
                    package: path.display().to_string(),
                    bytes: fs_err::read(path)?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?,
        Some(dir) => {
            let out = tempfile::tempdir().context("creating a temporary build output directory")?;
            let req =
                args.build
                    .request(dir.clone(), args.packages.clone(), out.path().to_path_buf())?;
            let built = super::build::build_with_progress(&req)?;
            built
                .artifacts
                .iter()
                .map(|a| {
                    Ok(Rebuilt {
                        package: a.package.clone(),
                        bytes: fs_err::read(&a.path)?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?
        }
    };

    let mut report = verify::verify(install, &protocol, configuration, &rebuilt);
    if let Some(rerun) = &mut report.rerun {
        rerun.command = rerun
            .suggested_protocol
            .as_deref()
            .map(|v| rerun_command(std::env::args().skip(1), v));
    }
    match args.format {
        Format::Json => output::print_json("verify", &report)?,
        Format::Text => output::print_text(&verify::render_text(&report))?,
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

/// The replay configuration: --chainspec / --protocol, else the executing block's protocol
/// version in the built-in mainnet table.
fn configuration(args: &Args, install: &Install) -> anyhow::Result<(Protocol, ConfigSource)> {
    if args.protocol.is_some() || args.chainspec.is_some() {
        let protocol = super::replay::resolve_protocol(args.protocol, args.chainspec.as_deref())?;
        let from = match &args.chainspec {
            Some(f) => format!("chainspec {}", f.display()),
            None => "--protocol, built-in mainnet table".into(),
        };
        let version = protocol.version().to_string();
        if let Some(block) = &install.block
            && block.protocol_version != version
        {
            tracing::warn!(
                "replaying with protocol {version} but the executing block ran protocol {}",
                block.protocol_version
            );
        }
        return Ok((
            protocol,
            ConfigSource {
                protocol_version: version,
                from,
                assumption: None,
            },
        ));
    }
    // The executing block's protocol version; without the block, the one the node wrote into the
    // installed Contract record (2.x effects carry it).
    let (text, from) = match (&install.block, install.contracts.first()) {
        (Some(block), _) => (block.protocol_version.as_str(), "the executing block's"),
        (None, Some(c)) => (
            c.record_protocol_version.as_str(),
            "the installed Contract record's (the block is not available)",
        ),
        (None, None) => bail!(
            "the executing block is not available, so its protocol version is unknown: give --protocol VERSION or --chainspec FILE"
        ),
    };
    let version: ProtocolVersion = text
        .parse()
        .map_err(|e| anyhow::anyhow!("the protocol version `{text}`: {e}"))?;
    let chain = &install.transaction.chain_name;
    if chain == "casper" {
        return Ok((
            Protocol::mainnet(version)?,
            ConfigSource {
                protocol_version: version.to_string(),
                from: format!("{from} protocol version, built-in mainnet table"),
                assumption: None,
            },
        ));
    }
    // Another network: the node's own chainspec, if it is the one of that protocol version (a
    // node serves its current chainspec, which is not the one of an older block).
    let node = install
        .node_chainspec
        .as_deref()
        .map(|text| repro_core::parse_chainspec(text).map(|parsed| (parsed, text)));
    let mut why_not_node = String::from("the node served no chainspec");
    match node {
        Some(Ok((parsed, text))) if parsed.version == version => {
            let protocol =
                Protocol::from_chainspec(&parsed, "the node's chainspec", text.as_bytes())?;
            let network_note = match &parsed.network {
                Some(n) if n != chain => Some(format!(
                    "the node's chainspec names network `{n}`, the transaction chain `{chain}`"
                )),
                _ => None,
            };
            return Ok((
                protocol,
                ConfigSource {
                    protocol_version: version.to_string(),
                    from: format!(
                        "the node's chainspec (info_get_chainspec, protocol {version} = {from})"
                    ),
                    assumption: network_note,
                },
            ));
        }
        Some(Ok((parsed, _))) => {
            why_not_node = format!(
                "the node's chainspec is for protocol {}, not {version}",
                parsed.version
            );
        }
        Some(Err(e)) => why_not_node = format!("the node's chainspec does not parse: {e}"),
        None => {}
    }
    let protocol = Protocol::mainnet(version)?;
    let assumption = Some(format!(
        "chain `{chain}` is not mainnet (`casper`) and {why_not_node}: its Wasm configuration was assumed to be mainnet {version}'s; give --chainspec for that network's own"
    ));
    Ok((
        protocol,
        ConfigSource {
            protocol_version: version.to_string(),
            from: format!("{from} protocol version, built-in mainnet table"),
            assumption,
        },
    ))
}
