//! `casper-repro build`: a deterministic, toolchain-pinned build of a contract crate, with a
//! provenance record next to every artifact. The work is done by `repro-build`; the shared build
//! flags are in `crate::flags`, progress in `crate::progress`.

use std::path::PathBuf;

use anyhow::bail;
use repro_verify::repro_build::BuildRequest;
use repro_verify::repro_build::toolchain::infer::Inferred;
use repro_verify::toolchain::{AUTO, apply_inferred};
use repro_verify::wire::{BuildArtifactDoc, BuildDoc, InferredDoc};

use crate::Outcome;
use crate::flags::BuildOpts;
use crate::output::{self, Format};
use crate::progress::build_with_progress;

const AFTER_HELP: &str = "\
Toolchain: from the crate's rust-toolchain(.toml) (walking up to the workspace root) or
--toolchain; installed through rustup with the wasm target when missing (not with --offline).
--toolchain auto --infer-from FILE.wasm uses the rustc that built FILE (its producers section, or
its /rustc/<commit>/ paths through the table of stable releases 1.56.0-1.95.0).
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

/// One line on what `casper-repro build` does: in the top-level help and its own.
pub const ABOUT: &str =
    "Build a contract reproducibly with its pinned toolchain; write each .wasm and its provenance";

/// The arguments of `casper-repro build`.
#[derive(Debug, clap::Args)]
#[command(about = ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// The crate (or workspace) directory.
    crate_dir: PathBuf,
    /// Package to build; repeat for several (one cargo invocation, features unify across them).
    /// Default: the crate at CRATE_DIR, or every cdylib member of a virtual workspace.
    #[arg(short = 'p', long = "package", value_name = "PKG")]
    packages: Vec<String>,
    #[command(flatten)]
    build: BuildOpts,
    /// With --toolchain auto: the module to infer the toolchain from (e.g. the session Wasm as it
    /// was uploaded).
    #[arg(long, value_name = "FILE.wasm", requires = "toolchain")]
    infer_from: Option<PathBuf>,
    /// Where to write the .wasm files and their .provenance.json.
    #[arg(long, default_value = "repro-out")]
    out_dir: PathBuf,
    /// Result format on stdout.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (mut req, recipe) = args.build.request(
        args.crate_dir.clone(),
        args.packages.clone(),
        args.out_dir.clone(),
    )?;
    let inferred = infer_toolchain(&mut req, args.infer_from.as_deref())?;
    crate::progress::report_recipe(&recipe);
    let out = build_with_progress(&req)?;
    match args.format {
        Format::Json => {
            let doc = BuildDoc {
                cache_hit: out.cache_hit,
                cache_key: &out.cache_key,
                toolchain: &out.toolchain,
                inferred: inferred.as_ref().map(InferredDoc::from),
                elapsed_ms: out.elapsed.as_millis(),
                artifacts: out
                    .artifacts
                    .iter()
                    .map(|a| BuildArtifactDoc {
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

/// `--toolchain auto --infer-from FILE`: the toolchain that built FILE.
fn infer_toolchain(
    req: &mut BuildRequest,
    infer_from: Option<&std::path::Path>,
) -> anyhow::Result<Option<Inferred>> {
    let auto = req.toolchain.as_deref() == Some(AUTO);
    let file = match (auto, infer_from) {
        (false, None) => return Ok(None),
        (false, Some(_)) => bail!("--infer-from is only read with --toolchain auto"),
        (true, None) => bail!(
            "--toolchain auto needs a module to infer the toolchain from: give --infer-from FILE.wasm (the uploaded module), or name the toolchain with --toolchain NAME"
        ),
        (true, Some(file)) => file,
    };
    let bytes = fs_err::read(file)?;
    let inferred = apply_inferred(req, &bytes, &file.display().to_string())?;
    crate::progress::report_toolchain(&format!("inferred: {}", inferred.describe()));
    Ok(Some(inferred))
}
