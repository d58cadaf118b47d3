//! Generic facts about injected metering and stack-limiting code, and the pluggable check of
//! caller-supplied cost profiles against them.
//!
//! Nothing here knows a particular chain: a *metering import* is any imported function of type
//! `(i32) -> ()` called right after an `i32.const`; the *stack limiter* is the pattern
//! `global.get G; i32.const C; i32.add; global.set G; global.get G; i32.const LIMIT; i32.gt_u;
//! if; unreachable; end` before a call; a *grow counter* is a defined `(i32) -> (i32)` function
//! `local.get 0; local.get 0; i32.const K; i32.mul; call METER; memory.grow 0`.

use std::collections::BTreeMap;

use serde::Serialize;
use wasmparser::{BinaryReader, FunctionBody, Operator, ValType};

use crate::module::{Func, Module, Tok};

/// A cost model a module may have been metered with, supplied by the caller.
///
/// The crate recomputes the cost of every *straight-line* metered block (from an injected
/// `i32.const N; call METER` up to and including the next `br`, `br_if`, `br_table` or `return`,
/// with no nested control instruction in between) with [`CostProfile::instruction_cost`] and
/// compares it with `N`; other blocks only give a lower bound.
pub trait CostProfile {
    /// Name shown in reports (e.g. a protocol version).
    fn name(&self) -> &str;
    /// Cost charged for one instruction; `None` if the profile forbids it.
    fn instruction_cost(&self, op: &Operator<'_>) -> Option<u64>;
    /// The stack-height limit the limiter compares with, if the profile has one.
    fn stack_limit(&self) -> Option<u32>;
    /// The per-page multiplier of the memory-grow counter, if the profile has one.
    fn grow_cost(&self) -> Option<u32>;
}

/// The metering import and the constants charged at its call sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MeteringFacts {
    /// `module.name` of the import.
    pub import: String,
    /// Its function index.
    pub function_index: u32,
    /// Number of `i32.const N; call` sites.
    pub sites: usize,
    /// Number of distinct charged constants.
    pub distinct_costs: usize,
    /// The most frequent charged constants, `(cost, count)`, most frequent first (at most 8).
    pub top_costs: Vec<(u32, usize)>,
}

/// The stack limiter's global and limit constants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StackLimiterFacts {
    /// Index of the stack-height global.
    pub global: u32,
    /// Distinct limit constants (normally exactly one).
    pub limits: Vec<u32>,
    /// Number of instrumented call sites.
    pub sites: usize,
}

/// The memory-grow counter function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct GrowCounterFacts {
    /// Function index.
    pub function_index: u32,
    /// Cost per page.
    pub multiplier: u32,
}

/// Everything instrumentation-related found in one module.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct InstrumentationFacts {
    /// Metering import, if any.
    pub metering: Option<MeteringFacts>,
    /// Stack limiter, if any.
    pub stack_limiter: Option<StackLimiterFacts>,
    /// Memory-grow counter, if any.
    pub grow_counter: Option<GrowCounterFacts>,
}

/// How well one caller-supplied profile explains a module's instrumentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProfileFit {
    /// The profile's name.
    pub profile: String,
    /// True when every checked fact agrees and at least one was checked.
    pub fits: bool,
    /// Straight-line metered blocks whose constant was recomputed.
    pub blocks_checked: usize,
    /// Of those, how many matched exactly.
    pub blocks_matching: usize,
    /// Blocks whose constant is below the cost of their first straight-line instructions, or
    /// which contain an instruction the profile forbids.
    pub contradictions: usize,
    /// `Some(true/false)` when both the module and the profile have a stack limit.
    pub stack_limit_matches: Option<bool>,
    /// `Some(true/false)` when both the module and the profile have a grow multiplier.
    pub grow_cost_matches: Option<bool>,
}

/// What role a constant plays in instrumented code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConstRole {
    /// `i32.const N; call METER`.
    Metering,
    /// The limit in the stack limiter's comparison.
    StackLimit,
    /// A function's stack cost added/subtracted by the limiter.
    StackCost,
    /// The grow counter's per-page multiplier.
    GrowCost,
    /// Anything else (addresses, program constants).
    Other,
}

const GLOBAL_GET: u8 = 0x23;
const GLOBAL_SET: u8 = 0x24;

fn raw<'f>(f: &'f Func<'_>, i: usize) -> Option<&'f [u8]> {
    match f.toks.get(i)? {
        t if t.is_raw() => Some(f.raw(t)),
        _ => None,
    }
}

fn global_of(f: &Func<'_>, i: usize, op: u8) -> Option<u32> {
    let r = raw(f, i)?;
    if r[0] != op {
        return None;
    }
    BinaryReader::new(&r[1..], 0).read_var_u32().ok()
}

/// Length of the limiter prologue at `i` (10 tokens) and its limit, if there is one.
fn limiter_prologue(f: &Func<'_>, i: usize) -> Option<(u32, u32)> {
    let g = global_of(f, i, GLOBAL_GET)?;
    let ok = matches!(f.toks.get(i + 1), Some(Tok::I32(_)))
        && raw(f, i + 2) == Some(&[0x6A])
        && global_of(f, i + 3, GLOBAL_SET) == Some(g)
        && global_of(f, i + 4, GLOBAL_GET) == Some(g)
        && raw(f, i + 6) == Some(&[0x4B])
        && raw(f, i + 7) == Some(&[0x04, 0x40])
        && raw(f, i + 8) == Some(&[0x00])
        && raw(f, i + 9) == Some(&[0x0B]);
    match (ok, f.toks.get(i + 5)) {
        (true, Some(Tok::I32(limit))) => Some((g, *limit as u32)),
        _ => None,
    }
}

fn is_void_i32(m: &Module<'_>, index: u32) -> bool {
    m.func_sig(index)
        .is_some_and(|s| s.params == [ValType::I32] && s.results.is_empty())
}

/// Extracts the instrumentation facts of a module.
pub(crate) fn facts(m: &Module<'_>) -> InstrumentationFacts {
    // Metering import: the (i32)->() import with the most `i32.const; call` sites.
    let mut sites: BTreeMap<u32, BTreeMap<u32, usize>> = BTreeMap::new();
    for f in &m.funcs {
        for w in f.toks.windows(2) {
            if let (Tok::I32(n), Tok::Func { op: 0x10, index }) = (w[0], w[1])
                && index < m.num_func_imports
                && is_void_i32(m, index)
            {
                *sites.entry(index).or_default().entry(n as u32).or_default() += 1;
            }
        }
    }
    let metering = sites
        .iter()
        .max_by_key(|(idx, c)| (c.values().sum::<usize>(), std::cmp::Reverse(**idx)))
        .map(|(&index, costs)| {
            let imp = m.func_import(index);
            let mut top: Vec<(u32, usize)> = costs.iter().map(|(c, n)| (*c, *n)).collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(8);
            MeteringFacts {
                import: imp
                    .map(|i| format!("{}.{}", i.module, i.name))
                    .unwrap_or_default(),
                function_index: index,
                sites: costs.values().sum(),
                distinct_costs: costs.len(),
                top_costs: top,
            }
        });

    let mut limiter: Option<StackLimiterFacts> = None;
    for f in &m.funcs {
        let mut i = 0;
        while i + 10 <= f.toks.len() {
            if let Some((g, limit)) = limiter_prologue(f, i) {
                let l = limiter.get_or_insert(StackLimiterFacts {
                    global: g,
                    limits: Vec::new(),
                    sites: 0,
                });
                if l.global == g {
                    l.sites += 1;
                    if let Err(pos) = l.limits.binary_search(&limit) {
                        l.limits.insert(pos, limit);
                    }
                }
                i += 10;
            } else {
                i += 1;
            }
        }
    }

    let grow_counter = metering.as_ref().and_then(|meter| {
        m.funcs.iter().find_map(|f| {
            let sig = m.func_sig(f.index)?;
            if sig.params != [ValType::I32] || sig.results != [ValType::I32] || f.toks.len() != 7 {
                return None;
            }
            let k = match f.toks[2] {
                Tok::I32(k) => k as u32,
                _ => return None,
            };
            let ok = raw(f, 0) == Some(&[0x20, 0x00])
                && raw(f, 1) == Some(&[0x20, 0x00])
                && raw(f, 3) == Some(&[0x6C])
                && matches!(f.toks[4], Tok::Func { op: 0x10, index } if index == meter.function_index)
                && raw(f, 5).is_some_and(|r| r[0] == 0x40);
            ok.then_some(GrowCounterFacts { function_index: f.index, multiplier: k })
        })
    });
    InstrumentationFacts {
        metering,
        stack_limiter: limiter,
        grow_counter,
    }
}

/// The role of the constant at token `i` of `f`.
pub(crate) fn const_role(facts: &InstrumentationFacts, f: &Func<'_>, i: usize) -> ConstRole {
    if let (Some(meter), Some(Tok::Func { op: 0x10, index })) = (&facts.metering, f.toks.get(i + 1))
        && *index == meter.function_index
    {
        return ConstRole::Metering;
    }
    if let Some(g) = facts.grow_counter.as_ref()
        && g.function_index == f.index
        && i == 2
    {
        return ConstRole::GrowCost;
    }
    if let Some(l) = &facts.stack_limiter
        && i > 0
        && global_of(f, i - 1, GLOBAL_GET) == Some(l.global)
    {
        match raw(f, i + 1) {
            Some([0x4B]) => return ConstRole::StackLimit,
            Some([0x6A] | [0x6B]) => return ConstRole::StackCost,
            _ => {}
        }
    }
    ConstRole::Other
}

/// Checks every profile against a module's instrumentation (each body decoded once).
pub(crate) fn fit_all(
    m: &Module<'_>,
    facts: &InstrumentationFacts,
    profiles: &[&dyn CostProfile],
) -> Vec<ProfileFit> {
    let mut out: Vec<ProfileFit> = profiles
        .iter()
        .map(|profile| ProfileFit {
            profile: profile.name().to_string(),
            fits: false,
            blocks_checked: 0,
            blocks_matching: 0,
            contradictions: 0,
            stack_limit_matches: match (&facts.stack_limiter, profile.stack_limit()) {
                (Some(l), Some(p)) => Some(l.limits == [p]),
                _ => None,
            },
            grow_cost_matches: match (&facts.grow_counter, profile.grow_cost()) {
                (Some(g), Some(p)) => Some(g.multiplier == p),
                _ => None,
            },
        })
        .collect();
    if let Some(meter) = &facts.metering {
        let limiter_global = facts.stack_limiter.as_ref().map(|l| l.global);
        let grow_fn = facts.grow_counter.as_ref().map(|g| g.function_index);
        for f in &m.funcs {
            if Some(f.index) == grow_fn {
                continue;
            }
            let Some(ops) = operators(f) else { continue };
            for (profile, fit) in profiles.iter().zip(out.iter_mut()) {
                check_function(
                    f,
                    &ops,
                    meter.function_index,
                    limiter_global,
                    grow_fn,
                    *profile,
                    fit,
                );
            }
        }
    }
    for fit in &mut out {
        let checked = fit.blocks_checked > 0 || fit.stack_limit_matches.is_some();
        fit.fits = checked
            && fit.blocks_matching == fit.blocks_checked
            && fit.contradictions == 0
            && fit.stack_limit_matches != Some(false)
            && fit.grow_cost_matches != Some(false);
    }
    out
}

fn operators<'a>(f: &Func<'a>) -> Option<Vec<Operator<'a>>> {
    let body = FunctionBody::new(BinaryReader::new(f.body, f.offset));
    let mut reader = body.get_operators_reader().ok()?;
    let mut ops = Vec::with_capacity(f.toks.len());
    while !reader.eof() {
        ops.push(reader.read().ok()?);
    }
    (ops.len() == f.toks.len()).then_some(ops)
}

fn check_function(
    f: &Func<'_>,
    ops: &[Operator<'_>],
    meter: u32,
    limiter_global: Option<u32>,
    grow_fn: Option<u32>,
    profile: &dyn CostProfile,
    out: &mut ProfileFit,
) {
    let n = f.toks.len();
    for i in 0..n.saturating_sub(1) {
        let charged = match (f.toks[i], f.toks[i + 1]) {
            (Tok::I32(c), Tok::Func { op: 0x10, index }) if index == meter => c as u32,
            _ => continue,
        };
        // A call of the grow counter stands for the `memory.grow` it replaced, which is what the
        // block was charged for (metering runs before the counter is injected).
        let cost_of = |op: &Operator<'_>| match op {
            Operator::Call { function_index } if Some(*function_index) == grow_fn => {
                profile.instruction_cost(&Operator::MemoryGrow { mem: 0 })
            }
            _ => profile.instruction_cost(op),
        };
        let mut sum: u64 = 0;
        let mut j = i + 2;
        let mut exact = false;
        let mut forbidden = false;
        while j < n {
            if limiter_global.is_some()
                && limiter_prologue(f, j).is_some_and(|(g, _)| Some(g) == limiter_global)
            {
                // The limiter is not metered: only its `call` counts; skip prologue and epilogue.
                // The limiter runs after metering, so it also wraps calls of the grow counter.
                match ops.get(j + 10).and_then(cost_of) {
                    Some(c) => sum += c,
                    None => forbidden = true,
                }
                j += 15;
                continue;
            }
            if matches!((f.toks[j], f.toks.get(j + 1)), (Tok::I32(_), Some(Tok::Func { op: 0x10, index })) if *index == meter)
            {
                break;
            }
            let op = &ops[j];
            let cost = cost_of(op);
            match op {
                Operator::End | Operator::Else => break,
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    sum += cost.unwrap_or(0);
                    forbidden |= cost.is_none();
                    break;
                }
                Operator::Br { .. }
                | Operator::BrIf { .. }
                | Operator::BrTable { .. }
                | Operator::Return => {
                    sum += cost.unwrap_or(0);
                    forbidden |= cost.is_none();
                    exact = true;
                    break;
                }
                _ => {
                    sum += cost.unwrap_or(0);
                    forbidden |= cost.is_none();
                }
            }
            j += 1;
        }
        if forbidden {
            out.contradictions += 1;
        } else if exact {
            out.blocks_checked += 1;
            if (sum as u32) == charged {
                out.blocks_matching += 1;
            }
        } else if sum > u64::from(charged) && charged < i32::MAX as u32 {
            out.contradictions += 1;
        }
    }
}
