//! Real contract Makefiles read without running them. The reference for what a rule runs is GNU
//! make itself, in dry-run mode (`make -n RULE`: it prints the expanded commands and runs none of
//! them, except its `$(shell …)` calls, which in these files only `cat` a file).

use std::path::{Path, PathBuf};
use std::process::Command;

use repro_build::recipe::make::{self, Makefile, Step};
use repro_build::recipe::{RecipeKind, detect};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/makefiles")
        .join(name)
}

/// What GNU make would run for `rule`, each printed line split by the same command splitter.
fn make_dry_run(makefile: &Path, rule: &str) -> Vec<Step> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(makefile, dir.path().join("Makefile")).unwrap();
    std::fs::write(dir.path().join("rust-toolchain"), "nightly-2023-03-25\n").unwrap();
    let out = Command::new("make")
        .args(["-n", "--no-print-directory", rule])
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| {
            panic!("GNU make is needed as the reference for Makefile reading: {e}")
        });
    assert!(
        out.status.success(),
        "make -n {rule}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .flat_map(make::commands)
        .collect()
}

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn cep18_builds_three_packages_in_one_cargo_call_then_strips_each() {
    let path = fixture("cep18.mk");
    let mk = Makefile::parse(&std::fs::read_to_string(&path).unwrap());
    let rule = mk.build_rule().unwrap();
    assert_eq!(rule, "build-contracts");
    let plan = mk.plan(&rule);
    assert_eq!(plan.steps, make_dry_run(&path, &rule));
    let release = "target/wasm32-unknown-unknown/release";
    assert_eq!(
        plan.steps,
        vec![
            Step::Cargo {
                dir: String::new(),
                toolchain: None,
                args: args(
                    "--release --target wasm32-unknown-unknown -p erc20-token -p erc20-test -p erc20-test-call"
                ),
            },
            Step::WasmStrip {
                file: format!("{release}/erc20_token.wasm")
            },
            Step::WasmStrip {
                file: format!("{release}/erc20_test.wasm")
            },
            Step::WasmStrip {
                file: format!("{release}/erc20_test_call.wasm")
            },
        ]
    );
    assert!(plan.unsupported.is_empty() && plan.unrecognised().is_empty());
}

#[test]
fn cep78_builds_eleven_crates_from_their_directories_and_strips_ten() {
    let path = fixture("cep-78.mk");
    let mk = Makefile::parse(&std::fs::read_to_string(&path).unwrap());
    let rule = mk.build_rule().unwrap();
    assert_eq!(rule, "build-contract");
    let plan = mk.plan(&rule);
    assert_eq!(plan.steps, make_dry_run(&path, &rule));
    let cargo: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Cargo { dir, .. } => Some(dir.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(cargo.len(), 11);
    assert_eq!(cargo[0], "contract");
    let stripped = plan
        .steps
        .iter()
        .filter(|s| matches!(s, Step::WasmStrip { .. }))
        .count();
    // mangle_named_keys is built but never stripped: the Makefile says so, the replay must too.
    assert_eq!(stripped, 10);
    // The unused `$(shell cat rust-toolchain)` is never looked at.
    assert!(plan.unsupported.is_empty(), "{:?}", plan.unsupported);
    // `setup-test` also copies, creates and downloads: reported by name.
    let setup = mk.plan("setup-test");
    assert_eq!(setup.unrecognised(), ["cp", "curl", "if", "mkdir"]);
}

#[test]
fn detection_names_the_recipe_and_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("cep18.mk"), dir.path().join("Makefile")).unwrap();
    let d = detect(dir.path()).unwrap();
    assert_eq!(d.kind, RecipeKind::Make);
    assert!(d.reason.contains("build-contracts"), "{}", d.reason);

    // A Makefile that only runs cargo is still a cargo project.
    std::fs::write(
        dir.path().join("Makefile"),
        "build:\n\tcargo build --release\n",
    )
    .unwrap();
    assert_eq!(detect(dir.path()).unwrap().kind, RecipeKind::Cargo);

    // Odra.toml with an odra dependency.
    std::fs::write(
        dir.path().join("Odra.toml"),
        "[[contracts]]\nfqn = \"x::X\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n[dependencies]\nodra = \"2\"\n",
    )
    .unwrap();
    assert_eq!(detect(dir.path()).unwrap().kind, RecipeKind::Odra);
}
