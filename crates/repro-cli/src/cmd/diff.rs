//! `casper-repro diff A.wasm B.wasm`: a structural diff of two modules with ranked probable causes.

use std::path::PathBuf;

use anyhow::Context;

use crate::Outcome;
use crate::output::{self, Format};

const AFTER_HELP: &str = "\
Examples:
  casper-repro diff onchain.wasm rebuilt.wasm
  casper-repro diff onchain.wasm rebuilt.wasm --format json
  casper-repro diff a.wasm b.wasm --function call --context 5

Exit status:
  0  the modules are byte-identical
  1  the modules differ (the report says where and why)
  2  error: unreadable or malformed input (with the byte offset)";

/// One line on what `casper-repro diff` does: in the top-level help and its own.
pub const ABOUT: &str =
    "Compare two Wasm modules: sections, items, functions, data, and the probable cause";

/// The arguments of `casper-repro diff`.
#[derive(Debug, clap::Args)]
#[command(about = ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// The reference module (e.g. the on-chain bytes).
    pub a: PathBuf,
    /// The module to compare with it (e.g. the rebuild).
    pub b: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Show only this function (absolute index, name-section name or export name), as WAT diff.
    #[arg(long, value_name = "N|NAME")]
    pub function: Option<String>,
    /// Lines of context in WAT diffs.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub context: usize,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let a = fs_err::read(&args.a)?;
    let b = fs_err::read(&args.b)?;
    let profiles = repro_verify::profiles::mainnet();
    let options = crate::repro_diff::DiffOptions {
        wat: match args.function {
            Some(f) => crate::repro_diff::WatSelection::Function(f),
            None => crate::repro_diff::WatSelection::Default,
        },
        context: args.context,
        profiles: repro_verify::profiles::as_dyn(&profiles),
    };
    let mut report = crate::repro_diff::diff(&a, &b, &options).with_context(|| {
        format!(
            "comparing {} (A) with {} (B)",
            args.a.display(),
            args.b.display()
        )
    })?;
    repro_verify::toolchain::name_compilers(&mut report);
    match args.format {
        Format::Json => output::print_json("diff", &report)?,
        Format::Text => output::print_text(&crate::repro_diff::diff_text(&report))?,
    }
    Ok(if report.identical {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
