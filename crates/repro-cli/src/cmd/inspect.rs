//! `casper-repro inspect X.wasm`: a fingerprint of one module, with the mainnet cost tables it
//! fits.

use std::path::PathBuf;

use anyhow::Context;

use crate::Outcome;
use crate::output::{self, Format};

const AFTER_HELP: &str = "\
Examples:
  casper-repro inspect contract.wasm
  casper-repro inspect stored.wasm --format json

Exit status:
  0  the module was read and fingerprinted
  2  error: unreadable or malformed input (with the byte offset)";

/// One line on what `casper-repro inspect` does: in the top-level help and its own.
pub const ABOUT: &str =
    "Fingerprint one Wasm module: sections, imports/exports, toolchain, paths, features, metering";

/// The arguments of `casper-repro inspect`.
#[derive(Debug, clap::Args)]
#[command(about = ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// The module.
    pub module: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let bytes = fs_err::read(&args.module)?;
    let profiles = repro_verify::profiles::mainnet();
    let fp = crate::repro_diff::inspect(&bytes, &repro_verify::profiles::as_dyn(&profiles))
        .with_context(|| format!("inspecting {}", args.module.display()))?;
    match args.format {
        Format::Json => output::print_json("inspect", &fp)?,
        Format::Text => output::print_text(&crate::repro_diff::fingerprint_text(&fp))?,
    }
    Ok(Outcome::Success)
}
