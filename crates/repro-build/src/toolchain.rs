//! The toolchain pin: read from `rust-toolchain` / `rust-toolchain.toml` (walking up from the
//! crate to the workspace root) or given; installed through rustup with the wasm target when
//! missing; verified with `rustc -vV`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{BuildError, tail};
use crate::exec::{HostEnv, Invocation};
use crate::{Progress, ProgressEvent};

pub mod infer;

/// Where the toolchain name came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PinSource {
    /// A `rust-toolchain(.toml)` file; path relative to the workspace root.
    File { path: String },
    /// `--toolchain`.
    Explicit,
    /// `--toolchain auto`: inferred from a module (what it was inferred from, in words).
    Inferred { from: String },
}

/// Finds the pin: the nearest `rust-toolchain.toml` or `rust-toolchain` from `crate_dir` up to and
/// including `ws_root` (rustup's precedence: `rust-toolchain` wins over `.toml` in one directory).
pub fn find_pin(crate_dir: &Path, ws_root: &Path) -> Result<Option<(String, PathBuf)>, BuildError> {
    let mut dir = Some(crate_dir);
    while let Some(d) = dir {
        for name in ["rust-toolchain", "rust-toolchain.toml"] {
            let p = d.join(name);
            if p.is_file() {
                let text = fs_err::read_to_string(&p)?;
                let channel = parse_pin(&text).map_err(|reason| BuildError::BadToolchainFile {
                    path: p.clone(),
                    reason,
                })?;
                return Ok(Some((channel, p)));
            }
        }
        if d == ws_root {
            break;
        }
        dir = d.parent();
    }
    Ok(None)
}

/// Parses the legacy one-line format or the TOML `[toolchain] channel = "…"` format.
pub fn parse_pin(text: &str) -> Result<String, String> {
    if text.contains("[toolchain]") {
        let value: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
        let channel = value
            .get("toolchain")
            .and_then(|t| t.get("channel"))
            .and_then(|c| c.as_str())
            .ok_or_else(|| {
                "no `channel` in [toolchain] (a `path` toolchain cannot be reproduced)".to_owned()
            })?;
        return Ok(channel.trim().to_owned());
    }
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    match line {
        Some(l) if !l.contains(char::is_whitespace) => Ok(l.to_owned()),
        Some(l) => Err(format!("`{l}` is not a toolchain name")),
        None => Err("empty file".to_owned()),
    }
}

/// A resolved, installed and verified toolchain.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Toolchain {
    /// The name as pinned (`nightly-2023-01-09`, `1.77.2`).
    pub name: String,
    /// Where the name came from.
    pub pin: PinSource,
    /// The toolchain's `bin/` directory.
    #[serde(skip)]
    pub bin_dir: PathBuf,
    /// Full `rustc -vV` output.
    pub rustc_vv: String,
    /// `cargo -V` output.
    pub cargo_v: String,
    /// `release:` of `rustc -vV`.
    pub release: String,
    /// `commit-hash:` of `rustc -vV`.
    pub commit_hash: String,
    /// `host:` of `rustc -vV`.
    pub host: String,
}

impl Toolchain {
    pub fn rustc(&self) -> PathBuf {
        self.bin_dir.join("rustc")
    }
    pub fn cargo(&self) -> PathBuf {
        self.bin_dir.join("cargo")
    }
    /// The environment of a cargo step of this toolchain that compiles nothing (lock
    /// resolution, vendoring): the host's base, this toolchain's rustc named explicitly
    /// (`RUSTC`) and no rustc wrapper, so that a project's `.cargo/config.toml` cannot make cargo
    /// run a program of its own.
    pub fn env(&self, host: &crate::HostEnv) -> std::collections::BTreeMap<String, String> {
        let mut env = host.base_env();
        env.insert("RUSTC".into(), self.rustc().display().to_string());
        crate::exec::without_wrappers(env)
    }
    /// `(minor, is_nightly)` of cargo, from `cargo -V` (e.g. `cargo 1.68.0-nightly (…)`).
    pub fn cargo_minor(&self) -> (u32, bool) {
        parse_cargo_version(&self.cargo_v)
    }
}

/// `(minor, is_nightly)` from a `cargo -V` line.
pub fn parse_cargo_version(cargo_v: &str) -> (u32, bool) {
    let ver = cargo_v.split_whitespace().nth(1).unwrap_or("");
    let minor = ver
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    (minor, ver.contains("nightly") || ver.contains("dev"))
}

fn field(vv: &str, key: &str) -> String {
    vv.lines()
        .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_owned()))
        .unwrap_or_default()
}

fn rustup_toolchain_dir(host: &HostEnv, name: &str, host_triple: &str) -> PathBuf {
    let dir_name = if name.ends_with(host_triple) {
        name.to_owned()
    } else {
        format!("{name}-{host_triple}")
    };
    host.rustup_home.join("toolchains").join(dir_name)
}

/// The host triple of this machine as rustup names toolchains.
pub const HOST_TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// Makes sure `name` is installed with `target`, installing through rustup unless `offline`.
/// Says so through `progress` before installing.
pub fn ensure(
    host: &HostEnv,
    name: &str,
    pin: PinSource,
    target: &str,
    offline: bool,
    progress: &mut dyn Progress,
) -> Result<Toolchain, BuildError> {
    let dir = rustup_toolchain_dir(host, name, HOST_TRIPLE);
    let env = host.base_env();
    let installed = dir.join("bin/rustc").is_file() && dir.join("bin/cargo").is_file();
    let has_target = dir.join("lib/rustlib").join(target).join("lib").is_dir();
    if !(installed && has_target) {
        if offline {
            return Err(BuildError::OfflineInstallRefused {
                toolchain: name.into(),
                target: target.into(),
            });
        }
        let rustup = which("rustup", &host.path).ok_or(BuildError::NoRustup)?;
        let inv = if installed {
            progress.event(ProgressEvent::Step(&format!(
                "installing target {target} for toolchain {name} via rustup"
            )));
            Invocation::new(&rustup, Path::new("/"), env.clone()).args([
                "target",
                "add",
                "--toolchain",
                name,
                target,
            ])
        } else {
            progress.event(ProgressEvent::Step(&format!(
                "installing toolchain {name} (profile minimal, target {target}) via rustup"
            )));
            Invocation::new(&rustup, Path::new("/"), env.clone()).args([
                "toolchain",
                "install",
                name,
                "--profile",
                "minimal",
                "--target",
                target,
                "--no-self-update",
            ])
        };
        tracing::debug!(args = ?inv.args, "rustup");
        let out = inv.output()?;
        if !out.success {
            let stderr_tail = tail(&out.stderr, 12);
            let lower = out.stderr.to_lowercase();
            if lower.contains("rust-std")
                && (lower.contains("unavailable") || lower.contains("not available"))
                || lower.contains(&format!("target '{target}'")) && lower.contains("unavailable")
            {
                return Err(BuildError::TargetUnavailable {
                    toolchain: name.into(),
                    target: target.into(),
                    stderr_tail,
                });
            }
            return Err(BuildError::UnknownToolchain {
                toolchain: name.into(),
                stderr_tail,
            });
        }
        if !dir.join("lib/rustlib").join(target).join("lib").is_dir() {
            return Err(BuildError::TargetUnavailable {
                toolchain: name.into(),
                target: target.into(),
                stderr_tail: tail(&out.stderr, 12),
            });
        }
    }
    verify(host, name, pin, &dir)
}

/// Runs `rustc -vV` and `cargo -V` of the toolchain in `dir` and checks them against the name.
fn verify(host: &HostEnv, name: &str, pin: PinSource, dir: &Path) -> Result<Toolchain, BuildError> {
    let env = host.base_env();
    let bin = dir.join("bin");
    let rustc = Invocation::new(bin.join("rustc"), Path::new("/"), env.clone())
        .arg("-vV")
        .output()?;
    let cargo = Invocation::new(bin.join("cargo"), Path::new("/"), env)
        .arg("-V")
        .output()?;
    if !rustc.success || !cargo.success {
        return Err(BuildError::UnknownToolchain {
            toolchain: name.into(),
            stderr_tail: tail(&format!("{}{}", rustc.stderr, cargo.stderr), 12),
        });
    }
    let rustc_vv = rustc.stdout.trim_end().to_owned();
    let release = field(&rustc_vv, "release:");
    let commit_hash = field(&rustc_vv, "commit-hash:");
    let commit_date = field(&rustc_vv, "commit-date:");
    // A dated nightly is built from the previous day's commit: nightly-2023-01-09 reports
    // commit-date 2023-01-08. Check the channel and that the date is at most one day before.
    let expected_ok = if let Some(date) = name.strip_prefix("nightly-") {
        release.contains("nightly") && date_close(&commit_date, &date[..date.len().min(10)])
    } else if name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        let want = name.split('-').next().unwrap_or(name);
        release == want
            || (want.matches('.').count() == 1 && release.starts_with(&format!("{want}.")))
    } else {
        true
    };
    if !expected_ok || commit_hash.len() != 40 {
        return Err(BuildError::ToolchainMismatch {
            toolchain: name.into(),
            expected: name.into(),
            found: format!("release {release}, commit {commit_hash} ({commit_date})"),
        });
    }
    Ok(Toolchain {
        name: name.into(),
        pin,
        bin_dir: bin,
        rustc_vv,
        cargo_v: cargo.stdout.trim().to_owned(),
        release,
        commit_hash,
        host: field(&rustc.stdout, "host:"),
    })
}

/// Checks that the installed rustc was built from `commit` (a prefix of `rustc -vV`'s commit-hash),
/// as a toolchain inferred from a module must be.
pub fn check_commit(tc: &Toolchain, inferred: &infer::Inferred) -> Result<(), BuildError> {
    if tc
        .commit_hash
        .starts_with(&inferred.commit.to_ascii_lowercase())
    {
        return Ok(());
    }
    Err(BuildError::ToolchainMismatch {
        toolchain: tc.name.clone(),
        expected: format!(
            "a rustc built from commit {}, {}",
            inferred.commit, inferred.rustc
        ),
        found: format!("release {}, commit {}", tc.release, tc.commit_hash),
    })
}

/// `commit` is the same day as `date` or up to two days before (nightlies are cut from the last
/// merge of the previous day; on days without a merge the commit is older).
fn date_close(commit: &str, date: &str) -> bool {
    fn days(d: &str) -> Option<i64> {
        let mut it = d.split('-').map(|x| x.parse::<i64>().ok());
        let (y, m, dd) = (it.next()??, it.next()??, it.next()??);
        // days from civil (Howard Hinnant)
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + dd - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(era * 146_097 + doe)
    }
    match (days(commit), days(date)) {
        (Some(c), Some(d)) => (0..=3).contains(&(d - c)),
        _ => false,
    }
}

/// Finds `program` on a `PATH`-like string.
pub(crate) fn which(program: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_pin_formats() {
        assert_eq!(
            parse_pin("nightly-2023-01-09\n").unwrap(),
            "nightly-2023-01-09"
        );
        assert_eq!(
            parse_pin("[toolchain]\nchannel = \"nightly-2023-03-25\"\ntargets = [\"wasm32-unknown-unknown\"]\n")
                .unwrap(),
            "nightly-2023-03-25"
        );
        assert!(parse_pin("").is_err());
        assert!(parse_pin("[toolchain]\npath = \"/x\"\n").is_err());
    }

    #[test]
    fn nightly_dates_match_their_commit_date() {
        assert!(date_close("2023-01-08", "2023-01-09"));
        assert!(date_close("2023-03-24", "2023-03-25"));
        assert!(!date_close("2023-03-26", "2023-03-25"));
        assert!(!date_close("2022-12-01", "2023-03-25"));
    }

    #[test]
    fn cargo_versions() {
        assert_eq!(
            parse_cargo_version("cargo 1.68.0-nightly (8c460b223 2023-01-04)"),
            (68, true)
        );
        assert_eq!(
            parse_cargo_version("cargo 1.77.2 (e52e36006 2024-03-26)"),
            (77, false)
        );
    }
}
