//! The service's database: SQLite (a file, no setup) or PostgreSQL (several workers, several
//! machines), through one SQL layer (sqlx's `Any` driver: the same queries, `$N` parameters, on
//! both). One schema, one migration set per backend (`migrations/`), applied by sqlx's migrator.
//!
//! The queue is the `jobs` table. A worker claims the oldest runnable job in one statement; on
//! PostgreSQL the candidate row is locked with `FOR UPDATE SKIP LOCKED` (as docs.rs's build queue
//! does), so concurrent workers never take the same job nor wait on each other; SQLite runs one
//! writing statement at a time, so the same statement is atomic there. A claim is a lease: the
//! worker renews it while it works ([`Store::heartbeat`]), and a job whose lease ran out (its
//! worker died) is claimed again by another, until its attempts are spent. A result is written
//! only by the lease's holder, in one transaction with its blobs and contracts, so a job is
//! completed once, and never half.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row};

use crate::codeverifier::{ErrorCode, Status};
use crate::git::GitSource;
use crate::job::{ContractRef, Outcome};

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database error, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("database: {what}: {source}")]
pub struct StoreError {
    what: String,
    #[source]
    source: sqlx::Error,
}

fn ctx(what: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |source| StoreError {
        what: what.to_owned(),
        source,
    }
}

type Result<T> = std::result::Result<T, StoreError>;

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub tx_hash: String,
    pub source_digest: String,
    pub archive_sha256: String,
    pub status: Status,
    pub attempts: i64,
    pub max_attempts: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub error_code: Option<ErrorCode>,
    pub error_description: Option<String>,
    pub verdict: Option<String>,
    pub binary_sha256: Option<String>,
    pub logs_sha256: Option<String>,
    pub provenance_sha256: Option<String>,
    pub bundle_sha256: Option<String>,
    /// The git source the server fetched the archive from (`None`: uploaded).
    pub git: Option<GitSource>,
    /// The toolchain the project pins, read at submission (`None`: none pinned).
    pub toolchain: Option<String>,
}

const JOB_COLUMNS: &str = "id, tx_hash, source_digest, archive_sha256, state, attempts, \
    max_attempts, created_at, started_at, finished_at, error_code, error_description, verdict, \
    binary_sha256, logs_sha256, provenance_sha256, bundle_sha256, source_url, source_commit, \
    source_path, toolchain";

fn job_of(row: &AnyRow) -> std::result::Result<Job, sqlx::Error> {
    let state: String = row.try_get("state")?;
    let code: Option<String> = row.try_get("error_code")?;
    Ok(Job {
        id: row.try_get("id")?,
        tx_hash: row.try_get("tx_hash")?,
        source_digest: row.try_get("source_digest")?,
        archive_sha256: row.try_get("archive_sha256")?,
        status: Status::parse(&state).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown job state `{state}` in the database").into())
        })?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        error_code: code.as_deref().and_then(ErrorCode::parse),
        error_description: row.try_get("error_description")?,
        verdict: row.try_get("verdict")?,
        binary_sha256: row.try_get("binary_sha256")?,
        logs_sha256: row.try_get("logs_sha256")?,
        provenance_sha256: row.try_get("provenance_sha256")?,
        bundle_sha256: row.try_get("bundle_sha256")?,
        git: match (
            row.try_get::<Option<String>, _>("source_url")?,
            row.try_get::<Option<String>, _>("source_commit")?,
        ) {
            (Some(url), Some(commit)) => Some(GitSource {
                url,
                commit,
                path: row.try_get("source_path")?,
            }),
            _ => None,
        },
        toolchain: row.try_get("toolchain")?,
    })
}

/// A new submission.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub tx_hash: &'a str,
    pub source_digest: &'a str,
    pub archive: &'a [u8],
    pub max_attempts: i64,
    /// Where the archive was fetched from, when the server fetched it.
    pub git: Option<&'a GitSource>,
    /// The toolchain the project pins (its rust-toolchain file), if any.
    pub toolchain: Option<&'a str>,
}

/// A batch as stored.
#[derive(Debug, Clone)]
pub struct Batch {
    pub id: i64,
    pub name: Option<String>,
    pub created_at: i64,
}

/// Which jobs a worker would rather take: those whose toolchain it already has. A job that has
/// waited longer than `max_wait` goes first whatever its toolchain, so that none starves.
#[derive(Debug, Clone, Default)]
pub struct Preference {
    /// The toolchain of this worker's last job (its files are hot).
    pub last: Option<String>,
    /// Toolchains installed where this worker runs.
    pub installed: Vec<String>,
    pub max_wait: Duration,
}

/// A job a worker now holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub tx_hash: String,
    pub archive_sha256: String,
    pub attempts: i64,
    /// The toolchain the project pins, if any.
    pub toolchain: Option<String>,
}

/// What to look a verification up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Transaction(&'a str),
    Contract(&'a str),
    Package(&'a str),
    /// sha256 of the stored (instrumented) Wasm.
    StoredWasm(&'a str),
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to `url` (`sqlite://FILE`, `postgres://…`) and applies the migrations.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError {
                what: format!("`{url}` is not a database URL"),
                source: sqlx::Error::Configuration(
                    "use sqlite://FILE or postgres://USER@HOST/DB".into(),
                ),
            });
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(ctx("connecting"))?;
        if backend == Backend::Sqlite {
            // Readers do not block the writer, and several processes may share the file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(ctx("enabling WAL"))?;
        }
        migrator(backend).run(&pool).await.map_err(|e| StoreError {
            what: "applying migrations".into(),
            source: e.into(),
        })?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Stores `bytes` under their sha256 (once) and returns it.
    pub async fn put_blob(&self, bytes: &[u8]) -> Result<String> {
        let sha = crate::job::sha256_hex(bytes);
        put_blob(&self.pool, &sha, bytes).await?;
        Ok(sha)
    }

    pub async fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        sqlx::query("SELECT data FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await
            .map_err(ctx("reading a blob"))?
            .map(|r| r.try_get::<Vec<u8>, _>("data"))
            .transpose()
            .map_err(ctx("reading a blob"))
    }

    /// Queues a verification, or returns the existing job for the same transaction and the same
    /// source tree (`false`: nothing new was queued). The archive and the job are written in one
    /// transaction.
    pub async fn submit(&self, new: &NewJob<'_>) -> Result<(i64, bool)> {
        let mut tx = self.pool.begin().await.map_err(ctx("submitting"))?;
        let queued = queue_job(&mut tx, new).await?;
        tx.commit().await.map_err(ctx("queueing a job"))?;
        Ok(queued)
    }

    /// Queues a batch: every job (or the existing one for the same transaction and source), the
    /// batch, and its list, in one transaction: all of it is stored, or none.
    pub async fn submit_batch(
        &self,
        name: Option<&str>,
        jobs: &[NewJob<'_>],
    ) -> Result<(i64, Vec<(i64, bool)>)> {
        let mut tx = self.pool.begin().await.map_err(ctx("queueing a batch"))?;
        let batch: i64 =
            sqlx::query("INSERT INTO batches (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(name)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await
                .and_then(|r| r.try_get("id"))
                .map_err(ctx("queueing a batch"))?;
        let mut queued = Vec::with_capacity(jobs.len());
        for (position, new) in jobs.iter().enumerate() {
            let (id, inserted) = queue_job(&mut tx, new).await?;
            sqlx::query("INSERT INTO batch_jobs (batch_id, position, job_id) VALUES ($1, $2, $3)")
                .bind(batch)
                .bind(position as i64)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(ctx("queueing a batch"))?;
            queued.push((id, inserted));
        }
        tx.commit().await.map_err(ctx("queueing a batch"))?;
        Ok((batch, queued))
    }

    pub async fn batch(&self, id: i64) -> Result<Option<Batch>> {
        sqlx::query("SELECT id, name, created_at FROM batches WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| {
                r.map(|r| {
                    Ok(Batch {
                        id: r.try_get("id")?,
                        name: r.try_get("name")?,
                        created_at: r.try_get("created_at")?,
                    })
                })
                .transpose()
            })
            .map_err(ctx("reading a batch"))
    }

    /// A batch's jobs, in the order they were given.
    pub async fn batch_jobs(&self, id: i64) -> Result<Vec<Job>> {
        let cols = JOB_COLUMNS
            .split(", ")
            .map(|c| format!("j.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "SELECT {cols} FROM batch_jobs b JOIN jobs j ON j.id = b.job_id \
             WHERE b.batch_id = $1 ORDER BY b.position"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .and_then(|rows| rows.iter().map(job_of).collect())
        .map_err(ctx("reading a batch's jobs"))
    }

    /// Claims the oldest runnable job for `owner` with a lease of `lease`: a waiting job, or one
    /// whose worker's lease ran out, with attempts left. Jobs whose lease ran out with no
    /// attempts left are failed first.
    pub async fn claim(&self, owner: &str, lease: Duration) -> Result<Option<Claimed>> {
        self.claim_preferring(owner, lease, &Preference::default())
            .await
    }

    /// [`Store::claim`], taking first a job that has waited past `prefer.max_wait`, then one of
    /// the toolchain of this worker's last job, then one of a toolchain it has installed, then
    /// the oldest: jobs are grouped by toolchain, so that toolchain installs are reused.
    pub async fn claim_preferring(
        &self,
        owner: &str,
        lease: Duration,
        prefer: &Preference,
    ) -> Result<Option<Claimed>> {
        let now = now_ms();
        sqlx::query(
            "UPDATE jobs SET state = 'Failed', error_code = 'Internal', \
             error_description = 'the verification was interrupted ' || attempts || ' time(s) (its worker stopped); it is not retried again', \
             finished_at = $1, lease_owner = NULL \
             WHERE state = 'Pending' AND lease_expires < $1 AND attempts >= max_attempts",
        )
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(ctx("failing abandoned jobs"))?;
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        // $4: created before this, waited too long; $5: the last toolchain; $6…: installed.
        let installed = if prefer.installed.is_empty() {
            String::new()
        } else {
            let params: Vec<String> = (0..prefer.installed.len())
                .map(|i| format!("${}", i + 6))
                .collect();
            format!(" WHEN toolchain IN ({}) THEN 2", params.join(", "))
        };
        let sql = format!(
            "UPDATE jobs SET state = 'Pending', lease_owner = $1, lease_expires = $2, \
             attempts = attempts + 1, started_at = $3 \
             WHERE id = (SELECT id FROM jobs \
               WHERE ((state = 'Waiting' AND not_before <= $3) \
                  OR (state = 'Pending' AND lease_expires < $3)) \
                 AND attempts < max_attempts \
               ORDER BY CASE WHEN created_at < $4 THEN 0 WHEN toolchain = $5 THEN 1{installed} \
                 ELSE 3 END, id LIMIT 1{lock}) \
             RETURNING id, tx_hash, archive_sha256, attempts, toolchain"
        );
        let max_wait = if prefer.max_wait.is_zero() {
            Duration::from_secs(600)
        } else {
            prefer.max_wait
        };
        let mut query = sqlx::query(&sql)
            .bind(owner)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .bind(now - max_wait.as_millis() as i64)
            .bind(prefer.last.as_deref().unwrap_or(""));
        for t in &prefer.installed {
            query = query.bind(t.as_str());
        }
        let row = query
            .fetch_optional(&self.pool)
            .await
            .map_err(ctx("claiming a job"))?;
        row.map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                tx_hash: r.try_get("tx_hash")?,
                archive_sha256: r.try_get("archive_sha256")?,
                attempts: r.try_get("attempts")?,
                toolchain: r.try_get("toolchain")?,
            })
        })
        .transpose()
        .map_err(ctx("claiming a job"))
    }

    /// Renews `owner`'s lease on job `id`; `false` when the lease is no longer theirs.
    pub async fn heartbeat(&self, id: i64, owner: &str, lease: Duration) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET lease_expires = $1 \
             WHERE id = $2 AND lease_owner = $3 AND state = 'Pending'",
        )
        .bind(now_ms() + lease.as_millis() as i64)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(ctx("renewing a lease"))?
        .rows_affected();
        Ok(n == 1)
    }

    /// Writes the outcome of job `id` if `owner` still holds it (`false`: it does not, and
    /// nothing was written). Blobs, contracts and the job's row in one transaction.
    pub async fn complete(&self, id: i64, owner: &str, outcome: &Outcome) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(ctx("completing a job"))?;
        // Content-addressed: each stored once, its sha256 kept in the job's row.
        let mut shas = Vec::new();
        for bytes in [
            outcome.binary.as_deref(),
            outcome.provenance.as_deref().map(str::as_bytes),
            outcome.bundle.as_deref(),
            Some(outcome.logs.as_bytes()),
        ] {
            shas.push(match bytes {
                Some(b) => {
                    let sha = crate::job::sha256_hex(b);
                    put_blob(&mut *tx, &sha, b).await?;
                    Some(sha)
                }
                None => None,
            });
        }
        let [binary, provenance, bundle, logs] =
            <[Option<String>; 4]>::try_from(shas).expect("four blobs");
        for ContractRef {
            contract_hash,
            package_hash,
            stored_sha256,
        } in &outcome.contracts
        {
            sqlx::query(
                "INSERT INTO contracts (job_id, contract_hash, package_hash, stored_sha256) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (job_id, contract_hash) DO NOTHING",
            )
            .bind(id)
            .bind(contract_hash)
            .bind(package_hash)
            .bind(stored_sha256)
            .execute(&mut *tx)
            .await
            .map_err(ctx("recording a job's contracts"))?;
        }
        let n = sqlx::query(
            "UPDATE jobs SET state = $1, error_code = $2, error_description = $3, verdict = $4, \
             report_json = $5, binary_sha256 = $6, logs_sha256 = $7, finished_at = $8, \
             lease_owner = NULL, provenance_sha256 = $11, bundle_sha256 = $12 \
             WHERE id = $9 AND lease_owner = $10 AND state = 'Pending'",
        )
        .bind(outcome.status.as_str())
        .bind(outcome.code.map(ErrorCode::as_str))
        .bind(&outcome.description)
        .bind(outcome.verdict.as_deref())
        .bind(outcome.report_json.as_deref())
        .bind(binary.as_deref())
        .bind(logs.as_deref())
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .bind(provenance.as_deref())
        .bind(bundle.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(ctx("completing a job"))?
        .rows_affected();
        if n != 1 {
            tx.rollback().await.map_err(ctx("completing a job"))?;
            return Ok(false);
        }
        tx.commit().await.map_err(ctx("completing a job"))?;
        Ok(true)
    }

    /// Gives job `id` back to the queue, to be claimed again after `delay` (a node that failed,
    /// a worker shutting down). `counted: false` gives the attempt back too.
    pub async fn release(
        &self,
        id: i64,
        owner: &str,
        delay: Duration,
        counted: bool,
        why: &str,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET state = 'Waiting', lease_owner = NULL, lease_expires = NULL, \
             not_before = $1, attempts = attempts - $2, error_description = $3 \
             WHERE id = $4 AND lease_owner = $5 AND state = 'Pending'",
        )
        .bind(now_ms() + delay.as_millis() as i64)
        .bind(if counted { 0i64 } else { 1 })
        .bind(why)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(ctx("releasing a job"))?
        .rows_affected();
        Ok(n == 1)
    }

    /// Queues a finished job again (re-verification), clearing its result; `false` when it is
    /// not finished.
    pub async fn requeue(&self, id: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(ctx("re-queueing"))?;
        let n = sqlx::query(
            "UPDATE jobs SET state = 'Waiting', attempts = 0, not_before = 0, lease_owner = NULL, \
             lease_expires = NULL, started_at = NULL, finished_at = NULL, error_code = NULL, \
             error_description = NULL, verdict = NULL, report_json = NULL, binary_sha256 = NULL, \
             logs_sha256 = NULL, provenance_sha256 = NULL, bundle_sha256 = NULL \
             WHERE id = $1 AND state IN ('Verified', 'Failed')",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(ctx("re-queueing"))?
        .rows_affected();
        sqlx::query("DELETE FROM contracts WHERE job_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(ctx("re-queueing"))?;
        if n != 1 {
            tx.rollback().await.map_err(ctx("re-queueing"))?;
            return Ok(false);
        }
        tx.commit().await.map_err(ctx("re-queueing"))?;
        Ok(true)
    }

    pub async fn job(&self, id: i64) -> Result<Option<Job>> {
        sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.as_ref().map(job_of).transpose())
            .map_err(ctx("reading a job"))
    }

    /// The job's verify report (JSON), when it made one.
    pub async fn report(&self, id: i64) -> Result<Option<String>> {
        sqlx::query("SELECT report_json FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| {
                r.map(|r| r.try_get::<Option<String>, _>("report_json"))
                    .transpose()
            })
            .map(Option::flatten)
            .map_err(ctx("reading a report"))
    }

    /// The latest job for transaction `tx_hash` (what the codeverifier API answers about).
    pub async fn latest_for_tx(&self, tx_hash: &str) -> Result<Option<Job>> {
        sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE tx_hash = $1 ORDER BY id DESC LIMIT 1"
        ))
        .bind(tx_hash)
        .fetch_optional(&self.pool)
        .await
        .and_then(|r| r.as_ref().map(job_of).transpose())
        .map_err(ctx("looking up a transaction"))
    }

    /// Verified jobs matching `by`, newest first.
    pub async fn verified(&self, by: Lookup<'_>, limit: i64) -> Result<Vec<Job>> {
        let (column, value) = match by {
            Lookup::Transaction(h) => {
                let sql = format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE tx_hash = $1 AND state = 'Verified' \
                     ORDER BY id DESC LIMIT $2"
                );
                return self.jobs(&sql, h, limit).await;
            }
            Lookup::Contract(h) => ("contract_hash", h),
            Lookup::Package(h) => ("package_hash", h),
            Lookup::StoredWasm(h) => ("stored_sha256", h),
        };
        let cols = JOB_COLUMNS
            .split(", ")
            .map(|c| format!("j.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT DISTINCT {cols} FROM jobs j JOIN contracts c ON c.job_id = j.id \
             WHERE c.{column} = $1 AND j.state = 'Verified' ORDER BY j.id DESC LIMIT $2"
        );
        self.jobs(&sql, value, limit).await
    }

    async fn jobs(&self, sql: &str, value: &str, limit: i64) -> Result<Vec<Job>> {
        let rows = sqlx::query(sql)
            .bind(value)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(ctx("looking up verifications"))?;
        rows.iter()
            .map(job_of)
            .collect::<std::result::Result<_, _>>()
            .map_err(ctx("looking up verifications"))
    }

    /// Jobs newest first, before the id `before` (paging), optionally only `status`.
    pub async fn list(
        &self,
        status: Option<Status>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 = '' OR state = $1) AND id < $2 \
             ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(status.map(Status::as_str).unwrap_or(""))
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(ctx("listing jobs"))?;
        rows.iter()
            .map(job_of)
            .collect::<std::result::Result<_, _>>()
            .map_err(ctx("listing jobs"))
    }

    /// The contracts job `id`'s transaction installed.
    pub async fn contracts(&self, id: i64) -> Result<Vec<ContractRef>> {
        let rows = sqlx::query(
            "SELECT contract_hash, package_hash, stored_sha256 FROM contracts \
             WHERE job_id = $1 ORDER BY contract_hash",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(ctx("reading a job's contracts"))?;
        rows.iter()
            .map(|r| {
                Ok(ContractRef {
                    contract_hash: r.try_get("contract_hash")?,
                    package_hash: r.try_get("package_hash")?,
                    stored_sha256: r.try_get("stored_sha256")?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(ctx("reading a job's contracts"))
    }

    /// Jobs per state (for the health page and the tests).
    pub async fn counts(&self) -> Result<Vec<(Status, i64)>> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await
                .map_err(ctx("counting jobs"))?;
        rows.iter()
            .map(|r| {
                let s: String = r.try_get("state")?;
                Ok((Status::parse(&s).unwrap_or(Status::Failed), r.try_get("n")?))
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(ctx("counting jobs"))
    }

    /// Blobs stored (archives, modules, logs, provenance, bundles).
    pub async fn blob_count(&self) -> Result<i64> {
        sqlx::query("SELECT COUNT(*) AS n FROM blobs")
            .fetch_one(&self.pool)
            .await
            .and_then(|r| r.try_get("n"))
            .map_err(ctx("counting blobs"))
    }

    /// Checks the database's invariants and returns every violation, one sentence each (empty:
    /// consistent). What a crash must never leave behind: a job whose blobs are missing, a
    /// finished job without its result, a queued job with a result, contracts of an unfinished
    /// job, a leased job without a holder, or a blob that nothing refers to (half of a
    /// submission or of a result).
    pub async fn integrity(&self) -> Result<Vec<String>> {
        const CHECKS: &[(&str, &str)] = &[
            (
                "SELECT j.id AS id FROM jobs j LEFT JOIN blobs b ON b.sha256 = j.archive_sha256 \
                 WHERE b.sha256 IS NULL",
                "its source archive is missing",
            ),
            (
                "SELECT j.id AS id FROM jobs j WHERE \
                 (j.binary_sha256 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = j.binary_sha256)) \
                 OR (j.logs_sha256 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = j.logs_sha256)) \
                 OR (j.provenance_sha256 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = j.provenance_sha256)) \
                 OR (j.bundle_sha256 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = j.bundle_sha256))",
                "a blob of its result is missing",
            ),
            (
                "SELECT id FROM jobs WHERE state IN ('Verified', 'Failed') AND \
                 (finished_at IS NULL OR error_description IS NULL \
                  OR lease_owner IS NOT NULL)",
                "it is finished but its result is incomplete",
            ),
            (
                "SELECT id FROM jobs WHERE state = 'Verified' AND (verdict IS NULL OR report_json IS NULL)",
                "it is verified without a verdict or a report",
            ),
            (
                "SELECT id FROM jobs WHERE state IN ('Waiting', 'Pending') AND \
                 (finished_at IS NOT NULL OR verdict IS NOT NULL OR report_json IS NOT NULL \
                  OR logs_sha256 IS NOT NULL)",
                "it is not finished but holds a result",
            ),
            (
                "SELECT id FROM jobs WHERE state = 'Pending' AND (lease_owner IS NULL OR lease_expires IS NULL)",
                "it is leased without a holder",
            ),
            (
                "SELECT id FROM jobs WHERE state NOT IN ('Waiting', 'Pending', 'Verified', 'Failed')",
                "its state is unknown",
            ),
            (
                "SELECT DISTINCT c.job_id AS id FROM contracts c JOIN jobs j ON j.id = c.job_id \
                 WHERE j.state NOT IN ('Verified', 'Failed')",
                "it lists contracts before it finished",
            ),
            (
                "SELECT DISTINCT b.job_id AS id FROM batch_jobs b \
                 WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = b.job_id)",
                "a batch lists it, but it does not exist",
            ),
        ];
        let mut problems = Vec::new();
        for (sql, what) in CHECKS {
            for row in sqlx::query(sql)
                .fetch_all(&self.pool)
                .await
                .map_err(ctx("checking the database"))?
            {
                let id: i64 = row.try_get("id").map_err(ctx("checking the database"))?;
                problems.push(format!("job {id}: {what}"));
            }
        }
        let orphans = sqlx::query(
            "SELECT sha256 FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE \
             j.archive_sha256 = b.sha256 OR j.binary_sha256 = b.sha256 OR j.logs_sha256 = b.sha256 \
             OR j.provenance_sha256 = b.sha256 OR j.bundle_sha256 = b.sha256)",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(ctx("checking the database"))?;
        for row in orphans {
            let sha: String = row
                .try_get("sha256")
                .map_err(ctx("checking the database"))?;
            problems.push(format!("blob {sha}: no job refers to it"));
        }
        let empty = sqlx::query(
            "SELECT id FROM batches b WHERE NOT EXISTS (SELECT 1 FROM batch_jobs j WHERE j.batch_id = b.id)",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(ctx("checking the database"))?;
        for row in empty {
            let id: i64 = row.try_get("id").map_err(ctx("checking the database"))?;
            problems.push(format!("batch {id}: it lists no job"));
        }
        Ok(problems)
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Inside a transaction: stores the archive and queues its job, or finds the job already queued
/// for the same transaction and source tree (then the archive, maybe compressed differently, is
/// not kept: no blob that no job refers to).
async fn queue_job(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    new: &NewJob<'_>,
) -> Result<(i64, bool)> {
    let sha = crate::job::sha256_hex(new.archive);
    let had_blob = sqlx::query("SELECT 1 AS one FROM blobs WHERE sha256 = $1")
        .bind(&sha)
        .fetch_optional(&mut **tx)
        .await
        .map_err(ctx("queueing a job"))?
        .is_some();
    put_blob(&mut **tx, &sha, new.archive).await?;
    let inserted = sqlx::query(
        "INSERT INTO jobs (tx_hash, source_digest, archive_sha256, state, max_attempts, created_at, \
         source_url, source_commit, source_path, toolchain) \
         VALUES ($1, $2, $3, 'Waiting', $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (tx_hash, source_digest) DO NOTHING",
    )
    .bind(new.tx_hash)
    .bind(new.source_digest)
    .bind(&sha)
    .bind(new.max_attempts)
    .bind(now_ms())
    .bind(new.git.map(|g| g.url.as_str()))
    .bind(new.git.map(|g| g.commit.as_str()))
    .bind(new.git.and_then(|g| g.path.as_deref()))
    .bind(new.toolchain)
    .execute(&mut **tx)
    .await
    .map_err(ctx("queueing a job"))?
    .rows_affected()
        == 1;
    let id: i64 = sqlx::query("SELECT id FROM jobs WHERE tx_hash = $1 AND source_digest = $2")
        .bind(new.tx_hash)
        .bind(new.source_digest)
        .fetch_one(&mut **tx)
        .await
        .and_then(|r| r.try_get("id"))
        .map_err(ctx("queueing a job"))?;
    if !inserted && !had_blob {
        sqlx::query("DELETE FROM blobs WHERE sha256 = $1")
            .bind(&sha)
            .execute(&mut **tx)
            .await
            .map_err(ctx("queueing a job"))?;
    }
    Ok((id, inserted))
}

async fn put_blob<'e, E>(exec: E, sha: &str, bytes: &[u8]) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO blobs (sha256, size, data, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(sha)
    .bind(bytes.len() as i64)
    .bind(bytes)
    .bind(now_ms())
    .execute(exec)
    .await
    .map_err(ctx("storing a blob"))?;
    Ok(())
}

/// The migrations of `backend`, embedded (one schema: `migrations/{sqlite,postgres}/`).
fn migrator(backend: Backend) -> Migrator {
    let list: [(i64, &'static str, &'static str); 3] = match backend {
        Backend::Sqlite => [
            (
                1,
                "jobs",
                include_str!("../migrations/sqlite/0001_jobs.sql"),
            ),
            (
                2,
                "git source",
                include_str!("../migrations/sqlite/0002_git_source.sql"),
            ),
            (
                3,
                "batches",
                include_str!("../migrations/sqlite/0003_batches.sql"),
            ),
        ],
        Backend::Postgres => [
            (
                1,
                "jobs",
                include_str!("../migrations/postgres/0001_jobs.sql"),
            ),
            (
                2,
                "git source",
                include_str!("../migrations/postgres/0002_git_source.sql"),
            ),
            (
                3,
                "batches",
                include_str!("../migrations/postgres/0003_batches.sql"),
            ),
        ],
    };
    Migrator {
        migrations: Cow::Owned(
            list.into_iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

#[cfg(test)]
mod tests;
