//! The release table and the nightly date rule against independent derivations: the installed
//! toolchains' own `rustc -vV` and rustup's channel manifest of the installed nightly.

use std::path::{Path, PathBuf};
use std::process::Command;

use repro_build::HostEnv;
use repro_build::toolchain::infer::{self, Clues, Source};

fn toolchain_dir(name: &str) -> PathBuf {
    HostEnv::from_process()
        .rustup_home
        .join("toolchains")
        .join(format!("{name}-{}", repro_build::toolchain::HOST_TRIPLE))
}

fn rustc_vv(dir: &Path) -> String {
    let out = Command::new(dir.join("bin/rustc"))
        .arg("-vV")
        .output()
        .expect("run the toolchain's rustc");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn field<'a>(vv: &'a str, key: &str) -> &'a str {
    vv.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key} in {vv}"))
}

/// 1.95.0 is installed on the machines this runs on (the repository's own pin).
#[test]
fn table_agrees_with_the_installed_1_95_0() {
    let vv = rustc_vv(&toolchain_dir("1.95.0"));
    let (release, commit, date) = (
        field(&vv, "release:"),
        field(&vv, "commit-hash:"),
        field(&vv, "commit-date:"),
    );
    assert_eq!(release, "1.95.0");
    let r = infer::release_of_commit(commit).expect("1.95.0's commit is in the table");
    assert_eq!(
        (r.version, r.commit, r.commit_date),
        (release, commit, date)
    );
    // A module with only a /rustc/<commit>/ path of this compiler is inferred as 1.95.0.
    let i = infer::infer(&Clues {
        producers: Vec::new(),
        rustc_commits: vec![commit.to_owned()],
    })
    .unwrap();
    assert_eq!(i.toolchain, "1.95.0");
    assert_eq!(
        i.source,
        Source::RustcPath {
            commit: commit.to_owned()
        }
    );
}

/// rustup's manifest of the installed `nightly` names its date and the rustc version it carries;
/// a module whose producers entry is that version is inferred as `nightly-<that date>`.
#[test]
fn nightly_date_rule_agrees_with_the_installed_nightlys_manifest() {
    let dir = toolchain_dir("nightly");
    let manifest = dir.join("lib/rustlib/multirust-channel-manifest.toml");
    // The resolver toolchain (`nightly`, DEFAULT_RESOLVER_TOOLCHAIN) is installed where the
    // tests run: lock reconstruction needs it.
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: install the nightly (rustup toolchain install nightly)",
            manifest.display()
        )
    });
    let m: toml::Value = toml::from_str(&text).unwrap();
    let date = m["date"].as_str().unwrap();
    let version = m["pkg"]["rustc"]["version"].as_str().unwrap();
    // rustup's installed copy of the manifest keeps no git_commit_hash: the rustc says it.
    let vv = rustc_vv(&dir);
    let commit = field(&vv, "commit-hash:");
    let i = infer::infer(&Clues {
        producers: vec![format!("processed-by: rustc {version}")],
        rustc_commits: vec![commit.to_owned()],
    })
    .unwrap();
    assert_eq!(i.toolchain, format!("nightly-{date}"), "{version}");
    assert_eq!(i.commit, commit);
    assert_eq!(field(&vv, "release:"), version.split(' ').next().unwrap());
}
