//! The reference tools the recipe tests run (installed by `.ci/setup.sh` into `.tools/`, or
//! `$CASPER_REPRO_TOOLS`): included by `#[path]`.
// Each test crate that includes this uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where `.ci/setup.sh` installs the reference tools.
pub fn tools() -> PathBuf {
    std::env::var_os("CASPER_REPRO_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"))
}

/// A tool the references need; missing is a failure that says how to get it.
pub fn need(path: PathBuf, how: &str) -> PathBuf {
    assert!(
        path.is_file(),
        "{} is missing: {how} (.ci/setup.sh installs it)",
        path.display()
    );
    path
}

/// The directory of binaryen's `wasm-opt` from the npm registry (`.ci/tools`), to put first on a
/// reference tool's PATH.
pub fn npm_binaryen_bin() -> PathBuf {
    need(
        tools().join("npm/node_modules/.bin/wasm-opt"),
        "npm ci in .ci/tools (binaryen 132 from the npm registry)",
    )
    .parent()
    .unwrap()
    .to_path_buf()
}
