//! The source tree: finding the workspace root, digesting it, and copying it to a private build
//! location so that nothing is ever written into the user's tree.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::BuildError;

/// Directory names never copied nor digested: build output and VCS metadata.
const SKIP_DIRS: &[&str] = &["target", ".git", ".hg", ".svn"];

/// The workspace root of the crate at `crate_dir`: the nearest ancestor (or itself) whose
/// `Cargo.toml` has a `[workspace]` table, or `package.workspace` if the crate names one, or the
/// crate itself.
pub fn workspace_root(crate_dir: &Path) -> Result<PathBuf, BuildError> {
    let manifest = crate_dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(BuildError::NoSuchCrate {
            path: crate_dir.to_path_buf(),
        });
    }
    let own: toml::Value = read_manifest(&manifest)?;
    if let Some(ws) = own
        .get("package")
        .and_then(|p| p.get("workspace"))
        .and_then(|w| w.as_str())
    {
        return Ok(crate_dir.join(ws));
    }
    let mut dir = Some(crate_dir);
    while let Some(d) = dir {
        let m = d.join("Cargo.toml");
        if m.is_file() && read_manifest(&m)?.get("workspace").is_some() {
            return Ok(d.to_path_buf());
        }
        dir = d.parent();
    }
    Ok(crate_dir.to_path_buf())
}

pub(crate) fn read_manifest(path: &Path) -> Result<toml::Value, BuildError> {
    let text = fs_err::read_to_string(path)?;
    toml::from_str(&text).map_err(|e| BuildError::parse(path.display().to_string(), e))
}

/// Files of the tree under `root`, sorted, relative, with [`SKIP_DIRS`] left out.
fn walk(root: &Path) -> Result<Vec<PathBuf>, BuildError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in fs_err::read_dir(root.join(&rel))? {
            let entry = entry?;
            let name = entry.file_name();
            let rel_child = rel.join(&name);
            let ft = entry.file_type()?;
            if ft.is_dir() {
                if !SKIP_DIRS.iter().any(|s| name == *s) {
                    stack.push(rel_child);
                }
            } else {
                out.push(rel_child);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A digest of the source tree: sha256 over every file's relative path, kind and contents.
#[derive(Debug, Clone)]
pub struct TreeDigest {
    pub sha256: String,
    pub files: usize,
}

/// Copies the tree at `root` into `dest` (which must not exist) and digests it in the same pass.
/// Symlinks are copied as symlinks and digested by their target.
pub fn copy_and_digest(root: &Path, dest: &Path) -> Result<TreeDigest, BuildError> {
    digest_impl(root, Some(dest))
}

/// Digests the tree at `root` without copying.
pub fn digest(root: &Path) -> Result<TreeDigest, BuildError> {
    digest_impl(root, None)
}

fn digest_impl(root: &Path, dest: Option<&Path>) -> Result<TreeDigest, BuildError> {
    let files = walk(root)?;
    let mut h = Sha256::new();
    for rel in &files {
        let src = root.join(rel);
        let meta = fs_err::symlink_metadata(&src)?;
        let rel_s = rel.to_string_lossy();
        h.update((rel_s.len() as u64).to_le_bytes());
        h.update(rel_s.as_bytes());
        if meta.file_type().is_symlink() {
            let target = fs_err::read_link(&src)?;
            let t = target.to_string_lossy();
            h.update(b"L");
            h.update((t.len() as u64).to_le_bytes());
            h.update(t.as_bytes());
            if let Some(dest) = dest {
                let d = dest.join(rel);
                fs_err::create_dir_all(d.parent().expect("file has a parent"))?;
                std::os::unix::fs::symlink(&target, &d).map_err(|e| {
                    std::io::Error::new(e.kind(), format!("symlink {}: {e}", d.display()))
                })?;
            }
        } else {
            let bytes = fs_err::read(&src)?;
            use std::os::unix::fs::PermissionsExt;
            let exec = meta.permissions().mode() & 0o111 != 0;
            h.update(if exec { b"X" } else { b"F" });
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
            if let Some(dest) = dest {
                let d = dest.join(rel);
                fs_err::create_dir_all(d.parent().expect("file has a parent"))?;
                fs_err::write(&d, &bytes)?;
                if exec {
                    fs_err::set_permissions(&d, std::fs::Permissions::from_mode(0o755))?;
                }
            }
        }
    }
    if let Some(dest) = dest {
        fs_err::create_dir_all(dest)?;
    }
    Ok(TreeDigest {
        sha256: hex::encode(h.finalize()),
        files: files.len(),
    })
}

/// sha256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_ignores_target_and_location() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for d in [a.path(), b.path()] {
            fs_err::create_dir_all(d.join("src")).unwrap();
            fs_err::write(d.join("Cargo.toml"), "[package]\nname='x'\n").unwrap();
            fs_err::write(d.join("src/lib.rs"), "").unwrap();
        }
        fs_err::create_dir_all(b.path().join("target/release")).unwrap();
        fs_err::write(b.path().join("target/release/junk"), "x").unwrap();
        assert_eq!(
            digest(a.path()).unwrap().sha256,
            digest(b.path()).unwrap().sha256
        );
        fs_err::write(b.path().join("src/lib.rs"), "//").unwrap();
        assert_ne!(
            digest(a.path()).unwrap().sha256,
            digest(b.path()).unwrap().sha256
        );
    }
}
