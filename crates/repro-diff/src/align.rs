//! Function alignment: pair the defined functions of A and B so that a reordering is reported as
//! such, then classify each pair.

use std::collections::{BTreeMap, HashMap};

use crate::instrument::{InstrumentationFacts, const_role};
use crate::module::{Func, FuncSig, Module, Tok};
use crate::report::{ConstChange, FunctionClass};

/// Pairing of defined functions by position (0-based among defined functions).
#[derive(Debug)]
pub(crate) struct Alignment {
    pub a2b: Vec<Option<usize>>,
    pub b2a: Vec<Option<usize>>,
    pub reason: Vec<Option<&'static str>>,
    /// Function-import index of A → function-import index of B, by (module, name).
    imports: Vec<Option<u32>>,
    a_imports: u32,
    b_imports: u32,
    /// Body hashes, to accept a call to an identical twin body as the same call.
    exact_a: Vec<u64>,
    exact_b: Vec<u64>,
}

impl Alignment {
    /// Maps an absolute function index of A to B's.
    pub fn map(&self, a: u32) -> Option<u32> {
        if a < self.a_imports {
            self.imports.get(a as usize).copied().flatten()
        } else {
            let i = (a - self.a_imports) as usize;
            self.a2b
                .get(i)
                .copied()
                .flatten()
                .map(|b| b as u32 + self.b_imports)
        }
    }

    /// True when `a` (in A) and `b` (in B) are the aligned pair, or both defined with identical
    /// bodies (duplicate bodies make the pairing ambiguous; either twin is the same call).
    pub fn equivalent(&self, a: u32, b: u32) -> bool {
        if self.map(a) == Some(b) {
            return true;
        }
        let ea = a
            .checked_sub(self.a_imports)
            .and_then(|i| self.exact_a.get(i as usize));
        let eb = b
            .checked_sub(self.b_imports)
            .and_then(|i| self.exact_b.get(i as usize));
        matches!((ea, eb), (Some(x), Some(y)) if x == y)
    }

    fn pair(&mut self, a: usize, b: usize, why: &'static str) -> bool {
        if self.a2b[a].is_some() || self.b2a[b].is_some() {
            return false;
        }
        self.a2b[a] = Some(b);
        self.b2a[b] = Some(a);
        self.reason[a] = Some(why);
        true
    }
}

fn defined(m: &Module<'_>, abs: u32) -> Option<usize> {
    abs.checked_sub(m.num_func_imports)
        .map(|i| i as usize)
        .filter(|i| *i < m.funcs.len())
}

fn same_sig(ma: &Module<'_>, fa: &Func<'_>, mb: &Module<'_>, fb: &Func<'_>) -> bool {
    ma.func_sig(fa.index) == mb.func_sig(fb.index)
}

/// Pairs equal keys (with equal signatures) in order of index: several identical bodies pair
/// first-to-first, which keeps diff(A, B) and diff(B, A) mirror images.
fn pair_by_key<K: std::hash::Hash + Eq>(
    al: &mut Alignment,
    ma: &Module<'_>,
    mb: &Module<'_>,
    key: impl Fn(&Func<'_>) -> K,
    why: &'static str,
) {
    let mut groups: HashMap<(K, Option<FuncSig>), Vec<usize>> = HashMap::new();
    for (i, f) in mb.funcs.iter().enumerate() {
        if al.b2a[i].is_none() {
            groups
                .entry((key(f), mb.func_sig(f.index).cloned()))
                .or_default()
                .push(i);
        }
    }
    for g in groups.values_mut() {
        g.reverse();
    }
    for (i, f) in ma.funcs.iter().enumerate() {
        if al.a2b[i].is_some() {
            continue;
        }
        if let Some(g) = groups.get_mut(&(key(f), ma.func_sig(f.index).cloned()))
            && let Some(j) = g.pop()
        {
            al.pair(i, j, why);
        }
    }
}

fn pair_by_names(
    al: &mut Alignment,
    ma: &Module<'_>,
    mb: &Module<'_>,
    a: &BTreeMap<String, u32>,
    b: &BTreeMap<String, u32>,
    why: &'static str,
) {
    for (name, &ia) in a {
        if let Some(&ib) = b.get(name)
            && let (Some(i), Some(j)) = (defined(ma, ia), defined(mb, ib))
            && same_sig(ma, &ma.funcs[i], mb, &mb.funcs[j])
        {
            al.pair(i, j, why);
        }
    }
}

/// Aligns the defined functions of `ma` and `mb`.
pub(crate) fn align(ma: &Module<'_>, mb: &Module<'_>) -> Alignment {
    let b_imports: HashMap<(&str, &str), u32> = mb
        .imports
        .iter()
        .filter(|i| i.func_type.is_some())
        .enumerate()
        .map(|(k, i)| ((i.module.as_str(), i.name.as_str()), k as u32))
        .collect();
    let imports = ma
        .imports
        .iter()
        .filter(|i| i.func_type.is_some())
        .map(|i| {
            b_imports
                .get(&(i.module.as_str(), i.name.as_str()))
                .copied()
        })
        .collect();
    let mut al = Alignment {
        a2b: vec![None; ma.funcs.len()],
        b2a: vec![None; mb.funcs.len()],
        reason: vec![None; ma.funcs.len()],
        imports,
        a_imports: ma.num_func_imports,
        b_imports: mb.num_func_imports,
        exact_a: ma.funcs.iter().map(|f| f.exact).collect(),
        exact_b: mb.funcs.iter().map(|f| f.exact).collect(),
    };
    // 1. Identical bodies.
    pair_by_key(&mut al, ma, mb, |f| (f.exact, f.body.len()), "body");
    // 2. Exports.
    let exports = |m: &Module<'_>| -> BTreeMap<String, u32> {
        m.exports
            .iter()
            .filter(|e| e.kind == "func")
            .map(|e| (e.name.clone(), e.index))
            .collect()
    };
    pair_by_names(&mut al, ma, mb, &exports(ma), &exports(mb), "export");
    // 3. Element-segment membership (same segment, same slot).
    for (sa, sb) in ma.elements.iter().zip(&mb.elements) {
        for (&fa, &fb) in sa.funcs.iter().zip(&sb.funcs) {
            if let (Some(i), Some(j)) = (defined(ma, fa), defined(mb, fb))
                && same_sig(ma, &ma.funcs[i], mb, &mb.funcs[j])
            {
                al.pair(i, j, "element");
            }
        }
    }
    // 4. Name-section names.
    let names = |m: &Module<'_>| -> BTreeMap<String, u32> {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for n in m.names.values() {
            *seen.entry(n).or_default() += 1;
        }
        m.names
            .iter()
            .filter(|(_, n)| seen[n.as_str()] == 1)
            .map(|(i, n)| (n.clone(), *i))
            .collect()
    };
    pair_by_names(&mut al, ma, mb, &names(ma), &names(mb), "name");
    // 5. Bodies equal up to function indices, then up to constants too.
    pair_by_key(&mut al, ma, mb, |f| f.norm, "normalised_body");
    pair_by_key(&mut al, ma, mb, |f| f.skel, "skeleton");
    // 6. Call-graph position: the k-th callee of a pair pairs with the k-th callee. Candidates
    // are gathered per round and applied in an order symmetric in A and B.
    loop {
        let mut candidates: Vec<(usize, usize)> = Vec::new();
        for i in 0..ma.funcs.len() {
            let Some(j) = al.a2b[i] else { continue };
            let ca: Vec<u32> = ma.funcs[i].callees().collect();
            let cb: Vec<u32> = mb.funcs[j].callees().collect();
            if ca.len() != cb.len() {
                continue;
            }
            for (x, y) in ca.into_iter().zip(cb) {
                if let (Some(p), Some(q)) = (defined(ma, x), defined(mb, y))
                    && al.a2b[p].is_none()
                    && al.b2a[q].is_none()
                    && same_sig(ma, &ma.funcs[p], mb, &mb.funcs[q])
                {
                    candidates.push((p, q));
                }
            }
        }
        candidates.sort_by_key(|&(p, q)| (p + q, p.min(q), p.max(q)));
        candidates.dedup();
        let mut changed = false;
        for (p, q) in candidates {
            changed |= al.pair(p, q, "call_graph");
        }
        if !changed {
            break;
        }
    }
    // 7. What is left: same defined position and signature.
    for i in 0..ma.funcs.len().min(mb.funcs.len()) {
        if al.a2b[i].is_none()
            && al.b2a[i].is_none()
            && same_sig(ma, &ma.funcs[i], mb, &mb.funcs[i])
        {
            al.pair(i, i, "position");
        }
    }
    al
}

/// Result of comparing one aligned pair.
#[derive(Debug)]
pub(crate) struct PairDiff {
    pub class: FunctionClass,
    pub constants: Vec<ConstChange>,
    pub changed_instructions: Option<usize>,
}

fn tok_key(f: &Func<'_>, t: &Tok) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    match t {
        Tok::Raw { .. } | Tok::Long(_) => f.raw(t).hash(&mut h),
        Tok::Func { op, .. } => op.hash(&mut h),
        Tok::I32(_) => (0x41, f.const_value(t)).hash(&mut h),
        Tok::I64(_) => (0x42, f.const_value(t)).hash(&mut h),
        Tok::F32(_) => (0x43, f.const_value(t)).hash(&mut h),
        Tok::F64(_) => (0x44, f.const_value(t)).hash(&mut h),
    }
    h.finish()
}

/// Compares an aligned pair.
#[allow(clippy::too_many_arguments)]
pub(crate) fn compare(
    al: &Alignment,
    fa: &Func<'_>,
    fb: &Func<'_>,
    pos_a: usize,
    pos_b: usize,
    facts_a: &InstrumentationFacts,
    facts_b: &InstrumentationFacts,
) -> PairDiff {
    let same_pos = pos_a == pos_b && fa.index == fb.index;
    if fa.body == fb.body && same_pos {
        return PairDiff {
            class: FunctionClass::Identical,
            constants: Vec::new(),
            changed_instructions: None,
        };
    }
    let mut structural = fa.locals() != fb.locals() || fa.toks.len() != fb.toks.len();
    let mut constants = Vec::new();
    if !structural {
        for (k, (ta, tb)) in fa.toks.iter().zip(&fb.toks).enumerate() {
            let same = match (ta, tb) {
                (x, y) if x.is_raw() && y.is_raw() => fa.raw(ta) == fb.raw(tb),
                (Tok::Func { op: oa, index: ia }, Tok::Func { op: ob, index: ib }) => {
                    oa == ob && al.equivalent(*ia, *ib)
                }
                (Tok::I32(_), Tok::I32(_))
                | (Tok::I64(_), Tok::I64(_))
                | (Tok::F32(_), Tok::F32(_))
                | (Tok::F64(_), Tok::F64(_)) => {
                    let (x, y) = (fa.const_value(ta), fb.const_value(tb));
                    if x != y {
                        constants.push((k, x, y));
                    }
                    true
                }
                _ => false,
            };
            if !same {
                structural = true;
                break;
            }
        }
    }
    if structural {
        let ka: Vec<u64> = fa.toks.iter().map(|t| tok_key(fa, t)).collect();
        let kb: Vec<u64> = fb.toks.iter().map(|t| tok_key(fb, t)).collect();
        let changed = changed_tokens(&ka, &kb);
        return PairDiff {
            class: FunctionClass::InstructionsDiffer,
            constants: Vec::new(),
            changed_instructions: Some(changed),
        };
    }
    if !constants.is_empty() {
        let constants = constants
            .into_iter()
            .map(|(k, a, b)| {
                let ra = const_role(facts_a, fa, k);
                let rb = const_role(facts_b, fb, k);
                let role = if ra == rb {
                    ra
                } else {
                    crate::instrument::ConstRole::Other
                };
                ConstChange {
                    role,
                    position: k,
                    a,
                    b,
                }
            })
            .collect();
        return PairDiff {
            class: FunctionClass::ConstantsOnly,
            constants,
            changed_instructions: None,
        };
    }
    PairDiff {
        class: FunctionClass::Moved,
        constants: Vec::new(),
        changed_instructions: None,
    }
}

/// Largest `a.len() + b.len()` (after trimming the common prefix and suffix) given to an exact
/// Myers diff: its work is at most (N+M)·D, about 6.7e7 steps here.
const EXACT_DIFF_TOKENS: usize = 8192;

/// How many tokens differ between two bodies: an exact Myers diff (no deadline, so the same
/// inputs always give the same count), or beyond [`EXACT_DIFF_TOKENS`] the longer side of what
/// remains after trimming the common prefix and suffix (an upper bound).
fn changed_tokens(a: &[u64], b: &[u64]) -> usize {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    if a.len() + b.len() > EXACT_DIFF_TOKENS {
        return a.len().max(b.len());
    }
    similar::capture_diff_slices(similar::Algorithm::Myers, a, b)
        .iter()
        .map(|op| match op.tag() {
            similar::DiffTag::Equal => 0,
            _ => op.old_range().len().max(op.new_range().len()),
        })
        .sum()
}
