//! Lookups of the verification service under load, as a user runs it: the release
//! `casper-repro serve` process on loopback, on a database holding N verified contracts, on SQLite
//! and on PostgreSQL.
//!
//! 1. A fresh database is seeded with N verified jobs through the service's own store (submit,
//!    claim, complete with a `Verified` outcome: a small module, logs, one installed contract),
//!    as a worker leaves them; no SQL of ours.
//! 2. `casper-repro serve --workers 0` runs on it. Its `--node` is a loopback port that this bench
//!    holds and never answers: lookups do not read the chain, and the bench fails if the service
//!    connected to it.
//! 3. A bounded client: a warm-up, then a fixed number of GET requests over C keep-alive
//!    connections (one thread each, closed loop: a connection sends its next request when the
//!    previous answer is read). The requests are drawn once, by a fixed-seed PRNG, among the
//!    lookups (transaction, contract, package, stored Wasm), the codeverifier status, a job and
//!    the verified list; 10 % of the keyed ones are misses. Every answer's status is checked (200
//!    for a seeded key, 404 for a miss) and its body is checked to name what was asked; the first
//!    wrong answer stops the bench with an error.
//! 4. Printed per backend: seeding time, requests, requests/s, latency p50/p90/p99/max (overall
//!    and per kind).
//!
//! ```text
//! cargo bench -p repro-cli --bench service_load -- [--contracts N] [--requests M]
//!     [--connections C] [--warmup W] [--seeders S] [--backend sqlite|postgres|both]
//! ```
//!
//! PostgreSQL is the tests' server (`bash scripts/postgres.sh`, or CASPER_REPRO_TEST_POSTGRES); a
//! fresh database is made for the run and dropped after it. When the server is not reachable the
//! bench fails, saying how to start it.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark reports on its terminal"
)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use repro_service::codeverifier::Status;
use repro_service::job::{ContractRef, Outcome};
use repro_service::store::{NewJob, Store};
use repro_service::testdb::{self, TestDb};
use sha2::{Digest as _, Sha256};

const USAGE: &str = "usage: service_load [--contracts N] [--requests M] [--connections C] \
                     [--warmup W] [--seeders S] [--backend sqlite|postgres|both]";

/// The PRNG's seed: the same requests on every run and both backends.
const SEED: u64 = 0x5eed_ca5e_2024_0001;

#[derive(Debug, Clone)]
struct Args {
    contracts: usize,
    requests: usize,
    connections: usize,
    warmup: usize,
    seeders: usize,
    backends: Vec<Backend>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        contracts: 10_000,
        requests: 50_000,
        connections: 32,
        warmup: 2_000,
        seeders: 4,
        backends: vec![Backend::Sqlite, Backend::Postgres],
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        // `cargo bench` passes `--bench` to every bench binary.
        if a == "--bench" {
            continue;
        }
        if a == "-h" || a == "--help" {
            return Err(USAGE.to_owned());
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (a.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        let count = |v: String, min: usize| -> Result<usize, String> {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n >= min)
                .ok_or_else(|| format!("{name}: `{v}` is not a whole number ≥ {min}"))
        };
        match name.as_str() {
            "--contracts" => args.contracts = count(value()?, 1)?,
            "--requests" => args.requests = count(value()?, 1)?,
            "--connections" => args.connections = count(value()?, 1)?,
            "--warmup" => args.warmup = count(value()?, 0)?,
            "--seeders" => args.seeders = count(value()?, 1)?,
            "--backend" => {
                args.backends = match value()?.as_str() {
                    "sqlite" => vec![Backend::Sqlite],
                    "postgres" => vec![Backend::Postgres],
                    "both" => vec![Backend::Sqlite, Backend::Postgres],
                    other => {
                        return Err(format!(
                            "--backend: `{other}` is not sqlite, postgres or both"
                        ));
                    }
                }
            }
            _ => return Err(format!("unknown argument `{a}`\n{USAGE}")),
        }
    }
    Ok(args)
}

/// A 64-hex key that looks random, distinct per (`kind`, `i`).
fn key(kind: &str, i: usize) -> String {
    hex::encode(Sha256::digest(format!("service-load {kind} {i}")))
}

/// What seeded job `i` holds.
struct Seeded {
    tx: String,
    contract: String,
    package: String,
    wasm: String,
}

fn seeded(i: usize) -> Seeded {
    Seeded {
        tx: key("transaction", i),
        contract: key("contract", i),
        package: key("package", i),
        wasm: key("wasm", i),
    }
}

fn outcome(i: usize) -> Outcome {
    let s = seeded(i);
    Outcome {
        status: Status::Verified,
        code: None,
        description: String::new(),
        verdict: Some("verified".to_owned()),
        // A stand-in for the verify report (lookups do not read it; a verified job has one).
        report_json: Some(format!("{{\"service_load\":{i},\"verdict\":\"verified\"}}")),
        binary: Some(format!("\0asm seeded module {i}").into_bytes()),
        provenance: None,
        bundle: None,
        logs: format!("casper-repro service_load: seeded verification {i}\n"),
        contracts: vec![ContractRef {
            contract_hash: s.contract,
            package_hash: s.package,
            stored_sha256: s.wasm,
        }],
    }
}

/// Seeds `n` verified jobs, `seeders` at a time (each: submit one, claim one, complete it), and
/// returns the job id of each index.
async fn seed(store: &Store, n: usize, seeders: usize) -> Result<Vec<i64>, String> {
    let by_tx: Arc<HashMap<String, usize>> = Arc::new((0..n).map(|i| (seeded(i).tx, i)).collect());
    let mut tasks = tokio::task::JoinSet::new();
    for s in 0..seeders {
        let store = store.clone();
        let by_tx = Arc::clone(&by_tx);
        tasks.spawn(async move {
            let owner = format!("service-load-seeder-{s}");
            let mut ids = Vec::new();
            for i in (s..n).step_by(seeders) {
                let archive = format!("service-load archive {i}").into_bytes();
                let digest = key("source", i);
                let tx = seeded(i).tx;
                store
                    .submit(&NewJob {
                        tx_hash: &tx,
                        source_digest: &digest,
                        archive: &archive,
                        max_attempts: 3,
                        git: None,
                        toolchain: None,
                    })
                    .await
                    .map_err(|e| format!("seeding: {e}"))?;
                // On PostgreSQL a claim skips the rows other claims hold locked (`SKIP
                // LOCKED`), so it may find nothing for a moment although a job waits: poll, as a
                // worker does.
                let mut tries = 0;
                let claimed = loop {
                    let c = store
                        .claim(&owner, Duration::from_secs(3600))
                        .await
                        .map_err(|e| format!("seeding: {e}"))?;
                    match c {
                        Some(c) => break c,
                        None if tries < 500 => {
                            tries += 1;
                            tokio::time::sleep(Duration::from_millis(2)).await;
                        }
                        None => {
                            return Err(
                                "seeding: no job to claim after a submission (1 s of polling)"
                                    .to_owned(),
                            );
                        }
                    }
                };
                let j = *by_tx
                    .get(&claimed.tx_hash)
                    .ok_or("seeding: claimed a job that was not seeded")?;
                let done = store
                    .complete(claimed.id, &owner, &outcome(j))
                    .await
                    .map_err(|e| format!("seeding: {e}"))?;
                if !done {
                    return Err(format!(
                        "seeding: job {} could not be completed",
                        claimed.id
                    ));
                }
                ids.push((j, claimed.id));
            }
            Ok::<_, String>(ids)
        });
    }
    let mut ids = vec![0i64; n];
    while let Some(r) = tasks.join_next().await {
        for (j, id) in r.map_err(|e| format!("seeding task: {e}"))?? {
            ids[j] = id;
        }
    }
    if ids.contains(&0) {
        return Err("seeding: some index got no job".to_owned());
    }
    Ok(ids)
}

/// splitmix64.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transaction,
    Contract,
    Package,
    Wasm,
    Status,
    Job,
    Verified,
}

const KINDS: [(Kind, &str, u32); 7] = [
    (Kind::Transaction, "lookup/transaction", 15),
    (Kind::Contract, "lookup/contract", 15),
    (Kind::Package, "lookup/package", 15),
    (Kind::Wasm, "lookup/wasm", 15),
    (Kind::Status, "verification status", 15),
    (Kind::Job, "jobs/{id}", 15),
    (Kind::Verified, "verified list", 10),
];

#[derive(Debug)]
struct Request {
    kind: Kind,
    path: String,
    status: u16,
    /// A string the answer's body must contain.
    needle: String,
}

/// `count` requests drawn by `rng` over the seeded jobs (`ids[i]`: job of index i).
fn plan(rng: &mut Rng, count: usize, ids: &[i64]) -> Vec<Request> {
    let total: u32 = KINDS.iter().map(|k| k.2).sum();
    let max_id = ids.iter().copied().max().unwrap_or(0);
    (0..count)
        .map(|_| {
            let mut pick = (rng.next() % u64::from(total)) as u32;
            let kind = KINDS
                .iter()
                .find(|k| {
                    if pick < k.2 {
                        true
                    } else {
                        pick -= k.2;
                        false
                    }
                })
                .map(|k| k.0)
                .unwrap_or(Kind::Verified);
            let miss = kind != Kind::Verified && rng.below(10) == 0;
            let i = rng.below(ids.len());
            let s = seeded(i);
            let hit = |path: String, needle: &str| Request {
                kind,
                path,
                status: 200,
                needle: needle.to_owned(),
            };
            let missed = |path: String, needle: &str| Request {
                kind,
                path,
                status: 404,
                needle: needle.to_owned(),
            };
            let absent = key("absent", rng.below(1 << 20));
            match (kind, miss) {
                (Kind::Transaction, false) => {
                    hit(format!("/api/v1/lookup/transaction/{}", s.tx), &s.tx)
                }
                (Kind::Contract, false) => {
                    hit(format!("/api/v1/lookup/contract/{}", s.contract), &s.tx)
                }
                (Kind::Package, false) => {
                    hit(format!("/api/v1/lookup/package/{}", s.package), &s.tx)
                }
                (Kind::Wasm, false) => hit(format!("/api/v1/lookup/wasm/{}", s.wasm), &s.tx),
                (Kind::Status, false) => hit(
                    format!("/verification/{}/status", s.tx),
                    "\"status\":\"Verified\"",
                ),
                (Kind::Job, false) => hit(format!("/api/v1/jobs/{}", ids[i]), &s.contract),
                (Kind::Verified, _) => {
                    let limit = 1 + rng.below(50);
                    hit(
                        format!("/api/v1/verified?limit={limit}&before={}", ids[i] + 1),
                        &s.tx,
                    )
                }
                (Kind::Transaction, true) => missed(
                    format!("/api/v1/lookup/transaction/{absent}"),
                    "ContractNotFound",
                ),
                (Kind::Contract, true) => missed(
                    format!("/api/v1/lookup/contract/{absent}"),
                    "ContractNotFound",
                ),
                (Kind::Package, true) => missed(
                    format!("/api/v1/lookup/package/{absent}"),
                    "ContractNotFound",
                ),
                (Kind::Wasm, true) => {
                    missed(format!("/api/v1/lookup/wasm/{absent}"), "ContractNotFound")
                }
                (Kind::Status, true) => {
                    missed(format!("/verification/{absent}/status"), "ContractNotFound")
                }
                (Kind::Job, true) => missed(
                    format!("/api/v1/jobs/{}", max_id + 1 + rng.below(1000) as i64),
                    "NotFound",
                ),
            }
        })
        .collect()
}

/// The running `casper-repro serve`; stopped (SIGTERM, then SIGKILL) when dropped.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start(database: &str, node: &str, data: &std::path::Path) -> Result<Server, String> {
        let log = data.join("serve.log");
        let stderr =
            std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let bin = env!("CARGO_BIN_EXE_casper-repro");
        let mut child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--workers", "0"])
            .arg("--database")
            .arg(database)
            .arg("--node")
            .arg(node)
            .arg("--data")
            .arg(data)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("starting {bin}: {e}"))?;
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let prefix = "casper-repro serve: listening on ";
        let base = match read {
            Ok(_) if line.starts_with(prefix) => line[prefix.len()..].trim().to_owned(),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!(
                    "casper-repro serve did not start (first line: {:?}); its stderr:\n{log_text}",
                    line.trim()
                ));
            }
        };
        Ok(Server {
            child,
            base,
            log,
            _stdout: stdout,
        })
    }

    fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "casper-repro serve exited during the run ({status}); its stderr:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            )),
            Err(e) => Err(format!("checking on casper-repro serve: {e}")),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answered request: its kind and latency in nanoseconds.
type Sample = (Kind, u64);

/// Runs `requests` from a shared cursor on one keep-alive connection until they are all taken.
fn drive(
    agent: &ureq::Agent,
    base: &str,
    requests: &[Request],
    cursor: &AtomicUsize,
    abort: &AtomicBool,
    samples: &mut Vec<Sample>,
) -> Result<(), String> {
    loop {
        if abort.load(Ordering::Relaxed) {
            return Ok(());
        }
        let n = cursor.fetch_add(1, Ordering::Relaxed);
        let Some(r) = requests.get(n) else {
            return Ok(());
        };
        let url = format!("{base}{}", r.path);
        let start = Instant::now();
        let mut response = agent
            .get(&url)
            .call()
            .map_err(|e| format!("GET {}: {e}", r.path))?;
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("GET {}: reading the answer: {e}", r.path))?;
        let elapsed = start.elapsed();
        let status = response.status().as_u16();
        if status != r.status || !body.contains(&r.needle) {
            return Err(format!(
                "GET {}: expected {} with `{}` in the body, got {status}: {}",
                r.path,
                r.status,
                r.needle,
                body.chars().take(400).collect::<String>()
            ));
        }
        samples.push((r.kind, elapsed.as_nanos() as u64));
    }
}

#[derive(Debug)]
struct Measured {
    requests: usize,
    elapsed: Duration,
    samples: Vec<Sample>,
}

/// The bounded client: `warmup` then `requests` (measured) over `connections` connections.
fn load(
    base: &str,
    connections: usize,
    warmup: Vec<Request>,
    requests: Vec<Request>,
) -> Result<Measured, String> {
    let warmup = Arc::new(warmup);
    let requests = Arc::new(requests);
    let cursors = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let abort = Arc::new(AtomicBool::new(false));
    let failure: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let barrier = Arc::new(Barrier::new(connections + 1));
    let mut threads = Vec::new();
    for _ in 0..connections {
        let (base, warmup, requests, cursors, abort, failure, barrier) = (
            base.to_owned(),
            Arc::clone(&warmup),
            Arc::clone(&requests),
            Arc::clone(&cursors),
            Arc::clone(&abort),
            Arc::clone(&failure),
            Arc::clone(&barrier),
        );
        threads.push(std::thread::spawn(move || {
            // One agent per thread, keeping one idle connection: each thread is one keep-alive
            // connection.
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .max_idle_connections(1)
                .max_idle_connections_per_host(1)
                .build()
                .into();
            let fail = |e: String| {
                abort.store(true, Ordering::Relaxed);
                failure.lock().expect("failure lock").get_or_insert(e);
            };
            let mut ignored = Vec::new();
            if let Err(e) = drive(&agent, &base, &warmup, &cursors.0, &abort, &mut ignored) {
                fail(e);
            }
            barrier.wait();
            let mut samples = Vec::with_capacity(requests.len() / connections + 1);
            if let Err(e) = drive(&agent, &base, &requests, &cursors.1, &abort, &mut samples) {
                fail(e);
            }
            samples
        }));
    }
    barrier.wait();
    let start = Instant::now();
    let mut samples = Vec::with_capacity(requests.len());
    for t in threads {
        samples.extend(
            t.join()
                .map_err(|_| "a client thread panicked".to_owned())?,
        );
    }
    let elapsed = start.elapsed();
    if let Some(e) = failure.lock().expect("failure lock").take() {
        return Err(e);
    }
    if samples.len() != requests.len() {
        return Err(format!(
            "{} answers for {} requests",
            samples.len(),
            requests.len()
        ));
    }
    Ok(Measured {
        requests: samples.len(),
        elapsed,
        samples,
    })
}

/// Nearest-rank percentile of sorted `v`.
fn pct(v: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn ms(ns: u64) -> String {
    format!("{:.2} ms", ns as f64 / 1e6)
}

/// One backend's figures.
#[derive(Debug)]
struct Report {
    backend: Backend,
    seed_time: Duration,
    requests: usize,
    misses: usize,
    elapsed: Duration,
    p: [u64; 4],
    table: String,
}

fn latency_row(name: &str, v: &mut [u64]) -> (String, [u64; 4]) {
    v.sort_unstable();
    let p = [
        pct(v, 50.0),
        pct(v, 90.0),
        pct(v, 99.0),
        *v.last().expect("a sample"),
    ];
    (
        format!(
            "  {name:<20} {:>7} {:>10} {:>10} {:>10} {:>10}\n",
            v.len(),
            ms(p[0]),
            ms(p[1]),
            ms(p[2]),
            ms(p[3])
        ),
        p,
    )
}

fn run_backend(
    rt: &tokio::runtime::Runtime,
    backend: Backend,
    db: &TestDb,
    args: &Args,
) -> Result<Report, String> {
    let name = backend.name();
    eprintln!(
        "{name}: seeding {} verified contracts ({} at a time)…",
        args.contracts, args.seeders
    );
    let started = Instant::now();
    let ids = rt.block_on(seed(&db.store, args.contracts, args.seeders))?;
    let seed_time = started.elapsed();
    rt.block_on(db.store.close());
    eprintln!("{name}: seeded in {:.1} s", seed_time.as_secs_f64());

    // The node: a port that is listened on and never answered. Any connection to it is an error.
    let node = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("binding a port: {e}"))?;
    node.set_nonblocking(true)
        .map_err(|e| format!("binding a port: {e}"))?;
    let node_url = format!(
        "http://{}/rpc",
        node.local_addr().map_err(|e| e.to_string())?
    );
    let data = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
    let mut server = Server::start(&db.url, &node_url, data.path())?;
    eprintln!("{name}: casper-repro serve at {}", server.base);

    let mut rng = Rng(SEED);
    let warmup = plan(&mut rng, args.warmup, &ids);
    let requests = plan(&mut rng, args.requests, &ids);
    let misses = requests.iter().filter(|r| r.status == 404).count();
    let measured = load(&server.base, args.connections, warmup, requests)?;
    server.check_running()?;
    match node.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok(_) => return Err("the service connected to the node during lookups".to_owned()),
        Err(e) => return Err(format!("checking the node's port: {e}")),
    }
    drop(server);

    let mut all: Vec<u64> = measured.samples.iter().map(|s| s.1).collect();
    let mut table = format!(
        "  {:<20} {:>7} {:>10} {:>10} {:>10} {:>10}\n",
        "", "count", "p50", "p90", "p99", "max"
    );
    let (row, p) = latency_row("all", &mut all);
    table.push_str(&row);
    for (kind, label, _) in KINDS {
        let mut v: Vec<u64> = measured
            .samples
            .iter()
            .filter(|s| s.0 == kind)
            .map(|s| s.1)
            .collect();
        if !v.is_empty() {
            table.push_str(&latency_row(label, &mut v).0);
        }
    }
    Ok(Report {
        backend,
        seed_time,
        requests: measured.requests,
        misses,
        elapsed: measured.elapsed,
        p,
        table,
    })
}

fn print_report(report: &Report, args: &Args) {
    let name = report.backend.name();
    let rps = report.requests as f64 / report.elapsed.as_secs_f64();
    println!(
        "{name}: {} verified contracts seeded in {:.1} s (Store: submit, claim, complete; {} at a time)",
        args.contracts,
        report.seed_time.as_secs_f64(),
        args.seeders
    );
    println!(
        "{name}: {} requests ({} of them misses, answered 404; {} warm-up ones not counted) over {} \
         keep-alive connections in {:.2} s: {rps:.0} requests/s; latency:",
        report.requests,
        report.misses,
        args.warmup,
        args.connections,
        report.elapsed.as_secs_f64()
    );
    print!("{}", report.table);
}

/// A fresh database on `backend`; PostgreSQL's failure (not reachable: how to start it) as an
/// error.
fn fresh_db(rt: &tokio::runtime::Runtime, backend: Backend) -> Result<TestDb, String> {
    // The test support panics with its explanation; show the explanation alone.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let db = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match backend {
        Backend::Sqlite => rt.block_on(testdb::sqlite()),
        Backend::Postgres => rt.block_on(testdb::postgres()),
    }));
    std::panic::set_hook(hook);
    db.map_err(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "the database could not be made".to_owned());
        format!("{}: {why}", backend.name())
    })
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("service_load: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<(), String> {
    let args = parse_args()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime: {e}"))?;
    // Every database first: a PostgreSQL that is not there fails the run before anything is
    // measured.
    let mut dbs = Vec::new();
    for &backend in &args.backends {
        match fresh_db(&rt, backend) {
            Ok(db) => dbs.push((backend, db)),
            Err(e) => {
                for (_, db) in dbs {
                    rt.block_on(db.drop());
                }
                return Err(e);
            }
        }
    }
    let mut reports = Vec::new();
    let mut failure = None;
    for (backend, db) in &dbs {
        match run_backend(&rt, *backend, db, &args) {
            Ok(report) => {
                print_report(&report, &args);
                reports.push(report);
            }
            Err(e) => {
                failure = Some(format!("{}: {e}", backend.name()));
                break;
            }
        }
    }
    for (_, db) in dbs {
        rt.block_on(db.drop());
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let mut summary = format!(
        "\n{:<9} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
        "backend", "seeding", "requests", "req/s", "p50", "p90", "p99", "max"
    );
    for r in &reports {
        let rps = r.requests as f64 / r.elapsed.as_secs_f64();
        let _ = writeln!(
            summary,
            "{:<9} {:>7.1} s {:>9} {:>10.0} {:>10} {:>10} {:>10} {:>10}",
            r.backend.name(),
            r.seed_time.as_secs_f64(),
            r.requests,
            rps,
            ms(r.p[0]),
            ms(r.p[1]),
            ms(r.p[2]),
            ms(r.p[3])
        );
    }
    print!("{summary}");
    Ok(())
}
