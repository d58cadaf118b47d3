//! The built-in finality threshold fractions against the real chainspec files: for every file of a
//! network with a built-in fraction (its `[network] name`), the file's
//! `finality_threshold_fraction` is the built-in one, and every file names such a network.
//!
//! The files are reference data outside this repository (`../shared/chainspecs`, or the directory
//! in `CASPER_REPRO_CHAINSPECS`), so this test is `#[ignore]`d in a plain `cargo test` and run by
//! `.ci/run` with `--ignored`, where it fails loudly if the directory is missing.

use std::path::PathBuf;

use repro_chain::finality::threshold;

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
fn built_in_finality_fractions_equal_the_real_chainspecs() {
    let mut checked = 0;
    for entry in std::fs::read_dir(chainspec_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Whole chainspec files only (not the 2.2.0 Wasm excerpt).
        if !name.ends_with(".toml") || name.contains("excerpt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let spec: toml::Table = text.parse().unwrap();
        let network = spec["network"]["name"].as_str().unwrap();
        // `[core]` since 1.5, `[highway]` before.
        let pair = ["core", "highway"]
            .iter()
            .find_map(|t| spec.get(*t)?.get("finality_threshold_fraction"))
            .and_then(|v| v.as_array())
            .unwrap_or_else(|| panic!("{name}: no finality_threshold_fraction"));
        let in_file = (
            pair[0].as_integer().unwrap() as u64,
            pair[1].as_integer().unwrap() as u64,
        );
        let (built_in, origin) = threshold(network, None);
        assert!(
            origin.starts_with("built in"),
            "{name}: network `{network}` has no built-in fraction"
        );
        assert_eq!(built_in, in_file, "{name}");
        checked += 1;
    }
    assert!(checked >= 16, "only {checked} chainspec files");
}
