//! `casper-repro build --sandbox` against hostile build scripts. Each script does one thing a
//! stranger's build.rs could: reach the network, read a file planted outside the source tree,
//! write outside the target directory, fork or allocate without bound, sleep past the time limit,
//! fill the disk. Each is stopped and reported as a build error naming the limit or the rule;
//! the listener receives nothing, the planted file's contents appear nowhere, nothing outside
//! changes, and no process is left behind.
//!
//! Where it is harmless, the same crate is first built without the sandbox, to show that the
//! script really does what it says (the listener gets its bytes, the planted file is read, the
//! file outside is written): the sandbox is what stops it.
//!
//! Needs bubblewrap (Debian's `bubblewrap`), `prlimit`, a writable pids cgroup and the 1.95.0
//! toolchain with `wasm32v1-none` (all installed by `.ci/setup.sh`).

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A crate (no dependencies, a lock of its own) whose build script's `main` body is `body`.
fn hostile(dir: &Path, body: &str) -> PathBuf {
    let c = dir.join("hostile");
    fs_err::create_dir_all(c.join("src")).unwrap();
    fs_err::write(
        c.join("Cargo.toml"),
        "[package]\nname = \"hostile\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n",
    )
    .unwrap();
    fs_err::write(
        c.join("Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"hostile\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    fs_err::write(
        c.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"1.95.0\"\ntargets = [\"wasm32v1-none\"]\n",
    )
    .unwrap();
    fs_err::write(
        c.join("src/lib.rs"),
        "#![no_std]\n#[panic_handler]\nfn panic(_: &core::panic::PanicInfo) -> ! { loop {} }\n#[no_mangle]\npub extern \"C\" fn call() {}\n",
    )
    .unwrap();
    fs_err::write(
        c.join("build.rs"),
        format!("#[allow(unreachable_code, unused)]\nfn main() {{\n{body}\n}}\n"),
    )
    .unwrap();
    c
}

/// `casper-repro build CRATE` with its own cache, and `--sandbox` unless `sandboxed` is false.
fn build(work: &Path, krate: &Path, sandboxed: bool, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casper-repro"));
    cmd.arg("build")
        .arg(krate)
        .args(["--target", "wasm32v1-none", "--no-cache", "--cache-dir"])
        .arg(work.join("cache"))
        .arg("--out-dir")
        .arg(work.join("out"))
        .args(extra);
    if sandboxed {
        cmd.arg("--sandbox");
    }
    cmd.output().expect("run casper-repro")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 2, and the error names `want`.
fn refused(o: &Output, want: &str) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(want),
        "the error does not say {want:?}:\n{err}"
    );
    assert!(
        !err.contains("panicked at") || err.contains("build-script-build"),
        "{err}"
    );
    err
}

/// Processes whose command line holds `marker` (none may outlive a build).
fn survivors(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in fs_err::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(marker) && !cmd.contains("casper-repro") {
                found.push(format!("{}: {cmd}", e.file_name().to_string_lossy()));
            }
        }
    }
    found
}

#[test]
fn a_build_script_cannot_reach_the_network() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let received = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut got = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        let mut b = Vec::new();
                        let _ = s.read_to_end(&mut b);
                        got.push(String::from_utf8_lossy(&b).into_owned());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
            got
        })
    };
    let work = tempfile::tempdir().unwrap();
    let krate = hostile(
        work.path(),
        &format!(
            "use std::io::Write;\nlet mut s = std::net::TcpStream::connect(\"127.0.0.1:{port}\").expect(\"connect\");\ns.write_all(b\"stolen\").unwrap();"
        ),
    );
    // Unsandboxed, the script does reach the listener.
    let control = build(work.path(), &krate, false, &[]);
    assert!(control.status.success(), "{}", stderr(&control));
    std::thread::sleep(Duration::from_millis(300));
    let sandboxed = build(work.path(), &krate, true, &[]);
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let got = received.join().unwrap();
    refused(
        &sandboxed,
        "tried to reach the network, which the sandbox does not have",
    );
    assert_eq!(
        got,
        ["stolen"],
        "only the unsandboxed build may have connected"
    );
}

#[test]
fn a_build_script_cannot_read_a_file_outside_the_tree() {
    let work = tempfile::tempdir().unwrap();
    let planted = work.path().join("planted/secret.txt");
    fs_err::create_dir_all(planted.parent().unwrap()).unwrap();
    fs_err::write(&planted, "s3cr3t-t0ken").unwrap();
    // The script passes what it read to the crate, which embeds it in the module.
    let krate = hostile(
        work.path(),
        &format!(
            "let s = std::fs::read_to_string({:?}).expect(\"read the planted file\");\nprintln!(\"cargo:rustc-env=STOLEN={{s}}\");",
            planted.display().to_string()
        ),
    );
    let lib = krate.join("src/lib.rs");
    let mut src = fs_err::read_to_string(&lib).unwrap();
    src.push_str(
        "#[no_mangle]\npub extern \"C\" fn stolen() -> *const u8 { env!(\"STOLEN\").as_ptr() }\n",
    );
    fs_err::write(&lib, src).unwrap();
    let control = build(work.path(), &krate, false, &[]);
    assert!(control.status.success(), "{}", stderr(&control));
    let wasm = fs_err::read(work.path().join("out/hostile.wasm")).unwrap();
    assert!(
        wasm.windows(12).any(|w| w == b"s3cr3t-t0ken"),
        "the unsandboxed script reads the planted file"
    );
    fs_err::remove_dir_all(work.path().join("out")).unwrap();
    let sandboxed = build(work.path(), &krate, true, &[]);
    let err = refused(&sandboxed, "tried to use a path that is not in the sandbox");
    assert!(!err.contains("s3cr3t"), "{err}");
    assert!(!work.path().join("out/hostile.wasm").exists());
}

#[test]
fn a_build_script_cannot_write_outside_the_target_directory() {
    let work = tempfile::tempdir().unwrap();
    let outside = work.path().join("outside");
    fs_err::create_dir_all(&outside).unwrap();
    let target = outside.join("pwned.txt");
    let krate = hostile(
        work.path(),
        &format!(
            "std::fs::write({:?}, \"pwned\").expect(\"write outside\");",
            target.display().to_string()
        ),
    );
    let control = build(work.path(), &krate, false, &[]);
    assert!(control.status.success(), "{}", stderr(&control));
    assert!(target.is_file(), "the unsandboxed script writes the file");
    fs_err::remove_file(&target).unwrap();
    let sandboxed = build(work.path(), &krate, true, &[]);
    refused(&sandboxed, "tried to use a path that is not in the sandbox");
    assert_eq!(fs_err::read_dir(&outside).unwrap().count(), 0);

    // The registry is visible, read-only: poisoning it fails too (no unsandboxed control: it
    // would write into the real registry).
    let registry = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"))
        .join("registry");
    let poison = registry.join(format!("casper-repro-poison-{}", std::process::id()));
    let krate = hostile(
        &work.path().join("2"),
        &format!(
            "std::fs::write({:?}, \"pwned\").expect(\"poison the registry\");",
            poison.display().to_string()
        ),
    );
    let sandboxed = build(work.path(), &krate, true, &[]);
    refused(&sandboxed, "tried to write to a read-only path");
    assert!(!poison.exists());
}

#[test]
fn a_fork_bomb_stops_at_the_process_limit() {
    let work = tempfile::tempdir().unwrap();
    let marker = format!("98{}", std::process::id());
    let krate = hostile(
        work.path(),
        &format!(
            "loop {{ let _ = std::process::Command::new(\"/bin/sleep\").arg(\"{marker}\").spawn(); }}"
        ),
    );
    let t = Instant::now();
    let sandboxed = build(
        work.path(),
        &krate,
        true,
        &["--process-limit", "64", "--time-limit", "30"],
    );
    refused(&sandboxed, "reached the sandbox's limit of 64 processes");
    assert!(t.elapsed() < Duration::from_secs(90), "{:?}", t.elapsed());
    assert_eq!(survivors(&marker), Vec::<String>::new());
}

#[test]
fn unbounded_allocation_stops_at_the_memory_limit() {
    let work = tempfile::tempdir().unwrap();
    let krate = hostile(
        work.path(),
        "let mut v: Vec<Vec<u8>> = Vec::new();\nloop { v.push(vec![7u8; 64 << 20]); }",
    );
    let sandboxed = build(work.path(), &krate, true, &["--memory-limit", "2048"]);
    refused(
        &sandboxed,
        "exceeded the memory limit of 2048 MiB per process",
    );
}

#[test]
fn a_sleeping_build_script_stops_at_the_time_limit() {
    let work = tempfile::tempdir().unwrap();
    let krate = hostile(
        work.path(),
        "std::thread::sleep(std::time::Duration::from_secs(7_654_321));",
    );
    let t = Instant::now();
    let sandboxed = build(work.path(), &krate, true, &["--time-limit", "10"]);
    refused(&sandboxed, "exceeded the wall-clock limit of 10s");
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    assert_eq!(survivors("build-script-build"), Vec::<String>::new());
}

#[test]
fn filling_the_disk_stops_at_the_disk_limit() {
    let work = tempfile::tempdir().unwrap();
    let krate = hostile(
        work.path(),
        "use std::io::Write;\nlet out = std::path::PathBuf::from(std::env::var(\"OUT_DIR\").unwrap());\nlet chunk = vec![1u8; 1 << 20];\nfor i in 0.. { let mut f = std::fs::File::create(out.join(format!(\"fill-{i}\"))).unwrap(); for _ in 0..8 { f.write_all(&chunk).unwrap(); } f.sync_all().unwrap(); }",
    );
    let sandboxed = build(work.path(), &krate, true, &["--disk-limit", "128"]);
    refused(
        &sandboxed,
        "wrote more than 128 MiB to disk, the sandbox's limit",
    );
}

/// The sandbox never changes the output: the fixture contract built sandboxed is the committed
/// module, byte for byte, and the provenance records the sandbox.
#[test]
fn a_sandboxed_build_is_byte_identical() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let work = tempfile::tempdir().unwrap();
    let out = build(
        work.path(),
        &repo.join("testdata/contracts"),
        true,
        &["-p", "multi_ep"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let built = fs_err::read(work.path().join("out/multi_ep.wasm")).unwrap();
    let committed = fs_err::read(repo.join("testdata/wasm/multi_ep.wasm")).unwrap();
    assert!(
        built == committed,
        "the sandboxed build differs from the fixture"
    );
    let prov: serde_json::Value = serde_json::from_slice(
        &fs_err::read(work.path().join("out/multi_ep.provenance.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        prov["sandbox"]["process_limit_by"]
            .as_str()
            .map(|s| s.ends_with("pids")),
        Some(true),
        "{prov}"
    );
    assert!(
        prov["sandbox"]["landlock"]
            .as_str()
            .unwrap()
            .starts_with("fully enforced"),
        "{prov}"
    );
    assert!(
        prov["sandbox"]["bwrap"]
            .as_str()
            .unwrap()
            .starts_with("bubblewrap ")
    );
    // Nothing of the sandbox is left in the cache's work directory.
    let left: Vec<_> = fs_err::read_dir(work.path().join("cache/work"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The second layer alone, outside bubblewrap, where everything is visible: the Landlock helper
/// lets the program read only the read-only paths, write only the writable ones, and make no TCP
/// connection; the same commands without it succeed.
#[test]
fn landlock_alone_confines_a_program() {
    let work = tempfile::tempdir().unwrap();
    let secret = work.path().join("secret.txt");
    fs_err::write(&secret, "s3cr3t").unwrap();
    let rw = work.path().join("rw");
    fs_err::create_dir_all(&rw).unwrap();
    let status_dir = work.path().join("status");
    fs_err::create_dir_all(&status_dir).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();

    let confined = |script: &str| {
        Command::new(env!("CARGO_BIN_EXE_casper-repro"))
            .arg("__landlock-exec")
            .arg("--report")
            .arg(status_dir.join("status"))
            .args([
                "--ro", "/usr", "--ro", "/etc", "--ro", "/bin", "--ro", "/lib", "--ro", "/lib64",
            ])
            .arg("--rw")
            .arg(&rw)
            .args(["--rw", "/dev", "--", "/bin/bash", "-c", script])
            .output()
            .unwrap()
    };
    let free = |script: &str| {
        Command::new("/bin/bash")
            .args(["-c", script])
            .output()
            .unwrap()
    };
    let read = format!("cat {}", secret.display());
    let write_ok = format!("echo ok > {}/x", rw.display());
    let write_out = format!("echo no > {}/y", work.path().display());
    let connect = format!("echo hi > /dev/tcp/127.0.0.1/{port}");

    // Without the layer: all four work (the listener gets one connection).
    for s in [&read, &write_ok, &write_out, &connect] {
        let o = free(s);
        assert!(o.status.success(), "{s}: {}", stderr(&o));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(listener.accept().is_ok(), "the unconfined connection");
    fs_err::remove_file(rw.join("x")).unwrap();
    fs_err::remove_file(work.path().join("y")).unwrap();

    // With it: only the write under --rw.
    let o = confined(&read);
    assert!(
        !o.status.success() && stderr(&o).contains("Permission denied"),
        "{}",
        stderr(&o)
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("s3cr3t"));
    let o = confined(&write_ok);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(rw.join("x").is_file());
    let o = confined(&write_out);
    assert!(!o.status.success(), "{}", stderr(&o));
    assert!(!work.path().join("y").exists());
    let o = confined(&connect);
    assert!(!o.status.success(), "{}", stderr(&o));
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        listener.accept().is_err(),
        "a confined connection got through"
    );
    let status = fs_err::read_to_string(status_dir.join("status")).unwrap();
    assert!(status.starts_with("fully enforced"), "{status}");

    // A malformed plan is refused, not run.
    let o = Command::new(env!("CARGO_BIN_EXE_casper-repro"))
        .args(["__landlock-exec", "--ro", "/usr", "--", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).starts_with("casper-repro-sandbox: no --report"),
        "{}",
        stderr(&o)
    );
}

/// A project's `.cargo/config.toml` can name programs for cargo to run in front of rustc, and
/// cargo runs rustc while it resolves and fetches, which happens before the sandbox. There, none
/// may run: plain cargo on the same project does run the project's wrapper (the config is live);
/// `casper-repro build --sandbox` runs it only inside the sandbox, where the marker directory
/// outside does not exist, so no marker appears.
#[test]
fn a_project_s_cargo_config_runs_nothing_outside_the_sandbox() {
    let work = tempfile::tempdir().unwrap();
    let marker_dir = work.path().join("ran");
    fs_err::create_dir_all(&marker_dir).unwrap();
    let krate = hostile(work.path(), "");
    let script = krate.join("tools/wrapper.sh");
    fs_err::create_dir_all(script.parent().unwrap()).unwrap();
    fs_err::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" > {}/$$\nexec \"$@\"\n",
            marker_dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    fs_err::create_dir_all(krate.join(".cargo")).unwrap();
    fs_err::write(
        krate.join(".cargo/config.toml"),
        "[build]\nrustc-wrapper = \"tools/wrapper.sh\"\nrustc-workspace-wrapper = \"tools/wrapper.sh\"\n",
    )
    .unwrap();
    // The config is live: plain cargo runs the wrapper.
    let plain = Command::new("cargo")
        .args(["+1.95.0", "metadata", "--format-version", "1"])
        .current_dir(&krate)
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .output()
        .unwrap();
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert!(
        fs_err::read_dir(&marker_dir).unwrap().count() > 0,
        "plain cargo ran the project's wrapper"
    );
    fs_err::remove_dir_all(&marker_dir).unwrap();
    fs_err::create_dir_all(&marker_dir).unwrap();

    let sandboxed = build(work.path(), &krate, true, &[]);
    assert!(sandboxed.status.success(), "{}", stderr(&sandboxed));
    let ran: Vec<_> = fs_err::read_dir(&marker_dir)
        .unwrap()
        .flatten()
        .map(|e| fs_err::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(
        ran,
        Vec::<String>::new(),
        "the project's wrapper ran outside the sandbox"
    );
}
