//! `casper-repro build`: a deterministic, toolchain-pinned build of a contract crate, with a
//! provenance record next to every artifact. The work is done by `repro-build`; this module parses
//! arguments, renders progress on stderr, and supplies the one step that reads Wasm: `--strip
//! custom` (repro-build never parses Wasm; it records the step by name).

#![allow(clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use repro_build::{
    BuildRequest, CacheConfig, HostEnv, Limits, LockAt, PostProcess, Progress, ProgressEvent, Remap,
};
use serde::Serialize;

use crate::Outcome;
use crate::output::{self, Format};

const AFTER_HELP: &str = "\
Toolchain: from the crate's rust-toolchain(.toml) (walking up to the workspace root) or
--toolchain; installed through rustup with the wasm target when missing (not with --offline).
Remap tokens, alone or starting FROM: {cargo_home}, {home}, {source} (the private copy of the
workspace), {target_dir}; e.g. --remap {cargo_home}/registry/src=/home/alice/.cargo/registry/src

Examples:
  casper-repro build ./contract
  casper-repro build ./cep18 -p cep18 -p cep18-test-contract --lock-at 2023-03-25 --strip custom
  casper-repro build . --lock-at git --remap {cargo_home}=/home/alice/.cargo --format json

Exit status:
  0  built (or a cache hit)
  2  error: no such crate, no wasm produced, compile error, unknown toolchain, target
     unavailable, limit exceeded, ... (nothing is left in --out-dir)";

/// Build a contract reproducibly with its pinned toolchain; write each .wasm and its provenance.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The crate (or workspace) directory.
    crate_dir: PathBuf,
    /// Package to build; repeat for several (one cargo invocation, features unify across them).
    /// Default: the crate at CRATE_DIR, or every cdylib member of a virtual workspace.
    #[arg(short = 'p', long = "package", value_name = "PKG")]
    packages: Vec<String>,
    #[command(flatten)]
    build: BuildOpts,
    /// Where to write the .wasm files and their .provenance.json.
    #[arg(long, default_value = "repro-out")]
    out_dir: PathBuf,
    /// Result format on stdout.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// How to build: the options `build` and `verify` share.
#[derive(Debug, clap::Args)]
pub struct BuildOpts {
    /// Toolchain to use instead of the crate's pin (e.g. nightly-2023-03-25).
    #[arg(long)]
    pub toolchain: Option<String>,
    /// Compilation target.
    #[arg(long, default_value = "wasm32-unknown-unknown", value_parser = ["wasm32-unknown-unknown", "wasm32v1-none"])]
    pub target: String,
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
    /// Do not look up nor store results in the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Cache directory [default: $XDG_CACHE_HOME/casper-repro or ~/.cache/casper-repro].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Nightly whose cargo reconstructs locks (--publish-time) and vendors for old cargo.
    #[arg(long, default_value = repro_build::DEFAULT_RESOLVER_TOOLCHAIN)]
    pub resolver_toolchain: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Strip {
    None,
    Custom,
}

#[derive(Debug, Serialize)]
struct Doc<'a> {
    cache_hit: bool,
    cache_key: &'a str,
    toolchain: &'a str,
    elapsed_ms: u128,
    artifacts: Vec<ArtifactDoc<'a>>,
}

#[derive(Debug, Serialize)]
struct ArtifactDoc<'a> {
    package: &'a str,
    path: String,
    provenance: String,
    sha256: &'a str,
    size: u64,
}

impl BuildOpts {
    /// The build request for `crate_dir` with these options.
    pub fn request(
        &self,
        crate_dir: PathBuf,
        packages: Vec<String>,
        out_dir: PathBuf,
    ) -> anyhow::Result<BuildRequest> {
        let host = HostEnv::from_process();
        let cache_dir = self.cache_dir.clone().unwrap_or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| host.home.join(".cache"))
                .join("casper-repro")
        });
        let lock_at = self.lock_at.as_deref().map(LockAt::parse).transpose()?;
        let remaps = self
            .remap
            .iter()
            .map(|r| Remap::parse(r))
            .collect::<Result<Vec<_>, _>>()?;
        let post_process: Vec<Arc<dyn PostProcess>> = match self.strip {
            Strip::None => Vec::new(),
            Strip::Custom => vec![Arc::new(StripCustom)],
        };
        Ok(BuildRequest {
            crate_dir,
            packages,
            toolchain: self.toolchain.clone(),
            target: self.target.clone(),
            features: self.features.clone(),
            no_default_features: self.no_default_features,
            lock_at,
            remaps,
            post_process,
            out_dir,
            offline: self.offline,
            limits: Limits {
                wall_clock: Duration::from_secs(self.time_limit),
                memory_bytes: (self.memory_limit > 0).then(|| self.memory_limit * 1024 * 1024),
            },
            cache: CacheConfig {
                dir: cache_dir,
                enabled: !self.no_cache,
            },
            resolver_toolchain: self.resolver_toolchain.clone(),
            host,
            tool_argv: std::env::args().collect(),
            tool_name: "casper-repro".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
        })
    }
}

/// Runs one build with progress on stderr.
pub fn build_with_progress(req: &BuildRequest) -> anyhow::Result<repro_build::BuildOutput> {
    let mut progress = StderrProgress::new();
    let out = repro_build::build(req, &mut progress);
    progress.finish();
    let out = out.with_context(|| format!("building {}", req.crate_dir.display()))?;
    if out.cache_hit && progress.level != Level::Quiet {
        let _ = writeln!(
            std::io::stderr(),
            "cache hit ({} ms)",
            out.elapsed.as_millis()
        );
    }
    Ok(out)
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let req = args.build.request(
        args.crate_dir.clone(),
        args.packages.clone(),
        args.out_dir.clone(),
    )?;
    let out = build_with_progress(&req)?;
    match args.format {
        Format::Json => {
            let doc = Doc {
                cache_hit: out.cache_hit,
                cache_key: &out.cache_key,
                toolchain: &out.toolchain,
                elapsed_ms: out.elapsed.as_millis(),
                artifacts: out
                    .artifacts
                    .iter()
                    .map(|a| ArtifactDoc {
                        package: &a.package,
                        path: a.path.display().to_string(),
                        provenance: a.provenance_path.display().to_string(),
                        sha256: &a.sha256,
                        size: a.size,
                    })
                    .collect(),
            };
            output::print_json("build", &doc)?;
        }
        Format::Text => {
            let mut s = String::new();
            for a in &out.artifacts {
                s.push_str(&format!("{}  {}\n", a.sha256, a.path.display()));
            }
            output::print_text(&s)?;
        }
    }
    Ok(Outcome::Success)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Quiet,
    Normal,
    Verbose,
}

/// Progress on stderr: steps always, a status line (current crate, elapsed) while cargo runs, and
/// every cargo line with `-v`. The level follows the tracing filter `main` installed.
#[derive(Debug)]
struct StderrProgress {
    level: Level,
    tty: bool,
    last_draw: Option<Instant>,
    drawn: bool,
    last_current: String,
}

impl StderrProgress {
    fn new() -> Self {
        let level = if tracing::enabled!(tracing::Level::DEBUG) {
            Level::Verbose
        } else if tracing::enabled!(tracing::Level::WARN) {
            Level::Normal
        } else {
            Level::Quiet
        };
        Self {
            level,
            tty: std::io::stderr().is_terminal(),
            last_draw: None,
            drawn: false,
            last_current: String::new(),
        }
    }

    fn clear(&mut self, err: &mut impl Write) {
        if self.drawn {
            let _ = write!(err, "\r\x1b[2K");
            self.drawn = false;
        }
    }

    fn finish(&mut self) {
        let mut err = std::io::stderr().lock();
        self.clear(&mut err);
    }
}

impl Progress for StderrProgress {
    fn event(&mut self, event: ProgressEvent<'_>) {
        if self.level == Level::Quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        match event {
            ProgressEvent::Step(s) => {
                self.clear(&mut err);
                let _ = writeln!(err, "casper-repro: {s}");
            }
            ProgressEvent::CargoLine(l) if self.level == Level::Verbose => {
                self.clear(&mut err);
                let _ = writeln!(err, "{l}");
            }
            ProgressEvent::CargoLine(_) => {}
            ProgressEvent::Tick { current, elapsed } => {
                if self.tty {
                    if self
                        .last_draw
                        .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
                    {
                        return;
                    }
                    self.last_draw = Some(Instant::now());
                    let _ = write!(err, "\r\x1b[2K[{:>5.1}s] {current}", elapsed.as_secs_f64());
                    self.drawn = true;
                } else if self.level == Level::Normal
                    && current != self.last_current
                    && current.starts_with("Compiling")
                {
                    // Not a terminal: one line per crate, no carriage returns.
                    let _ = writeln!(err, "[{:>5.1}s] {current}", elapsed.as_secs_f64());
                }
                self.last_current = current.to_owned();
            }
            ProgressEvent::Done { elapsed } => {
                self.clear(&mut err);
                let _ = writeln!(
                    err,
                    "casper-repro: cargo step finished in {:.1}s",
                    elapsed.as_secs_f64()
                );
            }
        }
    }
}

/// `--strip custom`: removes every custom section (id 0), keeping every other section's bytes as
/// they are, with wabt `wasm-strip` semantics (section sizes re-encoded as minimal LEB128, as wabt
/// writes them). Lives here, not in repro-build, because it reads Wasm structure.
#[derive(Debug)]
pub struct StripCustom;

impl PostProcess for StripCustom {
    fn name(&self) -> &str {
        "strip-custom-sections"
    }

    fn apply(&self, wasm: &[u8]) -> Result<Vec<u8>, String> {
        strip_custom_sections(wasm)
    }
}

/// Keeps the 8-byte header and every non-custom section, drops custom sections.
pub fn strip_custom_sections(wasm: &[u8]) -> Result<Vec<u8>, String> {
    use wasmparser::{Parser, Payload};
    let mut out = Vec::with_capacity(wasm.len());
    out.extend_from_slice(
        wasm.get(..8)
            .ok_or("not a Wasm module: shorter than its header")?,
    );
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| e.to_string())?;
        if matches!(
            payload,
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. }
        ) {
            return Err("components are not supported".into());
        }
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        if id == 0 {
            continue;
        }
        out.push(id);
        let mut n = range.len() as u64;
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        out.extend_from_slice(&wasm[range]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_custom_sections() {
        // header, custom "a" (id 0), type section with one `() -> ()`, custom "b".
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend_from_slice(&[0, 3, 1, b'a', 9]);
        m.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        m.extend_from_slice(&[0, 2, 1, b'b']);
        let s = strip_custom_sections(&m).unwrap();
        assert_eq!(s, b"\0asm\x01\0\0\0\x01\x04\x01\x60\x00\x00");
    }
}
