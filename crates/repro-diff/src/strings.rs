//! Printable strings in data segments and the build-environment facts hidden in them: embedded
//! absolute paths (home directory, cargo registry index directory, checkout) and toolchain commits.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// Runs of at least `min` printable ASCII bytes.
pub(crate) fn printable_strings(bytes: &[u8], min: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate() {
        let printable = (0x20..0x7f).contains(&b) || b == b'\t';
        match (printable, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= min {
                    out.push(std::str::from_utf8(&bytes[s..i]).unwrap_or_default());
                }
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start
        && bytes.len() - s >= min
    {
        out.push(std::str::from_utf8(&bytes[s..]).unwrap_or_default());
    }
    out
}

/// Where the build ran, as far as the embedded paths tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PathFacts {
    /// Commits from `/rustc/<commit>/library/…` panic locations.
    pub rustc_commits: Vec<String>,
    /// Home directories (`/home/<user>`, `/Users/<user>`, `/root`).
    pub homes: Vec<String>,
    /// Cargo registry source roots, `<CARGO_HOME>/registry/src/<index dir>`.
    pub registry_roots: Vec<String>,
    /// Registry index directory names, e.g. `index.crates.io-6f17d22bba15001f`.
    pub registry_index_dirs: Vec<String>,
    /// Directories of local (non-registry) crates: the checkout, as far as it shows.
    pub checkouts: Vec<String>,
    /// Every absolute source path found (deduplicated, sorted).
    pub paths: Vec<String>,
}

const ROOTS: &[&str] = &[
    "/rustc/",
    "/home/",
    "/Users/",
    "/root/",
    "/tmp/",
    "/build/",
    "/opt/",
    "/usr/",
    "/mnt/",
    "/var/",
    "/private/",
    "/github/",
    "/workspace/",
    "/work/",
    "/dir/",
    "/code/",
    "/src/",
    "/cargo/",
    "/app/",
];

fn path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'/' | b'.' | b'_' | b'-' | b'+' | b'@' | b'~')
}

/// Absolute paths ending in `.rs` inside one printable string.
pub(crate) fn paths_in(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i] == b'/'
            && (i == 0 || !path_char(b[i - 1]) || ROOTS.iter().any(|r| s[i..].starts_with(r)));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && path_char(b[j]) {
            j += 1;
        }
        let run = &s[i..j];
        // Strings are often concatenated without separators ("…/lib.rsattempt to …"): cut after
        // the first `.rs` that closes a path segment.
        if let Some(k) = run.find(".rs") {
            let cand = &run[..k + 3];
            if cand.len() > 4 && cand[1..].contains('/') {
                out.push(cand);
                i += k + 3;
                continue;
            }
        }
        i = j.max(i + 1);
    }
    out
}

fn home_of(p: &str) -> Option<String> {
    for root in ["/home/", "/Users/"] {
        if let Some(rest) = p.strip_prefix(root) {
            let user = rest.split('/').next().unwrap_or_default();
            // `--remap-path-prefix=$HOME=/home` leaves `/home/.cargo/…`: the home is `/home`.
            if user.starts_with('.') || user.is_empty() {
                return Some(root.trim_end_matches('/').to_string());
            }
            return Some(format!("{root}{user}"));
        }
    }
    if p.starts_with("/root/") {
        return Some("/root".to_string());
    }
    None
}

/// Collects [`PathFacts`] from printable strings.
pub(crate) fn path_facts<'s>(strings: impl IntoIterator<Item = &'s str>) -> PathFacts {
    let mut rustc = BTreeSet::new();
    let mut homes = BTreeSet::new();
    let mut registry_roots = BTreeSet::new();
    let mut index_dirs = BTreeSet::new();
    let mut checkouts: BTreeMap<String, usize> = BTreeMap::new();
    let mut paths = BTreeSet::new();
    for s in strings {
        for p in paths_in(s) {
            paths.insert(p.to_string());
            if let Some(rest) = p.strip_prefix("/rustc/") {
                let commit = rest.split('/').next().unwrap_or_default();
                if commit.len() == 40 && commit.bytes().all(|c| c.is_ascii_hexdigit()) {
                    rustc.insert(commit.to_string());
                }
                continue;
            }
            if let Some(h) = home_of(p) {
                homes.insert(h);
            }
            if let Some(k) = p.find("/registry/src/") {
                let after = &p[k + "/registry/src/".len()..];
                let idx = after.split('/').next().unwrap_or_default();
                registry_roots.insert(format!("{}/registry/src/{idx}", &p[..k]));
                index_dirs.insert(idx.to_string());
                continue;
            }
            if p.contains("/git/checkouts/") {
                continue;
            }
            if let Some(k) = p.rfind("/src/") {
                *checkouts.entry(p[..k].to_string()).or_default() += 1;
            }
        }
    }
    PathFacts {
        rustc_commits: rustc.into_iter().collect(),
        homes: homes.into_iter().collect(),
        registry_roots: registry_roots.into_iter().collect(),
        registry_index_dirs: index_dirs.into_iter().collect(),
        checkouts: checkouts.into_keys().collect(),
        paths: paths.into_iter().collect(),
    }
}

/// Longest common directory prefix of a set of paths (`/a/b/c`, `/a/b/d` → `/a/b`).
pub(crate) fn common_dir(paths: &[String]) -> Option<String> {
    let first = paths.first()?;
    let mut prefix: Vec<&str> = first.split('/').collect();
    for p in &paths[1..] {
        let parts: Vec<&str> = p.split('/').collect();
        let n = prefix
            .iter()
            .zip(&parts)
            .take_while(|(a, b)| a == b)
            .count();
        prefix.truncate(n);
    }
    let s = prefix.join("/");
    if s.is_empty() { None } else { Some(s) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_concatenated_paths() {
        let s = "called `Option::unwrap()` on a `None` value/rustc/cc47b069983292e4ee8982d5a58bc6b6ef1b8fd2/library/core/src/option.rsattempt to add/home/alice/.cargo/registry/src/index.crates.io-6f17d22bba15001f/casper-types-4.0.1/src/bytesrepr.rs/home/alice/work/cep18/contract/src/main.rs";
        let f = path_facts([s]);
        assert_eq!(
            f.rustc_commits,
            ["cc47b069983292e4ee8982d5a58bc6b6ef1b8fd2"]
        );
        assert_eq!(f.homes, ["/home/alice"]);
        assert_eq!(f.registry_index_dirs, ["index.crates.io-6f17d22bba15001f"]);
        assert_eq!(
            f.registry_roots,
            ["/home/alice/.cargo/registry/src/index.crates.io-6f17d22bba15001f"]
        );
        assert_eq!(f.checkouts, ["/home/alice/work/cep18/contract"]);
        assert_eq!(f.paths.len(), 3);
    }

    #[test]
    fn remapped_home() {
        let f = path_facts([
            "/home/.cargo/registry/src/github.com-1ecc6299db9ec823/x-1.0.0/src/lib.rs",
        ]);
        assert_eq!(f.homes, ["/home"]);
    }

    #[test]
    fn printable_runs() {
        assert_eq!(
            printable_strings(b"\0abc\0abcd\x01efghij", 4),
            ["abcd", "efghij"]
        );
    }
}
