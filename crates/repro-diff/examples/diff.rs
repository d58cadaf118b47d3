//! `cargo run -p repro-diff --example diff A.wasm B.wasm`: the text report, without the CLI.

#![allow(clippy::print_stdout, clippy::print_stderr)]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [a, b] = args.as_slice() else {
        eprintln!("usage: diff A.wasm B.wasm");
        std::process::exit(2);
    };
    let read = |p: &str| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    match repro_diff::diff(&read(a), &read(b), &repro_diff::DiffOptions::default()) {
        Ok(r) => print!("{}", repro_diff::diff_text(&r)),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
