//! Verification used as a library, as an explorer or a service would: no argv, no stdout. A bundle
//! of the real 1.5.8 engine's answers (testdata/rpc) is read with repro-chain, verified with
//! repro-verify, and rendered both ways; the expected values are the engine's own (engine.json).

use std::path::Path;

use repro_verify::repro_chain::bundle::Bundle;
use repro_verify::repro_chain::install::{self, Requested};
use repro_verify::{Artifacts, Rebuilt, StageKind, Verdict};

use repro_verify::repro_build::{BuildRequest, CacheConfig, HostEnv, Limits, NoProgress};

fn case(name: &str) -> (Bundle, serde_json::Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/rpc")
        .join(name);
    let engine =
        serde_json::from_str(&fs_err::read_to_string(dir.join("engine.json")).unwrap()).unwrap();
    (Bundle::load(&dir).unwrap(), engine)
}

#[test]
fn a_bundle_verifies_through_the_library_alone() {
    let (mut bundle, engine) = case("node-1.5.8-deploy-multi_ep");
    let req = Requested::parse(bundle.hash_hex().unwrap()).unwrap();
    let install = install::resolve(&mut bundle, &req).unwrap();
    let upload = install.input.clone();
    let report = repro_verify::run(
        install,
        &Default::default(),
        Artifacts::Files(vec![Rebuilt {
            package: "the upload itself".into(),
            artifact: None,
            bytes: upload,
        }]),
        &mut NoProgress,
    )
    .unwrap();
    assert_eq!(report.verdict, Verdict::Verified, "{}", report.summary);
    let contract = &report.contracts[0];
    assert_eq!(
        contract.stored_sha256,
        engine["contracts"][0]["stored_sha256"].as_str().unwrap()
    );
    assert!(
        contract
            .stage(StageKind::ReplayRebuildVsStored)
            .unwrap()
            .comparison
            .is_exact()
    );
    assert_eq!(report.configuration.protocol_version, engine["protocol"]);
    // Both renderings come from the same report.
    let text = repro_verify::text::render_text(&report);
    assert!(text.contains("VERIFIED:"), "{text}");
    let doc = serde_json::to_value(repro_verify::wire::Envelope::new(
        "verify",
        &repro_verify::wire::VerifyDoc::from(&report),
    ))
    .unwrap();
    assert_eq!(doc["schema_version"], repro_verify::wire::SCHEMA_VERSION);
    assert_eq!(doc["verdict"], "verified");
}

#[test]
fn a_source_for_a_factory_install_is_refused_with_what_to_do() {
    let (mut bundle, _) = case("node-1.5.8-deploy-factory");
    let req = Requested::parse(bundle.hash_hex().unwrap()).unwrap();
    let install = install::resolve(&mut bundle, &req).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let request = BuildRequest {
        crate_dir: tmp.path().join("contract"),
        packages: Vec::new(),
        toolchain: None,
        inferred: None,
        target: "wasm32-unknown-unknown".into(),
        features: Vec::new(),
        no_default_features: false,
        lock_at: None,
        remaps: Vec::new(),
        post_process: Vec::new(),
        units: Vec::new(),
        recipe: None,
        out_dir: tmp.path().join("out"),
        offline: true,
        limits: Limits::default(),
        sandbox: None,
        compile_cache: None,
        cache: CacheConfig {
            dir: tmp.path().join("cache"),
            enabled: false,
        },
        resolver_toolchain: "nightly".into(),
        host: HostEnv::from_process(),
        tool_argv: Vec::new(),
        tool_name: "library-test".into(),
        tool_version: "0".into(),
    };
    let err = repro_verify::run(
        install,
        &Default::default(),
        Artifacts::Build(Box::new(request)),
        &mut NoProgress,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("verify the factory's own install transaction"),
        "{err}"
    );
}
