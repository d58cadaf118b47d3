//! Deterministic, toolchain-pinned cargo builds of Casper contracts, with provenance.
//!
//! [`build`] takes a crate (or workspace) directory and produces the `.wasm` files cargo builds for
//! its package set with the contract's own pinned toolchain, plus a `<name>.provenance.json` next
//! to each. It
//!
//! - reads the pin from `rust-toolchain(.toml)` (or takes one), installs it through rustup with the
//!   wasm target when missing, and verifies `rustc -vV`;
//! - builds from a private copy of the workspace (the user's tree is never written to), with an
//!   empty environment plus an allow-list, flags only through `CARGO_ENCODED_RUSTFLAGS`, an
//!   explicit `--target-dir`, `--locked`, and the compile step `--offline` after `cargo fetch`;
//! - reconstructs a missing `Cargo.lock` as of a date ([`lock`]);
//! - bounds the child build by wall-clock and memory limits;
//! - caches results content-addressed by every input.
//!
//! Architecture invariants: this crate never parses Wasm (post-processing such as stripping is a
//! [`PostProcess`] supplied by the caller and recorded by name), never prints (progress goes to a
//! [`Progress`] sink, diagnostics to `tracing`) and never reads argv (the caller passes what it
//! wants recorded).

// A library never prints: results are returned, logs go through `tracing`.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub mod binaryen;
pub mod compile_cache;
mod error;
mod exec;
pub mod lock;
pub mod provenance;
pub mod recipe;
pub mod sandbox;
mod source;
pub mod toolchain;

pub use compile_cache::CompileCacheConfig;
pub use error::BuildError;
pub use exec::{HostEnv, Limits, PASSTHROUGH_VARS, kill_group as kill_process_group};
pub use lock::LockAt;
pub use provenance::Provenance;
pub use source::{TreeDigest, digest as tree_digest, sha256_hex, workspace_root};

use exec::Invocation;
use lock::RegistryAccess;
use provenance::*;

/// Targets a Casper contract is built for.
pub const TARGETS: &[&str] = &["wasm32-unknown-unknown", "wasm32v1-none"];

/// The nightly whose cargo reconstructs locks (`generate-lockfile --publish-time`) and vendors.
pub const DEFAULT_RESOLVER_TOOLCHAIN: &str = "nightly";

/// A post-processing step applied to cargo's output (e.g. stripping custom sections, binaryen's
/// wasm-opt). Supplied by the caller so that this crate never parses Wasm; recorded by
/// [`PostProcess::name`] in the cache key and by [`PostProcess::describe`] in the provenance.
pub trait PostProcess: Send + Sync + std::fmt::Debug {
    /// A stable name, part of the cache key: it must change whenever the output could.
    fn name(&self) -> &str;
    /// Transforms the module bytes.
    fn apply(&self, wasm: &[u8], ctx: &PostContext<'_>) -> Result<Vec<u8>, String>;
    /// What exactly ran on this build, for the provenance (e.g. a command line whose flags depend
    /// on the compiler). The name by default.
    fn describe(&self, _ctx: &PostContext<'_>) -> String {
        self.name().to_owned()
    }
    /// Whether the step runs on the artifact with this file name (e.g. only the modules a
    /// Makefile strips). All of them by default.
    fn applies_to(&self, _artifact_file: &str) -> bool {
        true
    }
}

/// What a [`PostProcess`] step may know of the build it finishes.
#[derive(Debug, Clone, Copy)]
pub struct PostContext<'a> {
    /// `rustc -vV` of the compiler that built the artifact.
    pub rustc_vv: &'a str,
    /// The build's host environment (for steps that run a tool).
    pub host: &'a HostEnv,
    /// The build's limits, which bound a tool a step runs too.
    pub limits: Limits,
    /// A private scratch directory of this build.
    pub work_dir: &'a Path,
}

impl PostContext<'_> {
    /// The compiler's commit date (`YYYY-MM-DD`), from `rustc -vV`.
    pub fn rustc_commit_date(&self) -> Option<&str> {
        self.rustc_vv
            .lines()
            .find_map(|l| l.strip_prefix("commit-date:"))
            .map(str::trim)
            .filter(|d| *d != "unknown")
    }
}

/// One cargo invocation of a build and the artifact it yields, for recipes that build one binary
/// per contract (Odra: `ODRA_MODULE=<Contract> cargo build --bin <crate>_build_contract`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BuildUnit {
    /// Extra environment of this invocation.
    pub env: Vec<(String, String)>,
    /// The binary target built (`--bin`).
    pub bin: String,
    /// `-p`, when the recipe names the package.
    pub package: Option<String>,
    /// The artifact's file name in the output (`<bin>.wasm` is renamed to it).
    pub file: String,
}

/// What the build reports while it runs. The CLI renders it on stderr.
#[derive(Debug, Clone, Copy)]
pub enum ProgressEvent<'a> {
    /// A step worth telling the user about (installing a toolchain, reconstructing a lock, …).
    Step(&'a str),
    /// One line of a cargo child's stderr, verbatim.
    CargoLine(&'a str),
    /// Periodic while a cargo step runs: what it is doing now and for how long it has run.
    Tick { current: &'a str, elapsed: Duration },
    /// A cargo step finished.
    Done { elapsed: Duration },
}

/// A sink for [`ProgressEvent`]s.
pub trait Progress {
    fn event(&mut self, event: ProgressEvent<'_>);
}

/// Discards progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn event(&mut self, _event: ProgressEvent<'_>) {}
}

/// `--remap FROM=TO`: FROM is a path or a token for one of the build's private locations:
/// `{cargo_home}`, `{home}`, `{source}` (the private copy of the workspace root) or `{target_dir}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remap {
    pub from: String,
    pub to: String,
}

impl Remap {
    /// Parses `FROM=TO` (split at the last `=` so that FROM may contain one).
    pub fn parse(s: &str) -> Result<Self, BuildError> {
        let (from, to) = s
            .rsplit_once('=')
            .ok_or_else(|| BuildError::BadRemap(s.into()))?;
        if from.is_empty()
            || to.is_empty()
            || (from.starts_with('{') && leading_token(from).is_none())
        {
            return Err(BuildError::BadRemap(s.into()));
        }
        Ok(Self {
            from: from.into(),
            to: to.into(),
        })
    }
}

/// Where results and shared target directories are kept.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Root of the cache (`builds/`, `target/`, `work/`).
    pub dir: PathBuf,
    /// Look up and store results. `false` still uses `dir` for target and work directories.
    pub enabled: bool,
}

/// One build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub crate_dir: PathBuf,
    /// `-p`; empty: the crate, or every `cdylib` member of a virtual workspace.
    pub packages: Vec<String>,
    /// Overrides the pin file.
    pub toolchain: Option<String>,
    /// Set when `toolchain` was inferred from a module (see [`toolchain::infer`]): the installed
    /// rustc must have been built from its commit, and the provenance says where it came from.
    pub inferred: Option<toolchain::infer::Inferred>,
    pub target: String,
    pub features: Vec<String>,
    pub no_default_features: bool,
    pub lock_at: Option<LockAt>,
    pub remaps: Vec<Remap>,
    pub post_process: Vec<Arc<dyn PostProcess>>,
    /// One cargo invocation per unit, in order; empty: one invocation for the package set, every
    /// `.wasm` it writes an artifact.
    pub units: Vec<BuildUnit>,
    /// How the project builds, as detected and replayed by the caller; recorded in the
    /// provenance.
    pub recipe: Option<recipe::RecipeRecord>,
    pub out_dir: PathBuf,
    /// Never install toolchains nor fetch (dependencies must already be in `$CARGO_HOME`).
    pub offline: bool,
    pub limits: Limits,
    /// Run the compile step in the sandbox ([`sandbox`]); `None`: with this process's rights.
    pub sandbox: Option<sandbox::SandboxConfig>,
    /// Restore (and, when trusted, store) compiled dependencies of a sandboxed build
    /// ([`compile_cache`]); ignored without `sandbox` (an unsandboxed build shares the cache's
    /// target directory already).
    pub compile_cache: Option<CompileCacheConfig>,
    pub cache: CacheConfig,
    pub resolver_toolchain: String,
    pub host: HostEnv,
    /// Recorded as the tool's argv (the caller's own command line).
    pub tool_argv: Vec<String>,
    /// Recorded tool name and version.
    pub tool_name: String,
    pub tool_version: String,
}

/// One artifact written to the out dir.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Artifact {
    pub package: String,
    pub file: String,
    pub path: PathBuf,
    pub provenance_path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

/// What [`build`] produced.
#[derive(Debug, Clone)]
pub struct BuildOutput {
    pub artifacts: Vec<Artifact>,
    pub cache_hit: bool,
    pub cache_key: String,
    pub toolchain: String,
    pub elapsed: Duration,
}

/// The cache entry's manifest.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
struct CacheManifest {
    key: String,
    artifacts: Vec<(String, String)>, // (package, file)
}

const TOKENS: [&str; 4] = ["{cargo_home}", "{home}", "{source}", "{target_dir}"];

/// The token `s` starts with (`{cargo_home}` or `{cargo_home}/registry/...`), if any.
fn leading_token(s: &str) -> Option<&'static str> {
    TOKENS.into_iter().find(|t| {
        s.strip_prefix(t)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Builds, or returns the cached result of an identical earlier build.
pub fn build(req: &BuildRequest, progress: &mut dyn Progress) -> Result<BuildOutput, BuildError> {
    let start = Instant::now();
    if !TARGETS.contains(&req.target.as_str()) {
        return Err(BuildError::UnsupportedTarget(req.target.clone()));
    }
    let crate_dir = req
        .crate_dir
        .canonicalize()
        .map_err(|_| BuildError::NoSuchCrate {
            path: req.crate_dir.clone(),
        })?;
    let ws_root =
        workspace_root(&crate_dir)?
            .canonicalize()
            .map_err(|_| BuildError::NoSuchCrate {
                path: req.crate_dir.clone(),
            })?;
    let crate_rel = crate_dir
        .strip_prefix(&ws_root)
        .unwrap_or(Path::new(""))
        .to_path_buf();

    // Toolchain.
    let (tc_name, pin) = choose_toolchain(req, &crate_dir, &ws_root)?;
    let tc = toolchain::ensure(
        &req.host,
        &tc_name,
        pin.clone(),
        &req.target,
        req.offline,
        progress,
    )?;
    if let Some(i) = &req.inferred {
        toolchain::check_commit(&tc, i)?;
    }
    let (cargo_minor, cargo_nightly) = tc.cargo_minor();
    let access = RegistryAccess::for_cargo(cargo_minor, cargo_nightly);

    // Inputs of the cache key.
    let tree = source::digest(&ws_root)?;
    let committed_lock = ws_root.join("Cargo.lock");
    let lock_input = if committed_lock.is_file() {
        format!("committed:{}", sha256_hex(&fs_err::read(&committed_lock)?))
    } else {
        let lock_at = req.lock_at.as_ref().ok_or_else(|| BuildError::NoLockfile {
            root: ws_root.clone(),
        })?;
        format!("reconstructed:{}", lock_at.resolve(&req.host, &crate_dir)?)
    };
    let needs_resolver = !committed_lock.is_file() || access == RegistryAccess::Vendored;
    let resolver = if needs_resolver {
        Some(toolchain::ensure(
            &req.host,
            &req.resolver_toolchain,
            toolchain::PinSource::Explicit,
            toolchain::HOST_TRIPLE,
            req.offline,
            progress,
        )?)
    } else {
        None
    };
    let cargo_config = ["config.toml", "config"]
        .iter()
        .map(|f| req.host.cargo_home.join(f))
        .find(|p| p.is_file())
        .map(|p| fs_err::read(&p).map(|b| sha256_hex(&b)))
        .transpose()?;
    if cargo_config.is_some() {
        tracing::warn!(cargo_home = %req.host.cargo_home.display(), "$CARGO_HOME has a config file; it applies to the build (its digest is recorded)");
    }
    let post_names: Vec<String> = req
        .post_process
        .iter()
        .map(|p| p.name().to_owned())
        .collect();
    let key_doc = serde_json::json!({
        "tool": [&req.tool_name, &req.tool_version],
        "rustc_vv": &tc.rustc_vv,
        // The provenance records where the pin came from, so an entry is only reused for it.
        "pin": &pin,
        "cargo_v": &tc.cargo_v,
        "target": &req.target,
        "packages": &req.packages,
        "features": &req.features,
        "no_default_features": req.no_default_features,
        "lock": lock_input,
        "resolver": resolver.as_ref().map(|r| &r.cargo_v),
        "tree": &tree.sha256,
        "crate_rel": crate_rel.display().to_string(),
        "remaps": req.remaps.iter().map(|r| [&r.from, &r.to]).collect::<Vec<_>>(),
        "cargo_home": req.host.cargo_home.display().to_string(),
        "home": req.remaps.iter().any(|r| r.from == "{home}").then(|| req.host.home.display().to_string()),
        "cargo_config": cargo_config,
        "post": &post_names,
        "units": &req.units,
        "recipe": &req.recipe,
    });
    let key = sha256_hex(canonical_json(&key_doc).as_bytes());
    let cache_entry = req.cache.dir.join("builds").join(&key);

    if req.cache.enabled
        && let Some(artifacts) = cache_lookup(&cache_entry, &req.out_dir)?
    {
        tracing::debug!(%key, "cache hit");
        return Ok(BuildOutput {
            artifacts,
            cache_hit: true,
            cache_key: key,
            toolchain: tc.name,
            elapsed: start.elapsed(),
        });
    }

    // Private copy.
    for d in ["work", "target", "builds", "staging"] {
        fs_err::create_dir_all(req.cache.dir.join(d))?;
    }
    let work = tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(req.cache.dir.join("work"))?;
    let ws_copy = work.path().join("ws");
    let copied = source::copy_and_digest(&ws_root, &ws_copy)?;
    if copied.sha256 != tree.sha256 {
        return Err(BuildError::Io(std::io::Error::other(format!(
            "the source tree at {} changed while it was being copied",
            ws_root.display()
        ))));
    }
    let crate_copy = ws_copy.join(&crate_rel);
    let target_dir = req
        .cache
        .dir
        .join("target")
        .join(&sha256_hex(format!("{}\n{}", tc.rustc_vv, req.target).as_bytes())[..16]);
    // Sandboxed: a private target directory, mounted at the shared one's path inside (the same
    // paths, so the same output), never shared with another build.
    let mut sandbox = req
        .sandbox
        .as_ref()
        .map(|c| sandbox::Sandbox::new(c, &req.host, work.path(), &target_dir))
        .transpose()?;
    let compile_cache = match (&req.compile_cache, &sandbox) {
        (Some(cc), Some(sb)) => {
            for d in compile_cache::private_dirs(cc)? {
                if sb.exposes(&d) {
                    return Err(BuildError::CompileCacheVisible {
                        dir: cc.dir.clone(),
                    });
                }
            }
            let key = compile_cache::key(&compile_cache::KeyInputs {
                req,
                rustc_vv: &tc.rustc_vv,
                cargo_v: &tc.cargo_v,
                lock_input: &lock_input,
                registry_access: access,
                cargo_config: cargo_config.as_deref(),
                target_dir: &target_dir,
            });
            Some((cc, key))
        }
        (Some(_), None) => {
            tracing::warn!("a compile cache is only used by sandboxed builds; ignored");
            None
        }
        _ => None,
    };

    // Lock.
    let reconstruction = if committed_lock.is_file() {
        None
    } else {
        let resolver = resolver.as_ref().expect("resolver ensured when no lock");
        let instant = lock_input.trim_start_matches("reconstructed:").to_owned();
        progress.event(ProgressEvent::Step(&format!(
            "reconstructing Cargo.lock as of {instant} with {}",
            resolver.cargo_v
        )));
        Some(lock::reconstruct(
            &req.host,
            resolver,
            &ws_copy,
            &instant,
            cargo_minor,
        )?)
    };

    // Remaps: tokens resolved against this build's private locations.
    let mut remap_pairs = resolve_remaps(req, &ws_copy, &target_dir);
    if access == RegistryAccess::Vendored {
        let resolver = resolver.as_ref().expect("resolver ensured when vendoring");
        let vendor_dir = work.path().join("vendor");
        progress.event(ProgressEvent::Step(&format!(
            "{} cannot reach the sparse index: vendoring dependencies with {}",
            tc.cargo_v, resolver.cargo_v
        )));
        lock::vendor(&req.host, resolver, &ws_copy, &vendor_dir, work.path())?;
        let to = req
            .host
            .cargo_home
            .join("registry/src")
            .join(lock::GIT_INDEX_SRC_DIR);
        remap_pairs.push((
            format!("{{vendor}}={}", to.display()),
            vendor_dir.display().to_string(),
            to.display().to_string(),
        ));
    }
    let rustflags: Option<Vec<String>> = if remap_pairs.is_empty() {
        None
    } else {
        let mut flags = project_rustflags(&ws_copy, &req.target)?;
        flags.extend(
            remap_pairs
                .iter()
                .map(|(_, f, t)| format!("--remap-path-prefix={f}={t}")),
        );
        Some(flags)
    };

    // Environment.
    let env = cargo_env(req, &tc, access, cargo_minor, rustflags.as_deref());

    // Package set.
    // Steps before the compile run outside any sandbox: no program of the project's config.
    let outside_env = exec::without_wrappers(env.clone());
    let meta = cargo_metadata(&tc, &crate_copy, &outside_env, access)?;
    let own_name = source::read_manifest(&crate_copy.join("Cargo.toml"))?
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned);
    let packages = select_packages(req, &meta, own_name, &ws_root)?;

    // Fetch (network), then compile offline.
    let mut steps = Vec::new();
    let reg_flags: Vec<String> = access
        .cargo_flags()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let fetch = Invocation::new(tc.cargo(), &crate_copy, outside_env.clone())
        .args(reg_flags.clone())
        .args(["fetch", "--locked"]);
    if !req.offline || access == RegistryAccess::Vendored {
        progress.event(ProgressEvent::Step("fetching dependencies"));
        run_step(&fetch, req.limits, progress, true)?;
        steps.push(step_info("fetch", &fetch, &work));
    }
    let mut build_env = env.clone();
    build_env.insert("CARGO_NET_OFFLINE".into(), "true".into());
    let compile = Compile {
        cargo: tc.cargo(),
        crate_copy: &crate_copy,
        env: &build_env,
        reg_flags: &reg_flags,
        target_dir: &target_dir,
        req,
    };
    // Where cargo's outputs are on this side (the private target when sandboxed).
    let release_dir = sandbox
        .as_ref()
        .map_or(target_dir.as_path(), sandbox::Sandbox::private_target)
        .join(&req.target)
        .join("release");
    let mut cc_info = match (&compile_cache, &sandbox) {
        (Some((cc, key)), Some(sb)) => Some(compile_cache::restore_step(
            cc,
            key,
            sb.private_target(),
            progress,
        )?),
        _ => None,
    };
    let mut counting = compile_cache::CountCompiling {
        inner: progress,
        compiled: Vec::new(),
    };
    let progress: &mut dyn Progress = &mut counting;
    let mut produced = Vec::new();
    if req.units.is_empty() {
        let inv = compile.invocation(&packages, None);
        progress.event(ProgressEvent::Step(&format!(
            "building {} with {}",
            packages.join(", "),
            tc.name
        )));
        run_compile(&inv, req.limits, progress, sandbox.as_mut())
            .map_err(|e| on_yanked_lock(e, reconstruction.as_ref()))?;
        steps.push(step_info("build", &inv, &work));
        produced = collect_package_outputs(&packages, &meta, &release_dir)?;
    } else {
        // One cargo invocation per unit, each artifact taken before the next unit overwrites it.
        for unit in &req.units {
            let inv = compile.invocation(&packages, Some(unit));
            progress.event(ProgressEvent::Step(&format!(
                "building {} ({}) with {}",
                unit.file, unit.bin, tc.name
            )));
            run_compile(&inv, req.limits, progress, sandbox.as_mut())
                .map_err(|e| on_yanked_lock(e, reconstruction.as_ref()))?;
            steps.push(step_info(&format!("build {}", unit.file), &inv, &work));
            produced.push(collect_unit_output(unit, &packages, &release_dir)?);
        }
    }

    let compiled = std::mem::take(&mut counting.compiled);
    let progress = counting.inner;
    if let (Some(info), Some((cc, key)), Some(sb)) = (&mut cc_info, &compile_cache, &sandbox) {
        let own: Vec<&str> = meta.iter().map(|m| m.name.as_str()).collect();
        compile_cache::account(info, compiled, &own, sb.private_target(), &req.target);
        if cc.write {
            compile_cache::store_step(cc, key, sb.private_target(), &req.target, info, progress);
        }
    }

    // Post-process, describe.
    let (lock_sha, lock_pkgs) = lock::lock_facts(&ws_copy)?;
    let stage = tempfile::Builder::new()
        .prefix("entry-")
        .tempdir_in(req.cache.dir.join("staging"))?;
    let mut manifest = CacheManifest {
        key: key.clone(),
        artifacts: Vec::new(),
    };
    let post_ctx = PostContext {
        rustc_vv: &tc.rustc_vv,
        host: &req.host,
        limits: req.limits,
        work_dir: work.path(),
    };
    for Produced {
        package: p,
        file,
        bytes: cargo_bytes,
    } in produced
    {
        let cargo_sha = sha256_hex(&cargo_bytes);
        let (bytes, post_info) = post_process(req, &post_ctx, &file, cargo_bytes)?;
        let prov = Provenance {
            schema_version: PROVENANCE_SCHEMA_VERSION,
            tool: ToolInfo {
                name: req.tool_name.clone(),
                version: req.tool_version.clone(),
                argv: req.tool_argv.clone(),
            },
            artifact: ArtifactInfo {
                file: file.clone(),
                package: p.clone(),
                sha256: sha256_hex(&bytes),
                size: bytes.len() as u64,
                cargo_output_sha256: cargo_sha,
            },
            toolchain: toolchain_info(&tc, &pin),
            target: req.target.clone(),
            profile: "release".into(),
            packages: packages.clone(),
            features: req.features.clone(),
            no_default_features: req.no_default_features,
            remaps: remap_info(&remap_pairs),
            rustflags: rustflags.clone(),
            steps: steps.clone(),
            lock: lock_info(&reconstruction, &lock_sha, access, &lock_pkgs),
            source: SourceInfo {
                tree_sha256: tree.sha256.clone(),
                files: tree.files,
                crate_dir: crate_rel.display().to_string(),
            },
            post_processing: post_info,
            recipe: req.recipe.clone(),
            limits: LimitsInfo {
                wall_clock_secs: req.limits.wall_clock.as_secs(),
                memory_bytes_per_process: req.limits.memory_bytes,
                compile_offline: true,
            },
            sandbox: sandbox.as_ref().map(sandbox::Sandbox::info),
            compile_cache: cc_info.clone(),
        };
        fs_err::write(stage.path().join(&file), &bytes)?;
        let json =
            serde_json::to_vec_pretty(&prov).map_err(|e| BuildError::parse("provenance", e))?;
        fs_err::write(stage.path().join(provenance_name(&file)), json)?;
        manifest.artifacts.push((p.clone(), file));
    }
    fs_err::write(
        stage.path().join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).map_err(|e| BuildError::parse("manifest", e))?,
    )?;
    let artifacts = publish(req, stage, &cache_entry)?;
    drop(work);
    Ok(BuildOutput {
        artifacts,
        cache_hit: false,
        cache_key: key,
        toolchain: tc.name,
        elapsed: start.elapsed(),
    })
}

/// The toolchain to build with and where that choice came from: `--toolchain auto`'s inference,
/// an explicit `--toolchain`, or the project's pin file.
fn choose_toolchain(
    req: &BuildRequest,
    crate_dir: &Path,
    ws_root: &Path,
) -> Result<(String, toolchain::PinSource), BuildError> {
    Ok(match (&req.toolchain, &req.inferred) {
        (_, Some(i)) => (
            i.toolchain.clone(),
            toolchain::PinSource::Inferred { from: i.describe() },
        ),
        (Some(t), None) => (t.clone(), toolchain::PinSource::Explicit),
        (None, None) => {
            let (name, path) = toolchain::find_pin(crate_dir, ws_root)?.ok_or_else(|| {
                BuildError::NoToolchainPin {
                    crate_dir: crate_dir.to_path_buf(),
                }
            })?;
            let rel = path
                .strip_prefix(ws_root)
                .unwrap_or(&path)
                .display()
                .to_string();
            (name, toolchain::PinSource::File { path: rel })
        }
    })
}

/// Cargo's environment: the host's base, the toolchain first on `PATH`, no colours or progress
/// bars, the registry access's settings and the remap flags.
fn cargo_env(
    req: &BuildRequest,
    tc: &toolchain::Toolchain,
    access: RegistryAccess,
    cargo_minor: u32,
    rustflags: Option<&[String]>,
) -> BTreeMap<String, String> {
    let mut env = req.host.base_env();
    let host_path = env.get("PATH").cloned().unwrap_or_default();
    env.insert(
        "PATH".into(),
        format!("{}:{host_path}", tc.bin_dir.display()),
    );
    env.insert("RUSTUP_TOOLCHAIN".into(), tc.name.clone());
    env.insert("RUSTC".into(), tc.rustc().display().to_string());
    env.insert("CARGO_TERM_COLOR".into(), "never".into());
    env.insert("CARGO_TERM_PROGRESS_WHEN".into(), "never".into());
    for (k, v) in access.env(cargo_minor) {
        env.insert(k, v);
    }
    if let Some(flags) = rustflags {
        env.insert("CARGO_ENCODED_RUSTFLAGS".into(), flags.join("\x1f"));
    }
    env
}

/// The packages to build: those asked for (each must exist), else the crate's own, else every
/// cdylib of the workspace, else every package with a bin target.
fn select_packages(
    req: &BuildRequest,
    meta: &[PackageMeta],
    own_name: Option<String>,
    ws_root: &Path,
) -> Result<Vec<String>, BuildError> {
    Ok(if !req.packages.is_empty() {
        for p in &req.packages {
            if !meta.iter().any(|m| &m.name == p) {
                return Err(BuildError::NoSuchPackage {
                    name: p.clone(),
                    root: ws_root.to_path_buf(),
                    available: meta.iter().map(|m| m.name.clone()).collect(),
                });
            }
        }
        req.packages.clone()
    } else if let Some(n) = own_name {
        vec![n]
    } else {
        let mut cdylibs: Vec<String> = meta
            .iter()
            .filter(|m| m.cdylib.is_some())
            .map(|m| m.name.clone())
            .collect();
        if cdylibs.is_empty() {
            // No cdylib: the `#![no_main]` bin contracts of the ecosystem's workspaces.
            cdylibs = meta
                .iter()
                .filter(|m| !m.bins.is_empty())
                .map(|m| m.name.clone())
                .collect();
        }
        if cdylibs.is_empty() {
            return Err(BuildError::NoCdylib {
                root: ws_root.to_path_buf(),
            });
        }
        cdylibs
    })
}

/// The project's post-processing steps that apply to `file`, in order, each recorded with its
/// input and output digests.
fn post_process(
    req: &BuildRequest,
    ctx: &PostContext,
    file: &str,
    mut bytes: Vec<u8>,
) -> Result<(Vec<u8>, Vec<PostProcessInfo>), BuildError> {
    let mut info = Vec::new();
    for step in req.post_process.iter().filter(|s| s.applies_to(file)) {
        let input_sha256 = sha256_hex(&bytes);
        bytes = step
            .apply(&bytes, ctx)
            .map_err(|reason| BuildError::PostProcess {
                step: step.name().into(),
                file: file.to_owned(),
                reason,
            })?;
        info.push(PostProcessInfo {
            step: step.describe(ctx),
            input_sha256,
            output_sha256: sha256_hex(&bytes),
        });
    }
    Ok((bytes, info))
}

/// Publishes the staged entry atomically (a concurrent identical build may have won the race,
/// which is fine: its entry has the same content) and copies its artifacts to the output
/// directory; without the cache, straight from the staging directory.
fn publish(
    req: &BuildRequest,
    stage: tempfile::TempDir,
    cache_entry: &Path,
) -> Result<Vec<Artifact>, BuildError> {
    if req.cache.enabled {
        let staged = stage.keep();
        if std::fs::rename(&staged, cache_entry).is_err() {
            let _ = fs_err::remove_dir_all(&staged);
        }
        cache_lookup(cache_entry, &req.out_dir)
    } else {
        cache_lookup(stage.path(), &req.out_dir)
    }?
    .ok_or_else(|| {
        BuildError::Io(std::io::Error::other(format!(
            "cache entry {} vanished",
            cache_entry.display()
        )))
    })
}

/// `--remap` pairs as (given, from, to), each leading token (`{cargo_home}`, `{home}`,
/// `{source}`, `{target_dir}`) resolved against this build's private locations.
fn resolve_remaps(
    req: &BuildRequest,
    ws_copy: &Path,
    target_dir: &Path,
) -> Vec<(String, String, String)> {
    let resolve_token = |from: &str| -> String {
        let Some(token) = leading_token(from) else {
            return from.to_owned();
        };
        let base = match token {
            "{cargo_home}" => req.host.cargo_home.display().to_string(),
            "{home}" => req.host.home.display().to_string(),
            "{source}" => ws_copy.display().to_string(),
            _ => target_dir.display().to_string(),
        };
        format!("{base}{}", &from[token.len()..])
    };
    req.remaps
        .iter()
        .map(|r| {
            (
                format!("{}={}", r.from, r.to),
                resolve_token(&r.from),
                r.to.clone(),
            )
        })
        .collect()
}

/// The provenance's remaps: as given, and the flag each became.
fn remap_info(pairs: &[(String, String, String)]) -> Vec<RemapInfo> {
    pairs
        .iter()
        .map(|(g, f, t)| RemapInfo {
            given: g.clone(),
            flag: format!("--remap-path-prefix={f}={t}"),
        })
        .collect()
}

/// The provenance's toolchain: what built it, and what pinned it.
fn toolchain_info(tc: &toolchain::Toolchain, pin: &toolchain::PinSource) -> ToolchainInfo {
    ToolchainInfo {
        name: tc.name.clone(),
        pinned_by: match pin {
            toolchain::PinSource::File { path } => path.clone(),
            toolchain::PinSource::Explicit => "--toolchain".into(),
            toolchain::PinSource::Inferred { from } => format!("--toolchain auto: {from}"),
        },
        rustc_vv: tc.rustc_vv.clone(),
        cargo_v: tc.cargo_v.clone(),
    }
}

/// The provenance's lock: committed or reconstructed, its digest, packages and registry access.
fn lock_info(
    reconstruction: &Option<lock::Reconstruction>,
    sha256: &str,
    access: RegistryAccess,
    packages: &BTreeMap<String, Vec<String>>,
) -> LockInfo {
    LockInfo {
        origin: if reconstruction.is_some() {
            "reconstructed"
        } else {
            "committed"
        }
        .into(),
        sha256: sha256.to_owned(),
        registry_access: serde_json::to_value(access)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        reconstruction: reconstruction.clone(),
        packages: packages.clone(),
    }
}

/// What one cargo invocation produced, before post-processing.
struct Produced {
    package: String,
    file: String,
    bytes: Vec<u8>,
}

/// The fixed parts of every compile invocation of one build.
struct Compile<'a> {
    cargo: PathBuf,
    crate_copy: &'a Path,
    env: &'a BTreeMap<String, String>,
    reg_flags: &'a [String],
    target_dir: &'a Path,
    req: &'a BuildRequest,
}

impl Compile<'_> {
    /// `cargo build --release --locked --offline --target … --target-dir …` for the package set,
    /// or for one unit (its `--bin`, package and environment).
    fn invocation(&self, packages: &[String], unit: Option<&BuildUnit>) -> Invocation {
        let mut env = self.env.clone();
        if let Some(u) = unit {
            env.extend(u.env.iter().cloned());
        }
        let mut inv = Invocation::new(&self.cargo, self.crate_copy, env)
            .args(self.reg_flags.iter().cloned())
            .args([
                "build",
                "--release",
                "--locked",
                "--offline",
                "--target",
                &self.req.target,
                "--target-dir",
            ])
            .arg(self.target_dir.display().to_string());
        match unit {
            Some(u) => {
                inv = inv.args(["--bin", &u.bin]);
                if let Some(p) = &u.package {
                    inv = inv.args(["-p", p]);
                }
            }
            None => {
                for p in packages {
                    inv = inv.args(["-p", p]);
                }
            }
        }
        if !self.req.features.is_empty() {
            inv = inv.args(["--features".to_owned(), self.req.features.join(",")]);
        }
        if self.req.no_default_features {
            inv = inv.arg("--no-default-features");
        }
        inv
    }
}

/// Every `.wasm` cargo wrote for the package set.
fn collect_package_outputs(
    packages: &[String],
    meta: &[PackageMeta],
    release_dir: &Path,
) -> Result<Vec<Produced>, BuildError> {
    let mut produced = Vec::new();
    for p in packages {
        let m = meta.iter().find(|m| &m.name == p).expect("validated above");
        let files = m.wasm_files();
        if files.is_empty() {
            return Err(BuildError::NoWasmProduced {
                package: p.clone(),
                expected: release_dir.join(format!("{}.wasm", p.replace('-', "_"))),
            });
        }
        for file in files {
            let path = release_dir.join(&file);
            if !path.is_file() {
                return Err(BuildError::NoWasmProduced {
                    package: p.clone(),
                    expected: path,
                });
            }
            produced.push(Produced {
                package: p.clone(),
                bytes: fs_err::read(&path)?,
                file,
            });
        }
    }
    Ok(produced)
}

/// The binary one unit built, under the unit's file name.
fn collect_unit_output(
    unit: &BuildUnit,
    packages: &[String],
    release_dir: &Path,
) -> Result<Produced, BuildError> {
    let package = unit
        .package
        .clone()
        .or_else(|| packages.first().cloned())
        .unwrap_or_default();
    let path = release_dir.join(format!("{}.wasm", unit.bin));
    if !path.is_file() {
        return Err(BuildError::NoWasmProduced {
            package,
            expected: path,
        });
    }
    Ok(Produced {
        package,
        bytes: fs_err::read(&path)?,
        file: unit.file.clone(),
    })
}

/// `<name>.provenance.json` for `<name>.wasm`.
pub fn provenance_name(wasm_file: &str) -> String {
    format!(
        "{}.provenance.json",
        wasm_file.strip_suffix(".wasm").unwrap_or(wasm_file)
    )
}

fn step_info(name: &str, inv: &Invocation, work: &tempfile::TempDir) -> StepInfo {
    let ws = work.path().join("ws");
    StepInfo {
        name: name.into(),
        program: inv.program.display().to_string(),
        argv: inv.args.clone(),
        env: inv.env.clone(),
        cwd: inv
            .cwd
            .strip_prefix(&ws)
            .unwrap_or(&inv.cwd)
            .display()
            .to_string(),
    }
}

/// A compile failure on a lock reconstructed with versions yanked since its instant says so: those
/// versions are likely what cargo picked then, and a version is often yanked because it broke
/// builds.
fn on_yanked_lock(error: BuildError, reconstruction: Option<&lock::Reconstruction>) -> BuildError {
    let (
        BuildError::CompileFailed {
            status,
            stderr_tail,
        },
        Some(r),
    ) = (&error, reconstruction)
    else {
        return error;
    };
    let yanked: Vec<String> = r
        .yanked_pins
        .iter()
        .map(|p| format!("{} {}", p.name, p.to))
        .chain(
            r.yanked_required
                .iter()
                .flat_map(|y| y.versions.iter().map(move |v| format!("{} {v}", y.name))),
        )
        .collect();
    if yanked.is_empty() {
        return error;
    }
    BuildError::CompileFailedOnYankedLock {
        status: status.clone(),
        stderr_tail: stderr_tail.clone(),
        instant: r.publish_time.clone(),
        yanked: yanked.join(", "),
    }
}

fn run_step(
    inv: &Invocation,
    limits: Limits,
    progress: &mut dyn Progress,
    fetch: bool,
) -> Result<(), BuildError> {
    tracing::debug!(program = %inv.program.display(), args = ?inv.args, "running");
    match inv.run_limited(limits, progress)? {
        Err(exec::Killed::Time(limit)) => Err(BuildError::TimeLimitExceeded { limit }),
        Err(exec::Killed::Watch(e)) => Err(e),
        Ok(f) if f.success => Ok(()),
        Ok(f) => Err(exec::classify_failure(&f, limits, fetch)),
    }
}

/// Runs a compile step, inside the sandbox when there is one, and names the limit or the
/// sandbox's rule that stopped it.
fn run_compile(
    inv: &Invocation,
    limits: Limits,
    progress: &mut dyn Progress,
    sandbox: Option<&mut sandbox::Sandbox>,
) -> Result<(), BuildError> {
    let Some(sb) = sandbox else {
        return run_step(inv, limits, progress, false);
    };
    let wrapped = sb.wrap(inv, limits.memory_bytes);
    tracing::debug!(args = ?wrapped.args, "running sandboxed");
    // The address-space limit is set inside (prlimit), not by the outer shell.
    let outer = Limits {
        memory_bytes: None,
        ..limits
    };
    let finished = match wrapped.run_watched(outer, progress, &mut || sb.watch())? {
        Err(exec::Killed::Watch(e)) => return Err(e),
        Err(exec::Killed::Time(limit)) => {
            return Err(sb
                .limit_hit()
                .unwrap_or(BuildError::TimeLimitExceeded { limit }));
        }
        Ok(f) if f.success => return Ok(()),
        Ok(f) => f,
    };
    if let Some(e) = sb.limit_hit() {
        return Err(e);
    }
    sandbox::classify_failure(&finished, limits)
}

/// Copies a cache entry's files into `out_dir` (staged, then renamed in place) and returns them.
fn cache_lookup(entry: &Path, out_dir: &Path) -> Result<Option<Vec<Artifact>>, BuildError> {
    let manifest_path = entry.join("manifest.json");
    let Ok(bytes) = std::fs::read(&manifest_path) else {
        return Ok(None);
    };
    let manifest: CacheManifest = serde_json::from_slice(&bytes)
        .map_err(|e| BuildError::parse(manifest_path.display().to_string(), e))?;
    fs_err::create_dir_all(out_dir)?;
    let stage = tempfile::Builder::new()
        .prefix(".casper-repro-")
        .tempdir_in(out_dir)?;
    let mut artifacts = Vec::new();
    for (package, file) in &manifest.artifacts {
        let bytes = fs_err::read(entry.join(file))?;
        fs_err::write(stage.path().join(file), &bytes)?;
        let prov = provenance_name(file);
        fs_err::copy(entry.join(&prov), stage.path().join(&prov))?;
        artifacts.push(Artifact {
            package: package.clone(),
            file: file.clone(),
            path: out_dir.join(file),
            provenance_path: out_dir.join(&prov),
            sha256: sha256_hex(&bytes),
            size: bytes.len() as u64,
        });
    }
    for a in &artifacts {
        fs_err::rename(stage.path().join(&a.file), &a.path)?;
        fs_err::rename(
            stage.path().join(provenance_name(&a.file)),
            &a.provenance_path,
        )?;
    }
    Ok(Some(artifacts))
}

/// The project's own rustflags from `.cargo/config(.toml)` at the workspace root, which setting
/// `CARGO_ENCODED_RUSTFLAGS` would otherwise override (`target.<triple>.rustflags` wins over
/// `build.rustflags`, as in cargo).
fn project_rustflags(ws: &Path, target: &str) -> Result<Vec<String>, BuildError> {
    for name in ["config.toml", "config"] {
        let p = ws.join(".cargo").join(name);
        if !p.is_file() {
            continue;
        }
        let cfg = source::read_manifest(&p)?;
        let pick = |v: Option<&toml::Value>| -> Option<Vec<String>> {
            match v? {
                toml::Value::String(s) => Some(s.split_whitespace().map(str::to_owned).collect()),
                toml::Value::Array(a) => Some(
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect(),
                ),
                _ => None,
            }
        };
        if let Some(f) = pick(
            cfg.get("target")
                .and_then(|t| t.get(target))
                .and_then(|t| t.get("rustflags")),
        ) {
            return Ok(f);
        }
        if let Some(f) = pick(cfg.get("build").and_then(|b| b.get("rustflags"))) {
            return Ok(f);
        }
        return Ok(Vec::new());
    }
    Ok(Vec::new())
}

#[derive(Debug)]
struct PackageMeta {
    name: String,
    /// The `cdylib` target's name, if any.
    cdylib: Option<String>,
    /// `bin` target names (the ecosystem's contracts are mostly `#![no_main]` bins).
    bins: Vec<String>,
}

impl PackageMeta {
    /// The `.wasm` files cargo writes for this package: `<lib_name>.wasm` (dashes become
    /// underscores) for a cdylib, `<bin>.wasm` for each bin.
    fn wasm_files(&self) -> Vec<String> {
        let mut files: Vec<String> = self
            .cdylib
            .iter()
            .map(|l| format!("{}.wasm", l.replace('-', "_")))
            .collect();
        files.extend(self.bins.iter().map(|b| format!("{b}.wasm")));
        files
    }
}

/// Workspace members and their library targets, from `cargo metadata --no-deps`.
fn cargo_metadata(
    tc: &toolchain::Toolchain,
    crate_copy: &Path,
    env: &BTreeMap<String, String>,
    access: RegistryAccess,
) -> Result<Vec<PackageMeta>, BuildError> {
    let out = Invocation::new(tc.cargo(), crate_copy, env.clone())
        .args(access.cargo_flags().iter().copied())
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .output()?;
    if !out.success {
        return Err(BuildError::CompileFailed {
            status: out.status,
            stderr_tail: error::tail(&out.stderr, 20),
        });
    }
    let v: serde_json::Value =
        serde_json::from_str(&out.stdout).map_err(|e| BuildError::parse("cargo metadata", e))?;
    let members: Vec<&str> = v["workspace_members"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m.as_str()).collect())
        .unwrap_or_default();
    let mut pkgs = Vec::new();
    for p in v["packages"].as_array().into_iter().flatten() {
        let id = p["id"].as_str().unwrap_or("");
        if !members.contains(&id) {
            continue;
        }
        let mut cdylib = None;
        let mut bins = Vec::new();
        for t in p["targets"].as_array().into_iter().flatten() {
            let kinds: Vec<&str> = t["kind"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str())
                .collect();
            let name = t["name"].as_str().map(str::to_owned);
            if kinds.contains(&"cdylib") {
                cdylib = name.clone();
            }
            if kinds.contains(&"bin") {
                bins.extend(name);
            }
        }
        pkgs.push(PackageMeta {
            name: p["name"].as_str().unwrap_or("").to_owned(),
            cdylib,
            bins,
        });
    }
    Ok(pkgs)
}

/// `v` as compact JSON with every object's keys sorted, whatever map serde_json was built with
/// (feature unification may turn on its `preserve_order` in one build graph and not in another):
/// the cache key must not depend on that.
fn canonical_json(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let body: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical_json(v)))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => {
            let body: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", body.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cache_key_json_is_independent_of_map_order() {
        let v = serde_json::json!({"b": 1, "a": {"d": 2, "c": [{"y": 1, "x": "z"}]}});
        assert_eq!(
            super::canonical_json(&v),
            r#"{"a":{"c":[{"x":"z","y":1}],"d":2},"b":1}"#
        );
    }

    use super::*;

    #[test]
    fn remap_parsing() {
        assert_eq!(
            Remap::parse("{cargo_home}=/home/alice/.cargo").unwrap(),
            Remap {
                from: "{cargo_home}".into(),
                to: "/home/alice/.cargo".into()
            }
        );
        assert!(Remap::parse("nope").is_err());
        assert!(Remap::parse("=x").is_err());
        assert!(Remap::parse("{nope}=/x").is_err());
        assert!(Remap::parse("{cargo_home}x=/x").is_err());
        assert!(
            Remap::parse("{cargo_home}/registry/src/index.crates.io-1949cf8c6b5b557f=/y").is_ok()
        );
    }

    #[test]
    fn rustflags_from_project_config() {
        let d = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(d.path().join(".cargo")).unwrap();
        fs_err::write(
            d.path().join(".cargo/config.toml"),
            "[build]\nrustflags = [\"-C\", \"a\"]\n[target.wasm32v1-none]\nrustflags = \"-C b\"\n",
        )
        .unwrap();
        assert_eq!(
            project_rustflags(d.path(), "wasm32v1-none").unwrap(),
            ["-C", "b"]
        );
        assert_eq!(
            project_rustflags(d.path(), "wasm32-unknown-unknown").unwrap(),
            ["-C", "a"]
        );
    }
}
