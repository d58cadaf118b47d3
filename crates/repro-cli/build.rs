//! The release link of `casper-repro` puts the functions a replay runs first in `.text`, in the
//! order of `replay-symbols.txt` (written by `benches/replay-symbol-order.sh`). A whole-process
//! replay is paid largely in page faults, and the code it runs is otherwise spread over the whole
//! binary (docs/fidelity.md, "Process start"). Layout only: no behaviour depends on it.
//!
//! Only where the linker is LLD, which reads the list: Rust's default for x86_64 Linux since 1.90
//! (`rust-toolchain.toml` pins 1.95), unless RUSTFLAGS choose a linker.
//! `CASPER_REPRO_SYMBOL_ORDER=off` links without it.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=replay-symbols.txt");
    println!("cargo:rerun-if-env-changed=CASPER_REPRO_SYMBOL_ORDER");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let wanted = var("PROFILE") == "release"
        && var("TARGET") == "x86_64-unknown-linux-gnu"
        && var("CASPER_REPRO_SYMBOL_ORDER") != "off"
        && !var("CARGO_ENCODED_RUSTFLAGS").contains("link")
        && rustc_links_with_lld(&var("RUSTC"));
    if !wanted {
        return;
    }
    let list = Path::new(&var("CARGO_MANIFEST_DIR")).join("replay-symbols.txt");
    println!(
        "cargo:rustc-link-arg-bin=casper-repro=-Wl,--symbol-ordering-file={}",
        list.display()
    );
    // Names the binary no longer has are skipped; benches/replay-process.sh counts them.
    println!("cargo:rustc-link-arg-bin=casper-repro=-Wl,--no-warn-symbol-ordering");
}

/// rustc 1.90 or later: LLD is then the default linker on x86_64 Linux.
fn rustc_links_with_lld(rustc: &str) -> bool {
    let Ok(out) = std::process::Command::new(rustc).arg("-vV").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(release) = text.lines().find_map(|l| l.strip_prefix("release: ")) else {
        return false;
    };
    let mut parts = release
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (1, 90)
}
