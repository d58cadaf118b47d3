//! The cause classifier: probes over a finished [`DiffReport`] that each name a probable cause with
//! its evidence. Scores are fixed per probe (and lowered when the probe explains only part of the
//! difference), so the ranking is deterministic and explainable.

use std::collections::{BTreeMap, BTreeSet};

use crate::instrument::ConstRole;
use crate::report::*;
use crate::strings::common_dir;

fn cause(kind: CauseKind, score: u8, summary: impl Into<String>) -> Cause {
    Cause {
        kind,
        score,
        summary: summary.into(),
        evidence: Vec::new(),
        fix: None,
        remaps: Vec::new(),
    }
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// The last three components of a source path (`<crate>/src/<file>.rs`, `src/<dir>/<file>.rs`):
/// the same file wherever the build ran.
fn file_tail(p: &str) -> &str {
    let mut cut = p.len();
    for _ in 0..3 {
        match p[..cut].rfind('/') {
            Some(k) => cut = k,
            None => return p,
        }
    }
    &p[cut + 1..]
}

fn fits(s: &SideFacts) -> Vec<String> {
    s.profile_fits
        .iter()
        .filter(|f| f.fits)
        .map(|f| f.profile.clone())
        .collect()
}

/// `processed-by` producers entries (the tools that made the module; a `language` entry can be
/// missing from one build of the same compiler, e.g. when no Rust code survives).
fn compiler_producers(s: &SideFacts) -> Vec<String> {
    s.toolchain
        .producers
        .iter()
        .filter(|p| p.starts_with("processed-by"))
        .cloned()
        .collect()
}

/// The compiler of one side in words: its producers entry (`rustc 1.79.0 (129f3b996 2024-06-10)`),
/// else the commit of its `/rustc/` paths, else that nothing names it.
fn compiler_name(s: &SideFacts) -> String {
    let rustc: Vec<&str> = s
        .toolchain
        .producers
        .iter()
        .filter_map(|p| p.strip_prefix("processed-by: "))
        .filter(|p| p.starts_with("rustc"))
        .collect();
    if !rustc.is_empty() {
        return rustc.join(" and ");
    }
    match s.toolchain.rustc_commits.as_slice() {
        [] => "an unnamed compiler".into(),
        commits => format!("the rustc of commit {}", commits.join(" and ")),
    }
}

/// Different compilers: different `/rustc/` commits or different producers entries.
fn rustc_differs(fa: &SideFacts, fb: &SideFacts) -> Option<Cause> {
    let (ca, cb) = (&fa.toolchain.rustc_commits, &fb.toolchain.rustc_commits);
    let (pa, pb) = (compiler_producers(fa), compiler_producers(fb));
    let commits_differ = !ca.is_empty() && !cb.is_empty() && ca != cb;
    let producers_differ = !pa.is_empty() && !pb.is_empty() && pa != pb;
    if !(commits_differ || producers_differ) {
        return None;
    }
    let mut c = cause(
        CauseKind::RustcDiffers,
        90,
        format!(
            "the modules were built by different compilers: A {}, B {}",
            compiler_name(fa),
            compiler_name(fb)
        ),
    );
    if commits_differ {
        c.evidence
            .push(format!("A: /rustc/{}/", ca.join(", /rustc/")));
        c.evidence
            .push(format!("B: /rustc/{}/", cb.join(", /rustc/")));
    }
    if producers_differ {
        c.evidence.push(format!("A producers: {}", pa.join("; ")));
        c.evidence.push(format!("B producers: {}", pb.join("; ")));
    }
    c.fix = Some(
        match (pa.iter().find(|p| p.contains("rustc")), ca.first()) {
            (Some(p), _) => format!("rebuild with A's toolchain ({p})"),
            (None, Some(h)) => format!("rebuild with the rustc of commit {h} (A's toolchain)"),
            _ => "rebuild with A's toolchain".into(),
        },
    );
    Some(c)
}

pub(crate) fn classify(r: &DiffReport) -> Vec<Cause> {
    let mut out = Vec::new();
    let fa = &r.facts_a;
    let fb = &r.facts_b;
    let fc = &r.functions.counts;
    let other_sections_differ = |skip: &[&str]| {
        r.sections
            .iter()
            .any(|s| s.id != 0 && s.status != Status::Identical && !skip.contains(&s.name.as_str()))
    };
    let custom_differ: Vec<&SectionRow> = r
        .sections
        .iter()
        .filter(|s| s.id == 0 && s.status != Status::Identical)
        .collect();

    // Instrumented on one side only.
    let (ma, mb) = (&fa.instrumentation.metering, &fb.instrumentation.metering);
    if ma.is_some() != mb.is_some() {
        let (yes, no, m) = if let Some(m) = ma {
            ("A", "B", m)
        } else {
            ("B", "A", mb.as_ref().expect("one side"))
        };
        let mut c = cause(
            CauseKind::InstrumentedOneSide,
            98,
            format!(
                "{yes} carries injected gas metering (import {}), {no} does not: one is a processed (stored) module, the other a raw build",
                m.import
            ),
        );
        c.evidence.push(format!(
            "{yes}: {} metered blocks via {}",
            m.sites, m.import
        ));
        let side = if ma.is_some() { fa } else { fb };
        if let Some(l) = &side.instrumentation.stack_limiter {
            c.evidence
                .push(format!("{yes}: stack limiter with limit {:?}", l.limits));
        }
        c.fix = Some(format!(
            "compare like with like: replay {no} through the same instrumentation, or compare {yes}'s raw upload"
        ));
        out.push(c);
    }

    // Only custom sections differ.
    if !other_sections_differ(&[]) && !custom_differ.is_empty() {
        let mut c = cause(
            CauseKind::CustomSectionsOnly,
            95,
            "only custom sections differ: a strip step (wasm-strip, wasm-opt) ran on one side only or differently",
        );
        for s in &custom_differ {
            let what = match s.status {
                Status::OnlyInA => "only in A",
                Status::OnlyInB => "only in B",
                _ => "differs",
            };
            c.evidence
                .push(format!("custom section {:?}: {what}", s.name));
        }
        c.fix = Some(
            "strip the same custom sections on both sides (e.g. `wasm-strip`) before comparing"
                .into(),
        );
        out.push(c);
    }

    // Constants only: metering / stack limit / stack costs.
    let code_only = !other_sections_differ(&["code"]);
    let mut roles: BTreeMap<ConstRole, usize> = BTreeMap::new();
    for e in &r.functions.entries {
        for (role, n) in &e.constant_roles {
            *roles.entry(*role).or_default() += n;
        }
    }
    let constants_only = fc.constants_only > 0
        && fc.instructions_differ == 0
        && fc.only_in_a == 0
        && fc.only_in_b == 0;
    let instrumentation_only = !roles.is_empty() && !roles.contains_key(&ConstRole::Other);
    if constants_only && code_only && instrumentation_only {
        if roles.contains_key(&ConstRole::Metering) || roles.contains_key(&ConstRole::GrowCost) {
            let n = roles.get(&ConstRole::Metering).copied().unwrap_or(0);
            let mut c = cause(
                CauseKind::MeteringConstants,
                92,
                "only the gas-metering constants differ: the modules were instrumented with different cost tables (chainspec / protocol version)",
            );
            c.evidence.push(format!(
                "{n} metering constants differ in {} functions",
                fc.constants_only
            ));
            if let Some(e) = r
                .functions
                .entries
                .iter()
                .find(|e| e.constant_roles.contains_key(&ConstRole::Metering))
                && let Some(k) = e.constants.iter().find(|k| k.role == ConstRole::Metering)
            {
                c.evidence
                    .push(format!("e.g. charged {} in A, {} in B", k.a, k.b));
            }
            if let (Some(ga), Some(gb)) = (
                &fa.instrumentation.grow_counter,
                &fb.instrumentation.grow_counter,
            ) && ga.multiplier != gb.multiplier
            {
                c.evidence.push(format!(
                    "memory-grow cost per page: A {}, B {}",
                    ga.multiplier, gb.multiplier
                ));
            }
            let (pa, pb) = (fits(fa), fits(fb));
            if !fa.profile_fits.is_empty() {
                c.evidence.push(format!("A fits: {}", list(&pa)));
                c.evidence.push(format!("B fits: {}", list(&pb)));
            }
            c.fix = Some(if pa.is_empty() {
                "replay with the cost table in force when A was installed".into()
            } else {
                format!(
                    "replay with the cost table A was instrumented with ({})",
                    pa.join(", ")
                )
            });
            out.push(c);
        }
        if roles.contains_key(&ConstRole::StackLimit) {
            let la = fa
                .instrumentation
                .stack_limiter
                .as_ref()
                .map(|l| l.limits.clone())
                .unwrap_or_default();
            let lb = fb
                .instrumentation
                .stack_limiter
                .as_ref()
                .map(|l| l.limits.clone())
                .unwrap_or_default();
            let mut c = cause(
                CauseKind::StackLimit,
                91,
                "only the stack limiter's limit differs: a different max_stack_height",
            );
            c.evidence.push(format!("stack limit: A {la:?}, B {lb:?}"));
            c.fix = Some("replay with the max_stack_height in force when A was installed".into());
            out.push(c);
        }
        if roles.contains_key(&ConstRole::StackCost) {
            let n = roles[&ConstRole::StackCost];
            let mut c = cause(
                CauseKind::StackCosts,
                88,
                "only the per-function stack costs charged by the stack limiter differ: a different limiter implementation (how locals and operand heights are counted)",
            );
            c.evidence.push(format!("{n} stack-cost constants differ"));
            c.fix = Some(
                "replay with the instrumentation library version in force when A was installed"
                    .into(),
            );
            out.push(c);
        }
    }

    // Toolchain.
    out.extend(rustc_differs(fa, fb));

    // Embedded build paths.
    let non_rustc = |s: &SideFacts| -> BTreeSet<String> {
        s.paths
            .paths
            .iter()
            .filter(|p| !p.starts_with("/rustc/"))
            .cloned()
            .collect()
    };
    let (xa, xb) = (non_rustc(fa), non_rustc(fb));
    // Only a file embedded under different directories on the two sides shows that the builds
    // ran elsewhere. Paths present on one side only (e.g. a panic location optimised away by
    // another opt-level) are a code difference, not a directory one.
    let moved_files = {
        let tails_a: BTreeSet<&str> = xa.difference(&xb).map(|p| file_tail(p)).collect();
        xb.difference(&xa)
            .filter(|p| tails_a.contains(file_tail(p)))
            .count()
    };
    if moved_files > 0 {
        let mut c = cause(
            CauseKind::BuildPaths,
            85,
            "embedded build paths differ (panic locations): the builds ran in different directories",
        );
        let (pa, pb) = (&fa.paths, &fb.paths);
        if pa.homes != pb.homes {
            c.evidence.push(format!(
                "home: A {}, B {}",
                list(&pa.homes),
                list(&pb.homes)
            ));
        }
        if pa.registry_index_dirs != pb.registry_index_dirs {
            c.evidence.push(format!(
                "registry index dir: A {}, B {}",
                list(&pa.registry_index_dirs),
                list(&pb.registry_index_dirs)
            ));
        }
        if pa.registry_roots != pb.registry_roots
            && let ([a], [b]) = (pa.registry_roots.as_slice(), pb.registry_roots.as_slice())
        {
            c.remaps.push(Remap {
                from: b.clone(),
                to: a.clone(),
            });
        }
        let (da, db) = (common_dir(&pa.checkouts), common_dir(&pb.checkouts));
        if da != db {
            c.evidence.push(format!(
                "checkout: A {}, B {}",
                da.clone().unwrap_or_else(|| "none".into()),
                db.clone().unwrap_or_else(|| "none".into())
            ));
            if let (Some(a), Some(b)) = (da, db) {
                c.remaps.push(Remap { from: b, to: a });
            }
        }
        if c.remaps.is_empty()
            && let ([a], [b]) = (pa.homes.as_slice(), pb.homes.as_slice())
            && a != b
        {
            c.remaps.push(Remap {
                from: b.clone(),
                to: a.clone(),
            });
        }
        let only_a: Vec<&String> = xa.difference(&xb).take(3).collect();
        let only_b: Vec<&String> = xb.difference(&xa).take(3).collect();
        for p in only_a {
            c.evidence.push(format!("only in A: {p}"));
        }
        for p in only_b {
            c.evidence.push(format!("only in B: {p}"));
        }
        if !c.remaps.is_empty() {
            let flags: Vec<String> = c
                .remaps
                .iter()
                .map(|m| format!("--remap {}={}", m.from, m.to))
                .collect();
            c.fix = Some(format!("rebuild B with {}", flags.join(" ")));
        } else {
            c.fix = Some("rebuild in the same directories as A (or remap the paths to A's)".into());
        }
        out.push(c);
    }

    // Reordering.
    let delta = i64::from(r.functions.imports_b) - i64::from(r.functions.imports_a);
    let reordered = r
        .functions
        .entries
        .iter()
        .filter(|e| e.class == FunctionClass::Moved)
        .filter(|e| match (&e.a, &e.b) {
            (Some(a), Some(b)) => i64::from(b.index) - i64::from(a.index) != delta,
            _ => false,
        })
        .count();
    let changed = fc.instructions_differ + fc.only_in_a + fc.only_in_b;
    let pure = fc.constants_only == 0 && changed == 0;
    // With more functions changed than moved, the new order follows from the changed code
    // (another compiler or opt-level inlines and splits differently); it is no cause of its own.
    if reordered > 0 && (pure || reordered >= changed) {
        let mut c = cause(
            CauseKind::Reordered,
            if pure { 80 } else { 40 },
            "the same function bodies are emitted in a different order: dependency drift (other crate versions or metadata hashes change symbol names and so the link order)",
        );
        c.evidence.push(format!(
            "{reordered} functions moved, {} identical in place",
            fc.identical
        ));
        c.fix = Some(
            "build with A's exact Cargo.lock (same dependency versions, same package set)".into(),
        );
        out.push(c);
    }

    // Exports.
    let added: Vec<String> = r
        .items
        .iter()
        .filter(|i| i.section == "export" && i.change == Change::Added)
        .filter_map(|i| i.name.clone())
        .collect();
    let removed: Vec<String> = r
        .items
        .iter()
        .filter(|i| i.section == "export" && i.change == Change::Removed)
        .filter_map(|i| i.name.clone())
        .collect();
    if !added.is_empty() || !removed.is_empty() {
        let mut c = cause(
            CauseKind::ExportsDiffer,
            75,
            "the export sets differ: different entry points or cargo features",
        );
        c.evidence
            .push(format!("exports only in A: {}", list(&removed)));
        c.evidence
            .push(format!("exports only in B: {}", list(&added)));
        c.fix = Some("build with the same cargo features and package set as A".into());
        out.push(c);
    }

    // Features.
    const TARGET: &[&str] = &[
        "sign-ext",
        "bulk-memory",
        "nontrapping-float-to-int",
        "multi-value",
        "reference-types",
        "mutable-globals",
        "simd",
        "overlong-call-indirect",
    ];
    let feats = |s: &SideFacts| -> BTreeSet<String> {
        s.features
            .iter()
            .filter(|f| TARGET.contains(&f.feature.as_str()))
            .map(|f| f.feature.clone())
            .collect()
    };
    let (ea, eb) = (feats(fa), feats(fb));
    if ea != eb {
        let only_a: Vec<String> = ea.difference(&eb).cloned().collect();
        let only_b: Vec<String> = eb.difference(&ea).cloned().collect();
        let mut c = cause(
            CauseKind::FeaturesDiffer,
            70,
            "Wasm features differ: a different compiler/LLVM default target features, -C target-feature, or a lowering pass (wasm-opt --signext-lowering) on one side",
        );
        c.evidence.push(format!("only A uses: {}", list(&only_a)));
        c.evidence.push(format!("only B uses: {}", list(&only_b)));
        c.fix = Some("use A's toolchain and target features (or the same post-processing)".into());
        out.push(c);
    }

    // Fallback.
    // Also listed (last) whenever code differs and nothing above accounts for all of it, so a
    // partial explanation never hides changed code.
    let code_changed = fc.instructions_differ + fc.only_in_a + fc.only_in_b > 0;
    let instrumented = out.iter().any(|c| c.kind == CauseKind::InstrumentedOneSide);
    if out.is_empty() || code_changed && !instrumented {
        let summary = if out.is_empty() {
            "the code differs for no reason recognisable in the bytes: source, dependency versions, features or optimisation settings"
        } else {
            "code also differs beyond the causes above: source, dependency versions, features, optimisation settings or post-processing (wasm-opt)"
        };
        let mut c = cause(CauseKind::CodeDiffers, 30, summary);
        c.evidence.push(format!(
            "{} functions with different instructions, {} only in A, {} only in B, {} constants only",
            fc.instructions_differ, fc.only_in_a, fc.only_in_b, fc.constants_only
        ));
        let strings = r.data.strings_only_in_a_total + r.data.strings_only_in_b_total;
        if strings > 0 {
            c.evidence.push(format!("{strings} data strings differ"));
        }
        out.push(c);
    }
    out.sort_by(|x, y| y.score.cmp(&x.score).then(x.kind.cmp(&y.kind)));
    out
}
