//! Which cost table a stored module was metered with, on every module the real engines stored.
//!
//! The expected values come from the engines' answers (`testdata/oracle/<engine>/<protocol>/*.json`):
//! each answer names the Wasm configuration the engine ran (`wasm_config`, read back from the
//! engine itself) and the sha256 of every module it stored. For each stored module:
//! - the profile (repro-verify's, as `verify` uses it) built from *that* configuration must fit it;
//! - the profile of every other configuration seen in the answers must not fit it, unless the two
//!   configurations charge the same for every instruction the module contains and have the same
//!   stack limit and grow cost (then nothing in the module can tell them apart). That exception is
//!   derived here from the module's operators, not from the classifier under test.

// A test reports its tally on stderr (shown with --nocapture).
#![allow(clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use repro_core::{ConfigSource, Protocol, ProtocolVersion, WasmConfig};
use repro_diff::CostProfile;
use repro_diff::wasmparser::{self, Operator};
use repro_verify::profiles::TableProfile;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Answer {
    protocol: ProtocolVersion,
    wasm_config: WasmConfig,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Step {
    #[serde(default)]
    contracts: Vec<Contract>,
}

#[derive(Debug, Deserialize)]
struct Contract {
    stored_sha256: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs_err::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "blobs") {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Every operator of every function body (the grow counter's `memory.grow` included).
fn operators(bytes: &[u8]) -> Vec<Operator<'_>> {
    let mut ops = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
            let mut reader = body.get_operators_reader().unwrap();
            while !reader.eof() {
                ops.push(reader.read().unwrap());
            }
        }
    }
    ops
}

/// True when nothing in `ops` can tell `a` from `b`.
fn indistinguishable(ops: &[Operator<'_>], a: &TableProfile, b: &TableProfile) -> bool {
    a.stack_limit() == b.stack_limit()
        && a.grow_cost() == b.grow_cost()
        && ops
            .iter()
            .all(|op| a.instruction_cost(op) == b.instruction_cost(op))
}

#[test]
fn every_stored_module_fits_the_table_it_was_metered_with_and_no_other() {
    let mut files = Vec::new();
    walk(&root().join("testdata/oracle"), &mut files);
    files.sort();
    // Distinct configurations (by version and values), and which one stored each module.
    let mut profiles: Vec<TableProfile> = Vec::new();
    let mut made_by: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for file in &files {
        let answer: Answer = serde_json::from_str(&fs_err::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let index = match profiles.iter().position(|p| {
            p.protocol().version() == answer.protocol && *p.protocol().wasm() == answer.wasm_config
        }) {
            Some(i) => i,
            None => {
                let source = ConfigSource::Chainspec {
                    name: file.display().to_string(),
                    sha256: String::new(),
                    network: None,
                };
                let protocol = Protocol::new(answer.protocol, answer.wasm_config, source)
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                let name = format!("engine {} #{}", answer.protocol, profiles.len());
                profiles.push(TableProfile::new(name, protocol));
                profiles.len() - 1
            }
        };
        for contract in answer.steps.iter().flat_map(|s| &s.contracts) {
            made_by
                .entry(contract.stored_sha256.clone())
                .or_default()
                .insert(index);
        }
    }
    assert!(
        profiles.len() >= 10,
        "only {} configurations",
        profiles.len()
    );
    assert!(
        made_by.len() >= 100,
        "only {} stored modules",
        made_by.len()
    );

    let refs: Vec<&dyn CostProfile> = profiles.iter().map(|p| p as &dyn CostProfile).collect();
    let mut failures = Vec::new();
    let (mut fits_checked, mut rejections_checked, mut with_grow_counter) = (0, 0, 0);
    for (sha, makers) in &made_by {
        let path = root().join(format!("testdata/oracle/blobs/{sha}.wasm"));
        let bytes = fs_err::read(&path).unwrap();
        let fp = repro_diff::inspect(&bytes, &refs).unwrap();
        with_grow_counter += usize::from(fp.facts.instrumentation.grow_counter.is_some());
        let ops = operators(&bytes);
        for (i, profile) in profiles.iter().enumerate() {
            let fit = fp
                .facts
                .profile_fits
                .iter()
                .find(|f| f.profile == profile.name())
                .unwrap_or_else(|| panic!("{sha}: no fit reported for {}", profile.name()));
            let made_here = makers.contains(&i);
            let expected = made_here
                || makers
                    .iter()
                    .any(|m| indistinguishable(&ops, &profiles[*m], profile));
            if made_here {
                fits_checked += 1;
            } else if !expected {
                rejections_checked += 1;
            }
            if fit.fits != expected {
                failures.push(format!(
                    "{sha} (made by {}): {} {} but expected {}: {}/{} blocks, {} contradictions, stack {:?}, grow {:?}",
                    makers.iter().map(|m| profiles[*m].name()).collect::<Vec<_>>().join(", "),
                    profile.name(),
                    if fit.fits { "fits" } else { "does not fit" },
                    if expected { "a fit" } else { "no fit" },
                    fit.blocks_matching,
                    fit.blocks_checked,
                    fit.contradictions,
                    fit.stack_limit_matches,
                    fit.grow_cost_matches,
                ));
            }
        }
    }
    eprintln!(
        "{} stored modules ({} with a grow counter), {} configurations: {} own-table fits and {} other-table rejections checked",
        made_by.len(),
        with_grow_counter,
        profiles.len(),
        fits_checked,
        rejections_checked
    );
    assert!(with_grow_counter > 0, "no stored module has a grow counter");
    assert!(
        failures.is_empty(),
        "{} wrong fits:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
