//! `casper-repro protocols`: the known mainnet protocol versions, their release line and the Wasm
//! configuration values that end up inside stored contracts.

use crate::repro_core::mainnet::{self, MainnetRelease};
use crate::repro_core::{ControlFlowCosts, Pipeline};
use repro_verify::wire::{ProtocolDoc, ProtocolsDoc};

use crate::Outcome;
use crate::output::{self, Format};

const AFTER_HELP: &str = "\
Examples:
  casper-repro protocols
  casper-repro protocols --format json

Exit status:
  0  always";

/// One line on what `casper-repro protocols` does: in the top-level help and its own.
pub const ABOUT: &str =
    "List the known mainnet protocol versions with their release line and key Wasm config values";

/// The arguments of `casper-repro protocols`.
#[derive(Debug, clap::Args)]
#[command(about = ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// Result format on stdout.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let releases = mainnet::releases();
    let entries: Vec<ProtocolDoc<'_>> = releases
        .iter()
        .map(|r| {
            let pipeline =
                Pipeline::for_version(r.version).expect("every mainnet release is supported");
            ProtocolDoc {
                version: r.version.to_string(),
                activation_era: r.activation_era,
                pipeline,
                crates: pipeline.line.crates(),
                note: r.note,
                wasm: &r.wasm,
            }
        })
        .collect();
    match args.format {
        Format::Json => {
            output::print_json("protocols", &ProtocolsDoc { protocols: entries })?;
        }
        Format::Text => output::print_text(&render(&releases))?,
    }
    Ok(Outcome::Success)
}

fn render(releases: &[MainnetRelease]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<8} {:<15} {:<11} {:>6} {:>6} {:>12} {:>10} {:>8}  crates",
        "version", "line", "gas rules", "memory", "stack", "br", "call", "grow"
    );
    for r in releases {
        let p = Pipeline::for_version(r.version).expect("every mainnet release is supported");
        let c = &r.wasm.opcode_costs;
        let (br, call) = match &c.control_flow {
            ControlFlowCosts::Flat(v) => (format!("{v} (flat)"), format!("{v} (flat)")),
            ControlFlowCosts::PerOpcode(cf) => (cf.br.to_string(), cf.call.to_string()),
        };
        let rules = match p.rules {
            crate::repro_core::GasRules::ClassSet => "class-set",
            crate::repro_core::GasRules::PerOpcode => "per-opcode",
            crate::repro_core::GasRules::CyclesTimesCost => "cycles×cost",
        };
        let _ = writeln!(
            s,
            "{:<8} {:<15} {:<11} {:>6} {:>6} {:>12} {:>10} {:>8}  {}",
            r.version.to_string(),
            p.line.id(),
            rules,
            r.wasm.max_memory,
            r.wasm.max_stack_height,
            br,
            call,
            c.grow_memory,
            p.line.crates()
        );
    }
    s
}
