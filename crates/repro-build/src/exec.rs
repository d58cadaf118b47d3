//! Running child processes: an explicit environment (never inherited), a wall-clock limit, a
//! per-process memory limit, and stderr streamed line by line to the progress sink.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::{BuildError, tail};
use crate::{Progress, ProgressEvent};

/// The host facts the build environment is made of. Built once by the caller (the CLI takes them
/// from its own environment), so tests can run a build "under another `$HOME`".
#[derive(Debug, Clone)]
pub struct HostEnv {
    /// `$HOME` passed to the children.
    pub home: PathBuf,
    /// `$CARGO_HOME` (registry cache; its path is what registry panic locations embed).
    pub cargo_home: PathBuf,
    /// `$RUSTUP_HOME` (where toolchains live).
    pub rustup_home: PathBuf,
    /// The host `PATH` (for `rustup`, and for linkers or `cc` that build scripts may call).
    pub path: OsString,
    /// Network and TLS variables passed through unchanged (proxies, CA bundles, rustup mirror).
    pub passthrough: BTreeMap<String, String>,
}

/// Variables passed from the host to every child when set: they only affect how the network is
/// reached, never what is compiled.
pub const PASSTHROUGH_VARS: &[&str] = &[
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "no_proxy",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CARGO_HTTP_CAINFO",
    "RUSTUP_DIST_SERVER",
    "RUSTUP_UPDATE_ROOT",
];

impl HostEnv {
    /// Reads `HOME`, `CARGO_HOME`, `RUSTUP_HOME`, `PATH` and [`PASSTHROUGH_VARS`] from this
    /// process's environment.
    pub fn from_process() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/"));
        Self::with_home(home)
    }

    /// As [`HostEnv::from_process`] but with another `$HOME`; `CARGO_HOME` becomes
    /// `$HOME/.cargo` unless set, `RUSTUP_HOME` is kept from this process (toolchains are shared).
    pub fn with_home(home: PathBuf) -> Self {
        let real_home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/"));
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .filter(|_| real_home == home)
            .unwrap_or_else(|| home.join(".cargo"));
        let rustup_home = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| real_home.join(".rustup"));
        let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
        let passthrough = PASSTHROUGH_VARS
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
            .collect();
        Self {
            home,
            cargo_home,
            rustup_home,
            path,
            passthrough,
        }
    }

    /// The base environment of every child: the allow-list, nothing else.
    pub(crate) fn base_env(&self) -> BTreeMap<String, String> {
        let mut env = self.passthrough.clone();
        env.insert("HOME".into(), self.home.display().to_string());
        env.insert("CARGO_HOME".into(), self.cargo_home.display().to_string());
        env.insert("RUSTUP_HOME".into(), self.rustup_home.display().to_string());
        env.insert("PATH".into(), self.path.to_string_lossy().into_owned());
        // rustup must never silently install a toolchain named by a rust-toolchain file.
        env.insert("RUSTUP_AUTO_INSTALL".into(), "0".into());
        env.insert("LC_ALL".into(), "C".into());
        env
    }
}

/// `env` for a cargo step that runs before, and outside, the sandbox (metadata, fetch, lock
/// resolution, vendoring): a project's `.cargo/config.toml` may name programs for cargo to run in
/// front of rustc (`build.rustc-wrapper`, `build.rustc-workspace-wrapper`), and cargo runs rustc
/// while it resolves and fetches. The empty value overrides the config: no wrapper there
/// (`build.rustc` is overridden by `RUSTC`, which every cargo step gets). Not for the compile
/// step: cargo hashes the wrapper setting into `-C metadata`, so an empty one changes the output.
pub(crate) fn without_wrappers(mut env: BTreeMap<String, String>) -> BTreeMap<String, String> {
    env.insert("RUSTC_WRAPPER".into(), String::new());
    env.insert("RUSTC_WORKSPACE_WRAPPER".into(), String::new());
    env
}

/// Limits on a child build.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock limit of each cargo step.
    pub wall_clock: Duration,
    /// Address-space limit of every process of the build (`ulimit -v`), in bytes; `None`: none.
    pub memory_bytes: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            wall_clock: Duration::from_secs(60 * 60),
            memory_bytes: Some(16 * 1024 * 1024 * 1024),
        }
    }
}

/// One child invocation, recorded as run.
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
}

/// What a finished child left.
#[derive(Debug)]
pub(crate) struct Finished {
    pub success: bool,
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

/// Why a child did not finish normally.
#[derive(Debug)]
pub(crate) enum Killed {
    Time(Duration),
    /// A watch (the sandbox's disk accounting) stopped it.
    Watch(BuildError),
}

impl Invocation {
    pub fn new(program: impl Into<PathBuf>, cwd: &Path, env: BTreeMap<String, String>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env,
            cwd: cwd.to_path_buf(),
        }
    }

    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, a: I) -> Self {
        self.args.extend(a.into_iter().map(Into::into));
        self
    }

    /// Runs to completion (short, trusted steps: rustc -vV, rustup, git), capturing output.
    pub fn output(&self) -> Result<Finished, BuildError> {
        let out = self
            .command(None)
            .output()
            .map_err(|source| BuildError::Spawn {
                program: self.program.display().to_string(),
                source,
            })?;
        Ok(Finished {
            success: out.status.success(),
            status: out.status.to_string(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    fn command(&self, memory: Option<u64>) -> Command {
        let mut cmd = match memory {
            // The limit is applied by the shell before exec: no unsafe pre_exec hook needed.
            Some(bytes) => {
                let mut c = Command::new("/bin/sh");
                c.arg("-c")
                    .arg("ulimit -v \"$1\" && shift && exec \"$@\"")
                    .arg("casper-repro-limit")
                    .arg((bytes / 1024).to_string())
                    .arg(&self.program);
                c
            }
            None => Command::new(&self.program),
        };
        cmd.args(&self.args)
            .env_clear()
            .envs(&self.env)
            .current_dir(&self.cwd)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs a (possibly long, untrusted) build step in its own process group under `limits`,
    /// streaming stderr lines to `progress`. The process group is killed on timeout.
    pub fn run_limited(
        &self,
        limits: Limits,
        progress: &mut dyn Progress,
    ) -> Result<Result<Finished, Killed>, BuildError> {
        self.run_watched(limits, progress, &mut || None)
    }

    /// [`Invocation::run_limited`], also calling `watch` about every half second: an error from
    /// it kills the process group and is returned as [`Killed::Watch`].
    pub fn run_watched(
        &self,
        limits: Limits,
        progress: &mut dyn Progress,
        watch: &mut dyn FnMut() -> Option<BuildError>,
    ) -> Result<Result<Finished, Killed>, BuildError> {
        let mut cmd = self.command(limits.memory_bytes);
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn().map_err(|source| BuildError::Spawn {
            program: self.program.display().to_string(),
            source,
        })?;
        let pid = child.id();
        let (tx, rx) = mpsc::channel::<String>();
        let stderr = child.stderr.take().expect("piped");
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stdout_pipe = child.stdout.take().expect("piped");
        let out_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout_pipe.read_to_string(&mut s);
            s
        });
        let start = Instant::now();
        let mut stderr_text = String::new();
        let mut current = String::new();
        loop {
            match rx.recv_timeout(Duration::from_millis(500)) {
                Ok(line) => {
                    let trimmed = line.trim_start();
                    for verb in [
                        "Compiling ",
                        "Downloaded ",
                        "Fetching ",
                        "Updating ",
                        "Locking ",
                    ] {
                        if let Some(rest) = trimmed.strip_prefix(verb) {
                            current =
                                format!("{}{}", verb, rest.split(" (").next().unwrap_or(rest));
                        }
                    }
                    progress.event(ProgressEvent::CargoLine(&line));
                    stderr_text.push_str(&line);
                    stderr_text.push('\n');
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            progress.event(ProgressEvent::Tick {
                current: &current,
                elapsed: start.elapsed(),
            });
            if start.elapsed() > limits.wall_clock {
                kill_group(pid);
                let _ = child.wait();
                return Ok(Err(Killed::Time(limits.wall_clock)));
            }
            if let Some(e) = watch() {
                kill_group(pid);
                let _ = child.wait();
                return Ok(Err(Killed::Watch(e)));
            }
        }
        let _ = reader.join();
        let status = child.wait().map_err(|source| BuildError::Spawn {
            program: self.program.display().to_string(),
            source,
        })?;
        let stdout = out_reader.join().unwrap_or_default();
        progress.event(ProgressEvent::Done {
            elapsed: start.elapsed(),
        });
        Ok(Ok(Finished {
            success: status.success(),
            status: status.to_string(),
            stdout,
            stderr: stderr_text,
        }))
    }
}

/// Kills the process group led by `pid` (a child spawned with `process_group(0)`), with
/// everything it started.
pub fn kill_group(pid: u32) {
    // `kill` the whole group (cargo, rustc, build scripts) without unsafe code. The child was
    // spawned with `process_group(0)`, so its pid is its group id; `--` keeps `-PID` from being
    // read as an option, and a pid of 0 or 1 would name every process: never.
    if pid <= 1 {
        return;
    }
    let _ = Command::new("/bin/kill")
        .args(["-KILL", "--"])
        .arg(format!("-{pid}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Turns a failed limited step into the right error.
pub(crate) fn classify_failure(finished: &Finished, limits: Limits, fetch: bool) -> BuildError {
    let stderr_tail = tail(&finished.stderr, 40);
    let oom = [
        "memory allocation of",
        "out of memory",
        "Cannot allocate memory",
        "failed to allocate",
    ]
    .iter()
    .any(|needle| finished.stderr.contains(needle));
    if let (true, Some(limit_bytes)) = (oom, limits.memory_bytes) {
        return BuildError::MemoryLimitExceeded {
            limit_bytes,
            stderr_tail,
        };
    }
    if fetch {
        BuildError::FetchFailed {
            status: finished.status.clone(),
            stderr_tail,
        }
    } else {
        BuildError::CompileFailed {
            status: finished.status.clone(),
            stderr_tail,
        }
    }
}
