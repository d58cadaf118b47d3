//! The provenance record written next to every artifact as `<name>.provenance.json`. Dedicated
//! output types: renaming a Rust item never silently changes the JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the provenance document. Bumped on any change of its shape (2: `recipe`).
pub const PROVENANCE_SCHEMA_VERSION: u32 = 2;

/// Everything that went into one artifact.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Provenance {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub artifact: ArtifactInfo,
    pub toolchain: ToolchainInfo,
    pub target: String,
    pub profile: String,
    /// The package set of the one cargo invocation (features unify across it).
    pub packages: Vec<String>,
    pub features: Vec<String>,
    pub no_default_features: bool,
    /// `--remap` pairs as given (FROM may be a `{token}`) and as passed to rustc.
    pub remaps: Vec<RemapInfo>,
    /// The flags passed through `CARGO_ENCODED_RUSTFLAGS`, if it was set.
    pub rustflags: Option<Vec<String>>,
    /// Every cargo step, exactly as run.
    pub steps: Vec<StepInfo>,
    pub lock: LockInfo,
    pub source: SourceInfo,
    /// Named post-processing steps applied to cargo's output, in order.
    pub post_processing: Vec<PostProcessInfo>,
    pub limits: LimitsInfo,
    /// How the project builds (cargo, make, odra) and what of it was replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<crate::recipe::RecipeRecord>,
    /// The sandbox the compile step ran in (`--sandbox`); absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::sandbox::SandboxInfo>,
    /// The compile cache of a sandboxed build: its key, whether it was restored or stored, and
    /// what cargo compiled anyway; absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compile_cache: Option<crate::compile_cache::CompileCacheInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    /// The tool's own argv, as given by its caller.
    pub argv: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct ArtifactInfo {
    pub file: String,
    pub package: String,
    /// sha256 of the file written (after post-processing).
    pub sha256: String,
    pub size: u64,
    /// sha256 of cargo's own output, before post-processing.
    pub cargo_output_sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct ToolchainInfo {
    pub name: String,
    /// `--toolchain` or the pin file (relative to the workspace root).
    pub pinned_by: String,
    /// Full `rustc -vV`.
    pub rustc_vv: String,
    /// `cargo -V`.
    pub cargo_v: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct RemapInfo {
    pub given: String,
    pub flag: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct StepInfo {
    pub name: String,
    pub program: String,
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Working directory relative to the private copy of the workspace root.
    pub cwd: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct LockInfo {
    /// `committed` or `reconstructed`.
    pub origin: String,
    /// sha256 of the `Cargo.lock` the build used.
    pub sha256: String,
    /// How the pinned cargo reached crates.io (`sparse`, `sparse_unstable`, `vendored`).
    pub registry_access: String,
    /// Present when reconstructed.
    pub reconstruction: Option<crate::lock::Reconstruction>,
    /// Every crates.io package in the lock: name -> versions (a crate can appear in several
    /// semver-incompatible versions).
    pub packages: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct SourceInfo {
    /// sha256 over the workspace tree (relative paths, kinds, contents; `target/` and `.git/` left out).
    pub tree_sha256: String,
    pub files: usize,
    /// The crate directory relative to the workspace root.
    pub crate_dir: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct PostProcessInfo {
    pub step: String,
    pub input_sha256: String,
    pub output_sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct LimitsInfo {
    pub wall_clock_secs: u64,
    pub memory_bytes_per_process: Option<u64>,
    pub compile_offline: bool,
}
