//! From build options (what a user of `build` / `verify`, or the verification service, decided)
//! to a [`BuildRequest`] with the project's recipe applied. The command line maps its flags onto
//! [`BuildOptions`]; the service fills them with its own policy. Both get the same request.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use repro_build::recipe::RecipeRecord;
use repro_build::sandbox::SandboxConfig;
use repro_build::{
    BuildError, BuildRequest, CacheConfig, CompileCacheConfig, HostEnv, Limits, LockAt,
    PostProcess, Progress, Remap,
};

use crate::recipe::{self, RecipeChoice, RecipeError, StripCustom};

/// How to build, as decided by the caller. `None` / empty means "the project's own choice".
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Overrides the project's pin; [`crate::toolchain::AUTO`] infers it from the upload.
    pub toolchain: Option<String>,
    /// `None`: the Makefile's, else `wasm32-unknown-unknown`.
    pub target: Option<String>,
    pub recipe: RecipeChoice,
    pub cargo_odra: Option<String>,
    pub binaryen: Option<u32>,
    pub features: Vec<String>,
    pub no_default_features: bool,
    /// `--lock-at` as given (parsed here).
    pub lock_at: Option<String>,
    /// `--remap FROM=TO` as given (parsed here).
    pub remaps: Vec<String>,
    /// Remove every custom section after the build (wasm-strip semantics).
    pub strip_custom: bool,
    pub offline: bool,
    /// Wall-clock limit of each cargo step.
    pub time_limit: Duration,
    /// Address-space limit of every process of the build, in MiB (0: none).
    pub memory_limit_mib: u64,
    /// Run the compile step in the sandbox (strangers' code); `None`: unsandboxed.
    pub sandbox: Option<SandboxConfig>,
    /// With `sandbox`: the compile cache to restore dependencies from (and, `write`, to store
    /// them in; trusted workers only). `None`: every sandboxed build compiles them.
    pub compile_cache: Option<CompileCacheConfig>,
    pub cache: CacheConfig,
    pub resolver_toolchain: String,
    /// Recorded in the provenance as the tool's command line.
    pub tool_argv: Vec<String>,
    pub tool_name: String,
    pub tool_version: String,
}

impl BuildOptions {
    /// The defaults of `casper-repro build` with the cache under `cache_dir`.
    pub fn new(cache_dir: PathBuf) -> Self {
        BuildOptions {
            toolchain: None,
            target: None,
            recipe: RecipeChoice::Auto,
            cargo_odra: None,
            binaryen: None,
            features: Vec::new(),
            no_default_features: false,
            lock_at: None,
            remaps: Vec::new(),
            strip_custom: false,
            offline: false,
            time_limit: Duration::from_secs(3600),
            memory_limit_mib: 16384,
            sandbox: None,
            compile_cache: None,
            cache: CacheConfig {
                dir: cache_dir,
                enabled: true,
            },
            resolver_toolchain: repro_build::DEFAULT_RESOLVER_TOOLCHAIN.into(),
            tool_argv: Vec::new(),
            tool_name: "casper-repro".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Why the options do not make a build request.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Option(#[from] BuildError),
    #[error(transparent)]
    Recipe(#[from] RecipeError),
}

/// The build request for `crate_dir` (its `packages`, or all) writing into `out_dir`, with the
/// project's recipe detected (or forced) and applied; and the recipe, to report. Installing a
/// recipe's tools (binaryen) reports to `progress`.
pub fn prepare(
    opts: &BuildOptions,
    crate_dir: PathBuf,
    packages: Vec<String>,
    out_dir: PathBuf,
    host: HostEnv,
    progress: &mut dyn Progress,
) -> Result<(BuildRequest, RecipeRecord), RequestError> {
    let lock_at = opts.lock_at.as_deref().map(LockAt::parse).transpose()?;
    let remaps = opts
        .remaps
        .iter()
        .map(|r| Remap::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    let post_process: Vec<Arc<dyn PostProcess>> = if opts.strip_custom {
        vec![Arc::new(StripCustom::all())]
    } else {
        Vec::new()
    };
    let explicit = recipe::Explicit {
        target: opts.target.is_some(),
        packages: !packages.is_empty(),
    };
    let mut req = BuildRequest {
        crate_dir,
        packages,
        toolchain: opts.toolchain.clone(),
        inferred: None,
        target: opts
            .target
            .clone()
            .unwrap_or_else(|| "wasm32-unknown-unknown".into()),
        features: opts.features.clone(),
        no_default_features: opts.no_default_features,
        lock_at,
        remaps,
        post_process,
        units: Vec::new(),
        out_dir,
        offline: opts.offline,
        limits: Limits {
            wall_clock: opts.time_limit,
            memory_bytes: (opts.memory_limit_mib > 0).then(|| opts.memory_limit_mib * 1024 * 1024),
        },
        sandbox: opts.sandbox.clone(),
        compile_cache: opts.compile_cache.clone(),
        cache: opts.cache.clone(),
        resolver_toolchain: opts.resolver_toolchain.clone(),
        host,
        tool_argv: opts.tool_argv.clone(),
        tool_name: opts.tool_name.clone(),
        tool_version: opts.tool_version.clone(),
        recipe: None,
    };
    let tools = recipe::Tools {
        cargo_odra: opts.cargo_odra.clone(),
        binaryen: opts.binaryen,
    };
    let record = recipe::apply(opts.recipe, explicit, &tools, &mut req, progress)?;
    Ok((req, record))
}

/// The Wasm compilation targets a project's toolchain file names (`rust-toolchain` first, as
/// rustup reads them; empty when it has none, names none, or is the one-line legacy format: the
/// caller then chooses).
pub fn pinned_targets(project: &Path) -> Vec<String> {
    for name in ["rust-toolchain", "rust-toolchain.toml"] {
        let Ok(text) = fs_err::read_to_string(project.join(name)) else {
            continue;
        };
        // The legacy one-line format names only a channel.
        let Ok(doc) = text.parse::<toml::Table>() else {
            return Vec::new();
        };
        return doc
            .get("toolchain")
            .and_then(|t| t.get("targets"))
            .and_then(|t| t.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .filter(|t| repro_build::TARGETS.contains(t))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_targets_reads_the_toolchain_file_and_keeps_wasm_targets_only() {
        let d = tempfile::tempdir().unwrap();
        assert!(pinned_targets(d.path()).is_empty());
        fs_err::write(
            d.path().join("rust-toolchain.toml"),
            "[toolchain]\nchannel = \"1.95.0\"\ntargets = [\"x86_64-unknown-linux-gnu\", \"wasm32v1-none\"]\n",
        )
        .unwrap();
        assert_eq!(pinned_targets(d.path()), ["wasm32v1-none"]);
        fs_err::remove_file(d.path().join("rust-toolchain.toml")).unwrap();
        fs_err::write(d.path().join("rust-toolchain"), "nightly-2024-07-31\n").unwrap();
        assert!(pinned_targets(d.path()).is_empty());
        // The repository's own fixture pins its target.
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/contracts");
        assert_eq!(pinned_targets(&fixture), ["wasm32v1-none"]);
    }
}
