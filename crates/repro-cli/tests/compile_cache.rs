//! `casper-repro build --sandbox --compile-cache DIR [--compile-cache-write]`: the compile cache
//! of sandboxed builds never changes the output, is really reused, survives a damaged entry, and is
//! out of the build's sight.
//!
//! The expected module is the fixture's sha256 as committed in `testdata/README.md` (built there
//! by `testdata/contracts/build.sh` with plain cargo), not anything this tool printed.
//!
//! Needs what `tests/sandbox.rs` needs: bubblewrap, `prlimit`, a writable pids cgroup and the
//! 1.95.0 toolchain with `wasm32v1-none` (all installed by `.ci/setup.sh`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The committed sha256 of `multi_ep.wasm`, from the fixture table of testdata/README.md.
fn committed_sha256() -> String {
    let readme = fs_err::read_to_string(repo().join("testdata/README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `multi_ep.wasm` |"))
        .expect("multi_ep.wasm's row in testdata/README.md");
    let sha = row.split('|').nth(3).unwrap().trim().trim_matches('`');
    assert_eq!(sha.len(), 64, "{row}");
    sha.to_owned()
}

/// `casper-repro build testdata/contracts -p multi_ep --sandbox` with the result cache off (so it
/// never short-circuits the build) and the shared cache directory `cache`, into `out`.
fn build(cache: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_casper-repro"))
        .arg("build")
        .arg(repo().join("testdata/contracts"))
        .args(["-p", "multi_ep", "--target", "wasm32v1-none", "--sandbox"])
        .args(["--no-cache", "--cache-dir"])
        .arg(cache)
        .arg("--out-dir")
        .arg(out)
        .args(extra)
        .output()
        .expect("run casper-repro")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The built module's sha256 (of the file's bytes) and the provenance's `compile_cache`.
fn result(o: &Output, out: &Path) -> (String, serde_json::Value) {
    assert!(o.status.success(), "{}", stderr(o));
    let wasm = fs_err::read(out.join("multi_ep.wasm")).unwrap();
    let prov: serde_json::Value =
        serde_json::from_slice(&fs_err::read(out.join("multi_ep.provenance.json")).unwrap())
            .unwrap();
    (
        hex::encode(Sha256::digest(&wasm)),
        prov["compile_cache"].clone(),
    )
}

/// Every file under `dir` whose path contains `needle`.
fn files_named(dir: &Path, needle: &str, out: &mut Vec<PathBuf>) {
    for e in fs_err::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_named(&p, needle, out);
        } else if p.to_string_lossy().contains(needle) {
            out.push(p);
        }
    }
}

/// Without the cache, storing into it (cold), and restored from it (hot): the same, committed
/// module every time; the hot build compiles none of the registry's crates. Then one byte of a
/// cached file is flipped: the entry is ignored, the build runs cold and is still right.
#[test]
fn the_compile_cache_is_reused_and_never_changes_the_bytes() {
    let want = committed_sha256();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let cc = work.path().join("compile-cache");
    let cc_arg = cc.display().to_string();

    // 1. No compile cache.
    let out1 = work.path().join("out1");
    let o1 = build(&cache, &out1, &[]);
    let (sha1, info1) = result(&o1, &out1);
    assert_eq!(sha1, want, "sandboxed, without the compile cache");
    assert!(info1.is_null(), "{info1}");

    // 2. A fresh compile cache, written: a miss that stores.
    let out2 = work.path().join("out2");
    let o2 = build(
        &cache,
        &out2,
        &["--compile-cache", &cc_arg, "--compile-cache-write"],
    );
    let (sha2, info2) = result(&o2, &out2);
    assert_eq!(sha2, want, "sandboxed, storing into the compile cache");
    assert_eq!(info2["hit"], false, "{info2}");
    assert_eq!(info2["stored"], true, "{info2}");
    let err2 = stderr(&o2);
    assert!(err2.contains("compile cache: no entry"), "{err2}");
    assert!(err2.contains("compile cache: stored"), "{err2}");
    // The cold build compiles the registry's crates (so the check on the hot one can fail).
    assert!(err2.contains("Compiling casper-types"), "{err2}");
    let deps2 = info2["dependencies_compiled"].as_array().unwrap();
    assert!(deps2.iter().any(|d| d == "casper-types v4.0.2"), "{info2}");
    let key = info2["key"].as_str().unwrap().to_owned();
    assert!(
        cc.join("entries")
            .join(&key)
            .join("manifest.json")
            .is_file()
    );

    // 3. Read only, the result cache off: a hit, nothing of the registry compiled.
    let out3 = work.path().join("out3");
    let o3 = build(&cache, &out3, &["--compile-cache", &cc_arg]);
    let (sha3, info3) = result(&o3, &out3);
    assert_eq!(sha3, want, "sandboxed, restored from the compile cache");
    assert_eq!(info3["hit"], true, "{info3}");
    assert_eq!(info3["key"], key.as_str(), "{info3}");
    assert_eq!(info3["stored"], false, "{info3}");
    assert!(info3["restored_files"].as_u64().unwrap() > 100, "{info3}");
    assert_eq!(
        info3["dependencies_compiled"],
        serde_json::json!([]),
        "{info3}"
    );
    assert!(
        info3["dependencies_reused"].as_u64().unwrap() > 50,
        "{info3}"
    );
    let err3 = stderr(&o3);
    for krate in ["casper-types", "casper-contract", "serde", "syn"] {
        assert!(
            !err3.contains(&format!("Compiling {krate} ")),
            "{krate} was compiled again:\n{err3}"
        );
    }
    assert!(err3.contains("compile cache: restored"), "{err3}");

    // 4. One byte of a cached casper-types rlib flipped: ignored, cold build, same bytes.
    let mut rlibs = Vec::new();
    files_named(
        &cc.join("entries").join(&key).join("tree"),
        "libcasper_types-",
        &mut rlibs,
    );
    let rlib = rlibs
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "rlib"))
        .expect("a cached casper-types rlib");
    let mut bytes = fs_err::read(rlib).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs_err::write(rlib, &bytes).unwrap();
    let out4 = work.path().join("out4");
    let o4 = build(&cache, &out4, &["--compile-cache", &cc_arg]);
    let (sha4, info4) = result(&o4, &out4);
    assert_eq!(sha4, want, "sandboxed, with a damaged compile cache entry");
    assert_eq!(info4["hit"], false, "{info4}");
    assert!(
        info4["note"]
            .as_str()
            .is_some_and(|n| n.contains("does not match the manifest")),
        "{info4}"
    );
    let err4 = stderr(&o4);
    assert!(err4.contains("ignored"), "{err4}");
    assert!(err4.contains("Compiling casper-types"), "{err4}");
}

/// The compile cache is not in the sandbox: a build script that reads a file planted in it is
/// stopped like one reading any file outside the tree.
#[test]
fn a_build_script_cannot_see_the_compile_cache() {
    let work = tempfile::tempdir().unwrap();
    let cc = work.path().join("compile-cache");
    let planted = cc.join("entries/planted.txt");
    fs_err::create_dir_all(planted.parent().unwrap()).unwrap();
    fs_err::write(&planted, "cache-s3cr3t").unwrap();
    let c = work.path().join("peek");
    fs_err::create_dir_all(c.join("src")).unwrap();
    fs_err::write(
        c.join("Cargo.toml"),
        "[package]\nname = \"peek\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n",
    )
    .unwrap();
    fs_err::write(
        c.join("Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"peek\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    fs_err::write(
        c.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"1.95.0\"\ntargets = [\"wasm32v1-none\"]\n",
    )
    .unwrap();
    fs_err::write(
        c.join("src/lib.rs"),
        "#![no_std]\n#[panic_handler]\nfn panic(_: &core::panic::PanicInfo) -> ! { loop {} }\n#[no_mangle]\npub extern \"C\" fn call() {}\n",
    )
    .unwrap();
    fs_err::write(
        c.join("build.rs"),
        format!(
            "fn main() {{ let s = std::fs::read_to_string({:?}).expect(\"read the compile cache\"); println!(\"cargo:warning={{s}}\"); }}\n",
            planted.display().to_string()
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_casper-repro"))
        .arg("build")
        .arg(&c)
        .args(["--target", "wasm32v1-none", "--sandbox", "--no-cache"])
        .arg("--cache-dir")
        .arg(work.path().join("cache"))
        .arg("--out-dir")
        .arg(work.path().join("out"))
        .arg("--compile-cache")
        .arg(&cc)
        .arg("--compile-cache-write")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("tried to use a path that is not in the sandbox"),
        "{err}"
    );
    assert!(!err.contains("cache-s3cr3t"), "{err}");
    // A failed build stores nothing.
    let entries: Vec<_> = fs_err::read_dir(cc.join("entries"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(entries, ["planted.txt"]);
}

/// The flags only make sense with --sandbox; given without it they are an error (exit 2), before
/// anything is built.
#[test]
fn the_compile_cache_flags_need_the_sandbox() {
    let work = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_casper-repro"))
            .arg("build")
            .arg(repo().join("testdata/contracts"))
            .args(["-p", "multi_ep", "--target", "wasm32v1-none", "--cache-dir"])
            .arg(work.path().join("cache"))
            .arg("--out-dir")
            .arg(work.path().join("out"))
            .args(args)
            .output()
            .unwrap()
    };
    let cc = work.path().join("cc").display().to_string();
    let o = run(&["--compile-cache", &cc]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--compile-cache is only used with --sandbox"),
        "{}",
        stderr(&o)
    );
    let o = run(&["--sandbox", "--compile-cache-write"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--compile-cache-write needs --compile-cache DIR"),
        "{}",
        stderr(&o)
    );
    assert!(!work.path().join("out").exists());
    assert!(!work.path().join("cc").exists());
}
