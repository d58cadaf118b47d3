//! The command line's side of batches (`casper-repro batch FILE --server URL`): reads the batch
//! file, packs each source directory the way the service takes it (a tar.gz), submits the batch,
//! and reads its progress back.
//!
//! The batch file (TOML; relative paths are from the file's directory):
//!
//! ```toml
//! name = "nightly"                       # optional
//!
//! [[job]]
//! transaction = "deploy-69dd…"           # a deploy or transaction hash, as `verify` takes it
//! source = "contracts/multi_ep"          # a directory (packed without target/ and .git/) or a .tar.gz
//!
//! [[job]]
//! transaction = "f7b0…"
//! git = { url = "https://github.com/o/r", commit = "<40 hex>", path = "contracts" }
//! ```

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::batch::BatchDoc;
use crate::git::GitSource;

/// What went wrong, named for the user.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
    #[error("job {index} of {file}: the source {source_path}: {reason}")]
    Source {
        file: PathBuf,
        index: usize,
        source_path: PathBuf,
        reason: String,
    },
    #[error("{url}: {reason}")]
    Http { url: String, reason: String },
    #[error("the service refused the batch (HTTP {status}, {code}): {description}")]
    Refused {
        status: u16,
        code: String,
        description: String,
    },
}

/// One job of a batch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub transaction: String,
    pub source: EntrySource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntrySource {
    /// A directory or a `.tar.gz`, resolved against the batch file's directory.
    Path(PathBuf),
    Git(GitSource),
}

/// A batch file, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFile {
    pub path: PathBuf,
    pub name: Option<String>,
    pub jobs: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: Option<String>,
    #[serde(default)]
    job: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    transaction: String,
    source: Option<PathBuf>,
    git: Option<GitSource>,
}

/// Reads and checks a batch file.
pub fn read_batch_file(path: &Path) -> Result<BatchFile, ClientError> {
    let bad = |reason: String| ClientError::BadFile {
        path: path.to_owned(),
        reason,
    };
    let text = fs_err::read_to_string(path).map_err(|e| bad(io_reason(&e)))?;
    let raw: RawFile = toml::from_str(&text).map_err(|e| bad(toml_reason(&e)))?;
    if raw.job.is_empty() {
        return Err(bad(
            "no [[job]] in the file (each needs `transaction` and `source` or `git`)".into(),
        ));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let jobs = raw
        .job
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let source = match (e.source, e.git) {
                (Some(p), None) => EntrySource::Path(base.join(p)),
                (None, Some(g)) => EntrySource::Git(g),
                _ => {
                    return Err(bad(format!(
                        "job {i} (`{}`): give exactly one of `source` (a directory or a .tar.gz) and `git`",
                        e.transaction
                    )));
                }
            };
            Ok(Entry {
                transaction: e.transaction,
                source,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(BatchFile {
        path: path.to_owned(),
        name: raw.name,
        jobs,
    })
}

fn io_reason(e: &std::io::Error) -> String {
    // fs_err's message names the path already; keep only the cause.
    e.to_string()
}

fn toml_reason(e: &toml::de::Error) -> String {
    let mut reason = e.message().trim().to_owned();
    if let Some(span) = e.span() {
        reason = format!("{reason} (at byte {})", span.start);
    }
    format!("not a batch file: {reason}")
}

/// The request body of `POST /api/v1/batches` for `file`: every directory packed (once, however
/// many jobs name it), every archive read.
pub fn request_body(file: &BatchFile) -> Result<Vec<u8>, ClientError> {
    let mut packed: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut jobs = Vec::with_capacity(file.jobs.len());
    for (index, entry) in file.jobs.iter().enumerate() {
        let job = match &entry.source {
            EntrySource::Git(g) => json!({"hash": entry.transaction, "git": g}),
            EntrySource::Path(p) => {
                if !packed.contains_key(p) {
                    let bytes = archive_of(p).map_err(|reason| ClientError::Source {
                        file: file.path.clone(),
                        index,
                        source_path: p.clone(),
                        reason,
                    })?;
                    packed.insert(
                        p.clone(),
                        base64::engine::general_purpose::STANDARD.encode(bytes),
                    );
                }
                json!({"hash": entry.transaction, "archive": packed[p]})
            }
        };
        jobs.push(job);
    }
    let body = json!({"name": file.name, "jobs": jobs});
    Ok(body.to_string().into_bytes())
}

/// A source as the service takes it: a `.tar.gz` as is, a directory packed.
fn archive_of(p: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(p).map_err(|e| e.to_string())?;
    if meta.is_file() {
        return fs_err::read(p).map_err(|e| e.to_string());
    }
    pack_dir(p).map_err(|e| e.to_string())
}

/// Packs `dir` into a tar.gz: regular files and directories in name order, without `target/`
/// and `.git/` at any depth, with zeroed times and owners (the service digests the tree, not the
/// archive, but the same tree packs to the same bytes). Symbolic links are refused.
pub fn pack_dir(dir: &Path) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    add_dir(&mut tar, dir, Path::new(""))?;
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}

fn add_dir<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    dir: &Path,
    rel: &Path,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = fs_err::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let path = e.path();
        let rel = rel.join(&name);
        let kind = e.file_type()?;
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        if kind.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            tar.append_data(&mut header, &rel, std::io::empty())?;
            add_dir(tar, &path, &rel)?;
        } else if kind.is_file() {
            let mode = {
                use std::os::unix::fs::PermissionsExt as _;
                e.metadata()?.permissions().mode()
            };
            let bytes = fs_err::read(&path)?;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if mode & 0o111 != 0 { 0o755 } else { 0o644 });
            header.set_size(bytes.len() as u64);
            tar.append_data(&mut header, &rel, bytes.as_slice())?;
        } else {
            return Err(std::io::Error::other(format!(
                "{} is a symbolic link or a special file: the service takes regular files only",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The service's batch API.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// `base`: the service's URL (`http://host:port`).
    pub fn new(base: &str, timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("casper-repro/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            base: base.trim_end_matches('/').to_owned(),
            agent: config.into(),
        }
    }

    /// Queues a batch (`body` from [`request_body`]).
    pub fn submit_batch(&self, body: Vec<u8>) -> Result<BatchDoc, ClientError> {
        let url = format!("{}/api/v1/batches", self.base);
        let response = self
            .agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body);
        self.document(&url, response)
    }

    /// A batch's progress.
    pub fn batch(&self, id: i64) -> Result<BatchDoc, ClientError> {
        let url = format!("{}/api/v1/batches/{id}", self.base);
        let response = self.agent.get(&url).call();
        self.document(&url, response)
    }

    /// The base URL, for links.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn document(
        &self,
        url: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<BatchDoc, ClientError> {
        let http = |reason: String| ClientError::Http {
            url: url.to_owned(),
            reason,
        };
        let mut response = response.map_err(|e| {
            http(match e {
                ureq::Error::Timeout(_) => "timed out".into(),
                ureq::Error::ConnectionFailed => {
                    "connection failed (is the service running?)".into()
                }
                ureq::Error::HostNotFound => "host not found".into(),
                other => other.to_string(),
            })
        })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| http(format!("reading the answer: {e}")))?;
        let value: Value = serde_json::from_str(&text).map_err(|_| {
            http(format!(
                "HTTP {status}, and the answer is not JSON (is this a casper-repro service?): {}",
                text.chars().take(200).collect::<String>()
            ))
        })?;
        if !(200..300).contains(&status) {
            let error = &value["error"];
            return Err(ClientError::Refused {
                status,
                code: error["code"].as_str().unwrap_or("?").to_owned(),
                description: error["description"]
                    .as_str()
                    .unwrap_or("(no description)")
                    .to_owned(),
            });
        }
        serde_json::from_value(value)
            .map_err(|e| http(format!("the answer is not a batch document: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_file_reads_with_paths_from_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("batch.toml");
        fs_err::write(
            &file,
            r#"
name = "n"
[[job]]
transaction = "deploy-aa"
source = "proj"
[[job]]
transaction = "bb"
git = { url = "https://example.org/r", commit = "0123456789012345678901234567890123456789" }
"#,
        )
        .unwrap();
        let b = read_batch_file(&file).unwrap();
        assert_eq!(b.name.as_deref(), Some("n"));
        assert_eq!(b.jobs[0].source, EntrySource::Path(dir.path().join("proj")));
        assert!(matches!(&b.jobs[1].source, EntrySource::Git(g) if g.path.is_none()));
    }

    #[test]
    fn bad_batch_files_are_named_with_where() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("b.toml");
        for (text, want) in [
            ("[[job]]\ntransaction = 1\n", "at byte"),
            ("name = \"x\"\n", "no [[job]]"),
            (
                "[[job]]\ntransaction = \"a\"\n",
                "job 0 (`a`): give exactly one of `source`",
            ),
            (
                "[[job]]\ntransaction = \"a\"\nsorce = \"p\"\n",
                "unknown field `sorce`",
            ),
        ] {
            fs_err::write(&file, text).unwrap();
            let e = read_batch_file(&file).unwrap_err().to_string();
            assert!(e.starts_with(&file.display().to_string()), "{e}");
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let e = read_batch_file(&dir.path().join("none.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.toml"), "{e}");
    }

    #[test]
    fn packing_skips_build_outputs_and_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for f in [
            "Cargo.toml",
            "src/lib.rs",
            "target/x.wasm",
            ".git/HEAD",
            "sub/target/y",
        ] {
            fs_err::create_dir_all(p.join(f).parent().unwrap()).unwrap();
            fs_err::write(p.join(f), f).unwrap();
        }
        let a = pack_dir(p).unwrap();
        assert_eq!(a, pack_dir(p).unwrap());
        let listed: Vec<String> = crate::archive::list(&a, &crate::archive::Limits::default())
            .unwrap()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(listed, ["Cargo.toml", "src/lib.rs"]);
        std::os::unix::fs::symlink("/etc/passwd", p.join("link")).unwrap();
        let e = pack_dir(p).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
    }
}
