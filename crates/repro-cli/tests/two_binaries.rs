//! `casper-repro` runs `replay` itself and hands every other command line to `casper-repro-full`
//! (src/front.rs). A user must not be able to tell the two apart but by speed: the same output,
//! the same errors, the same exit codes, the same logging.

use std::path::{Path, PathBuf};
use std::process::Command;

const FRONT: &str = env!("CARGO_BIN_EXE_casper-repro");
const FULL: &str = env!("CARGO_BIN_EXE_casper-repro-full");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// stdout, stderr and exit code of `bin args`, in a clean environment (plus `env`).
fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> (String, String, i32) {
    let out = Command::new(bin)
        .args(args)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    (
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
        out.status.code().expect("exited normally, no signal"),
    )
}

/// The multi_ep fixture's install on mainnet 1.5.8 (the engine's stored bytes are in
/// testdata/oracle/blobs), with the output file in `dir` named `name`.
fn replay_args(dir: &Path, name: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    args.extend(
        [
            "replay",
            "--protocol",
            "1.5.8",
            "-e",
            "dispatch,get,inc",
            "testdata/wasm/multi_ep.wasm",
            "-o",
        ]
        .map(str::to_owned),
    );
    args.push(dir.join(name).display().to_string());
    args
}

#[test]
fn replay_answers_alike_from_both_binaries() {
    let dir = tempfile::tempdir().unwrap();
    let engine = std::fs::read(root().join(
        "testdata/oracle/blobs/2e51fa48e58729a878e895aa1f7f1308cc47726761e8bd84fcae1f4abaa4788f.wasm",
    ))
    .unwrap();
    for extra in [&[][..], &["-v"], &["-q"], &["--format", "json"]] {
        // --format is the subcommand's flag: put it after the subcommand.
        let (globals, after): (Vec<&str>, Vec<&str>) = if extra.first() == Some(&"--format") {
            (vec![], extra.to_vec())
        } else {
            (extra.to_vec(), vec![])
        };
        let mut results = Vec::new();
        for (bin, name) in [(FRONT, "front.wasm"), (FULL, "full.wasm")] {
            let mut args = replay_args(dir.path(), name, &globals);
            args.extend(after.iter().map(|s| (*s).to_owned()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (stdout, stderr, code) = run(bin, &args, &[]);
            assert_eq!(code, 0, "{bin} {args:?}: {stderr}");
            assert_eq!(std::fs::read(dir.path().join(name)).unwrap(), engine);
            results.push((stdout.replace(name, "OUT"), stderr.replace(name, "OUT")));
        }
        assert_eq!(results[0], results[1], "{extra:?}");
        if extra == ["-v"] {
            assert!(
                results[0].1.contains("DEBUG preprocess"),
                "{}",
                results[0].1
            );
        }
    }
}

#[test]
fn replay_errors_and_help_are_the_same_in_both_binaries() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.wasm").display().to_string();
    let wasm = "testdata/wasm/multi_ep.wasm";
    let cases: Vec<(i32, Vec<&str>)> = vec![
        (0, vec!["replay", "--help"]),
        (0, vec!["replay", "-h"]),
        (2, vec!["replay"]),
        (
            2,
            vec!["replay", "--protocol", "9.9.9", "-e", "a", wasm, "-o", &out],
        ),
        (
            2,
            vec![
                "replay",
                "--protocol",
                "1.5.8",
                "-e",
                "nope",
                wasm,
                "-o",
                &out,
            ],
        ),
        (
            2,
            vec![
                "replay",
                "--protocol",
                "1.5.8",
                "-e",
                "a",
                "no/such.wasm",
                "-o",
                &out,
            ],
        ),
        (
            2,
            vec![
                "-v",
                "-q",
                "replay",
                "--protocol",
                "1.5.8",
                "-e",
                "a",
                wasm,
                "-o",
                &out,
            ],
        ),
    ];
    for (code, args) in cases {
        let front = run(FRONT, &args, &[]);
        let full = run(FULL, &args, &[]);
        assert_eq!(front, full, "{args:?}");
        assert_eq!(front.2, code, "{args:?}: {front:?}");
        assert!(!Path::new(&out).exists(), "{args:?} wrote {out}");
    }
    // RUST_LOG's directives, in the front too.
    let args = replay_args(dir.path(), "y.wasm", &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_, stderr, code) = run(FRONT, &args, &[("RUST_LOG", "repro_core=debug")]);
    assert_eq!(code, 0);
    assert!(stderr.contains("DEBUG preprocess"), "{stderr}");
}

#[test]
fn every_other_command_line_goes_to_the_full_binary_unchanged() {
    for args in [
        &[][..],
        &["--help"],
        &["--version"],
        &["help", "replay"],
        &["protocols"],
        &["bogus"],
        &["-v", "inspect", "testdata/wasm/multi_ep.wasm"],
        &["verify", "--wasm"],
    ] {
        assert_eq!(run(FRONT, args, &[]), run(FULL, args, &[]), "{args:?}");
    }
    // The usage line names the program the user ran, not the one that answered.
    let (_, stderr, code) = run(FRONT, &["bogus"], &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("Usage: casper-repro [OPTIONS] <COMMAND>"),
        "{stderr}"
    );
}

/// A warning logged at the default level reaches stderr (the formatter is built on demand), and
/// -q silences it. The bundle's block ran protocol 2.0.3 (its chain.json, from the real engine).
#[test]
fn a_warning_is_shown_by_default_and_not_with_quiet() {
    let args = [
        "verify",
        "--wasm",
        "testdata/wasm/multi_ep_cc5.wasm",
        "--bundle",
        "testdata/rpc/sidecar-2.0.3-finality",
        "--protocol",
        "2.0.0",
    ];
    let (_, stderr, code) = run(FRONT, &args, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        " WARN replaying with protocol 2.0.0 but the executing block ran protocol 2.0.3\n"
    );
    let quiet: Vec<&str> = std::iter::once("-q").chain(args).collect();
    let (_, stderr, code) = run(FRONT, &quiet, &[]);
    assert_eq!((code, stderr.as_str()), (0, ""));
}

/// Installed alone, `casper-repro` still replays, and says what is missing for anything else.
#[test]
fn the_front_alone_replays_and_names_the_missing_binary() {
    let dir = tempfile::tempdir().unwrap();
    let lonely = dir.path().join("casper-repro");
    std::fs::copy(FRONT, &lonely).unwrap();
    let lonely = lonely.display().to_string();
    let args = replay_args(dir.path(), "stored.wasm", &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_, stderr, code) = run(&lonely, &args, &[]);
    assert_eq!(code, 0, "{stderr}");
    let (stdout, stderr, code) = run(&lonely, &["protocols"], &[]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    let missing = dir.path().join("casper-repro-full").display().to_string();
    assert_eq!(
        stderr,
        format!(
            "error: casper-repro-full is not installed next to casper-repro (looked for {missing}): \
             it runs every command but `replay`; build or install both binaries of repro-cli \
             (`cargo build -p repro-cli`, `cargo install --locked --path crates/repro-cli`)\n"
        )
    );
}
