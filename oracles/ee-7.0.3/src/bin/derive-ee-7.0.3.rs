//! `derive-ee-7.0.3`: which input does the node 1.5.8 engine optimise when a *stored* contract
//! installs a contract (factory pattern, node-pipeline.md §0.2 / §8.1)?
//!
//! ```text
//! derive-ee-7.0.3 --stored FACTORY_STORED.wasm --entry-points child_get,child_inc --expect CHILD_STORED.wasm
//! ```
//! Derives the child from the factory's stored bytes with the engine's own public functions,
//! under two hypotheses, and prints one JSON line per hypothesis with the sha256 and whether it
//! equals `--expect` (what the engine actually stored in the oracle run):
//! - `optimize_stored`: `get_module_from_entry_points(eps, deserialize(stored))` — no second
//!   preprocessing (what §8.1 says);
//! - `preprocess_again`: `get_module_from_entry_points(eps, preprocess(bundled 1.5.8 config, stored))`.
//!   Exit status 0 iff exactly `optimize_stored` matches.

use std::process::ExitCode;

use casper_engine_test_support::InMemoryWasmTestBuilder;
use casper_execution_engine::shared::wasm_prep::{deserialize, get_module_from_entry_points, preprocess};
use serde_json::json;
use sha2::{Digest, Sha256};

fn main() -> ExitCode {
    let mut stored = None;
    let mut eps = None;
    let mut expect = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next();
        match (a.as_str(), v) {
            ("--stored", Some(v)) => stored = Some(v),
            ("--entry-points", Some(v)) => eps = Some(v),
            ("--expect", Some(v)) => expect = Some(v),
            _ => {
                eprintln!("usage: derive-ee-7.0.3 --stored FILE --entry-points a,b --expect FILE");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(stored), Some(eps), Some(expect)) = (stored, eps, expect) else {
        eprintln!("usage: derive-ee-7.0.3 --stored FILE --entry-points a,b --expect FILE");
        return ExitCode::from(2);
    };
    let bytes = std::fs::read(&stored).expect("read --stored");
    let expected = std::fs::read(&expect).expect("read --expect");
    let ep_list: Vec<&str> = eps.split(',').filter(|s| !s.is_empty()).collect();
    let wasm_config = *InMemoryWasmTestBuilder::default().get_engine_state().config().wasm_config();

    let hex = |b: &[u8]| hex::encode(Sha256::digest(b));
    let mut matches = Vec::new();
    let hypotheses: [(&str, Result<Vec<u8>, String>); 2] = [
        (
            "optimize_stored",
            deserialize(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|m| get_module_from_entry_points(ep_list.clone(), m).map_err(|e| e.to_string())),
        ),
        (
            "preprocess_again",
            preprocess(wasm_config, &bytes)
                .map_err(|e| e.to_string())
                .and_then(|m| get_module_from_entry_points(ep_list.clone(), m).map_err(|e| e.to_string())),
        ),
    ];
    for (name, result) in hypotheses {
        let line = match &result {
            Ok(out) => {
                let eq = *out == expected;
                if eq {
                    matches.push(name);
                }
                json!({ "hypothesis": name, "sha256": hex(out), "len": out.len(), "equals_expected": eq })
            }
            Err(e) => json!({ "hypothesis": name, "error": e, "equals_expected": false }),
        };
        println!("{line}");
    }
    println!("{}", json!({ "expected": expect, "expected_sha256": hex(&expected), "expected_len": expected.len() }));
    if matches == ["optimize_stored"] {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
