//! `casper-repro replay` and `casper-repro protocols`, run as a user would: the real binary, a
//! fixed environment, a fresh temporary directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casper-repro"));
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(root());
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("spawn casper-repro");
    Run {
        code: out
            .status
            .code()
            .expect("exited normally (no signal, no panic abort)"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Exit code, stdout and stderr together, with the temp directory filtered out.
fn snapshot_text(r: &Run, tmp: &Path) -> String {
    let filter = |s: &str| s.replace(&tmp.display().to_string(), "[TMP]");
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        r.code,
        filter(&r.stdout),
        filter(&r.stderr)
    )
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every install a real engine performed, replayed through the CLI, gives the engine's bytes.
#[test]
fn replay_reproduces_every_engine_install() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for engine in std::fs::read_dir(root().join("testdata/oracle")).unwrap() {
        let engine = engine.unwrap().path();
        if engine.file_name().unwrap() == "blobs" {
            continue;
        }
        for protocol in std::fs::read_dir(&engine).unwrap() {
            for file in std::fs::read_dir(protocol.unwrap().path()).unwrap() {
                files.push(file.unwrap().path());
            }
        }
    }
    files.sort();
    let mut compared = 0;
    for file in &files {
        let answer: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let protocol = answer["protocol"].as_str().unwrap();
        for (index, step) in answer["steps"].as_array().unwrap().iter().enumerate() {
            let contracts = step["contracts"].as_array().unwrap();
            if !step["success"].as_bool().unwrap() || contracts.is_empty() {
                continue;
            }
            let mut cmd = bin();
            cmd.args(["replay", "--protocol", protocol]);
            let input = match step["kind"].as_str().unwrap() {
                "session" => root()
                    .join("testdata/wasm")
                    .join(step["wasm"].as_str().unwrap()),
                _ => {
                    cmd.arg("--factory");
                    let caller = step["caller_stored_sha256"].as_str().unwrap();
                    root()
                        .join("testdata/oracle/blobs")
                        .join(format!("{caller}.wasm"))
                }
            };
            cmd.arg(&input);
            let mut outputs = Vec::new();
            for (n, contract) in contracts.iter().enumerate() {
                let names: Vec<&str> = contract["entry_points"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_str().unwrap())
                    .collect();
                let out = tmp.path().join(format!("{compared}-{n}.wasm"));
                cmd.arg("-e").arg(names.join(",")).arg("-o").arg(&out);
                outputs.push((out, contract["stored_sha256"].as_str().unwrap().to_owned()));
            }
            let r = run(&mut cmd);
            assert_eq!(r.code, 0, "{} step {index}: {}", file.display(), r.stderr);
            for (out, expected) in outputs {
                let bytes = std::fs::read(&out).unwrap();
                assert_eq!(sha256(&bytes), expected, "{} step {index}", file.display());
                compared += 1;
            }
        }
    }
    assert!(compared >= 50, "only {compared} installs compared");
}

#[test]
fn rejected_module_exits_2_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("stored.wasm");
    let r = run(bin()
        .args([
            "replay",
            "--protocol",
            "1.5.8",
            "-e",
            "call",
            "testdata/wasm/bulk_memory.wasm",
            "-o",
        ])
        .arg(&out));
    assert!(
        !out.exists(),
        "nothing may be written for a rejected module"
    );
    insta::assert_snapshot!("rejected_bulk_memory", snapshot_text(&r, tmp.path()));
}

#[test]
fn rejection_as_json_names_the_node_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("stored.wasm");
    let r = run(bin()
        .args([
            "replay",
            "--protocol",
            "1.5.8",
            "--format",
            "json",
            "-e",
            "call",
            "testdata/wasm/sign_ext.wasm",
            "-o",
        ])
        .arg(&out));
    assert!(!out.exists());
    insta::assert_snapshot!("rejected_sign_ext_json", snapshot_text(&r, tmp.path()));
}

#[test]
fn bad_inputs_exit_2_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let truncated = tmp.path().join("truncated.wasm");
    let full = std::fs::read(root().join("testdata/wasm/multi_ep.wasm")).unwrap();
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    let garbage_spec = tmp.path().join("chainspec.toml");
    std::fs::write(
        &garbage_spec,
        "[protocol]\nversion = '1.5.8'\n[wasm]\nmax_memory = 'lots'\n",
    )
    .unwrap();
    let out = tmp.path().join("out.wasm");
    let cases: Vec<(&str, Vec<std::ffi::OsString>)> = vec![
        (
            "truncated_wasm",
            vec![
                "--protocol".into(),
                "1.5.8".into(),
                "-e".into(),
                "call".into(),
                truncated.clone().into(),
            ],
        ),
        (
            "missing_file",
            vec![
                "--protocol".into(),
                "1.5.8".into(),
                "-e".into(),
                "call".into(),
                tmp.path().join("nope.wasm").into(),
            ],
        ),
        (
            "unknown_protocol",
            vec![
                "--protocol".into(),
                "1.4.7".into(),
                "-e".into(),
                "call".into(),
                truncated.clone().into(),
            ],
        ),
        (
            "garbage_chainspec",
            vec![
                "--chainspec".into(),
                garbage_spec.clone().into(),
                "-e".into(),
                "call".into(),
                truncated.clone().into(),
            ],
        ),
        (
            "missing_entry_point",
            vec![
                "--protocol".into(),
                "2.0.3".into(),
                "-e".into(),
                "inc,nope".into(),
                "testdata/wasm/multi_ep.wasm".into(),
            ],
        ),
    ];
    for (name, args) in cases {
        let r = run(bin().arg("replay").args(&args).arg("-o").arg(&out));
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(!out.exists(), "{name}: wrote output");
        insta::assert_snapshot!(format!("bad_input__{name}"), snapshot_text(&r, tmp.path()));
    }
    // Two contracts, the second output cannot be written: neither is written.
    let first = tmp.path().join("first.wasm");
    let r = run(bin()
        .args([
            "replay",
            "--protocol",
            "1.5.8",
            "testdata/wasm/two_contracts.wasm",
            "-e",
            "get,inc",
            "-o",
        ])
        .arg(&first)
        .args(["-e", "double,get,reset", "-o"])
        .arg(tmp.path().join("no-such-dir/second.wasm")));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        !first.exists(),
        "the first output must not be written when the second fails"
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    // One output per contract.
    let r = run(bin()
        .args([
            "replay",
            "--protocol",
            "1.5.8",
            "-e",
            "inc",
            "-e",
            "get",
            "testdata/wasm/multi_ep.wasm",
            "-o",
        ])
        .arg(&out));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("one output file per installed contract"),
        "{}",
        r.stderr
    );
}

#[test]
fn replay_text_and_json_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.wasm");
    let b = tmp.path().join("b.wasm");
    let r = run(bin()
        .args([
            "replay",
            "--protocol",
            "1.4.13",
            "testdata/wasm/two_contracts.wasm",
            "-e",
            "get,inc",
            "-o",
        ])
        .arg(&a)
        .args(["-e", "double,get,reset", "-o"])
        .arg(&b));
    insta::assert_snapshot!("replay_two_contracts_text", snapshot_text(&r, tmp.path()));
    // -v: every step's serialized size too (the sizes of the 1.4.13 engine's pipeline stages are
    // not recorded by the engine; the last one is the stored size it wrote, 14461 bytes).
    let r = run(bin()
        .args([
            "-v",
            "replay",
            "--protocol",
            "1.4.13",
            "testdata/wasm/two_contracts.wasm",
            "-e",
            "get,inc",
            "-o",
        ])
        .arg(&a));
    let text = &r.stdout;
    assert!(
        text.contains("none kept; 14461 bytes, 60 functions") && text.contains("metered blocks; "),
        "{text}"
    );
    let r = run(bin()
        .args([
            "replay",
            "--protocol",
            "2.0.3",
            "--format",
            "json",
            "testdata/wasm/multi_ep.wasm",
            "-e",
            "dispatch,get,inc",
            "-o",
        ])
        .arg(&a));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["schema_version"], 3);
    assert_eq!(doc["kind"], "replay");
    insta::assert_snapshot!("replay_multi_ep_json", snapshot_text(&r, tmp.path()));
}

#[test]
fn protocols_lists_every_known_version() {
    let tmp = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(
        "protocols_text",
        snapshot_text(&run(bin().arg("protocols")), tmp.path())
    );
    let r = run(bin().args(["protocols", "--format", "json"]));
    assert_eq!(r.code, 0);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("protocols_json", doc);
    });
    let listed: Vec<&str> = doc["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["version"].as_str().unwrap())
        .collect();
    // The mainnet upgrades of node-pipeline.md table 1.1 (1.4.1 … 1.5.8, 2.0.0, 2.0.3, 2.2.0).
    let mainnet = [
        "1.4.1", "1.4.3", "1.4.4", "1.4.5", "1.4.6", "1.4.8", "1.4.9", "1.4.13", "1.4.15", "1.5.2",
        "1.5.3", "1.5.5", "1.5.6", "1.5.7", "1.5.8", "2.0.0", "2.0.3", "2.2.0",
    ];
    assert_eq!(listed, mainnet);
}

#[test]
fn help_texts() {
    let tmp = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(
        "help_replay",
        snapshot_text(&run(bin().args(["replay", "--help"])), tmp.path())
    );
    insta::assert_snapshot!(
        "help_protocols",
        snapshot_text(&run(bin().args(["protocols", "--help"])), tmp.path())
    );
    // The top level lists every command with its one-line help, although the commands'
    // arguments are built only when one runs (clap's `defer`).
    insta::assert_snapshot!(
        "help_top_level",
        snapshot_text(&run(bin().arg("--help")), tmp.path())
    );
}

/// A chainspec in the 2.x layout (`[wasm.v1]`) for a private network.
fn private_2x_chainspec(version: &str, call_cost: u32) -> String {
    format!(
        r#"[protocol]
version = '{version}'
[network]
name = 'my-private-net'
[wasm.v1]
max_memory = 64
max_stack_height = 500
[wasm.v1.opcode_costs]
bit = 105
add = 105
mul = 105
div = 105
load = 105
store = 105
const = 105
local = 105
global = 105
integer_comparison = 105
conversion = 105
unreachable = 105
nop = 105
current_memory = 105
grow_memory = 900
sign = 105
[wasm.v1.opcode_costs.control_flow]
block = 255
loop = 255
if = 105
else = 105
end = 105
br = 1665
br_if = 510
return = 105
select = 105
call = {call_cost}
call_indirect = 270
drop = 105
[wasm.v1.opcode_costs.control_flow.br_table]
cost = 150
size_multiplier = 100
"#
    )
}

#[test]
fn chainspec_decides_the_costs_of_a_private_network() {
    let tmp = tempfile::tempdir().unwrap();
    let replay = |spec: &str, out: &str| {
        let path = tmp.path().join(format!("{out}.toml"));
        std::fs::write(&path, spec).unwrap();
        let out = tmp.path().join(out);
        let r = run(bin()
            .args(["replay", "--chainspec"])
            .arg(&path)
            .args([
                "-e",
                "dispatch,get,inc",
                "testdata/wasm/multi_ep_cc5.wasm",
                "-o",
            ])
            .arg(&out));
        assert_eq!(r.code, 0, "{}", r.stderr);
        std::fs::read(out).unwrap()
    };
    // With the mainnet 2.x values (casper-types defaults), the private network stores what the
    // real 2.0.3 engine stored for the same session.
    let same = replay(&private_2x_chainspec("2.0.3", 225), "same.wasm");
    let answer: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("testdata/oracle/ee-8.1.1/2.0.3/multi_ep_cc5.json"))
            .unwrap(),
    )
    .unwrap();
    let contract = &answer["steps"][0]["contracts"][0];
    assert_eq!(
        contract["entry_points"],
        serde_json::json!(["dispatch", "get", "inc"])
    );
    assert_eq!(sha256(&same), contract["stored_sha256"].as_str().unwrap());
    // One cost changed by one: the stored bytes change.
    let other = replay(&private_2x_chainspec("2.0.3", 226), "other.wasm");
    assert_ne!(sha256(&other), sha256(&same));
    // --protocol must agree with the chainspec.
    let path = tmp.path().join("spec.toml");
    std::fs::write(&path, private_2x_chainspec("2.0.3", 225)).unwrap();
    let r = run(bin()
        .args(["replay", "--protocol", "1.5.8", "--chainspec"])
        .arg(&path)
        .args(["-e", "call", "testdata/wasm/multi_ep.wasm", "-o"])
        .arg(tmp.path().join("x.wasm")));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("disagrees with the chainspec"),
        "{}",
        r.stderr
    );
    // A 1.x release with 2.x-shaped costs is refused with the reason.
    std::fs::write(&path, private_2x_chainspec("1.4.6", 225)).unwrap();
    let r = run(bin()
        .args(["replay", "--chainspec"])
        .arg(&path)
        .args(["-e", "call", "testdata/wasm/multi_ep.wasm", "-o"])
        .arg(tmp.path().join("x.wasm")));
    assert_eq!(r.code, 2);
    insta::assert_snapshot!("chainspec_config_mismatch", snapshot_text(&r, tmp.path()));
}
