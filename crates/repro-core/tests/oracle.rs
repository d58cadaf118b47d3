//! Replay parity with the real execution engines.
//!
//! `testdata/oracle/<engine>/<protocol>/<scenario>.json` are the answers of the node's own
//! execution engine (crates.io, run in-process by the projects under `oracles/`; regenerated and
//! compared byte for byte by `oracles/run.sh --check` in CI). This test replays every step of every
//! answer with repro-core alone — no engine in this build graph, which is what makes the
//! feature-unification guard observable — and requires:
//! - the engine's effective Wasm configuration equals our table for that protocol version;
//! - every stored module the engine wrote equals our replay, byte for byte;
//! - every module the engine rejected in preprocessing is rejected by us with the node's message;
//! - a step the engine failed for a reason outside Wasm processing is accepted by our
//!   preprocessing (it is reported, and counted, not silently skipped).

// A test reports its tally on stderr (shown with --nocapture).
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use repro_core::{GasRules, Protocol, ProtocolVersion, ReplayOptions, WasmConfig};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Deserialize)]
struct Answer {
    protocol: ProtocolVersion,
    wasm_config: serde_json::Value,
    steps: Vec<AnswerStep>,
}

#[derive(Debug, Deserialize)]
struct AnswerStep {
    kind: String,
    wasm: Option<String>,
    wasm_sha256: Option<String>,
    caller_stored_sha256: Option<String>,
    success: bool,
    error: Option<String>,
    #[serde(default)]
    contracts: Vec<AnswerContract>,
}

#[derive(Debug, Deserialize)]
struct AnswerContract {
    entry_points: Vec<String>,
    stored_sha256: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn blob(sha: &str) -> Vec<u8> {
    let path = root()
        .join("testdata/oracle/blobs")
        .join(format!("{sha}.wasm"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(sha256(&bytes), sha, "{} is corrupt", path.display());
    bytes
}

fn answers() -> Vec<(PathBuf, Answer)> {
    let dir = root().join("testdata/oracle");
    let mut out = Vec::new();
    let mut engines: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} — the oracle answers are part of the repository",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().unwrap() != "blobs")
        .collect();
    engines.sort();
    for engine in engines {
        let mut files: Vec<PathBuf> = walk(&engine);
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let answer: Answer =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            out.push((file, answer));
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out
}

/// The engine's configuration equals our table, value for value. `regular` only matters (and is
/// only compared) where the class-set rules read it.
fn assert_config_matches(file: &Path, protocol: &Protocol, engine: &serde_json::Value) {
    let engine: WasmConfig = serde_json::from_value(engine.clone())
        .unwrap_or_else(|e| panic!("{}: wasm_config does not parse: {e}", file.display()));
    let mut ours = protocol.wasm().flatten();
    let mut theirs = engine.flatten();
    if protocol.pipeline().rules != GasRules::ClassSet {
        ours.remove("opcode_costs.regular");
        theirs.remove("opcode_costs.regular");
    }
    assert_eq!(
        ours,
        theirs,
        "{}: the engine ran another Wasm configuration than our table for {}",
        file.display(),
        protocol.version()
    );
}

#[derive(Debug, Default)]
struct Tally {
    stored_equal: usize,
    rejections_equal: usize,
    outside_wasm_processing: Vec<String>,
}

#[test]
fn replay_equals_the_engines_stored_bytes_and_rejections() {
    let answers = answers();
    assert!(
        !answers.is_empty(),
        "no oracle answers under testdata/oracle"
    );
    let mut tally = Tally::default();
    for (file, answer) in &answers {
        let protocol = Protocol::mainnet(answer.protocol)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_config_matches(file, &protocol, &answer.wasm_config);
        for (index, step) in answer.steps.iter().enumerate() {
            let at = format!("{} step {index}", file.display());
            let processed = match step.kind.as_str() {
                "session" => {
                    let name = step.wasm.as_deref().expect("session step names its wasm");
                    let bytes = std::fs::read(root().join("testdata/wasm").join(name)).unwrap();
                    assert_eq!(
                        Some(sha256(&bytes)),
                        step.wasm_sha256,
                        "{at}: testdata/wasm/{name} changed since the oracle ran: rerun oracles/run.sh"
                    );
                    repro_core::preprocess(&protocol, &bytes, ReplayOptions::default())
                }
                "call" => match step.caller_stored_sha256.as_deref() {
                    Some(caller) => {
                        repro_core::load_stored(&protocol, &blob(caller), ReplayOptions::default())
                    }
                    None => {
                        // The engine could not even find the contract to call: nothing to replay.
                        assert!(
                            !step.success,
                            "{at}: a successful call step must name its caller"
                        );
                        let error = step.error.as_deref().unwrap_or_default();
                        tally.outside_wasm_processing.push(format!("{at}: {error}"));
                        continue;
                    }
                },
                other => panic!("{at}: unknown step kind {other}"),
            };
            match (step.success, processed) {
                (true, Ok(processed)) => {
                    for contract in &step.contracts {
                        let ours = processed
                            .install(&contract.entry_points)
                            .unwrap_or_else(|r| {
                                panic!("{at}: engine stored a module, we reject: {r}")
                            });
                        let expected = blob(&contract.stored_sha256);
                        assert!(
                            ours.bytes == expected,
                            "{at}: stored bytes differ for entry points {:?}: engine {} bytes sha256 {}, replay {} bytes sha256 {}",
                            contract.entry_points,
                            expected.len(),
                            contract.stored_sha256,
                            ours.bytes.len(),
                            sha256(&ours.bytes)
                        );
                        tally.stored_equal += 1;
                    }
                }
                (true, Err(rejection)) => {
                    panic!("{at}: the engine accepted, we reject: {rejection}")
                }
                (false, Err(rejection)) => {
                    let error = step.error.as_deref().unwrap_or_default();
                    assert!(
                        error.contains(&rejection.node_error),
                        "{at}: both reject, but the engine said {error:?} and we said {:?}",
                        rejection.node_error
                    );
                    tally.rejections_equal += 1;
                }
                (false, Ok(_)) => {
                    let error = step.error.as_deref().unwrap_or_default();
                    assert!(
                        !error.to_lowercase().contains("preprocessing"),
                        "{at}: the engine rejected in preprocessing ({error:?}) but we accept"
                    );
                    tally.outside_wasm_processing.push(format!("{at}: {error}"));
                }
            }
        }
    }
    eprintln!(
        "oracle parity: {} stored modules byte-identical, {} rejections identical, {} engine failures outside Wasm processing",
        tally.stored_equal,
        tally.rejections_equal,
        tally.outside_wasm_processing.len()
    );
    // Grouped by the engine's message (the part after "step N: ").
    let mut by_message: BTreeMap<&str, usize> = BTreeMap::new();
    for line in &tally.outside_wasm_processing {
        let message = line.split_once(": ").map_or(line.as_str(), |(_, m)| m);
        *by_message.entry(message).or_default() += 1;
    }
    for (message, count) in by_message {
        eprintln!("  {count:>4} × outside Wasm processing: {message}");
    }
    assert!(tally.stored_equal > 0, "no stored module was compared");
}
