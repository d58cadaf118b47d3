//! `--toolchain auto` on real modules. The expected toolchains are the ones the modules were built
//! with, as their build records say (testdata/README.md: the fixtures are built with 1.95.0;
//! testdata/pairs/real.md: `sign_ext@rustc-1.94.0.wasm` with 1.94.0), not the inference's output.

use std::path::Path;

use repro_verify::repro_build::toolchain::infer::{Impossible, Source};
use repro_verify::toolchain::{self, InferError};

fn testdata(rel: &str) -> Vec<u8> {
    fs_err::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata")
            .join(rel),
    )
    .unwrap()
}

/// rustc 1.95.0's commit, from `rustc -vV` of the toolchain that built the fixtures
/// (testdata/README.md, Provenance).
const RUSTC_1_95_0: &str = "59807616e1fa2540724bfbac14d7976d7e4a3860";

#[test]
fn a_stable_build_is_named_by_its_producers_section() {
    let i = toolchain::infer(&testdata("wasm/multi_ep.wasm"), "multi_ep.wasm").unwrap();
    assert_eq!(i.toolchain, "1.95.0");
    assert_eq!(i.commit, RUSTC_1_95_0);
    assert_eq!(
        i.source,
        Source::Producers {
            entry: "processed-by: rustc 1.95.0 (59807616e 2026-04-14)".into()
        }
    );
}

#[test]
fn another_stable_with_producers_and_rustc_paths() {
    let wasm = testdata("pairs/real/sign_ext@rustc-1.94.0.wasm");
    let i = toolchain::infer(&wasm, "sign_ext@rustc-1.94.0.wasm").unwrap();
    assert_eq!(i.toolchain, "1.94.0");
    assert!(i.rustc.starts_with("rustc 1.94.0 ("), "{}", i.rustc);
}

/// Stripped of every custom section (wasm-strip semantics), the module keeps its
/// `/rustc/<commit>/library/…` panic locations, which the release table names.
#[test]
fn a_stripped_module_is_named_by_its_rustc_paths() {
    let stripped =
        repro_verify::repro_diff::strip_custom_sections(&testdata("wasm/sign_ext.wasm")).unwrap();
    let clues = toolchain::clues(&stripped).unwrap();
    assert!(clues.producers.is_empty());
    let i = toolchain::infer(&stripped, "stripped sign_ext").unwrap();
    assert_eq!(i.toolchain, "1.95.0");
    assert_eq!(
        i.source,
        Source::RustcPath {
            commit: RUSTC_1_95_0.into()
        }
    );
}

/// multi_ep_stripped.wasm is multi_ep.wasm through wabt's wasm-strip, and multi_ep embeds no
/// `/rustc/` path: nothing in it names the compiler.
#[test]
fn a_module_without_evidence_says_so() {
    let wasm = testdata("wasm/multi_ep_stripped.wasm");
    let err = toolchain::infer(&wasm, "multi_ep_stripped.wasm").unwrap_err();
    assert!(
        matches!(
            &err,
            InferError::Impossible {
                reason: Impossible::NoEvidence,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("no producers section"), "{text}");
    assert!(text.contains("--toolchain NAME"), "{text}");
}

#[test]
fn a_hand_written_module_says_so() {
    let wasm = wat::parse_str(r#"(module (func (export "call")))"#).unwrap();
    assert!(matches!(
        toolchain::infer(&wasm, "call.wat"),
        Err(InferError::Impossible {
            reason: Impossible::NoEvidence,
            ..
        })
    ));
}

/// A tiny no_std cdylib whose only panic is inside core (`from_str_radix` with a radix from the
/// host), with a panic handler that hands the location's file to the host: core's source path
/// stays in the data section.
mod tiny {
    use std::path::{Path, PathBuf};

    use repro_verify::repro_build::{
        self, BuildError, BuildRequest, CacheConfig, HostEnv, Limits, NoProgress,
    };

    const LIB_RS: &str = r#"#![no_std]
extern "C" {
    fn radix() -> u32;
    fn report(ptr: *const u8, len: usize);
}
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    if let Some(l) = info.location() {
        unsafe { report(l.file().as_ptr(), l.file().len()) };
    }
    loop {}
}
#[no_mangle]
pub extern "C" fn call() -> u32 {
    u32::from_str_radix("7", unsafe { radix() }).unwrap_or(0)
}
"#;

    pub fn write_crate(dir: &Path) -> PathBuf {
        let c = dir.join("tiny");
        fs_err::create_dir_all(c.join("src")).unwrap();
        fs_err::write(
            c.join("Cargo.toml"),
            "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[profile.release]\npanic = \"abort\"\nopt-level = \"z\"\nlto = true\ncodegen-units = 1\n\n[workspace]\n",
        )
        .unwrap();
        fs_err::write(c.join("src/lib.rs"), LIB_RS).unwrap();
        // Lock version 3: read by cargo 1.53 and later.
        fs_err::write(
            c.join("Cargo.lock"),
            "version = 3\n\n[[package]]\nname = \"tiny\"\nversion = \"0.1.0\"\n",
        )
        .unwrap();
        c
    }

    pub fn request(dir: &Path, toolchain: &str) -> BuildRequest {
        BuildRequest {
            crate_dir: write_crate(dir),
            packages: Vec::new(),
            toolchain: Some(toolchain.into()),
            inferred: None,
            target: "wasm32-unknown-unknown".into(),
            features: Vec::new(),
            no_default_features: false,
            lock_at: None,
            remaps: Vec::new(),
            post_process: Vec::new(),
            units: Vec::new(),
            recipe: None,
            out_dir: dir.join("out"),
            offline: false,
            limits: Limits::default(),
            sandbox: None,
            compile_cache: None,
            cache: CacheConfig {
                dir: dir.join("cache"),
                enabled: false,
            },
            resolver_toolchain: repro_build::DEFAULT_RESOLVER_TOOLCHAIN.into(),
            host: HostEnv::from_process(),
            tool_argv: Vec::new(),
            tool_name: "toolchain-inference-test".into(),
            tool_version: "0".into(),
        }
    }

    pub fn build(req: &BuildRequest) -> Result<Vec<u8>, BuildError> {
        let out = repro_build::build(req, &mut NoProgress)?;
        Ok(fs_err::read(&out.artifacts[0].path).unwrap())
    }
}

/// Built here with rustc 1.95.0 (installed by the build through rustup when missing).
#[test]
fn a_module_built_now_with_1_95_0_is_inferred_with_and_without_custom_sections() {
    let d = tempfile::tempdir().unwrap();
    let wasm = tiny::build(&tiny::request(d.path(), "1.95.0")).unwrap();
    let i = toolchain::infer(&wasm, "tiny.wasm").unwrap();
    assert_eq!(i.toolchain, "1.95.0");
    assert!(matches!(i.source, Source::Producers { .. }), "{i:?}");
    let stripped = repro_verify::repro_diff::strip_custom_sections(&wasm).unwrap();
    let i = toolchain::infer(&stripped, "stripped tiny.wasm").unwrap();
    assert_eq!(i.toolchain, "1.95.0");
    assert_eq!(
        i.source,
        Source::RustcPath {
            commit: RUSTC_1_95_0.into()
        }
    );
}

/// Built here with nightly-2023-01-09 (rustc 1.68.0-nightly, cc47b0699 of 2023-01-08). Its wasm
/// standard library embeds core's paths as `library/core/…`, without the `/rustc/<commit>/`
/// prefix, so once stripped the module names no compiler at all.
#[test]
fn a_module_built_now_with_a_nightly_is_inferred_from_its_producers_section() {
    let d = tempfile::tempdir().unwrap();
    let wasm = tiny::build(&tiny::request(d.path(), "nightly-2023-01-09")).unwrap();
    let i = toolchain::infer(&wasm, "tiny.wasm").unwrap();
    assert_eq!(i.toolchain, "nightly-2023-01-09");
    assert_eq!(
        i.source,
        Source::Producers {
            entry: "processed-by: rustc 1.68.0-nightly (cc47b0699 2023-01-08)".into()
        }
    );
    let stripped = repro_verify::repro_diff::strip_custom_sections(&wasm).unwrap();
    assert!(matches!(
        toolchain::infer(&stripped, "stripped tiny.wasm"),
        Err(InferError::Impossible {
            reason: Impossible::NoEvidence,
            ..
        })
    ));

    // Rebuilt with what was inferred: the installed nightly's commit is checked against it.
    let mut req = tiny::request(d.path(), "auto");
    toolchain::apply_inferred(&mut req, &wasm, "tiny.wasm").unwrap();
    assert_eq!(tiny::build(&req).unwrap(), wasm);
    let mut wrong = i.clone();
    wrong.commit = "0123456789".into();
    req.inferred = Some(wrong);
    let err = tiny::build(&req).unwrap_err().to_string();
    assert!(err.contains("built from commit 0123456789"), "{err}");
    assert!(err.contains("cc47b0699"), "{err}");
}
