//! `repro-diff`: a structural diff of two WebAssembly modules that says *where* they differ and
//! *why*, and a fingerprint of one module.
//!
//! Architecture invariant: this crate knows nothing about Casper or cargo. It takes byte slices
//! and returns plain data ([`DiffReport`], [`Fingerprint`]); chain-specific knowledge (which cost
//! table a metered module fits) comes in from the caller as [`CostProfile`]s. It never prints and
//! never reads argv; it logs through `tracing`.
//!
//! The diff works structure first (conventions §15): sections are aligned (custom sections by
//! name) and compared by digest; items of differing sections are compared by index or name;
//! functions are aligned by body digest, exports, element slots, name-section names, bodies
//! modulo renumbering and constants, and call-graph position, then classified (identical, moved,
//! constants only, instructions differ, only in A/B); data segments are compared and their
//! printable strings diffed. A classifier then names ranked probable causes with evidence.
//!
//! ```
//! let a = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 1))"#).unwrap();
//! let b = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 2))"#).unwrap();
//! let report = repro_diff::diff(&a, &b, &repro_diff::DiffOptions::default()).unwrap();
//! assert_eq!(report.functions.counts.constants_only, 1);
//! ```

// A library never prints: results are returned, logs go through `tracing`.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

mod align;
mod causes;
mod diff;
mod error;
mod instrument;
mod module;
mod normalise;
mod render;
mod report;
mod strings;

pub use error::{Error, Input, Result};
pub use instrument::{
    ConstRole, CostProfile, GrowCounterFacts, InstrumentationFacts, MeteringFacts, ProfileFit,
    StackLimiterFacts,
};
pub use normalise::strip_custom_sections;
pub use render::{diff_text, fingerprint_text};
pub use report::*;
pub use strings::PathFacts;
pub use wasmparser;

/// Which differing functions get a WAT rendering with a unified diff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum WatSelection {
    /// None (fastest; structural report only).
    None,
    /// The first `n` entries whose code differs (instructions first, then unpaired, then
    /// constants only; moved functions are not rendered).
    First(usize),
    /// Only the function selected by absolute index or by name (name section or export) on
    /// either side; the report's function entries are narrowed to it.
    Function(String),
    /// The default: the first 3.
    #[default]
    Default,
}

/// Options of [`diff`].
pub struct DiffOptions<'p> {
    /// Which functions to render as WAT.
    pub wat: WatSelection,
    /// Lines of context in unified diffs.
    pub context: usize,
    /// Caller-supplied cost profiles to check metered modules against.
    pub profiles: Vec<&'p dyn CostProfile>,
}

impl Default for DiffOptions<'_> {
    fn default() -> Self {
        DiffOptions {
            wat: WatSelection::Default,
            context: 3,
            profiles: Vec::new(),
        }
    }
}

impl std::fmt::Debug for DiffOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiffOptions")
            .field("wat", &self.wat)
            .field("context", &self.context)
            .field(
                "profiles",
                &self.profiles.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Compares two modules. A difference is a report, never an error; only malformed input (with
/// its offset) or a `--function` selector that matches nothing is an error.
pub fn diff(a: &[u8], b: &[u8], options: &DiffOptions<'_>) -> Result<DiffReport> {
    let _span = tracing::debug_span!("diff", a = a.len(), b = b.len()).entered();
    let ma = module::parse(Input::A, a)?;
    let mb = module::parse(Input::B, b)?;
    let mut report = diff::build(a, b, &ma, &mb, &options.profiles);
    tracing::debug!(causes = report.causes.len(), "structural diff done");
    let wanted: Vec<usize> = match &options.wat {
        WatSelection::None => Vec::new(),
        WatSelection::First(n) => content_changes(&report, *n),
        WatSelection::Default => content_changes(&report, 3),
        WatSelection::Function(sel) => {
            let matches = |f: &FunctionRef| {
                sel.parse::<u32>().is_ok_and(|n| n == f.index)
                    || f.name.as_deref() == Some(sel.as_str())
                    || f.exports.iter().any(|e| e == sel)
            };
            let exists = |m: &module::Module<'_>| {
                m.funcs.iter().any(|f| {
                    sel.parse::<u32>().is_ok_and(|n| n == f.index)
                        || m.names.get(&f.index).is_some_and(|n| n == sel)
                        || m.exports
                            .iter()
                            .any(|e| e.kind == "func" && e.index == f.index && &e.name == sel)
                })
            };
            report
                .functions
                .entries
                .retain(|e| e.a.as_ref().is_some_and(matches) || e.b.as_ref().is_some_and(matches));
            if report.functions.entries.is_empty() && !exists(&ma) && !exists(&mb) {
                return Err(Error::NoSuchFunction {
                    selector: sel.clone(),
                });
            }
            (0..report.functions.entries.len()).collect()
        }
    };
    if !wanted.is_empty() {
        let keep = |imports: u32,
                    side: fn(&FunctionEntry) -> &Option<FunctionRef>|
         -> std::collections::BTreeSet<usize> {
            wanted
                .iter()
                .filter_map(|&k| {
                    side(&report.functions.entries[k])
                        .as_ref()
                        .map(|f| (f.index - imports) as usize)
                })
                .collect()
        };
        let keep_a = keep(ma.num_func_imports, |e| &e.a);
        let keep_b = keep(mb.num_func_imports, |e| &e.b);
        let (wa, wb) = (
            render::function_wats(a, &keep_a),
            render::function_wats(b, &keep_b),
        );
        for k in wanted {
            let e = &mut report.functions.entries[k];
            let text = |w: &Option<Vec<String>>,
                        f: &Option<FunctionRef>,
                        imports: u32|
             -> Option<String> {
                match f {
                    Some(f) => w.as_ref()?.get((f.index - imports) as usize).cloned(),
                    None => Some(String::new()),
                }
            };
            let ta = text(&wa, &e.a, ma.num_func_imports);
            let tb = text(&wb, &e.b, mb.num_func_imports);
            if let (Some(ta), Some(tb)) = (ta, tb) {
                let la = e.a.as_ref().map_or_else(
                    || "A (absent)".into(),
                    |f| {
                        format!(
                            "A {}",
                            f.name
                                .clone()
                                .unwrap_or_else(|| format!("func[{}]", f.index))
                        )
                    },
                );
                let lb = e.b.as_ref().map_or_else(
                    || "B (absent)".into(),
                    |f| {
                        format!(
                            "B {}",
                            f.name
                                .clone()
                                .unwrap_or_else(|| format!("func[{}]", f.index))
                        )
                    },
                );
                e.wat_diff = Some(render::unified(&ta, &tb, &la, &lb, options.context));
            }
        }
    }
    Ok(report)
}

/// Indices of the first `n` entries whose code differs (moves are not worth a WAT diff).
fn content_changes(report: &DiffReport, n: usize) -> Vec<usize> {
    let entries = &report.functions.entries;
    (0..entries.len())
        .filter(|&k| entries[k].class != FunctionClass::Moved)
        .take(n)
        .collect()
}

/// What one module says about the compiler that built it: its `producers` entries and the commits
/// of `/rustc/<commit>/` paths in its data (a light [`inspect`]).
pub fn toolchain_evidence(bytes: &[u8]) -> Result<ToolchainEvidence> {
    let m = module::parse(Input::Module, bytes)?;
    Ok(diff::toolchain_evidence(&m, &diff::path_facts(&m)))
}

/// A fingerprint of one module: sections, imports/exports, toolchain evidence, embedded paths,
/// features, instrumentation and (with `profiles`) which cost profile it fits.
pub fn inspect(bytes: &[u8], profiles: &[&dyn CostProfile]) -> Result<Fingerprint> {
    let m = module::parse(Input::Module, bytes)?;
    let facts = diff::side_facts(&m, profiles);
    Ok(Fingerprint {
        module: diff::module_info(bytes),
        sections: m
            .sections
            .iter()
            .map(|s| SectionEntry {
                name: s.name.clone(),
                id: s.id,
                side: SectionSide {
                    offset: s.range.start,
                    size: s.range.len(),
                    count: s.count,
                    sha256: s.sha256.clone(),
                },
            })
            .collect(),
        imports: m
            .imports
            .iter()
            .map(|i| format!("{}.{} {}", i.module, i.name, i.desc))
            .collect(),
        exports: m
            .exports
            .iter()
            .map(|e| format!("{} {} {}", e.name, e.kind, e.index))
            .collect(),
        imported_functions: m.num_func_imports,
        defined_functions: m.funcs.len(),
        function_names: m.names.len(),
        metered: facts.instrumentation.metering.is_some(),
        facts,
    })
}
