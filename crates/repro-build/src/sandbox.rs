//! The build sandbox, for strangers' code (`build --sandbox`, the verification service): the
//! project's build scripts and proc-macros run with no network, no view of anything but what the
//! build needs, and bounded resources. Without Docker: bubblewrap (Debian's `bubblewrap`) for the
//! namespaces and the file-system view, a pids cgroup for the process count, `prlimit` for the
//! address space and the size of a file, and the disk use of the build's writable directories
//! watched while it runs.
//!
//! Only the compile step runs inside. What needs the network and runs none of the project's code
//! runs before, outside: toolchain installs, `cargo fetch --locked`, lock reconstruction,
//! `cargo metadata`.
//!
//! Inside:
//! - empty network namespace (loopback only), new PID, IPC, UTS, user and cgroup namespaces, a new
//!   session, every capability dropped, killed with its parent;
//! - read-only: `/usr` (and the `/bin`, `/lib*` links), a few files of `/etc` (the loader cache,
//!   `alternatives` for `cc`, users and groups), the rustup home (toolchains), the cargo
//!   registry and git checkouts, and `$CARGO_HOME/config.toml`; never `$CARGO_HOME/credentials`;
//! - writable: the build's private directory (the copy of the source) and a private target
//!   directory, mounted where the shared one would be so that every path the compiler sees, and so
//!   the output, is the same as without the sandbox; a fresh `/tmp`;
//! - nothing else: not the cache, not the compile cache ([`crate::compile_cache`]; a build whose
//!   compile cache would be visible is refused), not the service's database or data, not other
//!   builds, not `$HOME`.
//!
//! A sandbox that cannot be set up is an error ([`BuildError::SandboxUnavailable`]); the build is
//! then not run at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::BuildError;
use crate::exec::{HostEnv, Invocation};

pub mod landlock;

/// The sandbox's limits beyond [`crate::Limits`] (wall clock, address space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Processes and threads alive at once (a pids cgroup).
    pub max_processes: u32,
    /// Bytes the build may have on disk in its writable directories (source copy and target).
    pub max_disk_bytes: u64,
    /// Largest file the build may write.
    pub max_file_bytes: u64,
    /// A program whose `__landlock-exec` subcommand applies [`landlock`] and executes cargo
    /// (`casper-repro` passes itself); `None`: bubblewrap alone.
    pub landlock_helper: Option<PathBuf>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            max_processes: 1024,
            max_disk_bytes: 16 << 30,
            max_file_bytes: 4 << 30,
            landlock_helper: None,
        }
    }
}

/// What the provenance records of the sandbox a build ran in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct SandboxInfo {
    /// `bubblewrap 0.8.0`.
    pub bwrap: String,
    /// Where the process limit is enforced (`cgroup v1 pids`, `cgroup v2 pids`).
    pub process_limit_by: String,
    pub max_processes: u32,
    pub max_disk_bytes: u64,
    pub max_file_bytes: u64,
    /// What Landlock enforced inside, as the helper reported it (or why it was not used).
    pub landlock: String,
}

fn unavailable(reason: impl Into<String>) -> BuildError {
    BuildError::SandboxUnavailable {
        reason: reason.into(),
    }
}

/// Checks that a sandbox can be made on this machine: bubblewrap runs (user namespaces work),
/// `prlimit` exists, and a pids cgroup can be created. The service calls it at start.
pub fn probe() -> Result<String, BuildError> {
    let version = bwrap_version()?;
    let cg = Cgroup::create(16)?;
    let by = cg.kind.clone();
    drop(cg);
    for tool in ["prlimit", "setpriv"] {
        which(tool).ok_or_else(|| unavailable(format!("`{tool}` (util-linux) is not on PATH")))?;
    }
    let out = std::process::Command::new("bwrap")
        .args(base_args())
        .args(["--", "/bin/true"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .map_err(|e| unavailable(format!("running bubblewrap: {e}")))?;
    if !out.status.success() {
        return Err(unavailable(format!(
            "bubblewrap cannot create the namespaces here (are user namespaces enabled?): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(format!("{version}, processes limited by {by}"))
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_else(|| vec![PathBuf::from("/usr/bin"), PathBuf::from("/bin")])
        .into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn bwrap_version() -> Result<String, BuildError> {
    let out = std::process::Command::new("bwrap")
        .arg("--version")
        .output()
        .map_err(|e| {
            unavailable(format!(
                "bubblewrap (`bwrap`) cannot be run: {e}; install Debian's `bubblewrap`"
            ))
        })?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The namespaces and the base file-system view.
fn base_args() -> Vec<String> {
    let mut a: Vec<String> = [
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/usr",
        "/usr",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // Merged /usr: /bin, /lib… are links into it (or directories on older systems).
    for d in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
        let p = Path::new(d);
        match std::fs::read_link(p) {
            Ok(target) => {
                a.extend(["--symlink".into(), target.display().to_string(), d.into()]);
            }
            Err(_) if p.is_dir() => a.extend(["--ro-bind".into(), d.into(), d.into()]),
            Err(_) => {}
        }
    }
    for f in [
        "/etc/ld.so.cache",
        "/etc/ld.so.conf",
        "/etc/ld.so.conf.d",
        "/etc/alternatives",
        "/etc/passwd",
        "/etc/group",
        "/etc/localtime",
    ] {
        a.extend(["--ro-bind-try".into(), f.into(), f.into()]);
    }
    a
}

/// A sandbox for one build.
#[derive(Debug)]
pub(crate) struct Sandbox {
    cfg: SandboxConfig,
    cgroup: Cgroup,
    bwrap: String,
    /// The build's private directory (source copy; private target inside).
    work: PathBuf,
    /// The private target directory and where it is mounted (the shared target's path).
    target: (PathBuf, PathBuf),
    ro: Vec<PathBuf>,
    /// The helper's status file, in a directory the build cannot write once Landlock is on
    /// (removed with the sandbox).
    landlock_report: Option<(tempfile::TempDir, PathBuf)>,
    last_disk_check: Instant,
}

impl Sandbox {
    /// Sets up the sandbox of a build whose private directory is `work` and whose target
    /// directory would be `target_dir`: the private target is created in `work`.
    pub(crate) fn new(
        cfg: &SandboxConfig,
        host: &HostEnv,
        work: &Path,
        target_dir: &Path,
    ) -> Result<Sandbox, BuildError> {
        let bwrap = bwrap_version()?;
        for tool in ["prlimit", "setpriv"] {
            which(tool)
                .ok_or_else(|| unavailable(format!("`{tool}` (util-linux) is not on PATH")))?;
        }
        let cgroup = Cgroup::create(cfg.max_processes)?;
        let private = work.join("target");
        fs_err::create_dir_all(&private)?;
        let mut ro = vec![host.rustup_home.clone()];
        for sub in ["registry", "git", "config.toml", "config"] {
            ro.push(host.cargo_home.join(sub));
        }
        let landlock_report = match &cfg.landlock_helper {
            Some(helper) => {
                if !helper.is_file() {
                    return Err(unavailable(format!(
                        "the Landlock helper {} does not exist",
                        helper.display()
                    )));
                }
                ro.push(helper.clone());
                let dir = tempfile::Builder::new()
                    .prefix("landlock-")
                    .tempdir_in(work.parent().unwrap_or(work))?;
                let status = dir.path().join("status");
                Some((dir, status))
            }
            None => None,
        };
        Ok(Sandbox {
            cfg: cfg.clone(),
            cgroup,
            bwrap,
            work: work.to_path_buf(),
            target: (private, target_dir.to_path_buf()),
            ro,
            landlock_report,
            last_disk_check: Instant::now(),
        })
    }

    /// The private target directory, on this side of the sandbox.
    pub(crate) fn private_target(&self) -> &Path {
        &self.target.0
    }

    /// Whether `path` (canonical) can be seen inside the sandbox: it is under one of the paths
    /// the sandbox mounts, or one of them is under it. The compile cache checks that its own
    /// directories are not.
    pub(crate) fn exposes(&self, path: &Path) -> bool {
        let mut mounted: Vec<PathBuf> = [
            "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        mounted.extend(self.ro.iter().cloned());
        mounted.push(self.work.clone());
        mounted.push(self.target.0.clone());
        mounted.push(self.target.1.clone());
        if let Some((dir, _)) = &self.landlock_report {
            mounted.push(dir.path().to_path_buf());
        }
        mounted.iter().any(|m| {
            let m = m.canonicalize().unwrap_or_else(|_| m.clone());
            path.starts_with(&m) || m.starts_with(path)
        })
    }

    pub(crate) fn info(&self) -> SandboxInfo {
        SandboxInfo {
            bwrap: self.bwrap.clone(),
            process_limit_by: self.cgroup.kind.clone(),
            max_processes: self.cfg.max_processes,
            max_disk_bytes: self.cfg.max_disk_bytes,
            max_file_bytes: self.cfg.max_file_bytes,
            landlock: match &self.landlock_report {
                Some((_, r)) => landlock::read_report(r),
                None => "not used (no helper given)".into(),
            },
        }
    }

    /// `inv` as run inside the sandbox: a shell joins the cgroup, `prlimit` sets the file-size
    /// and address-space limits, bubblewrap makes the namespaces and the view, then `inv` runs.
    pub(crate) fn wrap(&self, inv: &Invocation, memory_bytes: Option<u64>) -> Invocation {
        let mut args: Vec<String> = vec![
            "-c".into(),
            "echo $$ > \"$1\" || exit 125; shift; exec \"$@\"".into(),
            "casper-repro-sandbox".into(),
            self.cgroup.procs_file().display().to_string(),
            // Killed when the thread that started it dies (a worker killed with -9): bwrap's
            // --die-with-parent then takes the sandbox down with it.
            "setpriv".into(),
            "--pdeathsig".into(),
            "KILL".into(),
            "--".into(),
            "prlimit".into(),
            // No single file larger than the disk limit either.
            format!(
                "--fsize={}",
                self.cfg.max_file_bytes.min(self.cfg.max_disk_bytes)
            ),
            format!(
                "--as={}",
                memory_bytes.map_or_else(|| "unlimited".to_owned(), |b| b.to_string())
            ),
            "--".into(),
            "bwrap".into(),
        ];
        args.extend(base_args());
        for p in &self.ro {
            let s = p.display().to_string();
            args.extend(["--ro-bind-try".into(), s.clone(), s]);
        }
        let work = self.work.display().to_string();
        args.extend(["--bind".into(), work.clone(), work]);
        args.extend([
            "--bind".into(),
            self.target.0.display().to_string(),
            self.target.1.display().to_string(),
        ]);
        if let Some((dir, _)) = &self.landlock_report {
            let d = dir.path().display().to_string();
            args.extend(["--bind".into(), d.clone(), d]);
        }
        args.extend([
            "--chdir".into(),
            inv.cwd.display().to_string(),
            "--setenv".into(),
            "TMPDIR".into(),
            "/tmp".into(),
            "--".into(),
        ]);
        match (&self.cfg.landlock_helper, &self.landlock_report) {
            (Some(helper), Some((_, report))) => {
                let mut read: Vec<PathBuf> =
                    ["/usr", "/etc", "/proc", "/bin", "/sbin", "/lib", "/lib64"]
                        .iter()
                        .map(PathBuf::from)
                        .collect();
                read.extend(self.ro.iter().cloned());
                let plan = landlock::Plan {
                    report: report.clone(),
                    read,
                    write: vec![
                        self.work.clone(),
                        self.target.1.clone(),
                        PathBuf::from("/tmp"),
                        PathBuf::from("/dev"),
                    ],
                    program: inv.program.clone().into(),
                    args: inv.args.iter().map(Into::into).collect(),
                };
                args.push(helper.display().to_string());
                args.push("__landlock-exec".into());
                args.extend(
                    plan.to_args()
                        .into_iter()
                        .map(|a| a.to_string_lossy().into_owned()),
                );
            }
            _ => {
                args.push(inv.program.display().to_string());
                args.extend(inv.args.iter().cloned());
            }
        }
        let mut env: BTreeMap<String, String> = inv.env.clone();
        // bwrap and prlimit are found on the host's PATH; the build gets the same PATH.
        env.entry("PATH".into())
            .or_insert_with(|| "/usr/bin:/bin".into());
        Invocation {
            program: PathBuf::from("/bin/sh"),
            args,
            env,
            cwd: inv.cwd.clone(),
        }
    }

    /// Called while the build runs: an error once a fork was refused for the process limit, or
    /// once the writable directories hold more than the disk limit (checked about twice a
    /// second).
    pub(crate) fn watch(&mut self) -> Option<BuildError> {
        // A refused fork stops the build at once: a fork bomb would otherwise spin until the
        // wall-clock limit.
        if let Some(e) = self.limit_hit() {
            return Some(e);
        }
        if self.last_disk_check.elapsed() < Duration::from_millis(500) {
            return None;
        }
        self.last_disk_check = Instant::now();
        let used = disk_usage(&self.work);
        (used > self.cfg.max_disk_bytes).then_some(BuildError::DiskLimitExceeded {
            limit_bytes: self.cfg.max_disk_bytes,
        })
    }

    /// The error a failed or killed sandboxed step gets when a limit of the sandbox explains
    /// it: the process limit was reached.
    pub(crate) fn limit_hit(&self) -> Option<BuildError> {
        self.cgroup
            .limit_was_hit()
            .then_some(BuildError::ProcessLimitExceeded {
                limit: self.cfg.max_processes,
            })
    }
}

/// Bytes allocated on disk under `dir` (links not followed).
fn disk_usage(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => m.blocks() * 512 + disk_usage(&e.path()),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

/// A pids cgroup of its own for one build: v2 where the pids controller is on the unified
/// hierarchy, else v1's pids hierarchy. Removed (its processes killed first) when dropped.
#[derive(Debug)]
struct Cgroup {
    dir: PathBuf,
    kind: String,
}

impl Cgroup {
    fn create(max: u32) -> Result<Cgroup, BuildError> {
        let unique = format!(
            "casper-repro-{}-{}",
            std::process::id(),
            crate::sha256_hex(format!("{:?}", Instant::now()).as_bytes())
                .get(..12)
                .unwrap_or_default()
        );
        let mut tried = Vec::new();
        for (root, kind) in cgroup_roots() {
            let dir = root.join(&unique);
            match std::fs::create_dir(&dir)
                .and_then(|()| std::fs::write(dir.join("pids.max"), max.to_string()))
            {
                Ok(()) => return Ok(Cgroup { dir, kind }),
                Err(e) => {
                    let _ = std::fs::remove_dir(&dir);
                    tried.push(format!("{}: {e}", root.display()));
                }
            }
        }
        Err(unavailable(format!(
            "no pids cgroup can be created to limit the build's processes ({}); run as a user that may create cgroups (root, or a delegated systemd scope)",
            if tried.is_empty() {
                "no cgroup hierarchy with the pids controller is mounted".to_owned()
            } else {
                tried.join("; ")
            }
        )))
    }

    fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// The limit stopped a fork at least once.
    fn limit_was_hit(&self) -> bool {
        std::fs::read_to_string(self.dir.join("pids.events"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("max ").map(|n| n.trim().parse::<u64>()))
            })
            .and_then(Result::ok)
            .is_some_and(|n| n > 0)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // Whatever is left (the step was killed): kill it, wait until the group is empty.
        let kill = self.dir.join("cgroup.kill");
        for _ in 0..100 {
            let procs = std::fs::read_to_string(self.procs_file()).unwrap_or_default();
            let pids: Vec<&str> = procs.split_whitespace().collect();
            if pids.is_empty() {
                break;
            }
            if std::fs::write(&kill, "1").is_err() {
                let _ = std::process::Command::new("/bin/kill")
                    .arg("-KILL")
                    .arg("--")
                    .args(&pids)
                    .stderr(std::process::Stdio::null())
                    .status();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Writable pids hierarchies: the unified one when it has the controller, else v1's.
fn cgroup_roots() -> Vec<(PathBuf, String)> {
    let mut roots = Vec::new();
    let own_v2 = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("0::").map(|p| p.trim().to_owned()))
        });
    for base in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
        let base = Path::new(base);
        let has_pids = std::fs::read_to_string(base.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|x| x == "pids"));
        if has_pids && let Some(own) = &own_v2 {
            let parent = base.join(own.trim_start_matches('/'));
            roots.push((parent, "cgroup v2 pids".to_owned()));
        }
    }
    let v1 = Path::new("/sys/fs/cgroup/pids");
    if v1.join("pids.max").exists() || v1.join("cgroup.procs").exists() {
        roots.push((v1.to_path_buf(), "cgroup v1 pids".to_owned()));
    }
    roots
}

/// What a failed sandboxed compile step is: the sandbox could not start, the memory limit, or
/// cargo's failure with what the sandbox refused when its output shows it.
pub(crate) fn classify_failure(
    f: &crate::exec::Finished,
    limits: crate::Limits,
) -> Result<(), BuildError> {
    let first = f.stderr.lines().next().unwrap_or_default();
    // The sandbox's own tools, or the Landlock helper, failed before the build started.
    if ["bwrap:", "prlimit:", "setpriv:", "casper-repro-sandbox:"]
        .iter()
        .any(|p| first.starts_with(p))
        || f.stderr.contains("casper-repro-sandbox:")
    {
        return Err(unavailable(first.trim().to_owned()));
    }
    match crate::exec::classify_failure(f, limits, false) {
        BuildError::CompileFailed {
            status,
            stderr_tail,
        } => {
            let denied = DENIALS
                .iter()
                .find(|(needles, _)| {
                    needles
                        .iter()
                        .any(|all| all.iter().all(|n| f.stderr.contains(n)))
                })
                .map(|(_, what)| format!(": {what}"))
                .unwrap_or_default();
            Err(BuildError::SandboxedCompileFailed {
                status,
                stderr_tail,
                denied,
            })
        }
        other => Err(other),
    }
}

/// What the sandbox refused, by the errors a program gets for it: each entry holds
/// alternatives, each alternative strings that must all appear.
type Denial = (&'static [&'static [&'static str]], &'static str);

const DENIALS: &[Denial] = &[
    (
        &[
            &["Network is unreachable"],
            &["os error 101"],
            &["code: 101,"],
            &["os error 111"],
            &["code: 111,"],
            &["failed to lookup address"],
            &["Temporary failure in name resolution"],
            &["Could not resolve host"],
            // Landlock refuses the connect itself.
            &["connect", "Permission denied"],
            &["Connect", "PermissionDenied"],
        ],
        "a build script or proc-macro tried to reach the network, which the sandbox does not have",
    ),
    (
        &[&["Read-only file system"], &["os error 30"], &["code: 30,"]],
        "a build script or proc-macro tried to write to a read-only path (only the source copy and the target directory are writable)",
    ),
    (
        &[
            &["No such file or directory (os error 2)"],
            &["code: 2, kind: NotFound"],
            &["Permission denied (os error 13)"],
            &["code: 13, kind: PermissionDenied"],
        ],
        "a build script or proc-macro tried to use a path that is not in the sandbox",
    ),
];
