//! `casper-repro __landlock-exec` (hidden): the build sandbox's second layer. Run by the sandbox
//! inside bubblewrap, never by hand: applies Landlock (repro-build's `sandbox::landlock`) and
//! executes the build's cargo. Exits 125 with a `casper-repro-sandbox:` line when it cannot.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use crate::repro_build::sandbox::landlock;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `--report FILE (--ro PATH | --rw PATH)… -- PROGRAM ARGS…`
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

pub fn run(args: Args) -> ExitCode {
    let why = match landlock::Plan::from_args(&args.args) {
        Ok(plan) => landlock::exec(&plan).to_string(),
        Err(e) => e,
    };
    let _ = writeln!(std::io::stderr(), "casper-repro-sandbox: {why}");
    ExitCode::from(125)
}
