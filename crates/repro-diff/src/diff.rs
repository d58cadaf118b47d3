//! Builds a [`DiffReport`] from two parsed modules.

use std::collections::{BTreeMap, BTreeSet};

use crate::align::{self, Alignment};
use crate::instrument::{self, CostProfile};
use crate::module::{Module, Section};
use crate::report::*;
use crate::strings::{self, PathFacts};

pub(crate) fn module_info(bytes: &[u8]) -> ModuleInfo {
    use sha2::Digest;
    ModuleInfo {
        size: bytes.len(),
        sha256: hex::encode(sha2::Sha256::digest(bytes)),
    }
}

fn side(s: &Section) -> SectionSide {
    SectionSide {
        offset: s.range.start,
        size: s.range.len(),
        count: s.count,
        sha256: s.sha256.clone(),
    }
}

fn sections(ma: &Module<'_>, mb: &Module<'_>) -> Vec<SectionRow> {
    // Key: (id, name, occurrence) so repeated custom sections align in order.
    fn keyed<'m>(m: &'m Module<'_>) -> Vec<((u8, &'m str, usize), &'m Section)> {
        let mut seen: BTreeMap<(u8, &str), usize> = BTreeMap::new();
        m.sections
            .iter()
            .map(|s| {
                let n = seen.entry((s.id, s.name.as_str())).or_default();
                *n += 1;
                ((s.id, s.name.as_str(), *n), s)
            })
            .collect()
    }
    let ka = keyed(ma);
    let kb = keyed(mb);
    let bmap: BTreeMap<_, _> = kb.iter().cloned().collect();
    let mut used = BTreeSet::new();
    let mut rows = Vec::new();
    for (k, sa) in &ka {
        let sb = bmap.get(k);
        if sb.is_some() {
            used.insert(*k);
        }
        let status = match sb {
            None => Status::OnlyInA,
            Some(sb) if sb.sha256 == sa.sha256 => Status::Identical,
            Some(_) => Status::Differs,
        };
        rows.push(SectionRow {
            name: sa.name.clone(),
            id: sa.id,
            status,
            a: Some(side(sa)),
            b: sb.map(|s| side(s)),
        });
    }
    for (k, sb) in &kb {
        if !used.contains(k) {
            rows.push(SectionRow {
                name: sb.name.clone(),
                id: sb.id,
                status: Status::OnlyInB,
                a: None,
                b: Some(side(sb)),
            });
        }
    }
    rows
}

fn by_index(section: &str, a: &[String], b: &[String], out: &mut Vec<ItemChange>) {
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        let change = match (x, y) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(_), Some(_)) => Change::Changed,
            (Some(_), None) => Change::Removed,
            (None, Some(_)) => Change::Added,
            (None, None) => continue,
        };
        out.push(ItemChange {
            section: section.to_string(),
            change,
            index_a: x.map(|_| i as u32),
            index_b: y.map(|_| i as u32),
            name: None,
            a: x.cloned(),
            b: y.cloned(),
        });
    }
}

fn items(ma: &Module<'_>, mb: &Module<'_>, al: &Alignment) -> Vec<ItemChange> {
    let mut out = Vec::new();
    // Types as multisets: a reordered type section is not a change.
    let mut ta: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    let mut tb: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (i, t) in ma.types.iter().enumerate() {
        ta.entry(t).or_default().push(i as u32);
    }
    for (i, t) in mb.types.iter().enumerate() {
        tb.entry(t).or_default().push(i as u32);
    }
    let empty = Vec::new();
    for t in ta.keys().chain(tb.keys()).collect::<BTreeSet<_>>() {
        let (xa, xb) = (ta.get(t).unwrap_or(&empty), tb.get(t).unwrap_or(&empty));
        for &i in xa.iter().skip(xb.len()) {
            out.push(ItemChange {
                section: "type".into(),
                change: Change::Removed,
                index_a: Some(i),
                index_b: None,
                name: None,
                a: Some(t.to_string()),
                b: None,
            });
        }
        for &i in xb.iter().skip(xa.len()) {
            out.push(ItemChange {
                section: "type".into(),
                change: Change::Added,
                index_a: None,
                index_b: Some(i),
                name: None,
                a: None,
                b: Some(t.to_string()),
            });
        }
    }
    // Imports by (module, name).
    let key = |i: &crate::module::Import| format!("{}.{}", i.module, i.name);
    let ib: BTreeMap<String, (usize, &crate::module::Import)> = mb
        .imports
        .iter()
        .enumerate()
        .map(|(k, i)| (key(i), (k, i)))
        .collect();
    let ia: BTreeMap<String, (usize, &crate::module::Import)> = ma
        .imports
        .iter()
        .enumerate()
        .map(|(k, i)| (key(i), (k, i)))
        .collect();
    for (name, (k, i)) in &ia {
        match ib.get(name) {
            Some((_, j)) if i.desc == j.desc => {}
            Some((kb, j)) => out.push(ItemChange {
                section: "import".into(),
                change: Change::Changed,
                index_a: Some(*k as u32),
                index_b: Some(*kb as u32),
                name: Some(name.clone()),
                a: Some(i.desc.clone()),
                b: Some(j.desc.clone()),
            }),
            None => out.push(ItemChange {
                section: "import".into(),
                change: Change::Removed,
                index_a: Some(*k as u32),
                index_b: None,
                name: Some(name.clone()),
                a: Some(i.desc.clone()),
                b: None,
            }),
        }
    }
    for (name, (k, j)) in &ib {
        if !ia.contains_key(name) {
            out.push(ItemChange {
                section: "import".into(),
                change: Change::Added,
                index_a: None,
                index_b: Some(*k as u32),
                name: Some(name.clone()),
                a: None,
                b: Some(j.desc.clone()),
            });
        }
    }
    by_index("table", &ma.tables, &mb.tables, &mut out);
    by_index("memory", &ma.memories, &mb.memories, &mut out);
    by_index("global", &ma.globals, &mb.globals, &mut out);
    // Exports by name; function targets compared through the alignment.
    let eb: BTreeMap<&str, (usize, &crate::module::Export)> = mb
        .exports
        .iter()
        .enumerate()
        .map(|(k, e)| (e.name.as_str(), (k, e)))
        .collect();
    let ea: BTreeMap<&str, (usize, &crate::module::Export)> = ma
        .exports
        .iter()
        .enumerate()
        .map(|(k, e)| (e.name.as_str(), (k, e)))
        .collect();
    let show = |e: &crate::module::Export| format!("{} {}", e.kind, e.index);
    for (name, (k, e)) in &ea {
        let change = match eb.get(name) {
            Some((_, f)) => {
                let same = e.kind == f.kind
                    && if e.kind == "func" {
                        al.map(e.index) == Some(f.index)
                    } else {
                        e.index == f.index
                    };
                if same {
                    continue;
                }
                Change::Changed
            }
            None => Change::Removed,
        };
        let other = eb.get(name);
        out.push(ItemChange {
            section: "export".into(),
            change,
            index_a: Some(*k as u32),
            index_b: other.map(|(k, _)| *k as u32),
            name: Some(name.to_string()),
            a: Some(show(e)),
            b: other.map(|(_, f)| show(f)),
        });
    }
    for (name, (k, f)) in &eb {
        if !ea.contains_key(name) {
            out.push(ItemChange {
                section: "export".into(),
                change: Change::Added,
                index_a: None,
                index_b: Some(*k as u32),
                name: Some(name.to_string()),
                a: None,
                b: Some(show(f)),
            });
        }
    }
    if ma.start.map(|s| al.map(s)) != mb.start.map(Some) {
        out.push(ItemChange {
            section: "start".into(),
            change: match (ma.start, mb.start) {
                (Some(_), None) => Change::Removed,
                (None, Some(_)) => Change::Added,
                _ => Change::Changed,
            },
            index_a: None,
            index_b: None,
            name: None,
            a: ma.start.map(|s| format!("func {s}")),
            b: mb.start.map(|s| format!("func {s}")),
        });
    }
    // Elements: compare placement and members through the alignment.
    let ea: Vec<String> = ma
        .elements
        .iter()
        .map(|e| {
            let members: Vec<String> = e
                .funcs
                .iter()
                .map(|f| {
                    al.map(*f)
                        .map_or_else(|| format!("A:{f}"), |b| b.to_string())
                })
                .collect();
            format!("{} [{}]", e.desc, members.join(" "))
        })
        .collect();
    let eb: Vec<String> = mb
        .elements
        .iter()
        .map(|e| {
            let members: Vec<String> = e.funcs.iter().map(|f| f.to_string()).collect();
            format!("{} [{}]", e.desc, members.join(" "))
        })
        .collect();
    let mut el = Vec::new();
    by_index("element", &ea, &eb, &mut el);
    // Show the elements in B's numbering on both sides but keep the report short.
    for mut c in el {
        for s in [&mut c.a, &mut c.b].into_iter().flatten() {
            if s.len() > 200 {
                s.truncate(200);
                s.push('…');
            }
        }
        out.push(c);
    }
    out
}

fn func_ref(m: &Module<'_>, pos: usize) -> FunctionRef {
    let f = &m.funcs[pos];
    FunctionRef {
        index: f.index,
        name: m.names.get(&f.index).cloned(),
        exports: m
            .exports
            .iter()
            .filter(|e| e.kind == "func" && e.index == f.index)
            .map(|e| e.name.clone())
            .collect(),
        size: f.body.len(),
        offset: f.offset,
    }
}

pub(crate) const MAX_CONSTANTS: usize = 32;

fn functions(
    ma: &Module<'_>,
    mb: &Module<'_>,
    al: &Alignment,
    fa: &instrument::InstrumentationFacts,
    fb: &instrument::InstrumentationFacts,
) -> FunctionsDiff {
    let mut out = FunctionsDiff {
        imports_a: ma.num_func_imports,
        imports_b: mb.num_func_imports,
        count_a: ma.funcs.len(),
        count_b: mb.funcs.len(),
        ..Default::default()
    };
    for (i, j) in al.a2b.iter().enumerate() {
        let entry = match j {
            Some(j) => {
                let d = align::compare(al, &ma.funcs[i], &mb.funcs[*j], i, *j, fa, fb);
                let total = d.constants.len();
                let mut constant_roles = BTreeMap::new();
                for c in &d.constants {
                    *constant_roles.entry(c.role).or_insert(0) += 1;
                }
                let mut constants = d.constants;
                constants.truncate(MAX_CONSTANTS);
                FunctionEntry {
                    class: d.class,
                    matched_by: al.reason[i].map(str::to_string),
                    a: Some(func_ref(ma, i)),
                    b: Some(func_ref(mb, *j)),
                    constants,
                    constants_total: total,
                    constant_roles,
                    changed_instructions: d.changed_instructions,
                    wat_diff: None,
                }
            }
            None => FunctionEntry {
                class: FunctionClass::OnlyInA,
                matched_by: None,
                a: Some(func_ref(ma, i)),
                b: None,
                constants: Vec::new(),
                constants_total: 0,
                constant_roles: BTreeMap::new(),
                changed_instructions: None,
                wat_diff: None,
            },
        };
        out.entries.push(entry);
    }
    for (j, i) in al.b2a.iter().enumerate() {
        if i.is_none() {
            out.entries.push(FunctionEntry {
                class: FunctionClass::OnlyInB,
                matched_by: None,
                a: None,
                b: Some(func_ref(mb, j)),
                constants: Vec::new(),
                constants_total: 0,
                constant_roles: BTreeMap::new(),
                changed_instructions: None,
                wat_diff: None,
            });
        }
    }
    let c = &mut out.counts;
    for e in &out.entries {
        match e.class {
            FunctionClass::Identical => c.identical += 1,
            FunctionClass::Moved => c.moved += 1,
            FunctionClass::ConstantsOnly => c.constants_only += 1,
            FunctionClass::InstructionsDiffer => c.instructions_differ += 1,
            FunctionClass::OnlyInA => c.only_in_a += 1,
            FunctionClass::OnlyInB => c.only_in_b += 1,
        }
    }
    out.entries.retain(|e| e.class != FunctionClass::Identical);
    // Most significant first: instruction changes, unpaired, constants, moves; then by index.
    let rank = |c: FunctionClass| match c {
        FunctionClass::InstructionsDiffer => 0,
        FunctionClass::OnlyInA => 1,
        FunctionClass::OnlyInB => 2,
        FunctionClass::ConstantsOnly => 3,
        FunctionClass::Moved => 4,
        FunctionClass::Identical => 5,
    };
    out.entries.sort_by_key(|e| {
        (
            rank(e.class),
            e.a.as_ref().map_or(u32::MAX, |f| f.index),
            e.b.as_ref().map_or(u32::MAX, |f| f.index),
        )
    });
    out
}

pub(crate) const MAX_STRINGS: usize = 64;

fn data(ma: &Module<'_>, mb: &Module<'_>) -> DataDiff {
    use sha2::Digest;
    let seg = |s: &crate::module::DataSegment<'_>| SegmentSide {
        placement: s.desc.clone(),
        size: s.bytes.len(),
        sha256: hex::encode(sha2::Sha256::digest(s.bytes)),
    };
    let mut out = DataDiff::default();
    for i in 0..ma.data.len().max(mb.data.len()) {
        let (a, b) = (ma.data.get(i).map(seg), mb.data.get(i).map(seg));
        let status = match (&a, &b) {
            (Some(x), Some(y)) if x == y => Status::Identical,
            (Some(_), Some(_)) => Status::Differs,
            (Some(_), None) => Status::OnlyInA,
            _ => Status::OnlyInB,
        };
        out.segments.push(SegmentRow {
            index: i as u32,
            status,
            a,
            b,
        });
    }
    let set = |m: &Module<'_>| -> BTreeSet<String> {
        m.data
            .iter()
            .flat_map(|d| strings::printable_strings(d.bytes, 4))
            .map(str::to_string)
            .collect()
    };
    if out.segments.iter().any(|s| s.status != Status::Identical) {
        let (sa, sb) = (set(ma), set(mb));
        let only_a: Vec<String> = sa.difference(&sb).cloned().collect();
        let only_b: Vec<String> = sb.difference(&sa).cloned().collect();
        out.strings_only_in_a_total = only_a.len();
        out.strings_only_in_b_total = only_b.len();
        out.strings_only_in_a = only_a
            .into_iter()
            .take(MAX_STRINGS)
            .map(|s| clip(&s))
            .collect();
        out.strings_only_in_b = only_b
            .into_iter()
            .take(MAX_STRINGS)
            .map(|s| clip(&s))
            .collect();
    }
    out
}

fn clip(s: &str) -> String {
    if s.len() > 240 {
        format!("{}…", &s[..240])
    } else {
        s.to_string()
    }
}

/// Printable strings of the data segments (and of a `.rodata` custom section).
fn data_strings<'m>(m: &'m Module<'_>) -> Vec<&'m str> {
    m.data
        .iter()
        .flat_map(|d| strings::printable_strings(d.bytes, 4))
        .chain(
            m.customs
                .iter()
                .filter(|c| c.name == ".rodata")
                .flat_map(|c| strings::printable_strings(c.data, 4)),
        )
        .collect()
}

/// What the module says about its compiler.
pub(crate) fn toolchain_evidence(m: &Module<'_>, paths: &PathFacts) -> ToolchainEvidence {
    ToolchainEvidence {
        producers: m
            .producers
            .iter()
            .map(|(f, n, v)| format!("{f}: {n} {v}").trim_end().to_string())
            .collect(),
        rustc_commits: paths.rustc_commits.clone(),
        target_features: m.target_features.clone(),
    }
}

/// The paths embedded in the module's data.
pub(crate) fn path_facts(m: &Module<'_>) -> PathFacts {
    strings::path_facts(data_strings(m))
}

/// Facts about one module, used by both diff and inspect.
pub(crate) fn side_facts(m: &Module<'_>, profiles: &[&dyn CostProfile]) -> SideFacts {
    let paths = path_facts(m);
    let toolchain = toolchain_evidence(m, &paths);
    let features = m
        .features
        .names()
        .into_iter()
        .map(|(f, n)| FeatureUse {
            feature: f.to_string(),
            count: n,
        })
        .collect();
    let instrumentation = instrument::facts(m);
    let mut profile_fits: Vec<_> =
        if instrumentation.metering.is_some() || instrumentation.stack_limiter.is_some() {
            instrument::fit_all(m, &instrumentation, profiles)
        } else {
            Vec::new()
        };
    // Stable sort: fitting first, then by share of matching blocks; caller's order otherwise.
    profile_fits.sort_by_key(|f: &instrument::ProfileFit| {
        let share = (f.blocks_matching * 1000)
            .checked_div(f.blocks_checked)
            .unwrap_or(0);
        (!f.fits, std::cmp::Reverse(share))
    });
    SideFacts {
        toolchain,
        paths,
        features,
        instrumentation,
        profile_fits,
    }
}

pub(crate) fn build(
    a: &[u8],
    b: &[u8],
    ma: &Module<'_>,
    mb: &Module<'_>,
    profiles: &[&dyn CostProfile],
) -> DiffReport {
    let identical = a == b;
    let facts_a = side_facts(ma, profiles);
    let facts_b = side_facts(mb, profiles);
    let sections = sections(ma, mb);
    let al = align::align(ma, mb);
    let items = items(ma, mb, &al);
    let functions = functions(
        ma,
        mb,
        &al,
        &facts_a.instrumentation,
        &facts_b.instrumentation,
    );
    let data = data(ma, mb);
    let mut report = DiffReport {
        identical,
        a: module_info(a),
        b: module_info(b),
        sections,
        items,
        functions,
        data,
        facts_a,
        facts_b,
        causes: Vec::new(),
    };
    if !identical {
        report.causes = crate::causes::classify(&report);
    }
    report
}
