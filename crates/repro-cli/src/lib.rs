//! `casper-repro`'s commands: argument definitions, one module per subcommand, and the rendering
//! of their results. Two binaries use it (see `front`): `casper-repro`, which runs `replay` itself
//! and hands every other command to `casper-repro-full`, which runs them all. Each binary only
//! parses its arguments, installs the tracing subscriber, runs one subcommand and maps the outcome
//! to an exit code. The libraries below never print; subcommands return what to print.
//!
//! Exit status: 0 success (or "identical" / "verified"), 1 a negative verdict ("different",
//! "mismatch"), 2 an error (bad input, rejected module, I/O). A panic is a bug.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The libraries below repro-verify, reached through it: the CLI's only arrow is cli → verify.
use repro_verify::{repro_build, repro_chain, repro_core, repro_diff};

pub mod cmd;
mod flags;
pub mod front;
pub mod logging;
mod output;
mod progress;

/// Prove a Casper contract on chain was built from a given source, or say exactly why not.
#[derive(Debug, Parser)]
#[command(
    name = "casper-repro",
    bin_name = "casper-repro",
    version,
    about,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// More logging on stderr (-v debug, -vv trace). `RUST_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

// `defer`: a subcommand's arguments are built only when that subcommand runs, not all of them
// at every start (measured in docs/fidelity.md: process start is most of what separates a
// small replay from the node's own pipeline).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    #[command(about = cmd::build::ABOUT)]
    Build(Box<cmd::build::Args>),
    #[command(about = cmd::replay::ABOUT)]
    Replay(cmd::replay::Args),
    #[command(about = cmd::protocols::ABOUT)]
    Protocols(cmd::protocols::Args),
    #[command(about = cmd::diff::ABOUT)]
    Diff(cmd::diff::Args),
    #[command(about = cmd::inspect::ABOUT)]
    Inspect(cmd::inspect::Args),
    #[command(about = cmd::verify::ABOUT)]
    Verify(Box<cmd::verify::Args>),
    #[command(about = cmd::fetch::ABOUT)]
    Fetch(cmd::fetch::Args),
    #[command(about = cmd::serve::ABOUT)]
    Serve(Box<cmd::serve::Args>),
    #[command(about = cmd::serve::WORKER_ABOUT)]
    Worker(Box<cmd::serve::WorkerArgs>),
    #[command(about = cmd::batch::ABOUT)]
    Batch(cmd::batch::Args),
    /// The build sandbox's Landlock layer (run by the sandbox, not by hand).
    #[command(name = "__landlock-exec", hide = true)]
    LandlockExec(cmd::landlock_exec::Args),
}

/// What a subcommand decided; the exit code follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Success, identical, verified: exit 0.
    Success,
    /// A negative verdict that is not an error (different, mismatch): exit 1.
    Negative,
}

/// Runs one subcommand (in `casper-repro-full`; `casper-repro` runs only `replay`, directly).
pub fn run(command: Command, global: &GlobalArgs) -> anyhow::Result<Outcome> {
    match command {
        Command::Build(args) => cmd::build::run(*args),
        Command::Replay(args) => cmd::replay::run(args, global.verbose > 0),
        Command::Protocols(args) => cmd::protocols::run(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Verify(args) => cmd::verify::run(*args),
        Command::Fetch(args) => cmd::fetch::run(args),
        Command::Serve(args) => cmd::serve::run(*args),
        Command::Worker(args) => cmd::serve::run_worker(*args),
        Command::Batch(args) => cmd::batch::run(args),
        Command::LandlockExec(_) => Err(anyhow::anyhow!(
            "__landlock-exec is run by the build sandbox only"
        )),
    }
}

/// The exit code of a subcommand's outcome; an error is printed on stderr with its causes.
pub fn exit_code(result: anyhow::Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Negative) => ExitCode::from(1),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {err}");
            for cause in err.chain().skip(1) {
                let _ = writeln!(stderr, "  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Installs the tracing subscriber on stderr: `-v` debug, `-vv` trace, `-q` errors, `RUST_LOG`
/// overrides (see `logging`).
pub fn init_logging(global: &GlobalArgs) {
    logging::init(global);
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
