//! Landlock, the sandbox's second layer, wherever the kernel has it. Inside bubblewrap, just
//! before cargo, a helper (`casper-repro __landlock-exec`, which calls [`exec`]) restricts itself
//! and then executes cargo, so that cargo, rustc, build scripts and proc-macros inherit the
//! restriction: reading and executing only under the read-only paths, writing only under the
//! writable ones, no TCP bind or connect at all, no signals to processes outside, no abstract unix
//! sockets outside. Should bubblewrap's view be wrong, this still holds.
//!
//! The helper writes one line on what the kernel enforced to a status file that the build cannot
//! write (it is outside the writable paths), and the provenance records it. A kernel without
//! Landlock is said so there; a ruleset that cannot be made stops the build.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, LandlockStatus, RestrictionStatus,
    Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetError, RulesetStatus, Scope,
    path_beneath_rules,
};

/// The ABI whose rights are asked for (file system, TCP, scopes); older kernels get the subset
/// they have, and the status says so.
const ABI_ASKED: ABI = ABI::V6;

/// What the helper is told: where to report, what may be read and executed, what may be
/// written, and what to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub report: PathBuf,
    pub read: Vec<PathBuf>,
    pub write: Vec<PathBuf>,
    pub program: OsString,
    pub args: Vec<OsString>,
}

impl Plan {
    /// The helper's arguments after its subcommand: `--report F (--ro P | --rw P)… -- PROGRAM
    /// ARGS…`.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec!["--report".into(), self.report.clone().into()];
        for p in &self.read {
            a.extend(["--ro".into(), p.clone().into()]);
        }
        for p in &self.write {
            a.extend(["--rw".into(), p.clone().into()]);
        }
        a.push("--".into());
        a.push(self.program.clone());
        a.extend(self.args.iter().cloned());
        a
    }

    /// Parses [`Plan::to_args`]'s form.
    pub fn from_args(args: &[OsString]) -> Result<Plan, String> {
        let mut report = None;
        let mut read = Vec::new();
        let mut write = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = |flag: &str| {
                it.next()
                    .map(PathBuf::from)
                    .ok_or_else(|| format!("{flag} needs a path"))
            };
            match a.to_str() {
                Some("--report") => report = Some(value("--report")?),
                Some("--ro") => read.push(value("--ro")?),
                Some("--rw") => write.push(value("--rw")?),
                Some("--") => {
                    let program = it.next().ok_or("no program after --")?.clone();
                    return Ok(Plan {
                        report: report.ok_or("no --report")?,
                        read,
                        write,
                        program,
                        args: it.cloned().collect(),
                    });
                }
                _ => return Err(format!("unexpected argument {a:?}")),
            }
        }
        Err("no -- before the program".into())
    }
}

/// Restricts this process as `plan` says, writes the status line to `plan.report`, and executes
/// the program. Returns only on failure.
pub fn exec(plan: &Plan) -> std::io::Error {
    // Opened before the restriction: the report's directory is not writable after it.
    let mut report = match std::fs::File::create(&plan.report) {
        Ok(f) => f,
        Err(e) => {
            return std::io::Error::other(format!(
                "creating the Landlock status file {}: {e}",
                plan.report.display()
            ));
        }
    };
    let restricted = restrict(&plan.read, &plan.write);
    let line = match &restricted {
        Ok(s) => describe(s),
        Err(e) => format!("refused: {e}"),
    };
    if let Err(e) = std::io::Write::write_all(&mut report, format!("{line}\n").as_bytes()) {
        return std::io::Error::other(format!(
            "writing the Landlock status to {}: {e}",
            plan.report.display()
        ));
    }
    drop(report);
    if let Err(e) = restricted {
        return std::io::Error::other(format!("Landlock ruleset: {e}"));
    }
    std::process::Command::new(&plan.program)
        .args(&plan.args)
        .exec()
}

fn restrict(read: &[PathBuf], write: &[PathBuf]) -> Result<RestrictionStatus, RulesetError> {
    let abi = ABI_ASKED;
    Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))?
        .handle_access(AccessNet::from_all(abi))?
        .scope(Scope::AbstractUnixSocket | Scope::Signal)?
        .create()?
        .add_rules(path_beneath_rules(read, AccessFs::from_read(abi)))?
        .add_rules(path_beneath_rules(write, AccessFs::from_all(abi)))?
        .restrict_self()
}

/// One line: what the kernel enforces.
fn describe(s: &RestrictionStatus) -> String {
    let abi = match s.landlock {
        LandlockStatus::Available { effective_abi, .. } => format!("ABI {}", effective_abi as i32),
        LandlockStatus::NotEnabled => {
            return "not enforced: Landlock is built into this kernel but not enabled".into();
        }
        LandlockStatus::NotImplemented => {
            return "not enforced: this kernel has no Landlock".into();
        }
    };
    match s.ruleset {
        RulesetStatus::FullyEnforced => format!(
            "fully enforced ({abi}): files, TCP bind and connect, signals and abstract sockets"
        ),
        RulesetStatus::PartiallyEnforced => {
            format!("partially enforced ({abi}: the rights this kernel has)")
        }
        RulesetStatus::NotEnforced => format!("not enforced ({abi})"),
    }
}

/// The status line a helper left, or why there is none.
pub(crate) fn read_report(report: &Path) -> String {
    std::fs::read_to_string(report)
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "no status: the helper did not run".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_survives_its_arguments() {
        let plan = Plan {
            report: "/r".into(),
            read: vec!["/usr".into(), "/etc/ld.so.cache".into()],
            write: vec!["/tmp".into()],
            program: "cargo".into(),
            args: vec!["build".into(), "--".into(), "--rw".into()],
        };
        assert_eq!(Plan::from_args(&plan.to_args()), Ok(plan));
        assert!(Plan::from_args(&["--ro".into()]).is_err());
        assert!(Plan::from_args(&["--report".into(), "/r".into()]).is_err());
    }
}
