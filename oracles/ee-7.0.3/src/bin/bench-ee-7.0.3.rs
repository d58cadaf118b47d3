//! `bench-ee-7.0.3`: times the node 1.5.8 engine's own install pipeline,
//! `shared::wasm_prep::preprocess` + `get_module_from_entry_points` (crates.io
//! casper-execution-engine 7.0.3), with the WasmConfig of the engine's bundled chainspec
//! (= mainnet 1.5.8), so the main workspace can run repro-core on the same inputs side by side.
//!
//! ```text
//! bench-ee-7.0.3 --iterations N FILE:ep1,ep2 [FILE:ep ...]
//! ```
//! Prints one JSON line per file:
//! `{"file":..,"bytes":..,"iterations":..,"mean_ns":..,"median_ns":..,"min_ns":..}`.
//!
//! ```text
//! bench-ee-7.0.3 --once FILE:ep1,ep2 OUT
//! ```
//! The whole-process counterpart of `casper-repro replay --protocol 1.5.8 -e ep1,ep2 FILE -o OUT`:
//! reads FILE, runs the engine's pipeline once with `WasmConfig::default()` (the engine's own
//! default, which is mainnet 1.5.8's; the bench script checks that OUT equals casper-repro's
//! output byte for byte) and writes the stored module to OUT. Nothing else is set up, so a
//! process-level timing of it is the engine's floor for one install.

use std::{hint::black_box, process::ExitCode, time::Instant};

use casper_engine_test_support::InMemoryWasmTestBuilder;
use casper_execution_engine::shared::wasm_prep::{get_module_from_entry_points, preprocess};
use serde_json::json;

const USAGE: &str = "usage: bench-ee-7.0.3 --iterations N FILE:ep1,ep2 [FILE:ep ...] | --once FILE:ep1,ep2 OUT";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-ee-7.0.3: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--once FILE:eps OUT`: one install, as a whole process.
fn once(spec: &str, out: &str) -> Result<(), String> {
    let (file, eps) = spec
        .rsplit_once(':')
        .ok_or_else(|| format!("{spec:?} is not FILE:ep1,ep2\n{USAGE}"))?;
    let eps: Vec<&str> = eps.split(',').filter(|s| !s.is_empty()).collect();
    let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    let wasm_config = casper_execution_engine::shared::wasm_config::WasmConfig::default();
    let module = preprocess(wasm_config, &bytes).map_err(|e| format!("{file}: preprocess: {e}"))?;
    let stored = get_module_from_entry_points(eps, module)
        .map_err(|e| format!("{file}: get_module_from_entry_points: {e}"))?;
    std::fs::write(out, stored).map_err(|e| format!("{out}: {e}"))
}

fn run() -> Result<(), String> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.len() == 3 && raw[0] == "--once" {
        return once(&raw[1], &raw[2]);
    }
    let mut iterations: Option<usize> = None;
    let mut inputs: Vec<(String, Vec<String>)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            "--iterations" => {
                let v = args.next().ok_or(USAGE)?;
                iterations = Some(v.parse().map_err(|e| format!("--iterations {v:?}: {e}"))?);
            }
            spec => {
                // FILE:ep1,ep2 — split at the last ':' so paths may contain ':'.
                let (file, eps) = spec
                    .rsplit_once(':')
                    .ok_or_else(|| format!("{spec:?} is not FILE:ep1,ep2\n{USAGE}"))?;
                let eps: Vec<String> = eps.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
                inputs.push((file.to_string(), eps));
            }
        }
    }
    let iterations = iterations.ok_or_else(|| format!("missing --iterations\n{USAGE}"))?;
    if iterations == 0 || inputs.is_empty() {
        return Err(USAGE.to_string());
    }
    // The bundled (mainnet 1.5.8) WasmConfig, read back from the engine configured by test-support
    // exactly as the oracle does for protocol 1.5.8.
    let wasm_config = *InMemoryWasmTestBuilder::default()
        .get_engine_state()
        .config()
        .wasm_config();

    for (file, eps) in inputs {
        let bytes = std::fs::read(&file).map_err(|e| format!("{file}: {e}"))?;
        let ep_refs: Vec<&str> = eps.iter().map(String::as_str).collect();
        let once = || -> Result<Vec<u8>, String> {
            let module = preprocess(wasm_config, black_box(&bytes)).map_err(|e| format!("{file}: preprocess: {e}"))?;
            get_module_from_entry_points(ep_refs.clone(), module)
                .map_err(|e| format!("{file}: get_module_from_entry_points: {e}"))
        };
        // Warm-up (also surfaces a rejection before timing).
        for _ in 0..iterations.min(10).max(1) {
            black_box(once()?);
        }
        let mut samples = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let t = Instant::now();
            let out = once()?;
            samples.push(t.elapsed().as_nanos());
            black_box(out);
        }
        samples.sort_unstable();
        let n = samples.len() as u128;
        let mean = samples.iter().sum::<u128>() / n;
        let median = if samples.len() % 2 == 1 {
            samples[samples.len() / 2]
        } else {
            (samples[samples.len() / 2 - 1] + samples[samples.len() / 2]) / 2
        };
        println!(
            "{}",
            json!({
                "file": file,
                "bytes": bytes.len(),
                "iterations": iterations,
                "mean_ns": mean as u64,
                "median_ns": median as u64,
                "min_ns": samples[0] as u64,
            })
        );
    }
    Ok(())
}
