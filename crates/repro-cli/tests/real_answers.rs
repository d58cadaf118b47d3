//! Real node answers that others recorded (testdata/real-answers, sources in its README), and the
//! errors `verify` and `fetch` give on them: each one a sentence naming the field and what to do,
//! with no Rust type names. `verify` reads them from a file; `fetch` from a JSON-RPC server on
//! 127.0.0.1 that answers like the node that produced them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Node, casper_repro};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn answer(name: &str) -> PathBuf {
    root().join("testdata/real-answers").join(name)
}

/// Exit 2 and the error text, with `replace` substituted (temporary paths, URLs).
fn error_of(out: &Output, replace: &[(&str, &str)]) -> String {
    let mut err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    for (from, to) in replace {
        err = err.replace(from, to);
    }
    // Nothing that reads like Rust: no paths of types, no serde or casper-types wrappers.
    for rust in ["::", "FailedToMap", "Error(", "line: 0", "TransactionJson"] {
        assert!(!err.contains(rust), "{rust:?} in the error: {err}");
    }
    err
}

/// A node that answers every transaction query with the recorded answer's result; a 1.x node
/// does not know `info_get_transaction`.
fn serve(recorded: Value) -> Node {
    let result = recorded.get("result").cloned().unwrap_or(recorded);
    let is_deploy = result.get("deploy").is_some();
    Node::start(move |body| {
        let req = common::request(body);
        let id = &req["id"];
        let doc = match (req["method"].as_str().unwrap_or_default(), is_deploy) {
            ("info_get_deploy", true) | ("info_get_transaction", false) => {
                common::result(id, &result)
            }
            ("info_get_transaction", true) => common::error(id, -32601, "Method not found"),
            _ => common::error(id, -32000, "No such block or state"),
        };
        (200, doc)
    })
}

fn hash_in(recorded: &Value) -> String {
    let r = recorded.get("result").unwrap_or(recorded);
    let t = r
        .get("deploy")
        .or_else(|| r["transaction"].as_object().and_then(|o| o.values().next()))
        .unwrap();
    t["hash"].as_str().unwrap().to_owned()
}

/// `verify --transaction-json FILE` and `fetch --node … HASH -o DIR` on one recorded answer:
/// both exit 2 with the same explanation, and fetch writes nothing.
fn errors_for(name: &str) -> (String, String) {
    let file = answer(name);
    let verify = casper_repro(&["verify", "--transaction-json", file.to_str().unwrap()]);
    let verify_err = error_of(&verify, &[(file.to_str().unwrap(), "[FILE]")]);

    let recorded: Value = serde_json::from_str(&fs_err::read_to_string(&file).unwrap()).unwrap();
    let hash = hash_in(&recorded);
    let node = serve(recorded);
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("bundle");
    let fetch = casper_repro(&[
        "fetch",
        "--node",
        &node.url,
        &hash,
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    let fetch_err = error_of(&fetch, &[(&node.url, "[NODE]")]);
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "fetch wrote something: {fetch_err}"
    );
    (verify_err, fetch_err)
}

#[test]
fn a_2_0_release_candidate_answer_names_the_field_and_the_layout() {
    let (verify, fetch) = errors_for("txv1-rc-transferred-value.json");
    assert!(verify.contains("`transferred_value`"), "{verify}");
    assert!(verify.contains("pre-release"), "{verify}");
    insta::assert_snapshot!("rc_transferred_value_verify", verify);
    insta::assert_snapshot!("rc_transferred_value_fetch", fetch);
}

#[test]
fn a_header_body_transaction_names_the_pre_release_layout() {
    let (verify, fetch) = errors_for("txv1-header-body.json");
    assert!(verify.contains("`header`/`body` layout"), "{verify}");
    insta::assert_snapshot!("header_body_verify", verify);
    insta::assert_snapshot!("header_body_fetch", fetch);
}

#[test]
fn module_bytes_that_are_not_hex_name_the_field_and_offset() {
    let (verify, fetch) = errors_for("module-bytes-nonhex.json");
    assert!(
        verify.contains(
            "`deploy.session.ModuleBytes.module_bytes` is not hex: character '[' at offset 0"
        ),
        "{verify}"
    );
    insta::assert_snapshot!("module_bytes_not_hex_verify", verify);
    insta::assert_snapshot!("module_bytes_not_hex_fetch", fetch);
}

#[test]
fn a_1x_transfer_is_not_an_install() {
    let (verify, fetch) = errors_for("deploy-1x.json");
    assert!(verify.contains("a native transfer"), "{verify}");
    insta::assert_snapshot!("transfer_1x_verify", verify);
    insta::assert_snapshot!("transfer_1x_fetch", fetch);
}

/// A 1.x install answer alone (the real 1.5.8 engine's `info_get_deploy` answer from the bundled
/// example): it names the stored Wasm but does not carry it, and no node was contacted.
#[test]
fn a_1x_install_answer_alone_says_to_give_a_node_or_a_bundle() {
    let bundle: Value = serde_json::from_str(
        &fs_err::read_to_string(
            root().join("testdata/rpc/node-1.5.8-deploy-multi_ep/responses.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("deploy.json");
    std::fs::write(&file, bundle["calls"][0]["result"].to_string()).unwrap();
    let out = casper_repro(&["verify", "--transaction-json", file.to_str().unwrap()]);
    let err = error_of(&out, &[(file.to_str().unwrap(), "[FILE]")]);
    assert!(!err.contains("did not answer"), "{err}");
    assert!(
        err.contains("--node URL") && err.contains("--bundle DIR"),
        "{err}"
    );
    insta::assert_snapshot!("install_1x_alone_verify", err);
}
