//! Source archives from strangers: a gzip'd tar unpacked into a fresh directory, or refused with
//! the reason. Nothing outside the directory is ever written, nothing is followed out of it, and
//! the unpacked size and file count are bounded while decompressing (a bomb is stopped, not
//! measured afterwards).
//!
//! What is refused: not gzip; not a tar; absolute paths or `..`; an entry written through a
//! symlink; a symlink or hard link whose target leaves the tree; devices, FIFOs; duplicate paths;
//! more files, more bytes or longer paths than the limits.
//!
//! The source digest ([`Unpacked::digest`]) is a digest of the tree (paths, file contents,
//! executable bits, link targets), independent of how the archive was compressed or ordered: two
//! submissions of the same project have the same digest.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

/// Bounds on what an archive may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The archive itself (gzip bytes).
    pub max_archive_bytes: usize,
    /// Sum of the file sizes once unpacked.
    pub max_unpacked_bytes: u64,
    /// Files, directories and links.
    pub max_entries: usize,
    /// Bytes of one entry's path.
    pub max_path_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_archive_bytes: 32 << 20,
            max_unpacked_bytes: 256 << 20,
            max_entries: 20_000,
            max_path_bytes: 1024,
        }
    }
}

/// Why an archive was refused. Every message names the entry (when there is one) and the rule.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("the code archive is {size} bytes; the limit is {limit}")]
    TooBig { size: usize, limit: usize },
    #[error("the code archive is not gzip-compressed (a .tar.gz is expected)")]
    NotGzip,
    #[error("the code archive is not a valid tar.gz: {0}")]
    Corrupt(String),
    #[error("the code archive is empty")]
    Empty,
    #[error("archive entry `{path}`: {why}")]
    BadPath { path: String, why: &'static str },
    #[error("archive entry `{path}` is a {kind}; only files, directories and links are accepted")]
    BadKind { path: String, kind: &'static str },
    #[error("archive entry `{path}` is a link to `{target}`, which is outside the project")]
    LinkEscapes { path: String, target: String },
    #[error("archive entry `{path}` appears twice")]
    Duplicate { path: String },
    #[error("the code archive unpacks to more than {limit} bytes (decompression bomb?)")]
    TooManyBytes { limit: u64 },
    #[error("the code archive holds more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("unpacking the code archive: {0}")]
    Io(#[from] io::Error),
}

/// A tree unpacked from an archive.
#[derive(Debug, Clone)]
pub struct Unpacked {
    /// sha256 of the tree (see the module docs), hex.
    pub digest: String,
    /// Regular files.
    pub files: usize,
    /// Sum of their sizes.
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir,
    File { sha256: [u8; 32], executable: bool },
    Link { target: String },
}

/// Unpacks `archive` (gzip'd tar) into `dest`, an existing empty directory.
pub fn unpack(archive: &[u8], dest: &Path, limits: &Limits) -> Result<Unpacked, ArchiveError> {
    if archive.len() > limits.max_archive_bytes {
        return Err(ArchiveError::TooBig {
            size: archive.len(),
            limit: limits.max_archive_bytes,
        });
    }
    if !archive.starts_with(&[0x1f, 0x8b]) {
        return Err(ArchiveError::NotGzip);
    }
    // Headers count too: a bomb of empty entries is bounded by the entry limit, and the stream
    // itself by the byte limit plus room for one header per entry.
    let stream_limit = limits
        .max_unpacked_bytes
        .saturating_add(1024 * (limits.max_entries as u64 + 2));
    let gz = flate2::read::GzDecoder::new(archive);
    let mut tar = tar::Archive::new(Bounded {
        inner: gz,
        left: stream_limit,
        limit: limits.max_unpacked_bytes,
    });
    let mut tree: BTreeMap<String, Node> = BTreeMap::new();
    let mut bytes = 0u64;
    let entries = tar.entries().map_err(corrupt)?;
    for entry in entries {
        let mut entry = entry.map_err(corrupt)?;
        if tree.len() >= limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = relative(&raw, limits)?;
        if rel.as_os_str().is_empty() {
            continue; // "./"
        }
        let key = rel.to_string_lossy().into_owned();
        let out = dest.join(&rel);
        no_links_above(dest, &rel, &raw)?;
        let kind = entry.header().entry_type();
        let node = match kind {
            tar::EntryType::Directory => {
                fs_err::create_dir_all(&out)?;
                Node::Dir
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = entry.header().size().map_err(corrupt)?;
                bytes = bytes.saturating_add(size);
                if bytes > limits.max_unpacked_bytes {
                    return Err(ArchiveError::TooManyBytes {
                        limit: limits.max_unpacked_bytes,
                    });
                }
                let executable = entry
                    .header()
                    .mode()
                    .map(|m| m & 0o111 != 0)
                    .unwrap_or(false);
                if let Some(parent) = out.parent() {
                    fs_err::create_dir_all(parent)?;
                }
                let sha256 = write_file(&mut entry, &out, executable)?;
                Node::File { sha256, executable }
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let resolved = if kind == tar::EntryType::Symlink {
                    // Relative to the link's own directory.
                    let base = rel.parent().unwrap_or(Path::new(""));
                    inside(&base.join(&target))
                } else {
                    // A hard link names another entry of the archive.
                    inside(Path::new(&target))
                };
                let Some(resolved) = resolved.filter(|_| !Path::new(&target).is_absolute()) else {
                    return Err(ArchiveError::LinkEscapes { path: raw, target });
                };
                if let Some(parent) = out.parent() {
                    fs_err::create_dir_all(parent)?;
                }
                if kind == tar::EntryType::Link {
                    // Copied, never linked: the copy cannot alias a file elsewhere.
                    let from = dest.join(&resolved);
                    no_links_above(dest, &resolved, &raw)?;
                    match tree.get(&resolved.to_string_lossy().into_owned()) {
                        Some(Node::File { .. }) => {}
                        _ => {
                            return Err(ArchiveError::BadPath {
                                path: raw,
                                why: "is a hard link to something that is not an earlier file of the archive",
                            });
                        }
                    }
                    fs_err::copy(&from, &out)?;
                    let data = fs_err::read(&out)?;
                    bytes = bytes.saturating_add(data.len() as u64);
                    if bytes > limits.max_unpacked_bytes {
                        return Err(ArchiveError::TooManyBytes {
                            limit: limits.max_unpacked_bytes,
                        });
                    }
                    Node::File {
                        sha256: Sha256::digest(&data).into(),
                        executable: false,
                    }
                } else {
                    std::os::unix::fs::symlink(&target, &out)?;
                    Node::Link { target }
                }
            }
            // Metadata entries the tar crate has already applied to the next entry.
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => continue,
            other => {
                return Err(ArchiveError::BadKind {
                    path: raw,
                    kind: kind_name(other),
                });
            }
        };
        if tree.insert(key, node).is_some() {
            return Err(ArchiveError::Duplicate { path: raw });
        }
    }
    let files = tree
        .values()
        .filter(|n| matches!(n, Node::File { .. }))
        .count();
    if files == 0 {
        return Err(ArchiveError::Empty);
    }
    Ok(Unpacked {
        digest: digest(&tree),
        files,
        bytes,
    })
}

/// The regular files of an (already accepted) archive: (path, size), in archive order.
pub fn list(archive: &[u8], limits: &Limits) -> Result<Vec<(String, u64)>, ArchiveError> {
    let mut out = Vec::new();
    each_file(archive, limits, |path, size, _| {
        out.push((path.to_owned(), size));
        Ok(true)
    })?;
    Ok(out)
}

/// The contents of the file `want` of an (already accepted) archive, when it holds one.
pub fn read(archive: &[u8], want: &str, limits: &Limits) -> Result<Option<Vec<u8>>, ArchiveError> {
    let mut found = None;
    each_file(archive, limits, |path, _, entry| {
        if path != want {
            return Ok(true);
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(corrupt)?;
        found = Some(data);
        Ok(false)
    })?;
    Ok(found)
}

/// Calls `f(path, size, reader)` for each regular file until it returns `false`, without
/// writing anything.
fn each_file(
    archive: &[u8],
    limits: &Limits,
    mut f: impl FnMut(&str, u64, &mut dyn Read) -> Result<bool, ArchiveError>,
) -> Result<(), ArchiveError> {
    if !archive.starts_with(&[0x1f, 0x8b]) {
        return Err(ArchiveError::NotGzip);
    }
    let stream_limit = limits
        .max_unpacked_bytes
        .saturating_add(1024 * (limits.max_entries as u64 + 2));
    let mut tar = tar::Archive::new(Bounded {
        inner: flate2::read::GzDecoder::new(archive),
        left: stream_limit,
        limit: limits.max_unpacked_bytes,
    });
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        if !matches!(
            entry.header().entry_type(),
            tar::EntryType::Regular | tar::EntryType::Continuous
        ) {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = relative(&raw, limits)?;
        let size = entry.header().size().map_err(corrupt)?;
        if !f(&rel.to_string_lossy(), size, &mut entry)? {
            break;
        }
    }
    Ok(())
}

/// `raw` as a path relative to the tree, or why not.
fn relative(raw: &str, limits: &Limits) -> Result<PathBuf, ArchiveError> {
    let bad = |why| ArchiveError::BadPath {
        path: raw.to_owned(),
        why,
    };
    if raw.len() > limits.max_path_bytes {
        return Err(bad("its path is longer than the limit"));
    }
    if raw.contains('\0') {
        return Err(bad("its path holds a NUL byte"));
    }
    let mut out = PathBuf::new();
    for c in Path::new(raw).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => return Err(bad("its path goes up with `..`")),
            Component::RootDir | Component::Prefix(_) => return Err(bad("its path is absolute")),
        }
    }
    Ok(out)
}

/// `p` with `.` and `..` resolved lexically, if it stays inside the tree.
fn inside(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(x) => out.push(x),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Refuses `rel` when a directory on its way (inside `dest`) is a symlink: writing through it
/// could land anywhere the link points.
fn no_links_above(dest: &Path, rel: &Path, raw: &str) -> Result<(), ArchiveError> {
    let mut at = dest.to_path_buf();
    let mut parts = rel.components().peekable();
    while let Some(c) = parts.next() {
        at.push(c);
        let last = parts.peek().is_none();
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(ArchiveError::BadPath {
                    path: raw.to_owned(),
                    why: if last {
                        "its path is a link written earlier"
                    } else {
                        "its path goes through a link"
                    },
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn write_file(src: &mut impl Read, out: &Path, executable: bool) -> Result<[u8; 32], ArchiveError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if executable { 0o755 } else { 0o644 })
        .open(out)
        .map_err(|e| io::Error::new(e.kind(), format!("creating {}: {e}", out.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = src.read(&mut buf).map_err(corrupt)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])?;
    }
    Ok(hasher.finalize().into())
}

fn digest(tree: &BTreeMap<String, Node>) -> String {
    let mut h = Sha256::new();
    for (path, node) in tree {
        match node {
            Node::Dir => {}
            Node::File { sha256, executable } => {
                h.update(if *executable { b"x " } else { b"f " });
                h.update(path.as_bytes());
                h.update([0]);
                h.update(sha256);
            }
            Node::Link { target } => {
                h.update(b"l ");
                h.update(path.as_bytes());
                h.update([0]);
                h.update(target.as_bytes());
                h.update([0]);
            }
        }
    }
    hex::encode(h.finalize())
}

fn kind_name(t: tar::EntryType) -> &'static str {
    match t {
        tar::EntryType::Char => "character device",
        tar::EntryType::Block => "block device",
        tar::EntryType::Fifo => "FIFO",
        tar::EntryType::GNUSparse => "sparse file",
        _ => "special entry",
    }
}

fn corrupt(e: io::Error) -> ArchiveError {
    if e.kind() == io::ErrorKind::FileTooLarge {
        // Raised by `Bounded` below.
        return ArchiveError::TooManyBytes {
            limit: e
                .get_ref()
                .and_then(|r| r.to_string().parse().ok())
                .unwrap_or(0),
        };
    }
    ArchiveError::Corrupt(e.to_string())
}

/// A reader that fails once more than `left` bytes came through.
struct Bounded<R> {
    inner: R,
    left: u64,
    /// Reported in the error.
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self
            .left
            .checked_sub(n as u64)
            .ok_or_else(|| io::Error::new(io::ErrorKind::FileTooLarge, self.limit.to_string()))?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
