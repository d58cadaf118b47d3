//! `casper-repro verify` and `fetch` end to end, against a real HTTP JSON-RPC server on loopback
//! that serves the node answers in `testdata/rpc/`: responses serialised with casper-types for
//! installs the real execution engines executed (`oracles/ee-7.0.3` `rpc-ee-7-0-3`: node 1.5.8;
//! `oracles/ee-8.1.1` `rpc-ee-8-1-1`: node 2.0.3 sidecar). Expected values come from the engine's
//! own report next to each bundle (`engine.json`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::{Node, casper_repro};

use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rpc_dir() -> PathBuf {
    root().join("testdata/rpc")
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(rpc_dir())
        .expect("testdata/rpc exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("responses.json").is_file())
        .collect();
    v.sort();
    assert!(
        v.len() >= 6,
        "expected the 1.5 and 2.x bundles in testdata/rpc"
    );
    v
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hash_of(bundle: &Value) -> String {
    bundle["transaction_hash"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// Runs `args` with `--format json`, requires exit `code` and returns the JSON document.
fn json_report(args: &[&str], code: i32) -> Value {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    let out = casper_repro(&args);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
    stdout_json(&out)
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An error: exit 2, and stderr says `needle`.
fn expect_error(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
}

/// How the loopback node behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Answers from the bundle; unknown methods get -32601, unknown params -32000.
    Faithful,
    /// HTTP 500 to everything.
    Status500,
    /// `200 OK` with a body that is not JSON.
    Garbage,
    /// Never answers within the client's time limit.
    Hang,
}

/// A JSON-RPC server on 127.0.0.1 answering from a bundle's recorded calls.
fn serve(bundle: Value, behaviour: Behaviour) -> Node {
    Node::start(move |body| match behaviour {
        Behaviour::Status500 => (500, "internal error".into()),
        Behaviour::Garbage => (200, "<html>not json</html>".into()),
        Behaviour::Hang => {
            std::thread::sleep(Duration::from_millis(2500));
            (200, "{}".into())
        }
        Behaviour::Faithful => common::bundle_answer(&bundle, body),
    })
}

/// (contract hash, sorted entry points, stored sha256) of each contract in a JSON list.
fn contracts_of(list: &Value) -> Vec<(String, Vec<String>, String)> {
    let mut v: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut eps: Vec<String> = c["entry_points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_owned())
                .collect();
            eps.sort();
            (
                c["contract_hash"].as_str().unwrap().to_owned(),
                eps,
                c["stored_sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Every contract the engine reported.
fn engine_contracts(case: &Path) -> Vec<(String, Vec<String>, String)> {
    contracts_of(&load(&case.join("engine.json"))["contracts"])
}

/// Every contract a verify report names.
fn report_contracts(report: &Value) -> Vec<(String, Vec<String>, String)> {
    contracts_of(&report["install"]["contracts"])
}

#[test]
fn every_engine_install_self_checks_through_a_loopback_node() {
    for case in cases() {
        let bundle = load(&case.join("responses.json"));
        let hash = hash_of(&bundle);
        let node = serve(bundle, Behaviour::Faithful);
        let out = casper_repro(&["verify", "--node", &node.url, &hash, "--format", "json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            case.display(),
            stderr(&out)
        );
        let report = stdout_json(&out);
        assert_eq!(report["schema_version"], 3);
        assert_eq!(report["verdict"], "replay-verified", "{}", case.display());
        assert_eq!(
            report_contracts(&report),
            engine_contracts(&case),
            "{}: contracts, entry points and stored bytes as the engine reported them",
            case.display()
        );
        let engine = load(&case.join("engine.json"));
        assert_eq!(report["install"]["block"]["hash"], engine["block_hash"]);
        assert_eq!(
            report["install"]["block"]["state_root_hash"],
            engine["state_root_hash"]
        );
        assert_eq!(
            report["install"]["transaction"]["session_sha256"],
            engine["session_sha256"]
        );
        for check in report["install"]["checks"].as_array().unwrap() {
            // No --trusted-block: finality by weight is not decided (tests/finality.rs).
            let expected = if check["check"] == "finality" {
                "not-possible"
            } else {
                "passed"
            };
            assert_eq!(check["status"], expected, "{}: {check}", case.display());
        }
        for c in report["contracts"].as_array().unwrap() {
            for stage in c["stages"].as_array().unwrap() {
                assert_eq!(stage["outcome"], "identical", "{}", case.display());
            }
        }
    }
}

#[test]
fn fetch_saves_a_bundle_that_verifies_offline() {
    let case = rpc_dir().join("sidecar-2.0.3-v1-two_contracts");
    let bundle = load(&case.join("responses.json"));
    let hash = hash_of(&bundle);
    let node = serve(bundle, Behaviour::Faithful);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bundle");
    let out = casper_repro(&[
        "fetch",
        "--node",
        &node.url,
        &hash,
        "-o",
        dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    drop(node);
    let mut doc = stdout_json(&out);
    doc["bundle"] = "[BUNDLE]".into();
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("fetch_json", doc);
    });
    let engine = load(&case.join("engine.json"));
    let sha = |p: &Path| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
    };
    assert_eq!(sha(&dir.join("session.wasm")), engine["session_sha256"]);
    for (contract, _, stored) in engine_contracts(&case) {
        assert_eq!(
            sha(&dir.join("stored").join(format!("{contract}.wasm"))),
            stored
        );
    }
    // Offline, the node gone: the bundle alone re-checks every commitment.
    let report = json_report(&["verify", "--bundle", dir.to_str().unwrap()], 0);
    assert_eq!(report["verdict"], "replay-verified");
    assert_eq!(report_contracts(&report), engine_contracts(&case));
}

#[test]
fn reports_are_snapshotted() {
    for name in [
        "node-1.5.8-deploy-two_contracts",
        "sidecar-2.0.3-v1-two_contracts",
    ] {
        let dir = rpc_dir().join(name);
        let out = casper_repro(&["verify", "--bundle", dir.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        insta::assert_snapshot!(format!("text_{name}"), String::from_utf8_lossy(&out.stdout));
        let out = casper_repro(&[
            "verify",
            "--bundle",
            dir.to_str().unwrap(),
            "--format",
            "json",
        ]);
        insta::with_settings!({sort_maps => true}, {
            insta::assert_json_snapshot!(format!("json_{name}"), stdout_json(&out));
        });
    }
}

#[test]
fn a_wrong_protocol_version_fails_stage_2_with_the_metering_cause() {
    let dir = rpc_dir().join("node-1.5.8-deploy-multi_ep");
    let report = json_report(
        &[
            "verify",
            "--bundle",
            dir.to_str().unwrap(),
            "--protocol",
            "1.5.2",
        ],
        1,
    );
    assert_eq!(report["verdict"], "mismatch");
    let stage = &report["contracts"][0]["stages"][0];
    assert_eq!(stage["stage"], "replay-upload-vs-stored");
    assert_eq!(stage["outcome"], "different");
    // Mainnet 1.5.2 and 1.5.8 differ in control-flow costs and nothing else the module uses.
    assert_eq!(stage["causes"][0]["kind"], "metering_constants", "{stage}");
    // The report names the tables that fit the stored module and the command to rerun with. The
    // engine that executed this install ran protocol 1.5.8 (its own report in engine.json).
    let engine = load(&dir.join("engine.json"));
    let engine_protocol = engine["protocol"].as_str().unwrap();
    let rerun = &report["rerun"];
    let fitting: Vec<&str> = rerun["fitting_protocols"]
        .as_array()
        .unwrap_or_else(|| panic!("no rerun hint: {report}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(fitting.contains(&engine_protocol), "{rerun}");
    assert!(!fitting.contains(&"1.5.2"), "{rerun}");
    assert_eq!(rerun["suggested_protocol"], engine_protocol, "{rerun}");
    let command = rerun["command"].as_str().unwrap();
    assert!(
        command.ends_with(&format!("--protocol {engine_protocol}")) && !command.contains("1.5.2"),
        "{command}"
    );
    // Running the suggested command (minus the program name; it keeps `--format json`) verifies.
    let words: Vec<&str> = command.split(' ').skip(1).collect();
    let out = casper_repro(&words);
    assert_eq!(out.status.code(), Some(0), "{command}: {}", stderr(&out));
    let rerun_report = stdout_json(&out);
    assert_eq!(rerun_report["verdict"], "replay-verified", "{rerun_report}");
    let text = casper_repro(&[
        "verify",
        "--bundle",
        dir.to_str().unwrap(),
        "--protocol",
        "1.5.2",
    ]);
    assert_eq!(text.status.code(), Some(1));
    let text = String::from_utf8_lossy(&text.stdout).replace(dir.to_str().unwrap(), "[BUNDLE]");
    insta::assert_snapshot!("text_wrong_protocol", text);
}

/// Replaces the first occurrence of `from` by `to` in every string of `v` (recursively).
fn replace_in(v: &mut Value, from: &str, to: &str) -> usize {
    match v {
        Value::String(s) if s.contains(from) => {
            *s = s.replacen(from, to, 1);
            1
        }
        Value::Array(a) => a.iter_mut().map(|x| replace_in(x, from, to)).sum(),
        Value::Object(o) => o.values_mut().map(|x| replace_in(x, from, to)).sum(),
        _ => 0,
    }
}

#[test]
fn a_tampered_stored_module_is_untrusted_and_differs() {
    for name in [
        "node-1.5.8-deploy-multi_ep",
        "sidecar-2.0.3-deploy-multi_ep",
    ] {
        let case = rpc_dir().join(name);
        let mut bundle = load(&case.join("responses.json"));
        // The stored module's export section names `inc`; rename it `inx` wherever the stored
        // bytes appear (state answer and its merkle proof; 2.x effects too).
        let stored_hex = {
            let engine = load(&case.join("engine.json"));
            let sha = engine["contracts"][0]["stored_sha256"]
                .as_str()
                .unwrap()
                .to_owned();
            std::fs::read(root().join(format!("testdata/oracle/blobs/{sha}.wasm")))
                .map(hex::encode)
                .expect("the engine's stored blob")
        };
        let tampered = stored_hex.replacen(&hex::encode(b"\x03inc"), &hex::encode(b"\x03inx"), 1);
        assert_ne!(tampered, stored_hex);
        let n = replace_in(&mut bundle, &stored_hex, &tampered);
        assert!(n >= 2, "{name}: stored bytes found in {n} places");
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("responses.json"), bundle.to_string()).unwrap();
        let out = casper_repro(&[
            "verify",
            "--bundle",
            tmp.path().to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let report = stdout_json(&out);
        assert_eq!(report["verdict"], "untrusted", "{name}");
        let failed: Vec<&Value> = report["install"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "failed")
            .collect();
        assert!(
            failed
                .iter()
                .any(|c| c["check"].as_str().unwrap().starts_with("merkle-proof")),
            "{name}: {failed:?}"
        );
        let stage = &report["contracts"][0]["stages"][0];
        assert_eq!(stage["outcome"], "different", "{name}");
        assert_eq!(
            stage["causes"][0]["kind"], "exports_differ",
            "{name}: {stage}"
        );
    }
}

#[test]
fn transaction_json_self_checks_a_2x_answer_alone() {
    let case = rpc_dir().join("sidecar-2.0.3-v1-two_contracts");
    let bundle = load(&case.join("responses.json"));
    let answer = &bundle["calls"][0];
    assert_eq!(answer["method"], "info_get_transaction");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("tx.json");
    let response = json!({"jsonrpc": "2.0", "id": 1, "result": answer["result"]});
    std::fs::write(&file, response.to_string()).unwrap();
    let report = json_report(&["verify", "--transaction-json", file.to_str().unwrap()], 0);
    assert_eq!(report["verdict"], "replay-verified");
    assert_eq!(report_contracts(&report), engine_contracts(&case));
    // Without the block and the state answers nothing is proven, and the report says so.
    let statuses: Vec<&str> = report["install"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"not-possible"), "{statuses:?}");
    for c in report["install"]["contracts"].as_array().unwrap() {
        assert_eq!(c["proven"], false);
    }
}

#[test]
fn transaction_json_of_a_1x_answer_needs_the_state() {
    let case = rpc_dir().join("node-1.5.8-deploy-multi_ep");
    let bundle = load(&case.join("responses.json"));
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("deploy.json");
    std::fs::write(&file, bundle["calls"][0]["result"].to_string()).unwrap();
    let out = casper_repro(&["verify", "--transaction-json", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("the 1.x effects name the contract but do not carry it")
            && err.contains("--node URL"),
        "{err}"
    );
}

/// Runs `fetch` against a node and requires a clear error: exit 2, stderr naming every one of
/// `needles`, and nothing left in the output's parent directory.
fn fetch_fails(node: &Node, hash: &str, extra: &[&str], needles: &[&str], snapshot: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bundle");
    let mut args = vec![
        "fetch",
        "--node",
        &node.url,
        hash,
        "-o",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = casper_repro(&args);
    for needle in needles {
        expect_error(&out, needle);
    }
    let err = stderr(&out).replace(&node.url, "[NODE]");
    for rust in ["::", "FailedToMap", "Error(", "line: 0"] {
        assert!(!err.contains(rust), "{rust:?} in the error: {err}");
    }
    insta::assert_snapshot!(snapshot, err);
    let leftovers = std::fs::read_dir(tmp.path()).unwrap().count();
    assert_eq!(leftovers, 0, "something was written: {}", stderr(&out));
}

#[test]
fn faults_are_clear_errors_with_exit_2_and_nothing_written() {
    let case = rpc_dir().join("node-1.5.8-deploy-multi_ep");
    let bundle = load(&case.join("responses.json"));
    let hash = hash_of(&bundle);

    let node = serve(bundle.clone(), Behaviour::Status500);
    fetch_fails(
        &node,
        &hash,
        &["--retries", "1"],
        &["HTTP 500", "after 2 attempt(s)"],
        "fault_http_500",
    );

    let node = serve(bundle.clone(), Behaviour::Garbage);
    fetch_fails(&node, &hash, &[], &["not JSON"], "fault_garbage");

    let node = serve(bundle.clone(), Behaviour::Hang);
    fetch_fails(
        &node,
        &hash,
        &["--timeout", "1", "--retries", "0"],
        &["timed out"],
        "fault_hang",
    );

    // Unknown hash.
    let node = serve(bundle.clone(), Behaviour::Faithful);
    let unknown = "ab".repeat(32);
    fetch_fails(
        &node,
        &unknown,
        &[],
        &["knows no deploy or transaction"],
        "fault_unknown_hash",
    );
    drop(node);

    // A valid answer for another transaction.
    let other = load(&rpc_dir().join("node-1.5.8-deploy-two_contracts/responses.json"));
    let mut wrong = bundle.clone();
    wrong["calls"][0]["result"] = other["calls"][0]["result"].clone();
    let node = serve(wrong, Behaviour::Faithful);
    fetch_fails(
        &node,
        &hash,
        &[],
        &["but the answer is about"],
        "fault_wrong_transaction",
    );
    drop(node);

    // A truncated hex string: the session's module bytes lose their last digit.
    let mut truncated = bundle.clone();
    let mb =
        &mut truncated["calls"][0]["result"]["deploy"]["session"]["ModuleBytes"]["module_bytes"];
    let s = mb.as_str().unwrap().to_owned();
    *mb = Value::String(s[..s.len() - 1].to_owned());
    let node = serve(truncated, Behaviour::Faithful);
    fetch_fails(
        &node,
        &hash,
        &[],
        &["`deploy.session.ModuleBytes.module_bytes` has an odd number of hex digits"],
        "fault_truncated_hex",
    );
    drop(node);

    // A node that is not there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = casper_repro(&[
        "verify",
        "--node",
        &format!("http://127.0.0.1:{port}"),
        &hash,
        "--retries",
        "0",
    ]);
    expect_error(&out, "did not answer");
}

#[test]
fn garbage_bundles_and_arguments_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("responses.json"), "{not json").unwrap();
    let out = casper_repro(&["verify", "--bundle", tmp.path().to_str().unwrap()]);
    expect_error(&out, "is not a casper-repro bundle");

    let out = casper_repro(&[
        "verify",
        "--node",
        "http://127.0.0.1:1",
        "not-a-hash-or-dir",
    ]);
    expect_error(&out, "neither a crate directory nor a transaction hash");

    let hash = "ab".repeat(32);
    let out = casper_repro(&["verify", "--node", "127.0.0.1:7777", &hash]);
    expect_error(&out, "`127.0.0.1:7777` is not an http:// or https:// URL");
}

/// The three stages with a real rebuild of the fixture crate (Rust 1.95.0, `wasm32v1-none`,
/// installed by `.ci/setup.sh`), one cache shared by the builds of this test.
#[test]
fn rebuilds_from_source_verify_or_say_which_stage_fails() {
    let bundle = rpc_dir().join("node-1.5.8-deploy-multi_ep");
    let contracts = root().join("testdata/contracts");
    let cache = tempfile::tempdir().unwrap();
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            contracts.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--target",
            "wasm32v1-none",
            "--cache-dir",
            cache.path().to_str().unwrap(),
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = casper_repro(&args);
        let report = stdout_json(&out);
        (out.status.code(), report, stderr(&out))
    };
    // Stage 1 (one per transaction), then the contract's stages 2 and 3.
    let stages = |r: &Value| -> Vec<String> {
        std::iter::once(&r["rebuild"])
            .chain(r["contracts"][0]["stages"].as_array().unwrap())
            .map(|s| {
                format!(
                    "{} {}",
                    s["stage"].as_str().unwrap(),
                    s["outcome"].as_str().unwrap()
                )
            })
            .collect()
    };

    // The source of the uploaded session: verified, every stage exact.
    let (code, r, err) = verify(&["-p", "multi_ep"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(r["verdict"], "verified");
    assert_eq!(r["rebuild"]["package"], "multi_ep");
    assert_eq!(
        stages(&r),
        [
            "rebuild-vs-upload identical",
            "replay-upload-vs-stored identical",
            "replay-rebuild-vs-stored identical"
        ]
    );

    // The same source, stripped: 1.5.8 keeps a name section, so only a named normalisation
    // (custom sections) separates the rebuild's replay from the stored module.
    let (code, r, err) = verify(&["-p", "multi_ep", "--strip", "custom"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(r["verdict"], "verified-after-normalisation");
    assert_eq!(
        stages(&r),
        [
            "rebuild-vs-upload identical-after-normalisation",
            "replay-upload-vs-stored identical",
            "replay-rebuild-vs-stored identical-after-normalisation"
        ]
    );

    // Another package of the workspace: a build difference, found at stage 1, while stage 2
    // still reproduces the node; that module does not even export the stored entry points, so
    // the node would have refused to install it (stage 3 is a rejection, with the node's reason).
    let (code, r, err) = verify(&["-p", "two_contracts"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(r["verdict"], "mismatch");
    assert_eq!(
        stages(&r),
        [
            "rebuild-vs-upload different",
            "replay-upload-vs-stored identical",
            "replay-rebuild-vs-stored replay-rejected"
        ]
    );
    let stage3 = &r["contracts"][0]["stages"][1];
    assert!(
        stage3["error"].as_str().unwrap().contains("dispatch"),
        "{stage3}"
    );
    let summary = r["summary"].as_str().unwrap();
    assert!(summary.contains("a build difference"), "{summary}");

    // --toolchain auto: the upload's producers section names rustc 1.95.0, the toolchain the
    // fixtures were built with (testdata/README.md), and the rebuild with it verifies.
    let (code, r, err) = verify(&["-p", "multi_ep", "--toolchain", "auto"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(r["verdict"], "verified");
    let tc = &r["toolchain"];
    assert_eq!(tc["kind"], "inferred", "{tc}");
    assert_eq!(tc["inferred"]["toolchain"], "1.95.0", "{tc}");
    assert_eq!(tc["inferred"]["from"], "producers", "{tc}");
    assert_eq!(
        tc["inferred"]["evidence"],
        "processed-by: rustc 1.95.0 (59807616e 2026-04-14)"
    );
}

/// Odra end to end: testdata/odra-cep18's MyToken, built by the real cargo-odra 0.1.8 with
/// binaryen 132 (the committed session, checked against cargo-odra by tests/odra.rs), installed by
/// the real engine 8.1.1 with Odra's install args (`oracles/ee-8.1.1`), fetched through a loopback
/// node and verified from the Odra project: every stage exact, the matching artifact named.
#[test]
fn an_odra_cep18_installed_by_the_engine_verifies_from_its_source() {
    let case = rpc_dir().join("sidecar-2.0.3-v1-odra_cep18");
    let bundle = load(&case.join("responses.json"));
    let hash = hash_of(&bundle);
    let node = serve(bundle, Behaviour::Faithful);
    let project = root().join("testdata/odra-cep18");
    let cache = tempfile::tempdir().unwrap();
    let r = json_report(
        &[
            "verify",
            project.to_str().unwrap(),
            "--node",
            &node.url,
            &hash,
            "--cache-dir",
            cache.path().to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(r["verdict"], "verified", "{}", r["summary"]);
    assert_eq!(r["rebuild"]["package"], "odra_cep18");
    assert_eq!(r["rebuild"]["artifact"], "MyToken.wasm");
    assert_eq!(r["rebuild"]["outcome"], "identical");
    assert_eq!(
        report_contracts(&r),
        engine_contracts(&case),
        "the contract, entry points and stored bytes the engine reported"
    );
    let stages: Vec<&str> = r["contracts"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["identical", "identical"]);
}

/// A contract installed by a stored contract (factory): the caller is resolved through the
/// account's named key at the executing block (a two-hop merkle proof), and stage 2 replays the
/// caller's proven stored bytes without a second preprocessing.
#[test]
fn factory_installs_replay_the_callers_proven_stored_bytes() {
    for name in ["node-1.5.8-deploy-factory", "sidecar-2.0.3-deploy-factory"] {
        let case = rpc_dir().join(name);
        let engine = load(&case.join("engine.json"));
        let bundle = load(&case.join("responses.json"));
        let node = serve(bundle.clone(), Behaviour::Faithful);
        let out = casper_repro(&[
            "verify",
            "--node",
            &node.url,
            &hash_of(&bundle),
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let report = stdout_json(&out);
        assert_eq!(report["verdict"], "replay-verified", "{name}");
        assert_eq!(report_contracts(&report), engine_contracts(&case), "{name}");
        let installer = &report["install"]["installer"];
        assert_eq!(installer["kind"], "stored-contract", "{name}");
        assert_eq!(installer["named_key"], "factory_contract", "{name}");
        assert_eq!(
            installer["contract_hash"], engine["caller"]["contract_hash"],
            "{name}"
        );
        assert_eq!(
            installer["stored_sha256"], engine["caller"]["stored_sha256"],
            "{name}"
        );
        assert_eq!(installer["proven"], true, "{name}");
        assert!(report["install"]["transaction"]["session_sha256"].is_null());
        for check in report["install"]["checks"].as_array().unwrap() {
            let expected = if check["check"] == "finality" {
                "not-possible"
            } else {
                "passed"
            };
            assert_eq!(check["status"], expected, "{name}: {check}");
        }
        // With a source there is no uploaded session to rebuild: the user is told what to verify.
        let contracts = root().join("testdata/contracts");
        let out = casper_repro(&[
            "verify",
            contracts.to_str().unwrap(),
            "--bundle",
            case.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(
            stderr(&out).contains("verify the factory's own install transaction"),
            "{}",
            stderr(&out)
        );
    }
}

/// Writes a modified copy of a bundle and runs `verify --bundle` on it.
fn verify_modified(case: &str, modify: impl FnOnce(&mut Value)) -> Output {
    let mut bundle = load(&rpc_dir().join(case).join("responses.json"));
    modify(&mut bundle);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("responses.json"), bundle.to_string()).unwrap();
    casper_repro(&["verify", "--bundle", tmp.path().to_str().unwrap()])
}

#[test]
fn executions_that_store_nothing_are_clear_errors() {
    // A failed execution (the node's 1.x result shape): nothing was stored.
    let out = verify_modified("node-1.5.8-deploy-multi_ep", |b| {
        let r = &mut b["calls"][0]["result"]["execution_results"][0]["result"];
        let success = r["Success"].take();
        *r = json!({"Failure": {
            "effect": success["effect"],
            "transfers": [],
            "cost": success["cost"],
            "error_message": "Out of gas error"
        }});
    });
    expect_error(
        &out,
        "failed in execution, so it stored nothing: Out of gas error",
    );

    // An execution whose effects write no contract.
    let out = verify_modified("node-1.5.8-deploy-multi_ep", |b| {
        let t = &mut b["calls"][0]["result"]["execution_results"][0]["result"]["Success"]["effect"]
            ["transforms"];
        let kept: Vec<Value> = t
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| {
                !x["transform"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("WriteContract"))
            })
            .cloned()
            .collect();
        *t = Value::Array(kept);
    });
    expect_error(&out, "installed no contract");

    // Not executed yet.
    let out = verify_modified("sidecar-2.0.3-deploy-multi_ep", |b| {
        for c in b["calls"].as_array_mut().unwrap() {
            if c["method"] == "info_get_transaction" || c["method"] == "info_get_deploy" {
                c["result"]["execution_info"] = Value::Null;
            }
        }
    });
    expect_error(&out, "has not been executed");

    // State no longer available (a 1.x node that pruned it): the effects only name the keys.
    let out = verify_modified("node-1.5.8-deploy-multi_ep", |b| {
        b["calls"]
            .as_array_mut()
            .unwrap()
            .retain(|c| c["method"] != "query_global_state");
    });
    expect_error(&out, "is not available");
}

/// A rebuild made in another directory (CARGO_HOME remapped to /home/alice/.cargo, a real build,
/// testdata/pairs/real.md): stage 1 fails alone with the embedded-path cause and the remap that
/// fixes it, while the replay of the upload still reproduces the node; the upload itself, given as
/// the rebuild, verifies.
#[test]
fn a_rebuild_from_another_path_fails_stage_1_with_the_remap_that_fixes_it() {
    let bundle = rpc_dir().join("sidecar-2.0.3-deploy-sign_ext");
    let alice = root().join("testdata/pairs/real/sign_ext_cc5@remap-alice.wasm");
    let r = json_report(
        &[
            "verify",
            "--wasm",
            alice.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
        ],
        1,
    );
    assert_eq!(r["verdict"], "mismatch");
    let stage1 = &r["rebuild"];
    assert_eq!(stage1["stage"], "rebuild-vs-upload");
    assert_eq!(stage1["outcome"], "different");
    assert_eq!(stage1["causes"][0]["kind"], "build_paths", "{stage1}");
    assert_eq!(
        stage1["causes"][0]["remaps"][0]["from"],
        "/home/alice/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f"
    );
    assert_eq!(r["rebuild"]["package"], alice.to_str().unwrap());
    let stage2 = &r["contracts"][0]["stages"][0];
    assert_eq!(stage2["stage"], "replay-upload-vs-stored");
    assert_eq!(stage2["outcome"], "identical");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("a build difference")
    );

    let upload = root().join("testdata/wasm/sign_ext_cc5.wasm");
    let r = json_report(
        &[
            "verify",
            "--wasm",
            upload.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(r["verdict"], "verified");
}

#[test]
fn a_forged_block_signature_is_untrusted() {
    let out = verify_modified("sidecar-2.0.3-deploy-multi_ep", |b| {
        for c in b["calls"].as_array_mut().unwrap() {
            if c["method"] == "chain_get_block" {
                let sig = &mut c["result"]["block_with_signatures"]["proofs"][0]["signature"];
                let s = sig.as_str().unwrap().to_owned();
                // Flip the last hex digit of the signature.
                let last = if s.ends_with('0') { "1" } else { "0" };
                *sig = Value::String(format!("{}{last}", &s[..s.len() - 1]));
            }
        }
    });
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAILED        block-signatures"), "{text}");
    assert!(text.contains("UNTRUSTED"), "{text}");
}

#[test]
fn verify_from_a_node_can_save_its_bundle_and_reads_the_node_from_the_environment() {
    let case = rpc_dir().join("node-1.5.8-deploy-upgrade");
    let bundle = load(&case.join("responses.json"));
    let hash = hash_of(&bundle);
    let node = serve(bundle, Behaviour::Faithful);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("saved");
    let out = Command::new(env!("CARGO_BIN_EXE_casper-repro"))
        .args(["verify", &hash, "--save-bundle", dir.to_str().unwrap()])
        .env("CASPER_NODE_RPC", &node.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    drop(node);
    let report = json_report(&["verify", "--bundle", dir.to_str().unwrap()], 0);
    assert_eq!(report_contracts(&report), engine_contracts(&case));
}

/// A standalone cdylib crate in `dir/c`, pinned by `pin` (none: no pin file).
fn tiny_crate(dir: &Path, pin: Option<&str>) -> PathBuf {
    let c = dir.join("c");
    fs_err::create_dir_all(c.join("src")).unwrap();
    fs_err::write(
        c.join("Cargo.toml"),
        "[package]\nname = \"c\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[lib]\ncrate-type = [\"cdylib\"]\n[workspace]\n",
    )
    .unwrap();
    fs_err::write(
        c.join("src/lib.rs"),
        "#![no_std]\n#[panic_handler]\nfn p(_: &core::panic::PanicInfo) -> ! { loop {} }\n#[no_mangle]\npub extern \"C\" fn call() {}\n",
    )
    .unwrap();
    fs_err::write(
        c.join("Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"c\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    if let Some(pin) = pin {
        fs_err::write(c.join("rust-toolchain"), format!("{pin}\n")).unwrap();
    }
    c
}

/// A source that pins no toolchain is refused, with what --toolchain auto would use; one that
/// pins only `stable` is built with today's stable and the report says that this is not
/// reproducible, with the same suggestion. The upload (multi_ep) was built by rustc 1.95.0
/// (testdata/README.md).
#[test]
fn unreproducible_pins_suggest_toolchain_auto() {
    let bundle = rpc_dir().join("node-1.5.8-deploy-multi_ep");
    let d = tempfile::tempdir().unwrap();
    let c = tiny_crate(d.path(), None);
    let out = casper_repro(&[
        "verify",
        c.to_str().unwrap(),
        "--bundle",
        bundle.to_str().unwrap(),
        "--cache-dir",
        d.path().join("cache").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out)
        .replace(d.path().to_str().unwrap(), "[TEMP]")
        .replace(bundle.to_str().unwrap(), "[BUNDLE]");
    insta::assert_snapshot!("error_no_toolchain_pin_suggests_auto", err);

    let d = tempfile::tempdir().unwrap();
    let c = tiny_crate(d.path(), Some("stable"));
    let report = json_report(
        &[
            "verify",
            c.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--cache-dir",
            d.path().join("cache").to_str().unwrap(),
        ],
        1,
    );
    let tc = &report["toolchain"];
    assert_eq!(tc["kind"], "moving-pin", "{tc}");
    assert_eq!(tc["pin"], "stable");
    assert_eq!(tc["pin_file"], "rust-toolchain");
    assert_eq!(tc["inferred"]["toolchain"], "1.95.0", "{tc}");
    let text = tc["description"].as_str().unwrap();
    assert!(
        text.contains("rust-toolchain pins only `stable`")
            && text.contains("not reproducible")
            && text.contains("rerun with --toolchain auto, which would use 1.95.0"),
        "{text}"
    );
}
