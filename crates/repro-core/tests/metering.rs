//! `repro_core::metering` (the node's instruction → cost mapping over wasmparser operators, used to
//! read stored modules) against the node-crate lines (which meter each line's own parity-wasm /
//! casper-wasm instructions): for every MVP operator (and sign extension on 2.x), a module whose
//! one function uses it is preprocessed, and the gas constants the line injected, read back with
//! wasmparser, must add up to the wasmparser-side cost of that function's instructions. Where the
//! wasmparser side forbids an instruction, the line must reject the module as forbidden by the gas
//! rules. One protocol per gas-rule era: 1.4.8 and 1.4.9 (class set), 1.4.13 and 1.5.8 (per
//! opcode), 2.0.3 (cycles × cost).

use repro_core::{Protocol, Reason, ReplayOptions};
use wasmparser::{Operator, Parser, Payload};

/// `instruction | operands pushed first (i = i32, I = i64, f = f32, F = f64) | results dropped`.
const MVP: &[&str] = &[
    "unreachable||0",
    "nop||0",
    "block end||0",
    "loop end||0",
    "if end|i|0",
    "if else end|i|0",
    "block br 0 end||0",
    "block i32.const 1 br_if 0 end||0",
    "block i32.const 0 br_table 0 0 0 end||0",
    "block i32.const 0 br_table 0 end||0",
    "return||0",
    "call $f||0",
    "i32.const 0 call_indirect (type $t)||0",
    "drop|i|0",
    "select|iii|1",
    "local.get 0||1",
    "local.set 0|i|0",
    "local.tee 0|i|1",
    "global.get $g||1",
    "global.set $g|i|0",
    "i32.load|i|1",
    "i64.load|i|1",
    "f32.load|i|1",
    "f64.load|i|1",
    "i32.load8_s|i|1",
    "i32.load8_u|i|1",
    "i32.load16_s|i|1",
    "i32.load16_u|i|1",
    "i64.load8_s|i|1",
    "i64.load8_u|i|1",
    "i64.load16_s|i|1",
    "i64.load16_u|i|1",
    "i64.load32_s|i|1",
    "i64.load32_u|i|1",
    "i32.store|ii|0",
    "i64.store|iI|0",
    "f32.store|if|0",
    "f64.store|iF|0",
    "i32.store8|ii|0",
    "i32.store16|ii|0",
    "i64.store8|iI|0",
    "i64.store16|iI|0",
    "i64.store32|iI|0",
    "memory.size||1",
    "memory.grow|i|1",
    "i32.const 7||1",
    "i64.const 7||1",
    "f32.const 7||1",
    "f64.const 7||1",
    "i32.eqz|i|1",
    "i64.eqz|I|1",
    "f32.abs|f|1",
    "f32.neg|f|1",
    "f32.ceil|f|1",
    "f32.floor|f|1",
    "f32.trunc|f|1",
    "f32.nearest|f|1",
    "f32.sqrt|f|1",
    "f64.abs|F|1",
    "f64.neg|F|1",
    "f64.ceil|F|1",
    "f64.floor|F|1",
    "f64.trunc|F|1",
    "f64.nearest|F|1",
    "f64.sqrt|F|1",
    "i32.clz|i|1",
    "i32.ctz|i|1",
    "i32.popcnt|i|1",
    "i64.clz|I|1",
    "i64.ctz|I|1",
    "i64.popcnt|I|1",
    "i32.wrap_i64|I|1",
    "i64.extend_i32_s|i|1",
    "i64.extend_i32_u|i|1",
    "i32.trunc_f32_s|f|1",
    "i32.trunc_f32_u|f|1",
    "i32.trunc_f64_s|F|1",
    "i32.trunc_f64_u|F|1",
    "i64.trunc_f32_s|f|1",
    "i64.trunc_f32_u|f|1",
    "i64.trunc_f64_s|F|1",
    "i64.trunc_f64_u|F|1",
    "f32.convert_i32_s|i|1",
    "f32.convert_i32_u|i|1",
    "f32.convert_i64_s|I|1",
    "f32.convert_i64_u|I|1",
    "f32.demote_f64|F|1",
    "f64.convert_i32_s|i|1",
    "f64.convert_i32_u|i|1",
    "f64.convert_i64_s|I|1",
    "f64.convert_i64_u|I|1",
    "f64.promote_f32|f|1",
    "i32.reinterpret_f32|f|1",
    "i64.reinterpret_f64|F|1",
    "f32.reinterpret_i32|i|1",
    "f64.reinterpret_i64|I|1",
];

/// Binary operators: two operands of the prefix's type, one result.
const BINARY: &[(&str, &[&str])] = &[
    (
        "i",
        &[
            "i32.eq",
            "i32.ne",
            "i32.lt_s",
            "i32.lt_u",
            "i32.gt_s",
            "i32.gt_u",
            "i32.le_s",
            "i32.le_u",
            "i32.ge_s",
            "i32.ge_u",
            "i32.add",
            "i32.sub",
            "i32.mul",
            "i32.div_s",
            "i32.div_u",
            "i32.rem_s",
            "i32.rem_u",
            "i32.and",
            "i32.or",
            "i32.xor",
            "i32.shl",
            "i32.shr_s",
            "i32.shr_u",
            "i32.rotl",
            "i32.rotr",
        ],
    ),
    (
        "I",
        &[
            "i64.eq",
            "i64.ne",
            "i64.lt_s",
            "i64.lt_u",
            "i64.gt_s",
            "i64.gt_u",
            "i64.le_s",
            "i64.le_u",
            "i64.ge_s",
            "i64.ge_u",
            "i64.add",
            "i64.sub",
            "i64.mul",
            "i64.div_s",
            "i64.div_u",
            "i64.rem_s",
            "i64.rem_u",
            "i64.and",
            "i64.or",
            "i64.xor",
            "i64.shl",
            "i64.shr_s",
            "i64.shr_u",
            "i64.rotl",
            "i64.rotr",
        ],
    ),
    (
        "f",
        &[
            "f32.eq",
            "f32.ne",
            "f32.lt",
            "f32.gt",
            "f32.le",
            "f32.ge",
            "f32.add",
            "f32.sub",
            "f32.mul",
            "f32.div",
            "f32.min",
            "f32.max",
            "f32.copysign",
        ],
    ),
    (
        "F",
        &[
            "f64.eq",
            "f64.ne",
            "f64.lt",
            "f64.gt",
            "f64.le",
            "f64.ge",
            "f64.add",
            "f64.sub",
            "f64.mul",
            "f64.div",
            "f64.min",
            "f64.max",
            "f64.copysign",
        ],
    ),
];

const SIGN_EXT: &[&str] = &[
    "i32.extend8_s|i|1",
    "i32.extend16_s|i|1",
    "i64.extend8_s|I|1",
    "i64.extend16_s|I|1",
    "i64.extend32_s|I|1",
];

fn cases(sign_ext: bool) -> Vec<(String, String, usize)> {
    let mut out: Vec<(String, String, usize)> = MVP
        .iter()
        .chain(if sign_ext { SIGN_EXT } else { &[] })
        .map(|c| {
            let mut p = c.split('|');
            let (i, o, r) = (p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
            (i.to_string(), o.to_string(), r.parse().unwrap())
        })
        .collect();
    for (ty, ops) in BINARY {
        for op in *ops {
            out.push((op.to_string(), format!("{ty}{ty}"), 1));
        }
    }
    out
}

fn module(instr: &str, operands: &str, results: usize) -> Vec<u8> {
    let push: String = operands
        .chars()
        .map(|c| match c {
            'i' => "i32.const 1\n",
            'I' => "i64.const 1\n",
            'f' => "f32.const 1\n",
            'F' => "f64.const 1\n",
            _ => unreachable!(),
        })
        .collect();
    let drops = "drop\n".repeat(results);
    wat::parse_str(format!(
        r#"(module
            (type $t (func))
            (memory 1)
            (global $g (mut i32) (i32.const 0))
            (table 1 funcref)
            (elem (i32.const 0) $f)
            (func $f (export "f") (type $t) (local i32)
              {push}{instr}
              {drops}))"#
    ))
    .unwrap_or_else(|e| panic!("{instr}: {e}"))
}

/// The wasmparser-side cost of the module's one function (None if an instruction is forbidden).
/// The injection asks the rules for `end` and `else` too (a forbidden one fails it) but charges
/// neither: they close metered blocks (`inject_counter` in pwasm-utils 0.16 `gas/mod.rs` and its
/// casper-wasm-utils successors).
fn mapped_cost(protocol: &Protocol, wasm: &[u8]) -> Option<u64> {
    let mut total = 0u64;
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CodeSectionEntry(body) = payload.unwrap() {
            for op in body.get_operators_reader().unwrap() {
                let op = op.unwrap();
                let cost = repro_core::metering::instruction_cost(protocol, &op)?;
                if !matches!(op, Operator::End | Operator::Else) {
                    total += u64::from(cost);
                }
            }
        }
    }
    Some(total)
}

/// Sum of the constants passed to the `env.gas` import in the node-crate line's output.
fn injected_gas(wasm: &[u8]) -> u64 {
    let mut gas = None;
    let mut imported = 0u32;
    let mut total = 0u64;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.unwrap() {
            Payload::ImportSection(reader) => {
                for import in reader {
                    let import = import.unwrap();
                    if let wasmparser::TypeRef::Func(_) = import.ty {
                        if (import.module, import.name) == ("env", "gas") {
                            gas = Some(imported);
                        }
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let gas = gas.expect("env.gas imported");
                let mut prev: Option<u64> = None;
                for op in body.get_operators_reader().unwrap() {
                    let op = op.unwrap();
                    match op {
                        // Not after a constant: the grow counter's `pages × cost` charge.
                        Operator::Call { function_index } if function_index == gas => {
                            total += prev.unwrap_or(0);
                        }
                        _ => {}
                    }
                    prev = match op {
                        Operator::I32Const { value } => Some(u64::from(value as u32)),
                        Operator::I64Const { value } => Some(value as u64),
                        _ => None,
                    };
                }
            }
            _ => {}
        }
    }
    total
}

fn check(version: &str, sign_ext: bool) {
    let protocol = Protocol::mainnet(version.parse().unwrap()).unwrap();
    let (mut charged, mut forbidden) = (0, 0);
    for (instr, operands, results) in cases(sign_ext) {
        let wasm = module(&instr, &operands, results);
        let expected = mapped_cost(&protocol, &wasm);
        let replayed = repro_core::preprocess(&protocol, &wasm, ReplayOptions::default())
            .and_then(|p| p.install_once(&["f"]));
        match (expected, replayed) {
            (Some(cost), Ok(stored)) => {
                assert_eq!(
                    injected_gas(&stored.bytes),
                    cost,
                    "{version}: {instr} (operands {operands:?})"
                );
                charged += 1;
            }
            (None, Err(r)) => {
                assert!(
                    matches!(r.reason, Reason::ForbiddenInstruction { .. }),
                    "{version}: {instr}: {r:?}"
                );
                forbidden += 1;
            }
            (e, r) => panic!("{version}: {instr}: mapping says {e:?}, line gives {r:?}"),
        }
    }
    assert!(charged >= 100 && forbidden >= 40, "{charged} {forbidden}");
}

#[test]
fn class_set_1_4_8() {
    check("1.4.8", false);
}

#[test]
fn class_set_1_4_9() {
    check("1.4.9", false);
}

#[test]
fn per_opcode_1_4_13() {
    check("1.4.13", false);
}

#[test]
fn per_opcode_1_5_8() {
    check("1.5.8", false);
}

#[test]
fn cycles_times_cost_2_0_3() {
    check("2.0.3", true);
}
