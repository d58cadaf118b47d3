//! Dependencies: using a committed `Cargo.lock`, or reconstructing one as of a date with nightly
//! cargo's `generate-lockfile -Zunstable-options --publish-time`, pinning the yanked versions that
//! resolution skipped, and writing the lock version (and registry access) the pinned cargo needs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{BuildError, tail};
use crate::exec::{HostEnv, Invocation};
use crate::toolchain::Toolchain;

/// `--lock-at`: a UTC instant, or the crate's last git commit time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAt {
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    Instant(String),
    /// The committer time of `HEAD` in the crate's repository.
    Git,
}

impl LockAt {
    /// Parses `git`, `YYYY-MM-DD` (the end of that day, UTC) or `YYYY-MM-DDTHH:MM:SS(Z|+00:00)`.
    pub fn parse(value: &str) -> Result<Self, BuildError> {
        let bad = |reason: &str| BuildError::BadLockAt {
            value: value.into(),
            reason: reason.into(),
        };
        if value == "git" {
            return Ok(Self::Git);
        }
        let is_date = |s: &str| {
            s.len() == 10
                && s.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                })
        };
        if is_date(value) {
            return Ok(Self::Instant(format!("{value}T23:59:59Z")));
        }
        let (date, time) = value
            .split_once('T')
            .ok_or_else(|| bad("expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or git"))?;
        let time = time
            .strip_suffix('Z')
            .or_else(|| time.strip_suffix("+00:00"))
            .ok_or_else(|| bad("give the time in UTC (ending in Z or +00:00)"))?;
        let time_ok = time.len() == 8
            && time.bytes().enumerate().all(|(i, b)| {
                if i == 2 || i == 5 {
                    b == b':'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !is_date(date) || !time_ok {
            return Err(bad("expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or git"));
        }
        Ok(Self::Instant(format!("{date}T{time}Z")))
    }

    /// The instant, reading git for [`LockAt::Git`].
    pub fn resolve(&self, host: &HostEnv, crate_dir: &Path) -> Result<String, BuildError> {
        match self {
            Self::Instant(s) => Ok(s.clone()),
            Self::Git => {
                let git = crate::toolchain::which("git", &host.path).ok_or_else(|| {
                    BuildError::BadLockAt {
                        value: "git".into(),
                        reason: "git not found on PATH".into(),
                    }
                })?;
                let out = Invocation::new(git, crate_dir, host.base_env())
                    .args(["log", "-1", "--format=%ct"])
                    .output()?;
                let secs: i64 = out
                    .stdout
                    .trim()
                    .parse()
                    .map_err(|_| BuildError::BadLockAt {
                        value: "git".into(),
                        reason: format!(
                            "{} is not in a git repository with a commit: {}",
                            crate_dir.display(),
                            out.stderr.trim()
                        ),
                    })?;
                Ok(utc_from_unix(secs))
            }
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` from Unix seconds.
pub fn utc_from_unix(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil from days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// How the pinned cargo reaches crates.io.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistryAccess {
    /// The sparse index, as this cargo does by default (1.70+) or by config (1.68, 1.69).
    Sparse,
    /// The sparse index behind `-Z sparse-registry` (1.66–1.69 nightlies).
    SparseUnstable,
    /// A vendored directory source prepared with a modern cargo (cargo older than that).
    Vendored,
}

impl RegistryAccess {
    /// The access the cargo of `(minor, nightly)` needs to reach today's crates.io (its git index
    /// is not reachable here, and old cargo has no sparse support).
    pub fn for_cargo(minor: u32, nightly: bool) -> Self {
        if minor >= 70 || (minor >= 68 && !nightly) {
            Self::Sparse
        } else if nightly && minor >= 66 {
            Self::SparseUnstable
        } else {
            Self::Vendored
        }
    }

    /// Extra cargo arguments (before the subcommand's own).
    pub fn cargo_flags(self) -> &'static [&'static str] {
        match self {
            Self::SparseUnstable => &["-Z", "sparse-registry"],
            _ => &[],
        }
    }

    /// Extra environment.
    pub fn env(self, minor: u32) -> Vec<(String, String)> {
        match self {
            Self::SparseUnstable => vec![(
                "CARGO_REGISTRIES_CRATES_IO_PROTOCOL".into(),
                "sparse".into(),
            )],
            Self::Sparse if minor < 71 => vec![(
                "CARGO_REGISTRIES_CRATES_IO_PROTOCOL".into(),
                "sparse".into(),
            )],
            _ => vec![],
        }
    }
}

/// The lock file version cargo of `minor` reads: 4 from 1.78, 3 from 1.53, 2 before.
pub fn lock_version_for(minor: u32) -> u32 {
    if minor >= 78 {
        4
    } else if minor >= 53 {
        3
    } else {
        2
    }
}

/// Rewrites the `version = N` line of a lock file to `version` (2 has no line).
pub fn rewrite_lock_version(lock: &str, version: u32) -> String {
    let mut out = String::with_capacity(lock.len());
    let mut done = false;
    for line in lock.lines() {
        if !done && line.starts_with("version = ") {
            done = true;
            if version >= 3 {
                out.push_str(&format!("version = {version}\n"));
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !done && version >= 3 {
        // A v2 lock has no version line; put it after the header comments.
        let split = out.find("\n[[package]]").map(|i| i + 1).unwrap_or(0);
        out.insert_str(split, &format!("version = {version}\n\n"));
    }
    out
}

/// What reconstruction did, for the provenance.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Reconstruction {
    /// The cut-off instant given to `--publish-time`.
    pub publish_time: String,
    /// `cargo -V` of the resolving nightly.
    pub resolver_cargo: String,
    /// Requirements that nothing but a version yanked after the cut-off satisfies (resolution
    /// skipping yanked versions failed): resolved against the index as of the cut-off, in which
    /// these versions are not yanked. Cargo builds a lock that names a yanked version.
    #[serde(default)]
    pub yanked_required: Vec<YankedRequirement>,
    /// Yanked versions published before the cut-off that resolution skipped and were pinned.
    pub yanked_pins: Vec<YankedPin>,
    /// Packages that a yanked pin pulled in at a version published after the cut-off (`cargo
    /// update` has no `--publish-time`), moved back to the newest version published before it.
    #[serde(default)]
    pub cutoff_downgrades: Vec<YankedPin>,
    /// Lock entries still published after the cut-off (should be empty; a warning otherwise).
    pub after_cutoff: Vec<String>,
    /// Lock version written.
    pub lock_version: u32,
}

/// One `cargo update --precise` of a yanked version.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct YankedPin {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// A requirement only a later-yanked version satisfied at the cut-off.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct YankedRequirement {
    pub name: String,
    /// The requirement as cargo reported it (`^1.6.0`).
    pub requirement: String,
    /// The package that requires it, as cargo reported it.
    pub required_by: String,
    /// The yanked versions published at or before the cut-off that were made available.
    pub versions: Vec<String>,
}

/// What `cargo generate-lockfile` said when a requirement matched only yanked versions.
#[derive(Debug, Clone, PartialEq, Eq)]
struct YankedFailure {
    name: String,
    requirement: String,
    required_by: String,
    yanked: Vec<String>,
}

/// Reads cargo's "failed to select a version for the requirement `NAME = "REQ"`" error whose
/// candidates are all yanked (`version X is yanked`).
fn yanked_failure(stderr: &str) -> Option<YankedFailure> {
    let rest = stderr
        .split("failed to select a version for the requirement `")
        .nth(1)?;
    let (req, _) = rest.split_once('`')?;
    let (name, requirement) = req.split_once(" = ")?;
    let yanked: Vec<String> = stderr
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("version ")?
                .strip_suffix(" is yanked")
                .map(str::to_owned)
        })
        .collect();
    if yanked.is_empty() {
        return None;
    }
    let required_by = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("required by package `"))
        .and_then(|l| l.split_once('`'))
        .map(|(p, _)| p.split(" (").next().unwrap_or(p).to_owned())
        .unwrap_or_default();
    Some(YankedFailure {
        name: name.trim().to_owned(),
        requirement: requirement.trim().trim_matches('"').to_owned(),
        required_by,
        yanked,
    })
}

/// The crate cargo could not find in a local registry (`no matching package named `X` found`).
fn missing_package(stderr: &str) -> Option<String> {
    let rest = stderr.split("no matching package named `").nth(1)?;
    rest.split_once('`').map(|(n, _)| n.to_owned())
}

/// Resolves `ws` as of `publish_time` against a local copy of the crates.io index (cargo's own
/// sparse-index cache) in which the versions yanked *after* the cut-off that a requirement needs
/// are not yanked, and every version published after the cut-off is absent. The lock written
/// names the crates.io source, as if resolved against crates.io that day. Index files the cache
/// lacks are fetched by resolving a scratch manifest that depends on the crate.
fn resolve_as_of(
    host: &HostEnv,
    resolver: &Toolchain,
    ws: &Path,
    publish_time: &str,
    first_stderr: &str,
) -> Result<Vec<YankedRequirement>, BuildError> {
    let fail = |reason: String, stderr: &str| BuildError::LockReconstruction {
        lock_at: publish_time.into(),
        reason,
        stderr_tail: tail(stderr, 20),
    };
    let scratch = ws
        .parent()
        .ok_or_else(|| fail("the private copy has no parent directory".into(), ""))?;
    let overlay = scratch.join("index-as-of");
    let mut required: Vec<YankedRequirement> = Vec::new();
    let mut fetched = std::collections::BTreeSet::new();
    let mut stderr = first_stderr.to_owned();
    for _round in 0..64 {
        if let Some(f) = yanked_failure(&stderr) {
            let entries = index_entries(host, &f.name)?.unwrap_or_default();
            let eligible: Vec<String> = f
                .yanked
                .iter()
                .filter(|v| {
                    entries.iter().any(|e| {
                        &e.vers == *v && e.pubtime.as_deref().is_some_and(|t| t <= publish_time)
                    })
                })
                .cloned()
                .collect();
            let known = required.iter().any(|r| r.name == f.name);
            if eligible.is_empty() || known {
                return Err(fail(
                    format!(
                        "`{} = \"{}\"` (required by {}) matches only versions yanked today, and none of them ({}) was published by the cut-off",
                        f.name,
                        f.requirement,
                        f.required_by,
                        f.yanked.join(", ")
                    ),
                    &stderr,
                ));
            }
            tracing::info!(name = %f.name, requirement = %f.requirement, ?eligible, "requirement met only by versions yanked after the cut-off");
            required.push(YankedRequirement {
                name: f.name,
                requirement: f.requirement,
                required_by: f.required_by,
                versions: eligible,
            });
        } else if let Some(name) = missing_package(&stderr) {
            if !fetched.insert(name.clone()) {
                return Err(fail(
                    format!("crates.io's index has no entry for `{name}` that cargo could read"),
                    &stderr,
                ));
            }
            fetch_index_entry(host, resolver, scratch, &name)?;
        } else {
            return Err(fail(
                "cargo generate-lockfile against the index as of the cut-off failed".into(),
                &stderr,
            ));
        }
        write_index_as_of(host, &overlay, publish_time, &required)?;
        let out = Invocation::new(resolver.cargo(), ws, resolver.env(host))
            .args([
                "generate-lockfile",
                "-Zunstable-options",
                "--publish-time",
                publish_time,
                "--config",
                "source.crates-io.replace-with=\"casper-repro-as-of\"",
                "--config",
            ])
            .arg(format!(
                "source.casper-repro-as-of.local-registry={}",
                toml::Value::String(overlay.display().to_string())
            ))
            .output()?;
        if out.success {
            return Ok(required);
        }
        stderr = out.stderr;
    }
    Err(fail(
        "resolution against the index as of the cut-off did not settle".into(),
        &stderr,
    ))
}

/// Fills cargo's index cache with `name`'s entry by resolving a scratch manifest that depends on
/// it (no code of the project runs).
fn fetch_index_entry(
    host: &HostEnv,
    resolver: &Toolchain,
    scratch: &Path,
    name: &str,
) -> Result<(), BuildError> {
    let dir = scratch.join(format!("index-fetch-{name}"));
    fs_err::create_dir_all(dir.join("src"))?;
    fs_err::write(dir.join("src/lib.rs"), "")?;
    fs_err::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"casper-repro-index-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\n{} = \"*\"\n\n[workspace]\n",
            toml::Value::String(name.to_owned())
        ),
    )?;
    let out = Invocation::new(resolver.cargo(), &dir, resolver.env(host))
        .args(["generate-lockfile"])
        .output()?;
    if !out.success {
        // The entry may still have been cached; the next resolution tells.
        tracing::info!(%name, stderr = %tail(&out.stderr, 3), "index fetch resolution failed");
    }
    Ok(())
}

/// Writes a local-registry index (`index/<path>` of JSON lines) from cargo's sparse-index cache:
/// versions published after `publish_time` left out, the `required` yanked versions un-yanked.
fn write_index_as_of(
    host: &HostEnv,
    overlay: &Path,
    publish_time: &str,
    required: &[YankedRequirement],
) -> Result<(), BuildError> {
    let index = overlay.join("index");
    if index.exists() {
        fs_err::remove_dir_all(&index)?;
    }
    fs_err::create_dir_all(&index)?;
    // Newest cache file per crate path, across the index directories cargo has used.
    let mut newest: BTreeMap<PathBuf, (std::time::SystemTime, PathBuf)> = BTreeMap::new();
    let Ok(dirs) = fs_err::read_dir(host.cargo_home.join("registry/index")) else {
        return Ok(());
    };
    for d in dirs.flatten() {
        let cache = d.path().join(".cache");
        for file in walk_files(&cache) {
            let Ok(rel) = file.strip_prefix(&cache) else {
                continue;
            };
            let modified = std::fs::metadata(&file)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            let slot = newest
                .entry(rel.to_path_buf())
                .or_insert((modified, file.clone()));
            if modified > slot.0 {
                *slot = (modified, file);
            }
        }
    }
    for (rel, (_, file)) in newest {
        let mut lines = String::new();
        for (_, json) in index_cache_records(&fs_err::read(&file)?) {
            let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(json) else {
                continue;
            };
            if value
                .get("pubtime")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t > publish_time)
            {
                continue;
            }
            let name = value.get("name").and_then(|n| n.as_str()).unwrap_or("");
            let vers = value.get("vers").and_then(|n| n.as_str()).unwrap_or("");
            if required
                .iter()
                .any(|r| r.name == name && r.versions.iter().any(|v| v == vers))
            {
                value["yanked"] = serde_json::Value::Bool(false);
            }
            lines.push_str(&value.to_string());
            lines.push('\n');
        }
        let path = index.join(rel);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::write(path, lines)?;
    }
    Ok(())
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => out.extend(walk_files(&path)),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
    out
}

/// One version in the registry index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub vers: String,
    pub yanked: bool,
    pub pubtime: Option<String>,
}

/// Reconstructs `Cargo.lock` in `ws` (the private copy) as of `publish_time`.
pub fn reconstruct(
    host: &HostEnv,
    resolver: &Toolchain,
    ws: &Path,
    publish_time: &str,
    target_cargo_minor: u32,
) -> Result<Reconstruction, BuildError> {
    let env = resolver.env(host);
    let fail = |reason: &str, stderr: &str| BuildError::LockReconstruction {
        lock_at: publish_time.into(),
        reason: reason.into(),
        stderr_tail: tail(stderr, 20),
    };
    let out = Invocation::new(resolver.cargo(), ws, env.clone())
        .args([
            "generate-lockfile",
            "-Zunstable-options",
            "--publish-time",
            publish_time,
        ])
        .output()?;
    let mut yanked_required = Vec::new();
    if !out.success {
        if yanked_failure(&out.stderr).is_none() {
            return Err(fail(
                "cargo generate-lockfile --publish-time failed",
                &out.stderr,
            ));
        }
        // A requirement that only a version yanked *after* the cut-off satisfies: resolve again
        // against an index as of the cut-off in which those versions are not yanked.
        yanked_required = resolve_as_of(host, resolver, ws, publish_time, &out.stderr)?;
    }
    let mut pins = Vec::new();
    let mut cutoff_downgrades = Vec::new();
    let mut tried = std::collections::BTreeSet::new();
    for _round in 0..8 {
        let lock = read_lock(ws)?;
        let mut changed = false;
        for (name, vers) in registry_packages(&lock) {
            let Some(entries) = index_entries(host, &name)? else {
                continue;
            };
            let Some(to) = yanked_candidate(&entries, &vers, publish_time) else {
                continue;
            };
            if !tried.insert((name.clone(), vers.clone(), to.clone())) {
                continue;
            }
            // Tentative: a pin is kept only if the whole graph can then be resolved from versions
            // published before the cut-off (as the resolver of that day had to).
            let saved = fs_err::read_to_string(ws.join("Cargo.lock"))?;
            let out = Invocation::new(resolver.cargo(), ws, env.clone())
                .args(["update", "-Zunstable-options", "-p"])
                .arg(format!("{name}@{vers}"))
                .args(["--precise", &to])
                .output()?;
            if !out.success {
                tracing::info!(%name, %to, stderr = %tail(&out.stderr, 3), "yanked version not eligible");
                continue;
            }
            let moved = downgrade_after_cutoff(host, resolver, ws, publish_time)?;
            let late = late_entries(host, ws, publish_time)?;
            if !late.is_empty() {
                tracing::info!(%name, %to, ?late, "yanked version not eligible: it needs versions published after the cut-off");
                fs_err::write(ws.join("Cargo.lock"), saved)?;
                continue;
            }
            tracing::info!(%name, from = %vers, %to, "pinned a version yanked after the cut-off");
            pins.push(YankedPin {
                name,
                from: vers,
                to,
            });
            cutoff_downgrades.extend(moved);
            changed = true;
        }
        if !changed {
            break;
        }
    }
    let after_cutoff = late_entries(host, ws, publish_time)?;
    if !after_cutoff.is_empty() {
        tracing::warn!(?after_cutoff, "lock entries published after the cut-off");
    }
    let lock_version = lock_version_for(target_cargo_minor);
    let text = fs_err::read_to_string(ws.join("Cargo.lock"))?;
    fs_err::write(
        ws.join("Cargo.lock"),
        rewrite_lock_version(&text, lock_version),
    )?;
    Ok(Reconstruction {
        publish_time: publish_time.into(),
        resolver_cargo: resolver.cargo_v.clone(),
        yanked_required,
        yanked_pins: pins,
        cutoff_downgrades,
        after_cutoff,
        lock_version,
    })
}

/// Moves every lock entry published after `publish_time` back to the newest version published at
/// or before it that the dependents accept (tried newest first, as the resolver would have).
fn downgrade_after_cutoff(
    host: &HostEnv,
    resolver: &Toolchain,
    ws: &Path,
    publish_time: &str,
) -> Result<Vec<YankedPin>, BuildError> {
    let mut moved = Vec::new();
    for _round in 0..8 {
        let lock = read_lock(ws)?;
        let mut changed = false;
        for (name, vers) in registry_packages(&lock) {
            let Some(entries) = index_entries(host, &name)? else {
                continue;
            };
            let late = entries
                .iter()
                .find(|e| e.vers == vers)
                .is_some_and(|e| e.pubtime.as_deref().is_some_and(|t| t > publish_time));
            let Some(current) = parse_semver(&vers) else {
                continue;
            };
            if !late {
                continue;
            }
            let mut candidates: Vec<(Semver, &IndexEntry)> = entries
                .iter()
                .filter(|e| e.pubtime.as_deref().is_some_and(|t| t <= publish_time))
                .filter_map(|e| Some((parse_semver(&e.vers)?, e)))
                .filter(|(v, _)| *v < current)
                .collect();
            candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
            for (_, candidate) in candidates.iter().take(12) {
                let out = Invocation::new(resolver.cargo(), ws, resolver.env(host))
                    .args(["update", "-Zunstable-options", "-p"])
                    .arg(format!("{name}@{vers}"))
                    .args(["--precise", &candidate.vers])
                    .output()?;
                if out.success {
                    tracing::info!(%name, from = %vers, to = %candidate.vers, "moved back before the cut-off");
                    moved.push(YankedPin {
                        name: name.clone(),
                        from: vers.clone(),
                        to: candidate.vers.clone(),
                    });
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            break;
        }
    }
    Ok(moved)
}

/// `name version` of every lock entry published after `publish_time`.
fn late_entries(host: &HostEnv, ws: &Path, publish_time: &str) -> Result<Vec<String>, BuildError> {
    let lock = read_lock(ws)?;
    let mut late = Vec::new();
    for (name, vers) in registry_packages(&lock) {
        if let Some(entries) = index_entries(host, &name)?
            && let Some(e) = entries.iter().find(|e| e.vers == vers)
            && e.pubtime.as_deref().is_some_and(|t| t > publish_time)
        {
            late.push(format!("{name} {vers}"));
        }
    }
    Ok(late)
}

fn read_lock(ws: &Path) -> Result<toml::Value, BuildError> {
    crate::source::read_manifest(&ws.join("Cargo.lock"))
}

/// `(name, version)` of every crates.io package in a lock.
fn registry_packages(lock: &toml::Value) -> Vec<(String, String)> {
    lock.get("package")
        .and_then(|p| p.as_array())
        .map(|pkgs| {
            pkgs.iter()
                .filter(|p| {
                    p.get("source")
                        .and_then(|s| s.as_str())
                        .is_some_and(|s| s.contains("crates.io-index"))
                })
                .filter_map(|p| {
                    Some((
                        p.get("name")?.as_str()?.to_owned(),
                        p.get("version")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The relative path of a crate's file in the index (`1/a`, `3/s/syn`, `se/rd/serde`).
pub fn index_path(name: &str) -> String {
    let n = name.to_lowercase();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

/// Reads a crate's entries from cargo's local sparse-index cache (filled by the resolution).
fn index_entries(host: &HostEnv, name: &str) -> Result<Option<Vec<IndexEntry>>, BuildError> {
    let index = host.cargo_home.join("registry/index");
    let Ok(dirs) = fs_err::read_dir(&index) else {
        return Ok(None);
    };
    let mut candidates: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for d in dirs.flatten() {
        let p = d.path().join(".cache").join(index_path(name));
        if let Ok(meta) = std::fs::metadata(&p) {
            candidates.push((meta.modified().unwrap_or(std::time::UNIX_EPOCH), p));
        }
    }
    candidates.sort();
    let Some((_, newest)) = candidates.pop() else {
        return Ok(None);
    };
    Ok(Some(parse_index_cache(&fs_err::read(newest)?)))
}

/// The `(version, json)` records of cargo's index cache file (layout: see [`parse_index_cache`]).
fn index_cache_records(bytes: &[u8]) -> Vec<(&[u8], &[u8])> {
    if bytes.len() < 5 {
        return Vec::new();
    }
    let mut parts = bytes[5..].split(|b| *b == 0);
    let _revision = parts.next();
    let mut out = Vec::new();
    while let (Some(v), Some(json)) = (parts.next(), parts.next()) {
        out.push((v, json));
    }
    out
}

/// Parses cargo's index cache file: a version byte, a u32 index version, the revision, then
/// NUL-separated `(version, json)` pairs.
pub fn parse_index_cache(bytes: &[u8]) -> Vec<IndexEntry> {
    let mut out = Vec::new();
    for (_, json) in index_cache_records(bytes) {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) else {
            continue;
        };
        let Some(vers) = value.get("vers").and_then(|v| v.as_str()) else {
            continue;
        };
        out.push(IndexEntry {
            vers: vers.to_owned(),
            yanked: value
                .get("yanked")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            pubtime: value
                .get("pubtime")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
        });
    }
    out
}

type Semver = (u64, u64, u64);

fn parse_semver(v: &str) -> Option<Semver> {
    let core = v.split('+').next()?;
    if core.contains('-') {
        return None; // pre-releases are never picked by a plain requirement
    }
    let mut it = core.split('.').map(|x| x.parse::<u64>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

/// Cargo's compatibility bucket: same major, or same minor for 0.x, or same patch for 0.0.x.
fn compatible(a: Semver, b: Semver) -> bool {
    match (a.0, b.0) {
        (0, 0) if a.1 == 0 && b.1 == 0 => a.2 == b.2,
        (0, 0) => a.1 == b.1,
        (x, y) => x == y,
    }
}

/// The highest yanked version, compatible with `chosen`, newer than it, and published at or
/// before `cutoff`, if it is also newer than every non-yanked candidate (otherwise resolution
/// would have picked that one and the yank made no difference).
pub fn yanked_candidate(entries: &[IndexEntry], chosen: &str, cutoff: &str) -> Option<String> {
    let chosen_v = parse_semver(chosen)?;
    let best = entries
        .iter()
        .filter(|e| e.pubtime.as_deref().is_some_and(|t| t <= cutoff))
        .filter_map(|e| Some((parse_semver(&e.vers)?, e)))
        .filter(|(v, _)| compatible(*v, chosen_v) && *v > chosen_v)
        .max_by_key(|(v, _)| *v)?;
    best.1.yanked.then(|| best.1.vers.clone())
}

/// Prepares a vendored directory source for cargo too old for the sparse index: `cargo vendor`
/// with the modern `resolver` cargo into `vendor_dir`, and a `.cargo/config` in `config_root` (an
/// ancestor of the build's working directory, outside the source copy) that replaces crates.io.
pub fn vendor(
    host: &HostEnv,
    resolver: &Toolchain,
    ws: &Path,
    vendor_dir: &Path,
    config_root: &Path,
) -> Result<(), BuildError> {
    // `cargo vendor` needs a lock its own cargo reads; work on a copy of the manifest's lock.
    let out = Invocation::new(resolver.cargo(), ws, resolver.env(host))
        .args([
            "vendor",
            "--versioned-dirs",
            "--locked",
            "--respect-source-config",
        ])
        .arg(vendor_dir.display().to_string())
        .output()?;
    if !out.success {
        return Err(BuildError::FetchFailed {
            status: out.status,
            stderr_tail: tail(&out.stderr, 20),
        });
    }
    let dir = config_root.join(".cargo");
    fs_err::create_dir_all(&dir)?;
    let config = format!(
        "[source.crates-io]\nreplace-with = \"casper-repro-vendored\"\n\n[source.casper-repro-vendored]\ndirectory = \"{}\"\n",
        vendor_dir.display()
    );
    fs_err::write(dir.join("config"), config)?;
    Ok(())
}

/// The registry source directory name the pinned cargo would have used against the git index,
/// for the default remap of a vendored source.
pub const GIT_INDEX_SRC_DIR: &str = "github.com-1ecc6299db9ec823";

/// Digest and version of a lock file.
pub fn lock_facts(ws: &Path) -> Result<(String, BTreeMap<String, Vec<String>>), BuildError> {
    let bytes = fs_err::read(ws.join("Cargo.lock"))?;
    let lock: toml::Value = toml::from_str(&String::from_utf8_lossy(&bytes))
        .map_err(|e| BuildError::parse("Cargo.lock", e))?;
    Ok((
        crate::source::sha256_hex(&bytes),
        registry_packages(&lock)
            .into_iter()
            .fold(BTreeMap::new(), |mut m, (name, vers)| {
                m.entry(name).or_insert_with(Vec::new).push(vers);
                m
            }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(v: &str, yanked: bool, t: &str) -> IndexEntry {
        IndexEntry {
            vers: v.into(),
            yanked,
            pubtime: Some(t.into()),
        }
    }

    #[test]
    fn lock_at_forms() {
        assert_eq!(
            LockAt::parse("2023-01-09").unwrap(),
            LockAt::Instant("2023-01-09T23:59:59Z".into())
        );
        assert_eq!(
            LockAt::parse("2023-01-09T10:00:00Z").unwrap(),
            LockAt::Instant("2023-01-09T10:00:00Z".into())
        );
        assert_eq!(
            LockAt::parse("2023-01-09T10:00:00+00:00").unwrap(),
            LockAt::Instant("2023-01-09T10:00:00Z".into())
        );
        assert_eq!(LockAt::parse("git").unwrap(), LockAt::Git);
        assert!(LockAt::parse("2023-01-09T10:00:00+02:00").is_err());
        assert!(LockAt::parse("yesterday").is_err());
    }

    #[test]
    fn unix_to_utc() {
        assert_eq!(utc_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_from_unix(1_673_222_400), "2023-01-09T00:00:00Z");
        assert_eq!(utc_from_unix(1_709_251_199), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn registry_access_per_cargo() {
        assert_eq!(
            RegistryAccess::for_cargo(68, true),
            RegistryAccess::SparseUnstable
        );
        assert_eq!(RegistryAccess::for_cargo(70, true), RegistryAccess::Sparse);
        assert_eq!(RegistryAccess::for_cargo(68, false), RegistryAccess::Sparse);
        assert_eq!(
            RegistryAccess::for_cargo(67, false),
            RegistryAccess::Vendored
        );
        assert_eq!(
            RegistryAccess::for_cargo(54, true),
            RegistryAccess::Vendored
        );
    }

    #[test]
    fn lock_versions() {
        assert_eq!(lock_version_for(68), 3);
        assert_eq!(lock_version_for(77), 3);
        assert_eq!(lock_version_for(78), 4);
        assert_eq!(lock_version_for(52), 2);
        let v4 = "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n\n[[package]]\nname = \"a\"\n";
        let v3 = rewrite_lock_version(v4, 3);
        assert!(v3.contains("\nversion = 3\n") && !v3.contains("version = 4"));
        let v2 = rewrite_lock_version(v4, 2);
        assert!(!v2.contains("version = "));
        assert!(rewrite_lock_version(&v2, 3).contains("version = 3\n\n[[package]]"));
    }

    #[test]
    fn index_paths() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("syn"), "3/s/syn");
        assert_eq!(index_path("Serde"), "se/rd/serde");
    }

    #[test]
    fn parses_cargo_index_cache() {
        let mut bytes = vec![3u8, 2, 0, 0, 0];
        bytes.extend_from_slice(b"Unknown\0");
        bytes.extend_from_slice(b"0.1.0\0{\"name\":\"x\",\"vers\":\"0.1.0\",\"yanked\":true,\"pubtime\":\"2020-12-17T19:20:36Z\"}\0");
        bytes.extend_from_slice(b"0.1.1\0{\"name\":\"x\",\"vers\":\"0.1.1\",\"yanked\":false}\0");
        let entries = parse_index_cache(&bytes);
        assert_eq!(
            entries,
            vec![
                IndexEntry {
                    vers: "0.1.0".into(),
                    yanked: true,
                    pubtime: Some("2020-12-17T19:20:36Z".into())
                },
                IndexEntry {
                    vers: "0.1.1".into(),
                    yanked: false,
                    pubtime: None
                },
            ]
        );
    }

    #[test]
    fn reads_cargos_yanked_requirement_failure() {
        // cargo 1.97-nightly's message for casper-types = "1.6.0" resolved as of 2023-04-30.
        let stderr = "    Updating crates.io index\nerror: failed to select a version for the requirement `casper-types = \"^1.6.0\"`\n  version 1.6.0 is yanked\nlocation searched: crates.io index\nrequired by package `erc20-token v0.1.0 (/tmp/ws)`\n";
        assert_eq!(
            yanked_failure(stderr),
            Some(YankedFailure {
                name: "casper-types".into(),
                requirement: "^1.6.0".into(),
                required_by: "erc20-token v0.1.0".into(),
                yanked: vec!["1.6.0".into()],
            })
        );
        assert_eq!(
            yanked_failure("error: no matching package named `x` found"),
            None
        );
        assert_eq!(
            missing_package(
                "error: no matching package named `wee_alloc` found\nlocation searched: `/tmp/ov` index"
            ),
            Some("wee_alloc".into())
        );
    }

    #[test]
    fn yanked_after_the_date_is_eligible() {
        let cutoff = "2023-01-09T23:59:59Z";
        // 1.4.4 was published before the cut-off and yanked later: resolution skipped it.
        let entries = [
            e("1.4.3", false, "2022-10-01T00:00:00Z"),
            e("1.4.4", true, "2022-12-01T00:00:00Z"),
            e("1.5.0", false, "2023-06-01T00:00:00Z"),
            e("2.0.0", false, "2022-12-02T00:00:00Z"),
        ];
        assert_eq!(
            yanked_candidate(&entries, "1.4.3", cutoff),
            Some("1.4.4".into())
        );
        // A newer non-yanked compatible version was available: the yank changed nothing.
        let entries2 = [
            e("1.4.3", false, "2022-10-01T00:00:00Z"),
            e("1.4.4", true, "2022-12-01T00:00:00Z"),
            e("1.4.5", false, "2022-12-05T00:00:00Z"),
        ];
        assert_eq!(yanked_candidate(&entries2, "1.4.5", cutoff), None);
        // Published after the cut-off: not eligible.
        let entries3 = [
            e("0.3.1", false, "2022-10-01T00:00:00Z"),
            e("0.3.2", true, "2023-02-01T00:00:00Z"),
        ];
        assert_eq!(yanked_candidate(&entries3, "0.3.1", cutoff), None);
        // 0.x: another minor is not compatible.
        let entries4 = [
            e("0.3.1", false, "2022-10-01T00:00:00Z"),
            e("0.4.0", true, "2022-11-01T00:00:00Z"),
        ];
        assert_eq!(yanked_candidate(&entries4, "0.3.1", cutoff), None);
    }
}
