//! Typed errors. Every variant carries the evidence a user needs: the path, the toolchain, the
//! child's exit status and the tail of its stderr.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can stop a build. Rendered without colour or Debug formatting.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// CRATE_DIR does not exist or has no `Cargo.toml`.
    #[error("no crate at {}: no Cargo.toml there", path.display())]
    NoSuchCrate { path: PathBuf },

    /// A `-p` name that is not a package of the workspace.
    #[error("no package `{name}` in the workspace at {}; packages: {}", root.display(), available.join(", "))]
    NoSuchPackage {
        name: String,
        root: PathBuf,
        available: Vec<String>,
    },

    /// A virtual workspace without any `cdylib` member and no `-p`.
    #[error("no cdylib package in the workspace at {}; name one with -p", root.display())]
    NoCdylib { root: PathBuf },

    /// cargo succeeded but the expected `.wasm` is not there (e.g. the crate is not a `cdylib`).
    #[error("cargo built package `{package}` but produced no wasm at {}; is its crate-type `cdylib`?", expected.display())]
    NoWasmProduced { package: String, expected: PathBuf },

    /// No toolchain pin found and none given.
    #[error("no toolchain: no rust-toolchain(.toml) between {} and the workspace root, and no --toolchain", crate_dir.display())]
    NoToolchainPin { crate_dir: PathBuf },

    /// A `rust-toolchain` file that cannot be read as a pin.
    #[error("cannot read the toolchain pin in {}: {reason}", path.display())]
    BadToolchainFile { path: PathBuf, reason: String },

    /// rustup does not know this toolchain (no such channel/date on the mirror).
    #[error("unknown toolchain `{toolchain}`: rustup could not install it\n{stderr_tail}")]
    UnknownToolchain {
        toolchain: String,
        stderr_tail: String,
    },

    /// The toolchain exists but the mirror has no standard library for the wasm target that day.
    #[error(
        "toolchain `{toolchain}` has no `{target}` standard library on the rustup mirror; pick another date (see docs/build.md)\n{stderr_tail}"
    )]
    TargetUnavailable {
        toolchain: String,
        target: String,
        stderr_tail: String,
    },

    /// The toolchain (or its wasm target) is missing and `--offline` forbids installing it.
    #[error(
        "toolchain `{toolchain}` with target `{target}` is not installed, and --offline forbids installing it (run: rustup toolchain install {toolchain} --profile minimal --target {target})"
    )]
    OfflineInstallRefused { toolchain: String, target: String },

    /// rustup is not on PATH.
    #[error(
        "rustup not found on PATH: casper-repro installs and selects toolchains through rustup"
    )]
    NoRustup,

    /// After install, `rustc -vV` does not describe the requested toolchain.
    #[error(
        "toolchain `{toolchain}` is installed but `rustc -vV` says {found}: expected {expected}"
    )]
    ToolchainMismatch {
        toolchain: String,
        expected: String,
        found: String,
    },

    /// Only these targets are supported.
    #[error("unsupported target `{0}`: use wasm32-unknown-unknown or wasm32v1-none")]
    UnsupportedTarget(String),

    /// There is no Cargo.lock and `--lock-at` was not given.
    #[error("{} has no Cargo.lock: pass --lock-at DATE (or --lock-at git) to reconstruct the lock as of the author's build date", root.display())]
    NoLockfile { root: PathBuf },

    /// `--lock-at` value not understood.
    #[error("bad --lock-at `{value}`: {reason}")]
    BadLockAt { value: String, reason: String },

    /// `--remap FROM=TO` not understood.
    #[error(
        "bad --remap `{0}`: expected FROM=TO with both sides non-empty, FROM a path or one of {{cargo_home}}, {{home}}, {{source}}, {{target_dir}}"
    )]
    BadRemap(String),

    /// Reconstructing the lock failed.
    #[error("reconstructing Cargo.lock as of {lock_at} failed: {reason}\n{stderr_tail}")]
    LockReconstruction {
        lock_at: String,
        reason: String,
        stderr_tail: String,
    },

    /// `cargo fetch` failed (network, registry, or a lock that does not match the manifests).
    #[error("fetching dependencies failed (cargo exited with {status})\n{stderr_tail}")]
    FetchFailed { status: String, stderr_tail: String },

    /// The compile step failed.
    #[error("cargo build failed (exited with {status})\n{stderr_tail}")]
    CompileFailed { status: String, stderr_tail: String },

    /// The compile step failed on a lock reconstructed (`--lock-at`) with versions yanked after
    /// its instant.
    #[error(
        "cargo build failed (exited with {status})\n{stderr_tail}\nnote: the Cargo.lock reconstructed as of {instant} uses versions published before it and yanked since (the index does not say when): {yanked}. Unless they were yanked before that instant, they are what cargo resolved then, and a version is often yanked because it broke builds like this one. If the error is in one of them, try an earlier --lock-at, or the lock the project's author committed"
    )]
    CompileFailedOnYankedLock {
        status: String,
        stderr_tail: String,
        instant: String,
        yanked: String,
    },

    /// The child build ran past the wall-clock limit and was killed.
    #[error("build exceeded the wall-clock limit of {}s and was killed (raise it with --time-limit)", limit.as_secs())]
    TimeLimitExceeded { limit: Duration },

    /// The child build ran out of its memory limit.
    #[error("build exceeded the memory limit of {} MiB per process (raise it with --memory-limit)\n{stderr_tail}", limit_bytes / (1024 * 1024))]
    MemoryLimitExceeded {
        limit_bytes: u64,
        stderr_tail: String,
    },

    /// The sandbox (`--sandbox`) could not be set up; nothing was run.
    #[error(
        "cannot sandbox the build: {reason}; nothing was run (a sandboxed build never falls back to an unsandboxed one)"
    )]
    SandboxUnavailable { reason: String },

    /// The sandbox's pids cgroup refused a fork.
    #[error(
        "the build reached the sandbox's limit of {limit} processes and threads (a build script or proc-macro forking without bound?) and was stopped"
    )]
    ProcessLimitExceeded { limit: u32 },

    /// The build's writable directories grew past the sandbox's disk limit.
    #[error(
        "the build wrote more than {} MiB to disk, the sandbox's limit, and was stopped", limit_bytes / (1024 * 1024)
    )]
    DiskLimitExceeded { limit_bytes: u64 },

    /// The compile step failed inside the sandbox; `denied` says what the sandbox refused when
    /// the output shows it.
    #[error(
        "cargo build failed in the sandbox (exited with {status}){denied}\n{stderr_tail}\nnote: sandboxed builds have no network (dependencies are fetched before, without running the project's code); only the source copy, the target directory, the toolchains and the registry are visible, and only the first two are writable. A build script or proc-macro that needs anything else cannot be built here"
    )]
    SandboxedCompileFailed {
        status: String,
        stderr_tail: String,
        denied: String,
    },

    /// The compile cache would be visible inside the sandbox.
    #[error(
        "the compile cache at {} would be visible inside the build sandbox (it is inside, or contains, a directory the build sees); keep it apart from the cache, work, toolchain and registry directories", dir.display()
    )]
    CompileCacheVisible { dir: PathBuf },

    /// A post-processing step failed on cargo's output.
    #[error("post-processing step `{step}` failed on {file}: {reason}")]
    PostProcess {
        step: String,
        file: String,
        reason: String,
    },

    /// A tool a recipe needs (Node.js, npm, binaryen) is missing or not the one asked for.
    #[error("{tool} is needed: {why}")]
    ToolMissing { tool: String, why: String },

    /// A child process could not be started.
    #[error("could not run {program}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },

    /// A file-system error; the message names the path.
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// Invalid manifest or metadata.
    #[error("cannot understand {what}: {reason}")]
    Parse { what: String, reason: String },
}

impl BuildError {
    pub(crate) fn parse(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Parse {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}

/// The last `n` lines of a child's stderr, for error messages.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join("\n")
}
