//! Benchmark: diff of two ≥ 250 KB modules that differ in a few functions.
//!
//! A = `testdata/wasm/big.wasm` (a real rustc build, 379 KB); B = A with `i32.add`→`i32.sub` in 3
//! functions and one `i32.const` changed in 3 others (same sizes, still valid). Reports wall time
//! (min and median of 15 runs) for the structural diff alone and with the default WAT rendering,
//! and the peak resident memory added by one diff as a multiple of the input size (Linux:
//! `/proc/self/clear_refs` resets the peak, `VmHWM` reads it).
//!
//! Run: `cargo bench -p repro-diff --bench diff_large` (targets: < 100 ms, < 10× input).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use repro_diff::wasmparser::{Operator, Parser, Payload};
use repro_diff::{DiffOptions, WatSelection};

fn patch(a: &[u8]) -> Vec<u8> {
    let mut b = a.to_vec();
    let (mut adds, mut consts) = (0, 0);
    for payload in Parser::new(0).parse_all(a) {
        let Ok(Payload::CodeSectionEntry(body)) = payload else {
            continue;
        };
        let Ok(mut ops) = body.get_operators_reader() else {
            continue;
        };
        let (mut did_add, mut did_const) = (false, false);
        while !ops.eof() {
            let Ok((op, at)) = ops.read_with_offset() else {
                break;
            };
            match op {
                Operator::I32Add if adds < 3 && !did_add && !did_const => {
                    b[at] = 0x6B; // i32.sub
                    adds += 1;
                    did_add = true;
                }
                Operator::I32Const { value }
                    if (1..63).contains(&value)
                        && consts < 3
                        && !did_const
                        && !did_add
                        && adds == 3 =>
                {
                    b[at + 1] ^= 1;
                    consts += 1;
                    did_const = true;
                }
                _ => {}
            }
        }
    }
    assert_eq!((adds, consts), (3, 3), "could not patch 6 functions");
    b
}

fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn time(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    (t[0], t[runs / 2])
}

fn memory_child(a: &[u8], b: &[u8], mode: &str) {
    let input = a.len() + b.len();
    let opts = if mode == "wat" {
        DiffOptions::default()
    } else {
        DiffOptions {
            wat: WatSelection::None,
            ..DiffOptions::default()
        }
    };
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kb("VmRSS:").unwrap_or(0);
    let r = repro_diff::diff(a, b, &opts).unwrap();
    std::hint::black_box(&r);
    let peak = status_kb("VmHWM:").unwrap_or(0);
    let added = peak.saturating_sub(before) * 1024;
    println!(
        "memory ({mode}, fresh process): +{} KiB peak over {} KiB resident with both inputs loaded = {:.1}x input",
        added / 1024,
        before,
        added as f64 / input as f64
    );
}

fn main() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/wasm/big.wasm");
    let a = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (built by testdata/contracts/build.sh)",
            path.display()
        )
    });
    let b = patch(&a);
    let args: Vec<String> = std::env::args().collect();
    if let Some(k) = args.iter().position(|x| x == "--memory-child") {
        memory_child(&a, &b, &args[k + 1]);
        return;
    }
    println!(
        "inputs: A {} bytes, B {} bytes ({})",
        a.len(),
        b.len(),
        path.display()
    );

    let structural = DiffOptions {
        wat: WatSelection::None,
        ..DiffOptions::default()
    };
    let r = repro_diff::diff(&a, &b, &structural).unwrap();
    let c = &r.functions.counts;
    println!(
        "functions: {} identical, {} moved, {} constants only, {} instructions differ; first cause: {:?}",
        c.identical,
        c.moved,
        c.constants_only,
        c.instructions_differ,
        r.causes.first().map(|c| c.kind)
    );

    // Peak memory of one diff, each measured in a fresh child process (this binary re-executed)
    // so that no earlier allocation is reused.
    for mode in ["structural", "wat"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--memory-child")
            .arg(mode)
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }

    let (min, med) = time(15, || {
        std::hint::black_box(repro_diff::diff(&a, &b, &structural).unwrap());
    });
    println!(
        "time (structural): min {:.1} ms, median {:.1} ms",
        min.as_secs_f64() * 1e3,
        med.as_secs_f64() * 1e3
    );
    let default = DiffOptions::default();
    let (min, med) = time(15, || {
        std::hint::black_box(repro_diff::diff(&a, &b, &default).unwrap());
    });
    println!(
        "time (with WAT of 3 functions): min {:.1} ms, median {:.1} ms",
        min.as_secs_f64() * 1e3,
        med.as_secs_f64() * 1e3
    );
    let (min, med) = time(15, || {
        std::hint::black_box(repro_diff::diff(&a, &a, &structural).unwrap());
    });
    println!(
        "time (self-diff): min {:.1} ms, median {:.1} ms",
        min.as_secs_f64() * 1e3,
        med.as_secs_f64() * 1e3
    );

    // Every module of the corpus against itself (and must not fail).
    let mut corpus = Vec::new();
    let mut stack = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let s = p.display().to_string();
            if p.is_dir() && !s.contains("/target") && !s.contains("/contracts") {
                stack.push(p);
            } else if s.ends_with(".wasm") {
                corpus.push(std::fs::read(&p).unwrap());
            }
        }
    }
    let start = Instant::now();
    let bytes: usize = corpus.iter().map(Vec::len).sum();
    for m in &corpus {
        let r = repro_diff::diff(m, m, &structural).expect("self-diff of a corpus module");
        assert!(r.identical && r.causes.is_empty());
    }
    println!(
        "corpus self-diff: {} modules, {} KiB, {:.1} ms total",
        corpus.len(),
        bytes / 1024,
        start.elapsed().as_secs_f64() * 1e3
    );
}
