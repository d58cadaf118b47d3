//! binaryen's `wasm-opt` at a pinned version, installed by this tool from the npm registry.
//!
//! Why npm: wasm-opt's output depends on the exact binaryen release, so the release must be the
//! one a project's builders used. The npm package `binaryen@<N>.0.0` ships release N for every
//! release (116 … 132 at the time of writing) as binaryen's own C++ compiled to Wasm, with a
//! `bin/wasm-opt` that Node.js runs: seconds to install, nothing to compile, the same bytes
//! everywhere, and checked against the registry's sha512 integrity. The `wasm-opt` crate builds
//! only binaryen 116 (minutes of C++), and Debian ships 108, too old for cargo-odra's
//! `--llvm-memory-copy-fill-lowering` (121 or later).
//!
//! Installed packages live in `<cache>/tools/binaryen-<N>`; a missing Node.js or npm, an
//! install that fails, or a package whose integrity is not the one recorded here is an error,
//! never a skipped step.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{BuildError, tail};
use crate::exec::{HostEnv, Invocation, Limits};
use crate::{PostContext, PostProcess, Progress, ProgressEvent};

/// The binaryen release used when the caller names none: the newest one on npm when this table
/// was made, the one `npm install binaryen` (and so a fresh builder) gets.
///
/// Releases give different bytes from the same input: on `cargo odra build`'s flags, 121, 122–123,
/// 124–125 and 129–132 each give their own output (testdata/odra-cep18). 121 also writes a
/// DataCount section whenever bulk memory is enabled, even with no bulk-memory instruction left
/// after `--llvm-memory-copy-fill-lowering`; node 2.0.3 refuses such a module ("Sections out of
/// order", the real engine 8.1.1 in oracles/ee-8.1.1), so a module on chain was not built with 121
/// by cargo-odra 0.1.7 or later on a compiler that emits bulk memory.
pub const DEFAULT_VERSION: u32 = 132;

/// The npm registry's sha512 integrity of the `binaryen` packages checked here. A version not in
/// this table is installed and its integrity recorded, and the build says so.
const KNOWN_INTEGRITY: &[(u32, &str)] = &[
    (
        121,
        "sha512-St5LX+CmVdDQMf+DDHWdne7eDK+8tH9TE4Kc+Xk3s5+CzVYIKeJbWuXgsKVbkdLJXGUc2eflFqjThQy555mBag==",
    ),
    (
        122,
        "sha512-XOvjvucq04e5UW0cuoiEZX4wxzepuF7q8sz24JtaXltqjgCqQOZHPXAq5ja/eLljF/orWYmaxuWivpp7paVUCQ==",
    ),
    (
        123,
        "sha512-/hls/a309aZCc0itqP6uhoR+5DsKSlJVfB8Opd2BY9Ndghs84IScTunlyidyF4r2Xe3lQttnfBNIDjaNpj6mTw==",
    ),
    (
        124,
        "sha512-RUv9bWl9C4kwjOmi4yA/yjW/w+YMtoEEpTFtI1nIl1m+1AGWRvxirGgd8AeqUnEB65HcsjZJ+WAIsGuVBwDxwA==",
    ),
    (
        125,
        "sha512-X7CUM9ZnwL/Ow++JH5AJKiemc82J7JyeryuPvXQdXBLcL/rqrC5KMUB1mHiORSolietH9sotvaOZlr6HSwPAlw==",
    ),
    (
        129,
        "sha512-NyF5J0SfRoLDthpPh36FGTycOEv3Eqnkq3+mP5Cqt6iD9BLGGJMEVuPzu81nhLy2MMpPKmRTM9VLZihfyRQv8A==",
    ),
    (
        132,
        "sha512-4Usg7yEvwO3FMso3Oov6qkOOHSod1IEv+boKkh77kTljM+eNBouqCTbqWswGzbG+vDNO/b/v2C4gfEh1WgB9Lg==",
    ),
];

/// An installed binaryen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaryen {
    pub version: u32,
    /// The package's integrity as npm installed it.
    pub integrity: String,
    /// Whether this tool has the registry integrity of this release on record.
    pub integrity_known: bool,
    /// `node`.
    pub node: PathBuf,
    /// `…/node_modules/binaryen/bin/wasm-opt`.
    pub wasm_opt: PathBuf,
}

impl Binaryen {
    /// The provenance's account of a wasm-opt run: its flags, the release and the package
    /// integrity.
    pub fn describe_run(&self, flags: &str) -> String {
        format!(
            "wasm-opt {flags} (binaryen {}, npm binaryen@{}.0.0 {}{})",
            self.version,
            self.version,
            self.integrity,
            if self.integrity_known {
                ""
            } else {
                ", integrity not known to this tool"
            }
        )
    }

    /// Runs `wasm-opt ARGS in -o out` on `wasm` in a private directory under `ctx.work_dir`.
    pub fn run_wasm_opt(
        &self,
        args: &[&str],
        wasm: &[u8],
        ctx: &PostContext<'_>,
    ) -> Result<Vec<u8>, String> {
        let dir = tempfile::Builder::new()
            .prefix("wasm-opt-")
            .tempdir_in(ctx.work_dir)
            .map_err(|e| format!("creating a scratch directory: {e}"))?;
        let input = dir.path().join("in.wasm");
        let output = dir.path().join("out.wasm");
        std::fs::write(&input, wasm).map_err(|e| format!("writing wasm-opt's input: {e}"))?;
        let mut env = ctx.host.base_env();
        env.retain(|k, _| k == "PATH" || k == "HOME" || k == "LC_ALL");
        let inv = Invocation::new(&self.node, dir.path(), env)
            .arg(self.wasm_opt.display().to_string())
            .args(args.iter().copied())
            .arg(input.display().to_string())
            .arg("-o")
            .arg(output.display().to_string());
        // wasm-opt is a pinned, integrity-checked tool; V8 reserves far more address space for a
        // Wasm memory than an address-space limit allows, so only the time limit applies.
        let limits = Limits {
            memory_bytes: None,
            ..ctx.limits
        };
        let finished = match inv.run_limited(limits, &mut crate::NoProgress) {
            Err(e) => return Err(e.to_string()),
            Ok(Err(crate::exec::Killed::Time(limit))) => {
                return Err(format!("wasm-opt ran longer than {}s", limit.as_secs()));
            }
            Ok(Err(crate::exec::Killed::Watch(e))) => return Err(e.to_string()),
            Ok(Ok(f)) => f,
        };
        if !finished.success {
            return Err(format!(
                "wasm-opt (binaryen {}) failed ({}): {}",
                self.version,
                finished.status,
                tail(&finished.stderr, 20)
            ));
        }
        std::fs::read(&output).map_err(|e| format!("reading wasm-opt's output: {e}"))
    }
}

/// A `wasm-opt FLAGS IN -o IN` step as a Makefile writes it: these flags, in place, on the
/// artifacts with these file names, with a pinned binaryen.
#[derive(Debug)]
pub struct WasmOptCommand {
    binaryen: Binaryen,
    flags: Vec<String>,
    only: BTreeSet<String>,
    name: String,
}

impl WasmOptCommand {
    pub fn new(binaryen: Binaryen, flags: Vec<String>, only: BTreeSet<String>) -> Self {
        let name = format!(
            "wasm-opt {} (binaryen {}) on {}",
            flags.join(" "),
            binaryen.version,
            only.iter().cloned().collect::<Vec<_>>().join(",")
        );
        WasmOptCommand {
            binaryen,
            flags,
            only,
            name,
        }
    }
}

impl PostProcess for WasmOptCommand {
    fn name(&self) -> &str {
        &self.name
    }

    fn apply(&self, wasm: &[u8], ctx: &PostContext<'_>) -> Result<Vec<u8>, String> {
        let flags: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        self.binaryen.run_wasm_opt(&flags, wasm, ctx)
    }

    fn describe(&self, _ctx: &PostContext<'_>) -> String {
        self.binaryen.describe_run(&self.flags.join(" "))
    }

    fn applies_to(&self, artifact_file: &str) -> bool {
        self.only.contains(artifact_file)
    }
}

/// Installs (once) and returns binaryen `version`.
pub fn ensure(
    version: u32,
    cache_dir: &Path,
    host: &HostEnv,
    offline: bool,
    progress: &mut dyn Progress,
) -> Result<Binaryen, BuildError> {
    let node = find_on_path(host, "node").ok_or_else(|| BuildError::ToolMissing {
        tool: "node".into(),
        why: format!("binaryen {version}'s wasm-opt runs on Node.js (install nodejs)"),
    })?;
    let dir = cache_dir.join("tools").join(format!("binaryen-{version}"));
    let package = dir.join("node_modules/binaryen");
    if !package.join("package.json").is_file() {
        if offline {
            return Err(BuildError::ToolMissing {
                tool: format!("binaryen {version}"),
                why: format!(
                    "it is not installed in {} and --offline forbids installing it from the npm registry",
                    dir.display()
                ),
            });
        }
        progress.event(ProgressEvent::Step(&format!(
            "installing binaryen {version} (npm package binaryen@{version}.0.0)"
        )));
        install(version, &dir, host)?;
    }
    let integrity = installed_integrity(&dir)?;
    let known = KNOWN_INTEGRITY.iter().find(|k| k.0 == version);
    if let Some((_, expected)) = known
        && *expected != integrity
    {
        return Err(BuildError::ToolMissing {
            tool: format!("binaryen {version}"),
            why: format!(
                "the package in {} has integrity {integrity}, not the registry's {expected}: remove that directory",
                dir.display()
            ),
        });
    }
    let binaryen = Binaryen {
        version,
        integrity,
        integrity_known: known.is_some(),
        node,
        wasm_opt: package.join("bin/wasm-opt"),
    };
    check_version(&binaryen, host)?;
    Ok(binaryen)
}

fn install(version: u32, dir: &Path, host: &HostEnv) -> Result<(), BuildError> {
    let npm = find_on_path(host, "npm").ok_or_else(|| BuildError::ToolMissing {
        tool: "npm".into(),
        why: format!("binaryen {version} is installed from the npm registry (install npm)"),
    })?;
    let parent = dir.parent().expect("tools dir has a parent");
    fs_err::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".binaryen-")
        .tempdir_in(parent)?;
    fs_err::write(
        staging.path().join("package.json"),
        "{\"private\": true, \"description\": \"casper-repro's pinned binaryen\"}\n",
    )?;
    let mut env: BTreeMap<String, String> = host.base_env();
    env.insert(
        "npm_config_cache".into(),
        staging.path().join(".npm").display().to_string(),
    );
    let inv = Invocation::new(&npm, staging.path(), env).args([
        "install".to_owned(),
        "--ignore-scripts".into(),
        "--no-audit".into(),
        "--no-fund".into(),
        "--save-exact".into(),
        format!("binaryen@{version}.0.0"),
    ]);
    let done = inv.output()?;
    if !done.success {
        return Err(BuildError::ToolMissing {
            tool: format!("binaryen {version}"),
            why: format!(
                "npm install binaryen@{version}.0.0 failed ({}): {}",
                done.status,
                tail(&done.stderr, 10)
            ),
        });
    }
    let _ = fs_err::remove_dir_all(staging.path().join(".npm"));
    let staged = staging.keep();
    if std::fs::rename(&staged, dir).is_err() {
        // Another build installed it first.
        let _ = fs_err::remove_dir_all(&staged);
    }
    Ok(())
}

/// The integrity npm recorded for the installed package.
fn installed_integrity(dir: &Path) -> Result<String, BuildError> {
    let lock_path = dir.join("package-lock.json");
    let lock: serde_json::Value = serde_json::from_slice(&fs_err::read(&lock_path)?)
        .map_err(|e| BuildError::parse(lock_path.display().to_string(), e))?;
    lock.get("packages")
        .and_then(|p| p.get("node_modules/binaryen"))
        .and_then(|b| b.get("integrity"))
        .and_then(|i| i.as_str())
        .map(str::to_owned)
        .ok_or_else(|| BuildError::Parse {
            what: lock_path.display().to_string(),
            reason: "no integrity recorded for node_modules/binaryen".into(),
        })
}

/// `wasm-opt --version` must name the release asked for.
fn check_version(b: &Binaryen, host: &HostEnv) -> Result<(), BuildError> {
    let cwd = b.wasm_opt.parent().unwrap_or(Path::new("/"));
    let out = Invocation::new(&b.node, cwd, host.base_env())
        .arg(b.wasm_opt.display().to_string())
        .arg("--version")
        .output()?;
    let expected = format!("version {}", b.version);
    if !out.success || !out.stdout.contains(&expected) {
        return Err(BuildError::ToolMissing {
            tool: format!("binaryen {}", b.version),
            why: format!(
                "{} --version printed `{}`{}, not `wasm-opt {expected}`",
                b.wasm_opt.display(),
                out.stdout.trim(),
                if out.success { "" } else { " and failed" }
            ),
        });
    }
    Ok(())
}

fn find_on_path(host: &HostEnv, program: &str) -> Option<PathBuf> {
    std::env::split_paths(&host.path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}
