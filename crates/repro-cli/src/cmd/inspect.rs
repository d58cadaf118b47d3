//! `casper-repro inspect X.wasm`: a fingerprint of one module, and the mainnet cost-table
//! profiles that plug repro-core's Casper knowledge into repro-diff's generic facts.

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

/// Fingerprint one Wasm module: sections, imports/exports, toolchain, paths, features, metering.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The module.
    pub module: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let bytes = fs_err::read(&args.module)?;
    let profiles = profiles();
    let refs: Vec<&dyn repro_diff::CostProfile> = profiles
        .iter()
        .map(|p| p as &dyn repro_diff::CostProfile)
        .collect();
    let fp = repro_diff::inspect(&bytes, &refs)
        .with_context(|| format!("inspecting {}", args.module.display()))?;
    match args.format {
        Format::Json => output::print_json("inspect", &fp)?,
        Format::Text => output::print_text(&repro_diff::fingerprint_text(&fp))?,
    }
    Ok(Outcome::Success)
}

/// The cost table, stack limit and grow cost of one mainnet protocol version (from repro-core's
/// built-in table), as a repro-diff [`CostProfile`](repro_diff::CostProfile), through
/// [`repro_core::metering`] (the node's instruction → cost mapping over wasmparser operators).
#[derive(Debug)]
pub struct MainnetProfile {
    name: String,
    protocol: repro_core::Protocol,
}

impl MainnetProfile {
    /// The protocol version whose table this is.
    pub fn version(&self) -> repro_core::ProtocolVersion {
        self.protocol.version()
    }
}

impl repro_diff::CostProfile for MainnetProfile {
    fn name(&self) -> &str {
        &self.name
    }
    fn instruction_cost(&self, op: &repro_diff::wasmparser::Operator<'_>) -> Option<u64> {
        repro_core::metering::instruction_cost(&self.protocol, op).map(u64::from)
    }
    fn stack_limit(&self) -> Option<u32> {
        Some(repro_core::metering::stack_limit(&self.protocol))
    }
    fn grow_cost(&self) -> Option<u32> {
        repro_core::metering::grow_cost(&self.protocol)
    }
}

/// One profile per mainnet protocol version in repro-core's table, oldest first.
pub fn profiles() -> Vec<MainnetProfile> {
    repro_core::mainnet::releases()
        .into_iter()
        .filter_map(|r| {
            let protocol = repro_core::Protocol::mainnet(r.version).ok()?;
            Some(MainnetProfile {
                name: format!("mainnet {}", r.version),
                protocol,
            })
        })
        .collect()
}
