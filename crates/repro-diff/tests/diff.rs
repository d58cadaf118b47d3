//! Integration tests of repro-diff: the `testdata/pairs` corpus (the classifier names the pair's
//! cause first), snapshots, properties (self-diff is empty, A/B and B/A mirror), malformed input,
//! and the caller-supplied cost-profile hook.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use repro_diff::wasmparser::Operator;
use repro_diff::{
    CauseKind, CostProfile, DiffOptions, DiffReport, Error, FunctionClass, Status, WatSelection,
};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// A cost table with every instruction at `unit` (test profile for the pluggable hook).
struct Flat {
    name: &'static str,
    unit: u64,
    stack_limit: Option<u32>,
}

impl CostProfile for Flat {
    fn name(&self) -> &str {
        self.name
    }
    fn instruction_cost(&self, op: &Operator<'_>) -> Option<u64> {
        match op {
            Operator::F32Add | Operator::F64Add => None,
            _ => Some(self.unit),
        }
    }
    fn stack_limit(&self) -> Option<u32> {
        self.stack_limit
    }
    fn grow_cost(&self) -> Option<u32> {
        None
    }
}

const ONES: Flat = Flat {
    name: "ones",
    unit: 1,
    stack_limit: Some(188),
};
const TENS: Flat = Flat {
    name: "tens",
    unit: 10,
    stack_limit: Some(500),
};

fn options() -> DiffOptions<'static> {
    DiffOptions {
        profiles: vec![&ONES, &TENS],
        ..DiffOptions::default()
    }
}

fn pair(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let load = |n: &str| {
        let wat = dir.join(format!("{n}.wat"));
        let reference = dir.join(format!("{n}.ref"));
        if reference.exists() {
            // A path relative to testdata/ (real fixtures are not copied).
            let rel = std::fs::read_to_string(&reference).unwrap();
            std::fs::read(testdata().join(rel.trim()))
                .unwrap_or_else(|e| panic!("{}: {e}", reference.display()))
        } else if wat.exists() {
            wat::parse_file(&wat).unwrap_or_else(|e| panic!("{}: {e}", wat.display()))
        } else {
            std::fs::read(dir.join(format!("{n}.wasm"))).expect("pair file")
        }
    };
    (load("a"), load("b"))
}

fn kind_name(k: CauseKind) -> String {
    serde_json::to_value(k)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn every_pair_names_its_cause_first() {
    let mut seen = 0;
    for entry in std::fs::read_dir(testdata().join("pairs")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("a.wat").exists() && !dir.join("a.ref").exists() {
            continue; // e.g. stored/, the modules real pairs refer to
        }
        let expected = std::fs::read_to_string(dir.join("expected-cause"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| dir.file_name().unwrap().to_string_lossy().into_owned());
        let (a, b) = pair(&dir);
        let r = repro_diff::diff(&a, &b, &options()).unwrap();
        assert!(!r.identical, "{}", dir.display());
        let first = r.causes.first().map(|c| kind_name(c.kind));
        assert_eq!(
            first.as_deref(),
            Some(expected.as_str()),
            "{}: causes {:#?}",
            dir.display(),
            r.causes
        );
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} pairs");
}

#[test]
fn pair_snapshots() {
    insta::glob!("../../../testdata/pairs", "*/a.wat", |path| {
        let dir = path.parent().unwrap();
        let (a, b) = pair(dir);
        let r = repro_diff::diff(&a, &b, &options()).unwrap();
        insta::assert_snapshot!("text", repro_diff::diff_text(&r));
        insta::assert_json_snapshot!("json", r);
    });
}

#[test]
fn metering_profiles_fit_each_side() {
    let (a, b) = pair(&testdata().join("pairs/metering_constants"));
    let r = repro_diff::diff(&a, &b, &options()).unwrap();
    let fits = |r: &repro_diff::SideFacts| -> Vec<String> {
        r.profile_fits
            .iter()
            .filter(|f| f.fits)
            .map(|f| f.profile.clone())
            .collect()
    };
    assert_eq!(fits(&r.facts_a), ["ones"]);
    assert_eq!(fits(&r.facts_b), ["tens"]);
    let m = r.facts_a.instrumentation.metering.as_ref().unwrap();
    assert_eq!((m.import.as_str(), m.sites), ("env.gas", 2));
}

#[test]
fn stack_limit_is_extracted() {
    let (a, b) = pair(&testdata().join("pairs/stack_limit"));
    let fa = repro_diff::inspect(&a, &[&ONES, &TENS]).unwrap();
    let fb = repro_diff::inspect(&b, &[&ONES, &TENS]).unwrap();
    assert_eq!(
        fa.facts
            .instrumentation
            .stack_limiter
            .as_ref()
            .unwrap()
            .limits,
        [188]
    );
    assert_eq!(
        fb.facts
            .instrumentation
            .stack_limiter
            .as_ref()
            .unwrap()
            .limits,
        [500]
    );
    assert_eq!(fa.facts.profile_fits[0].profile, "ones");
    assert!(fa.facts.profile_fits[0].fits);
    assert_eq!(fb.facts.profile_fits[0].profile, "tens");
}

#[test]
fn build_paths_suggest_remaps() {
    let (a, b) = pair(&testdata().join("pairs/build_paths"));
    let r = repro_diff::diff(&a, &b, &options()).unwrap();
    let c = &r.causes[0];
    let remaps: Vec<(String, String)> = c
        .remaps
        .iter()
        .map(|m| (m.from.clone(), m.to.clone()))
        .collect();
    assert_eq!(
        remaps,
        [
            (
                "/home/bob/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f".to_string(),
                "/home/alice/.cargo/registry/src/index.crates.io-6f17d22bba15001f".to_string()
            ),
            (
                "/home/bob/work/cep18/contract".to_string(),
                "/home/alice/src/cep18/contract".to_string()
            ),
        ]
    );
}

/// Real builds of the fixture `sign_ext` (testdata/pairs/real.md): the committed build against
/// the same source built with another path remap, opt-level or rustc.
fn real_build_pair(name: &str) -> DiffReport {
    let (a, b) = pair(&testdata().join("pairs").join(name));
    repro_diff::diff(&a, &b, &options()).unwrap()
}

fn kinds(r: &DiffReport) -> Vec<String> {
    r.causes.iter().map(|c| kind_name(c.kind)).collect()
}

#[test]
fn real_build_paths_remap() {
    let r = real_build_pair("real_build_paths_remap");
    assert_eq!(kinds(&r), ["build_paths", "code_differs"]);
    let c = &r.causes[0];
    let remaps: Vec<(&str, &str)> = c
        .remaps
        .iter()
        .map(|m| (m.from.as_str(), m.to.as_str()))
        .collect();
    // B was built with --remap-path-prefix=/root/.cargo=/home/alice/.cargo.
    assert_eq!(
        remaps,
        [(
            "/home/alice/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f",
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f"
        )]
    );
    assert!(
        c.evidence
            .contains(&"home: A /root, B /home/alice".to_string()),
        "{:?}",
        c.evidence
    );
    // One data string differs per side: the one holding the panic-location path.
    assert_eq!(
        (
            r.data.strings_only_in_a_total,
            r.data.strings_only_in_b_total
        ),
        (1, 1)
    );
    insta::assert_snapshot!("real_build_paths_remap", repro_diff::diff_text(&r));
}

#[test]
fn real_opt_level_z_vs_s() {
    let r = real_build_pair("real_opt_level_z_vs_s");
    // The panic location A embeds is gone from B (different inlining), which is no directory
    // change; the new function order follows the changed code, it is no dependency drift.
    assert_eq!(kinds(&r), ["code_differs"]);
    let outside_rustc = |f: &repro_diff::SideFacts| {
        f.paths
            .paths
            .iter()
            .filter(|p| !p.starts_with("/rustc/"))
            .count()
    };
    assert_eq!(
        (outside_rustc(&r.facts_a), outside_rustc(&r.facts_b)),
        (1, 0)
    );
    insta::assert_snapshot!("real_opt_level_z_vs_s", repro_diff::diff_text(&r));
}

#[test]
fn real_rustc_1_95_0_vs_1_94_0() {
    let r = real_build_pair("real_rustc_1.95.0_vs_1.94.0");
    assert_eq!(kinds(&r), ["rustc_differs", "code_differs"]);
    let e = &r.causes[0].evidence;
    for want in [
        "A: /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/",
        "B: /rustc/4a4ef493e3a1488c6e321570238084b38948f6db/",
        "A producers: processed-by: rustc 1.95.0 (59807616e 2026-04-14)",
        "B producers: processed-by: rustc 1.94.0 (4a4ef493e 2026-03-02)",
    ] {
        assert!(e.contains(&want.to_string()), "{want}: {e:?}");
    }
    insta::assert_snapshot!("real_rustc_1_95_0_vs_1_94_0", repro_diff::diff_text(&r));
}

#[test]
fn reordering_is_not_everything_changed() {
    let (a, b) = pair(&testdata().join("pairs/reordered"));
    let r = repro_diff::diff(&a, &b, &options()).unwrap();
    let c = &r.functions.counts;
    assert_eq!(
        (
            c.instructions_differ,
            c.constants_only,
            c.only_in_a,
            c.only_in_b
        ),
        (0, 0, 0, 0)
    );
    assert!(c.moved >= 3);
}

#[test]
fn function_selector_renders_wat() {
    let (a, b) = pair(&testdata().join("pairs/code_differs"));
    let opts = DiffOptions {
        wat: WatSelection::Function("call".into()),
        context: 1,
        profiles: Vec::new(),
    };
    let r = repro_diff::diff(&a, &b, &opts).unwrap();
    assert_eq!(r.functions.entries.len(), 1);
    let d = r.functions.entries[0].wat_diff.as_deref().unwrap();
    assert!(d.contains("-  i32.add") && d.contains("+  i32.mul"), "{d}");
    let opts = DiffOptions {
        wat: WatSelection::Function("nope".into()),
        context: 1,
        profiles: Vec::new(),
    };
    assert!(matches!(
        repro_diff::diff(&a, &b, &opts),
        Err(Error::NoSuchFunction { .. })
    ));
}

// ---- malformed input -------------------------------------------------------------------------

fn malformed(bytes: &[u8]) -> (usize, String) {
    match repro_diff::inspect(bytes, &[]) {
        Err(Error::Malformed {
            offset, message, ..
        }) => (offset, message),
        other => panic!("expected a malformed error, got {other:?}"),
    }
}

#[test]
fn malformed_inputs_have_offsets() {
    let good =
        wat::parse_str(r#"(module (memory 1) (func (export "f") (result i32) i32.const 1))"#)
            .unwrap();
    // Bad magic.
    assert_eq!(malformed(b"\0asX\x01\0\0\0").0, 0);
    // Truncated anywhere: never a panic (a cut at a section boundary is a valid shorter module).
    for n in 0..good.len() {
        let _ = repro_diff::inspect(&good[..n], &[]);
    }
    // Truncated inside the code section.
    let (off, msg) = malformed(&good[..good.len() - 2]);
    assert!(off >= good.len() - 8 && off <= good.len(), "{off} {msg}");
    // Bad LEB: a section size that never terminates.
    let (off, _) = malformed(b"\0asm\x01\0\0\0\x01\xff\xff\xff\xff\xff\xff");
    assert!(off >= 9, "{off}");
    // Wrong section order: memory (5) after export (7).
    let bad = b"\0asm\x01\0\0\0\x07\x01\x00\x05\x03\x01\x00\x01";
    let (off, msg) = malformed(bad);
    assert_eq!(off, 13);
    assert!(msg.contains("out of order"), "{msg}");
    // In a diff the error names the side.
    match repro_diff::diff(&good, bad, &DiffOptions::default()) {
        Err(e @ Error::Malformed { .. }) => assert!(
            e.to_string()
                .starts_with("module B is malformed at offset 0xd")
        ),
        other => panic!("{other:?}"),
    }
}

// ---- every module we have diffs against itself ------------------------------------------------

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![testdata()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            let name = p.display().to_string();
            if p.is_dir() {
                if !name.contains("/target") && !name.contains("/contracts") {
                    stack.push(p);
                }
            } else if name.ends_with(".wasm") {
                out.push((name, std::fs::read(&p).unwrap()));
            } else if name.ends_with(".wat") {
                out.push((name, wat::parse_file(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn assert_empty(r: &DiffReport) {
    assert!(r.identical);
    assert!(r.causes.is_empty());
    assert!(r.items.is_empty());
    assert!(r.functions.entries.is_empty());
    assert!(r.sections.iter().all(|s| s.status == Status::Identical));
    assert_eq!(r.functions.counts.identical, r.functions.count_a);
}

#[test]
fn every_module_in_testdata_diffs_against_itself() {
    let corpus = corpus();
    assert!(corpus.len() >= 22, "corpus has {} modules", corpus.len());
    for (name, bytes) in &corpus {
        let r =
            repro_diff::diff(bytes, bytes, &options()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_empty(&r);
        repro_diff::inspect(bytes, &[&ONES, &TENS]).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn real_fixture_corpus_mirrors() {
    // The fixtures and the real pairs (other testdata, e.g. oracle outputs, only self-diff above).
    let corpus: Vec<_> = corpus()
        .into_iter()
        .filter(|(n, _)| n.ends_with(".wasm") && (n.contains("/wasm/") || n.contains("/pairs/")))
        .collect();
    assert!(corpus.len() >= 20, "{}", corpus.len());
    for w in corpus.windows(2) {
        let ab = repro_diff::diff(
            &w[0].1,
            &w[1].1,
            &DiffOptions {
                wat: WatSelection::None,
                ..options()
            },
        )
        .unwrap();
        let ba = repro_diff::diff(
            &w[1].1,
            &w[0].1,
            &DiffOptions {
                wat: WatSelection::None,
                ..options()
            },
        )
        .unwrap();
        assert_mirror(&ab, &ba);
    }
}

// ---- properties --------------------------------------------------------------------------------

fn assert_mirror(ab: &DiffReport, ba: &DiffReport) {
    assert_eq!(ab.identical, ba.identical);
    assert_eq!(ab.a, ba.b);
    let (x, y) = (&ab.functions.counts, &ba.functions.counts);
    assert_eq!(
        (
            x.identical,
            x.moved,
            x.constants_only,
            x.instructions_differ,
            x.only_in_a,
            x.only_in_b
        ),
        (
            y.identical,
            y.moved,
            y.constants_only,
            y.instructions_differ,
            y.only_in_b,
            y.only_in_a
        ),
        "function counts do not mirror"
    );
    let flip = |s: Status| match s {
        Status::OnlyInA => Status::OnlyInB,
        Status::OnlyInB => Status::OnlyInA,
        s => s,
    };
    let mut sa: Vec<_> = ab
        .sections
        .iter()
        .map(|s| (s.name.clone(), flip(s.status)))
        .collect();
    let mut sb: Vec<_> = ba
        .sections
        .iter()
        .map(|s| (s.name.clone(), s.status))
        .collect();
    sa.sort_by(|p, q| p.0.cmp(&q.0));
    sb.sort_by(|p, q| p.0.cmp(&q.0));
    assert_eq!(sa, sb);
    assert_eq!(ab.data.strings_only_in_a, ba.data.strings_only_in_b);
    let mut ka: Vec<_> = ab.causes.iter().map(|c| c.kind).collect();
    let mut kb: Vec<_> = ba.causes.iter().map(|c| c.kind).collect();
    ka.sort();
    kb.sort();
    assert_eq!(ka, kb, "cause kinds do not mirror");
}

#[derive(Debug, Clone)]
struct Spec {
    funcs: Vec<(u8, i32)>,
    calls: Vec<usize>,
    data: String,
    export_extra: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec((0u8..4, -5i32..5000), 1..8),
        prop::collection::vec(0usize..8, 0..6),
        "[a-z/]{0,40}",
        any::<bool>(),
    )
        .prop_map(|(funcs, calls, data, export_extra)| Spec {
            funcs,
            calls,
            data,
            export_extra,
        })
}

fn render(s: &Spec, perm: &[usize]) -> Vec<u8> {
    let ops = ["i32.add", "i32.mul", "i32.xor", "i32.sub"];
    let mut w = String::from("(module (memory 1)\n");
    for &k in perm {
        let (op, c) = s.funcs[k];
        w += &format!(
            "(func $f{k} (param i32) (result i32) local.get 0 i32.const {c} {})\n",
            ops[op as usize]
        );
    }
    w += "(func (export \"call\") (result i32) i32.const 1";
    for &c in &s.calls {
        w += &format!(" call $f{}", c % s.funcs.len());
    }
    w += ")\n";
    if s.export_extra {
        w += "(export \"extra\" (func $f0))\n";
    }
    w += &format!("(data (i32.const 16) \"{}\"))", s.data);
    wat::parse_str(&w).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn self_diff_is_empty(s in spec()) {
        let a = render(&s, &(0..s.funcs.len()).collect::<Vec<_>>());
        assert_empty(&repro_diff::diff(&a, &a, &options()).unwrap());
    }

    #[test]
    fn diffs_mirror(s in spec(), t in spec(), rot in 0usize..8, swap in any::<bool>()) {
        let n = s.funcs.len();
        let id: Vec<usize> = (0..n).collect();
        let a = render(&s, &id);
        let b = if swap {
            let mut p = id.clone();
            p.rotate_left(rot % n);
            render(&s, &p)
        } else {
            render(&t, &(0..t.funcs.len()).collect::<Vec<_>>())
        };
        let ab = repro_diff::diff(&a, &b, &options()).unwrap();
        let ba = repro_diff::diff(&b, &a, &options()).unwrap();
        assert_mirror(&ab, &ba);
        if swap {
            // A permutation is never reported as changed code.
            prop_assert_eq!(ab.functions.counts.instructions_differ, 0);
            prop_assert!(ab.functions.entries.iter().all(|e| e.class == FunctionClass::Moved));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend(bytes);
        let _ = repro_diff::inspect(&m, &[&ONES]);
        let _ = repro_diff::diff(&m, &m, &options());
    }
}

/// One build of rustc 1.95.0 records `language: Rust`, another (no Rust code survives) does not:
/// the same compiler, so no "different compilers" cause. Producers as two real 1.95.0 builds
/// wrote them (testdata/wasm/multi_ep.wasm, and a no_std cdylib with an empty `call`).
#[test]
fn a_missing_language_entry_is_not_another_compiler() {
    let a = wat::parse_str(
        r#"(module (@producers (language "Rust" "") (processed-by "rustc" "1.95.0 (59807616e 2026-04-14)"))
           (func (export "call") (result i32) i32.const 1))"#,
    )
    .unwrap();
    let b = wat::parse_str(
        r#"(module (@producers (processed-by "rustc" "1.95.0 (59807616e 2026-04-14)"))
           (func (export "call") (result i32) i32.const 2))"#,
    )
    .unwrap();
    let r = repro_diff::diff(&a, &b, &options()).unwrap();
    assert!(
        r.causes.iter().all(|c| c.kind != CauseKind::RustcDiffers),
        "{:?}",
        r.causes
    );
}
