//! Replay throughput: `preprocess` + `install` (optimize + serialize) on given modules, the same
//! work as the engine's `wasm_prep::preprocess` + `get_module_from_entry_points`. Prints one JSON
//! line per file, in the format of the oracle's `bench-ee-7.0.3`, so `benches/side-by-side.sh`
//! can put the two next to each other.
//!
//!     cargo bench -p repro-core --bench replay -- [--protocol 1.5.8] [--iterations N] FILE:ep1,ep2 ...

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use repro_core::{Protocol, ReplayOptions};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut iterations = 50usize;
    let mut protocol = "1.5.8".to_owned();
    let mut detailed = false;
    let mut inputs = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iterations" => {
                iterations = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--iterations N")
            }
            "--protocol" => protocol = args.next().expect("--protocol V"),
            "--detailed" => detailed = true,
            other => inputs.push(other.to_owned()),
        }
    }
    assert!(
        !inputs.is_empty(),
        "usage: replay [--protocol V] [--iterations N] FILE:ep1,ep2 ..."
    );
    let protocol =
        Protocol::mainnet(protocol.parse().expect("protocol version")).expect("known protocol");
    let options = ReplayOptions { detailed };
    for input in inputs {
        let (file, eps) = input.split_once(':').expect("FILE:ep1,ep2");
        let entry_points: Vec<&str> = eps.split(',').collect();
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let once = || {
            let pre = repro_core::preprocess(&protocol, &bytes, options).expect("accepted");
            pre.install_once(&entry_points)
                .expect("installed")
                .bytes
                .len()
        };
        for _ in 0..3 {
            std::hint::black_box(once());
        }
        let mut samples: Vec<u128> = (0..iterations)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(once());
                start.elapsed().as_nanos()
            })
            .collect();
        samples.sort_unstable();
        let mean = samples.iter().sum::<u128>() / samples.len() as u128;
        println!(
            "{{\"file\":\"{file}\",\"bytes\":{},\"iterations\":{iterations},\"mean_ns\":{mean},\"median_ns\":{},\"min_ns\":{}}}",
            bytes.len(),
            samples[samples.len() / 2],
            samples[0]
        );
    }
}
