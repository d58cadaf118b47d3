//! The Wasm configuration of every Casper mainnet protocol version, as data of our own.
//!
//! Sources: the mainnet chainspecs of casper-protocol-release (1.4.1 – 1.5.6), casper-node
//! `resources/production/chainspec.toml` (1.5.7, 1.5.8), and for 2.x the values that casper-types
//! 5/6 defaults, the 2.0.0 test-support bundle and the mainnet 2.2.0 chainspec agree on
//! (`node-pipeline.md` §4.5). Every entry is checked in tests against the real chainspec files and
//! against the configuration the real execution engines report (`docs/fidelity.md`).

use crate::config::{BrTableCost, ControlFlow, ControlFlowCosts, OpcodeCosts, WasmConfig};
use crate::version::ProtocolVersion;

/// One mainnet protocol version.
#[derive(Debug, Clone)]
pub struct MainnetRelease {
    pub version: ProtocolVersion,
    /// Era at which the upgrade activated, where known.
    pub activation_era: Option<u64>,
    /// What is known about the binary that ran it, and what is not confirmed.
    pub note: &'static str,
    pub wasm: WasmConfig,
}

/// Opcode costs shared by every 1.x release (only control flow, `regular` and the stack limit
/// changed between them).
fn costs_1x(regular: Option<u32>, control_flow: ControlFlowCosts) -> OpcodeCosts {
    OpcodeCosts {
        bit: 300,
        add: 210,
        mul: 240,
        div: 320,
        load: 2_500,
        store: 4_700,
        op_const: 110,
        local: 390,
        global: 390,
        integer_comparison: 250,
        conversion: 420,
        unreachable: 270,
        nop: 200,
        current_memory: 290,
        grow_memory: 240_000,
        regular,
        sign: None,
        control_flow,
    }
}

/// 1.4.13+ per-opcode control flow: `block`…`drop` cost `rest`, branches `br`, calls `call`.
fn per_opcode(rest: u32, br: u32, call: u32) -> ControlFlowCosts {
    ControlFlowCosts::PerOpcode(ControlFlow {
        block: rest,
        op_loop: rest,
        op_if: rest,
        op_else: rest,
        end: rest,
        br,
        br_if: br,
        br_table: BrTableCost {
            cost: br,
            size_multiplier: 100,
        },
        op_return: rest,
        call,
        call_indirect: call,
        drop: rest,
        select: rest,
    })
}

fn config_1x(
    max_stack_height: u32,
    regular: Option<u32>,
    control_flow: ControlFlowCosts,
) -> WasmConfig {
    WasmConfig {
        max_memory: 64,
        max_stack_height,
        opcode_costs: costs_1x(regular, control_flow),
    }
}

/// `[wasm.v1]` of 2.x: casper-types 5.0/6.0 defaults = mainnet 2.2.0.
fn config_2x() -> WasmConfig {
    WasmConfig {
        max_memory: 64,
        max_stack_height: 500,
        opcode_costs: OpcodeCosts {
            bit: 105,
            add: 105,
            mul: 105,
            div: 105,
            load: 105,
            store: 105,
            op_const: 105,
            local: 105,
            global: 105,
            integer_comparison: 105,
            conversion: 105,
            unreachable: 105,
            nop: 105,
            current_memory: 105,
            grow_memory: 900,
            regular: None,
            sign: Some(105),
            control_flow: ControlFlowCosts::PerOpcode(ControlFlow {
                block: 255,
                op_loop: 255,
                op_if: 105,
                op_else: 105,
                end: 105,
                br: 1_665,
                br_if: 510,
                br_table: BrTableCost {
                    cost: 150,
                    size_multiplier: 100,
                },
                op_return: 105,
                call: 225,
                call_indirect: 270,
                drop: 105,
                select: 105,
            }),
        },
    }
}

/// Every mainnet protocol version casper-repro knows, oldest first.
pub fn releases() -> Vec<MainnetRelease> {
    use ControlFlowCosts::Flat;
    let r = |major, minor, patch, era: Option<u64>, note: &'static str, wasm| MainnetRelease {
        version: ProtocolVersion::new(major, minor, patch),
        activation_era: era,
        note,
        wasm,
    };
    vec![
        r(
            1,
            4,
            1,
            Some(2600),
            "binary 1.4.1-c1f1c4df4",
            config_1x(65_536, Some(210), Flat(440)),
        ),
        r(
            1,
            4,
            3,
            Some(3111),
            "binary 1.4.3-a44bed1fd",
            config_1x(188, Some(210), Flat(440)),
        ),
        r(
            1,
            4,
            4,
            Some(3435),
            "binary 1.4.4-6962edb3d",
            config_1x(188, Some(210), Flat(440)),
        ),
        r(
            1,
            4,
            5,
            Some(4417),
            "binary 1.4.5-a7f6a648d",
            config_1x(188, Some(210), Flat(440)),
        ),
        r(
            1,
            4,
            6,
            Some(4968),
            "binary 1.4.6-72b698e89",
            config_1x(188, Some(210), Flat(440)),
        ),
        r(
            1,
            4,
            8,
            Some(6130),
            "binary 1.4.8-b94c4f79a",
            config_1x(188, Some(210), Flat(440)),
        ),
        r(
            1,
            4,
            9,
            Some(7210),
            "ran the 1.4.8 binary; chainspec change only (control flow 440 000)",
            config_1x(188, Some(210), Flat(440_000)),
        ),
        r(
            1,
            4,
            13,
            Some(8396),
            "binary 1.4.13-c8db6a737",
            config_1x(188, Some(210), per_opcode(440, 440_000, 440)),
        ),
        r(
            1,
            4,
            15,
            Some(9246),
            "binary 1.4.15-039d438f2",
            config_1x(200, None, per_opcode(440, 440_000, 140_000)),
        ),
        r(
            1,
            5,
            2,
            Some(10553),
            "binary 1.5.2-86b7013",
            config_1x(500, None, per_opcode(440, 440_000, 140_000)),
        ),
        r(
            1,
            5,
            3,
            Some(11081),
            "binary 1.5.3-7aa53e8 (casper-wasm-utils 2.0.0 + parity-wasm 0.45.0, not the v1.5.3 tag)",
            config_1x(500, None, per_opcode(440, 440_000, 140_000)),
        ),
        r(
            1,
            5,
            5,
            Some(12150),
            "binary 1.5.5-3c2e7a3",
            config_1x(500, None, per_opcode(440, 35_000, 68_000)),
        ),
        r(
            1,
            5,
            6,
            Some(12509),
            "binary 1.5.6-9f39958",
            config_1x(500, None, per_opcode(440, 35_000, 68_000)),
        ),
        r(
            1,
            5,
            7,
            None,
            "presumably the v1.5.7 tag; activation era unconfirmed",
            config_1x(500, None, per_opcode(440, 35_000, 68_000)),
        ),
        r(
            1,
            5,
            8,
            None,
            "presumably the v1.5.8 tag (= casper-execution-engine 7.0.3); activation era unconfirmed",
            config_1x(500, None, per_opcode(440, 35_000, 68_000)),
        ),
        r(
            2,
            0,
            0,
            None,
            "casper-node 2.0.0 (casper-execution-engine 8.0.0); final mainnet chainspec unconfirmed, \
             values = casper-types defaults = mainnet 2.2.0",
            config_2x(),
        ),
        r(
            2,
            0,
            3,
            None,
            "casper-node 2.0.3 (casper-execution-engine 8.1.1); values = casper-types defaults",
            config_2x(),
        ),
        r(
            2,
            2,
            0,
            Some(21742),
            "mainnet chainspec 2.2.0 (resources/mainnet/chainspec.toml)",
            config_2x(),
        ),
    ]
}

/// The mainnet release at exactly `version`, if casper-repro knows it.
pub fn release(version: ProtocolVersion) -> Option<MainnetRelease> {
    releases().into_iter().find(|r| r.version == version)
}
