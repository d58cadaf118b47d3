//! `casper-repro build` end to end: every error path (exit 2, nothing in --out-dir), and
//! `--strip custom` byte-equal to wabt's `wasm-strip`. Spawns the binary with a fixed environment.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/files.rs"]
mod files;
use files::{copy_dir, post_steps, which};
#[path = "common/tools.rs"]
mod tools;
use tools::npm_binaryen_bin;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../repro-build/tests/fixtures")
}

/// The reference: GNU make running `rule` in `ws`, with these directories first on PATH (the
/// real wasm-strip, wasm-opt); returns `artifact` (relative to `ws`).
fn make_reference(ws: &Path, rule: &str, first_on_path: &[PathBuf], artifact: &str) -> Vec<u8> {
    assert!(
        which("make").is_some(),
        "GNU make is needed: it runs the reference build"
    );
    let path = std::env::join_paths(
        first_on_path
            .iter()
            .cloned()
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let made = Command::new("make")
        .arg(rule)
        .current_dir(ws)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "make {rule}: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    fs_err::read(ws.join(artifact)).unwrap()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `casper-repro build ARGS` in `dir` with the real toolchains but a private cache.
fn build(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casper-repro"));
    cmd.arg("build")
        .args(args)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .arg("--out-dir")
        .arg(dir.join("out"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("RUST_LOG");
    let out = cmd.output().expect("spawn casper-repro");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn snapshot_text(run: &Run, dir: &Path) -> String {
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    );
    let mut text = text.replace(&dir.display().to_string(), "[TEMP]");
    // The private work directory has a random suffix.
    while let Some(i) = text.find("/cache/work/build-") {
        let start = i + "/cache/work/build-".len();
        let end = text[start..].find('/').map_or(text.len(), |e| start + e);
        text.replace_range(i..end, "/cache/work/[BUILD]");
    }
    // Keep the first lines of rustup/cargo diagnostics stable: drop progress and timings.
    text = text
        .lines()
        .filter(|l| !l.starts_with("casper-repro: cargo step finished") && !l.starts_with('['))
        .map(|l| format!("{l}\n"))
        .collect();
    text
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    fs_err::create_dir_all(p.parent().unwrap()).unwrap();
    fs_err::write(p, text).unwrap();
}

/// A standalone crate pinned to 1.95.0 (installed by the tool if missing).
fn crate_with(dir: &Path, manifest_extra: &str, lib_rs: &str) -> PathBuf {
    let c = dir.join("c");
    write(
        &c,
        "Cargo.toml",
        &format!(
            "[package]\nname = \"c\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{manifest_extra}\n[workspace]\n"
        ),
    );
    write(&c, "rust-toolchain", "1.95.0\n");
    write(&c, "src/lib.rs", lib_rs);
    write(
        &c,
        "Cargo.lock",
        "version = 4\n\n[[package]]\nname = \"c\"\nversion = \"0.1.0\"\n",
    );
    c
}

const OK_LIB: &str = "#![no_std]\n#[panic_handler]\nfn p(_: &core::panic::PanicInfo) -> ! { loop {} }\n#[no_mangle]\npub extern \"C\" fn call() {}\n";

fn assert_error(name: &str, dir: &Path, run: &Run) {
    assert_eq!(run.code, 2, "{name}: {}", run.stderr);
    assert!(run.stdout.is_empty(), "{name}: nothing on stdout");
    let out = dir.join("out");
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(
        leftovers.is_empty(),
        "{name}: --out-dir must stay empty: {leftovers:?}"
    );
    insta::assert_snapshot!(name, snapshot_text(run, dir));
}

#[test]
fn error_no_such_crate() {
    let d = tempfile::tempdir().unwrap();
    let run = build(d.path(), &["nowhere"]);
    assert_error("error_no_such_crate", d.path(), &run);
}

#[test]
fn error_no_lockfile_without_lock_at() {
    let d = tempfile::tempdir().unwrap();
    let c = crate_with(d.path(), "[lib]\ncrate-type = [\"cdylib\"]\n", OK_LIB);
    fs_err::remove_file(c.join("Cargo.lock")).unwrap();
    let run = build(d.path(), &["c", "--target", "wasm32v1-none"]);
    assert_error("error_no_lockfile", d.path(), &run);
}

#[test]
fn error_bad_lock_at_and_bad_remap() {
    let d = tempfile::tempdir().unwrap();
    crate_with(d.path(), "", OK_LIB);
    let run = build(d.path(), &["c", "--lock-at", "last tuesday"]);
    assert_error("error_bad_lock_at", d.path(), &run);
    let run = build(d.path(), &["c", "--remap", "{nope}=/x"]);
    assert_error("error_bad_remap", d.path(), &run);
}

#[test]
fn error_no_wasm_produced() {
    let d = tempfile::tempdir().unwrap();
    crate_with(d.path(), "", OK_LIB); // an rlib: no cdylib, no bin
    let run = build(d.path(), &["c", "--target", "wasm32v1-none"]);
    assert_error("error_no_wasm_produced", d.path(), &run);
}

#[test]
fn error_compile_error_shows_the_tail_of_cargo_stderr() {
    let d = tempfile::tempdir().unwrap();
    crate_with(
        d.path(),
        "[lib]\ncrate-type = [\"cdylib\"]\n",
        "#![no_std]\nfn broken( {}\n",
    );
    let run = build(d.path(), &["c", "--target", "wasm32v1-none"]);
    assert!(
        run.stderr.contains("error: cargo build failed")
            || run.stderr.contains("cargo build failed")
    );
    assert!(run.stderr.contains("src/lib.rs"), "{}", run.stderr);
    assert_error("error_compile_error", d.path(), &run);
}

#[test]
fn error_no_such_package() {
    let d = tempfile::tempdir().unwrap();
    crate_with(d.path(), "[lib]\ncrate-type = [\"cdylib\"]\n", OK_LIB);
    let run = build(d.path(), &["c", "-p", "nope", "--target", "wasm32v1-none"]);
    assert_error("error_no_such_package", d.path(), &run);
}

#[test]
fn error_unknown_toolchain() {
    let d = tempfile::tempdir().unwrap();
    crate_with(d.path(), "[lib]\ncrate-type = [\"cdylib\"]\n", OK_LIB);
    let run = build(d.path(), &["c", "--toolchain", "nightly-2099-01-01"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unknown toolchain `nightly-2099-01-01`"),
        "{}",
        run.stderr
    );
    insta::assert_snapshot!(
        "error_unknown_toolchain",
        first_lines(&snapshot_text(&run, d.path()), 6)
    );
}

#[test]
fn error_target_unavailable_fails_fast() {
    let d = tempfile::tempdir().unwrap();
    crate_with(d.path(), "[lib]\ncrate-type = [\"cdylib\"]\n", OK_LIB);
    let t = std::time::Instant::now();
    // The mirror has this nightly but no wasm32 standard library for it.
    let run = build(
        d.path(),
        &[
            "c",
            "--toolchain",
            "nightly-2022-06-15",
            "--target",
            "wasm32-unknown-unknown",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("has no `wasm32-unknown-unknown` standard library"),
        "{}",
        run.stderr
    );
    assert!(
        t.elapsed() < std::time::Duration::from_secs(60),
        "took {:?}",
        t.elapsed()
    );
    insta::assert_snapshot!(
        "error_target_unavailable",
        first_lines(&snapshot_text(&run, d.path()), 6)
    );
}

#[test]
fn error_offline_refuses_to_install() {
    let d = tempfile::tempdir().unwrap();
    crate_with(d.path(), "[lib]\ncrate-type = [\"cdylib\"]\n", OK_LIB);
    let run = build(
        d.path(),
        &["c", "--offline", "--toolchain", "nightly-2020-01-01"],
    );
    assert_error("error_offline_refuses_install", d.path(), &run);
}

#[test]
fn error_time_limit_exceeded() {
    let d = tempfile::tempdir().unwrap();
    let c = crate_with(
        d.path(),
        "build = \"build.rs\"\n[lib]\ncrate-type = [\"cdylib\"]\n",
        OK_LIB,
    );
    write(
        &c,
        "build.rs",
        "fn main() { std::thread::sleep(std::time::Duration::from_secs(120)); }\n",
    );
    let run = build(
        d.path(),
        &["c", "--target", "wasm32v1-none", "--time-limit", "3"],
    );
    assert_error("error_time_limit", d.path(), &run);
}

#[test]
fn error_memory_limit_exceeded() {
    let d = tempfile::tempdir().unwrap();
    let c = crate_with(
        d.path(),
        "build = \"build.rs\"\n[lib]\ncrate-type = [\"cdylib\"]\n",
        OK_LIB,
    );
    write(
        &c,
        "build.rs",
        "fn main() { let v = vec![1u8; 1 << 30]; println!(\"{}\", v[12345]); }\n",
    );
    let run = build(
        d.path(),
        &["c", "--target", "wasm32v1-none", "--memory-limit", "512"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("exceeded the memory limit of 512 MiB"),
        "{}",
        run.stderr
    );
    insta::assert_snapshot!(
        "error_memory_limit",
        first_lines(&snapshot_text(&run, d.path()), 8)
    );
}

fn first_lines(s: &str, n: usize) -> String {
    s.lines().take(n).map(|l| format!("{l}\n")).collect()
}

#[test]
fn strip_custom_is_byte_equal_to_wabt_wasm_strip() {
    let wasm_strip = which("wasm-strip").expect(
        "wabt's wasm-strip is needed for this test (apt-get install wabt); it is the reference for --strip custom",
    );
    let d = tempfile::tempdir().unwrap();
    let ws = d.path().join("hello-ws");
    copy_dir(&fixtures().join("hello-ws"), &ws);
    let plain = build(
        d.path(),
        &["hello-ws", "--target", "wasm32v1-none", "--format", "json"],
    );
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let mut doc: serde_json::Value = serde_json::from_str(&plain.stdout).unwrap();
    doc["elapsed_ms"] = 0.into();
    doc["cache_key"] = "[KEY]".into();
    for a in doc["artifacts"].as_array_mut().unwrap() {
        for field in ["path", "provenance"] {
            let p = a[field]
                .as_str()
                .unwrap()
                .replace(d.path().to_str().unwrap(), "[TMP]");
            a[field] = p.into();
        }
    }
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("build_json", doc);
    });
    let raw = fs_err::read(d.path().join("out/hello_contract.wasm")).unwrap();
    fs_err::rename(d.path().join("out"), d.path().join("out-plain")).unwrap();
    let stripped = build(
        d.path(),
        &["hello-ws", "--target", "wasm32v1-none", "--strip", "custom"],
    );
    assert_eq!(stripped.code, 0, "{}", stripped.stderr);
    let ours = fs_err::read(d.path().join("out/hello_contract.wasm")).unwrap();
    let reference = d.path().join("reference.wasm");
    fs_err::write(&reference, &raw).unwrap();
    let st = Command::new(wasm_strip).arg(&reference).status().unwrap();
    assert!(st.success());
    let wabt = fs_err::read(&reference).unwrap();
    assert_ne!(
        raw, wabt,
        "the fixture must carry custom sections for this test to mean anything"
    );
    assert_eq!(ours, wabt, "--strip custom == wasm-strip");
    let prov: serde_json::Value = serde_json::from_slice(
        &fs_err::read(d.path().join("out/hello_contract.provenance.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(prov["post_processing"][0]["step"], "strip-custom-sections");
}

/// A make project (the Makefile of casper-ecosystem/cep18, for this workspace's contract and
/// target): `build` reads the Makefile without running it, builds what its `build-contracts` rule
/// builds and strips what it strips. The reference is the real thing: GNU make running that rule
/// with cargo and wabt's wasm-strip, in another copy of the project.
#[test]
fn a_make_project_is_rebuilt_as_its_makefile_builds_it() {
    let wasm_strip = which("wasm-strip").expect(
        "wabt's wasm-strip is needed for this test (apt-get install wabt): the Makefile runs it",
    );
    let wabt_dir = wasm_strip.parent().unwrap().to_path_buf();
    let makefile = "ALL_CONTRACTS = hello-contract\nCONTRACT_TARGET_DIR = target/wasm32v1-none/release\n\nprepare:\n\trustup target add wasm32v1-none\n\n.PHONY:\tbuild-contracts\nbuild-contracts:\n\tcargo build --release --target wasm32v1-none $(patsubst %, -p %, $(ALL_CONTRACTS))\n\t$(foreach WASM, $(ALL_CONTRACTS), wasm-strip $(CONTRACT_TARGET_DIR)/$(subst -,_,$(WASM)).wasm 2>/dev/null | true;)\n";
    let d = tempfile::tempdir().unwrap();
    for copy in ["ours", "reference"] {
        let ws = d.path().join(copy).join("hello-ws");
        copy_dir(&fixtures().join("hello-ws"), &ws);
        fs_err::write(ws.join("Makefile"), makefile).unwrap();
    }
    // The reference: make itself, with the real wasm-strip first on PATH.
    let reference_ws = d.path().join("reference/hello-ws");
    let artifact = "target/wasm32v1-none/release/hello_contract.wasm";
    let reference = make_reference(
        &reference_ws,
        "build-contracts",
        std::slice::from_ref(&wabt_dir),
        artifact,
    );

    let ours_dir = d.path().join("ours");
    let run = build(&ours_dir, &["hello-ws"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "recipe make: Makefile rule `build-contracts` runs cargo build, then wasm-strip"
        ),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("not replayed from the Makefile"),
        "{}",
        run.stderr
    );
    let ours = fs_err::read(ours_dir.join("out/hello_contract.wasm")).unwrap();
    assert_eq!(
        ours, reference,
        "casper-repro build == make build-contracts"
    );
    let prov: serde_json::Value = serde_json::from_slice(
        &fs_err::read(ours_dir.join("out/hello_contract.provenance.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(prov["recipe"]["kind"], "make");
    assert_eq!(prov["recipe"]["rule"], "build-contracts");
    assert_eq!(prov["target"], "wasm32v1-none");
    assert_eq!(prov["packages"], serde_json::json!(["hello-contract"]));
    assert_eq!(
        prov["post_processing"][0]["step"],
        "strip-custom-sections(hello_contract.wasm)"
    );
    fs_err::remove_dir_all(ours_dir.join("out")).unwrap();

    // Forced plain cargo: cargo's own output, custom sections and all.
    let plain = build(
        &ours_dir,
        &[
            "hello-ws",
            "--recipe",
            "cargo",
            "--target",
            "wasm32v1-none",
            "-p",
            "hello-contract",
        ],
    );
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(
        plain.stderr.contains("recipe cargo: --recipe cargo"),
        "{}",
        plain.stderr
    );
    assert_ne!(
        fs_err::read(ours_dir.join("out/hello_contract.wasm")).unwrap(),
        reference
    );
    fs_err::remove_dir_all(ours_dir.join("out")).unwrap();

    // The cargo-casper template's style (resources/Makefile.in of cargo-casper 3.0.0): cargo runs
    // in the contract's directory. Again against make itself.
    let template = "prepare:\n\tcd contract && true && cd ..\n\nbuild-contract: prepare\n\tcd contract && cargo build --release --target wasm32v1-none\n\twasm-strip target/wasm32v1-none/release/hello_contract.wasm 2>/dev/null | true\n";
    for ws in [&reference_ws, &ours_dir.join("hello-ws")] {
        fs_err::write(ws.join("Makefile"), template).unwrap();
    }
    fs_err::remove_dir_all(reference_ws.join("target")).unwrap();
    let reference = make_reference(
        &reference_ws,
        "build-contract",
        std::slice::from_ref(&wabt_dir),
        artifact,
    );
    let sub = build(&ours_dir, &["hello-ws"]);
    assert_eq!(sub.code, 0, "{}", sub.stderr);
    assert!(
        sub.stderr.contains("rule `build-contract`"),
        "{}",
        sub.stderr
    );
    assert_eq!(
        fs_err::read(ours_dir.join("out/hello_contract.wasm")).unwrap(),
        reference,
        "casper-repro build == make build-contract (cargo in a subdirectory)"
    );
    fs_err::remove_dir_all(ours_dir.join("out")).unwrap();

    // wasm-opt in the Makefile, in place, then wasm-strip: replayed in that order, with this
    // tool's binaryen (default 132, installed from the npm registry). The reference: make with
    // binaryen 132's own wasm-opt from the npm registry (.ci/tools) and wabt's wasm-strip.
    let npm_bin = npm_binaryen_bin();
    let with_opt = format!(
        "build-contracts:\n\tcargo build --release --target wasm32v1-none -p hello-contract\n\twasm-opt -Oz --signext-lowering {artifact} -o {artifact}\n\twasm-strip {artifact}\n"
    );
    for ws in [&reference_ws, &ours_dir.join("hello-ws")] {
        fs_err::write(ws.join("Makefile"), &with_opt).unwrap();
    }
    fs_err::remove_dir_all(reference_ws.join("target")).unwrap();
    let reference = make_reference(
        &reference_ws,
        "build-contracts",
        &[npm_bin, wabt_dir],
        artifact,
    );
    let opt = build(&ours_dir, &["hello-ws"]);
    assert_eq!(opt.code, 0, "{}", opt.stderr);
    assert!(opt.stderr.contains("with binaryen 132"), "{}", opt.stderr);
    assert_eq!(
        fs_err::read(ours_dir.join("out/hello_contract.wasm")).unwrap(),
        reference,
        "casper-repro build == make build-contracts (wasm-opt -Oz, then wasm-strip)"
    );
    let prov: serde_json::Value = serde_json::from_slice(
        &fs_err::read(ours_dir.join("out/hello_contract.provenance.json")).unwrap(),
    )
    .unwrap();
    let steps = post_steps(&prov);
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert!(
        steps[0].starts_with(
            "wasm-opt -Oz --signext-lowering (binaryen 132, npm binaryen@132.0.0 sha512-"
        ),
        "{steps:?}"
    );
    assert_eq!(steps[1], "strip-custom-sections(hello_contract.wasm)");
    assert!(
        prov["recipe"]["tools"][0]
            .as_str()
            .unwrap()
            .starts_with("binaryen 132 (npm binaryen@132.0.0, sha512-"),
        "{}",
        prov["recipe"]
    );
    fs_err::remove_dir_all(ours_dir.join("out")).unwrap();

    // A wasm-opt step that writes another file is not replayed: an error that names it, never a
    // plain build.
    fs_err::write(
        ours_dir.join("hello-ws/Makefile"),
        format!("build-contracts:\n\tcargo build --release --target wasm32v1-none -p hello-contract\n\twasm-opt --signext-lowering {artifact} -o x.wasm\n"),
    )
    .unwrap();
    let opt = build(&ours_dir, &["hello-ws"]);
    assert_eq!(opt.code, 2, "{}", opt.stderr);
    assert!(
        opt.stderr
            .contains("into another file `x.wasm`; only a module rewritten in place is replayed"),
        "{}",
        opt.stderr
    );
    assert!(!ours_dir.join("out").exists());
}

#[test]
fn help_is_stable() {
    let out = Command::new(env!("CARGO_BIN_EXE_casper-repro"))
        .args(["build", "--help"])
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    insta::assert_snapshot!("build_help", String::from_utf8_lossy(&out.stdout));
}

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

/// `--toolchain auto` without a module to infer from, and with modules that do not name their
/// compiler: wabt's wasm-strip output of a fixture that embeds no `/rustc/` path, and a
/// hand-written module.
#[test]
fn toolchain_auto_errors_say_why_and_what_to_pass() {
    let d = tempfile::tempdir().unwrap();
    crate_with(d.path(), "[lib]\ncrate-type = [\"cdylib\"]\n", OK_LIB);
    let run = build(d.path(), &["c", "--toolchain", "auto"]);
    assert_error("error_toolchain_auto_without_module", d.path(), &run);

    fs_err::copy(
        testdata("wasm/multi_ep_stripped.wasm"),
        d.path().join("stripped.wasm"),
    )
    .unwrap();
    let run = build(
        d.path(),
        &["c", "--toolchain", "auto", "--infer-from", "stripped.wasm"],
    );
    assert_error("error_toolchain_auto_no_evidence", d.path(), &run);

    let wat = wat::parse_str(r#"(module (func (export "call")))"#).unwrap();
    fs_err::write(d.path().join("hand.wasm"), wat).unwrap();
    let run = build(
        d.path(),
        &["c", "--toolchain", "auto", "--infer-from", "hand.wasm"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "cannot infer the toolchain from hand.wasm: the module does not name its compiler"
        ),
        "{}",
        run.stderr
    );
}

/// `--toolchain auto --infer-from` a fixture module that rustc 1.95.0 built (testdata/README.md):
/// the crate, pinned to another toolchain, is built with 1.95.0, and the JSON result and the
/// provenance say what was inferred from what.
#[test]
fn toolchain_auto_builds_with_the_compiler_of_the_module() {
    let d = tempfile::tempdir().unwrap();
    let c = crate_with(d.path(), "[lib]\ncrate-type = [\"cdylib\"]\n", OK_LIB);
    write(&c, "rust-toolchain", "nightly-2023-01-09\n");
    fs_err::copy(testdata("wasm/multi_ep.wasm"), d.path().join("upload.wasm")).unwrap();
    let run = build(
        d.path(),
        &[
            "c",
            "--toolchain",
            "auto",
            "--infer-from",
            "upload.wasm",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("casper-repro: toolchain inferred: 1.95.0 (from the producers section: processed-by: rustc 1.95.0 (59807616e 2026-04-14))"),
        "{}",
        run.stderr
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["toolchain"], "1.95.0");
    assert_eq!(doc["inferred"]["from"], "producers");
    assert_eq!(
        doc["inferred"]["commit"],
        "59807616e1fa2540724bfbac14d7976d7e4a3860"
    );
    let prov: serde_json::Value =
        serde_json::from_slice(&fs_err::read(d.path().join("out/c.provenance.json")).unwrap())
            .unwrap();
    let pinned_by = prov["toolchain"]["pinned_by"].as_str().unwrap();
    assert!(
        pinned_by.starts_with("--toolchain auto: 1.95.0 (from the producers section"),
        "{pinned_by}"
    );
    assert!(
        prov["toolchain"]["rustc_vv"]
            .as_str()
            .unwrap()
            .contains("commit-hash: 59807616e1fa2540724bfbac14d7976d7e4a3860")
    );
}
