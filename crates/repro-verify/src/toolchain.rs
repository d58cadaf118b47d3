//! The rebuild's toolchain: `--toolchain auto` infers it from the uploaded module (its compiler
//! evidence read by repro-diff, named through repro-build's release table), and a source that pins
//! nothing or only a moving channel (`stable`, `nightly`, `beta`) is reported as not reproducible,
//! with what `auto` would use.

use std::path::Path;

use repro_build::BuildRequest;
use repro_build::toolchain::infer::{self, Clues, Impossible, Inferred};

/// The `--toolchain` value that asks for inference.
pub const AUTO: &str = "auto";

/// Why no toolchain could be inferred from a module.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error(
        "cannot infer the toolchain from {what}: it is not a readable Wasm module ({reason}); give the toolchain with --toolchain NAME"
    )]
    Unreadable { what: String, reason: String },
    #[error(
        "cannot infer the toolchain from {what}: {reason}; give the toolchain with --toolchain NAME (e.g. --toolchain 1.79.0 or --toolchain nightly-2023-01-09)"
    )]
    Impossible { what: String, reason: Impossible },
}

/// What `wasm` says about its compiler (producers entries, `/rustc/` commits).
pub fn clues(wasm: &[u8]) -> Result<Clues, repro_diff::Error> {
    let evidence = repro_diff::toolchain_evidence(wasm)?;
    Ok(Clues {
        producers: evidence.producers,
        rustc_commits: evidence.rustc_commits,
    })
}

/// Infers the toolchain that built `wasm`; `what` names the module in messages.
pub fn infer(wasm: &[u8], what: &str) -> Result<Inferred, InferError> {
    let clues = clues(wasm).map_err(|e| InferError::Unreadable {
        what: what.to_owned(),
        reason: e.to_string(),
    })?;
    infer::infer(&clues).map_err(|reason| InferError::Impossible {
        what: what.to_owned(),
        reason,
    })
}

/// Sets `req` to build with the toolchain inferred from `wasm`.
pub fn apply_inferred(
    req: &mut BuildRequest,
    wasm: &[u8],
    what: &str,
) -> Result<Inferred, InferError> {
    let inferred = infer(wasm, what)?;
    req.toolchain = Some(inferred.toolchain.clone());
    req.inferred = Some(inferred.clone());
    Ok(inferred)
}

/// How the rebuild's toolchain was chosen, when the report has something to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolchainNote {
    /// `--toolchain auto`: inferred from the uploaded module.
    Inferred(Inferred),
    /// The source pins only a moving channel and no toolchain was given: the rebuild used
    /// whatever that channel names today.
    MovingPin {
        /// `stable`, `nightly`, `beta`.
        pin: String,
        /// The pin file, relative to the workspace root.
        file: String,
        /// What `--toolchain auto` would use, or why it cannot.
        auto: Result<Inferred, String>,
    },
}

impl ToolchainNote {
    /// One sentence for people.
    pub fn describe(&self) -> String {
        match self {
            ToolchainNote::Inferred(i) => format!(
                "toolchain {} inferred from the uploaded module: {}",
                i.toolchain,
                i.describe()
            ),
            ToolchainNote::MovingPin { pin, file, auto } => format!(
                "{file} pins only `{pin}`, which names a different compiler as releases come out: the rebuild used today's `{pin}`, which is not reproducible; {}",
                suggestion(auto)
            ),
        }
    }
}

fn suggestion(auto: &Result<Inferred, String>) -> String {
    match auto {
        Ok(i) => format!(
            "rerun with --toolchain auto, which would use {}",
            i.describe()
        ),
        Err(why) => format!("--toolchain auto cannot help ({why}): give --toolchain NAME"),
    }
}

/// Why the rebuild cannot start with the source's pin.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error(
        "{crate_dir} pins no toolchain (no rust-toolchain or rust-toolchain.toml up to its workspace root), so its build is not reproducible; {suggestion}"
    )]
    NoPin {
        crate_dir: String,
        /// What `--toolchain auto` would use, or why it cannot help.
        suggestion: String,
    },
    #[error(transparent)]
    Infer(#[from] InferError),
}

/// Settles the toolchain of a verification's rebuild of the module `upload`: infers it for
/// `--toolchain auto`; refuses a source without a pin (saying what `auto` would use); notes a pin
/// of a moving channel. An explicit `--toolchain NAME` is used as given.
pub fn settle(req: &mut BuildRequest, upload: &[u8]) -> Result<Option<ToolchainNote>, PinError> {
    const WHAT: &str = "the uploaded module";
    match req.toolchain.as_deref() {
        Some(AUTO) => {
            let inferred = apply_inferred(req, upload, WHAT)?;
            return Ok(Some(ToolchainNote::Inferred(inferred)));
        }
        Some(_) => return Ok(None),
        None => {}
    }
    let auto = || infer(upload, WHAT).map_err(|e| inner_reason(&e));
    match pin_of(&req.crate_dir) {
        // The build reports an unreadable pin or a missing crate itself.
        PinLookup::Unknown => Ok(None),
        PinLookup::None => Err(PinError::NoPin {
            crate_dir: req.crate_dir.display().to_string(),
            suggestion: suggestion(&auto()),
        }),
        PinLookup::Pinned { name, file } if infer::is_bare_channel(&name) => {
            let note = ToolchainNote::MovingPin {
                pin: name,
                file,
                auto: auto(),
            };
            tracing::warn!("{}", note.describe());
            Ok(Some(note))
        }
        PinLookup::Pinned { .. } => Ok(None),
    }
}

/// The reason without the "cannot infer … from …" frame and the `--toolchain` advice.
fn inner_reason(e: &InferError) -> String {
    match e {
        InferError::Unreadable { reason, .. } => format!("not a readable Wasm module: {reason}"),
        InferError::Impossible { reason, .. } => reason.to_string(),
    }
}

enum PinLookup {
    Unknown,
    None,
    Pinned { name: String, file: String },
}

fn pin_of(crate_dir: &Path) -> PinLookup {
    let Ok(dir) = crate_dir.canonicalize() else {
        return PinLookup::Unknown;
    };
    let Some(root) = repro_build::workspace_root(&dir)
        .ok()
        .and_then(|r| r.canonicalize().ok())
    else {
        return PinLookup::Unknown;
    };
    match repro_build::toolchain::find_pin(&dir, &root) {
        Ok(Some((name, path))) => PinLookup::Pinned {
            name,
            file: path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string(),
        },
        Ok(None) => PinLookup::None,
        Err(_) => PinLookup::Unknown,
    }
}

/// Adds to a "different compilers" cause the stable releases its `/rustc/` commits are, from
/// repro-build's release table (repro-diff knows no releases).
pub fn name_compilers(report: &mut repro_diff::DiffReport) {
    let named = |side: &str, commits: &[String]| -> Vec<String> {
        commits
            .iter()
            .filter_map(|c| {
                let r = repro_build::toolchain::infer::release_of_commit(c)?;
                (r.commit == c.as_str())
                    .then(|| format!("{side}'s /rustc/{c}/ is the commit of rustc {}", r.version))
            })
            .collect()
    };
    let mut lines = named("A", &report.facts_a.toolchain.rustc_commits);
    lines.extend(named("B", &report.facts_b.toolchain.rustc_commits));
    for c in report
        .causes
        .iter_mut()
        .filter(|c| c.kind == repro_diff::CauseKind::RustcDiffers)
    {
        c.evidence.extend(lines.iter().cloned());
    }
}
