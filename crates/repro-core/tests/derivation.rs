//! Expectations derived by hand from `node-pipeline.md` and each release's cost table, for what no
//! engine on crates.io can check (1.4.1 – 1.4.6 ran engines older than any that builds here) and as
//! a second, independent check of the boundaries between eras.
//!
//! Every expected number below is computed in the comment next to it from the chainspec values of
//! that protocol version, never read back from repro-core's output.

use repro_core::{Protocol, Reason, ReplayOptions, Stage};
use wasmparser::{Operator, Parser, Payload, TypeRef};

fn protocol(v: &str) -> Protocol {
    Protocol::mainnet(v.parse().unwrap()).unwrap()
}

fn store(v: &str, wat: &str, entry_points: &[&str]) -> Vec<u8> {
    let bytes = wat::parse_str(wat).unwrap();
    let pre = repro_core::preprocess(&protocol(v), &bytes, ReplayOptions::default())
        .unwrap_or_else(|r| panic!("{v}: {r}"));
    pre.install(entry_points)
        .unwrap_or_else(|r| panic!("{v}: {r}"))
        .bytes
}

fn reject(v: &str, bytes: &[u8]) -> repro_core::Rejection {
    match repro_core::preprocess(&protocol(v), bytes, ReplayOptions::default()) {
        Ok(_) => panic!("{v}: expected a rejection"),
        Err(r) => r,
    }
}

/// Facts read back from a stored module with wasmparser (independent of the node's crates).
#[derive(Debug, Default)]
struct Facts {
    /// `i32.const N` immediately followed by `call <gas import>`.
    gas_charges: Vec<i64>,
    /// `i32.const N` immediately followed by `i32.gt_u` (the limiter's comparison).
    stack_limits: Vec<i64>,
    /// Imported memory limits.
    memory: Option<(u64, Option<u64>)>,
    /// Table limits.
    table: Option<(u64, Option<u64>)>,
    imports: Vec<String>,
    exports: Vec<String>,
    custom_sections: Vec<String>,
}

fn facts(bytes: &[u8]) -> Facts {
    let mut facts = Facts::default();
    let mut gas_index = None;
    let mut function_imports = 0u32;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.unwrap() {
            Payload::ImportSection(reader) => {
                for import in reader {
                    let import = import.unwrap();
                    facts
                        .imports
                        .push(format!("{}.{}", import.module, import.name));
                    match import.ty {
                        TypeRef::Func(_) => {
                            if import.module == "env" && import.name == "gas" {
                                gas_index = Some(function_imports);
                            }
                            function_imports += 1;
                        }
                        TypeRef::Memory(m) => facts.memory = Some((m.initial, m.maximum)),
                        _ => {}
                    }
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let t = table.unwrap().ty;
                    facts.table = Some((t.initial, t.maximum));
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    facts.exports.push(export.unwrap().name.to_owned());
                }
            }
            Payload::CodeSectionEntry(body) => {
                let ops: Vec<Operator> = body
                    .get_operators_reader()
                    .unwrap()
                    .into_iter()
                    .map(Result::unwrap)
                    .collect();
                for pair in ops.windows(2) {
                    match (&pair[0], &pair[1]) {
                        (Operator::I32Const { value }, Operator::Call { function_index })
                            if Some(*function_index) == gas_index =>
                        {
                            facts.gas_charges.push(i64::from(*value));
                        }
                        (Operator::I32Const { value }, Operator::I32GtU) => {
                            facts.stack_limits.push(i64::from(*value));
                        }
                        _ => {}
                    }
                }
            }
            Payload::CustomSection(c) => facts.custom_sections.push(c.name().to_owned()),
            _ => {}
        }
    }
    facts
}

/// `i32.const; drop; nop` in the exported entry point.
const CONST_DROP_NOP: &str = r#"(module
  (memory 1)
  (func (export "call") i32.const 1 drop nop))"#;

#[test]
fn gas_constants_follow_each_eras_cost_table() {
    // ≤1.4.8 class set: const 110 + drop (control-flow class, flat 440) + nop 200 = 750.
    for v in ["1.4.1", "1.4.3", "1.4.4", "1.4.5", "1.4.6", "1.4.8"] {
        assert_eq!(
            facts(&store(v, CONST_DROP_NOP, &["call"])).gas_charges,
            vec![750],
            "{v}"
        );
    }
    // 1.4.9: same binary, control flow 440 000: 110 + 440 000 + 200 = 440 310.
    assert_eq!(
        facts(&store("1.4.9", CONST_DROP_NOP, &["call"])).gas_charges,
        vec![440_310]
    );
    // 1.4.13 – 1.5.8 per opcode: const 110 + drop 440 + nop 200 = 750.
    for v in ["1.4.13", "1.4.15", "1.5.2", "1.5.3", "1.5.8"] {
        assert_eq!(
            facts(&store(v, CONST_DROP_NOP, &["call"])).gas_charges,
            vec![750],
            "{v}"
        );
    }
    // 2.x cycles × cost: const 5×105 + drop 1×105 + nop 1×105 = 735.
    for v in ["2.0.0", "2.0.3", "2.2.0"] {
        assert_eq!(
            facts(&store(v, CONST_DROP_NOP, &["call"])).gas_charges,
            vec![735],
            "{v}"
        );
    }
}

#[test]
fn branches_and_calls_are_charged_per_era() {
    // A call to a function that is not exported (so it gets no thunk) and a br_if.
    let wat = r#"(module
      (memory 1)
      (func $callee)
      (func (export "call")
        call $callee
        block
          i32.const 0
          br_if 0
        end))"#;
    // Metered blocks of the entry point: [call, block, i32.const, br_if] (the block merges into
    // the enclosing one; br_if ends it), then the empty rest up to the final `end` (cost 0, so
    // no charge). The callee's body is empty: no charge.
    //   1.4.1  (flat 440):     call 440 + block 440 + const 110 + br_if 440      = 1 430
    //   1.4.9  (flat 440 000): 440 000 + 440 000 + 110 + 440 000                   = 1 320 110
    //   1.4.13 (per opcode):   call 440 + block 440 + const 110 + br_if 440 000   = 440 990
    //   1.4.15 / 1.5.2:        call 140 000 + 440 + 110 + 440 000                 = 580 550
    //   1.5.8:                 call 68 000 + 440 + 110 + br_if 35 000             = 103 550
    //   2.x:                   call 22×225 + block 1×255 + const 5×105 + br_if 3×510 = 7 260
    for (v, expected) in [
        ("1.4.1", 1_430),
        ("1.4.9", 1_320_110),
        ("1.4.13", 440_990),
        ("1.4.15", 580_550),
        ("1.5.2", 580_550),
        ("1.5.8", 103_550),
        ("2.0.3", 7_260),
    ] {
        assert_eq!(
            facts(&store(v, wat, &["call"])).gas_charges,
            vec![expected],
            "{v}"
        );
    }
}

#[test]
fn the_stack_limit_is_the_eras_max_stack_height() {
    // `call` calls a helper with a non-zero stack cost, so the limiter instruments that call.
    let wat = r#"(module
      (memory 1)
      (func $helper (result i32) i32.const 1)
      (func (export "call") call $helper drop))"#;
    for (v, limit) in [
        ("1.4.1", 65_536),
        ("1.4.3", 188),
        ("1.4.9", 188),
        ("1.4.13", 188),
        ("1.4.15", 200),
        ("1.5.2", 500),
        ("1.5.8", 500),
        ("2.0.0", 500),
    ] {
        let f = facts(&store(v, wat, &["call"]));
        assert!(
            !f.stack_limits.is_empty(),
            "{v}: no limiter comparison found"
        );
        assert!(
            f.stack_limits.iter().all(|l| *l == limit),
            "{v}: {:?} != {limit}",
            f.stack_limits
        );
    }
}

#[test]
fn memory_becomes_an_import_capped_at_max_memory_unless_it_has_a_maximum() {
    for v in ["1.4.1", "1.4.13", "1.5.8", "2.0.3"] {
        let f = facts(&store(v, CONST_DROP_NOP, &["call"]));
        assert_eq!(f.memory, Some((1, Some(64))), "{v}");
        assert!(f.imports.contains(&"env.memory".to_owned()), "{v}");
        let kept = store(
            v,
            r#"(module (memory 1 2) (func (export "call")))"#,
            &["call"],
        );
        assert_eq!(
            facts(&kept).memory,
            Some((1, Some(2))),
            "{v}: an existing maximum is kept"
        );
    }
}

#[test]
fn the_table_maximum_rewrite_starts_at_1_4_8() {
    let wat = r#"(module (memory 1) (table 1 funcref) (func (export "call")))"#;
    for v in ["1.4.1", "1.4.4", "1.4.5", "1.4.6"] {
        assert_eq!(
            facts(&store(v, wat, &["call"])).table,
            Some((1, None)),
            "{v}"
        );
    }
    for v in ["1.4.8", "1.4.9", "1.4.13", "1.5.8", "2.0.3"] {
        assert_eq!(
            facts(&store(v, wat, &["call"])).table,
            Some((1, Some(4096))),
            "{v}"
        );
    }
}

#[test]
fn an_empty_memory_section_panicked_the_oldest_nodes_and_is_rejected_from_1_4_5() {
    // Header, then a Memory section (id 5, size 1) with zero entries.
    let bytes = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x01, 0x00,
    ];
    let r = reject("1.4.4", &bytes);
    assert!(matches!(r.reason, Reason::NodePanic { .. }), "{r}");
    for v in ["1.4.5", "1.4.8", "1.5.8", "2.0.3"] {
        let r = reject(v, &bytes);
        assert_eq!(r.reason, Reason::MissingMemory, "{v}");
        assert_eq!(r.node_error, "Memory section should exist");
    }
}

#[test]
fn validation_starts_at_1_4_8() {
    // An imported global read with global.get 0: valid Wasm, but the node counts only defined
    // globals, so 1.4.8+ rejects it.
    let imported_global = wat::parse_str(
        r#"(module (import "env" "g" (global i32)) (memory 1)
             (func (export "call") global.get 0 drop))"#,
    )
    .unwrap();
    let gas_import = wat::parse_str(
        r#"(module (import "env" "gas" (func (param i32))) (memory 1) (func (export "call")))"#,
    )
    .unwrap();
    for v in ["1.4.1", "1.4.5", "1.4.6"] {
        for bytes in [&imported_global, &gas_import] {
            let pre = repro_core::preprocess(&protocol(v), bytes, ReplayOptions::default());
            assert!(
                pre.is_ok(),
                "{v}: no validation before 1.4.8: {:?}",
                pre.err()
            );
        }
    }
    for v in ["1.4.8", "1.5.8", "2.0.3"] {
        let r = reject(v, &imported_global);
        assert_eq!(
            r.node_error,
            "Wasm validation error: opcode for a global access refers to non-existing global index 0"
        );
        let r = reject(v, &gas_import);
        assert_eq!(
            r.node_error,
            "Wasm validation error: module imports a non-existent function"
        );
    }
}

#[test]
fn reinterpretations_cost_regular_until_1_4_9_and_are_forbidden_from_1_4_13() {
    let wat = r#"(module (memory 1)
      (func (export "call") i32.const 0 f32.reinterpret_i32 drop))"#;
    // ≤1.4.8: const 110 + reinterpret (no class: regular 210) + drop 440 = 760.
    assert_eq!(
        facts(&store("1.4.8", wat, &["call"])).gas_charges,
        vec![760]
    );
    let bytes = wat::parse_str(wat).unwrap();
    for v in ["1.4.13", "1.5.8", "2.0.3"] {
        let r = reject(v, &bytes);
        assert_eq!(r.stage, Stage::Preprocess);
        assert!(
            matches!(r.reason, Reason::ForbiddenInstruction { .. }),
            "{v}: {r}"
        );
    }
    // Floats are forbidden everywhere.
    let floats =
        wat::parse_str(r#"(module (memory 1) (func (export "call") f64.const 1 drop))"#).unwrap();
    for v in ["1.4.1", "1.4.9", "1.4.13", "1.5.8", "2.0.3"] {
        let r = reject(v, &floats);
        assert_eq!(
            r.node_error,
            "Encountered operation forbidden by gas rules. Consult instruction -> metering config map",
            "{v}"
        );
    }
}

#[test]
fn sign_extension_is_rejected_by_every_1x_line_even_with_sign_ext_compiled_in() {
    let bytes = wat::parse_str(SIGN_EXT_WAT).unwrap();
    for v in ["1.4.1", "1.4.13", "1.4.15", "1.5.3", "1.5.8"] {
        let r = reject(v, &bytes);
        assert_eq!(r.reason, Reason::SignExtension { opcode: 0xc0 }, "{v}");
        assert_eq!(
            r.node_error, "Deserialization error: Unknown opcode 192",
            "{v}"
        );
    }
    for v in ["2.0.0", "2.0.3"] {
        // 2.x meters sign extension: local.get 5×105 + i32.extend8_s 5×sign 105 = 1 050.
        assert_eq!(
            facts(&store(v, SIGN_EXT_WAT, &["call"])).gas_charges,
            vec![1_050],
            "{v}"
        );
    }
}

const SIGN_EXT_WAT: &str = r#"(module (memory 1) (func (export "call") (param i32) (result i32) local.get 0 i32.extend8_s))"#;

#[test]
fn custom_sections_survive_only_as_a_parsed_name_section() {
    // A name section with subsections 0 (module) and 1 (functions) only, plus `producers`.
    let plain = r#"(module $m (memory 1) (func $entry (export "call")) (@custom "producers" "x"))"#;
    // A raw name section as LLVM writes it: function names (subsection 1: one entry, function 0
    // named "e") and global names (subsection 7: an empty map).
    let llvm_like = r#"(module (memory 1) (func (export "call"))
      (@custom "name" "\01\04\01\00\01e\07\01\00"))"#;
    // parity-wasm 0.41 (≤1.4.13) drops every custom section at the first builder round trip.
    for wat in [plain, llvm_like] {
        assert!(
            facts(&store("1.4.13", wat, &["call"]))
                .custom_sections
                .is_empty()
        );
    }
    // parity-wasm 0.42 (1.4.15 – 1.5.2) parses names with subsections 0–2 only; any other
    // subsection makes the parse fail and the section is dropped with the other custom ones.
    for v in ["1.4.15", "1.5.2"] {
        assert_eq!(
            facts(&store(v, plain, &["call"])).custom_sections,
            vec!["name".to_owned()],
            "{v}"
        );
        assert!(
            facts(&store(v, llvm_like, &["call"]))
                .custom_sections
                .is_empty(),
            "{v}"
        );
    }
    // parity-wasm 0.45 / casper-wasm (1.5.3+) skip unknown subsections and keep the names.
    for v in ["1.5.3", "1.5.8", "2.0.0", "2.0.3"] {
        for wat in [plain, llvm_like] {
            assert_eq!(
                facts(&store(v, wat, &["call"])).custom_sections,
                vec!["name".to_owned()],
                "{v}"
            );
        }
    }
}

#[test]
fn entry_points_must_be_exports_and_everything_else_is_removed() {
    let wat = r#"(module (memory 1) (func (export "a")) (func (export "b")) (func (export "c")))"#;
    let f = facts(&store("1.5.8", wat, &["a", "c"]));
    assert_eq!(f.exports, vec!["a".to_owned(), "c".to_owned()]);
    let bytes = wat::parse_str(wat).unwrap();
    let pre = repro_core::preprocess(&protocol("1.5.8"), &bytes, ReplayOptions::default()).unwrap();
    let r = pre.install(&["a", "missing"]).unwrap_err();
    assert_eq!(r.stage, Stage::Install);
    assert_eq!(r.node_error, "Function not found: missing");
}
