//! Renderings for people: WAT of one function (wasmprinter), unified diffs (similar), and the text
//! form of a [`DiffReport`] and a [`Fingerprint`]. Pure functions returning `String`s.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::report::*;

fn leb(mut v: usize, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A copy of `bytes` reduced for printing: bodies of functions not in `keep` (defined positions)
/// become `end`, data, datacount and custom sections other than `name` are dropped. Printing that
/// costs a fraction of printing the whole module, and function positions do not move.
fn reduced(bytes: &[u8], keep: &BTreeSet<usize>) -> Option<Vec<u8>> {
    use wasmparser::{Parser, Payload};
    let mut out = bytes.get(..8)?.to_vec();
    let mut code: Vec<u8> = Vec::new();
    let mut n = 0usize;
    let mut pending = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.ok()?;
        match &payload {
            Payload::CodeSectionStart { .. } => {
                pending = true;
                continue;
            }
            Payload::CodeSectionEntry(body) => {
                let b: &[u8] = if keep.contains(&n) {
                    body.as_bytes()
                } else {
                    &[0x00, 0x0B]
                };
                leb(b.len(), &mut code);
                code.extend_from_slice(b);
                n += 1;
                continue;
            }
            Payload::DataSection(_) | Payload::DataCountSection { .. } => continue,
            Payload::CustomSection(c) if c.name() != "name" => continue,
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            // The code section goes back where it was, before what followed it.
            if pending {
                flush_code(&mut out, &mut code, n);
                pending = false;
            }
            out.push(id);
            leb(range.len(), &mut out);
            out.extend_from_slice(&bytes[range]);
        }
    }
    if pending {
        flush_code(&mut out, &mut code, n);
    }
    Some(out)
}

fn flush_code(out: &mut Vec<u8>, code: &mut Vec<u8>, count: usize) {
    let mut body = Vec::with_capacity(code.len() + 5);
    leb(count, &mut body);
    body.append(code);
    out.push(10);
    leb(body.len(), out);
    out.extend_from_slice(&body);
}

/// The WAT text of the defined functions at positions `keep` (others are empty stubs), from one
/// print of a reduced copy of the module.
pub(crate) fn function_wats(bytes: &[u8], keep: &BTreeSet<usize>) -> Option<Vec<String>> {
    let small = reduced(bytes, keep)?;
    let text = match wasmprinter::print_bytes(&small) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("wasmprinter could not print the module: {e}");
            return None;
        }
    };
    let mut out: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let top_level = line.starts_with("  (") && !line.starts_with("   ");
        if top_level {
            if let Some(f) = current.take() {
                out.push(f);
            }
            if line.starts_with("  (func ") {
                current = Some(String::new());
            }
        }
        if let Some(f) = current.as_mut() {
            if line == ")" {
                continue;
            }
            f.push_str(line.strip_prefix("  ").unwrap_or(line));
            f.push('\n');
        }
    }
    if let Some(f) = current.take() {
        out.push(f);
    }
    Some(out)
}

/// Unified diff of two texts with `context` lines of context.
pub(crate) fn unified(a: &str, b: &str, label_a: &str, label_b: &str, context: usize) -> String {
    similar::TextDiff::from_lines(a, b)
        .unified_diff()
        .context_radius(context)
        .header(label_a, label_b)
        .to_string()
}

fn label(f: &FunctionRef) -> String {
    match (&f.name, f.exports.first()) {
        (Some(n), _) => format!("func[{}] {n}", f.index),
        (None, Some(e)) => format!("func[{}] export {e:?}", f.index),
        _ => format!("func[{}]", f.index),
    }
}

fn hx(v: usize) -> String {
    format!("{v:#x}")
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

/// Text rendering of a diff report.
pub fn diff_text(r: &DiffReport) -> String {
    let mut s = String::new();
    let w = &mut s;
    if r.identical {
        let _ = writeln!(w, "identical: {} bytes, sha256 {}", r.a.size, r.a.sha256);
        return s;
    }
    let _ = writeln!(w, "A: {} bytes, sha256 {}", r.a.size, r.a.sha256);
    let _ = writeln!(w, "B: {} bytes, sha256 {}", r.b.size, r.b.sha256);
    let _ = writeln!(w, "\nprobable causes:");
    for (k, c) in r.causes.iter().enumerate() {
        let _ = writeln!(w, "  {}. [{}] {}", k + 1, c.score, c.summary);
        for e in &c.evidence {
            let _ = writeln!(w, "       - {e}");
        }
        if let Some(f) = &c.fix {
            let _ = writeln!(w, "       fix: {f}");
        }
    }
    let _ = writeln!(w, "\nsections:");
    let same: Vec<&str> = r
        .sections
        .iter()
        .filter(|x| x.status == Status::Identical)
        .map(|x| x.name.as_str())
        .collect();
    if !same.is_empty() {
        let _ = writeln!(w, "  identical: {}", same.join(", "));
    }
    for x in r.sections.iter().filter(|x| x.status != Status::Identical) {
        let side = |o: &Option<SectionSide>| match o {
            Some(s) => format!(
                "{} bytes at {}{} sha256 {}",
                s.size,
                hx(s.offset),
                s.count.map(|c| format!(", {c} items,")).unwrap_or_default(),
                short(&s.sha256)
            ),
            None => "absent".into(),
        };
        let kind = if x.id == 0 { "custom " } else { "" };
        let _ = writeln!(
            w,
            "  {kind}{:?} {}: A {} | B {}",
            x.name,
            status(x.status),
            side(&x.a),
            side(&x.b)
        );
    }
    if !r.items.is_empty() {
        let _ = writeln!(w, "\nitems:");
        for i in &r.items {
            let idx = match (i.index_a, i.index_b) {
                (Some(a), Some(b)) if a == b => format!("[{a}]"),
                (Some(a), Some(b)) => format!("[A {a}, B {b}]"),
                (Some(a), None) => format!("[{a}]"),
                (None, Some(b)) => format!("[{b}]"),
                _ => String::new(),
            };
            let name = i
                .name
                .as_ref()
                .map(|n| format!(" {n:?}"))
                .unwrap_or_default();
            let what = match i.change {
                Change::Added => format!("added: {}", i.b.clone().unwrap_or_default()),
                Change::Removed => format!("removed: {}", i.a.clone().unwrap_or_default()),
                Change::Changed => {
                    format!(
                        "changed: {} -> {}",
                        i.a.clone().unwrap_or_default(),
                        i.b.clone().unwrap_or_default()
                    )
                }
            };
            let _ = writeln!(w, "  {} {idx}{name} {what}", i.section);
        }
    }
    let f = &r.functions;
    let c = &f.counts;
    let _ = writeln!(
        w,
        "\nfunctions: A {} defined, B {} defined: {} identical, {} moved, {} constants only, {} instructions differ, {} only in A, {} only in B",
        f.count_a,
        f.count_b,
        c.identical,
        c.moved,
        c.constants_only,
        c.instructions_differ,
        c.only_in_a,
        c.only_in_b
    );
    let mut moved_shown = 0;
    for e in &f.entries {
        if e.class == FunctionClass::Moved {
            moved_shown += 1;
            if moved_shown > 10 {
                continue;
            }
        }
        let a = e.a.as_ref().map(label).unwrap_or_else(|| "-".into());
        let b = e.b.as_ref().map(label).unwrap_or_else(|| "-".into());
        let by = e
            .matched_by
            .as_ref()
            .map(|m| format!(" (aligned by {m})"))
            .unwrap_or_default();
        let mut extra = String::new();
        if let Some(n) = e.changed_instructions {
            extra = format!(", {n} instructions changed");
        }
        if e.constants_total > 0 {
            let roles: Vec<String> = e
                .constant_roles
                .iter()
                .map(|(r, n)| format!("{n} {}", role(*r)))
                .collect();
            extra = format!(", {} constants ({})", e.constants_total, roles.join(", "));
        }
        let _ = writeln!(w, "  {}: A {a} | B {b}{by}{extra}", class(e.class));
        if let Some(d) = &e.wat_diff {
            for line in d.lines() {
                let _ = writeln!(w, "    {line}");
            }
        }
    }
    if moved_shown > 10 {
        let _ = writeln!(w, "  … and {} more moved", moved_shown - 10);
    }
    if r.data
        .segments
        .iter()
        .any(|s| s.status != Status::Identical)
    {
        let _ = writeln!(w, "\ndata:");
        for sg in &r.data.segments {
            let side = |o: &Option<SegmentSide>| match o {
                Some(s) => format!(
                    "{} bytes {} sha256 {}",
                    s.size,
                    s.placement,
                    short(&s.sha256)
                ),
                None => "absent".into(),
            };
            let _ = writeln!(
                w,
                "  segment {} {}: A {} | B {}",
                sg.index,
                status(sg.status),
                side(&sg.a),
                side(&sg.b)
            );
        }
        for (which, v, total) in [
            (
                "A",
                &r.data.strings_only_in_a,
                r.data.strings_only_in_a_total,
            ),
            (
                "B",
                &r.data.strings_only_in_b,
                r.data.strings_only_in_b_total,
            ),
        ] {
            if total > 0 {
                let _ = writeln!(w, "  strings only in {which} ({total}):");
                for x in v.iter().take(16) {
                    let _ = writeln!(w, "    {x:?}");
                }
                if total > 16 {
                    let _ = writeln!(w, "    … {} more", total - 16);
                }
            }
        }
    }
    s
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Identical => "identical",
        Status::Differs => "differs",
        Status::OnlyInA => "only in A",
        Status::OnlyInB => "only in B",
    }
}

fn class(c: FunctionClass) -> &'static str {
    match c {
        FunctionClass::Identical => "identical",
        FunctionClass::Moved => "moved",
        FunctionClass::ConstantsOnly => "constants only",
        FunctionClass::InstructionsDiffer => "instructions differ",
        FunctionClass::OnlyInA => "only in A",
        FunctionClass::OnlyInB => "only in B",
    }
}

fn role(r: crate::instrument::ConstRole) -> &'static str {
    use crate::instrument::ConstRole::*;
    match r {
        Metering => "metering",
        StackLimit => "stack limit",
        StackCost => "stack cost",
        GrowCost => "grow cost",
        Other => "other",
    }
}

fn facts_text(w: &mut String, f: &SideFacts) {
    let _ = writeln!(w, "toolchain:");
    for p in &f.toolchain.producers {
        let _ = writeln!(w, "  producers {p}");
    }
    for c in &f.toolchain.rustc_commits {
        let _ = writeln!(w, "  rustc commit {c}");
    }
    if !f.toolchain.target_features.is_empty() {
        let _ = writeln!(
            w,
            "  target_features {}",
            f.toolchain.target_features.join(" ")
        );
    }
    if f.toolchain.producers.is_empty()
        && f.toolchain.rustc_commits.is_empty()
        && f.toolchain.target_features.is_empty()
    {
        let _ = writeln!(w, "  no evidence");
    }
    let _ = writeln!(w, "paths:");
    let p = &f.paths;
    for (k, v) in [
        ("home", &p.homes),
        ("registry index dir", &p.registry_index_dirs),
        ("checkout", &p.checkouts),
    ] {
        for x in v {
            let _ = writeln!(w, "  {k} {x}");
        }
    }
    let _ = writeln!(w, "  {} absolute source paths", p.paths.len());
    let feats: Vec<String> = f
        .features
        .iter()
        .map(|x| format!("{} ({})", x.feature, x.count))
        .collect();
    let _ = writeln!(
        w,
        "features: {}",
        if feats.is_empty() {
            "mvp only".into()
        } else {
            feats.join(", ")
        }
    );
    let i = &f.instrumentation;
    match &i.metering {
        Some(m) => {
            let top: Vec<String> = m
                .top_costs
                .iter()
                .map(|(c, n)| format!("{c}×{n}"))
                .collect();
            let _ = writeln!(
                w,
                "metered: yes, {} blocks via {} (func {}), {} distinct costs; most frequent {}",
                m.sites,
                m.import,
                m.function_index,
                m.distinct_costs,
                top.join(" ")
            );
        }
        None => {
            let _ = writeln!(w, "metered: no");
        }
    }
    if let Some(l) = &i.stack_limiter {
        let _ = writeln!(
            w,
            "stack limiter: global {}, limit {:?}, {} call sites",
            l.global, l.limits, l.sites
        );
    }
    if let Some(g) = &i.grow_counter {
        let _ = writeln!(
            w,
            "grow counter: func {}, {} per page",
            g.function_index, g.multiplier
        );
    }
    if !f.profile_fits.is_empty() {
        let _ = writeln!(w, "profiles:");
        for p in &f.profile_fits {
            let _ = writeln!(
                w,
                "  {} {}: {}/{} straight-line blocks match, {} contradictions{}{}",
                if p.fits { "fits   " } else { "no fit " },
                p.profile,
                p.blocks_matching,
                p.blocks_checked,
                p.contradictions,
                p.stack_limit_matches
                    .map(|m| format!(", stack limit {}", if m { "matches" } else { "differs" }))
                    .unwrap_or_default(),
                p.grow_cost_matches
                    .map(|m| format!(", grow cost {}", if m { "matches" } else { "differs" }))
                    .unwrap_or_default(),
            );
        }
    }
}

/// Text rendering of a fingerprint.
pub fn fingerprint_text(fp: &Fingerprint) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "module: {} bytes, sha256 {}",
        fp.module.size, fp.module.sha256
    );
    let _ = writeln!(
        w,
        "functions: {} imported, {} defined, {} named",
        fp.imported_functions, fp.defined_functions, fp.function_names
    );
    let _ = writeln!(w, "sections:");
    for x in &fp.sections {
        let kind = if x.id == 0 { "custom " } else { "" };
        let _ = writeln!(
            w,
            "  {kind}{:<12} {:>8} bytes at {:<8}{} sha256 {}",
            format!("{:?}", x.name),
            x.side.size,
            hx(x.side.offset),
            x.side
                .count
                .map(|c| format!(" {c:>5} items"))
                .unwrap_or_else(|| " ".repeat(12)),
            short(&x.side.sha256)
        );
    }
    let _ = writeln!(w, "imports:");
    for i in &fp.imports {
        let _ = writeln!(w, "  {i}");
    }
    let _ = writeln!(w, "exports:");
    for e in &fp.exports {
        let _ = writeln!(w, "  {e}");
    }
    facts_text(w, &fp.facts);
    s
}
