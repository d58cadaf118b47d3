//! The node's instruction → gas-cost mapping over wasmparser operators, for reading a stored
//! module: which cost table a metered block was charged with. The replay itself meters on each
//! line's own parity-wasm / casper-wasm instructions (`lines`); `tests/metering.rs` checks that
//! both mappings charge the same for every operator, per gas-rule era.

use wasmparser::Operator as O;

use crate::Protocol;
use crate::config::{ControlFlow, ControlFlowCosts};
use crate::line::GasRules;

/// Instruction classes of the node's rules.
enum Class {
    Unreachable,
    Nop,
    /// Control flow with its per-opcode selector (1.4.13+) and cycle count (2.x).
    Flow(fn(&ControlFlow) -> u32, u32),
    BrTable(u32),
    Local,
    GlobalGet,
    GlobalSet,
    Load,
    Store,
    CurrentMemory,
    GrowMemory,
    Const,
    Cmp,
    Bit,
    Add,
    Mul,
    Div,
    Conversion,
    SignExt,
    Reinterpret,
    Float,
}

fn class(op: &O<'_>) -> Class {
    use Class::*;
    match op {
        O::Unreachable => Unreachable,
        O::Nop => Nop,
        O::Block { .. } => Flow(|c| c.block, 1),
        O::Loop { .. } => Flow(|c| c.op_loop, 1),
        O::If { .. } => Flow(|c| c.op_if, 3),
        O::Else => Flow(|c| c.op_else, 1),
        O::End => Flow(|c| c.end, 1),
        O::Br { .. } => Flow(|c| c.br, 1),
        O::BrIf { .. } => Flow(|c| c.br_if, 3),
        O::BrTable { targets } => BrTable(targets.len()),
        O::Return => Flow(|c| c.op_return, 1),
        O::Call { .. } => Flow(|c| c.call, 22),
        O::CallIndirect { .. } => Flow(|c| c.call_indirect, 27),
        O::Drop => Flow(|c| c.drop, 1),
        O::Select => Flow(|c| c.select, 11),
        O::LocalGet { .. } | O::LocalSet { .. } | O::LocalTee { .. } => Local,
        O::GlobalGet { .. } => GlobalGet,
        O::GlobalSet { .. } => GlobalSet,
        O::I32Load { .. }
        | O::I64Load { .. }
        | O::F32Load { .. }
        | O::F64Load { .. }
        | O::I32Load8S { .. }
        | O::I32Load8U { .. }
        | O::I32Load16S { .. }
        | O::I32Load16U { .. }
        | O::I64Load8S { .. }
        | O::I64Load8U { .. }
        | O::I64Load16S { .. }
        | O::I64Load16U { .. }
        | O::I64Load32S { .. }
        | O::I64Load32U { .. } => Load,
        O::I32Store { .. }
        | O::I64Store { .. }
        | O::F32Store { .. }
        | O::F64Store { .. }
        | O::I32Store8 { .. }
        | O::I32Store16 { .. }
        | O::I64Store8 { .. }
        | O::I64Store16 { .. }
        | O::I64Store32 { .. } => Store,
        O::MemorySize { .. } => CurrentMemory,
        O::MemoryGrow { .. } => GrowMemory,
        O::I32Const { .. } | O::I64Const { .. } => Const,
        O::I32Eqz
        | O::I32Eq
        | O::I32Ne
        | O::I32LtS
        | O::I32LtU
        | O::I32GtS
        | O::I32GtU
        | O::I32LeS
        | O::I32LeU
        | O::I32GeS
        | O::I32GeU
        | O::I64Eqz
        | O::I64Eq
        | O::I64Ne
        | O::I64LtS
        | O::I64LtU
        | O::I64GtS
        | O::I64GtU
        | O::I64LeS
        | O::I64LeU
        | O::I64GeS
        | O::I64GeU => Cmp,
        O::I32Clz
        | O::I32Ctz
        | O::I32Popcnt
        | O::I32And
        | O::I32Or
        | O::I32Xor
        | O::I32Shl
        | O::I32ShrS
        | O::I32ShrU
        | O::I32Rotl
        | O::I32Rotr
        | O::I64Clz
        | O::I64Ctz
        | O::I64Popcnt
        | O::I64And
        | O::I64Or
        | O::I64Xor
        | O::I64Shl
        | O::I64ShrS
        | O::I64ShrU
        | O::I64Rotl
        | O::I64Rotr => Bit,
        O::I32Add | O::I32Sub | O::I64Add | O::I64Sub => Add,
        O::I32Mul | O::I64Mul => Mul,
        O::I32DivS
        | O::I32DivU
        | O::I32RemS
        | O::I32RemU
        | O::I64DivS
        | O::I64DivU
        | O::I64RemS
        | O::I64RemU => Div,
        O::I32WrapI64 | O::I64ExtendI32S | O::I64ExtendI32U => Conversion,
        O::I32Extend8S | O::I32Extend16S | O::I64Extend8S | O::I64Extend16S | O::I64Extend32S => {
            SignExt
        }
        O::I32ReinterpretF32
        | O::I64ReinterpretF64
        | O::F32ReinterpretI32
        | O::F64ReinterpretI64 => Reinterpret,
        _ => Float,
    }
}

/// The cost the node's gas rules charge for one instruction under `protocol` (its era's rules and
/// its opcode costs), or `None` where the rules forbid it (floats; sign extension before 2.x;
/// reinterpretations from 1.4.13). On 2.x, `cycles × cost` as `RuledOpcodeCosts` computes it.
pub fn instruction_cost(protocol: &Protocol, op: &O<'_>) -> Option<u32> {
    let rules = protocol.pipeline().rules;
    use Class::*;
    let c = &protocol.wasm().opcode_costs;
    let k = class(op);
    let flow = |sel: fn(&ControlFlow) -> u32| match &c.control_flow {
        ControlFlowCosts::Flat(v) => *v,
        ControlFlowCosts::PerOpcode(p) => sel(p),
    };
    let br_table = |n: u32| match &c.control_flow {
        ControlFlowCosts::Flat(v) => Some(*v),
        ControlFlowCosts::PerOpcode(p) => p
            .br_table
            .size_multiplier
            .checked_mul(n)?
            .checked_add(p.br_table.cost),
    };
    let multiplier = match &k {
        Unreachable => c.unreachable,
        Nop => c.nop,
        Flow(sel, _) => flow(*sel),
        BrTable(n) => br_table(*n)?,
        Local => c.local,
        GlobalGet | GlobalSet => c.global,
        Load => c.load,
        Store => c.store,
        CurrentMemory => c.current_memory,
        GrowMemory => c.grow_memory,
        Const => c.op_const,
        Cmp => c.integer_comparison,
        Bit => c.bit,
        Add => c.add,
        Mul => c.mul,
        Div => c.div,
        Conversion => c.conversion,
        SignExt => match rules {
            GasRules::CyclesTimesCost => c.sign?,
            _ => return None,
        },
        Reinterpret => match rules {
            GasRules::ClassSet => c.regular?,
            _ => return None,
        },
        Float => return None,
    };
    match rules {
        GasRules::ClassSet | GasRules::PerOpcode => Some(multiplier),
        GasRules::CyclesTimesCost => {
            let cycles = match k {
                Flow(_, n) => n,
                BrTable(_) => 5,
                Unreachable | Nop => 1,
                GlobalGet => 7,
                Load => 8,
                Store => 4,
                _ => 5,
            };
            cycles.checked_mul(multiplier)
        }
    }
}

/// The linear `memory.grow` cost per page the gas injection charges, `None` when zero (no grow
/// counter is injected).
pub fn grow_cost(protocol: &Protocol) -> Option<u32> {
    Some(protocol.wasm().opcode_costs.grow_memory).filter(|g| *g != 0)
}

/// The stack limiter's limit (`max_stack_height`).
pub fn stack_limit(protocol: &Protocol) -> u32 {
    protocol.wasm().max_stack_height
}
