//! Node 1.5.x parsed with casper-wasm 0.46 *without* `sign_ext`: its parser stopped at the first
//! sign-extension opcode with `Unknown opcode N`, before any validation, gas metering or stack
//! limiting, wherever the opcode was — reachable or not. repro-core compiles that crate with
//! `sign_ext` (node 2.0.0 needs it) and restores the 1.5.x outcome itself; these cases pin the
//! places and orderings where a shortcut could miss it.
//!
//! Expected messages are derived from the opcode bytes (`i32.extend8_s` 0xC0 = 192,
//! `i32.extend16_s` 0xC1 = 193, `i64.extend8_s` 0xC2 = 194, `i64.extend16_s` 0xC3 = 195,
//! `i64.extend32_s` 0xC4 = 196) and the node's `Deserialization error: {parser error}` format, as in
//! the committed 1.5.8 oracle answer for `sign_ext.wasm` (`Unknown opcode 193`).

use repro_core::{Protocol, Reason, ReplayOptions, Stage};

fn protocol(v: &str) -> Protocol {
    Protocol::mainnet(v.parse().unwrap()).unwrap()
}

/// Every 1.x line: the three parity-wasm lines never knew sign extension, the casper-wasm 0.46
/// line (1.5.4 – 1.5.8; 1.5.5 is its first version in the mainnet table) is the one that hides it.
const LINES_1X: [&str; 6] = ["1.4.1", "1.4.13", "1.4.15", "1.5.3", "1.5.5", "1.5.8"];

fn assert_rejected(name: &str, wat: &str, opcode: u8) {
    let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("{name}: {e}"));
    for v in LINES_1X {
        for detailed in [false, true] {
            let r = match repro_core::preprocess(&protocol(v), &bytes, ReplayOptions { detailed }) {
                Ok(_) => panic!("{name} on {v}: accepted"),
                Err(r) => r,
            };
            assert_eq!(r.stage, Stage::Preprocess, "{name} on {v}");
            assert_eq!(
                r.reason,
                Reason::SignExtension { opcode },
                "{name} on {v}: {r}"
            );
            assert_eq!(
                r.node_error,
                format!("Deserialization error: Unknown opcode {opcode}"),
                "{name} on {v}"
            );
        }
    }
}

#[test]
fn sign_extension_anywhere_in_code_is_rejected_on_1x_before_anything_else() {
    let cases: &[(&str, &str, u8)] = &[
        (
            "dead code after unreachable",
            r#"(module (memory 1)
                 (func (export "call") unreachable i32.const 0 i32.extend16_s drop))"#,
            0xc1,
        ),
        (
            "dead code after return, inside a never-taken block",
            r#"(module (memory 1)
                 (func (export "call") return (block i64.const 0 i64.extend16_s drop)))"#,
            0xc3,
        ),
        (
            "function reachable only through the table",
            r#"(module (memory 1) (table 1 funcref) (elem (i32.const 0) $f)
                 (func $f (result i64) i64.const 1 i64.extend32_s)
                 (func (export "call")))"#,
            0xc4,
        ),
        (
            "function referenced by nothing",
            r#"(module (memory 1)
                 (func (export "call"))
                 (func $unused i64.const 1 i64.extend8_s drop))"#,
            0xc2,
        ),
        (
            "the first one in module order decides the opcode",
            r#"(module (memory 1)
                 (func (export "call") i32.const 0 i32.extend16_s drop)
                 (func i32.const 0 i32.extend8_s drop))"#,
            0xc1,
        ),
        (
            "before the memory check",
            r#"(module (func (export "call") i32.const 0 i32.extend8_s drop))"#,
            0xc0,
        ),
        (
            "before ensure_valid_access (call to a missing function)",
            r#"(module (memory 1)
                 (func (export "call") call 7)
                 (func i32.const 0 i32.extend8_s drop))"#,
            0xc0,
        ),
        (
            "before the gas rules' forbidden floats in an earlier function",
            r#"(module (memory 1)
                 (func (export "call") f64.const 1 drop)
                 (func i32.const 0 i32.extend16_s drop))"#,
            0xc1,
        ),
        (
            "before the gas rules' forbidden floats earlier in the same body",
            r#"(module (memory 1)
                 (func (export "call") f64.const 1 drop i64.const 0 i64.extend8_s drop))"#,
            0xc2,
        ),
        (
            "before the gas import check",
            r#"(module (import "env" "gas" (func (param i32))) (memory 1)
                 (func (export "call") i32.const 0 i32.extend8_s drop))"#,
            0xc0,
        ),
        (
            "in a global's initializer (no function body at all)",
            r#"(module (memory 1) (global i32 i32.const 1 i32.extend8_s)
                 (func (export "call")))"#,
            0xc0,
        ),
        (
            "a global's initializer comes before the code",
            r#"(module (memory 1) (global i32 i32.const 1 i32.extend16_s)
                 (func (export "call") i64.const 0 i64.extend8_s drop))"#,
            0xc1,
        ),
        (
            "in a data segment's offset",
            r#"(module (memory 1) (data (offset i32.const 0 i32.extend8_s) "x")
                 (func (export "call")))"#,
            0xc0,
        ),
        (
            "the code comes before a data segment's offset",
            r#"(module (memory 1) (data (offset i32.const 0 i32.extend8_s) "x")
                 (func (export "call") i64.const 0 i64.extend32_s drop))"#,
            0xc4,
        ),
    ];
    for (name, wat, opcode) in cases {
        assert_rejected(name, wat, *opcode);
    }
}

#[test]
fn the_same_modules_without_the_guard_reach_later_stages_on_2x() {
    // 2.x parses sign extension: dead, table-only and unreferenced functions are metered.
    for wat in [
        r#"(module (memory 1) (func (export "call") unreachable i32.const 0 i32.extend16_s drop))"#,
        r#"(module (memory 1) (table 1 funcref) (elem (i32.const 0) $f)
             (func $f (result i64) i64.const 1 i64.extend32_s) (func (export "call")))"#,
        r#"(module (memory 1) (func (export "call")) (func i64.const 1 i64.extend8_s drop))"#,
    ] {
        let bytes = wat::parse_str(wat).unwrap();
        for v in ["2.0.0", "2.0.3"] {
            let pre = repro_core::preprocess(&protocol(v), &bytes, ReplayOptions::default())
                .unwrap_or_else(|r| panic!("{v}: {r}"));
            pre.install(&["call"])
                .unwrap_or_else(|r| panic!("{v}: {r}"));
        }
    }
    // A float still fails on the gas rules there, not on sign extension.
    let bytes = wat::parse_str(
        r#"(module (memory 1) (func (export "call") f64.const 1 drop i64.const 0 i64.extend8_s drop))"#,
    )
    .unwrap();
    let r =
        repro_core::preprocess(&protocol("2.0.0"), &bytes, ReplayOptions::default()).unwrap_err();
    assert!(
        matches!(r.reason, Reason::ForbiddenInstruction { .. }),
        "{r}"
    );
}

#[test]
fn stored_bytes_with_sign_extension_are_rejected_on_the_factory_path_of_1_5_x() {
    let bytes = wat::parse_str(
        r#"(module (memory 1) (func (export "call")) (func i32.const 0 i32.extend16_s drop))"#,
    )
    .unwrap();
    for v in ["1.5.5", "1.5.8"] {
        let r =
            repro_core::load_stored(&protocol(v), &bytes, ReplayOptions::default()).unwrap_err();
        assert_eq!(r.stage, Stage::LoadStored, "{v}");
        assert_eq!(r.reason, Reason::SignExtension { opcode: 0xc1 }, "{v}");
        assert_eq!(
            r.node_error, "Deserialization error: Unknown opcode 193",
            "{v}"
        );
    }
}
