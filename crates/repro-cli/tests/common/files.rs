//! File helpers the build tests share: included by `#[path]` so that each test crate gets only
//! these.

// Each test crate that includes this uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `program` on this process's PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Copies a project tree, without build outputs (`target/`, and Odra's `wasm/`).
pub fn copy_dir(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).unwrap();
    for e in fs_err::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "target" && e.file_name() != "wasm" {
                copy_dir(&e.path(), &dest);
            }
        } else {
            fs_err::copy(e.path(), dest).unwrap();
        }
    }
}

/// The `post_processing[].step` descriptions of a provenance document, in order.
pub fn post_steps(prov: &serde_json::Value) -> Vec<&str> {
    prov["post_processing"]
        .as_array()
        .expect("a provenance has post_processing")
        .iter()
        .map(|s| s["step"].as_str().expect("a step is a string"))
        .collect()
}
