//! The example results of the node's published OpenRPC schemas (1.5.8 node, 2.x sidecar) go
//! through the same parsing as real answers. The schemas are reference data outside this
//! repository (`../shared/rpc`, or the directory in `CASPER_REPRO_RPC_SCHEMAS`), so these tests
//! are `#[ignore]`d in a plain `cargo test` and run by `.ci/run` with `--ignored`, where they
//! fail loudly if the files are missing.

use std::path::PathBuf;

use super::block::fetch_block;
use super::state::{fetch_chainspec, read_state};
use super::transaction::parse_transaction_result;
use super::*;
use crate::bundle::{Bundle, Call};

fn schema(name: &str) -> Value {
    let dir = std::env::var_os("CASPER_REPRO_RPC_SCHEMAS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/rpc"));
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (set CASPER_REPRO_RPC_SCHEMAS to the directory of the published schemas)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// (params, result) of the first example of `method`.
fn example(schema: &Value, method: &str) -> (Value, Value) {
    let m = schema["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == method)
        .unwrap_or_else(|| panic!("no {method} in the schema"));
    let ex = &m["examples"][0];
    let params: serde_json::Map<String, Value> = ex["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p["value"].clone()))
        .collect();
    (Value::Object(params), ex["result"]["value"].clone())
}

fn check_schema(file: &str, transaction_methods: &[&str]) {
    let s = schema(file);
    for method in transaction_methods {
        let (params, result) = example(&s, method);
        let hash = result["transaction"]
            .as_object()
            .and_then(|t| t.values().next())
            .or_else(|| result.get("deploy"))
            .and_then(|t| t["hash"].as_str())
            .unwrap()
            .to_owned();
        let req = Requested::parse(&hash).unwrap();
        let fetched = parse_transaction_result(method, &result, json!(null), &req)
            .unwrap_or_else(|e| panic!("{file} {method}: {e}"));
        assert!(fetched.execution.is_some(), "{file} {method}: {params}");
    }
    // The block and state examples, through the same code as a node's answers.
    let (block_params, block_result) = example(&s, "chain_get_block");
    let block_hash: BlockHash =
        serde_json::from_value(block_params["block_identifier"]["Hash"].clone()).unwrap();
    let (state_params, state_result) = example(&s, "query_global_state");
    let (_, chainspec_result) = example(&s, "info_get_chainspec");
    let mut bundle = Bundle {
        format: 1,
        api: None,
        transaction_hash: json!(null),
        node: None,
        calls: vec![
            Call {
                method: "chain_get_block".into(),
                params: json!({"block_identifier": {"Hash": block_hash.to_hex_string()}}),
                result: block_result,
            },
            Call {
                method: "info_get_chainspec".into(),
                params: json!([]),
                result: chainspec_result,
            },
        ],
        switch_blocks: None,
    };
    let mut checks = Vec::new();
    let some_tx = TransactionHash::Deploy(casper_types::DeployHash::new(
        casper_types::Digest::from([0; 32]),
    ));
    let fetched = fetch_block(
        &mut bundle,
        &block_hash,
        &some_tx,
        "casper-example",
        &mut checks,
    )
    .unwrap_or_else(|e| panic!("{file} chain_get_block: {e}"))
    .expect("the block is in the bundle");
    // The published examples are generated, not real chain data: their hashes and proofs need
    // not be consistent, so only the parsing is asserted here.
    let block = &fetched.block;
    assert!(!fetched.facts.protocol_version.is_empty());
    // The example block is a switch block: the next era's validator weights parse, and its own
    // listed validators are among them (finality is weighed against such weights).
    let weights = crate::finality::next_era_weights(block)
        .unwrap_or_else(|| panic!("{file} chain_get_block: the example is not a switch block"));
    let listed = listed_weights(&s);
    assert!(!listed.is_empty(), "{file}");
    let parsed: Vec<(String, String)> = weights
        .iter()
        .map(|(k, w)| (k.to_hex_string().to_lowercase(), w.to_string()))
        .collect();
    let mut listed = listed;
    listed.sort();
    assert_eq!(parsed, listed, "{file}: the weights the example lists");
    // The examples' chainspec bytes are a placeholder ("**"), not a chainspec.
    fetch_chainspec(&mut bundle)
        .unwrap_or_else(|e| panic!("{file} info_get_chainspec: {e}"))
        .expect("a chainspec");
    let key = Key::from_formatted_str(state_params["key"].as_str().unwrap()).unwrap();
    let path: Vec<String> = serde_json::from_value(state_params["path"].clone()).unwrap();
    bundle.calls.push(Call {
        method: "query_global_state".into(),
        params: json!({"state_identifier": {"BlockHash": fetched.facts.hash}, "key": key.to_formatted_string(), "path": path}),
        result: state_result,
    });
    match read_state(&mut bundle, &key, &path, Some(&fetched), &mut checks) {
        Ok(Some(_)) => {}
        Ok(None) => panic!("{file} query_global_state: not read"),
        Err(e) => panic!("{file} query_global_state: {e}"),
    }
}

/// The `next_era_validator_weights` the `chain_get_block` example's JSON lists, as (validator
/// hex, weight decimal), read from the JSON tree itself, not through casper-types.
fn listed_weights(schema: &Value) -> Vec<(String, String)> {
    fn find(v: &Value) -> Option<&Value> {
        match v {
            Value::Object(o) => o
                .get("next_era_validator_weights")
                .or_else(|| o.values().find_map(find)),
            Value::Array(a) => a.iter().find_map(find),
            _ => None,
        }
    }
    let (_, result) = example(schema, "chain_get_block");
    find(&result)
        .and_then(Value::as_array)
        .expect("the example lists next_era_validator_weights")
        .iter()
        .map(|e| {
            (
                e["validator"].as_str().unwrap().to_lowercase(),
                e["weight"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs the published RPC schemas (../shared/rpc or CASPER_REPRO_RPC_SCHEMAS); run by .ci/run"]
fn node_1_5_examples_parse() {
    check_schema("node-1.5.8.rpc_schema.json", &["info_get_deploy"]);
}

#[test]
#[ignore = "needs the published RPC schemas (../shared/rpc or CASPER_REPRO_RPC_SCHEMAS); run by .ci/run"]
fn sidecar_2x_examples_parse() {
    check_schema(
        "sidecar-2.x.rpc_schema.json",
        &["info_get_deploy", "info_get_transaction"],
    );
}
