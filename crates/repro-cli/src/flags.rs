//! The flag groups several subcommands share: how to build (`build`, `verify`) and how to talk
//! to a node (`fetch`, `verify`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::repro_build::recipe::RecipeRecord;
use crate::repro_build::sandbox::SandboxConfig;
use crate::repro_build::{BuildRequest, CacheConfig, CompileCacheConfig, HostEnv};
use crate::repro_chain::rpc::ClientOptions;
use repro_verify::recipe::RecipeChoice;
use repro_verify::request::{self, BuildOptions};

/// How to build: the options `build` and `verify` share.
#[derive(Debug, clap::Args)]
pub struct BuildOpts {
    /// Toolchain to use instead of the crate's pin (e.g. nightly-2023-03-25), or `auto`: the one
    /// that built the uploaded module, from its producers section or its /rustc/COMMIT/ paths
    /// (verify: the module on chain; build: --infer-from FILE).
    #[arg(long)]
    pub toolchain: Option<String>,
    /// Compilation target [default: the Makefile's, else wasm32-unknown-unknown].
    #[arg(long, value_parser = ["wasm32-unknown-unknown", "wasm32v1-none"])]
    pub target: Option<String>,
    /// How the project builds: detected (`auto`: Odra.toml with an odra dependency is odra; a
    /// Makefile whose contract rule runs cargo build then wasm-strip or wasm-opt is make; else
    /// cargo), or forced. A Makefile is read, never run.
    #[arg(long, value_enum, default_value_t = Recipe::Auto)]
    pub recipe: Recipe,
    /// Odra: the cargo-odra version whose steps are replayed [default: the one released with
    /// the odra version in Cargo.lock].
    #[arg(long, value_name = "VERSION")]
    pub cargo_odra: Option<String>,
    /// The binaryen release of wasm-opt (installed from the npm registry package
    /// binaryen@VERSION.0.0) [default: 132].
    #[arg(long, value_name = "VERSION")]
    pub binaryen: Option<u32>,
    /// Features to enable (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,
    /// Do not enable default features.
    #[arg(long)]
    pub no_default_features: bool,
    /// Without a Cargo.lock: reconstruct it as of DATE (YYYY-MM-DD = end of that day UTC,
    /// or YYYY-MM-DDTHH:MM:SSZ), or `git` for the last commit's time.
    #[arg(long, value_name = "DATE|git")]
    pub lock_at: Option<String>,
    /// Map a path of this build to another builder's, as embedded in panic locations
    /// (--remap-path-prefix). FROM may be a token, see below.
    #[arg(long, value_name = "FROM=TO")]
    pub remap: Vec<String>,
    /// Post-processing: `none` keeps cargo's exact output; `custom` removes every custom section
    /// (wasm-strip semantics).
    #[arg(long, value_enum, default_value_t = Strip::None)]
    pub strip: Strip,
    /// Never install a toolchain nor touch the network (dependencies must be in $CARGO_HOME).
    #[arg(long)]
    pub offline: bool,
    /// Wall-clock limit of each cargo step, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub time_limit: u64,
    /// Address-space limit of every process of the build, in MiB (0: none).
    #[arg(long, value_name = "MIB", default_value_t = 16384)]
    pub memory_limit: u64,
    /// Build in a sandbox (bubblewrap): for code you do not trust. Dependencies are fetched
    /// first; the compile then runs with no network, sees only the source, the target directory,
    /// the toolchains and the registry, and writes only the first two.
    #[arg(long)]
    pub sandbox: bool,
    /// With --sandbox: processes and threads alive at once.
    #[arg(long, value_name = "N", default_value_t = 1024, requires = "sandbox")]
    pub process_limit: u32,
    /// With --sandbox: disk space the build may use (source copy and target), in MiB.
    #[arg(
        long,
        value_name = "MIB",
        default_value_t = 16384,
        requires = "sandbox"
    )]
    pub disk_limit: u64,
    /// With --sandbox: restore compiled dependencies from this compile cache (copied into the
    /// build's private target, each file checked; never visible inside the sandbox).
    #[arg(long, value_name = "DIR")]
    pub compile_cache: Option<PathBuf>,
    /// With --compile-cache: also store this build's compiled dependencies there when it
    /// succeeds. Only for sources you trust: their build scripts can write into what is stored.
    #[arg(long)]
    pub compile_cache_write: bool,
    /// Do not look up nor store results in the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Cache directory [default: $XDG_CACHE_HOME/casper-repro or ~/.cache/casper-repro].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Nightly whose cargo reconstructs locks (--publish-time) and vendors for old cargo.
    #[arg(long, default_value = crate::repro_build::DEFAULT_RESOLVER_TOOLCHAIN)]
    pub resolver_toolchain: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Recipe {
    Auto,
    Cargo,
    Make,
    Odra,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Strip {
    None,
    Custom,
}

impl BuildOpts {
    /// The build request for `crate_dir` with these options and the project's recipe applied,
    /// and the recipe (to report).
    pub fn request(
        &self,
        crate_dir: PathBuf,
        packages: Vec<String>,
        out_dir: PathBuf,
    ) -> anyhow::Result<(BuildRequest, RecipeRecord)> {
        let host = HostEnv::from_process();
        let cache_dir = self.cache_dir.clone().unwrap_or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| host.home.join(".cache"))
                .join("casper-repro")
        });
        if self.compile_cache_write && self.compile_cache.is_none() {
            bail!("--compile-cache-write needs --compile-cache DIR");
        }
        if self.compile_cache.is_some() && !self.sandbox {
            bail!(
                "--compile-cache is only used with --sandbox (an unsandboxed build already reuses the cache's shared target directory)"
            );
        }
        let landlock_helper = if self.sandbox {
            Some(std::env::current_exe().context("finding this program for the sandbox")?)
        } else {
            None
        };
        let opts = BuildOptions {
            toolchain: self.toolchain.clone(),
            target: self.target.clone(),
            recipe: match self.recipe {
                Recipe::Auto => RecipeChoice::Auto,
                Recipe::Cargo => RecipeChoice::Cargo,
                Recipe::Make => RecipeChoice::Make,
                Recipe::Odra => RecipeChoice::Odra,
            },
            cargo_odra: self.cargo_odra.clone(),
            binaryen: self.binaryen,
            features: self.features.clone(),
            no_default_features: self.no_default_features,
            lock_at: self.lock_at.clone(),
            remaps: self.remap.clone(),
            strip_custom: self.strip == Strip::Custom,
            offline: self.offline,
            time_limit: Duration::from_secs(self.time_limit),
            memory_limit_mib: self.memory_limit,
            sandbox: self.sandbox.then(|| SandboxConfig {
                max_processes: self.process_limit.max(1),
                max_disk_bytes: self.disk_limit.max(1) << 20,
                // This program applies Landlock inside the sandbox (`__landlock-exec`).
                landlock_helper,
                ..SandboxConfig::default()
            }),
            compile_cache: self.compile_cache.clone().map(|dir| CompileCacheConfig {
                dir,
                write: self.compile_cache_write,
            }),
            cache: CacheConfig {
                dir: cache_dir,
                enabled: !self.no_cache,
            },
            resolver_toolchain: self.resolver_toolchain.clone(),
            tool_argv: std::env::args().collect(),
            ..BuildOptions::new(PathBuf::new())
        };
        let mut progress = crate::progress::StderrProgress::new();
        let prepared = request::prepare(&opts, crate_dir, packages, out_dir, host, &mut progress);
        progress.finish();
        Ok(prepared?)
    }
}

/// Options of the JSON-RPC client.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Time limit of one request to the node, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Further attempts after a failed request (time-out, connection error, HTTP 5xx).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,
}

impl ClientArgs {
    pub fn options(&self) -> ClientOptions {
        ClientOptions {
            timeout: std::time::Duration::from_secs(self.timeout.max(1)),
            retries: self.retries,
            ..ClientOptions::default()
        }
    }
}

/// What the finality check trusts: `--trusted-block`, `--emergency-upgrade`, `--era-cache`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TrustArgs {
    /// Check that the executing block is final, with era weights chained from this block (the hash
    /// of a block you trust, e.g. from your own node; a switch block is cheapest). Without it,
    /// finality by weight is reported as not checked.
    #[arg(long, value_name = "HASH", value_parser = parse_block_hash)]
    pub trusted_block: Option<crate::repro_chain::casper_types::BlockHash>,
    /// An emergency upgrade that replaced the validators on the way: its release's chainspec
    /// directory (chainspec.toml with the activation era, global_state.toml with the validators).
    /// Repeat for several.
    #[arg(long, value_name = "DIR", requires = "trusted_block")]
    pub emergency_upgrade: Vec<PathBuf>,
    /// Keep the switch blocks the finality check accepts in DIR (one file per era), so later runs
    /// need not search for them again. Entries are checked again before use.
    #[arg(long, value_name = "DIR", requires = "trusted_block")]
    pub era_cache: Option<PathBuf>,
}

fn parse_block_hash(s: &str) -> Result<crate::repro_chain::casper_types::BlockHash, String> {
    use crate::repro_chain::casper_types::{BlockHash, Digest};
    let s = s.trim();
    if s.len() != 64 {
        return Err(format!("`{s}` is not a block hash (64 hex digits)"));
    }
    Digest::from_hex(s)
        .map(BlockHash::new)
        .map_err(|_| format!("`{s}` is not a block hash (64 hex digits)"))
}

impl TrustArgs {
    /// The library's [`Trust`](crate::repro_chain::finality::Trust): reads every upgrade's
    /// chainspec.
    pub fn trust(&self) -> anyhow::Result<crate::repro_chain::finality::Trust> {
        use crate::repro_chain::finality::{EmergencyUpgrade, Trust};
        let upgrades = self
            .emergency_upgrade
            .iter()
            .map(|dir| EmergencyUpgrade::from_dir(dir))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Trust {
            anchor: self.trusted_block,
            upgrades,
            cache: self.era_cache.clone(),
            ..Trust::default()
        })
    }
}

/// A `--chainspec FILE` read from disk, as repro-verify's configuration policy takes it.
#[derive(Debug)]
pub struct ChainspecFile {
    shown: String,
    name: String,
    text: Vec<u8>,
}

impl ChainspecFile {
    pub fn read(path: &std::path::Path) -> anyhow::Result<Self> {
        Ok(ChainspecFile {
            shown: path.display().to_string(),
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            text: fs_err::read(path)?,
        })
    }

    pub fn as_chainspec(&self) -> repro_verify::config::Chainspec<'_> {
        repro_verify::config::Chainspec {
            shown: &self.shown,
            name: &self.name,
            text: &self.text,
        }
    }
}
