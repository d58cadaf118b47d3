//! End-to-end builds of the fixtures under `tests/fixtures/` with real toolchains.
//!
//! Every toolchain is installed through rustup by the library itself when missing (1.95.0 with
//! `wasm32v1-none`, nightly-2023-03-25 with `wasm32-unknown-unknown`, and the `nightly` that
//! reconstructs locks); a test that cannot get one fails with rustup's message, never passes.
//! The registry tests need crates.io.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use repro_build::{
    BuildRequest, CacheConfig, HostEnv, Limits, LockAt, NoProgress, Provenance, Remap,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn copy_tree(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).unwrap();
    for entry in fs_err::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "target" {
                copy_tree(&entry.path(), &dest);
            }
        } else {
            fs_err::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A build of `crate_dir` "on another machine": its own `$HOME` (and so `$CARGO_HOME`), cache
/// and out dir under `root`.
fn request(crate_dir: &Path, root: &Path, target: &str) -> BuildRequest {
    BuildRequest {
        crate_dir: crate_dir.to_path_buf(),
        packages: Vec::new(),
        toolchain: None,
        inferred: None,
        target: target.into(),
        features: Vec::new(),
        no_default_features: false,
        lock_at: None,
        remaps: Vec::new(),
        post_process: Vec::new(),
        units: Vec::new(),
        recipe: None,
        out_dir: root.join("out"),
        offline: false,
        limits: Limits::default(),
        sandbox: None,
        compile_cache: None,
        cache: CacheConfig {
            dir: root.join("home/.cache/casper-repro"),
            enabled: true,
        },
        resolver_toolchain: repro_build::DEFAULT_RESOLVER_TOOLCHAIN.into(),
        host: HostEnv::with_home(root.join("home")),
        tool_argv: vec!["test".into()],
        tool_name: "casper-repro".into(),
        tool_version: "0.0.0-test".into(),
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The versions of `name` in the provenance's lock.
fn versions<'a>(p: &'a Provenance, name: &str) -> Vec<&'a str> {
    p.lock
        .packages
        .get(name)
        .map(|v| v.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

fn read_provenance(path: &Path) -> Provenance {
    serde_json::from_slice(&fs_err::read(path).unwrap()).unwrap()
}

/// Provenance as JSON with the fields that depend on the machine, the run or the temp dirs
/// replaced by placeholders.
fn stable_provenance(p: &Provenance, temp_roots: &[&Path]) -> serde_json::Value {
    let mut text = serde_json::to_string_pretty(p).unwrap();
    for root in temp_roots {
        text = text.replace(&root.display().to_string(), "[TEMP]");
    }
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for step in v["steps"].as_array_mut().unwrap() {
        step["env"]["PATH"] = "[PATH]".into();
        step["env"]["RUSTUP_HOME"] = "[RUSTUP_HOME]".into();
        step["env"]["RUSTC"] = "[TOOLCHAIN]/bin/rustc".into();
        step["program"] = "[TOOLCHAIN]/bin/cargo".into();
        for k in repro_build::PASSTHROUGH_VARS {
            if let Some(env) = step["env"].as_object_mut() {
                env.remove(*k);
            }
        }
        if let Some(argv) = step["argv"].as_array_mut() {
            for a in argv.iter_mut() {
                if a.as_str().is_some_and(|s| s.contains("/target/")) {
                    *a = "[TARGET_DIR]".into();
                }
            }
        }
    }
    v
}

#[test]
fn same_bytes_from_two_directories_under_two_homes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let dir_a = a.path().join("src/hello-ws");
    let dir_b = b.path().join("some/where/else/hello-ws");
    copy_tree(&fixture("hello-ws"), &dir_a);
    copy_tree(&fixture("hello-ws"), &dir_b);
    let out_a =
        repro_build::build(&request(&dir_a, a.path(), "wasm32v1-none"), &mut NoProgress).unwrap();
    let out_b =
        repro_build::build(&request(&dir_b, b.path(), "wasm32v1-none"), &mut NoProgress).unwrap();
    assert_eq!(
        out_a.artifacts.len(),
        1,
        "virtual workspace: every cdylib member, here one"
    );
    let wasm_a = fs_err::read(&out_a.artifacts[0].path).unwrap();
    let wasm_b = fs_err::read(&out_b.artifacts[0].path).unwrap();
    assert_eq!(
        wasm_a, wasm_b,
        "same inputs, different directory and $HOME: same bytes"
    );
    // The panic location of the path dependency is embedded relative to the workspace root; no
    // private location leaks.
    assert!(contains(&wasm_a, "helper/src/lib.rs"));
    for root in [a.path(), b.path()] {
        assert!(!contains(&wasm_a, &root.display().to_string()));
    }
    assert!(!contains(&wasm_a, "casper-repro"));
    // The provenance differs only in machine-specific values.
    let pa = read_provenance(&out_a.artifacts[0].provenance_path);
    let pb = read_provenance(&out_b.artifacts[0].provenance_path);
    assert_eq!(
        stable_provenance(&pa, &[a.path()]),
        stable_provenance(&pb, &[b.path()])
    );
    // Sorted maps: serde_json's map order depends on its `preserve_order` feature, which the
    // workspace unifies on (casper-types enables it) but `cargo test -p repro-build` does not.
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("provenance_hello_ws", stable_provenance(&pa, &[a.path()]));
    });

    // The user's tree is never written to.
    assert!(!dir_a.join("target").exists());
    assert_eq!(
        repro_build::tree_digest(&dir_a).unwrap().sha256,
        repro_build::tree_digest(&fixture("hello-ws"))
            .unwrap()
            .sha256
    );

    // A repeated build is a cache hit, well under a second.
    let t = Instant::now();
    let again =
        repro_build::build(&request(&dir_a, a.path(), "wasm32v1-none"), &mut NoProgress).unwrap();
    assert!(again.cache_hit);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "cache hit took {:?}",
        t.elapsed()
    );
    assert_eq!(fs_err::read(&again.artifacts[0].path).unwrap(), wasm_a);
}

#[test]
fn concurrent_identical_builds_are_safe() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("hello-ws");
    copy_tree(&fixture("hello-ws"), &dir);
    let mut req = request(&dir, root.path(), "wasm32v1-none");
    req.packages = vec!["hello-contract".into()];
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let mut r = req.clone();
            r.out_dir = root.path().join(format!("out-{i}"));
            std::thread::spawn(move || repro_build::build(&r, &mut NoProgress))
        })
        .collect();
    let outs: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    assert_eq!(
        fs_err::read(&outs[0].artifacts[0].path).unwrap(),
        fs_err::read(&outs[1].artifacts[0].path).unwrap()
    );
}

#[test]
fn remap_embeds_exactly_the_foreign_home() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let index_dir = "index.crates.io-1949cf8c6b5b557f"; // cargo 1.85+ sparse index directory
    let embedded =
        format!("/home/alice/.cargo/registry/src/{index_dir}/arrayvec-0.7.6/src/arrayvec.rs");
    let mut outs = Vec::new();
    for root in [a.path(), b.path()] {
        let dir = root.join("w/remap-dep");
        copy_tree(&fixture("remap-dep"), &dir);
        let mut req = request(&dir, root, "wasm32v1-none");
        req.remaps = vec![Remap::parse("{cargo_home}=/home/alice/.cargo").unwrap()];
        let out = repro_build::build(&req, &mut NoProgress).unwrap();
        let wasm = fs_err::read(&out.artifacts[0].path).unwrap();
        assert!(
            contains(&wasm, &embedded),
            "the remapped registry path is embedded"
        );
        assert!(
            !contains(&wasm, &root.display().to_string()),
            "no local path is left"
        );
        let prov = read_provenance(&out.artifacts[0].provenance_path);
        assert_eq!(prov.remaps[0].given, "{cargo_home}=/home/alice/.cargo");
        outs.push(wasm);
    }
    assert_eq!(
        outs[0], outs[1],
        "with the same remap, two homes give the same bytes"
    );

    // Without the remap the builder's own $CARGO_HOME is embedded (which is why --remap exists).
    let mut req = request(&a.path().join("w/remap-dep"), a.path(), "wasm32v1-none");
    req.out_dir = a.path().join("out-plain");
    let out = repro_build::build(&req, &mut NoProgress).unwrap();
    let wasm = fs_err::read(&out.artifacts[0].path).unwrap();
    let local = format!(
        "{}/home/.cargo/registry/src/{index_dir}/arrayvec-0.7.6",
        a.path().display()
    );
    assert!(contains(&wasm, &local));
}

/// A real third-party contract from crates.io (casper-erc20-crate 0.1.3 on casper-contract 1.4.4),
/// with its era's nightly, without a lock: reconstructed as of 2023-04-30, when casper-types
/// 1.6.0 (published 2023-04-18, yanked since) was the newest 1.x and must be picked.
#[test]
fn real_contract_without_lock_reconstructs_and_rebuilds_identically() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    // Both builds share one cache dir (so the second reuses the compiled dependencies) but not the
    // artifact cache, and build from different directories.
    let shared_cache = a.path().join("cache");
    for (i, root) in [a.path(), b.path()].into_iter().enumerate() {
        let dir = root.join(format!("checkout-{i}/erc20-2023"));
        copy_tree(&fixture("erc20-2023"), &dir);
        let mut req = request(&dir, root, "wasm32-unknown-unknown");
        req.host = HostEnv::from_process(); // the real $CARGO_HOME: the registry cache is shared
        req.lock_at = Some(LockAt::parse("2023-04-30").unwrap());
        req.cache = CacheConfig {
            dir: shared_cache.clone(),
            enabled: false,
        };
        let out = repro_build::build(&req, &mut NoProgress).unwrap();
        assert_eq!(out.toolchain, "nightly-2023-03-25");
        let prov = read_provenance(&out.artifacts[0].provenance_path);
        assert_eq!(out.artifacts[0].file, "erc20_token.wasm");
        results.push((fs_err::read(&out.artifacts[0].path).unwrap(), prov));
    }
    let (wasm_a, prov_a) = &results[0];
    let (wasm_b, prov_b) = &results[1];
    assert_eq!(wasm_a, wasm_b, "rebuild gives identical bytes");
    assert_eq!(
        prov_a.lock.sha256, prov_b.lock.sha256,
        "the same lock is reconstructed"
    );
    let rec = prov_a.lock.reconstruction.as_ref().unwrap();
    assert_eq!(
        rec.lock_version, 3,
        "cargo 1.70-nightly reads lock v3, not v4"
    );
    assert_eq!(versions(prov_a, "casper-types"), ["1.6.0"]);
    assert!(
        rec.yanked_pins
            .iter()
            .any(|p| p.name == "casper-types" && p.to == "1.6.0"),
        "casper-types 1.6.0 was yanked after the date and must be pinned: {:?}",
        rec.yanked_pins
    );
    assert!(rec.after_cutoff.is_empty(), "{:?}", rec.after_cutoff);
    assert_eq!(versions(prov_a, "casper-contract"), ["1.4.4"]);
    assert_eq!(prov_a.artifact.sha256, prov_b.artifact.sha256);
    // The whole reconstructed lock as of 2023-04-30, the resolver's version filtered out.
    let mut lock = serde_json::to_value(&prov_a.lock).unwrap();
    lock["reconstruction"]["resolver_cargo"] = "[RESOLVER]".into();
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("erc20_lock_as_of_2023_04_30", lock);
    });
}

/// The 1.68-era nightly reaches today's sparse index only behind `-Z sparse-registry`, and reads
/// lock v3. At 2023-01-09 the yanked ed25519 1.5.2 cannot be pinned: its `signature >= 1.3.1`
/// needs a version published after the date, so the resolver of that day kept 1.2.0.
#[test]
fn nightly_2023_01_09_uses_the_sparse_index_behind_z_flag() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("erc20-2023");
    copy_tree(&fixture("erc20-2023"), &dir);
    let mut req = request(&dir, root.path(), "wasm32-unknown-unknown");
    req.host = HostEnv::from_process();
    req.toolchain = Some("nightly-2023-01-09".into());
    req.lock_at = Some(LockAt::parse("2023-01-09").unwrap());
    let out = repro_build::build(&req, &mut NoProgress).unwrap();
    let prov = read_provenance(&out.artifacts[0].provenance_path);
    assert_eq!(prov.toolchain.pinned_by, "--toolchain");
    assert!(
        prov.toolchain.rustc_vv.contains("release: 1.68.0-nightly"),
        "{}",
        prov.toolchain.rustc_vv
    );
    assert_eq!(prov.lock.registry_access, "sparse_unstable");
    assert!(
        prov.steps
            .iter()
            .all(|s| s.argv[..2] == ["-Z", "sparse-registry"])
    );
    let rec = prov.lock.reconstruction.as_ref().unwrap();
    assert_eq!(rec.lock_version, 3);
    assert!(rec.after_cutoff.is_empty(), "{:?}", rec.after_cutoff);
    assert_eq!(versions(&prov, "ed25519"), ["1.2.0"]);
    assert_eq!(versions(&prov, "casper-types"), ["1.5.0"]);
}

/// The same real contract, but requiring `casper-types = "1.6.0"`: as of 2023-04-30 only 1.6.0
/// (published 2023-04-18, yanked since) satisfies `^1.6.0`, so resolution that skips yanked
/// versions fails outright ("version 1.6.0 is yanked"). The lock is resolved against the index as
/// of that instant, in which 1.6.0 is not yet yanked, and the era's cargo builds it.
///
/// Expected value, derived independently: the packages are those of the lock reconstructed for
/// `casper-types = "1.5.0"` (resolved, then pinned forward to the yanked 1.6.0 through `cargo
/// update --precise`), committed as the snapshot of the test above.
#[test]
fn a_requirement_only_a_later_yanked_version_meets_resolves_as_of_the_date() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("erc20-2023-types-1-6");
    copy_tree(&fixture("erc20-2023"), &dir);
    let manifest = dir.join("Cargo.toml");
    let text = fs_err::read_to_string(&manifest).unwrap();
    assert!(text.contains("casper-types = \"1.5.0\""));
    fs_err::write(
        &manifest,
        text.replace("casper-types = \"1.5.0\"", "casper-types = \"1.6.0\""),
    )
    .unwrap();
    let mut req = request(&dir, root.path(), "wasm32-unknown-unknown");
    req.host = HostEnv::from_process();
    req.lock_at = Some(LockAt::parse("2023-04-30").unwrap());
    let out = repro_build::build(&req, &mut NoProgress).unwrap();
    assert_eq!(out.toolchain, "nightly-2023-03-25");
    let prov = read_provenance(&out.artifacts[0].provenance_path);
    let rec = prov.lock.reconstruction.as_ref().unwrap();
    assert_eq!(
        rec.yanked_required,
        [repro_build::lock::YankedRequirement {
            name: "casper-types".into(),
            requirement: "^1.6.0".into(),
            required_by: "erc20-token v0.1.0".into(),
            versions: vec!["1.6.0".into()],
        }]
    );
    assert!(rec.after_cutoff.is_empty(), "{:?}", rec.after_cutoff);
    assert_eq!(versions(&prov, "casper-types"), ["1.6.0"]);
    let snapshot = fs_err::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots/build__erc20_lock_as_of_2023_04_30.snap"),
    )
    .unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(snapshot.splitn(3, "---").nth(2).unwrap()).unwrap();
    let ours = serde_json::to_value(&prov.lock.packages).unwrap();
    assert_eq!(ours, expected["packages"], "the lock as of 2023-04-30");
}
