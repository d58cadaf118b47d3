//! A worker: claims jobs from the database's queue, at most `concurrency` at a time, keeps each
//! job's lease alive while it runs, and writes each outcome once. Any number of workers, in any
//! number of processes and machines, may share one database (PostgreSQL; SQLite within one
//! machine).
//!
//! Jobs are grouped by toolchain: a worker takes first a job pinned to the toolchain of its last
//! job, then one pinned to a toolchain installed where it runs, then the oldest (a job that waited
//! past `max_wait` goes first whatever its toolchain), so that toolchain installs, and the files
//! of the toolchain in use, are reused ([`Store::claim_preferring`]).
//!
//! Shutdown is graceful: no new job is claimed, running jobs get `grace` to finish, and the ones
//! still running then are given back to the queue (their attempt not counted) for another worker.
//! A worker that is killed instead simply stops renewing its leases: another worker claims its
//! jobs once the leases run out (a bounded number of times).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::codeverifier::ErrorCode;
use crate::job::{self, Outcome, Retry};
use crate::store::{Preference, Store, StoreError};

/// The toolchains installed in `rustup_home` (`1.95.0`, `nightly-2024-07-31`: as pins name them).
pub fn installed_toolchains(rustup_home: &std::path::Path) -> Vec<String> {
    let host = repro_verify::repro_build::toolchain::HOST_TRIPLE;
    let mut out: Vec<String> = std::fs::read_dir(rustup_home.join("toolchains"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(&format!("-{host}")).map(str::to_owned)
        })
        .collect();
    out.sort();
    out
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub env: job::Env,
    /// Jobs run at the same time.
    pub concurrency: usize,
    /// How long a claim holds without a heartbeat.
    pub lease: Duration,
    /// How often a running job's lease is renewed (well within `lease`).
    pub heartbeat: Duration,
    /// How long to wait before asking for work again when the queue is empty.
    pub poll: Duration,
    /// When shutting down: how long running jobs may still take.
    pub grace: Duration,
    /// When a node failed: how long before the job is tried again.
    pub retry_delay: Duration,
    /// This worker's name in the leases (unique among workers).
    pub owner: String,
    /// How long a job may wait before it is taken whatever its toolchain.
    pub max_wait: Duration,
}

impl Config {
    /// Defaults: one job at a time, 60 s leases renewed every 10 s.
    pub fn new(env: job::Env) -> Config {
        Config {
            env,
            concurrency: 1,
            lease: Duration::from_secs(60),
            heartbeat: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            grace: Duration::from_secs(30),
            retry_delay: Duration::from_secs(30),
            owner: default_owner(),
            max_wait: Duration::from_secs(600),
        }
    }
}

/// `HOST:PID:START` — unique per worker process.
pub fn default_owner() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}:{}", std::process::id(), crate::store::now_ms())
}

/// Runs jobs until `shutdown` resolves, then stops gracefully.
pub async fn run(
    store: Store,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StoreError> {
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut running = JoinSet::new();
    tracing::info!(owner = %config.owner, concurrency = config.concurrency, "worker started");
    tokio::pin!(shutdown);
    let mut last_toolchain: Option<String> = None;
    let rustup_home = repro_verify::repro_build::HostEnv::from_process().rustup_home;
    loop {
        // Reap finished jobs (their errors are logged where they happen).
        while running.try_join_next().is_some() {}
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = Arc::clone(&slots).acquire_owned() => p.expect("the semaphore is never closed"),
        };
        let prefer = Preference {
            last: last_toolchain.clone(),
            installed: installed_toolchains(&rustup_home),
            max_wait: config.max_wait,
        };
        let claimed = match store
            .claim_preferring(&config.owner, config.lease, &prefer)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("{e}");
                None
            }
        };
        let Some(claimed) = claimed else {
            drop(permit);
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(config.poll) => continue,
            }
        };
        if claimed.toolchain.is_some() {
            last_toolchain.clone_from(&claimed.toolchain);
        }
        let store = store.clone();
        let config = Arc::clone(&config);
        let stop = stop_rx.clone();
        running.spawn(async move {
            let _permit = permit;
            run_one(&store, &config, claimed, stop).await;
        });
    }
    tracing::info!(running = running.len(), "worker stopping: no new jobs");
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(config.grace + Duration::from_secs(5), async {
        while running.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        running.abort_all();
    }
    tracing::info!("worker stopped");
    Ok(())
}

async fn run_one(
    store: &Store,
    config: &Config,
    claimed: crate::store::Claimed,
    mut stop: watch::Receiver<bool>,
) {
    let id = claimed.id;
    let owner = config.owner.as_str();
    tracing::info!(
        job = id,
        tx = %claimed.tx_hash,
        attempt = claimed.attempts,
        toolchain = claimed.toolchain.as_deref().unwrap_or("-"),
        "job claimed"
    );
    let archive = match store.blob(&claimed.archive_sha256).await {
        Ok(Some(a)) => a,
        other => {
            let why = match other {
                Err(e) => e.to_string(),
                _ => format!("the archive {} is missing", claimed.archive_sha256),
            };
            finish(store, id, owner, internal(why)).await;
            return;
        }
    };
    let env = config.env.clone();
    let hash = claimed.tx_hash.clone();
    let mut work = tokio::task::spawn_blocking(move || job::run(&env, &hash, &archive, id));
    let mut beat = tokio::time::interval(config.heartbeat);
    beat.tick().await;
    let mut grace_end: Option<tokio::time::Instant> = None;
    loop {
        let grace_sleep = async {
            match grace_end {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = &mut work => {
                let outcome = match result {
                    Ok(Ok(o)) => o,
                    Ok(Err(Retry(why))) => {
                        tracing::warn!(job = id, "retrying later: {why}");
                        if let Err(e) = store.release(id, owner, config.retry_delay, true, &why).await {
                            tracing::error!(job = id, "{e}");
                        }
                        return;
                    }
                    // A panic in the verification is a bug; the job says so instead of vanishing.
                    Err(e) => internal(format!("the verification crashed: {e}")),
                };
                finish(store, id, owner, outcome).await;
                return;
            }
            _ = beat.tick() => {
                match store.heartbeat(id, owner, config.lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        // Another worker has it now: its result is the one that counts.
                        tracing::warn!(job = id, "lease lost; the result of this run will not be written");
                        return;
                    }
                    Err(e) => tracing::error!(job = id, "{e}"),
                }
            }
            changed = stop.changed(), if grace_end.is_none() => {
                if changed.is_ok() || *stop.borrow() {
                    grace_end = Some(tokio::time::Instant::now() + config.grace);
                }
            }
            _ = grace_sleep => {
                tracing::warn!(job = id, "shutting down: giving the job back to the queue");
                if let Err(e) = store.release(id, owner, Duration::ZERO, false, "its worker shut down").await {
                    tracing::error!(job = id, "{e}");
                }
                return;
            }
        }
    }
}

async fn finish(store: &Store, id: i64, owner: &str, outcome: Outcome) {
    match store.complete(id, owner, &outcome).await {
        Ok(true) => tracing::info!(
            job = id,
            status = outcome.status.as_str(),
            verdict = outcome.verdict.as_deref().unwrap_or("-"),
            "job finished"
        ),
        Ok(false) => tracing::warn!(job = id, "lease lost before the result was written"),
        Err(e) => tracing::error!(job = id, "{e}"),
    }
}

fn internal(description: String) -> Outcome {
    Outcome::failed(ErrorCode::Internal, description, String::new())
}
