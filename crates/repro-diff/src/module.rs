//! One pass over a module with wasmparser into plain data: sections, items rendered as short
//! strings, function bodies as token streams, data segments and custom sections.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Range;

use sha2::{Digest, Sha256};
use wasmparser::{
    BinaryReader, BlockType, CompositeInnerType, ConstExpr, DataKind, ElementItems, ElementKind,
    ExternalKind, FunctionBody, KnownCustom, Name, Operator, Parser, Payload, TypeRef, ValType,
};

use crate::error::{Error, Input, Result};

/// A section as it appears in the binary.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub id: u8,
    /// `type`, `import`, …, or the custom section's name.
    pub name: String,
    /// Range of the section payload (after id and size).
    pub range: Range<usize>,
    pub count: Option<u32>,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FuncSig {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

#[derive(Debug, Clone)]
pub(crate) struct Import {
    pub module: String,
    pub name: String,
    pub desc: String,
    /// Type index when the import is a function.
    pub func_type: Option<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct Export {
    pub name: String,
    pub kind: &'static str,
    pub index: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Element {
    pub desc: String,
    /// Function indices in this segment (for `funcref` segments given as indices or `ref.func`).
    pub funcs: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct DataSegment<'a> {
    pub desc: String,
    pub bytes: &'a [u8],
}

#[derive(Debug, Clone)]
pub(crate) struct Custom<'a> {
    pub name: String,
    pub data: &'a [u8],
}

/// One operator of a function body, with function indices and constants lifted out so that bodies
/// can be compared modulo renumbering and modulo constants. 8 bytes: a module's token streams
/// stay within a few times its size.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tok {
    /// Any other operator: its encoding is `body[start..start + len]`.
    Raw {
        start: u32,
        len: u16,
    },
    /// An operator longer than 65535 bytes (a huge `br_table`): `Func::long[i]` holds its range.
    Long(u32),
    /// `call`, `return_call` or `ref.func` (opcode byte) with its function index.
    Func {
        op: u8,
        index: u32,
    },
    I32(i32),
    /// `i64.const`: the value is `Func::wide[i]`.
    I64(u32),
    F32(u32),
    /// `f64.const`: the bits are `Func::wide[i]`.
    F64(u32),
}

impl Tok {
    pub fn is_raw(&self) -> bool {
        matches!(self, Tok::Raw { .. } | Tok::Long(_))
    }
}

/// A defined function.
#[derive(Debug, Clone)]
pub(crate) struct Func<'a> {
    /// Absolute index in the function index space (imports first).
    pub index: u32,
    pub type_index: u32,
    /// Whole body (locals and code) and its offset in the module.
    pub body: &'a [u8],
    pub offset: usize,
    /// Byte length of the locals declaration at the start of `body`.
    pub locals_len: usize,
    pub toks: Vec<Tok>,
    /// Ranges of [`Tok::Long`] operators.
    pub long: Vec<(u32, u32)>,
    /// Values of [`Tok::I64`] and [`Tok::F64`].
    pub wide: Vec<u64>,
    /// Hash of the body bytes.
    pub exact: u64,
    /// Hash with function indices abstracted.
    pub norm: u64,
    /// Hash with function indices and constants abstracted.
    pub skel: u64,
}

impl Func<'_> {
    pub fn raw<'s>(&'s self, tok: &Tok) -> &'s [u8] {
        match *tok {
            Tok::Raw { start, len } => &self.body[start as usize..start as usize + len as usize],
            Tok::Long(i) => {
                let (s, e) = self.long[i as usize];
                &self.body[s as usize..e as usize]
            }
            _ => &[],
        }
    }

    /// The value of a constant token, as a signed 64-bit number (floats as their bits).
    pub fn const_value(&self, tok: &Tok) -> i64 {
        match *tok {
            Tok::I32(v) => v.into(),
            Tok::F32(v) => v.into(),
            Tok::I64(i) | Tok::F64(i) => self.wide[i as usize] as i64,
            _ => 0,
        }
    }

    pub fn locals(&self) -> &[u8] {
        &self.body[..self.locals_len]
    }

    /// Callees in order of appearance.
    pub fn callees(&self) -> impl Iterator<Item = u32> + '_ {
        self.toks.iter().filter_map(|t| match t {
            Tok::Func {
                op: 0x10 | 0x12,
                index,
            } => Some(*index),
            _ => None,
        })
    }
}

/// Wasm features a module uses, detected from its types and code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Features {
    pub sign_ext: usize,
    pub bulk_memory: usize,
    pub saturating_float_to_int: usize,
    pub reference_types: usize,
    pub simd: usize,
    pub threads: usize,
    pub tail_call: usize,
    pub multi_value: usize,
    pub floats: usize,
    pub mutable_global_import_export: usize,
    pub overlong_call_indirect: usize,
}

impl Features {
    pub fn names(&self) -> Vec<(&'static str, usize)> {
        [
            ("sign-ext", self.sign_ext),
            ("bulk-memory", self.bulk_memory),
            ("nontrapping-float-to-int", self.saturating_float_to_int),
            ("reference-types", self.reference_types),
            ("simd", self.simd),
            ("threads", self.threads),
            ("tail-call", self.tail_call),
            ("multi-value", self.multi_value),
            ("floats", self.floats),
            ("mutable-globals", self.mutable_global_import_export),
            ("overlong-call-indirect", self.overlong_call_indirect),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }
}

/// A parsed module.
#[derive(Debug)]
pub(crate) struct Module<'a> {
    pub sections: Vec<Section>,
    pub types: Vec<String>,
    pub sigs: Vec<Option<FuncSig>>,
    pub imports: Vec<Import>,
    pub num_func_imports: u32,
    pub tables: Vec<String>,
    pub memories: Vec<String>,
    pub globals: Vec<String>,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    pub elements: Vec<Element>,
    pub data: Vec<DataSegment<'a>>,
    pub funcs: Vec<Func<'a>>,
    pub customs: Vec<Custom<'a>>,
    /// Function names from the `name` section, by absolute index.
    pub names: BTreeMap<u32, String>,
    /// `producers` section as (field, name, version).
    pub producers: Vec<(String, String, String)>,
    /// `target_features` section entries, e.g. `+mutable-globals`.
    pub target_features: Vec<String>,
    pub features: Features,
}

impl Module<'_> {
    /// Signature of a function by absolute index.
    pub fn func_sig(&self, index: u32) -> Option<&FuncSig> {
        let ty = if index < self.num_func_imports {
            self.imports
                .iter()
                .filter_map(|i| i.func_type)
                .nth(index as usize)?
        } else {
            self.funcs
                .get((index - self.num_func_imports) as usize)?
                .type_index
        };
        self.sigs.get(ty as usize)?.as_ref()
    }

    /// Import (module, name) of an imported function by absolute index.
    pub fn func_import(&self, index: u32) -> Option<&Import> {
        self.imports
            .iter()
            .filter(|i| i.func_type.is_some())
            .nth(index as usize)
    }
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Canonical order of known sections (Tag and DataCount slot in where the spec puts them).
fn order_rank(id: u8) -> Option<u8> {
    Some(match id {
        1 => 1,
        2 => 2,
        3 => 3,
        4 => 4,
        5 => 5,
        13 => 6,
        6 => 7,
        7 => 8,
        8 => 9,
        9 => 10,
        12 => 11,
        10 => 12,
        11 => 13,
        _ => return None,
    })
}

pub(crate) fn section_name(id: u8) -> &'static str {
    match id {
        0 => "custom",
        1 => "type",
        2 => "import",
        3 => "function",
        4 => "table",
        5 => "memory",
        6 => "global",
        7 => "export",
        8 => "start",
        9 => "element",
        10 => "code",
        11 => "data",
        12 => "datacount",
        13 => "tag",
        _ => "unknown",
    }
}

fn vals(v: &[ValType]) -> String {
    v.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn sig_text(sig: &FuncSig) -> String {
    let mut s = String::from("(func");
    if !sig.params.is_empty() {
        s += &format!(" (param {})", vals(&sig.params));
    }
    if !sig.results.is_empty() {
        s += &format!(" (result {})", vals(&sig.results));
    }
    s.push(')');
    s
}

fn limits(min: u64, max: Option<u64>) -> String {
    match max {
        Some(m) => format!("{min} {m}"),
        None => min.to_string(),
    }
}

fn table_text(t: &wasmparser::TableType) -> String {
    format!(
        "(table {} {:?})",
        limits(t.initial, t.maximum),
        t.element_type
    )
}

fn memory_text(m: &wasmparser::MemoryType) -> String {
    let mut s = format!("(memory {}", limits(m.initial, m.maximum));
    if m.memory64 {
        s += " i64";
    }
    if m.shared {
        s += " shared";
    }
    s + ")"
}

fn global_type_text(g: &wasmparser::GlobalType) -> String {
    if g.mutable {
        format!("(mut {})", g.content_type)
    } else {
        g.content_type.to_string()
    }
}

fn const_expr_text(input: Input, e: &ConstExpr<'_>) -> Result<(String, Vec<u32>)> {
    let mut reader = e.get_operators_reader();
    let mut parts = Vec::new();
    let mut funcs = Vec::new();
    while !reader.eof() {
        let op = reader.read().map_err(|e| Error::from_parser(input, &e))?;
        match op {
            Operator::End => {}
            Operator::I32Const { value } => parts.push(format!("i32.const {value}")),
            Operator::I64Const { value } => parts.push(format!("i64.const {value}")),
            Operator::GlobalGet { global_index } => {
                parts.push(format!("global.get {global_index}"))
            }
            Operator::RefFunc { function_index } => {
                funcs.push(function_index);
                parts.push(format!("ref.func {function_index}"));
            }
            other => parts.push(format!("{other:?}")),
        }
    }
    Ok((parts.join("; "), funcs))
}

const FLOAT_OPS: &[std::ops::RangeInclusive<u8>] = &[
    0x2A..=0x2B,
    0x38..=0x39,
    0x43..=0x44,
    0x5B..=0x66,
    0x8B..=0xA6,
    0xA8..=0xAB,
    0xAE..=0xBF,
];

fn leb_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Parses `bytes` completely. Any malformation (truncation, bad magic, bad LEB, section order,
/// bad operator) is an [`Error::Malformed`] with its offset.
pub(crate) fn parse(input: Input, bytes: &[u8]) -> Result<Module<'_>> {
    let perr = |e: wasmparser::BinaryReaderError| Error::from_parser(input, &e);
    if bytes.len() >= 4 && &bytes[..4] != b"\0asm" {
        return Err(Error::malformed(
            input,
            0,
            format!(
                "bad magic number: expected 00 61 73 6d (\\0asm), found {}",
                hex_bytes(&bytes[..4])
            ),
        ));
    }
    let mut m = Module {
        sections: Vec::new(),
        types: Vec::new(),
        sigs: Vec::new(),
        imports: Vec::new(),
        num_func_imports: 0,
        tables: Vec::new(),
        memories: Vec::new(),
        globals: Vec::new(),
        exports: Vec::new(),
        start: None,
        elements: Vec::new(),
        data: Vec::new(),
        funcs: Vec::new(),
        customs: Vec::new(),
        names: BTreeMap::new(),
        producers: Vec::new(),
        target_features: Vec::new(),
        features: Features::default(),
    };
    let mut func_types: Vec<u32> = Vec::new();
    let mut last_rank = 0u8;
    let mut code_index = 0usize;
    let mut name_section: Option<(usize, &[u8])> = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(perr)?;
        if let Some((id, range)) = payload.as_section() {
            if id != 0 {
                let Some(rank) = order_rank(id) else {
                    return Err(Error::malformed(
                        input,
                        range.start,
                        format!("unknown section id {id}"),
                    ));
                };
                if rank <= last_rank {
                    return Err(Error::malformed(
                        input,
                        range.start,
                        format!("{} section out of order or duplicated", section_name(id)),
                    ));
                }
                last_rank = rank;
            }
            let name = match &payload {
                Payload::CustomSection(c) => c.name().to_string(),
                _ => section_name(id).to_string(),
            };
            let count = match &payload {
                Payload::TypeSection(r) => Some(r.count()),
                Payload::ImportSection(r) => Some(r.count()),
                Payload::FunctionSection(r) => Some(r.count()),
                Payload::TableSection(r) => Some(r.count()),
                Payload::MemorySection(r) => Some(r.count()),
                Payload::TagSection(r) => Some(r.count()),
                Payload::GlobalSection(r) => Some(r.count()),
                Payload::ExportSection(r) => Some(r.count()),
                Payload::ElementSection(r) => Some(r.count()),
                Payload::DataSection(r) => Some(r.count()),
                Payload::CodeSectionStart { count, .. }
                | Payload::DataCountSection { count, .. } => Some(*count),
                Payload::StartSection { .. } => Some(1),
                _ => None,
            };
            let data = bytes.get(range.clone()).unwrap_or_default();
            m.sections.push(Section {
                id,
                name,
                range: range.clone(),
                count,
                sha256: sha256_hex(data),
            });
        }
        match payload {
            Payload::Version {
                encoding, range, ..
            } if encoding != wasmparser::Encoding::Module => {
                return Err(Error::malformed(
                    input,
                    range.start,
                    "a component, not a core module",
                ));
            }
            Payload::TypeSection(r) => {
                for group in r {
                    for sub in group.map_err(perr)?.into_types() {
                        match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => {
                                let sig = FuncSig {
                                    params: f.params().to_vec(),
                                    results: f.results().to_vec(),
                                };
                                if sig.results.len() > 1 {
                                    m.features.multi_value += 1;
                                }
                                m.types.push(sig_text(&sig));
                                m.sigs.push(Some(sig));
                            }
                            other => {
                                m.types.push(format!("{other:?}"));
                                m.sigs.push(None);
                            }
                        }
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r {
                    let imp = imp.map_err(perr)?;
                    let (desc, func_type) = match imp.ty {
                        TypeRef::Func(t) => {
                            m.num_func_imports += 1;
                            // The signature, not the type index: renumbered types are no change.
                            let desc = m.types.get(t as usize).cloned();
                            (
                                desc.unwrap_or_else(|| format!("(func (type {t}))")),
                                Some(t),
                            )
                        }
                        TypeRef::Table(t) => (table_text(&t), None),
                        TypeRef::Memory(mt) => (memory_text(&mt), None),
                        TypeRef::Global(g) => {
                            if g.mutable {
                                m.features.mutable_global_import_export += 1;
                            }
                            (format!("(global {})", global_type_text(&g)), None)
                        }
                        TypeRef::Tag(t) => (format!("(tag (type {}))", t.func_type_idx), None),
                    };
                    m.imports.push(Import {
                        module: imp.module.to_string(),
                        name: imp.name.to_string(),
                        desc,
                        func_type,
                    });
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    func_types.push(t.map_err(perr)?);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    m.tables.push(table_text(&t.map_err(perr)?.ty));
                }
            }
            Payload::MemorySection(r) => {
                for mem in r {
                    m.memories.push(memory_text(&mem.map_err(perr)?));
                }
            }
            Payload::TagSection(r) => {
                for t in r {
                    t.map_err(perr)?;
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g.map_err(perr)?;
                    let (init, _) = const_expr_text(input, &g.init_expr)?;
                    m.globals
                        .push(format!("(global {} ({init}))", global_type_text(&g.ty)));
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.map_err(perr)?;
                    let kind = match e.kind {
                        ExternalKind::Func => "func",
                        ExternalKind::Table => "table",
                        ExternalKind::Memory => "memory",
                        ExternalKind::Global => "global",
                        ExternalKind::Tag => "tag",
                    };
                    m.exports.push(Export {
                        name: e.name.to_string(),
                        kind,
                        index: e.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => m.start = Some(func),
            Payload::ElementSection(r) => {
                for el in r {
                    let el = el.map_err(perr)?;
                    let mut funcs = Vec::new();
                    let mode = match &el.kind {
                        ElementKind::Passive => "passive".to_string(),
                        ElementKind::Declared => "declare".to_string(),
                        ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => {
                            let (off, _) = const_expr_text(input, offset_expr)?;
                            format!("table {} offset ({off})", table_index.unwrap_or(0))
                        }
                    };
                    match el.items {
                        ElementItems::Functions(r) => {
                            for f in r {
                                funcs.push(f.map_err(perr)?);
                            }
                        }
                        ElementItems::Expressions(_, r) => {
                            m.features.reference_types += 1;
                            for e in r {
                                let (_, fs) = const_expr_text(input, &e.map_err(perr)?)?;
                                funcs.extend(fs);
                            }
                        }
                    }
                    m.elements.push(Element {
                        desc: format!("{mode}, {} functions", funcs.len()),
                        funcs,
                    });
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    let d = d.map_err(perr)?;
                    let desc = match &d.kind {
                        DataKind::Passive => {
                            m.features.bulk_memory += 1;
                            "passive".to_string()
                        }
                        DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => {
                            let (off, _) = const_expr_text(input, offset_expr)?;
                            if *memory_index == 0 {
                                format!("offset ({off})")
                            } else {
                                format!("memory {memory_index} offset ({off})")
                            }
                        }
                    };
                    m.data.push(DataSegment {
                        desc,
                        bytes: d.data,
                    });
                }
            }
            Payload::DataCountSection { .. } => {}
            Payload::CodeSectionStart { count, range, .. }
                if count as usize != func_types.len() =>
            {
                return Err(Error::malformed(
                    input,
                    range.start,
                    format!(
                        "code section has {count} bodies but the function section declares {}",
                        func_types.len()
                    ),
                ));
            }
            Payload::CodeSectionEntry(body) => {
                let type_index = *func_types.get(code_index).ok_or_else(|| {
                    Error::malformed(
                        input,
                        body.range().start,
                        "more function bodies than declared",
                    )
                })?;
                let index = m.num_func_imports + code_index as u32;
                code_index += 1;
                let f = parse_body(input, index, type_index, &body, &mut m.features)?;
                m.funcs.push(f);
            }
            Payload::CustomSection(c) => {
                match c.as_known() {
                    KnownCustom::Name(_) => name_section = Some((c.data_offset(), c.data())),
                    KnownCustom::Producers(r) => {
                        // A malformed producers section is kept as raw bytes, not an error.
                        let fields: Vec<_> = r.into_iter().collect();
                        for field in fields.into_iter().flatten() {
                            for v in field.values.into_iter().flatten() {
                                m.producers.push((
                                    field.name.to_string(),
                                    v.name.to_string(),
                                    v.version.to_string(),
                                ));
                            }
                        }
                    }
                    _ => {}
                }
                if c.name() == "target_features" {
                    // A malformed section is kept as raw bytes, not an error.
                    let mut r = BinaryReader::new(c.data(), c.data_offset());
                    let n = r.read_var_u32().unwrap_or(0);
                    for _ in 0..n {
                        match (r.read_u8(), r.read_string()) {
                            (Ok(p), Ok(name)) => {
                                m.target_features.push(format!("{}{name}", p as char))
                            }
                            _ => break,
                        }
                    }
                }
                m.customs.push(Custom {
                    name: c.name().to_string(),
                    data: c.data(),
                });
            }
            Payload::UnknownSection { id, range, .. } => {
                return Err(Error::malformed(
                    input,
                    range.start,
                    format!("unknown section id {id}"),
                ));
            }
            Payload::End(_) => {}
            _ => {}
        }
    }
    if code_index != func_types.len() {
        return Err(Error::malformed(
            input,
            bytes.len(),
            format!(
                "function section declares {} bodies but the code section has {code_index}",
                func_types.len()
            ),
        ));
    }
    // Names: a malformed name section is not fatal (tools tolerate it too); keep what parsed.
    if let Some((offset, data)) = name_section {
        let reader = wasmparser::NameSectionReader::new(BinaryReader::new(data, offset));
        for sub in reader.into_iter().flatten() {
            if let Name::Function(map) = sub {
                for naming in map.into_iter().flatten() {
                    m.names.insert(naming.index, naming.name.to_string());
                }
            }
        }
    }
    for e in &m.exports {
        if e.kind == "global" {
            // Mutable exported globals need the mutable-globals feature; we do not track globals'
            // mutability by index beyond the rendered text.
            if let Some(g) = m.globals.get(e.index as usize)
                && g.contains("(mut ")
            {
                m.features.mutable_global_import_export += 1;
            }
        }
    }
    Ok(m)
}

fn parse_body<'a>(
    input: Input,
    index: u32,
    type_index: u32,
    body: &FunctionBody<'a>,
    features: &mut Features,
) -> Result<Func<'a>> {
    let perr = |e: wasmparser::BinaryReaderError| Error::from_parser(input, &e);
    let base = body.range().start;
    let bytes = body.as_bytes();
    let mut locals = body.get_locals_reader().map_err(perr)?;
    for _ in 0..locals.get_count() {
        locals.read().map_err(perr)?;
    }
    let locals_len = locals.original_position() - base;
    let mut ops = body.get_operators_reader().map_err(perr)?;
    let mut toks = Vec::with_capacity(bytes.len() / 2);
    let mut long: Vec<(u32, u32)> = Vec::new();
    let mut wide: Vec<u64> = Vec::new();
    let raw_tok =
        |start: usize, end: usize, long: &mut Vec<(u32, u32)>| match u16::try_from(end - start) {
            Ok(len) => Tok::Raw {
                start: start as u32,
                len,
            },
            Err(_) => {
                long.push((start as u32, end as u32));
                Tok::Long(long.len() as u32 - 1)
            }
        };
    while !ops.eof() {
        let (op, at) = ops.read_with_offset().map_err(perr)?;
        let start = at - base;
        let end = ops.original_position() - base;
        let raw = &bytes[start..end];
        let b0 = raw[0];
        match b0 {
            0xC0..=0xC4 => features.sign_ext += 1,
            0xFC => match raw.get(1).copied().unwrap_or(0) {
                0..=7 => features.saturating_float_to_int += 1,
                8..=14 => features.bulk_memory += 1,
                _ => features.reference_types += 1,
            },
            0xFD => features.simd += 1,
            0xFE => features.threads += 1,
            0x12 | 0x13 => features.tail_call += 1,
            0x1C | 0x25 | 0x26 | 0xD0 | 0xD1 => features.reference_types += 1,
            b if FLOAT_OPS.iter().any(|r| r.contains(&b)) => features.floats += 1,
            _ => {}
        }
        let tok = match op {
            Operator::Call { function_index }
            | Operator::ReturnCall { function_index }
            | Operator::RefFunc { function_index } => Tok::Func {
                op: b0,
                index: function_index,
            },
            Operator::I32Const { value } => Tok::I32(value),
            Operator::I64Const { value } => {
                wide.push(value as u64);
                Tok::I64(wide.len() as u32 - 1)
            }
            Operator::F32Const { value } => Tok::F32(value.bits()),
            Operator::F64Const { value } => {
                wide.push(value.bits());
                Tok::F64(wide.len() as u32 - 1)
            }
            Operator::Block { blockty } | Operator::Loop { blockty } | Operator::If { blockty } => {
                if matches!(blockty, BlockType::FuncType(_)) {
                    features.multi_value += 1;
                }
                raw_tok(start, end, &mut long)
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => {
                if raw.len() > 1 + leb_len(type_index.into()) + leb_len(table_index.into()) {
                    features.overlong_call_indirect += 1;
                }
                if table_index != 0 {
                    features.reference_types += 1;
                }
                raw_tok(start, end, &mut long)
            }
            _ => raw_tok(start, end, &mut long),
        };
        toks.push(tok);
    }
    toks.shrink_to_fit();
    let mut f = Func {
        index,
        type_index,
        body: bytes,
        offset: base,
        locals_len,
        toks,
        long,
        wide,
        exact: 0,
        norm: 0,
        skel: 0,
    };
    let (exact, norm, skel) = hashes(&f);
    f.exact = exact;
    f.norm = norm;
    f.skel = skel;
    Ok(f)
}

fn hashes(f: &Func<'_>) -> (u64, u64, u64) {
    let mut exact = DefaultHasher::new();
    f.body.hash(&mut exact);
    let mut norm = DefaultHasher::new();
    let mut skel = DefaultHasher::new();
    f.locals().hash(&mut norm);
    f.locals().hash(&mut skel);
    for t in &f.toks {
        match t {
            Tok::Raw { .. } | Tok::Long(_) => {
                let r = f.raw(t);
                r.hash(&mut norm);
                r.hash(&mut skel);
            }
            Tok::Func { op, .. } => {
                op.hash(&mut norm);
                op.hash(&mut skel);
            }
            Tok::I32(_) | Tok::I64(_) | Tok::F32(_) | Tok::F64(_) => {
                let tag: u8 = match t {
                    Tok::I32(_) => 0x41,
                    Tok::I64(_) => 0x42,
                    Tok::F32(_) => 0x43,
                    _ => 0x44,
                };
                (tag, f.const_value(t)).hash(&mut norm);
                tag.hash(&mut skel);
            }
        }
    }
    (exact.finish(), norm.finish(), skel.finish())
}
