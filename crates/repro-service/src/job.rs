//! One verification job, from the stored archive to an [`Outcome`]: blocking work (the node's
//! JSON-RPC, cargo), run by a worker off its async threads.
//!
//! The request carries no build options, so the service decides as a user would, and the report
//! and the logs say what it decided ([`Choices`]):
//! - the toolchain: the project's pin; without one (or with a bare channel), the rustc that built
//!   the uploaded module (`--toolchain auto`);
//! - the target: the one the project's toolchain file names; otherwise the one that fits the
//!   upload (post-MVP instructions: `wasm32-unknown-unknown`; an MVP module from rustc 1.84 or
//!   later: `wasm32v1-none`);
//! - the recipe: detected (cargo, make, Odra);
//! - the packages: all of them; the artifact that matches the upload is found among them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use repro_verify::repro_build::recipe::RecipeKind;
use repro_verify::repro_build::{HostEnv, Progress, ProgressEvent};
use repro_verify::repro_chain::bundle::Call;
use repro_verify::repro_chain::install::{self, Install, Requested, ResolveError};
use repro_verify::repro_chain::rpc::{ClientOptions, HttpSource};
use repro_verify::request::{self, BuildOptions};
use repro_verify::wire::{Envelope, VerifyDoc};
use repro_verify::{Artifacts, Verdict, VerifyError};

use crate::archive;
use crate::codeverifier::{ErrorCode, Status};

/// Why the chain gives nothing to verify, as the codeverifier names it, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub description: String,
    /// The node itself failed (unreachable, faulty): worth retrying later, not the submitter's
    /// fault.
    pub node_failure: bool,
}

/// Reads the install `hash` names from the node at `node` (every chain commitment is checked by
/// the verification itself), with the node's answers as recorded (an offline bundle's calls).
pub fn fetch_install(
    node: &str,
    hash: &Requested,
    timeout: Duration,
    trust: &repro_verify::repro_chain::finality::Trust,
) -> Result<(Install, Vec<Call>), Refusal> {
    let options = ClientOptions {
        timeout,
        ..ClientOptions::default()
    };
    let mut source = HttpSource::new(node, options).map_err(|e| Refusal {
        code: ErrorCode::Internal,
        description: format!("the service's node URL is not usable: {e}"),
        node_failure: true,
    })?;
    let install = install::resolve_trusting(&mut source, hash, trust).map_err(|e| {
        let (code, node_failure) = match &e {
            ResolveError::UnknownTransaction { .. } => (ErrorCode::ContractNotFound, false),
            ResolveError::NotExecuted { .. } => (ErrorCode::ContractNotFound, false),
            ResolveError::FailedExecution { .. }
            | ResolveError::NothingInstalled { .. }
            | ResolveError::NotSession { .. } => (ErrorCode::InvalidContract, false),
            ResolveError::WrongTransaction { .. }
            | ResolveError::BadResponse { .. }
            | ResolveError::StateUnavailable { .. }
            | ResolveError::Call(_) => (ErrorCode::Internal, true),
        };
        Refusal {
            code,
            description: e.to_string(),
            node_failure,
        }
    })?;
    Ok((install, source.recorded))
}

/// The offline bundle (`casper-repro verify --bundle`) of an install, as a tar.gz of its
/// directory.
fn bundle_archive(work: &Path, install: &Install, calls: Vec<Call>, node: &str) -> Option<Vec<u8>> {
    let dir = work.join("bundle");
    if let Err(e) =
        repro_verify::repro_chain::bundle::save(&dir, install, calls, Some(node.to_owned()))
    {
        tracing::warn!("saving the offline bundle: {e}");
        return None;
    }
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all("bundle", &dir).ok()?;
    tar.into_inner().ok()?.finish().ok()
}

/// Where and how a worker runs jobs.
#[derive(Debug, Clone)]
pub struct Env {
    /// The node's JSON-RPC URL.
    pub node: String,
    /// Work directories (one per job, removed after it).
    pub data: PathBuf,
    /// The build cache (compiled dependencies and finished builds, shared by jobs).
    pub cache: PathBuf,
    /// Time limit of one request to the node.
    pub node_timeout: Duration,
    /// Wall-clock limit of each cargo step.
    pub build_time_limit: Duration,
    /// The sandbox every build runs in; `None` only when the operator turned it off (and was
    /// warned): then strangers' build scripts run with the worker's rights.
    pub sandbox: Option<repro_verify::repro_build::sandbox::SandboxConfig>,
    /// The shared compile cache of sandboxed builds (`write`: this worker is trusted to fill it).
    pub compile_cache: Option<repro_verify::repro_build::compile_cache::CompileCacheConfig>,
    /// What the finality check trusts (the trusted block, emergency upgrades, the era cache).
    pub trust: repro_verify::repro_chain::finality::Trust,
}

/// A contract the job's transaction installed (for lookups by contract, package or stored Wasm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractRef {
    pub contract_hash: String,
    pub package_hash: String,
    pub stored_sha256: String,
}

/// What a job ended with. Everything here is stored in one transaction.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `Verified` or `Failed`.
    pub status: Status,
    /// `None` when verified.
    pub code: Option<ErrorCode>,
    pub description: String,
    /// The verify report's verdict (`verified`, `mismatch`, …), when a report was made.
    pub verdict: Option<String>,
    /// The verify report (`casper-repro verify --format json`'s document).
    pub report_json: Option<String>,
    /// The rebuilt module compared with the upload.
    pub binary: Option<Vec<u8>>,
    /// Its build provenance (repro-build's JSON document).
    pub provenance: Option<String>,
    /// The node's answers as an offline bundle (tar.gz of a `casper-repro fetch` directory):
    /// anyone can re-run the verification from it without a node.
    pub bundle: Option<Vec<u8>>,
    /// What the service decided, the build's steps and compiler output, and the report as text.
    pub logs: String,
    pub contracts: Vec<ContractRef>,
}

impl Outcome {
    /// A failure with this code and description, and the logs so far.
    pub fn failed(code: ErrorCode, description: String, logs: String) -> Outcome {
        Outcome {
            status: Status::Failed,
            code: Some(code),
            description,
            verdict: None,
            report_json: None,
            binary: None,
            provenance: None,
            bundle: None,
            logs,
            contracts: Vec::new(),
        }
    }
}

/// The job could not finish now for a reason that is not the submission's: run it again later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry(pub String);

/// Verifies `hash` against the source in `archive` (already validated at submission).
pub fn run(env: &Env, hash: &str, archive_bytes: &[u8], job_id: i64) -> Result<Outcome, Retry> {
    let mut logs = String::new();
    let failed = Outcome::failed;
    let work = env.data.join("work");
    fs_err::create_dir_all(&work)
        .map_err(|e| Retry(format!("creating {}: {e}", work.display())))?;
    let dir = tempfile::Builder::new()
        .prefix(&format!("job-{job_id}-"))
        .tempdir_in(&work)
        .map_err(|e| {
            Retry(format!(
                "creating a work directory in {}: {e}",
                work.display()
            ))
        })?;
    let src = dir.path().join("src");
    let out = dir.path().join("out");
    for d in [&src, &out] {
        fs_err::create_dir(d).map_err(|e| Retry(e.to_string()))?;
    }
    if let Err(e) = archive::unpack(archive_bytes, &src, &archive::Limits::default()) {
        return Ok(failed(ErrorCode::WrongCodeArchive, e.to_string(), logs));
    }
    let requested = match Requested::parse(hash) {
        Ok(r) => r,
        Err(e) => return Ok(failed(ErrorCode::InvalidHash, e, logs)),
    };
    let (install, bundle) = match fetch_install(&env.node, &requested, env.node_timeout, &env.trust)
    {
        Ok((i, calls)) => {
            let bundle = bundle_archive(dir.path(), &i, calls, &env.node);
            (i, bundle)
        }
        Err(r) if r.node_failure => return Err(Retry(r.description)),
        Err(r) => return Ok(failed(r.code, r.description, logs)),
    };
    let contracts: Vec<ContractRef> = install
        .contracts
        .iter()
        .map(|c| ContractRef {
            contract_hash: c.contract_hash.clone(),
            package_hash: c.package_hash.clone(),
            stored_sha256: c.stored_sha256.clone(),
        })
        .collect();

    let choices = Choices::decide(&src, &install.input);
    let _ = writeln!(
        logs,
        "casper-repro service: job {job_id}, transaction {hash}"
    );
    for line in choices.describe() {
        let _ = writeln!(logs, "casper-repro service: {line}");
    }
    let mut opts = BuildOptions::new(env.cache.clone());
    opts.toolchain = choices.toolchain.clone();
    opts.target = Some(choices.target.clone());
    opts.time_limit = env.build_time_limit;
    opts.sandbox = env.sandbox.clone();
    opts.compile_cache = env.sandbox.as_ref().and(env.compile_cache.clone());
    if opts.sandbox.is_none() {
        let _ = writeln!(
            logs,
            "casper-repro service: WARNING: this build is not sandboxed (the service runs with --no-sandbox): the project's build scripts ran with the worker's rights"
        );
    }
    opts.tool_argv = vec![
        "casper-repro".into(),
        "worker".into(),
        format!("job {job_id}"),
    ];
    let mut progress = LogProgress(&mut logs);
    let prepared = request::prepare(
        &opts,
        src.clone(),
        Vec::new(),
        out.clone(),
        HostEnv::from_process(),
        &mut progress,
    );
    let (req, recipe) = match prepared {
        Ok(p) => p,
        Err(e) => {
            let mut o = failed(ErrorCode::BuildError, e.to_string(), logs);
            o.contracts = contracts;
            o.bundle = bundle;
            return Ok(o);
        }
    };
    let _ = writeln!(
        logs,
        "casper-repro service: recipe {}: {}",
        match recipe.kind {
            RecipeKind::Cargo => "cargo",
            RecipeKind::Make => "make",
            RecipeKind::Odra => "odra",
        },
        recipe.reason
    );
    let explicit = repro_verify::config::Explicit::default();
    let mut progress = LogProgress(&mut logs);
    let result = repro_verify::run(
        install.clone(),
        &explicit,
        Artifacts::Build(Box::new(req.clone())),
        &mut progress,
    );
    let (result, out) = match result {
        Ok(report) => {
            let (report, out) = alone_if_better(report, install, &req, &out, dir.path(), &mut logs);
            (Ok(report), out)
        }
        Err(e) => (Err(e), out),
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let code = match &e {
                VerifyError::Build { .. } | VerifyError::Toolchain(_) => ErrorCode::BuildError,
                VerifyError::FactoryWithSource { .. } => ErrorCode::InvalidContract,
                VerifyError::Config(_) | VerifyError::Artifact { .. } => ErrorCode::Internal,
            };
            let mut o = failed(code, e.to_string(), logs);
            o.contracts = contracts;
            o.bundle = bundle;
            return Ok(o);
        }
    };
    let text = repro_verify::text::render_text(&report);
    let _ = writeln!(logs, "\n{text}");
    let doc = VerifyDoc::from(&report);
    let report_json = serde_json::to_string(&Envelope::new("verify", &doc))
        .map_err(|e| Retry(format!("writing the report: {e}")))?;
    let (binary, provenance) = report
        .rebuild
        .as_ref()
        .and_then(|r| find_artifact(&out, &r.package, r.artifact.as_deref().unwrap_or_default()))
        .unzip();
    let provenance = provenance.flatten();
    let (status, code) = match report.verdict {
        v if v.is_positive() => (Status::Verified, None),
        Verdict::Untrusted => (Status::Failed, Some(ErrorCode::InvalidContract)),
        _ => (Status::Failed, Some(ErrorCode::BytecodeMismatch)),
    };
    Ok(Outcome {
        status,
        code,
        description: report.summary.clone(),
        verdict: Some(report.verdict.as_str().to_owned()),
        report_json: Some(report_json),
        binary,
        provenance,
        bundle,
        logs,
        contracts,
    })
}

/// A workspace built in one cargo invocation unifies the features of its packages' dependencies,
/// so a package can compile differently from the same package built alone (`-p NAME`, as its
/// developer's recipe usually builds it). When the workspace build matched the upload only after
/// normalisation, or not at all, the matched package is rebuilt alone, and the better verdict is
/// kept; the logs say which and why. Returns the report and the out directory its artifacts are in.
fn alone_if_better(
    report: repro_verify::model::Report,
    install: Install,
    req: &repro_verify::repro_build::BuildRequest,
    out: &Path,
    work: &Path,
    logs: &mut String,
) -> (repro_verify::model::Report, PathBuf) {
    let rank = |v: Verdict| match v {
        Verdict::Verified => 2,
        Verdict::VerifiedAfterNormalisation => 1,
        _ => 0,
    };
    let several = count_wasm(out) > 1;
    let retry = matches!(
        report.verdict,
        Verdict::VerifiedAfterNormalisation | Verdict::Mismatch
    ) && several
        && req.packages.is_empty()
        && req.units.is_empty();
    let Some(package) = report
        .rebuild
        .as_ref()
        .map(|r| r.package.clone())
        .filter(|_| retry)
    else {
        return (report, out.to_path_buf());
    };
    let _ = writeln!(
        logs,
        "casper-repro service: the workspace build gave `{}`; building `{package}` alone (-p), as \
         its own recipe would: the other packages' features can change its code",
        report.verdict.as_str()
    );
    let alone_out = work.join("out-alone");
    let mut alone = req.clone();
    alone.packages = vec![package.clone()];
    alone.out_dir = alone_out.clone();
    if let Err(e) = fs_err::create_dir_all(&alone_out) {
        let _ = writeln!(logs, "casper-repro service: kept the workspace build: {e}");
        return (report, out.to_path_buf());
    }
    let explicit = repro_verify::config::Explicit::default();
    let again = repro_verify::run(
        install,
        &explicit,
        Artifacts::Build(Box::new(alone)),
        &mut LogProgress(logs),
    );
    match again {
        Ok(r) if rank(r.verdict) > rank(report.verdict) => {
            let _ = writeln!(
                logs,
                "casper-repro service: `{package}` built alone gives `{}`: kept",
                r.verdict.as_str()
            );
            (r, alone_out)
        }
        Ok(r) => {
            let _ = writeln!(
                logs,
                "casper-repro service: `{package}` built alone gives `{}`: kept the workspace build",
                r.verdict.as_str()
            );
            (report, out.to_path_buf())
        }
        Err(e) => {
            let _ = writeln!(
                logs,
                "casper-repro service: building `{package}` alone failed ({e}): kept the workspace build"
            );
            (report, out.to_path_buf())
        }
    }
}

fn count_wasm(dir: &Path) -> usize {
    fs_err::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        count_wasm(&p)
                    } else {
                        usize::from(p.extension().is_some_and(|x| x == "wasm"))
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The rebuilt module stage 1 compared (`file`, an artifact's name, or the package's `.wasm`)
/// and its provenance.
fn find_artifact(out: &Path, package: &str, file: &str) -> Option<(Vec<u8>, Option<String>)> {
    let mut candidates = Vec::new();
    if !file.is_empty() {
        candidates.push(file.to_owned());
    }
    candidates.push(format!("{}.wasm", package.replace('-', "_")));
    candidates.push(format!("{package}.wasm"));
    candidates
        .iter()
        .find_map(|name| walk_find(out, name))
        .and_then(|p| {
            let bytes = fs_err::read(&p).ok()?;
            let name = p.file_name()?.to_string_lossy().into_owned();
            let provenance = fs_err::read_to_string(
                p.with_file_name(repro_verify::repro_build::provenance_name(&name)),
            )
            .ok();
            Some((bytes, provenance))
        })
}

fn walk_find(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in fs_err::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = walk_find(&p, name) {
                return Some(f);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

/// The build options the service chose for a project, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choices {
    /// `None`: the project's pin.
    pub toolchain: Option<String>,
    pub toolchain_reason: String,
    pub target: String,
    pub target_reason: String,
}

impl Choices {
    /// Decides for the project at `project` whose upload was `upload`.
    pub fn decide(project: &Path, upload: &[u8]) -> Choices {
        let pin = repro_verify::repro_build::toolchain::find_pin(project, project)
            .ok()
            .flatten();
        let (toolchain, toolchain_reason) = match pin {
            Some((name, file)) if !matches!(name.as_str(), "stable" | "beta" | "nightly") => (
                None,
                format!("toolchain {name}: the project's pin ({})", file.display()),
            ),
            Some((name, _)) => (
                Some(repro_verify::toolchain::AUTO.to_owned()),
                format!(
                    "toolchain auto: the project pins only `{name}`, which moves; the rustc that built the uploaded module is used"
                ),
            ),
            None => (
                Some(repro_verify::toolchain::AUTO.to_owned()),
                "toolchain auto: the project pins none; the rustc that built the uploaded module is used".to_owned(),
            ),
        };
        let pinned = request::pinned_targets(project);
        let (target, target_reason) = if let Some(t) = pinned.first() {
            (
                t.clone(),
                format!("target {t}: named in the project's toolchain file"),
            )
        } else {
            fitting_target(upload)
        };
        Choices {
            toolchain,
            toolchain_reason,
            target,
            target_reason,
        }
    }

    pub fn describe(&self) -> [&str; 2] {
        [&self.toolchain_reason, &self.target_reason]
    }
}

/// The target that fits an uploaded module when the project names none.
fn fitting_target(upload: &[u8]) -> (String, String) {
    const ANY: &str = "wasm32-unknown-unknown";
    const MVP: &str = "wasm32v1-none";
    let features: Vec<String> = match repro_verify::repro_diff::inspect(upload, &[]) {
        Ok(f) => f
            .facts
            .features
            .iter()
            // Not target-specific: floats and mutable globals are MVP, and current LLVM encodes
            // call_indirect's table index overlong for both targets.
            .filter(|u| {
                !matches!(
                    u.feature.as_str(),
                    "floats" | "mutable-globals" | "overlong-call-indirect"
                )
            })
            .map(|u| u.feature.clone())
            .collect(),
        Err(_) => Vec::new(),
    };
    if !features.is_empty() {
        return (
            ANY.into(),
            format!(
                "target {ANY}: the upload uses {}, which {MVP} never emits",
                features.join(", ")
            ),
        );
    }
    let minor = repro_verify::toolchain::infer(upload, "the uploaded module")
        .ok()
        .and_then(|i| rustc_minor(&i.rustc));
    match minor {
        Some(m) if m >= 84 => (
            MVP.into(),
            format!(
                "target {MVP}: the upload is plain MVP Wasm from rustc 1.{m}, whose {ANY} would emit sign-ext"
            ),
        ),
        _ => (
            ANY.into(),
            format!("target {ANY}: the upload is MVP Wasm and its compiler predates {MVP}"),
        ),
    }
}

/// `rustc 1.84.0 (…)` / `rustc 1.84.0-nightly (…)` → 84.
fn rustc_minor(rustc: &str) -> Option<u32> {
    let v = rustc.strip_prefix("rustc 1.")?;
    v.split(['.', '-', ' ']).next()?.parse().ok()
}

/// Build progress as log lines (cargo's own output included: the logs are for debugging).
struct LogProgress<'a>(&'a mut String);

impl Progress for LogProgress<'_> {
    fn event(&mut self, event: ProgressEvent<'_>) {
        match event {
            ProgressEvent::Step(s) => {
                let _ = writeln!(self.0, "casper-repro: {s}");
            }
            ProgressEvent::CargoLine(l) => {
                let _ = writeln!(self.0, "{l}");
            }
            ProgressEvent::Tick { .. } => {}
            ProgressEvent::Done { elapsed } => {
                let _ = writeln!(
                    self.0,
                    "casper-repro: cargo step finished in {:.1}s",
                    elapsed.as_secs_f64()
                );
            }
        }
    }
}

/// sha256 of `bytes`, hex (the one repro-chain uses for every digest it reports).
pub use repro_verify::repro_chain::sha256_hex;

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback node answering from the engine's finality bundle `case` (testdata/rpc).
    fn finality_node(case: &str) -> (String, serde_json::Value) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/rpc")
            .join(case);
        let calls: serde_json::Value =
            serde_json::from_str(&fs_err::read_to_string(dir.join("responses.json")).unwrap())
                .unwrap();
        let chain: serde_json::Value =
            serde_json::from_str(&fs_err::read_to_string(dir.join("chain.json")).unwrap()).unwrap();
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}/rpc", server.server_addr().to_ip().unwrap());
        std::thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let req: serde_json::Value = serde_json::from_str(&body).unwrap();
                let strip = |v: &serde_json::Value| {
                    let mut v = v.clone();
                    if let Some(o) = v.as_object_mut() {
                        o.remove("finalized_approvals");
                    }
                    v
                };
                let found = calls["calls"].as_array().unwrap().iter().find(|c| {
                    c["method"] == req["method"] && strip(&c["params"]) == strip(&req["params"])
                });
                let doc = match found {
                    Some(c) => {
                        serde_json::json!({"jsonrpc": "2.0", "id": req["id"], "result": c["result"]})
                    }
                    None => {
                        serde_json::json!({"jsonrpc": "2.0", "id": req["id"], "error": {"code": -32001, "message": "not known"}})
                    }
                };
                let _ = request.respond(tiny_http::Response::from_string(doc.to_string()));
            }
        });
        (url, chain)
    }

    #[test]
    fn a_worker_given_a_trusted_block_checks_finality_from_its_node() {
        use repro_verify::repro_chain::casper_types::{BlockHash, Digest};
        use repro_verify::repro_chain::finality::Trust;
        use repro_verify::repro_chain::install::CheckStatus;
        for (case, expected) in [
            ("sidecar-2.0.3-finality", CheckStatus::Passed),
            (
                "sidecar-2.0.3-finality-forged-switch-block",
                CheckStatus::Failed,
            ),
        ] {
            let (url, chain) = finality_node(case);
            let trusted = chain["trusted"]["switch"].as_str().unwrap();
            let cache = tempfile::tempdir().unwrap();
            let trust = Trust {
                anchor: Some(BlockHash::new(Digest::from_hex(trusted).unwrap())),
                cache: Some(cache.path().to_owned()),
                ..Trust::default()
            };
            let hash = Requested::parse(chain["transaction"].as_str().unwrap()).unwrap();
            let (install, calls) =
                fetch_install(&url, &hash, Duration::from_secs(10), &trust).unwrap();
            let check = install
                .checks
                .iter()
                .find(|c| c.check == "finality")
                .unwrap();
            assert_eq!(check.status, expected, "{case}: {}", check.detail);
            // The job's bundle holds the walk's answers.
            assert!(
                calls
                    .iter()
                    .filter(|c| c.method == "chain_get_block")
                    .count()
                    > 1
            );
        }
    }

    #[test]
    fn rustc_versions_give_their_minor() {
        assert_eq!(rustc_minor("rustc 1.84.0 (9fc6b4312 2025-01-07)"), Some(84));
        assert_eq!(
            rustc_minor("rustc 1.79.0-nightly (abc 2024-03-01)"),
            Some(79)
        );
        assert_eq!(rustc_minor("clang 17"), None);
    }

    #[test]
    fn the_fixture_project_pins_its_toolchain_and_target() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/contracts");
        let c = Choices::decide(&fixture, b"");
        assert_eq!(c.toolchain, None);
        assert_eq!(c.target, "wasm32v1-none");
        assert!(
            c.toolchain_reason
                .starts_with("toolchain 1.95.0: the project's pin"),
            "{c:?}"
        );
    }

    #[test]
    fn without_a_pin_the_target_fits_the_upload() {
        let d = tempfile::tempdir().unwrap();
        // sign-ext (i32.extend8_s): only wasm32-unknown-unknown emits it.
        let sign_ext =
            wat::parse_str("(module (func (param i32) (result i32) local.get 0 i32.extend8_s))")
                .unwrap();
        let c = Choices::decide(d.path(), &sign_ext);
        assert_eq!(c.toolchain.as_deref(), Some(repro_verify::toolchain::AUTO));
        assert_eq!(c.target, "wasm32-unknown-unknown");
        assert!(c.target_reason.contains("sign-ext"), "{c:?}");
        // The real fixture module built by rustc 1.95.0 for wasm32v1-none.
        let mvp = fs_err::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/wasm/multi_ep.wasm"),
        )
        .unwrap();
        let c = Choices::decide(d.path(), &mvp);
        assert_eq!(c.target, "wasm32v1-none", "{c:?}");
    }
}
