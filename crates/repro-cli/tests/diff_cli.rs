//! CLI tests of `casper-repro diff` and `inspect`: spawn the binary with a fixed environment in a
//! fresh temp dir and snapshot exit code + stdout + stderr together.

use std::path::{Path, PathBuf};
use std::process::Command;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

struct Run {
    tmp: tempfile::TempDir,
}

impl Run {
    fn new() -> Self {
        Run {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn wat(&self, name: &str, wat: &Path) -> PathBuf {
        self.write(name, &wat::parse_file(wat).unwrap())
    }

    /// Runs the binary and renders `exit: N`, stdout and stderr for a snapshot.
    fn run(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_casper-repro"))
            .args(args)
            .current_dir(self.tmp.path())
            .env_clear()
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        let tmp = self.tmp.path().display().to_string();
        let text = format!(
            "exit: {code}\n--- stdout\n{}--- stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .replace(&tmp, "[TMP]");
        (code, text)
    }
}

#[test]
fn pairs_text_and_json() {
    insta::glob!("../../../testdata/pairs", "*/a.wat", |path| {
        let dir = path.parent().unwrap();
        let run = Run::new();
        run.wat("a.wasm", &dir.join("a.wat"));
        run.wat("b.wasm", &dir.join("b.wat"));
        let (code, text) = run.run(&["diff", "a.wasm", "b.wasm"]);
        assert_eq!(code, 1);
        insta::assert_snapshot!("text", text);
        let (code, json) = run.run(&["diff", "a.wasm", "b.wasm", "--format", "json"]);
        assert_eq!(code, 1);
        let stdout = json
            .split("--- stdout\n")
            .nth(1)
            .unwrap()
            .split("--- stderr")
            .next()
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(stdout).expect("one JSON document on stdout");
        assert_eq!(v["schema_version"], 3);
        assert_eq!(v["kind"], "diff");
        let first = v["causes"][0]["kind"].as_str().unwrap().to_string();
        assert_eq!(first, dir.file_name().unwrap().to_string_lossy());
        insta::assert_snapshot!("json", json);
    });
}

#[test]
fn identical_exits_zero() {
    let run = Run::new();
    run.wat("a.wasm", &testdata().join("pairs/code_differs/a.wat"));
    let (code, text) = run.run(&["diff", "a.wasm", "a.wasm"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(text);
}

#[test]
fn function_and_context() {
    let run = Run::new();
    run.wat("a.wasm", &testdata().join("pairs/metering_constants/a.wat"));
    run.wat("b.wasm", &testdata().join("pairs/metering_constants/b.wat"));
    let (code, text) = run.run(&[
        "diff",
        "a.wasm",
        "b.wasm",
        "--function",
        "add",
        "--context",
        "1",
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(text);
    let (code, text) = run.run(&["diff", "a.wasm", "b.wasm", "--function", "nope"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(text);
}

#[test]
fn malformed_inputs_exit_2_with_offset() {
    let run = Run::new();
    let good = wat::parse_file(testdata().join("pairs/code_differs/a.wat")).unwrap();
    run.write("good.wasm", &good);
    run.write("truncated.wasm", &good[..good.len() - 3]);
    run.write("magic.wasm", b"\0asX\x01\0\0\0");
    run.write("leb.wasm", b"\0asm\x01\0\0\0\x01\xff\xff\xff\xff\xff\xff");
    run.write(
        "order.wasm",
        b"\0asm\x01\0\0\0\x07\x01\x00\x05\x03\x01\x00\x01",
    );
    let mut all = String::new();
    for bad in ["truncated.wasm", "magic.wasm", "leb.wasm", "order.wasm"] {
        let (code, text) = run.run(&["diff", "good.wasm", bad]);
        assert_eq!(code, 2, "{text}");
        assert!(text.contains("at offset 0x"), "{text}");
        all += &format!("$ diff good.wasm {bad}\n{text}\n");
        let (code, text) = run.run(&["inspect", bad]);
        assert_eq!(code, 2, "{text}");
        all += &format!("$ inspect {bad}\n{text}\n");
    }
    let (code, text) = run.run(&["diff", "good.wasm", "missing.wasm"]);
    assert_eq!(code, 2);
    all += &format!("$ diff good.wasm missing.wasm\n{text}");
    insta::assert_snapshot!(all);
}

#[test]
fn inspect_pairs() {
    let run = Run::new();
    run.wat(
        "metered.wasm",
        &testdata().join("pairs/instrumented_one_side/a.wat"),
    );
    run.wat("paths.wasm", &testdata().join("pairs/build_paths/a.wat"));
    run.wat("rustc.wasm", &testdata().join("pairs/rustc_differs/a.wat"));
    for m in ["metered.wasm", "paths.wasm", "rustc.wasm"] {
        let (code, text) = run.run(&["inspect", m]);
        assert_eq!(code, 0, "{text}");
        insta::assert_snapshot!(format!("inspect_{}", m.trim_end_matches(".wasm")), text);
    }
    let (code, text) = run.run(&["inspect", "metered.wasm", "--format", "json"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("inspect_metered_json", text);
}

/// Real fixture builds (testdata/wasm, made by testdata/contracts/build.sh).
#[test]
fn real_fixtures() {
    let wasm = testdata().join("wasm");
    let needed = ["multi_ep.wasm", "multi_ep_stripped.wasm", "sign_ext.wasm"];
    for n in needed {
        assert!(
            wasm.join(n).exists(),
            "missing fixture {n}: run testdata/contracts/build.sh"
        );
    }
    let run = Run::new();
    for n in needed {
        run.write(n, &std::fs::read(wasm.join(n)).unwrap());
    }
    // Stripped vs not: only custom sections differ.
    let (code, text) = run.run(&["diff", "multi_ep.wasm", "multi_ep_stripped.wasm"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("real_multi_ep_vs_stripped", text);
    let (code, text) = run.run(&["inspect", "multi_ep.wasm"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("real_inspect_multi_ep", text);
}

/// Pairs of real modules (testdata/pairs/real_*: stored modules replayed at several protocol
/// versions, fixture builds with another path remap, opt-level or rustc): the first cause, and
/// with the mainnet profiles, which protocol each side fits.
#[test]
fn real_pairs_with_mainnet_profiles() {
    let pairs = testdata().join("pairs");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&pairs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("a.ref").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 9, "{dirs:?}");
    for dir in dirs {
        let run = Run::new();
        let read = |n: &str| {
            let rel = std::fs::read_to_string(dir.join(n)).unwrap();
            std::fs::read(testdata().join(rel.trim())).unwrap()
        };
        run.write("a.wasm", &read("a.ref"));
        run.write("b.wasm", &read("b.ref"));
        let (code, json) = run.run(&["diff", "a.wasm", "b.wasm", "--format", "json"]);
        assert_eq!(code, 1, "{json}");
        let stdout = json
            .split("--- stdout\n")
            .nth(1)
            .unwrap()
            .split("--- stderr")
            .next()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
        let expected = std::fs::read_to_string(dir.join("expected-cause")).unwrap();
        assert_eq!(
            v["causes"][0]["kind"].as_str(),
            Some(expected.trim()),
            "{}",
            dir.display()
        );
        let name = dir.file_name().unwrap().to_string_lossy().replace('.', "_");
        let snapshot = [
            "real_metering",
            "real_stack",
            "real_build_paths",
            "real_opt_level",
            "real_rustc",
        ];
        if snapshot.iter().any(|p| name.starts_with(p)) {
            let (_, text) = run.run(&["diff", "a.wasm", "b.wasm"]);
            insta::assert_snapshot!(name, text);
        }
    }
    let run = Run::new();
    run.write(
        "stored.wasm",
        &std::fs::read(pairs.join("stored/multi_ep@2.0.0.wasm")).unwrap(),
    );
    let (code, text) = run.run(&["inspect", "stored.wasm"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("real_inspect_stored_2_0_0", text);
}

#[test]
fn help() {
    let run = Run::new();
    let (_, text) = run.run(&["diff", "--help"]);
    insta::assert_snapshot!("diff_help", text);
    let (_, text) = run.run(&["inspect", "--help"]);
    insta::assert_snapshot!("inspect_help", text);
}
