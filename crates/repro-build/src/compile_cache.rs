//! The compile cache of sandboxed builds: trusted copies of their target directories, so that a
//! sandboxed build (whose private target starts empty) does not compile its dependencies again.
//!
//! An entry is keyed by everything that can change what cargo writes into a target directory
//! (`key()`: toolchain, target, lock digest, package set, features, flags as given, `$CARGO_HOME`
//! config, recipe, the target directory's path and [`FORMAT_VERSION`]); cargo's own fingerprints
//! still decide what is rebuilt after a restore.
//!
//! Layout under [`CompileCacheConfig::dir`]:
//! - `entries/<key>/tree/…`: the target directory's files;
//! - `entries/<key>/manifest.json`: every file with its size, sha256, permission bits and mtime;
//! - `tmp/`: entries being written, renamed into `entries/` when complete (so an entry is either
//!   complete or absent).
//!
//! Restoring **copies** every file into the build's private target (never a link: the sandboxed
//! build writes there and must not reach the cache's inodes), checking each against the manifest;
//! an entry that fails the check is ignored and the build runs cold. Only a build configured with
//! [`CompileCacheConfig::write`] stores, and only after its compile step succeeded.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::BuildError;
use crate::{Progress, ProgressEvent};

/// Version of the entry layout and of the key document; part of the key.
pub const FORMAT_VERSION: u32 = 1;

/// A target directory larger than this is not stored (a log line says so).
pub const MAX_STORE_BYTES: u64 = 4 << 30;

/// Where the compile cache is and whether this build may write to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileCacheConfig {
    /// Root of the compile cache (`entries/`, `tmp/`). Never visible inside the sandbox.
    pub dir: PathBuf,
    /// Store the target directory after a successful compile step. Only for trusted workers: the
    /// build's scripts and proc-macros can write anything into the target directory.
    pub write: bool,
}

/// What the provenance records of the compile cache (sandboxed builds given one).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct CompileCacheInfo {
    /// sha256 of the key document.
    pub key: String,
    /// An entry was found, checked and restored.
    pub hit: bool,
    pub restored_files: u64,
    /// This build stored its target directory as the entry.
    pub stored: bool,
    /// Packages outside the workspace cargo compiled in the compile step (its `Compiling` lines).
    pub dependencies_compiled: Vec<String>,
    /// Packages outside the workspace whose restored output cargo reused (they have a
    /// fingerprint in the target directory and were not compiled).
    pub dependencies_reused: usize,
    /// Why nothing was restored or stored, when something was in the way (a damaged entry, a
    /// target directory over the size bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One file of an entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct FileRecord {
    /// Relative to the target directory, `/`-separated.
    path: String,
    size: u64,
    sha256: String,
    /// Permission bits (build-script executables must stay executable).
    mode: u32,
    /// Modification time, nanoseconds since the epoch (cargo's fingerprints compare mtimes).
    mtime_ns: u128,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    key: String,
    files: Vec<FileRecord>,
}

/// What looking up an entry gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Restore {
    /// Restored this many files.
    Hit(u64),
    /// No entry for the key.
    Miss,
    /// An entry exists but failed its check; the destination was emptied again.
    Rejected(String),
}

fn entry_dir(dir: &Path, key: &str) -> PathBuf {
    dir.join("entries").join(key)
}

/// The directories of the cache that must never be visible inside a sandbox.
pub(crate) fn private_dirs(cfg: &CompileCacheConfig) -> Result<Vec<PathBuf>, BuildError> {
    let mut out = Vec::new();
    for d in ["entries", "tmp"] {
        let p = cfg.dir.join(d);
        fs_err::create_dir_all(&p)?;
        out.push(fs_err::canonicalize(&p)?);
    }
    Ok(out)
}

/// Restores the entry of `key` into `dest` (an empty directory), checking every file.
pub(crate) fn restore(
    cfg: &CompileCacheConfig,
    key: &str,
    dest: &Path,
) -> Result<Restore, BuildError> {
    let entry = entry_dir(&cfg.dir, key);
    let manifest_path = entry.join("manifest.json");
    let bytes = match std::fs::read(&manifest_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Restore::Miss),
        Err(e) => {
            return Ok(Restore::Rejected(format!(
                "cannot read {}: {e}",
                manifest_path.display()
            )));
        }
    };
    match restore_checked(&entry, key, &bytes, dest) {
        Ok(n) => Ok(Restore::Hit(n)),
        Err(why) => {
            // Leave no partial tree behind: the build then runs cold.
            if dest.exists() {
                fs_err::remove_dir_all(dest)?;
            }
            fs_err::create_dir_all(dest)?;
            Ok(Restore::Rejected(why))
        }
    }
}

fn restore_checked(entry: &Path, key: &str, manifest: &[u8], dest: &Path) -> Result<u64, String> {
    let m: Manifest =
        serde_json::from_slice(manifest).map_err(|e| format!("unreadable manifest: {e}"))?;
    if m.format != FORMAT_VERSION || m.key != key {
        return Err("the manifest is of another format or key".into());
    }
    let tree = entry.join("tree");
    for f in &m.files {
        let rel = safe_relative(&f.path)
            .ok_or_else(|| format!("the manifest names an unsafe path {:?}", f.path))?;
        let src = tree.join(&rel);
        let dst = dest.join(&rel);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let meta =
            std::fs::symlink_metadata(&src).map_err(|e| format!("{}: {e}", src.display()))?;
        if !meta.file_type().is_file() {
            return Err(format!("{} is not a regular file", f.path));
        }
        let (size, sha) = copy_hashing(&src, &dst).map_err(|e| format!("{}: {e}", f.path))?;
        if size != f.size || sha != f.sha256 {
            return Err(format!(
                "{} does not match the manifest (size {size}, expected {}; sha256 {sha}, expected {})",
                f.path, f.size, f.sha256
            ));
        }
        set_mode_and_mtime(&dst, f.mode, f.mtime_ns).map_err(|e| format!("{}: {e}", f.path))?;
    }
    Ok(m.files.len() as u64)
}

/// `path` as a relative path of normal components only (no `..`, no root).
fn safe_relative(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    (!path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_))))
        .then(|| p.to_path_buf())
}

/// What storing gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Store {
    Stored,
    /// An entry was already there (or another writer won the race).
    Exists,
    /// Not stored, and why.
    Skipped(String),
}

/// Stores the target directory `src` as the entry of `key`, unless one exists. `exclude` says
/// which files (relative paths) are not dependency work.
pub(crate) fn store(
    cfg: &CompileCacheConfig,
    key: &str,
    src: &Path,
    exclude: &dyn Fn(&Path) -> bool,
    max_bytes: u64,
) -> Result<Store, BuildError> {
    let entry = entry_dir(&cfg.dir, key);
    if entry.exists() {
        return Ok(Store::Exists);
    }
    let mut files = Vec::new();
    walk_files(src, Path::new(""), &mut files)?;
    files.retain(|rel| !exclude(rel));
    let mut total = 0u64;
    for rel in &files {
        total += fs_err::metadata(src.join(rel))?.len();
    }
    if total > max_bytes {
        return Ok(Store::Skipped(format!(
            "the target directory holds {} MiB, more than the bound of {} MiB",
            total >> 20,
            max_bytes >> 20
        )));
    }
    fs_err::create_dir_all(cfg.dir.join("tmp"))?;
    fs_err::create_dir_all(cfg.dir.join("entries"))?;
    let tmp = tempfile::Builder::new()
        .prefix("entry-")
        .tempdir_in(cfg.dir.join("tmp"))?;
    let tree = tmp.path().join("tree");
    let mut records = Vec::with_capacity(files.len());
    for rel in files {
        let from = src.join(&rel);
        let to = tree.join(&rel);
        if let Some(parent) = to.parent() {
            fs_err::create_dir_all(parent)?;
        }
        let meta = fs_err::metadata(&from)?;
        let (size, sha256) = copy_hashing(&from, &to)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", from.display())))?;
        let mode = meta.permissions().mode() & 0o777;
        let mtime_ns = meta
            .modified()?
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        set_mode_and_mtime(&to, mode, mtime_ns)?;
        let Some(path) = rel.to_str().map(str::to_owned) else {
            return Ok(Store::Skipped(format!(
                "{} is not a UTF-8 path",
                rel.display()
            )));
        };
        records.push(FileRecord {
            path,
            size,
            sha256,
            mode,
            mtime_ns,
        });
    }
    let manifest = Manifest {
        format: FORMAT_VERSION,
        key: key.to_owned(),
        files: records,
    };
    fs_err::write(
        tmp.path().join("manifest.json"),
        serde_json::to_vec_pretty(&manifest)
            .map_err(|e| BuildError::parse("compile cache manifest", e))?,
    )?;
    let staged = tmp.keep();
    if std::fs::rename(&staged, &entry).is_err() {
        // Another writer published the entry first: keep theirs.
        let _ = fs_err::remove_dir_all(&staged);
        return Ok(Store::Exists);
    }
    Ok(Store::Stored)
}

/// Every regular file under `root/rel` (symlinks and other kinds are left out).
fn walk_files(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), BuildError> {
    let mut entries: Vec<_> = fs_err::read_dir(root.join(rel))?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let ft = e.file_type()?;
        let r = rel.join(e.file_name());
        if ft.is_dir() {
            walk_files(root, &r, out)?;
        } else if ft.is_file() {
            out.push(r);
        }
    }
    Ok(())
}

/// Copies `from` to a new file `to`, returning its size and sha256 as read.
fn copy_hashing(from: &Path, to: &Path) -> std::io::Result<(u64, String)> {
    let mut input = std::fs::File::open(from)?;
    let mut output = std::fs::File::create_new(to)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        output.write_all(&buf[..n])?;
        size += n as u64;
    }
    Ok((size, hex::encode(h.finalize())))
}

fn set_mode_and_mtime(path: &Path, mode: u32, mtime_ns: u128) -> std::io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o777))?;
    let t = SystemTime::UNIX_EPOCH
        + Duration::new(
            u64::try_from(mtime_ns / 1_000_000_000).unwrap_or(u64::MAX / 2),
            (mtime_ns % 1_000_000_000) as u32,
        );
    let f = std::fs::OpenOptions::new().write(true).open(path);
    // A read-only file (mode without owner write) is reopened read-only to set its times.
    let f = match f {
        Ok(f) => f,
        Err(_) => std::fs::File::open(path)?,
    };
    f.set_modified(t)
}

/// What an entry's key is made of, from the build request and the build's toolchain.
pub(crate) struct KeyInputs<'a> {
    pub(crate) req: &'a crate::BuildRequest,
    pub(crate) rustc_vv: &'a str,
    pub(crate) cargo_v: &'a str,
    /// The committed lock's digest or the reconstructed lock's instant.
    pub(crate) lock_input: &'a str,
    pub(crate) registry_access: crate::lock::RegistryAccess,
    /// Digest of `$CARGO_HOME/config.toml`.
    pub(crate) cargo_config: Option<&'a str>,
    /// Where the cached files were produced (the shared target's path).
    pub(crate) target_dir: &'a Path,
}

/// The entry's key: sha256 of a canonical JSON of everything that can change what cargo writes
/// into a target directory.
pub(crate) fn key(k: &KeyInputs<'_>) -> String {
    let doc = serde_json::json!({
        "format": FORMAT_VERSION,
        "rustc_vv": k.rustc_vv,
        "cargo_v": k.cargo_v,
        "target": &k.req.target,
        "lock": k.lock_input,
        "registry_access": k.registry_access,
        "packages": &k.req.packages,
        "features": &k.req.features,
        "no_default_features": k.req.no_default_features,
        // As given: a token stands for this build's private location, which differs on
        // every build.
        "remaps": k.req.remaps.iter().map(|r| [&r.from, &r.to]).collect::<Vec<_>>(),
        "cargo_home": k.req.host.cargo_home.display().to_string(),
        "home": k.req.remaps.iter().any(|r| r.from == "{home}").then(|| k.req.host.home.display().to_string()),
        "cargo_config": k.cargo_config,
        "units": &k.req.units,
        "recipe": &k.req.recipe,
        // The cached files were produced at this path.
        "target_dir": k.target_dir.display().to_string(),
    });
    crate::sha256_hex(crate::canonical_json(&doc).as_bytes())
}

/// Fills in which dependencies this build compiled and how many it reused (the workspace's own
/// packages, named in `own`, are left out: they are always rebuilt).
pub(crate) fn account(
    info: &mut CompileCacheInfo,
    compiled: Vec<String>,
    own: &[&str],
    private_target: &Path,
    triple: &str,
) {
    let name = |c: &str| c.split(' ').next().unwrap_or("").to_owned();
    info.dependencies_compiled = compiled
        .into_iter()
        .filter(|c| !own.contains(&name(c).as_str()))
        .collect();
    let compiled_names: std::collections::BTreeSet<String> =
        info.dependencies_compiled.iter().map(|c| name(c)).collect();
    info.dependencies_reused = fingerprinted_packages(private_target, triple)
        .iter()
        .filter(|n| !own.contains(&n.as_str()) && !compiled_names.contains(*n))
        .count();
}

/// Passes progress on, noting the packages cargo compiles.
pub(crate) struct CountCompiling<'a> {
    pub(crate) inner: &'a mut dyn Progress,
    pub(crate) compiled: Vec<String>,
}

impl Progress for CountCompiling<'_> {
    fn event(&mut self, event: ProgressEvent<'_>) {
        if let ProgressEvent::CargoLine(line) = event
            && let Some(p) = compiling_line(line)
            && !self.compiled.contains(&p)
        {
            self.compiled.push(p);
        }
        self.inner.event(event);
    }
}

/// Restores the compile cache's entry into the sandbox's private target, if there is a sound
/// one; a damaged entry is reported and ignored.
pub(crate) fn restore_step(
    cc: &CompileCacheConfig,
    key: &str,
    private_target: &Path,
    progress: &mut dyn Progress,
) -> Result<CompileCacheInfo, BuildError> {
    let mut info = CompileCacheInfo {
        key: key.to_owned(),
        hit: false,
        restored_files: 0,
        stored: false,
        dependencies_compiled: Vec::new(),
        dependencies_reused: 0,
        note: None,
    };
    let short = &key[..16.min(key.len())];
    match restore(cc, key, private_target)? {
        Restore::Hit(n) => {
            info.hit = true;
            info.restored_files = n;
            progress.event(ProgressEvent::Step(&format!(
                "compile cache: restored {n} files (key {short})"
            )));
        }
        Restore::Miss => {
            progress.event(ProgressEvent::Step(&format!(
                "compile cache: no entry (key {short})"
            )));
        }
        Restore::Rejected(why) => {
            tracing::warn!(%key, "compile cache entry ignored: {why}");
            progress.event(ProgressEvent::Step(&format!(
                "compile cache: entry {short} ignored, it does not match its manifest; building without it"
            )));
            info.note = Some(format!("entry ignored: {why}"));
        }
    }
    Ok(info)
}

/// Stores the private target of a successful compile as the compile cache's entry, leaving out
/// the final artifacts (the files directly in `<target>/release/`).
pub(crate) fn store_step(
    cc: &CompileCacheConfig,
    key: &str,
    private_target: &Path,
    target: &str,
    info: &mut CompileCacheInfo,
    progress: &mut dyn Progress,
) {
    let finals = Path::new(target).join("release");
    let exclude = |rel: &Path| rel.parent() == Some(finals.as_path());
    let short = &key[..16.min(key.len())];
    match store(cc, key, private_target, &exclude, MAX_STORE_BYTES) {
        Ok(Store::Stored) => {
            info.stored = true;
            progress.event(ProgressEvent::Step(&format!(
                "compile cache: stored (key {short})"
            )));
        }
        Ok(Store::Exists) => {}
        // The build itself succeeded: a cache that cannot be written does not fail it.
        Err(e) => {
            tracing::warn!(%key, "compile cache: storing failed: {e}");
            progress.event(ProgressEvent::Step(&format!(
                "compile cache: not stored: {e}"
            )));
            info.note.get_or_insert(format!("not stored: {e}"));
        }
        Ok(Store::Skipped(why)) => {
            tracing::info!(%key, "compile cache: not stored: {why}");
            progress.event(ProgressEvent::Step(&format!(
                "compile cache: not stored: {why}"
            )));
            info.note.get_or_insert(format!("not stored: {why}"));
        }
    }
}

/// The packages cargo says it compiles (`Compiling NAME vVERSION (…)` lines), as `NAME vVERSION`.
pub(crate) fn compiling_line(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("Compiling ")?;
    let mut words = rest.split_whitespace();
    let name = words.next()?;
    let version = words.next().unwrap_or("");
    Some(format!("{name} {version}").trim_end().to_owned())
}

/// Package names that have a fingerprint under `target` (`.fingerprint/<name>-<hash>` in the
/// host and target profile directories).
pub(crate) fn fingerprinted_packages(
    target: &Path,
    triple: &str,
) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for d in [
        target.join("release/.fingerprint"),
        target.join(triple).join("release/.fingerprint"),
    ] {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some((name, _hash)) = n.rsplit_once('-') {
                names.insert(name.to_owned());
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path) {
        fs_err::create_dir_all(root.join("release/deps")).unwrap();
        fs_err::write(root.join("release/deps/libdep-0123.rlib"), b"rlib bytes").unwrap();
        fs_err::write(root.join("release/build-script-build"), b"#!exe").unwrap();
        std::fs::set_permissions(
            root.join("release/build-script-build"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        fs_err::write(root.join("release/final.wasm"), b"artifact").unwrap();
        let old = SystemTime::UNIX_EPOCH + Duration::new(1_600_000_000, 123_456_789);
        std::fs::OpenOptions::new()
            .write(true)
            .open(root.join("release/deps/libdep-0123.rlib"))
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    fn cfg(dir: &Path) -> CompileCacheConfig {
        CompileCacheConfig {
            dir: dir.to_path_buf(),
            write: true,
        }
    }

    #[test]
    fn an_entry_round_trips_with_bytes_modes_and_mtimes() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        tree(&src);
        let c = cfg(&t.path().join("cc"));
        let excl = |p: &Path| p == Path::new("release/final.wasm");
        assert_eq!(
            store(&c, "k", &src, &excl, u64::MAX).unwrap(),
            Store::Stored
        );
        assert_eq!(
            store(&c, "k", &src, &excl, u64::MAX).unwrap(),
            Store::Exists
        );
        let dest = t.path().join("dest");
        fs_err::create_dir_all(&dest).unwrap();
        assert_eq!(restore(&c, "k", &dest).unwrap(), Restore::Hit(2));
        assert_eq!(
            fs_err::read(dest.join("release/deps/libdep-0123.rlib")).unwrap(),
            b"rlib bytes"
        );
        assert!(!dest.join("release/final.wasm").exists());
        let m = fs_err::metadata(dest.join("release/deps/libdep-0123.rlib")).unwrap();
        assert_eq!(
            m.modified().unwrap(),
            SystemTime::UNIX_EPOCH + Duration::new(1_600_000_000, 123_456_789)
        );
        let exe = fs_err::metadata(dest.join("release/build-script-build")).unwrap();
        assert_eq!(exe.permissions().mode() & 0o777, 0o755);
        // A copy, not a link: writing the restored file leaves the entry alone.
        fs_err::write(dest.join("release/deps/libdep-0123.rlib"), b"changed").unwrap();
        assert_eq!(
            fs_err::read(c.dir.join("entries/k/tree/release/deps/libdep-0123.rlib")).unwrap(),
            b"rlib bytes"
        );
        assert_eq!(
            restore(&c, "other", &t.path().join("x")).unwrap(),
            Restore::Miss
        );
    }

    #[test]
    fn a_tampered_or_truncated_entry_is_rejected_and_nothing_is_left() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        tree(&src);
        let c = cfg(&t.path().join("cc"));
        store(&c, "k", &src, &|_| false, u64::MAX).unwrap();
        let cached = c.dir.join("entries/k/tree/release/deps/libdep-0123.rlib");
        let dest = t.path().join("dest");
        // One byte flipped, same size.
        fs_err::write(&cached, b"rlib bytez").unwrap();
        fs_err::create_dir_all(&dest).unwrap();
        let Restore::Rejected(why) = restore(&c, "k", &dest).unwrap() else {
            panic!("a tampered entry was accepted");
        };
        assert!(why.contains("does not match the manifest"), "{why}");
        assert_eq!(fs_err::read_dir(&dest).unwrap().count(), 0);
        // Truncated.
        fs_err::write(&cached, b"rlib").unwrap();
        assert!(matches!(
            restore(&c, "k", &dest).unwrap(),
            Restore::Rejected(_)
        ));
        // Missing.
        fs_err::remove_file(&cached).unwrap();
        assert!(matches!(
            restore(&c, "k", &dest).unwrap(),
            Restore::Rejected(_)
        ));
    }

    #[test]
    fn a_manifest_cannot_name_a_path_outside_the_target() {
        let t = tempfile::tempdir().unwrap();
        let c = cfg(t.path());
        let entry = t.path().join("entries/k");
        fs_err::create_dir_all(entry.join("tree")).unwrap();
        // What `tree/../evil` would reach without the check.
        fs_err::write(entry.join("evil"), b"").unwrap();
        let m = Manifest {
            format: FORMAT_VERSION,
            key: "k".into(),
            files: vec![FileRecord {
                path: "../evil".into(),
                size: 0,
                sha256: hex::encode(Sha256::digest(b"")),
                mode: 0o644,
                mtime_ns: 0,
            }],
        };
        fs_err::write(entry.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
        let dest = t.path().join("dest");
        fs_err::create_dir_all(&dest).unwrap();
        assert!(matches!(
            restore(&c, "k", &dest).unwrap(),
            Restore::Rejected(w) if w.contains("unsafe path")
        ));
        assert!(!t.path().join("evil").exists());
        assert_eq!(fs_err::read_dir(&dest).unwrap().count(), 0);
        // Garbage manifest.
        fs_err::write(entry.join("manifest.json"), b"{not json").unwrap();
        assert!(matches!(
            restore(&c, "k", &dest).unwrap(),
            Restore::Rejected(_)
        ));
    }

    #[test]
    fn too_large_a_target_is_not_stored() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        tree(&src);
        let c = cfg(&t.path().join("cc"));
        assert!(matches!(
            store(&c, "k", &src, &|_| false, 4).unwrap(),
            Store::Skipped(_)
        ));
        assert!(!c.dir.join("entries/k").exists());
    }

    #[test]
    fn compiling_lines_name_the_package() {
        assert_eq!(
            compiling_line("   Compiling casper-types v4.0.2").as_deref(),
            Some("casper-types v4.0.2")
        );
        assert_eq!(
            compiling_line("   Compiling multi_ep v0.1.0 (/x/ws/multi_ep)").as_deref(),
            Some("multi_ep v0.1.0")
        );
        assert_eq!(compiling_line("    Finished `release`"), None);
    }
}
