//! `casper-repro`: runs `replay` itself, in a binary that holds nothing else, and hands every other
//! command line to `casper-repro-full` (see `repro_cli::front` for why).

use std::process::ExitCode;

use clap::Parser;
use repro_cli::front::{self, FrontCli, FrontCommand};

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if !front::runs_here(&args, std::env::var_os("RUST_LOG").is_some()) {
        return front::hand_over(&args);
    }
    let cli = FrontCli::parse_from(args);
    repro_cli::logging::init_levels(&cli.global);
    let outcome = match cli.command {
        FrontCommand::Replay(args) => repro_cli::cmd::replay::run(args, cli.global.verbose > 0),
    };
    repro_cli::exit_code(outcome)
}
