//! `casper-repro serve` and `casper-repro worker` end to end, driven by the real client: the
//! casper-client 5.0.1 crate's `verify_contract` (`clients/codeverifier-client`, installed by
//! `.ci/setup.sh`), against the service whose node is the loopback JSON-RPC server of the verify
//! tests, answering with a real 1.5.8 node's recorded answers for a deploy the real engine
//! executed (`testdata/rpc/node-1.5.8-deploy-multi_ep`).
//!
//! Expected values come from outside the service: the uploaded module's sha256 is the committed
//! fixture's (`testdata/wasm/multi_ep.wasm`, built by `testdata/contracts/build.sh`), the contract
//! and stored-Wasm hashes are the engine's (`engine.json`).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::Node;
use serde_json::Value;

#[path = "common/files.rs"]
mod files;
use files::copy_dir;
#[path = "common/tools.rs"]
mod tools;
use tools::{need, repo, tools};

const CASE: &str = "node-1.5.8-deploy-multi_ep";

fn load(path: &Path) -> Value {
    serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap()
}

fn case_dir() -> PathBuf {
    repo().join("testdata/rpc").join(CASE)
}

/// The deploy hash of the case, as a user would paste it.
fn deploy_hash() -> String {
    load(&case_dir().join("responses.json"))["transaction_hash"]["Deploy"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The loopback node, answering from the case's recorded calls.
fn node() -> Node {
    let bundle = load(&case_dir().join("responses.json"));
    Node::start(move |body| common::bundle_answer(&bundle, body))
}

/// A running `casper-repro serve` or `worker`; killed when dropped.
struct Proc {
    child: Child,
    /// `http://127.0.0.1:PORT` for a server.
    base: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_casper-repro"))
        .args(args)
        .env_remove("CASPER_NODE_RPC")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run casper-repro")
}

/// Starts `casper-repro serve` on a free port and waits for its address line.
fn serve(node: &str, data: &Path, cache: &Path, extra: &[&str]) -> Proc {
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--node",
        node,
        "--data",
        data.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let mut child = spawn(&args);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("casper-repro serve: listening on ")
        .unwrap_or_else(|| panic!("serve did not start: {line:?}"))
        .to_owned();
    Proc { child, base }
}

/// Starts `casper-repro worker` on `database`.
fn worker(node: &str, database: &str, data: &Path, cache: &Path) -> Proc {
    let child = spawn(&worker_args(node, database, data, cache, "6"));
    Proc {
        child,
        base: String::new(),
    }
}

/// `casper-repro worker`'s arguments: the database, the node, its directories and its lease.
fn worker_args<'a>(
    node: &'a str,
    database: &'a str,
    data: &'a Path,
    cache: &'a Path,
    lease: &'a str,
) -> Vec<&'a str> {
    vec![
        "worker",
        "--database",
        database,
        "--node",
        node,
        "--data",
        data.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
        "--lease",
        lease,
    ]
}

/// The real client: `verify_contract(hash, base, project)`.
fn client(base: &str, hash: &str, project: &Path) -> Output {
    let bin = need(
        tools().join("codeverifier-client/bin/codeverifier-client"),
        "cargo install --path clients/codeverifier-client --locked",
    );
    Command::new(bin)
        .args([base, hash, project.to_str().unwrap()])
        .output()
        .expect("run the client")
}

/// The details document the client parsed and printed.
fn client_details(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("DETAILS "))
        .unwrap_or_else(|| {
            panic!(
                "the client printed no details\nstdout: {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).unwrap()
}

/// A minimal HTTP/1.1 client (the service is a real server; this test needs no HTTP crate):
/// (status, body).
fn http(method: &str, url: &str, body: Option<(&str, &[u8])>) -> (u16, Vec<u8>) {
    try_http(method, url, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// [`http`], or `None` when the connection broke or the answer was not HTTP (a server killed in
/// the middle).
fn try_http(
    method: &str,
    url: &str,
    body: Option<(&str, &[u8])>,
) -> Result<(u16, Vec<u8>), String> {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = TcpStream::connect(host).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let (ctype, bytes) = body.unwrap_or(("text/plain", b""));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
        bytes.len()
    );
    s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(bytes).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the connection closed before an HTTP answer")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP status line")?;
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..end]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + n]);
        b = &b[end + 4 + n..];
    }
}

fn get_json(url: &str) -> (u16, Value) {
    let (status, body) = http("GET", url, None);
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|_| panic!("{url}: not JSON: {}", String::from_utf8_lossy(&body)));
    (status, v)
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// The build cache the tests share (kept in the target dir between runs: a cache hit never
/// changes the result, and `kill -9` below uses its own empty one).
fn shared_cache() -> PathBuf {
    repo().join("target/service-test-cache")
}

/// A copy of the fixture project (what a developer has on disk), without build outputs.
fn project(dir: &Path) -> PathBuf {
    let p = dir.join("project");
    copy_dir(&repo().join("testdata/contracts"), &p);
    p
}

/// The same project with one constant changed in the contract's source.
fn changed(p: &Path) {
    let lib = p.join("multi_ep/src/lib.rs");
    let src = fs_err::read_to_string(&lib).unwrap();
    let edited = src.replacen("v ^ 0x5a5a", "v ^ 0x5a5b", 1);
    assert_ne!(
        edited, src,
        "the fixture's source changed: pick another edit"
    );
    fs_err::write(&lib, edited).unwrap();
}

/// Waits until `url`'s status document says Verified or Failed.
fn wait_done(url: &str, limit: Duration) -> Value {
    let t = Instant::now();
    loop {
        let (code, v) = get_json(url);
        assert_eq!(code, 200, "{v}");
        if v["status"] == "Verified" || v["status"] == "Failed" {
            return v;
        }
        assert!(t.elapsed() < limit, "not finished after {limit:?}: {v}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The database's invariants hold (`Store::integrity`: no half-written submission or result,
/// no orphan blob; on SQLite also the file's own check).
fn assert_consistent(database: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = repro_service::store::Store::open(database).await.unwrap();
        assert_eq!(store.integrity().await.unwrap(), Vec::<String>::new());
        store.close().await;
    });
}

/// The flow both databases run: the real client verifies the right source, and reports a
/// failure with BytecodeMismatch for a changed one; the lookups, the report, the binary and the
/// logs follow.
fn client_flow(base: &str, work: &Path) {
    let hash = deploy_hash();
    let expected = load(&case_dir().join("engine.json"));
    let contract = expected["contracts"][0]["contract_hash"].as_str().unwrap();
    let package = expected["contracts"][0]["contract_package_hash"]
        .as_str()
        .unwrap();
    let stored = expected["contracts"][0]["stored_sha256"].as_str().unwrap();
    let upload_sha = sha256_hex(&fs_err::read(repo().join("testdata/wasm/multi_ep.wasm")).unwrap());

    // The right source: Verified.
    let right = project(&work.join("right"));
    let out = client(base, &hash, &right);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let details = client_details(&out);
    assert_eq!(details["status"], "Verified", "{details}");
    let (code, status) = get_json(&format!("{base}/verification/{hash}/status"));
    assert_eq!(
        (code, &status),
        (200, &serde_json::json!({"status": "Verified"}))
    );
    // The URIs the client got are served. The rebuilt module is the committed fixture, byte for
    // byte: the workspace build (all packages in one cargo invocation) differs in its name
    // section through feature unification, so the service rebuilt the matched package alone,
    // as the fixture was built (`-p multi_ep`), and kept that.
    let (code, binary) = http(
        "GET",
        details["result"]["binary_uri"].as_str().unwrap(),
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(sha256_hex(&binary), upload_sha);
    let (code, logs) = http("GET", details["result"]["logs_uri"].as_str().unwrap(), None);
    assert_eq!(code, 200);
    let logs = String::from_utf8(logs).unwrap();
    for want in [
        "toolchain 1.95.0: the project's pin",
        "target wasm32v1-none: named in the project's toolchain file",
        "recipe cargo",
        "the workspace build gave `verified-after-normalisation`; building `multi_ep` alone (-p)",
        "`multi_ep` built alone gives `verified`: kept",
        "stage 1  rebuild vs upload",
    ] {
        assert!(logs.contains(want), "logs lack {want:?}:\n{logs}");
    }

    // Lookups by every key.
    let mut job = None;
    for (kind, key) in [
        ("transaction", hash.as_str()),
        ("contract", contract),
        ("package", package),
        ("wasm", stored),
    ] {
        let (code, v) = get_json(&format!("{base}/api/v1/lookup/{kind}/{key}"));
        assert_eq!(code, 200, "{kind}: {v}");
        let id = v["verified"][0]["id"].as_i64().unwrap();
        assert_eq!(*job.get_or_insert(id), id);
    }
    let job = job.unwrap();
    let (code, report) = get_json(&format!("{base}/api/v1/jobs/{job}/report"));
    assert_eq!(code, 200);
    assert_eq!(report["kind"], "verify");
    assert_eq!(report["verdict"], "verified");
    assert_eq!(report["rebuild"]["package"], "multi_ep");
    assert_eq!(report["rebuild"]["a_sha256"], upload_sha);
    assert_eq!(report["contracts"][0]["stored_sha256"], stored);
    let (code, list) = get_json(&format!("{base}/api/v1/verified?limit=10"));
    assert_eq!(code, 200);
    assert_eq!(list["verified"][0]["id"], job);

    // The same source again: the same job, not a second build.
    let out = client(base, &hash, &right);
    assert_eq!(client_details(&out)["status"], "Verified");
    let (_, again) = get_json(&format!("{base}/api/v1/lookup/transaction/{hash}"));
    assert_eq!(again["verified"].as_array().unwrap().len(), 1);

    // A changed source: Failed, BytecodeMismatch.
    let wrong = project(&work.join("wrong"));
    changed(&wrong);
    let out = client(base, &hash, &wrong);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(client_details(&out)["status"], "Failed");
    let (_, status) = get_json(&format!("{base}/verification/{hash}/status"));
    assert_eq!(status["status"], "Failed");
    assert_eq!(status["error"]["code"], "BytecodeMismatch", "{status}");
    // The earlier verification still stands.
    let (code, _) = get_json(&format!("{base}/api/v1/lookup/contract/{contract}"));
    assert_eq!(code, 200);
}

/// The default database (a SQLite file under --data), one in-process worker.
#[test]
fn the_real_client_verifies_through_the_service_on_sqlite() {
    let node = node();
    let work = tempfile::tempdir().unwrap();
    let cache = shared_cache();
    let server = serve(&node.url, &work.path().join("data"), &cache, &[]);
    client_flow(&server.base, work.path());
    assert!(work.path().join("data/service.db").is_file());
    assert_consistent(&repro_service::service::sqlite_url(
        &work.path().join("data"),
    ));
}

/// PostgreSQL, with no worker in the server: two `casper-repro worker` processes share the
/// queue.
#[test]
fn the_real_client_verifies_through_the_service_on_postgres_with_separate_workers() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(repro_service::testdb::postgres());
    let node = node();
    let work = tempfile::tempdir().unwrap();
    let cache = shared_cache();
    let server = serve(
        &node.url,
        &work.path().join("data"),
        &cache,
        &["--database", &db.url, "--workers", "0"],
    );
    let _w1 = worker(&node.url, &db.url, &work.path().join("w1"), &cache);
    let _w2 = worker(&node.url, &db.url, &work.path().join("w2"), &cache);
    client_flow(&server.base, work.path());
    drop(server);
    assert_consistent(&db.url);
    rt.block_on(db.drop());
}

/// `kill -9` of the worker in the middle of a build: once its lease runs out, the other worker
/// takes the job over and finishes it; the job ends once, with one result.
#[test]
fn a_killed_worker_s_job_is_finished_by_another() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(repro_service::testdb::postgres());
    let node = node();
    let work = tempfile::tempdir().unwrap();
    let server = serve(
        &node.url,
        &work.path().join("data"),
        &work.path().join("cache0"),
        &["--database", &db.url, "--workers", "0"],
    );
    let hash = deploy_hash();
    let archive = tar_gz(&project(work.path()));
    let body = serde_json::json!({"hash": hash, "archive": base64(&archive)}).to_string();
    let (code, job) = http(
        "POST",
        &format!("{}/api/v1/jobs", server.base),
        Some(("application/json", body.as_bytes())),
    );
    assert_eq!(code, 202, "{}", String::from_utf8_lossy(&job));
    let job: Value = serde_json::from_slice(&job).unwrap();
    let id = job["id"].as_i64().unwrap();
    let job_url = format!("{}/api/v1/jobs/{id}", server.base);

    // The first worker (its own empty cache: a long build) claims it, and is killed mid-build.
    let mut first = worker(
        &node.url,
        &db.url,
        &work.path().join("w1"),
        &work.path().join("cache1"),
    );
    let t = Instant::now();
    loop {
        let (_, j) = get_json(&job_url);
        if j["status"] == "Pending" {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "never claimed: {j}");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let (_, j) = get_json(&job_url);
    assert_eq!(j["status"], "Pending", "killed before it finished: {j}");

    // The second worker takes it over after the lease (6 s) and finishes it.
    let _second = worker(&node.url, &db.url, &work.path().join("w2"), &shared_cache());
    let done = wait_done(
        &format!("{}/verification/{hash}/status", server.base),
        Duration::from_secs(900),
    );
    assert_eq!(done["status"], "Verified", "{done}");
    let (_, j) = get_json(&job_url);
    assert_eq!(j["attempts"], 2, "{j}");
    assert!(j["verdict"] == "verified", "{j}");
    let counts: Value = get_json(&format!("{}/healthz", server.base)).1;
    assert_eq!(
        counts["jobs"],
        serde_json::json!({"Verified": 1}),
        "{counts}"
    );
    drop(server);
    assert_consistent(&db.url);
    rt.block_on(db.drop());
}

/// `kill -9` of the server (SQLite default, its in-process worker) while requests are in flight:
/// one submission half-sent, others waiting on a slow node, and a job being built. Restarted on
/// the same data directory, the server finishes the job it had accepted (once), nothing of the
/// interrupted requests is stored, and the database's invariants hold.
#[test]
fn a_server_killed_mid_request_loses_nothing_and_half_writes_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let bundle = load(&case_dir().join("responses.json"));
    let slow = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let node = {
        let (slow, calls) = (Arc::clone(&slow), Arc::clone(&calls));
        Node::start(move |body| {
            if slow.load(Ordering::SeqCst) {
                calls.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(500));
            }
            common::bundle_answer(&bundle, body)
        })
    };
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let mut first = serve(
        &node.url,
        &data,
        &work.path().join("cache1"),
        &["--lease", "5"],
    );
    let hash = deploy_hash();
    let submit_body = |dir: &Path| {
        serde_json::json!({"hash": hash, "code_archive": base64(&tar_gz(dir))}).to_string()
    };

    // A job accepted before the crash, and being built when it comes (an empty cache: a long
    // build).
    let right = project(&work.path().join("right"));
    let (code, b) = http(
        "POST",
        &format!("{}/verification", first.base),
        Some(("application/json", submit_body(&right).as_bytes())),
    );
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&b));
    let status_url = |base: &str| format!("{base}/verification/{hash}/status");
    let t = Instant::now();
    while get_json(&status_url(&first.base)).1["status"] != "Pending" {
        assert!(t.elapsed() < Duration::from_secs(60), "never started");
        std::thread::sleep(Duration::from_millis(200));
    }

    // In flight at the crash: a body half-sent, and two submissions of other trees inside
    // their check on the (now slow) node.
    let host = first.base.strip_prefix("http://").unwrap().to_owned();
    let mut half = TcpStream::connect(&host).unwrap();
    let body = submit_body(&right);
    write!(
        half,
        "POST /verification HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    half.write_all(&body.as_bytes()[..body.len() / 2]).unwrap();
    slow.store(true, Ordering::SeqCst);
    let mut inflight = Vec::new();
    for i in 0..2 {
        let dir = project(&work.path().join(format!("other{i}")));
        fs_err::write(dir.join(format!("NOTE-{i}.md")), "another tree").unwrap();
        let body = submit_body(&dir);
        let url = format!("{}/verification", first.base);
        inflight.push(std::thread::spawn(move || {
            // (status, body) when the server answered before it died.
            try_http("POST", &url, Some(("application/json", body.as_bytes()))).ok()
        }));
    }
    let t = Instant::now();
    while calls.load(Ordering::SeqCst) < 2 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the submissions never reached the node"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    slow.store(false, Ordering::SeqCst);
    let answered: Vec<_> = inflight
        .into_iter()
        .filter_map(|t| t.join().unwrap())
        .collect();
    assert!(
        answered.is_empty(),
        "the server answered a request it was killed in: {:?}",
        answered.iter().map(|(c, _)| c).collect::<Vec<_>>()
    );
    drop(half);

    // What the crash left: the accepted job, mid-build, and nothing else.
    let url = repro_service::service::sqlite_url(&data);
    assert_consistent(&url);

    // Restarted on the same data: the job is taken over once its lease runs out, and finished.
    let second = serve(&node.url, &data, &shared_cache(), &["--lease", "5"]);
    let done = wait_done(&status_url(&second.base), Duration::from_secs(900));
    assert_eq!(done["status"], "Verified", "{done}");
    let (_, health) = get_json(&format!("{}/healthz", second.base));
    assert_eq!(
        health["jobs"],
        serde_json::json!({"Verified": 1}),
        "{health}"
    );
    let (_, list) = get_json(&format!("{}/api/v1/lookup/transaction/{hash}", second.base));
    let jobs = list["verified"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{list}");
    assert_eq!(
        jobs[0]["attempts"], 2,
        "one interrupted attempt, one finished: {list}"
    );
    drop(second);
    assert_consistent(&url);
}

fn base64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A tar.gz of `dir`'s entries at the top level (as casper-client archives a project).
fn tar_gz(dir: &Path) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut t = tar::Builder::new(gz);
    t.append_dir_all(".", dir).unwrap();
    t.into_inner().unwrap().finish().unwrap()
}

/// Raw tar entries with names the tar crate's own setters refuse (`..`, absolute paths).
fn raw_tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// Every kind of bad submission gets its own 4xx/5xx JSON error naming the problem, and nothing
/// is stored.
#[test]
fn bad_submissions_are_refused_with_a_json_error_and_nothing_is_stored() {
    let node = node();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let server = serve(
        &node.url,
        &data,
        &work.path().join("cache"),
        &["--max-archive", "1", "--max-batch", "2"],
    );
    let hash = deploy_hash();
    let good = tar_gz(&project(work.path()));
    let post = |body: &[u8]| {
        let (code, b) = http(
            "POST",
            &format!("{}/verification", server.base),
            Some(("application/json", body)),
        );
        let v: Value = serde_json::from_slice(&b)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&b)));
        (
            code,
            v["error"]["code"].as_str().unwrap_or_default().to_owned(),
            v["error"]["description"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    let submit = |hash: &str, archive: &[u8]| {
        post(
            serde_json::json!({"hash": hash, "code_archive": base64(archive)})
                .to_string()
                .as_bytes(),
        )
    };
    // (what, the answer's (status, code, description), expected status, code, and a part of the
    // description)
    type Case<'a> = (&'a str, (u16, String, String), u16, &'a str, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "garbage JSON",
            post(b"{not json"),
            400,
            "BadRequest",
            "the body is not JSON (line 1, column 2)",
        ),
        (
            "a missing field",
            post(br#"{"hash": "00"}"#),
            400,
            "BadRequest",
            "missing field `code_archive`",
        ),
        (
            "a malformed hash",
            submit("deploy-xyz", &good),
            400,
            "InvalidHash",
            "is not a transaction hash",
        ),
        (
            "not base64",
            post(
                serde_json::json!({"hash": hash, "code_archive": "%%%"})
                    .to_string()
                    .as_bytes(),
            ),
            400,
            "WrongCodeArchive",
            "code_archive is not base64",
        ),
        (
            "not gzip",
            submit(&hash, b"PK\x03\x04zip"),
            400,
            "WrongCodeArchive",
            "not gzip-compressed",
        ),
        (
            "a path with ..",
            submit(&hash, &raw_tar_gz(&[("../evil.rs", b"x")])),
            400,
            "WrongCodeArchive",
            "archive entry `../evil.rs`: its path goes up with `..`",
        ),
        (
            "an absolute path",
            submit(&hash, &raw_tar_gz(&[("/etc/cron.d/x", b"x")])),
            400,
            "WrongCodeArchive",
            "archive entry `/etc/cron.d/x`: its path is absolute",
        ),
        (
            "a body over the limit",
            post(&vec![b' '; 3 << 20]),
            413,
            "WrongCodeArchive",
            "larger than this server accepts",
        ),
        (
            "an unknown transaction",
            submit(&"ab".repeat(32), &good),
            404,
            "ContractNotFound",
            "knows no deploy or transaction",
        ),
    ];
    for (what, (code, err, desc), want_code, want_err, want_desc) in cases {
        assert_eq!(
            (code, err.as_str()),
            (want_code, want_err),
            "{what}: {desc}"
        );
        assert!(desc.contains(want_desc), "{what}: {desc}");
        assert!(
            !desc.contains("serde") && !desc.contains("::"),
            "{what}: {desc}"
        );
    }
    // A decompression bomb: 64 MiB of zeros in 64 KiB, over the unpacked limit.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut h = tar::Header::new_gnu();
    h.set_size(600 << 20);
    h.set_mode(0o644);
    h.set_path("zeros").unwrap();
    h.set_cksum();
    bomb.write_all(h.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..600 {
        bomb.write_all(&zeros).unwrap();
    }
    let bomb = bomb.finish().unwrap();
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let (code, err, desc) = submit(&hash, &bomb);
    assert_eq!((code, err.as_str()), (413, "WrongCodeArchive"), "{desc}");
    assert!(desc.contains("decompression bomb"), "{desc}");

    // A git source on a server not allowed to fetch: 403, named.
    let (code, b) = http(
        "POST",
        &format!("{}/api/v1/jobs", server.base),
        Some((
            "application/json",
            serde_json::json!({"hash": hash, "git": {"url": "https://github.com/casper-ecosystem/cep18", "commit": "0".repeat(40)}})
                .to_string()
                .as_bytes(),
        )),
    );
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (403, Some("GitNotAllowed")),
        "{v}"
    );
    assert!(
        v["error"]["description"]
            .as_str()
            .unwrap()
            .contains("does not fetch sources from git"),
        "{v}"
    );

    // A batch with one bad job is refused whole, naming the job; nothing of the good ones is
    // stored.
    let batch = |jobs: Value| {
        let (code, b) = http(
            "POST",
            &format!("{}/api/v1/batches", server.base),
            Some((
                "application/json",
                serde_json::json!({"jobs": jobs}).to_string().as_bytes(),
            )),
        );
        (code, serde_json::from_slice::<Value>(&b).unwrap())
    };
    let good_job = serde_json::json!({"hash": hash, "archive": base64(&good)});
    let batch_cases = [
        (
            serde_json::json!([good_job, {"hash": "deploy-xyz", "archive": base64(&good)}]),
            400,
            "InvalidHash",
            "job 1 (`deploy-xyz`): ",
        ),
        (
            serde_json::json!([good_job, good_job, {"hash": "ab".repeat(32), "archive": base64(&good)}]),
            404,
            "ContractNotFound",
            &*format!("job 2 (`{}`): ", "ab".repeat(32)),
        ),
        (
            serde_json::json!([{"hash": hash, "archive": base64(b"not gzip")}]),
            400,
            "WrongCodeArchive",
            "job 0 (",
        ),
        (
            serde_json::json!([{"hash": hash}]),
            400,
            "BadRequest",
            "job 0 (",
        ),
        (
            serde_json::json!([]),
            400,
            "BadRequest",
            "the batch has no jobs",
        ),
    ];
    for (jobs, status, want_code, want) in batch_cases {
        let (code, v) = batch(jobs);
        assert_eq!(
            (code, v["error"]["code"].as_str()),
            (status, Some(want_code)),
            "{v}"
        );
        let d = v["error"]["description"].as_str().unwrap();
        assert!(d.contains(want), "{d}");
    }
    // A batch has its own body limit (--max-batch 2 MiB), above a single job's (--max-archive
    // 1 MiB): 1.8 MB is read (and is not JSON), 2.2 MB is refused unread.
    for (size, endpoint, status) in [
        (1_800_000, "jobs", 413),
        (1_800_000, "batches", 400),
        (2_200_000, "batches", 413),
    ] {
        let body = vec![b' '; size];
        let (code, b) = http(
            "POST",
            &format!("{}/api/v1/{endpoint}", server.base),
            Some(("application/json", &body)),
        );
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(code, status, "{size} bytes to {endpoint}: {v}");
    }
    let (code, v) = get_json(&format!("{}/api/v1/batches/1", server.base));
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (404, Some("NotFound")),
        "{v}"
    );
    let (code, v) = get_json(&format!("{}/api/v1/batches/one", server.base));
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (400, Some("BadRequest")),
        "{v}"
    );
    let out = common::casper_repro(&["batch", "/nonexistent/batch.toml", "--server", &server.base]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/batch.toml"), "{err}");

    // Unknown paths and lookups answer JSON too.
    let (code, v) = get_json(&format!(
        "{}/verification/{}/status",
        server.base,
        "cd".repeat(32)
    ));
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (404, Some("ContractNotFound"))
    );
    let (code, v) = get_json(&format!("{}/api/v1/lookup/contract/nothex", server.base));
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (400, Some("InvalidHash"))
    );
    let (code, v) = get_json(&format!("{}/no/such/endpoint", server.base));
    assert_eq!((code, v["error"]["code"].as_str()), (404, Some("NotFound")));

    // Nothing was stored.
    let (_, health) = get_json(&format!("{}/healthz", server.base));
    assert_eq!(health["jobs"], serde_json::json!({}), "{health}");
    assert_eq!(health["blobs"], 0, "{health}");
    drop(server);

    // A node that is down: 502, named.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/rpc", dead.local_addr().unwrap());
    drop(dead);
    let server = serve(
        &dead_url,
        &data,
        &work.path().join("cache"),
        &["--node-timeout", "2"],
    );
    let (code, b) = http(
        "POST",
        &format!("{}/verification", server.base),
        Some((
            "application/json",
            serde_json::json!({"hash": hash, "code_archive": base64(&good)})
                .to_string()
                .as_bytes(),
        )),
    );
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (502, Some("Internal")),
        "{v}"
    );
    assert!(
        v["error"]["description"]
            .as_str()
            .unwrap()
            .contains("did not answer"),
        "{v}"
    );
}

/// The pages in a real browser: Debian's chromium, headless, driven by puppeteer-core from the
/// npm registry (`.ci/tools/package-lock.json`) with JavaScript disabled in the pages. A user's
/// session through the submit form, the job's page, the source browser, a mismatch's causes and
/// an error page (`tests/browser/pages.mjs`); the screenshots are kept under
/// `target/test-output/pages/` and listed in the test's output. The outcome is checked again
/// through the API.
#[test]
fn the_pages_work_in_a_real_browser() {
    let chromium = need(
        PathBuf::from("/usr/bin/chromium"),
        "apt-get install chromium (Debian's package)",
    );
    let puppeteer = need(
        tools().join("npm/node_modules/puppeteer-core/package.json"),
        "npm ci in .ci/tools (puppeteer-core from the npm registry)",
    );
    let modules = puppeteer.parent().unwrap().parent().unwrap();
    let node = node();
    let work = tempfile::tempdir().unwrap();
    let server = serve(&node.url, &work.path().join("data"), &shared_cache(), &[]);
    let right = work.path().join("right.tar.gz");
    fs_err::write(&right, tar_gz(&project(&work.path().join("right")))).unwrap();
    let wrong_dir = project(&work.path().join("wrong"));
    changed(&wrong_dir);
    let wrong = work.path().join("wrong.tar.gz");
    fs_err::write(&wrong, tar_gz(&wrong_dir)).unwrap();
    let shots = repo().join("target/test-output/pages");
    let _ = fs_err::remove_dir_all(&shots);

    let out = Command::new("node")
        .arg(repo().join("crates/repro-cli/tests/browser/pages.mjs"))
        .args([chromium.as_path(), Path::new(&server.base)])
        .arg(deploy_hash())
        .args([&right, &wrong, &shots])
        .env("PUPPETEER_MODULES", modules)
        .output()
        .expect("node (Node.js, which .ci/setup.sh uses for npm) is missing");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser session failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();

    // Screenshots: real PNGs of a rendered page, one per step.
    let files = summary["screenshots"].as_array().unwrap();
    assert_eq!(files.len(), 8, "{summary}");
    for f in files {
        let png = fs_err::read(f.as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{f}");
        assert!(
            png.len() > 10_000,
            "{f}: {} bytes, an empty page?",
            png.len()
        );
        // The screenshots are part of the test's output, as the issue asks.
        #[allow(clippy::print_stdout)]
        {
            println!("screenshot: {}", f.as_str().unwrap());
        }
    }
    // What the browser saw is what the API says.
    for (job, status) in [("verified", "Verified"), ("mismatch", "Failed")] {
        let id = summary["jobs"][job].as_i64().unwrap();
        let (_, j) = get_json(&format!("{}/api/v1/jobs/{id}", server.base));
        assert_eq!(j["status"], status, "{j}");
    }
    let batch = summary["batch"].as_i64().unwrap();
    let (_, b) = get_json(&format!("{}/api/v1/batches/{batch}", server.base));
    assert_eq!(
        (&b["verified"], &b["failed"], &b["done"]),
        (&1.into(), &1.into(), &true.into()),
        "{b}"
    );
}

/// A `git daemon` on loopback exporting the bare repositories under a directory; killed when
/// dropped.
struct GitDaemon {
    child: Child,
    /// `git://127.0.0.1:PORT/`
    base: String,
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn git_daemon(root: &Path) -> GitDaemon {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("git")
        .arg("daemon")
        .arg("--export-all")
        .arg("--reuseaddr")
        .arg("--informative-errors")
        .arg("--listen=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", root.display()))
        .arg(root)
        .stderr(Stdio::null())
        .spawn()
        .expect("git daemon (Debian's git package)");
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "git daemon never listened"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    GitDaemon {
        child,
        base: format!("git://127.0.0.1:{port}/"),
    }
}

/// Git sources on a server allowed to fetch them: a real `git daemon` on loopback serves a
/// repository whose `contracts/` directory is the fixture project. The fetched tree is the
/// uploaded one (the same source digest: the same job), it verifies, and what the policy or the
/// repository refuses is named.
#[test]
fn git_sources_are_fetched_where_allowed_and_refused_elsewhere() {
    let node = node();
    let work = tempfile::tempdir().unwrap();
    // The developer's repository, pushed to a server.
    let checkout = work.path().join("checkout");
    copy_dir(
        &repo().join("testdata/contracts"),
        &checkout.join("contracts"),
    );
    fs_err::write(checkout.join("README.md"), "a contract\n").unwrap();
    git(work.path(), &["init", "-q", checkout.to_str().unwrap()]);
    git(&checkout, &["add", "-A"]);
    git(&checkout, &["commit", "-q", "-m", "contract"]);
    let commit = git(&checkout, &["rev-parse", "HEAD"]);
    let served = work.path().join("served");
    fs_err::create_dir_all(&served).unwrap();
    git(
        &served,
        &[
            "clone",
            "-q",
            "--bare",
            checkout.to_str().unwrap(),
            "project.git",
        ],
    );
    let daemon = git_daemon(&served);
    let url = format!("{}project.git", daemon.base);

    let server = serve(
        &node.url,
        &work.path().join("data"),
        &shared_cache(),
        &["--allow-git", &daemon.base, "--git-timeout", "60"],
    );
    let hash = deploy_hash();
    let post = |body: Value| {
        let (code, b) = http(
            "POST",
            &format!("{}/api/v1/jobs", server.base),
            Some(("application/json", body.to_string().as_bytes())),
        );
        let v: Value = serde_json::from_slice(&b)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&b)));
        (code, v)
    };
    let git_body = |url: &str, commit: &str, path: Option<&str>| serde_json::json!({"hash": hash, "git": {"url": url, "commit": commit, "path": path}});

    let (code, job) = post(git_body(&url, &commit, Some("contracts")));
    assert_eq!(code, 202, "{job}");
    assert_eq!(
        job["git"],
        serde_json::json!({"url": url, "commit": commit, "path": "contracts"})
    );
    // The same project uploaded: the same tree, so the same job.
    let upload = tar_gz(&checkout.join("contracts"));
    let (code, same) = post(serde_json::json!({"hash": hash, "archive": base64(&upload)}));
    assert_eq!((code, &same["id"]), (200, &job["id"]), "{same}");
    assert_eq!(same["source_digest"], job["source_digest"]);
    let done = wait_done(
        &format!("{}/verification/{hash}/status", server.base),
        Duration::from_secs(900),
    );
    assert_eq!(done["status"], "Verified", "{done}");
    let (_, page) = http("GET", &format!("{}/jobs/{}", server.base, job["id"]), None);
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains(&commit) && page.contains(&url), "{page}");

    // Refused, each with its reason.
    let missing = "0".repeat(40);
    for (body, want_code, want_err, want_desc) in [
        (
            git_body("git://127.0.0.1:1/other.git", &commit, None),
            403,
            "GitNotAllowed",
            "is not under a repository prefix this server may fetch from",
        ),
        (
            git_body(&url, "main", None),
            400,
            "WrongCodeArchive",
            "`main` is not a full commit hash",
        ),
        (
            git_body(&url, &missing, None),
            422,
            "GitFetchFailed",
            "failed",
        ),
        (
            git_body(&url, &commit, Some("nowhere")),
            400,
            "WrongCodeArchive",
            "has no directory `nowhere`",
        ),
        (
            git_body(&url, &commit, Some("../..")),
            400,
            "WrongCodeArchive",
            "must be relative, inside the repository",
        ),
        (
            git_body(&format!("{}missing.git", daemon.base), &commit, None),
            422,
            "GitFetchFailed",
            "missing.git",
        ),
    ] {
        let (code, v) = post(body.clone());
        assert_eq!(
            (code, v["error"]["code"].as_str().unwrap_or_default()),
            (want_code, want_err),
            "{body}: {v}"
        );
        let desc = v["error"]["description"].as_str().unwrap();
        assert!(desc.contains(want_desc), "{body}: {desc}");
    }
    let (_, health) = get_json(&format!("{}/healthz", server.base));
    assert_eq!(
        health["jobs"],
        serde_json::json!({"Verified": 1}),
        "{health}"
    );
    drop(server);
    assert_consistent(&repro_service::service::sqlite_url(
        &work.path().join("data"),
    ));
}

// ---------------------------------------------------------------------------------------------
// Batches across workers.

/// The transactions of the batch: three installs a real 1.5.8 node recorded (the engine's
/// answers), each from a fixture contract of `testdata/contracts`.
const BATCH_CASES: [(&str, &str); 3] = [
    ("node-1.5.8-deploy-multi_ep", "multi_ep"),
    ("node-1.5.8-deploy-two_contracts", "two_contracts"),
    ("node-1.5.8-deploy-upgrade", "upgrade_v2"),
];

/// One loopback node answering for all three transactions (their calls differ by hash; the
/// chainspec they share is the same 1.5.8 one).
fn batch_node() -> Node {
    let mut calls = Vec::new();
    for (case, _) in BATCH_CASES {
        let b = load(
            &repo()
                .join("testdata/rpc")
                .join(case)
                .join("responses.json"),
        );
        calls.extend(b["calls"].as_array().unwrap().iter().cloned());
    }
    let bundle = serde_json::json!({ "calls": calls });
    Node::start(move |body| common::bundle_answer(&bundle, body))
}

/// The fixture workspace cut down to the batch's three contracts, with its lockfile trimmed by
/// cargo to match (no version changes): every variant shares this lock, as contracts built from
/// one template do.
fn slim_workspace(dir: &Path) -> PathBuf {
    let src = repo().join("testdata/contracts");
    let p = dir.join("slim");
    for member in ["fixture-support", "multi_ep", "two_contracts", "upgrade_v2"] {
        copy_dir(&src.join(member), &p.join(member));
    }
    for f in ["Cargo.lock", "rust-toolchain.toml"] {
        fs_err::copy(src.join(f), p.join(f)).unwrap();
    }
    let manifest = fs_err::read_to_string(src.join("Cargo.toml")).unwrap();
    let start = manifest.find("members = [").unwrap();
    let end = start + manifest[start..].find(']').unwrap() + 1;
    let members =
        "members = [\"fixture-support\", \"multi_ep\", \"two_contracts\", \"upgrade_v2\"]";
    fs_err::write(
        p.join("Cargo.toml"),
        format!("{}{members}{}", &manifest[..start], &manifest[end..]),
    )
    .unwrap();
    // `cargo update --workspace` drops the entries of the removed members and changes no
    // version (offline when the index cache allows it).
    let trim = |offline: bool| {
        let mut c = Command::new("cargo");
        c.args(["+1.95.0", "update", "--workspace"]).current_dir(&p);
        if offline {
            c.arg("--offline");
        }
        c.output().expect("cargo")
    };
    let mut out = trim(true);
    if !out.status.success() {
        out = trim(false);
    }
    assert!(
        out.status.success(),
        "trimming the lock: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lock = fs_err::read_to_string(p.join("Cargo.lock")).unwrap();
    assert!(
        lock.contains("name = \"casper-contract\"\nversion = \"4.0.0\"")
            && !lock.contains("multi_ep_cc5"),
        "the trimmed lock: {lock}"
    );
    p
}

/// A worker whose log (info level) goes to `log`.
fn logged_worker(
    node: &str,
    database: &str,
    data: &Path,
    cache: &Path,
    log: &Path,
    extra: &[&str],
) -> Proc {
    let mut args = worker_args(node, database, data, cache, "5");
    args.extend_from_slice(extra);
    let child = Command::new(env!("CARGO_BIN_EXE_casper-repro"))
        .args(&args)
        .env_remove("CASPER_NODE_RPC")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(fs_err::File::create(log).unwrap().into_parts().0)
        .spawn()
        .expect("run casper-repro worker");
    Proc {
        child,
        base: String::new(),
    }
}

/// The processes below `pid`: (pid, command name), from `/proc`.
fn descendants(pid: u32) -> Vec<(u32, String)> {
    let mut parent_of = Vec::new();
    for e in fs_err::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may hold spaces, so split after the last `)`.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let ppid: u32 = stat[close + 2..]
            .split(' ')
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        parent_of.push((p, ppid, comm));
    }
    let mut out: Vec<(u32, String)> = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for (p, pp, comm) in &parent_of {
            if *pp == parent {
                out.push((*p, comm.clone()));
                frontier.push(*p);
            }
        }
    }
    out
}

/// The process is still there under the same command name (not a reused pid).
fn alive((pid, comm): &(u32, String)) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.contains(&format!("({comm})")) && !s.contains(") Z "))
}

/// The job ids a worker's log says it finished (`job finished` lines, written only after the
/// result was stored under the worker's lease).
fn finished_in_log(log: &Path) -> Vec<i64> {
    job_ids_in(log, "job finished")
}

fn job_ids_in(log: &Path, event: &str) -> Vec<i64> {
    fs_err::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(event))
        .filter_map(|l| {
            let rest = &l[l.find("job=")? + 4..];
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

/// A batch of 21 jobs (three recorded installs, seven source trees each; one of the seven
/// changes a constant, so it must fail as a mismatch) queued with `casper-repro batch`, verified by
/// two worker processes sharing one PostgreSQL. One worker is killed (`kill -9`) mid-run while it
/// holds a job; a third joins. Every job ends exactly once: one `job finished` in all the
/// workers' logs together, the killed worker's job on its second attempt, every other on its
/// first, and the database's invariants hold.
///
/// Expected verdicts come from the fixtures: the unchanged trees build the committed modules
/// (`verified`), the changed ones cannot.
#[test]
fn a_batch_is_verified_once_by_two_workers_when_one_is_killed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(repro_service::testdb::postgres());
    let node = batch_node();
    let work = tempfile::tempdir().unwrap();
    let server = serve(
        &node.url,
        &work.path().join("data"),
        &work.path().join("cache-server"),
        &["--database", &db.url, "--workers", "0"],
    );

    // 7 trees per transaction; in each the comment at the end of the contract's source differs
    // (the bytes do not), and tree 6 changes a constant of the contract the transaction installed.
    let slim = slim_workspace(work.path());
    let mut batch = String::from("name = \"fixtures\"\n");
    for (t, (case, contract)) in BATCH_CASES.iter().enumerate() {
        let hash = load(
            &repo()
                .join("testdata/rpc")
                .join(case)
                .join("responses.json"),
        )["transaction_hash"]["Deploy"]
            .as_str()
            .unwrap()
            .to_owned();
        for v in 0..7 {
            let dir = work.path().join(format!("src-{t}-{v}"));
            copy_dir(&slim, &dir);
            let lib = dir.join(contract).join("src/lib.rs");
            let mut text = fs_err::read_to_string(&lib).unwrap();
            text.push_str(&format!("// batch tree {t}-{v}\n"));
            if v == 6 {
                let (from, to) = changed_constant(contract);
                assert!(
                    text.contains(from),
                    "the fixture {contract} changed: pick another edit"
                );
                text = text.replacen(from, to, 1);
            }
            fs_err::write(&lib, text).unwrap();
            batch.push_str(&format!(
                "[[job]]\ntransaction = \"deploy-{hash}\"\nsource = \"src-{t}-{v}\"\n"
            ));
        }
    }
    let file = work.path().join("batch.toml");
    fs_err::write(&file, &batch).unwrap();
    let queued = common::casper_repro(&[
        "batch",
        file.to_str().unwrap(),
        "--server",
        &server.base,
        "--no-wait",
        "--format",
        "json",
    ]);
    assert_eq!(
        queued.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&queued.stderr)
    );
    let doc: Value = serde_json::from_slice(&queued.stdout).unwrap();
    assert_eq!(
        (doc["total"].as_u64(), doc["remaining"].as_u64()),
        (Some(21), Some(21)),
        "{doc}"
    );
    let id = doc["id"].as_i64().unwrap();
    let job_ids: Vec<i64> = doc["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .collect();

    // Two workers share the database, the build cache directory and the compile cache.
    let cache = work.path().join("cache");
    let logs: Vec<PathBuf> = (1..=3)
        .map(|i| work.path().join(format!("w{i}.log")))
        .collect();
    let data = |i: usize| work.path().join(format!("w{i}"));
    let compile_cache = work.path().join("compile-cache");
    let shared = [
        "--compile-cache",
        compile_cache.to_str().unwrap(),
        "--compile-cache-write",
    ];
    let mut w1 = logged_worker(&node.url, &db.url, &data(1), &cache, &logs[0], &shared);
    let w2 = logged_worker(&node.url, &db.url, &data(2), &cache, &logs[1], &shared);

    // Kill the first worker once it has finished a job and holds another, mid-build (its
    // sandbox, bubblewrap, is running).
    let t = Instant::now();
    let held = loop {
        let finished = finished_in_log(&logs[0]);
        let held: Vec<i64> = job_ids_in(&logs[0], "job claimed")
            .into_iter()
            .filter(|j| !finished.contains(j))
            .collect();
        let building = descendants(w1.child.id())
            .iter()
            .any(|(_, comm)| comm == "bwrap");
        if !finished.is_empty() && !held.is_empty() && building {
            break held;
        }
        assert!(
            t.elapsed() < Duration::from_secs(600),
            "worker 1 was never seen building after finishing a job"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let sandboxed = descendants(w1.child.id());
    w1.child.kill().unwrap();
    w1.child.wait().unwrap();
    // Its build dies with it (the sandbox is killed with its parent): none of its processes is
    // left running a stranger's code.
    let t = Instant::now();
    while sandboxed.iter().any(alive) {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "the killed worker's build outlived it: {:?}",
            sandboxed.iter().filter(|p| alive(p)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The newcomer only reads the compile cache.
    let w3 = logged_worker(&node.url, &db.url, &data(3), &cache, &logs[2], &shared[..2]);

    // Follow the batch to the end, as a user would (a second submission of the same list is the
    // same jobs: nothing is queued twice).
    let out = common::casper_repro(&[
        "batch",
        file.to_str().unwrap(),
        "--server",
        &server.base,
        "--poll",
        "1",
        "--timeout",
        "1200",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "some jobs fail: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("18 verified · 3 failed · 0 remaining"),
        "{text}"
    );
    drop((w2, w3));

    let (_, done) = get_json(&format!("{}/api/v1/batches/{id}", server.base));
    assert_eq!(done["done"], true, "{done}");
    for (i, j) in done["jobs"].as_array().unwrap().iter().enumerate() {
        assert_eq!(j["id"].as_i64(), Some(job_ids[i]), "the same jobs: {j}");
        if i % 7 == 6 {
            assert_eq!(j["status"], "Failed", "{j}");
            assert_eq!(j["error"]["code"], "BytecodeMismatch", "{j}");
        } else {
            assert_eq!(
                (&j["status"], &j["verdict"]),
                (&"Verified".into(), &"verified".into()),
                "{j}"
            );
        }
        let attempts = if held.contains(&job_ids[i]) { 2 } else { 1 };
        assert_eq!(j["attempts"], attempts, "{j}");
    }
    // Exactly once: each job finished by one worker, once.
    let mut finished: Vec<i64> = logs.iter().flat_map(|l| finished_in_log(l)).collect();
    finished.sort();
    let mut want = job_ids.clone();
    want.sort();
    assert_eq!(finished, want, "`job finished` lines of the three workers");
    let by_killed = finished_in_log(&logs[0]);
    assert!(
        by_killed.iter().all(|j| !held.contains(j)),
        "{by_killed:?} {held:?}"
    );

    // The compile cache served the builds after the first ones (each job's logs say what it
    // restored), and changed no byte: the verified jobs' modules are the committed fixtures'.
    let mut restored = 0;
    for (i, j) in done["jobs"].as_array().unwrap().iter().enumerate() {
        let (_, job) = get_json(&format!("{}/api/v1/jobs/{}", server.base, j["id"]));
        let (_, logs) = http(
            "GET",
            &format!("{}{}", server.base, job["links"]["logs"].as_str().unwrap()),
            None,
        );
        restored += usize::from(String::from_utf8_lossy(&logs).contains("compile cache: restored"));
        if i % 7 != 6 {
            let (_, binary) = http(
                "GET",
                &format!(
                    "{}{}",
                    server.base,
                    job["links"]["binary"].as_str().unwrap()
                ),
                None,
            );
            let session = load(
                &repo()
                    .join("testdata/rpc")
                    .join(BATCH_CASES[i / 7].0)
                    .join("engine.json"),
            )["session_sha256"]
                .clone();
            assert_eq!(serde_json::json!(sha256_hex(&binary)), session, "job {i}");
        }
    }
    assert!(restored >= 15, "compile cache restores: {restored} of 21");

    // The page shows the same.
    let (code, page) = http("GET", &format!("{}/batches/{id}", server.base), None);
    let page = String::from_utf8_lossy(&page);
    assert_eq!(code, 200);
    assert!(
        page.contains("21 of 21 finished") && page.contains("<td id=\"failed\">3</td>"),
        "{page}"
    );
    assert!(
        !page.contains("http-equiv=\"refresh\""),
        "a finished batch does not refresh"
    );
    drop(server);
    assert_consistent(&db.url);
    rt.block_on(db.drop());
}

/// An edit of the contract `contract` in an entry point it installs (so the stored module
/// changes).
fn changed_constant(contract: &str) -> (&'static str, &'static str) {
    match contract {
        "multi_ep" => ("v ^ 0x5a5a", "v ^ 0x5a5b"),
        "two_contracts" => (
            "storage::add(counter(), 1u64)",
            "storage::add(counter(), 2u64)",
        ),
        "upgrade_v2" => (
            "storage::add(counter(), 2u64)",
            "storage::add(counter(), 3u64)",
        ),
        other => panic!("no edit for {other}"),
    }
}
