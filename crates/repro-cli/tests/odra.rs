//! Odra: `casper-repro build` of an Odra project (testdata/odra-cep18: the cep18 template's token
//! and the default template's Flipper, on odra 2.9.1 from crates.io) gives, for every contract of
//! Odra.toml, the bytes the real `cargo odra build` gives, for two cargo-odra releases: 0.1.3
//! (June 2024) and 0.1.8 (the current one, which also lowers bulk memory for new compilers).
//!
//! The references are made by the real tools, installed by `.ci/setup.sh` into `.tools/` (or
//! `$CASPER_REPRO_TOOLS`): `cargo install cargo-odra --version X --locked`, and binaryen 132's
//! wasm-opt from the npm registry (`.ci/tools/package-lock.json`), with wabt's wasm-strip
//! (Debian). Ours runs from another directory under another `$HOME`, with no cargo-odra on its PATH:
//! it installs its own binaryen and strips in process.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/files.rs"]
mod files;
use files::{copy_dir, post_steps, which};
#[path = "common/tools.rs"]
mod tools;
use tools::{need, npm_binaryen_bin, repo, tools};

const CONTRACTS: [&str; 2] = ["MyToken", "Flipper"];

/// `cargo odra build` with cargo-odra `version`, in `project`; returns each contract's bytes.
fn cargo_odra_build(project: &Path, version: &str) -> Vec<Vec<u8>> {
    let cargo_odra = need(
        tools().join(format!("cargo-odra-{version}/bin/cargo-odra")),
        &format!("cargo install cargo-odra --version {version} --locked"),
    );
    let wasm_opt_dir = npm_binaryen_bin();
    let wasm_strip =
        which("wasm-strip").expect("wabt's wasm-strip is needed (apt-get install wabt)");
    let path = std::env::join_paths(
        [wasm_opt_dir, wasm_strip.parent().unwrap().to_path_buf()]
            .into_iter()
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let _ = fs_err::remove_dir_all(project.join("wasm"));
    let out = Command::new(&cargo_odra)
        .args(["odra", "build"])
        .current_dir(project)
        .env("PATH", path)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTC")
        .env_remove("CARGO")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo odra build ({version}) failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    CONTRACTS
        .iter()
        .map(|c| fs_err::read(project.join(format!("wasm/{c}.wasm"))).unwrap())
        .collect()
}

/// `casper-repro build` of a copy of the project under another `$HOME`.
fn ours(dir: &Path, extra: &[&str]) -> (String, Vec<Vec<u8>>) {
    let project = dir.join("elsewhere/odra-cep18");
    if !project.is_dir() {
        copy_dir(&repo().join("testdata/odra-cep18"), &project);
    }
    let out_dir = dir.join(format!("out-{}", extra.join("-")));
    let home = dir.join("home");
    fs_err::create_dir_all(&home).unwrap();
    // No cargo-odra: only the system directories and rustup's cargo. (A system wasm-opt may be
    // there; the provenance shows that the npm binaryen ran.)
    let cargo_bin = which("cargo").unwrap().parent().unwrap().to_path_buf();
    let path = std::env::join_paths([
        cargo_bin,
        PathBuf::from("/usr/local/bin"),
        PathBuf::from("/usr/bin"),
        PathBuf::from("/bin"),
    ])
    .unwrap();
    assert!(
        std::env::split_paths(&path).all(|d| !d.join("cargo-odra").exists()),
        "cargo-odra is on the PATH casper-repro gets"
    );
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let out = Command::new(env!("CARGO_BIN_EXE_casper-repro"))
        .arg("build")
        .arg(&project)
        .args(extra)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .arg("--out-dir")
        .arg(&out_dir)
        .current_dir(dir)
        .env("HOME", &home)
        .env("CARGO_HOME", &cargo_home)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let bytes = CONTRACTS
        .iter()
        .map(|c| fs_err::read(out_dir.join(format!("{c}.wasm"))).unwrap())
        .collect();
    (stderr, bytes)
}

#[test]
fn cargo_odra_build_is_replayed_byte_for_byte_for_two_cargo_odra_releases() {
    let d = tempfile::tempdir().unwrap();
    // The references: one copy of the project, built by each cargo-odra in turn.
    let reference_dir = d.path().join("reference/odra-cep18");
    copy_dir(&repo().join("testdata/odra-cep18"), &reference_dir);
    let new = cargo_odra_build(&reference_dir, "0.1.8");
    let old = cargo_odra_build(&reference_dir, "0.1.3");
    // The two releases differ on this compiler (rustc nightly-2025-09-01, after LLVM 20): 0.1.8 lowers
    // memory.copy / memory.fill, 0.1.3 leaves them.
    assert_ne!(new, old, "cargo-odra 0.1.3 and 0.1.8 gave the same bytes");
    // The session of the end-to-end fixture (testdata/rpc/sidecar-2.0.3-v1-odra_cep18) is this
    // build's MyToken.
    assert!(
        fs_err::read(repo().join("testdata/wasm/odra_cep18_MyToken.wasm")).unwrap() == new[0],
        "testdata/wasm/odra_cep18_MyToken.wasm is not what cargo-odra 0.1.8 builds"
    );

    // Default: the cargo-odra that Cargo.lock's odra 2.9.1 implies, 0.1.8.
    let (stderr, ours_new) = ours(d.path(), &[]);
    assert!(
        stderr.contains("recipe odra: Odra.toml, and Cargo.toml depends on odra"),
        "{stderr}"
    );
    assert!(
        stderr.contains("with cargo-odra 0.1.8 (implied by Cargo.lock's odra 2.9.1"),
        "{stderr}"
    );
    assert!(stderr.contains("with binaryen 132"), "{stderr}");
    for (i, c) in CONTRACTS.iter().enumerate() {
        assert!(
            ours_new[i] == new[i],
            "{c}: casper-repro build differs from cargo-odra 0.1.8's ({} vs {} bytes)",
            ours_new[i].len(),
            new[i].len()
        );
    }
    let (stderr, ours_old) = ours(d.path(), &["--cargo-odra", "0.1.3"]);
    assert!(
        stderr.contains("with cargo-odra 0.1.3 (--cargo-odra)"),
        "{stderr}"
    );
    for (i, c) in CONTRACTS.iter().enumerate() {
        assert!(
            ours_old[i] == old[i],
            "{c}: casper-repro build --cargo-odra 0.1.3 differs from cargo-odra 0.1.3's ({} vs {} bytes)",
            ours_old[i].len(),
            old[i].len()
        );
    }
    // The provenance records the recipe: every command, and the tools with their versions.
    let prov: serde_json::Value = serde_json::from_slice(
        &fs_err::read(d.path().join("out-/MyToken.provenance.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(prov["recipe"]["kind"], "odra");
    let commands = prov["recipe"]["commands"].as_array().unwrap();
    assert_eq!(commands.len(), 4 * CONTRACTS.len());
    assert_eq!(
        commands[0],
        "ODRA_MODULE=MyToken cargo build --target wasm32-unknown-unknown --bin odra_cep18_build_contract --release"
    );
    let steps = post_steps(&prov);
    assert!(
        steps[0].starts_with(
            "wasm-opt --signext-lowering --enable-bulk-memory --llvm-memory-copy-fill-lowering (binaryen 132, npm binaryen@132.0.0 sha512-"
        ),
        "{steps:?}"
    );
    assert_eq!(steps[1], "strip-custom-sections");
}

/// A cargo-odra this tool does not know is refused before anything is built, with the known ones.
#[test]
fn an_unknown_cargo_odra_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let project = d.path().join("odra-cep18");
    copy_dir(&repo().join("testdata/odra-cep18"), &project);
    let out = Command::new(env!("CARGO_BIN_EXE_casper-repro"))
        .args(["build", "--cargo-odra", "9.9.9", "--cache-dir"])
        .arg(d.path().join("cache"))
        .arg(&project)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cargo-odra 9.9.9 is not one this tool replays (known: 0.1.0, 0.1.1, 0.1.2, 0.1.3, 0.1.4, 0.1.5, 0.1.6, 0.1.7, 0.1.8); pass one of those with --cargo-odra"),
        "{stderr}"
    );
    assert!(!d.path().join("cache/builds").exists(), "nothing is built");
}
