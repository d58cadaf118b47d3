//! `casper-repro serve` and `casper-repro worker`: the verification service (repro-service) —
//! the codeverifier API that casper-client speaks, a native API, pages — and its workers.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use repro_service::{job, server, service, worker};
use repro_verify::repro_build::compile_cache::CompileCacheConfig;
use repro_verify::repro_build::sandbox::{self, SandboxConfig};

use crate::Outcome;
use crate::flags::TrustArgs;

/// One line on what `casper-repro serve` does.
pub const ABOUT: &str =
    "Run the verification service: the codeverifier API, a native API, web pages, workers";
/// One line on what `casper-repro worker` does.
pub const WORKER_ABOUT: &str = "Run a verification worker on a service's database (no HTTP)";

const AFTER_HELP: &str = "\
Endpoints (see /openapi.json):
  POST /verification, GET /verification/{hash}/status|details   the codeverifier API, as
      casper-client's verify_contract calls it
  /api/v1/...                                                   submit, batches, jobs, reports,
      lookups
  /                                                             pages: recent, submit, a
      verification, a batch's progress

Submissions are checked before they are stored: the hash, the archive (within limits), and the
transaction on the node; a batch (POST /api/v1/batches, `casper-repro batch`) is checked job by
job and stored whole or not at all. Workers take first the jobs of the toolchain they used last,
then of a toolchain they have installed, then the oldest. A git source (native API) is fetched only from repositories under an
--allow-git prefix: one commit, by its full hash, with nothing of the repository run. The database is a SQLite file under --data unless --database names a
PostgreSQL server (postgres://USER:PASSWORD@HOST/DB), which workers on other machines can share.

Every build runs in a sandbox (bubblewrap, a pids cgroup, prlimit): dependencies are fetched
first, then the project compiles with no network, sees only its source, the target directory, the
toolchains and the registry, and is stopped at the time, memory, process and disk limits. The
service will not start when the sandbox cannot be made here; --no-sandbox runs strangers' build
scripts with this service's rights instead, and says so loudly.

Stops gracefully on SIGINT/SIGTERM: running jobs get a grace period, then go back to the queue.";

#[derive(Debug, clap::Args)]
pub struct Common {
    /// The database: sqlite://FILE or postgres://USER:PASSWORD@HOST/DB [default: a SQLite file
    /// in --data].
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// The node (JSON-RPC) that transactions are read from.
    #[arg(long, env = "CASPER_NODE_RPC", value_name = "URL")]
    node: Option<String>,
    /// Work and cache directory [default: $XDG_DATA_HOME/casper-repro or
    /// ~/.local/share/casper-repro].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Build cache [default: DATA/cache].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Time limit of one request to the node, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    node_timeout: u64,
    /// Wall-clock limit of each cargo step of a build, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    build_time_limit: u64,
    /// Jobs a worker runs at the same time.
    #[arg(long, value_name = "N", default_value_t = 1)]
    concurrency: usize,
    /// Seconds a claimed job's lease lasts without a heartbeat (a dead worker's jobs are taken
    /// over after it).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    lease: u64,
    /// Build without the sandbox: submitted build scripts and proc-macros then run with this
    /// process's rights. Only for sources you trust.
    #[arg(long)]
    no_sandbox: bool,
    /// Sandbox: processes and threads a build may have alive at once.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    process_limit: u32,
    /// Sandbox: disk space a build may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 16384)]
    disk_limit: u64,
    /// Workers take first the jobs of a toolchain they have installed (so installs are reused);
    /// a job that has waited this many seconds is taken first whatever its toolchain.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    toolchain_max_wait: u64,
    /// The compile cache shared by sandboxed builds (compiled dependencies, keyed by toolchain,
    /// target, lock and flags): builds start from a copy of a matching entry. Give workers on
    /// several machines the same path (a shared file system) and the same --cache-dir path.
    #[arg(long, value_name = "DIR")]
    compile_cache: Option<PathBuf>,
    /// Also store builds' compiled dependencies in the compile cache. Only for a trusted worker:
    /// the project's build scripts can write anything into what is stored. Workers without it
    /// only read.
    #[arg(long, requires = "compile_cache")]
    compile_cache_write: bool,
    /// Finality: jobs check that the executing block is final, chained from this trusted block
    /// (the era cache defaults to DATA/eras).
    #[command(flatten)]
    trust: TrustArgs,
}

impl Common {
    fn resolve(&self) -> anyhow::Result<(String, PathBuf, String)> {
        let node = self
            .node
            .clone()
            .context("give the node's JSON-RPC URL with --node URL or CASPER_NODE_RPC")?;
        let data = self.data.clone().unwrap_or_else(service::default_data_dir);
        let database = self
            .database
            .clone()
            .unwrap_or_else(|| service::sqlite_url(&data));
        Ok((node, data, database))
    }

    /// The sandbox builds run in, checked to work on this machine; `None` with --no-sandbox,
    /// after a loud warning.
    fn sandbox(&self, who: &str) -> anyhow::Result<Option<SandboxConfig>> {
        if self.no_sandbox && self.compile_cache.is_some() {
            anyhow::bail!(
                "--compile-cache is for sandboxed builds; without the sandbox, builds share the --cache-dir's target directories directly"
            );
        }
        if self.no_sandbox {
            tracing::warn!(
                "--no-sandbox: builds are NOT sandboxed; submitted build scripts and proc-macros run with this {who}'s rights, network and files"
            );
            return Ok(None);
        }
        let what = sandbox::probe().map_err(|e| {
            anyhow::anyhow!(
                "{e}\n(the {who} sandboxes every build; pass --no-sandbox only to build sources you trust)"
            )
        })?;
        tracing::info!("builds are sandboxed: {what}");
        Ok(Some(SandboxConfig {
            max_processes: self.process_limit.max(1),
            max_disk_bytes: self.disk_limit.max(1) << 20,
            // This program applies Landlock inside the sandbox (`__landlock-exec`).
            landlock_helper: Some(
                std::env::current_exe().context("finding this program for the sandbox")?,
            ),
            ..SandboxConfig::default()
        }))
    }

    fn worker(
        &self,
        node: &str,
        data: &std::path::Path,
        sandbox: Option<SandboxConfig>,
    ) -> anyhow::Result<worker::Config> {
        let mut trust = self.trust.trust()?;
        trust.cache = trust.cache.or_else(|| Some(data.join("eras")));
        let mut w = worker::Config::new(job::Env {
            node: node.to_owned(),
            data: data.to_path_buf(),
            cache: self.cache_dir.clone().unwrap_or_else(|| data.join("cache")),
            node_timeout: Duration::from_secs(self.node_timeout),
            build_time_limit: Duration::from_secs(self.build_time_limit),
            sandbox,
            compile_cache: self.compile_cache.clone().map(|dir| CompileCacheConfig {
                dir,
                write: self.compile_cache_write,
            }),
            trust,
        });
        w.concurrency = self.concurrency.max(1);
        w.lease = Duration::from_secs(self.lease.max(3));
        w.heartbeat = w.lease / 4;
        w.max_wait = Duration::from_secs(self.toolchain_max_wait.max(1));
        Ok(w)
    }
}

/// The arguments of `casper-repro serve`.
#[derive(Debug, clap::Args)]
#[command(about = ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: String,
    /// In-process workers: 0 runs none (use `casper-repro worker` processes), 1 runs one with
    /// --concurrency job slots.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
    workers: u8,
    /// The URL clients reach this service at, for the URIs it hands out [default: from each
    /// request's Host].
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Largest source archive accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 32)]
    max_archive: usize,
    /// Fetch git sources (`{"git": {"url", "commit", "path"}}` on /api/v1/jobs) from
    /// repositories under this URL prefix (https://, http:// or git://; repeatable). Without
    /// it, git sources are refused.
    #[arg(long, value_name = "PREFIX")]
    allow_git: Vec<String>,
    /// Wall-clock limit of one git fetch, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    git_timeout: u64,
    /// Most jobs in one batch (POST /api/v1/batches).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    max_batch_jobs: usize,
    /// Largest batch request (its archives in base64 and the JSON around them), in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    max_batch: usize,
    #[command(flatten)]
    common: Common,
}

/// The arguments of `casper-repro worker`.
#[derive(Debug, clap::Args)]
#[command(about = WORKER_ABOUT)]
pub struct WorkerArgs {
    #[command(flatten)]
    common: Common,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (node, data, database) = args.common.resolve()?;
    let mut config = server::Config::new(node.clone(), data.clone());
    config.public_url = args.public_url.clone();
    config.limits.max_archive_bytes = args.max_archive.max(1) << 20;
    config.node_timeout = Duration::from_secs(args.common.node_timeout);
    config.git.allow = args.allow_git.clone();
    config.git.timeout = Duration::from_secs(args.git_timeout.max(1));
    config.max_batch_jobs = args.max_batch_jobs.max(1);
    config.max_batch_bytes = args.max_batch.max(1) << 20;
    let workers = if args.workers > 0 {
        Some(
            args.common
                .worker(&node, &data, args.common.sandbox("service")?)?,
        )
    } else {
        None
    };
    runtime()?.block_on(async {
        let store = service::open(&database, &data).await?;
        let svc = service::Service::bind(&args.listen, store, config, workers).await?;
        if let Some(addr) = svc.local_addr() {
            crate::output::print_text(&format!(
                "casper-repro serve: listening on http://{addr}\n"
            ))?;
        }
        svc.run(service::shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(Outcome::Success)
}

pub fn run_worker(args: WorkerArgs) -> anyhow::Result<Outcome> {
    let (node, data, database) = args.common.resolve()?;
    let config = args
        .common
        .worker(&node, &data, args.common.sandbox("worker")?)?;
    runtime()?.block_on(async {
        let store = service::open(&database, &data).await?;
        crate::output::print_text(&format!("casper-repro worker: {} started\n", config.owner))?;
        service::run_worker(store, config, service::shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(Outcome::Success)
}
