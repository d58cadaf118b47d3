//! Each commitment check fails on the one thing it guards, on installs the real engines executed
//! (`testdata/rpc`, regenerated from the engines by `oracles/rpc-fixtures.sh`): the untouched
//! answers pass every check, and a single tampered field fails exactly the check that covers it.

use std::path::Path;

use serde_json::Value;

use super::{CheckStatus, Requested, TrustCheck, resolve};
use crate::bundle::Bundle;

fn bundle(case: &str) -> Bundle {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/rpc")
        .join(case);
    Bundle::load(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn checks(mut b: Bundle) -> Vec<TrustCheck> {
    let req = Requested::parse(b.hash_hex().unwrap()).unwrap();
    resolve(&mut b, &req).unwrap().checks
}

fn status(checks: &[TrustCheck], name: &str) -> Vec<CheckStatus> {
    let found: Vec<CheckStatus> = checks
        .iter()
        .filter(|c| c.check.starts_with(name))
        .map(|c| c.status)
        .collect();
    assert!(!found.is_empty(), "no check named {name}: {checks:?}");
    found
}

fn failed_only(checks: &[TrustCheck], names: &[&str]) {
    for c in checks {
        let expected = if names.iter().any(|n| c.check.starts_with(n)) {
            CheckStatus::Failed
        } else if c.check == "finality" {
            // Without a trusted block finality by weight is not decided (finality_tests.rs).
            CheckStatus::NotPossible
        } else {
            CheckStatus::Passed
        };
        assert_eq!(c.status, expected, "{}: {}", c.check, c.detail);
    }
}

/// The `index`-th recorded call of `method`.
fn call<'a>(b: &'a mut Bundle, method: &str, index: usize) -> &'a mut Value {
    &mut b
        .calls
        .iter_mut()
        .filter(|c| c.method == method)
        .nth(index)
        .unwrap_or_else(|| panic!("no call {index} of {method}"))
        .result
}

/// Replaces the hex digit at `at` (from the end when negative) of a string by another digit.
fn flip_hex(v: &mut Value, at: isize) {
    let s = v.as_str().unwrap().to_owned();
    let i = if at < 0 {
        s.len() - at.unsigned_abs()
    } else {
        at as usize
    };
    let c = if &s[i..=i] == "0" { "1" } else { "0" };
    *v = Value::String(format!("{}{c}{}", &s[..i], &s[i + 1..]));
}

#[test]
fn untouched_engine_answers_pass_every_check() {
    for case in [
        "node-1.5.8-deploy-multi_ep",
        "node-1.5.8-deploy-factory",
        "sidecar-2.0.3-deploy-multi_ep",
        "sidecar-2.0.3-v1-two_contracts",
    ] {
        let all = checks(bundle(case));
        failed_only(&all, &[]);
        for name in [
            "transaction-hash",
            "approvals",
            "block-hash",
            "merkle-proof",
        ] {
            assert_eq!(status(&all, name)[0], CheckStatus::Passed, "{case} {name}");
        }
    }
}

#[test]
fn a_tampered_transaction_fails_the_transaction_hash() {
    let mut b = bundle("node-1.5.8-deploy-multi_ep");
    // The declared hash stays; the contents it should commit to change.
    call(&mut b, "info_get_deploy", 0)["deploy"]["header"]["ttl"] = "31m".into();
    let all = checks(b);
    assert_eq!(status(&all, "transaction-hash"), [CheckStatus::Failed]);
}

#[test]
fn a_bad_approval_signature_fails_the_approvals() {
    let mut b = bundle("node-1.5.8-deploy-multi_ep");
    flip_hex(
        &mut call(&mut b, "info_get_deploy", 0)["deploy"]["approvals"][0]["signature"],
        40,
    );
    failed_only(&checks(b), &["approvals"]);
}

#[test]
fn a_wrong_hop_of_a_named_key_path_fails_that_merkle_proof() {
    let mut b = bundle("node-1.5.8-deploy-factory");
    // The factory is reached through the caller account's named key: two proofs in one answer.
    let index = b
        .calls
        .iter()
        .filter(|c| c.method == "query_global_state")
        .position(|c| {
            c.params["key"]
                .as_str()
                .unwrap()
                .starts_with("account-hash-")
        })
        .unwrap();
    // The last digits are a hash in the second hop's last proof step.
    flip_hex(
        &mut call(&mut b, "query_global_state", index)["merkle_proof"],
        -3,
    );
    let all = checks(b);
    let tampered: Vec<&TrustCheck> = all
        .iter()
        .filter(|c| c.status == CheckStatus::Failed)
        .collect();
    assert_eq!(tampered.len(), 1, "{all:?}");
    assert!(tampered[0].check.starts_with("merkle-proof account-hash-"));
    assert!(
        tampered[0].detail.contains("leads to state root"),
        "{}",
        tampered[0].detail
    );
}

#[test]
fn a_wrong_state_root_fails_the_block_hash_and_every_proof() {
    let mut b = bundle("node-1.5.8-deploy-multi_ep");
    flip_hex(
        &mut call(&mut b, "chain_get_block", 0)["block"]["header"]["state_root_hash"],
        0,
    );
    let all = checks(b);
    assert_eq!(status(&all, "block-hash"), [CheckStatus::Failed]);
    assert!(
        status(&all, "merkle-proof")
            .iter()
            .all(|s| *s == CheckStatus::Failed)
    );
}
