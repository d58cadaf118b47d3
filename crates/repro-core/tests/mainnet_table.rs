//! The built-in mainnet table against the real mainnet chainspec files, parsed with our own
//! chainspec loader: every version with a file must match it value for value, and every file must
//! be a version the table knows.
//!
//! The files are reference data outside this repository (`../shared/chainspecs`, or the directory
//! in `CASPER_REPRO_CHAINSPECS`), so this test is `#[ignore]`d in a plain `cargo test` and run by
//! `.ci/run` with `--ignored`, where it fails loudly if the directory is missing.

use std::path::PathBuf;

use repro_core::{Pipeline, Protocol, mainnet, parse_chainspec};

fn chainspec_dir() -> PathBuf {
    let dir = std::env::var_os("CASPER_REPRO_CHAINSPECS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/chainspecs")
        });
    assert!(
        dir.is_dir(),
        "{} is not a directory: point CASPER_REPRO_CHAINSPECS at the mainnet chainspec files",
        dir.display()
    );
    dir
}

#[test]
#[ignore = "needs the reference mainnet chainspecs (../shared/chainspecs or CASPER_REPRO_CHAINSPECS); run by .ci/run"]
fn built_in_table_equals_the_real_mainnet_chainspecs() {
    let dir = chainspec_dir();
    let mut checked = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("mainnet-") || !name.ends_with(".toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = parse_chainspec(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ours = Protocol::mainnet(spec.version).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            *ours.wasm(),
            spec.wasm,
            "{name}: built-in table differs from the real chainspec"
        );
        // The file also builds a valid protocol of its own (the --chainspec path).
        let from_file = Protocol::from_chainspec(&spec, &name, text.as_bytes()).unwrap();
        assert_eq!(from_file.pipeline(), ours.pipeline());
        checked.push(spec.version);
    }
    // Every 1.x version in the table was checked against a file.
    for release in mainnet::releases() {
        if release.version.major == 1 {
            assert!(
                checked.contains(&release.version),
                "no chainspec file checked {}",
                release.version
            );
        }
    }
    assert!(
        checked.len() >= 16,
        "only {} chainspec files found in {}",
        checked.len(),
        dir.display()
    );
}

#[test]
#[ignore = "needs the reference mainnet chainspecs (../shared/chainspecs or CASPER_REPRO_CHAINSPECS); run by .ci/run"]
fn testnet_chainspec_builds_a_protocol_of_its_release() {
    let path = chainspec_dir().join("testnet-1.5.6.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let spec = parse_chainspec(&text).unwrap();
    assert_eq!(spec.network.as_deref(), Some("casper-test"));
    let protocol = Protocol::from_chainspec(&spec, "testnet-1.5.6.toml", text.as_bytes()).unwrap();
    assert_eq!(
        protocol.pipeline(),
        Pipeline::for_version("1.5.6".parse().unwrap()).unwrap()
    );
}
