//! The reference tools the recipe tests run (installed by `.ci/setup.sh` into `.tools/`, or
//! `$CASPER_REPRO_TOOLS`): included by `#[path]`.

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
