//! Sources from git, on servers that are allowed to fetch (`casper-repro serve --allow-git
//! PREFIX`). A submission names a repository URL, a full commit hash and optionally the project's
//! directory in it; the server fetches that one commit and turns its tree into the same tar.gz a
//! client would upload, which then goes through the archive checks like any upload.
//!
//! The URL and the repository are strangers' input:
//! - only URLs under an allowed prefix, over `https`, `http` or `git`; never `file`, `ext` or
//!   ssh; no credentials in the URL; nothing that git could read as an option;
//! - a commit, never a branch or tag name (a name moves; a verification must not);
//! - git runs with an empty environment (no user or system configuration, no prompts, only the
//!   allowed protocols), in its own process group, under a wall-clock limit and a file-size
//!   limit, and nothing of the repository runs: no checkout, no hooks, no submodules, no LFS.

use std::io::Read;
use std::path::{Component, Path};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// A source in git, as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitSource {
    pub url: String,
    /// The full commit hash (40 hex digits; 64 in a SHA-256 repository).
    pub commit: String,
    /// The project's directory inside the repository (default: its root).
    #[serde(default)]
    pub path: Option<String>,
}

/// What the server allows.
#[derive(Debug, Clone)]
pub struct GitPolicy {
    /// URL prefixes that may be fetched (empty: git sources are refused).
    pub allow: Vec<String>,
    /// Wall-clock limit of the fetch.
    pub timeout: Duration,
    /// Largest file git may write (the pack), in bytes.
    pub max_pack_bytes: u64,
}

impl Default for GitPolicy {
    fn default() -> Self {
        GitPolicy {
            allow: Vec::new(),
            timeout: Duration::from_secs(120),
            max_pack_bytes: 512 << 20,
        }
    }
}

/// Why a git source was refused or could not be fetched. Each message names the URL, the
/// commit or the path, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("this server does not fetch sources from git; upload an archive instead")]
    Disabled,
    #[error("`{url}` is not under a repository prefix this server may fetch from ({allowed})")]
    NotAllowed { url: String, allowed: String },
    #[error("`{url}` is not a repository URL this server fetches: {why}")]
    BadUrl { url: String, why: &'static str },
    #[error(
        "`{commit}` is not a full commit hash (40 or 64 hex digits); branch and tag names move, so give the commit"
    )]
    BadCommit { commit: String },
    #[error("the project path `{path}` {why}")]
    BadPath { path: String, why: &'static str },
    #[error("fetching commit {commit} from {url} failed: {detail}")]
    Fetch {
        url: String,
        commit: String,
        detail: String,
    },
    #[error("fetching {url} took longer than {}s; the fetch was stopped", limit.as_secs())]
    TimedOut { url: String, limit: Duration },
    #[error("the repository at {url} is larger than this server fetches ({limit} bytes)")]
    TooBig { url: String, limit: u64 },
    #[error("commit {commit} has no directory `{path}`")]
    NoSuchPath { commit: String, path: String },
    #[error("running git: {0}")]
    Io(#[from] std::io::Error),
}

impl GitError {
    /// A mistake in the submission (4xx), as against the repository's server failing (5xx).
    pub fn is_submitter_error(&self) -> bool {
        !matches!(self, GitError::TimedOut { .. } | GitError::Io(_))
    }
}

const SCHEMES: &[&str] = &["https://", "http://", "git://"];

/// Checks a source against the policy without touching the network.
pub fn check(src: &GitSource, policy: &GitPolicy) -> Result<(), GitError> {
    if policy.allow.is_empty() {
        return Err(GitError::Disabled);
    }
    let url = src.url.as_str();
    let bad = |why| GitError::BadUrl {
        url: url.to_owned(),
        why,
    };
    let Some(scheme) = SCHEMES.iter().find(|s| url.starts_with(*s)) else {
        return Err(bad("only https://, http:// and git:// URLs are fetched"));
    };
    let rest = &url[scheme.len()..];
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(bad("it names no host"));
    }
    if authority.contains('@') {
        return Err(bad("it carries credentials"));
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        || rest.split('/').any(|seg| seg == "..")
    {
        return Err(bad("it holds whitespace, control characters, `\\` or `..`"));
    }
    if !policy.allow.iter().any(|p| under_prefix(url, p)) {
        return Err(GitError::NotAllowed {
            url: url.to_owned(),
            allowed: policy.allow.join(", "),
        });
    }
    let c = &src.commit;
    if !(c.len() == 40 || c.len() == 64) || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(GitError::BadCommit { commit: c.clone() });
    }
    if let Some(p) = &src.path {
        let bad_path = |why| GitError::BadPath {
            path: p.clone(),
            why,
        };
        if p.is_empty() || p.len() > 1024 || p.chars().any(char::is_control) {
            return Err(bad_path("is empty, too long or holds control characters"));
        }
        if !Path::new(p)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(bad_path(
                "must be relative, inside the repository (no `..`)",
            ));
        }
    }
    Ok(())
}

/// `url` is `prefix` or below it (a prefix ending in `/` is a directory; otherwise the next
/// character must start a path, so `https://h/a` does not allow `https://h/ab`).
fn under_prefix(url: &str, prefix: &str) -> bool {
    match url.strip_prefix(prefix) {
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// Fetches `src` (checked with [`check`] first) into `scratch` and returns a tar.gz of the
/// project's tree at that commit, entries at the top level, as a client uploads it.
pub fn fetch_archive(
    src: &GitSource,
    policy: &GitPolicy,
    scratch: &Path,
) -> Result<Vec<u8>, GitError> {
    check(src, policy)?;
    let repo = scratch.join("repo.git");
    let home = scratch.join("home");
    fs_err::create_dir_all(&home)?;
    let allowed_protocols = SCHEMES
        .iter()
        .filter(|s| policy.allow.iter().any(|p| p.starts_with(*s)))
        .map(|s| s.trim_end_matches("://"))
        .collect::<Vec<_>>()
        .join(":");
    let git = Git {
        home: &home,
        protocols: &allowed_protocols,
        policy,
        url: &src.url,
        commit: &src.commit,
    };
    git.run(&[
        "init",
        "-q",
        "--bare",
        repo.to_str().ok_or_else(|| not_utf8(&repo))?,
    ])?;
    let repo_arg = repo.to_str().ok_or_else(|| not_utf8(&repo))?;
    // One commit, shallow: servers that allow fetching by hash (protocol v2 does) send just
    // that tree. Otherwise everything reachable, then the commit is looked up.
    let shallow = git.run(&[
        "-C",
        repo_arg,
        "fetch",
        "-q",
        "--no-tags",
        "--no-recurse-submodules",
        "--depth",
        "1",
        "--",
        &src.url,
        &src.commit,
    ]);
    if let Err(e) = shallow {
        if !matches!(e, GitError::Fetch { .. }) {
            return Err(e);
        }
        git.run(&[
            "-C",
            repo_arg,
            "fetch",
            "-q",
            "--no-tags",
            "--no-recurse-submodules",
            "--",
            &src.url,
            "+refs/heads/*:refs/remotes/origin/*",
        ])?;
    }
    let object = format!("{}^{{commit}}", src.commit);
    git.run(&["-C", repo_arg, "cat-file", "-e", &object])
        .map_err(|_| GitError::Fetch {
            url: src.url.clone(),
            commit: src.commit.clone(),
            detail: "the repository has no such commit (was it pushed?)".into(),
        })?;
    let tree = match &src.path {
        Some(p) => {
            let p = p.trim_matches('/');
            let spec = format!("{}:{p}", src.commit);
            git.run(&["-C", repo_arg, "cat-file", "-e", &spec])
                .map_err(|_| GitError::NoSuchPath {
                    commit: src.commit.clone(),
                    path: p.to_owned(),
                })?;
            spec
        }
        // The tree, not the commit: `git archive` then adds no pax header naming the commit.
        None => format!("{}^{{tree}}", src.commit),
    };
    let tar = scratch.join("tree.tar");
    git.run(&[
        "-C",
        repo_arg,
        "archive",
        "--format=tar",
        "-o",
        tar.to_str().ok_or_else(|| not_utf8(&tar))?,
        &tree,
    ])?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::copy(&mut fs_err::File::open(&tar)?, &mut gz)?;
    Ok(gz.finish()?)
}

fn not_utf8(p: &Path) -> GitError {
    GitError::Io(std::io::Error::other(format!(
        "the scratch path {} is not UTF-8",
        p.display()
    )))
}

/// git, run as a stranger's fetch must be.
struct Git<'a> {
    home: &'a Path,
    protocols: &'a str,
    policy: &'a GitPolicy,
    url: &'a str,
    commit: &'a str,
}

impl Git<'_> {
    fn run(&self, args: &[&str]) -> Result<(), GitError> {
        // prlimit bounds every file git writes (the pack above all); the group is killed at the
        // deadline.
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--fsize={}", self.policy.max_pack_bytes))
            .arg("--")
            .arg("git")
            .args([
                "-c",
                "protocol.file.allow=never",
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "fetch.recurseSubmodules=false",
                "-c",
                "transfer.fsckObjects=true",
            ])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "/bin/false")
            .env("GIT_ALLOW_PROTOCOL", self.protocols)
            .env("GIT_LFS_SKIP_SMUDGE", "1")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn()?;
        let mut stderr = child.stderr.take().expect("piped");
        let reader = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = (&mut stderr).take(64 << 10).read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        });
        let start = Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait()? {
                break st;
            }
            if start.elapsed() > self.policy.timeout {
                repro_verify::repro_build::kill_process_group(child.id());
                let _ = child.wait();
                return Err(GitError::TimedOut {
                    url: self.url.to_owned(),
                    limit: self.policy.timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stderr = reader.join().unwrap_or_default();
        if status.success() {
            return Ok(());
        }
        // SIGXFSZ: a file over the limit.
        if std::os::unix::process::ExitStatusExt::signal(&status) == Some(25)
            || stderr.contains("File size limit exceeded")
        {
            return Err(GitError::TooBig {
                url: self.url.to_owned(),
                limit: self.policy.max_pack_bytes,
            });
        }
        let detail = stderr
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("git failed without a message")
            .trim()
            .trim_start_matches("fatal: ")
            .to_owned();
        Err(GitError::Fetch {
            url: self.url.to_owned(),
            commit: self.commit.to_owned(),
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str]) -> GitPolicy {
        GitPolicy {
            allow: allow.iter().map(|s| (*s).to_owned()).collect(),
            ..GitPolicy::default()
        }
    }

    fn src(url: &str, commit: &str, path: Option<&str>) -> GitSource {
        GitSource {
            url: url.into(),
            commit: commit.into(),
            path: path.map(Into::into),
        }
    }

    #[test]
    fn sources_are_checked_before_any_fetch() {
        let c = "0123456789abcdef0123456789abcdef01234567";
        let p = policy(&[
            "https://github.com/casper-ecosystem/",
            "git://127.0.0.1:9418",
        ]);
        let ok = |s: &GitSource| check(s, &p).map_err(|e| e.to_string());
        assert_eq!(
            ok(&src("https://github.com/casper-ecosystem/cep18", c, None)),
            Ok(())
        );
        assert_eq!(
            ok(&src("git://127.0.0.1:9418/x.git", c, Some("contract"))),
            Ok(())
        );
        for (s, want) in [
            (
                src("https://github.com/evil/cep18", c, None),
                "is not under a repository prefix this server may fetch from (https://github.com/casper-ecosystem/, git://127.0.0.1:9418)",
            ),
            (
                src("git://127.0.0.1:94189/x", c, None),
                "is not under a repository prefix",
            ),
            (
                src("file:///etc", c, None),
                "only https://, http:// and git:// URLs",
            ),
            (src("ssh://github.com/x", c, None), "only https://"),
            (src("-uhttps://x", c, None), "only https://"),
            (
                src("https://user:pw@github.com/casper-ecosystem/x", c, None),
                "carries credentials",
            ),
            (
                src("https://github.com/casper-ecosystem/../evil/x", c, None),
                "`..`",
            ),
            (
                src("https://github.com/casper-ecosystem/cep18", "main", None),
                "`main` is not a full commit hash",
            ),
            (
                src("https://github.com/casper-ecosystem/cep18", &c[..12], None),
                "not a full commit hash",
            ),
            (
                src("https://github.com/casper-ecosystem/cep18", c, Some("../x")),
                "must be relative, inside the repository",
            ),
            (
                src("https://github.com/casper-ecosystem/cep18", c, Some("/etc")),
                "must be relative",
            ),
        ] {
            let e = ok(&s).unwrap_err();
            assert!(e.contains(want), "{s:?}: {e}");
        }
        assert_eq!(
            check(
                &src("https://github.com/casper-ecosystem/x", c, None),
                &policy(&[])
            )
            .unwrap_err()
            .to_string(),
            "this server does not fetch sources from git; upload an archive instead"
        );
    }
}
