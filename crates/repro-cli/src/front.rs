//! The split between the two binaries.
//!
//! `casper-repro replay` is meant to cost what the node's own pipeline costs, as a whole process
//! (docs/fidelity.md, "The whole command"). A process start is paid in page faults: every page of
//! code it runs and every page the dynamic loader relocates. The binary that holds every command
//! (the service, casper-types, rustls, the build sandbox: 27 MB, 14 000 relocations) took 60 % more
//! page faults than the engine on a small module, so `replay` runs in a binary that holds nothing
//! else: `casper-repro`. It hands every other command line, unchanged (the same arguments, the
//! same `argv[0]`), to `casper-repro-full` in its own directory, by `exec`: the same process, so
//! the same exit code, for one more program start in commands that take far longer anyway. Both
//! parsers call the program `casper-repro`, so usage lines do not depend on which one answers.
//!
//! The rule is a table of one row: the first argument that is not a global flag names the
//! subcommand, and only [`RUNS_HERE`] run here. Anything else, `--help`, `--version`, errors and
//! all, is decided by `casper-repro-full`, so both binaries answer exactly alike. So is a command
//! line with `RUST_LOG` set: its directives are parsed there (`logging`), which keeps a directive
//! parser (regular expressions) out of this binary.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{GlobalArgs, cmd};

/// The binary that runs every command, installed next to `casper-repro`.
pub const FULL: &str = "casper-repro-full";

/// The subcommands `casper-repro` runs itself.
pub const RUNS_HERE: &[&str] = &["replay"];

/// `casper-repro`'s own parser: the same global flags and the same `replay` arguments as
/// [`crate::Cli`], and nothing else.
#[derive(Debug, Parser)]
#[command(
    name = "casper-repro",
    bin_name = "casper-repro",
    version,
    about,
    max_term_width = 100
)]
pub struct FrontCli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: FrontCommand,
}

/// The subcommands in [`RUNS_HERE`].
#[derive(Debug, Subcommand)]
pub enum FrontCommand {
    #[command(about = cmd::replay::ABOUT)]
    Replay(cmd::replay::Args),
}

/// Whether this command line runs in `casper-repro` (`args` includes `argv[0]`), in an
/// environment where `RUST_LOG` is set or not.
pub fn runs_here(args: &[OsString], rust_log: bool) -> bool {
    if rust_log {
        return false;
    }
    let subcommand = args
        .iter()
        .skip(1)
        .find(|a| !is_global_flag(a))
        .and_then(|a| a.to_str());
    subcommand.is_some_and(|s| RUNS_HERE.contains(&s))
}

/// `-v`, `-vv`, `-q`, `--verbose`, `--quiet`: the flags that may come before the subcommand.
fn is_global_flag(arg: &OsStr) -> bool {
    match arg.to_str() {
        Some("--verbose" | "--quiet") => true,
        Some(s) => {
            s.len() > 1 && s.starts_with('-') && s[1..].chars().all(|c| c == 'v' || c == 'q')
        }
        None => false,
    }
}

/// Replaces this process with `casper-repro-full` and the same command line. Returns only when
/// that fails, with exit status 2 and the reason.
pub fn hand_over(args: &[OsString]) -> ExitCode {
    use std::os::unix::process::CommandExt;

    let full = match full_path() {
        Ok(path) => path,
        Err(e) => return refuse(&e),
    };
    let mut command = std::process::Command::new(&full);
    command.args(args.iter().skip(1));
    if let Some(arg0) = args.first() {
        command.arg0(arg0);
    }
    let err = command.exec();
    let why = if err.kind() == std::io::ErrorKind::NotFound {
        format!(
            "{FULL} is not installed next to casper-repro (looked for {}): it runs every command \
             but `replay`; build or install both binaries of repro-cli \
             (`cargo build -p repro-cli`, `cargo install --locked --path crates/repro-cli`)",
            full.display()
        )
    } else {
        format!("could not run {}: {err}", full.display())
    };
    refuse(&why)
}

/// `casper-repro-full` in this program's own directory (symbolic links resolved).
fn full_path() -> Result<PathBuf, String> {
    let me = std::env::current_exe()
        .map_err(|e| format!("could not find this program's own path to run {FULL}: {e}"))?;
    Ok(me.with_file_name(FULL))
}

fn refuse(why: &str) -> ExitCode {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "error: {why}");
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: &[&str]) -> Vec<OsString> {
        std::iter::once("casper-repro")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn only_replay_runs_here_whatever_global_flags_come_first() {
        for args in [
            &["replay", "x.wasm"][..],
            &["-v", "replay"],
            &["-vv", "--quiet", "replay", "--help"],
            &["--verbose", "replay"],
        ] {
            assert!(runs_here(&line(args), false), "{args:?}");
            assert!(!runs_here(&line(args), true), "RUST_LOG and {args:?}");
        }
        for args in [
            &[][..],
            &["--help"],
            &["--version"],
            &["help", "replay"],
            &["verify", "replay"],
            &["-x", "replay"],
            &["--format", "replay"],
            &["--", "replay"],
            &["-", "replay"],
            &["inspect"],
            &["Replay"],
        ] {
            assert!(!runs_here(&line(args), false), "{args:?}");
        }
    }

    /// The front's `replay` is the same command as the full binary's: same arguments, same help.
    #[test]
    fn the_front_parser_is_the_full_parser_for_replay() {
        use clap::CommandFactory;
        FrontCli::command().debug_assert();
        let mut front = FrontCli::command();
        let mut full = crate::Cli::command();
        let front_help = front
            .find_subcommand_mut("replay")
            .expect("replay")
            .render_long_help()
            .to_string();
        let full_help = full
            .find_subcommand_mut("replay")
            .expect("replay")
            .render_long_help()
            .to_string();
        assert_eq!(front_help, full_help);
        assert_eq!(front.get_version(), full.get_version());
    }
}
