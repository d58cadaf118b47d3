//! A whole verification from a resolved install: choose the configuration, get the artifacts
//! (build the source, or take files built elsewhere), run the stages.

use repro_chain::install::{Install, Installer};

use crate::config::{self, ConfigError, Explicit};
use crate::model::{Rebuilt, Report};

/// What to compare the upload with.
#[derive(Debug)]
pub enum Artifacts {
    /// Nothing: stage 2 only.
    None,
    /// Artifacts built elsewhere.
    Files(Vec<Rebuilt>),
    /// Build this source (every package's artifact is a candidate). A `toolchain` of
    /// [`crate::toolchain::AUTO`] is inferred from the uploaded module.
    Build(Box<repro_build::BuildRequest>),
}

/// Why a verification could not run (a verdict, even a negative one, is not an error).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "this transaction installed its contract(s) by calling the stored contract {contract_hash} (a factory), so there is no uploaded session to rebuild: verify the factory's own install transaction against {source_dir} instead; without a source this transaction is checked by replaying the factory's proven stored bytes"
    )]
    FactoryWithSource {
        contract_hash: String,
        source_dir: String,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("building {crate_dir}: {error}")]
    Build {
        crate_dir: String,
        error: repro_build::BuildError,
    },
    #[error("reading the artifact {path}: {error}")]
    Artifact { path: String, error: std::io::Error },
    #[error(transparent)]
    Toolchain(#[from] crate::toolchain::PinError),
}

/// Verifies `install` against `artifacts` under the configuration `explicit` asks for (or the
/// block's). Build progress goes to `progress`.
pub fn run(
    install: Install,
    explicit: &Explicit<'_>,
    artifacts: Artifacts,
    progress: &mut dyn repro_build::Progress,
) -> Result<Report, VerifyError> {
    if let (Artifacts::Build(req), Installer::StoredContract { contract_hash, .. }) =
        (&artifacts, &install.installer)
    {
        return Err(VerifyError::FactoryWithSource {
            contract_hash: contract_hash.clone(),
            source_dir: req.crate_dir.display().to_string(),
        });
    }
    let (protocol, configuration) = config::choose(explicit, &install)?;
    let mut toolchain = None;
    let rebuilt = match artifacts {
        Artifacts::None => Vec::new(),
        Artifacts::Files(files) => files,
        Artifacts::Build(mut req) => {
            toolchain = crate::toolchain::settle(&mut req, &install.input)?;
            let out = repro_build::build(&req, progress).map_err(|error| VerifyError::Build {
                crate_dir: req.crate_dir.display().to_string(),
                error,
            })?;
            if out.cache_hit {
                tracing::info!(ms = out.elapsed.as_millis() as u64, "build cache hit");
            }
            out.artifacts
                .iter()
                .map(|a| {
                    Ok(Rebuilt {
                        package: a.package.clone(),
                        artifact: Some(a.file.clone()),
                        bytes: fs_err::read(&a.path).map_err(|error| VerifyError::Artifact {
                            path: a.path.display().to_string(),
                            error,
                        })?,
                    })
                })
                .collect::<Result<Vec<_>, VerifyError>>()?
        }
    };
    let mut report = crate::stages::verify(install, &protocol, configuration, &rebuilt);
    report.toolchain = toolchain;
    Ok(report)
}
