//! The HTTP side: the codeverifier API (as casper-client calls it), the native JSON API (with its
//! OpenAPI document at `/openapi.json`), and the pages ([`crate::pages`]).
//!
//! A submission is checked completely before anything is stored: the hash's form, the JSON, the
//! archive (unpacked within limits into a scratch directory), and the transaction itself, read
//! from the node (unknown, not an install, node down: each its own 4xx/5xx). Only then are the
//! archive and the job written, in one transaction. Every error is a JSON document
//! `{"error": {"code", "description"}}` whose code is the codeverifier's where it has one.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use repro_verify::repro_chain::install::Requested;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::archive::{self, Limits};
use crate::codeverifier::{self, DetailsDoc, DetailsResult, ErrorCode, Status, StatusDoc};
use crate::git::{GitError, GitPolicy, GitSource};
use crate::store::{Job, Lookup, NewJob, Store};

/// What the server needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The node's JSON-RPC URL (submissions are checked against it).
    pub node: String,
    /// Scratch space for checking archives.
    pub data: PathBuf,
    pub limits: Limits,
    /// Attempts per job (a worker that dies uses one up).
    pub max_attempts: i64,
    pub node_timeout: Duration,
    /// The base URL the service is reached at, for the URIs it hands out; `None`: from the
    /// request's `Host`.
    pub public_url: Option<String>,
    /// Which git repositories may be fetched (none by default).
    pub git: GitPolicy,
    /// Jobs in one batch.
    pub max_batch_jobs: usize,
    /// Bytes of one batch request (its archives, base64, and the JSON around them).
    pub max_batch_bytes: usize,
}

impl Config {
    pub fn new(node: String, data: PathBuf) -> Config {
        Config {
            node,
            data,
            limits: Limits::default(),
            max_attempts: 3,
            node_timeout: Duration::from_secs(30),
            public_url: None,
            git: GitPolicy::default(),
            max_batch_jobs: 1000,
            max_batch_bytes: 256 << 20,
        }
    }
}

/// Shared by every request.
#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub config: Config,
}

/// An API error: status, code, description.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            description: description.into(),
        }
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("{e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal.as_str(),
            e.to_string(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "description": self.description}});
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The whole router.
pub fn router(state: Arc<AppState>) -> Router {
    // base64 makes a body 4/3 of the archive; room for the JSON around it.
    let body_limit = state.config.limits.max_archive_bytes / 3 * 4 + 64 * 1024;
    Router::new()
        .route("/verification", post(cv_submit))
        .route("/verification/{hash}/status", get(cv_status))
        .route("/verification/{hash}/details", get(cv_details))
        .route("/verification/{hash}/binary", get(cv_binary))
        .route("/verification/{hash}/logs", get(cv_logs))
        .route("/api/v1/jobs", post(api_submit))
        .route("/api/v1/jobs/{id}", get(api_job))
        .route(
            "/api/v1/batches",
            post(api_batch_submit).layer(DefaultBodyLimit::max(state.config.max_batch_bytes)),
        )
        .route("/api/v1/batches/{id}", get(api_batch))
        .route("/api/v1/jobs/{id}/report", get(api_report))
        .route("/api/v1/jobs/{id}/reverify", post(api_reverify))
        .route("/api/v1/lookup/{kind}/{hash}", get(api_lookup))
        .route("/api/v1/verified", get(api_verified))
        .route("/api/v1/blobs/{sha256}", get(api_blob))
        .route("/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .merge(crate::pages::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NotFound", "no such endpoint")
}

/// The body, or a JSON error when it is over the limit or unreadable.
fn body(body: Result<Bytes, BytesRejection>) -> ApiResult<Bytes> {
    body.map_err(|e| {
        let status = e.status();
        let description = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "the request body is larger than this server accepts".to_owned()
        } else {
            format!("the request body could not be read: {}", e.body_text())
        };
        ApiError::new(status, ErrorCode::WrongCodeArchive.as_str(), description)
    })
}

/// A hash as users give it (`HEX`, `deploy-HEX`, `transaction-v1-HEX`), as the stored key
/// (lowercase hex).
fn tx_key(s: &str) -> ApiResult<(Requested, String)> {
    let r = Requested::parse(s)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidHash.as_str(), e))?;
    let hex = r.hex();
    Ok((r, hex))
}

/// Where a submission's source is.
#[derive(Debug)]
pub enum Source {
    /// A tar.gz, uploaded.
    Archive(Vec<u8>),
    /// A commit for the server to fetch (only under the allowed prefixes).
    Git(GitSource),
}

/// Fetches a git source into the archive form, refusing what the policy does not allow.
async fn fetch_git(state: &AppState, src: &GitSource) -> ApiResult<Vec<u8>> {
    let policy = state.config.git.clone();
    crate::git::check(src, &policy).map_err(git_error)?;
    let scratch_root = state.config.data.join("incoming");
    let src = src.clone();
    tokio::task::spawn_blocking(move || {
        fs_err::create_dir_all(&scratch_root).map_err(ApiError::internal)?;
        let scratch = tempfile::tempdir_in(&scratch_root).map_err(ApiError::internal)?;
        crate::git::fetch_archive(&src, &policy, scratch.path()).map_err(git_error)
    })
    .await
    .map_err(ApiError::internal)?
}

fn git_error(e: GitError) -> ApiError {
    let (status, code) = match &e {
        GitError::Disabled | GitError::NotAllowed { .. } => {
            (StatusCode::FORBIDDEN, "GitNotAllowed")
        }
        GitError::TooBig { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::WrongCodeArchive.as_str(),
        ),
        GitError::TimedOut { .. } | GitError::Fetch { .. } if !e.is_submitter_error() => {
            (StatusCode::BAD_GATEWAY, "GitFetchFailed")
        }
        GitError::Fetch { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "GitFetchFailed"),
        GitError::Io(_) => return ApiError::internal(e),
        _ => (
            StatusCode::BAD_REQUEST,
            ErrorCode::WrongCodeArchive.as_str(),
        ),
    };
    ApiError::new(status, code, e.to_string())
}

/// A submission that passed every check, ready to be stored.
#[derive(Debug)]
pub struct Checked {
    /// The transaction hash as stored (lowercase hex).
    pub key: String,
    pub source_digest: String,
    pub archive: Vec<u8>,
    pub git: Option<GitSource>,
    /// The toolchain the project pins, if it pins one.
    pub toolchain: Option<String>,
}

impl Checked {
    fn new_job(&self, max_attempts: i64) -> NewJob<'_> {
        NewJob {
            tx_hash: &self.key,
            source_digest: &self.source_digest,
            archive: &self.archive,
            max_attempts,
            git: self.git.as_ref(),
            toolchain: self.toolchain.as_deref(),
        }
    }
}

/// Checks a submission and queues it: (job id, newly queued).
pub async fn submit(state: &AppState, hash: &str, source: Source) -> ApiResult<(i64, bool)> {
    let checked = check(state, hash, source).await?;
    let (id, new) = state
        .store
        .submit(&checked.new_job(state.config.max_attempts))
        .await?;
    tracing::info!(job = id, tx = %checked.key, new, "submission");
    Ok((id, new))
}

/// Checks a submission completely (the hash, the source, the transaction on the node) without
/// storing anything.
pub async fn check(state: &AppState, hash: &str, source: Source) -> ApiResult<Checked> {
    let (requested, key) = tx_key(hash)?;
    let (archive_bytes, git) = match source {
        Source::Archive(a) => (a, None),
        Source::Git(g) => (fetch_git(state, &g).await?, Some(g)),
    };
    let limits = state.config.limits;
    let scratch_root = state.config.data.join("incoming");
    // The archive, unpacked within limits into a scratch directory that is then removed.
    let (archive_bytes, unpacked, toolchain) = tokio::task::spawn_blocking(move || {
        fs_err::create_dir_all(&scratch_root).map_err(ApiError::internal)?;
        let scratch = tempfile::tempdir_in(&scratch_root).map_err(ApiError::internal)?;
        let r = archive::unpack(&archive_bytes, scratch.path(), &limits);
        // The pin, for grouping jobs by toolchain; a bad pin file is the build's to report.
        let toolchain = r
            .is_ok()
            .then(|| pinned_toolchain(scratch.path()))
            .flatten();
        Ok::<_, ApiError>((archive_bytes, r, toolchain))
    })
    .await
    .map_err(ApiError::internal)??;
    let unpacked = unpacked.map_err(|e| {
        let status = match e {
            archive::ArchiveError::TooBig { .. }
            | archive::ArchiveError::TooManyBytes { .. }
            | archive::ArchiveError::TooManyEntries { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            archive::ArchiveError::Io(_) => return ApiError::internal(e),
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, ErrorCode::WrongCodeArchive.as_str(), e.to_string())
    })?;
    // The transaction, as the node tells it (the verification checks every commitment again).
    let node = state.config.node.clone();
    let timeout = state.config.node_timeout;
    let fetched = tokio::task::spawn_blocking(move || {
        // The submission is only checked to name an install; its finality is the job's part.
        let trust = repro_verify::repro_chain::finality::Trust::default();
        crate::job::fetch_install(&node, &requested, timeout, &trust)
    })
    .await
    .map_err(ApiError::internal)?;
    if let Err(r) = fetched {
        let status = if r.node_failure {
            StatusCode::BAD_GATEWAY
        } else if r.code == ErrorCode::ContractNotFound {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Err(ApiError::new(status, r.code.as_str(), r.description));
    }
    Ok(Checked {
        key,
        source_digest: unpacked.digest,
        archive: archive_bytes,
        git,
        toolchain,
    })
}

/// The channel the unpacked project's rust-toolchain file pins, if any.
fn pinned_toolchain(root: &std::path::Path) -> Option<String> {
    repro_verify::repro_build::toolchain::find_pin(root, root)
        .ok()
        .flatten()
        .map(|(channel, _)| channel)
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        // serde's message names the field and the position, never a Rust type.
        let why = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!(
                    "the body is not JSON (line {}, column {})",
                    e.line(),
                    e.column()
                )
            }
            _ => format!("the body is not {what}: {e}"),
        };
        ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", why)
    })
}

fn decode_archive(b64: &str) -> ApiResult<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::WrongCodeArchive.as_str(),
                format!("code_archive is not base64: {e}"),
            )
        })
}

async fn cv_submit(
    State(state): State<Arc<AppState>>,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let raw = body(raw)?;
    let req: codeverifier::Request =
        parse_json(&raw, "a verification request {hash, code_archive}")?;
    let archive = decode_archive(&req.code_archive)?;
    let (id, new) = submit(&state, &req.hash, Source::Archive(archive)).await?;
    let job = state
        .store
        .job(id)
        .await?
        .ok_or_else(|| ApiError::internal("job vanished"))?;
    Ok(axum::Json(json!({
        "status": job.status,
        "job": id,
        "queued": new,
    }))
    .into_response())
}

async fn job_for(state: &AppState, hash: &str) -> ApiResult<Job> {
    let (_, key) = tx_key(hash)?;
    state.store.latest_for_tx(&key).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::ContractNotFound.as_str(),
            format!("no verification of {key} was submitted here"),
        )
    })
}

fn status_doc(job: &Job) -> StatusDoc {
    let error = (job.status == Status::Failed).then(|| codeverifier::Error {
        code: job.error_code.unwrap_or(ErrorCode::Internal),
        description: job.error_description.clone().unwrap_or_default(),
    });
    StatusDoc {
        status: job.status,
        error,
    }
}

async fn cv_status(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
) -> ApiResult<Response> {
    let job = job_for(&state, &hash).await?;
    Ok(axum::Json(status_doc(&job)).into_response())
}

/// The base URL for URIs handed out.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

async fn cv_details(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let job = job_for(&state, &hash).await?;
    let base = base_url(&state, &headers);
    let doc = DetailsDoc {
        status: job.status,
        result: DetailsResult {
            binary_uri: format!("{base}/verification/{}/binary", job.tx_hash),
            logs_uri: format!("{base}/verification/{}/logs", job.tx_hash),
        },
    };
    Ok(axum::Json(doc).into_response())
}

async fn blob_response(
    state: &AppState,
    sha: Option<&str>,
    what: &str,
    content_type: &'static str,
) -> ApiResult<Response> {
    let Some(sha) = sha else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("this verification has no {what} (yet)"),
        ));
    };
    let bytes = state.store.blob(sha).await?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "NotFound", format!("no blob {sha}"))
    })?;
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

async fn cv_binary(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
) -> ApiResult<Response> {
    let job = job_for(&state, &hash).await?;
    blob_response(
        &state,
        job.binary_sha256.as_deref(),
        "rebuilt binary",
        "application/wasm",
    )
    .await
}

async fn cv_logs(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
) -> ApiResult<Response> {
    let job = job_for(&state, &hash).await?;
    blob_response(
        &state,
        job.logs_sha256.as_deref(),
        "logs",
        "text/plain; charset=utf-8",
    )
    .await
}

// ---- native API ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiSubmit {
    hash: String,
    /// base64 of a tar.gz, as in the codeverifier API.
    archive: Option<String>,
    /// `{url, commit, path?}`: fetched by the server, where allowed.
    git: Option<GitSource>,
}

/// `POST /api/v1/batches`: `{name?, jobs: [{hash, archive | git}, …]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiBatch {
    name: Option<String>,
    jobs: Vec<ApiSubmit>,
}

fn source_of(archive: Option<String>, git: Option<GitSource>) -> ApiResult<Source> {
    match (archive, git) {
        (Some(a), None) => Ok(Source::Archive(decode_archive(&a)?)),
        (None, Some(g)) => Ok(Source::Git(g)),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "give exactly one source: `archive` (base64 of a tar.gz) or `git` ({url, commit, path})",
        )),
    }
}

/// Every job of the batch is checked as a single submission would be; the first that fails the
/// checks refuses the whole batch (named by its position), and nothing is stored. Then the
/// batch and all its jobs are stored in one transaction.
async fn api_batch_submit(
    State(state): State<Arc<AppState>>,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let raw = body(raw)?;
    let req: ApiBatch = parse_json(&raw, "a batch {name?, jobs: [{hash, archive or git}]}")?;
    let bad = |d: String| ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", d);
    if req.jobs.is_empty() {
        return Err(bad("the batch has no jobs".into()));
    }
    if req.jobs.len() > state.config.max_batch_jobs {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BadRequest",
            format!(
                "the batch has {} jobs; this server takes at most {} in one batch: split it",
                req.jobs.len(),
                state.config.max_batch_jobs
            ),
        ));
    }
    if req.name.as_ref().is_some_and(|n| n.len() > 200) {
        return Err(bad("the batch's name is longer than 200 bytes".into()));
    }
    let mut checked = Vec::with_capacity(req.jobs.len());
    for (i, job) in req.jobs.into_iter().enumerate() {
        let hash = job.hash;
        let item = async {
            let source = source_of(job.archive, job.git)?;
            check(&state, &hash, source).await
        };
        checked.push(item.await.map_err(|mut e| {
            e.description = format!("job {i} (`{hash}`): {}", e.description);
            e
        })?);
    }
    let jobs: Vec<NewJob<'_>> = checked
        .iter()
        .map(|c| c.new_job(state.config.max_attempts))
        .collect();
    let (id, queued) = state.store.submit_batch(req.name.as_deref(), &jobs).await?;
    let new = queued.iter().filter(|q| q.1).count();
    tracing::info!(batch = id, jobs = jobs.len(), new, "batch queued");
    let doc = batch_doc(&state, id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(doc)).into_response())
}

/// A batch's progress document.
pub async fn batch_doc(state: &AppState, id: i64) -> ApiResult<crate::batch::BatchDoc> {
    let batch = state.store.batch(id).await?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "NotFound", format!("no batch {id}"))
    })?;
    let jobs = state.store.batch_jobs(id).await?;
    Ok(crate::batch::progress(
        &batch,
        &jobs,
        crate::store::now_ms(),
    ))
}

async fn api_batch(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = id.parse::<i64>().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("`{id}` is not a batch number"),
        )
    })?;
    Ok(axum::Json(batch_doc(&state, id).await?).into_response())
}

async fn api_submit(
    State(state): State<Arc<AppState>>,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let raw = body(raw)?;
    let req: ApiSubmit = parse_json(&raw, "a submission {hash, archive or git}")?;
    let source = source_of(req.archive, req.git)?;
    let (id, new) = submit(&state, &req.hash, source).await?;
    let job = state
        .store
        .job(id)
        .await?
        .ok_or_else(|| ApiError::internal("job vanished"))?;
    let code = if new {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((code, axum::Json(job_json(&job))).into_response())
}

/// A job as the native API shows it.
pub fn job_json(job: &Job) -> Value {
    json!({
        "id": job.id,
        "transaction": job.tx_hash,
        "source_digest": job.source_digest,
        "archive_sha256": job.archive_sha256,
        "git": job.git.as_ref().map(|g| json!({"url": g.url, "commit": g.commit, "path": g.path})),
        "status": job.status,
        "verdict": job.verdict,
        "error": job.error_code.map(|c| json!({"code": c, "description": job.error_description})),
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "created_at_ms": job.created_at,
        "started_at_ms": job.started_at,
        "finished_at_ms": job.finished_at,
        "links": {
            "self": format!("/api/v1/jobs/{}", job.id),
            "report": format!("/api/v1/jobs/{}/report", job.id),
            "page": format!("/jobs/{}", job.id),
            "binary": job.binary_sha256.as_ref().map(|s| format!("/api/v1/blobs/{s}")),
            "logs": job.logs_sha256.as_ref().map(|s| format!("/api/v1/blobs/{s}")),
            "archive": format!("/api/v1/blobs/{}", job.archive_sha256),
        },
    })
}

fn job_id(s: &str) -> ApiResult<i64> {
    s.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("`{s}` is not a job number"),
        )
    })
}

async fn load_job(state: &AppState, id: &str) -> ApiResult<Job> {
    let id = job_id(id)?;
    state
        .store
        .job(id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "NotFound", format!("no job {id}")))
}

async fn api_job(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let job = load_job(&state, &id).await?;
    let mut doc = job_json(&job);
    let contracts = state.store.contracts(job.id).await?;
    doc["contracts"] = contracts
        .iter()
        .map(|c| json!({"contract_hash": c.contract_hash, "package_hash": c.package_hash, "stored_sha256": c.stored_sha256}))
        .collect();
    Ok(axum::Json(doc).into_response())
}

async fn api_report(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let job = load_job(&state, &id).await?;
    let report = state.store.report(job.id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("job {} has no report ({})", job.id, job.status.as_str()),
        )
    })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], report).into_response())
}

async fn api_reverify(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let job = load_job(&state, &id).await?;
    if !state.store.requeue(job.id).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "NotFinished",
            format!(
                "job {} is {}; only a finished job is verified again",
                job.id,
                job.status.as_str()
            ),
        ));
    }
    let job = load_job(&state, &id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(job_json(&job))).into_response())
}

fn hex64(s: &str, what: &str) -> ApiResult<String> {
    let h = s.trim().to_ascii_lowercase();
    let h = ["hash-", "contract-", "contract-package-", "package-"]
        .iter()
        .find_map(|p| h.strip_prefix(p))
        .unwrap_or(&h)
        .to_owned();
    if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(h)
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidHash.as_str(),
            format!("`{s}` is not a {what} (64 hex digits)"),
        ))
    }
}

#[derive(Debug, Deserialize)]
struct Page {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn api_lookup(
    State(state): State<Arc<AppState>>,
    Path((kind, hash)): Path<(String, String)>,
) -> ApiResult<Response> {
    let key = match kind.as_str() {
        "transaction" => tx_key(&hash)?.1,
        "contract" => hex64(&hash, "contract hash")?,
        "package" => hex64(&hash, "package hash")?,
        "wasm" => hex64(&hash, "sha256")?,
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("cannot look up by `{other}`: use transaction, contract, package or wasm"),
            ));
        }
    };
    let by = match kind.as_str() {
        "transaction" => Lookup::Transaction(&key),
        "contract" => Lookup::Contract(&key),
        "package" => Lookup::Package(&key),
        _ => Lookup::StoredWasm(&key),
    };
    let jobs = state.store.verified(by, 100).await?;
    if jobs.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::ContractNotFound.as_str(),
            format!("no verified contract matches {kind} {key}"),
        ));
    }
    Ok(
        axum::Json(json!({"verified": jobs.iter().map(job_json).collect::<Vec<_>>()}))
            .into_response(),
    )
}

async fn api_verified(
    State(state): State<Arc<AppState>>,
    Query(page): Query<Page>,
) -> ApiResult<Response> {
    let limit = page.limit.unwrap_or(50).clamp(1, 500);
    let jobs = state
        .store
        .list(Some(Status::Verified), page.before, limit)
        .await?;
    let next = (jobs.len() as i64 == limit)
        .then(|| {
            jobs.last()
                .map(|j| format!("/api/v1/verified?before={}&limit={limit}", j.id))
        })
        .flatten();
    Ok(
        axum::Json(
            json!({"verified": jobs.iter().map(job_json).collect::<Vec<_>>(), "next": next}),
        )
        .into_response(),
    )
}

async fn api_blob(
    State(state): State<Arc<AppState>>,
    Path(sha): Path<String>,
) -> ApiResult<Response> {
    let sha = hex64(&sha, "sha256")?;
    blob_response(&state, Some(&sha), "blob", "application/octet-stream").await
}

async fn healthz(State(state): State<Arc<AppState>>) -> ApiResult<Response> {
    let counts = state.store.counts().await?;
    let map: serde_json::Map<String, Value> = counts
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
        .collect();
    let blobs = state.store.blob_count().await?;
    Ok(axum::Json(json!({"ok": true, "jobs": map, "blobs": blobs})).into_response())
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::DOCUMENT,
    )
        .into_response()
}
