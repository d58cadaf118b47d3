//! `casper-repro-full`: every command of `casper-repro`. `casper-repro` hands it every command line
//! but `replay` (see `repro_cli::front`); `cargo run -p repro-cli` runs it directly.

use std::process::ExitCode;

use clap::Parser;
use repro_cli::{Cli, Command, cmd};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        // Inside the build sandbox, in front of cargo: no logging, nothing on stdout.
        Command::LandlockExec(args) => cmd::landlock_exec::run(args),
        command => {
            repro_cli::init_logging(&cli.global);
            repro_cli::exit_code(repro_cli::run(command, &cli.global))
        }
    }
}
