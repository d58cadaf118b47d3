//! Snapshots of the transformation record of every fixture session on one protocol version of
//! each distinct pipeline (release line × gas rules × checks). The entry-point names are those the
//! real engines stored (from the committed oracle answers), so every install is a real one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use repro_core::{Protocol, ReplayOptions};
use serde_json::{Value, json};

/// One protocol version per distinct pipeline.
const VERSIONS: [&str; 9] = [
    "1.4.1", "1.4.5", "1.4.9", "1.4.13", "1.4.15", "1.5.3", "1.5.8", "2.0.0", "2.0.3",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// scenario → session step index → (wasm file, entry-point sets).
type Installs = BTreeMap<String, BTreeMap<usize, (String, Vec<Vec<String>>)>>;

/// scenario → session step index → (wasm file, entry-point sets), from any engine that installed it.
fn installs() -> Installs {
    let mut out: Installs = BTreeMap::new();
    let mut files = Vec::new();
    for engine in std::fs::read_dir(root().join("testdata/oracle")).unwrap() {
        let engine = engine.unwrap().path();
        if engine.file_name().unwrap() == "blobs" {
            continue;
        }
        for protocol in std::fs::read_dir(&engine).unwrap() {
            for file in std::fs::read_dir(protocol.unwrap().path()).unwrap() {
                files.push(file.unwrap().path());
            }
        }
    }
    files.sort();
    for file in files {
        let answer: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let scenario = answer["scenario"].as_str().unwrap().to_owned();
        for (index, step) in answer["steps"].as_array().unwrap().iter().enumerate() {
            let contracts = step["contracts"].as_array().unwrap();
            if step["kind"] != "session" || contracts.is_empty() {
                continue;
            }
            let sets = contracts
                .iter()
                .map(|c| {
                    c["entry_points"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e.as_str().unwrap().to_owned())
                        .collect()
                })
                .collect();
            // Engines list the contracts of one session in different orders: sort for stability.
            let mut sets: Vec<Vec<String>> = sets;
            sets.sort();
            let wasm = step["wasm"].as_str().unwrap().to_owned();
            out.entry(scenario.clone())
                .or_default()
                .entry(index)
                .or_insert((wasm, sets));
        }
    }
    out
}

#[test]
fn transformation_records_per_fixture_and_line() {
    let installs = installs();
    assert!(
        installs.len() >= 10,
        "expected the fixture scenarios, found {}",
        installs.len()
    );
    for (scenario, steps) in &installs {
        let mut doc = serde_json::Map::new();
        for v in VERSIONS {
            let protocol = Protocol::mainnet(v.parse().unwrap()).unwrap();
            let mut per_step = serde_json::Map::new();
            for (index, (wasm, sets)) in steps {
                let bytes = std::fs::read(root().join("testdata/wasm").join(wasm)).unwrap();
                let value =
                    match repro_core::preprocess(&protocol, &bytes, ReplayOptions::default()) {
                        Err(rejection) => json!({ "rejected": rejection }),
                        Ok(pre) => Value::Array(
                            sets.iter()
                                .map(|set| match pre.install(set) {
                                    Ok(installed) => {
                                        serde_json::to_value(&installed.record).unwrap()
                                    }
                                    Err(rejection) => json!({ "rejected": rejection }),
                                })
                                .collect(),
                        ),
                    };
                per_step.insert(format!("step {index} ({wasm})"), value);
            }
            doc.insert(v.to_owned(), Value::Object(per_step));
        }
        // Sorted maps: serde_json's map order follows its `preserve_order` feature, which the
        // workspace's feature unification turns on (casper-types) and `-p repro-core` does not.
        insta::with_settings!({sort_maps => true}, {
            insta::assert_json_snapshot!(format!("record__{scenario}"), doc);
        });
    }
}
