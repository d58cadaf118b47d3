//! One module per release line, each generated from the same source over that line's own crates
//! (`line_impl!`): the node's Casper layer (`wasm_prep.rs` and the gas rules of `opcode_costs.rs`)
//! re-implemented on top of the exact Wasm crates the node linked.
//!
//! Feature unification: one build graph holds one `casper-wasm 0.46`, compiled with `sign_ext`
//! because node 2.0.0 needs it. Node 1.5.x linked it *without* `sign_ext`, so its parser rejected
//! sign-extension opcodes as unknown; the 1.5.x line restores that by looking for them after
//! parsing and failing with the error the node's parser gave (`Unknown opcode 0xC0…`). In
//! `preprocess` that look costs no pass of its own on success: the 1.5.x gas rules forbid
//! sign extension and the gas injection prices every instruction of every body, so the full look
//! runs only when some step fails (`cwu3::defers_feature_check`). No other feature of any Wasm
//! crate is enabled in this graph.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::config::{ControlFlow, ControlFlowCosts, OpcodeCosts, WasmConfig};
use crate::error::{Reason, Stage, ValidationCheck};
use crate::line::Pipeline;

/// Node limits (`wasm_prep.rs` constants, 1.4.8 and later).
pub(crate) const MAX_TABLE_SIZE: u32 = 4096;
pub(crate) const MAX_BR_TABLE_SIZE: u32 = 256;
pub(crate) const MAX_GLOBALS: u32 = 256;
pub(crate) const MAX_PARAMETERS: u32 = 256;

/// The node's gas module / function names.
pub(crate) const GAS_MODULE: &str = "env";
pub(crate) const GAS_FUNCTION: &str = "gas";

/// A failure inside a line, before it is dressed as a [`crate::Rejection`].
#[derive(Debug)]
pub(crate) struct Failure {
    pub stage: Stage,
    pub reason: Reason,
    pub node_error: String,
}

impl Failure {
    fn new(stage: Stage, reason: Reason, node_error: impl Into<String>) -> Self {
        Self {
            stage,
            reason,
            node_error: node_error.into(),
        }
    }

    fn validation(check: ValidationCheck, message: String) -> Self {
        let node_error = format!("Wasm validation error: {message}");
        Self::new(
            Stage::Preprocess,
            Reason::Validation { check, message },
            node_error,
        )
    }
}

/// Runs a call into the node's Wasm crates, turning a panic into the rejection the node's
/// execution would have ended with.
pub(crate) fn guarded<T>(stage: Stage, what: &str, f: impl FnOnce() -> T) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_owned());
        let node_error = format!("{what} panicked: {message}");
        Failure::new(
            stage,
            Reason::NodePanic {
                message: node_error.clone(),
            },
            node_error,
        )
    })
}

/// Per-opcode control-flow costs; the protocol constructor guarantees their presence for every
/// pipeline whose rules read them.
pub(crate) fn per_opcode(costs: &OpcodeCosts) -> &ControlFlow {
    match &costs.control_flow {
        ControlFlowCosts::PerOpcode(cf) => cf,
        ControlFlowCosts::Flat(_) => {
            unreachable!("checked by Protocol::new: per-opcode rules need per-opcode costs")
        }
    }
}

/// The line-independent inputs of one preprocessing run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run<'a> {
    pub pipeline: Pipeline,
    pub config: &'a WasmConfig,
    pub detailed: bool,
}

/// Generates a line module over `$wasm` (parity-wasm / casper-wasm) and `$utils`
/// (pwasm-utils / casper-wasm-utils).
macro_rules! line_impl {
    (wasm = $wasm:ident, utils = $utils:ident, parser = $parser:literal) => {
        use std::collections::BTreeSet;

        use $utils::rules::{MemoryGrowCost, Rules};
        use $wasm::elements::{self, External, Instruction, Internal, Module, Section, TableType, Type};

        use crate::config::{ControlFlow, OpcodeCosts};
        use crate::error::{Reason, Stage, ValidationCheck};
        use crate::line::{Checks, GasRules, Line};
        use crate::lines::{
            Failure, Run, GAS_FUNCTION, GAS_MODULE, MAX_BR_TABLE_SIZE, MAX_GLOBALS, MAX_PARAMETERS,
            MAX_TABLE_SIZE, guarded, per_opcode,
        };
        use crate::record::{Shape, Step};

        pub(crate) const PARSER: &str = $parser;

        pub(crate) type Parsed = Module;

        fn instructions(module: &Module) -> impl Iterator<Item = &Instruction> {
            module.code_section().into_iter().flat_map(|c| c.bodies()).flat_map(|b| b.code().elements())
        }

        fn function_imports(module: &Module) -> usize {
            module
                .import_section()
                .map(|s| s.entries().iter().filter(|e| matches!(e.external(), External::Function(_))).count())
                .unwrap_or(0)
        }

        pub(crate) fn shape(module: &Module, measure: bool) -> Shape {
            let defined = module.function_section().map(|s| s.entries().len()).unwrap_or(0);
            Shape {
                bytes: measure.then(|| $wasm::serialize(module.clone()).map(|b| b.len()).unwrap_or(0)),
                functions: function_imports(module) + defined,
                imports: module.import_section().map(|s| s.entries().len()).unwrap_or(0),
                exports: module.export_section().map(|s| s.entries().len()).unwrap_or(0),
                globals: module.global_section().map(|s| s.entries().len()).unwrap_or(0),
            }
        }

        /// The node's `deserialize`, with its error mapping.
        pub(crate) fn deserialize(bytes: &[u8], stage: Stage, node_2x: bool) -> Result<Module, Failure> {
            let error = match guarded(stage, "deserialize", || $wasm::deserialize_buffer::<Module>(bytes))? {
                Ok(module) => return Ok(module),
                Err(error) => error,
            };
            let text = error.to_string();
            let reason = match &error {
                elements::Error::UnknownOpcode(0xfc) => Reason::BulkMemory,
                elements::Error::UnknownOpcode(0xfd) => Reason::Simd,
                elements::Error::UnknownOpcode(0xfe) => Reason::Atomics,
                elements::Error::UnknownOpcode(op @ 0xc0..=0xc4) => Reason::SignExtension { opcode: *op },
                elements::Error::InvalidTableReference(_) => Reason::OverlongCallIndirect,
                elements::Error::Other(msg) if msg.contains("multi_value") => Reason::MultiValue,
                _ => Reason::Malformed { parser_error: text.clone(), located: crate::locate_malformation(bytes) },
            };
            // Node 2.x (casper-execution-engine 8.x) replaces some parser messages.
            let message = if node_2x {
                match &error {
                    elements::Error::UnknownOpcode(0xfc) => "Bulk memory operations are not supported".to_owned(),
                    elements::Error::UnknownOpcode(0xfd) => "SIMD operations are not supported".to_owned(),
                    elements::Error::UnknownOpcode(0xfe) => "Atomic operations are not supported".to_owned(),
                    elements::Error::UnknownOpcode(_) => "Encountered an unsupported operation".to_owned(),
                    elements::Error::Other(msg)
                        if *msg == "Enable the multi_value feature to deserialize more than one function result" =>
                    {
                        "Multi value extension is not supported".to_owned()
                    }
                    _ => text,
                }
            } else {
                text
            };
            Err(Failure::new(stage, reason, format!("Deserialization error: {message}")))
        }

        /// `ensure_valid_access`.
        fn ensure_valid_access(module: &Module) -> Result<(), Failure> {
            let fail = |message: String| Failure::validation(ValidationCheck::ValidAccess, message);
            let types = module.type_section().map(|t| t.types().len()).unwrap_or(0);
            let mut functions = 0u32;
            let imported = module.import_section().map(|s| s.entries()).unwrap_or(&[]);
            for entry in imported {
                if let External::Function(type_index) = entry.external() {
                    if (*type_index as usize) >= types {
                        return Err(fail(format!("missing type index {type_index}")));
                    }
                    functions = functions.saturating_add(1);
                }
            }
            for entry in module.function_section().map(|s| s.entries()).unwrap_or(&[]) {
                let type_index = entry.type_ref();
                if (type_index as usize) >= types {
                    return Err(fail(format!("missing type index {type_index}")));
                }
                functions = functions.saturating_add(1);
            }
            let check_function = |index: u32| {
                if index >= functions { Err(fail(format!("missing function index {index}"))) } else { Ok(()) }
            };
            if let Some(start) = module.start_section() {
                check_function(start)?;
            }
            for export in module.export_section().map(|s| s.entries()).unwrap_or(&[]) {
                if let Internal::Function(index) = export.internal() {
                    check_function(*index)?;
                }
            }
            if module.code_section().is_some() {
                let globals = module.global_section().map(|g| g.entries().len()).unwrap_or(0);
                for instruction in instructions(module) {
                    match instruction {
                        Instruction::Call(index) => check_function(*index)?,
                        Instruction::GetGlobal(index) | Instruction::SetGlobal(index) if *index as usize >= globals => {
                            return Err(fail(format!(
                                "opcode for a global access refers to non-existing global index {index}"
                            )));
                        }
                        _ => {}
                    }
                }
            }
            for segment in module.elements_section().map(|s| s.entries()).unwrap_or(&[]) {
                for member in segment.members() {
                    check_function(*member)?;
                }
            }
            Ok(())
        }

        /// The node's `memory_section` check: a Memory section, non-empty unless `allow_empty`.
        fn has_memory(module: &Module, allow_empty: bool) -> bool {
            module.sections().iter().find_map(|s| match s {
                Section::Memory(m) => Some(allow_empty || !m.entries().is_empty()),
                _ => None,
            }) == Some(true)
        }

        /// `ensure_table_size_limit`: the only check that rewrites the module.
        fn ensure_table_size_limit(mut module: Module) -> Result<(Module, Option<Step>), Failure> {
            let fail = |message: String| Failure::validation(ValidationCheck::TableSize, message);
            let mut step = None;
            if let Some(section) = module.table_section_mut() {
                if section.entries().len() > 1 {
                    return Err(fail("the number of tables must be at most one".to_owned()));
                }
                if let Some(table) = section.entries_mut().first_mut() {
                    let initial = table.limits().initial();
                    let maximum = table.limits().maximum();
                    if initial > MAX_TABLE_SIZE {
                        return Err(fail(format!(
                            "initial table size of {initial} exceeds allowed limit of {MAX_TABLE_SIZE}"
                        )));
                    }
                    match maximum {
                        Some(max) if max > MAX_TABLE_SIZE => {
                            return Err(fail(format!(
                                "maximum table size of {max} exceeds allowed limit of {MAX_TABLE_SIZE}"
                            )));
                        }
                        Some(_) => {}
                        None => *table = TableType::new(initial, Some(MAX_TABLE_SIZE)),
                    }
                    step = Some(Step::TableMaximum {
                        initial,
                        maximum_before: maximum,
                        maximum_after: Some(maximum.unwrap_or(MAX_TABLE_SIZE)),
                        rewritten: maximum.is_none(),
                    });
                }
            }
            Ok((module, step))
        }

        /// `ensure_br_table_size_limit`, `ensure_global_variable_limit`, `ensure_parameter_limit`,
        /// `ensure_valid_imports`, in the node's order.
        fn ensure_limits(module: &Module) -> Result<(), Failure> {
            for instruction in instructions(module) {
                if let Instruction::BrTable(data) = instruction {
                    let actual = data.table.len();
                    if actual > MAX_BR_TABLE_SIZE as usize {
                        return Err(Failure::validation(
                            ValidationCheck::BrTableSize,
                            format!("maximum br_table size of {actual} exceeds allowed limit of {MAX_BR_TABLE_SIZE}"),
                        ));
                    }
                }
            }
            if let Some(globals) = module.global_section() {
                let actual = globals.entries().len();
                if actual > MAX_GLOBALS as usize {
                    return Err(Failure::validation(
                        ValidationCheck::GlobalCount,
                        format!("declared number of globals ({actual}) exceeds allowed limit of {MAX_GLOBALS}"),
                    ));
                }
            }
            for Type::Function(function) in module.type_section().map(|t| t.types()).unwrap_or(&[]) {
                let actual = function.params().len();
                if actual > MAX_PARAMETERS as usize {
                    return Err(Failure::validation(
                        ValidationCheck::ParameterCount,
                        format!(
                            "use of a function type with too many parameters (limit of {MAX_PARAMETERS} but \
                             function declares {actual})"
                        ),
                    ));
                }
            }
            for import in module.import_section().map(|s| s.entries()).unwrap_or(&[]) {
                if import.module() == GAS_MODULE && import.field() == GAS_FUNCTION {
                    return Err(Failure::validation(
                        ValidationCheck::GasImport,
                        "module imports a non-existent function".to_owned(),
                    ));
                }
            }
            Ok(())
        }

        /// Per-opcode cost (1.4.13+ `impl Rules for OpcodeCosts`; on 2.x the multiplier of
        /// `RuledOpcodeCosts`). `sign` is the cost of sign-extension opcodes where the parser
        /// knows them.
        #[allow(unreachable_patterns, dead_code)]
        fn opcode_cost(c: &OpcodeCosts, cf: &ControlFlow, sign: Option<u32>, i: &Instruction) -> Option<u32> {
            use Instruction::*;
            match i {
                Unreachable => Some(c.unreachable),
                Nop => Some(c.nop),
                Block(_) => Some(cf.block),
                Loop(_) => Some(cf.op_loop),
                If(_) => Some(cf.op_if),
                Else => Some(cf.op_else),
                End => Some(cf.end),
                Br(_) => Some(cf.br),
                BrIf(_) => Some(cf.br_if),
                BrTable(data) => {
                    let size: u32 = data.table.len().try_into().ok()?;
                    cf.br_table.cost.checked_add(size.checked_mul(cf.br_table.size_multiplier)?)
                }
                Return => Some(cf.op_return),
                Call(_) => Some(cf.call),
                CallIndirect(_, _) => Some(cf.call_indirect),
                Drop => Some(cf.drop),
                Select => Some(cf.select),
                GetLocal(_) | SetLocal(_) | TeeLocal(_) => Some(c.local),
                GetGlobal(_) | SetGlobal(_) => Some(c.global),
                I32Load(..) | I64Load(..) | F32Load(..) | F64Load(..) | I32Load8S(..) | I32Load8U(..)
                | I32Load16S(..) | I32Load16U(..) | I64Load8S(..) | I64Load8U(..) | I64Load16S(..)
                | I64Load16U(..) | I64Load32S(..) | I64Load32U(..) => Some(c.load),
                I32Store(..) | I64Store(..) | F32Store(..) | F64Store(..) | I32Store8(..) | I32Store16(..)
                | I64Store8(..) | I64Store16(..) | I64Store32(..) => Some(c.store),
                CurrentMemory(_) => Some(c.current_memory),
                GrowMemory(_) => Some(c.grow_memory),
                I32Const(_) | I64Const(_) => Some(c.op_const),
                F32Const(_) | F64Const(_) => None,
                I32Eqz | I32Eq | I32Ne | I32LtS | I32LtU | I32GtS | I32GtU | I32LeS | I32LeU | I32GeS | I32GeU
                | I64Eqz | I64Eq | I64Ne | I64LtS | I64LtU | I64GtS | I64GtU | I64LeS | I64LeU | I64GeS
                | I64GeU => Some(c.integer_comparison),
                F32Eq | F32Ne | F32Lt | F32Gt | F32Le | F32Ge | F64Eq | F64Ne | F64Lt | F64Gt | F64Le
                | F64Ge => None,
                I32Clz | I32Ctz | I32Popcnt | I32And | I32Or | I32Xor | I32Shl | I32ShrS | I32ShrU | I32Rotl
                | I32Rotr | I64Clz | I64Ctz | I64Popcnt | I64And | I64Or | I64Xor | I64Shl | I64ShrS
                | I64ShrU | I64Rotl | I64Rotr => Some(c.bit),
                I32Add | I32Sub | I64Add | I64Sub => Some(c.add),
                I32Mul | I64Mul => Some(c.mul),
                I32DivS | I32DivU | I32RemS | I32RemU | I64DivS | I64DivU | I64RemS | I64RemU => Some(c.div),
                F32Abs | F32Neg | F32Ceil | F32Floor | F32Trunc | F32Nearest | F32Sqrt | F32Add | F32Sub
                | F32Mul | F32Div | F32Min | F32Max | F32Copysign | F64Abs | F64Neg | F64Ceil | F64Floor
                | F64Trunc | F64Nearest | F64Sqrt | F64Add | F64Sub | F64Mul | F64Div | F64Min | F64Max
                | F64Copysign => None,
                I32WrapI64 | I64ExtendSI32 | I64ExtendUI32 => Some(c.conversion),
                I32TruncSF32 | I32TruncUF32 | I32TruncSF64 | I32TruncUF64 | I64TruncSF32 | I64TruncUF32
                | I64TruncSF64 | I64TruncUF64 | F32ConvertSI32 | F32ConvertUI32 | F32ConvertSI64
                | F32ConvertUI64 | F32DemoteF64 | F64ConvertSI32 | F64ConvertUI32 | F64ConvertSI64
                | F64ConvertUI64 | F64PromoteF32 => None,
                I32ReinterpretF32 | I64ReinterpretF64 | F32ReinterpretI32 | F64ReinterpretI64 => None,
                // Only sign-extension opcodes remain (where the parser has them).
                _ => sign,
            }
        }

        /// 1.4.13 – 1.5.x rules.
        #[allow(dead_code)]
        struct PerOpcodeRules<'a> {
            costs: &'a OpcodeCosts,
            cf: &'a ControlFlow,
        }

        #[allow(dead_code)]
        fn per_opcode_rules(costs: &OpcodeCosts) -> PerOpcodeRules<'_> {
            PerOpcodeRules { costs, cf: per_opcode(costs) }
        }

        #[allow(dead_code)]
        fn per_opcode_cost(costs: &OpcodeCosts, i: &Instruction) -> Option<u32> {
            opcode_cost(costs, per_opcode(costs), None, i)
        }

        impl Rules for PerOpcodeRules<'_> {
            fn instruction_cost(&self, instruction: &Instruction) -> Option<u32> {
                opcode_cost(self.costs, self.cf, None, instruction)
            }

            fn memory_grow_cost(&self) -> Option<MemoryGrowCost> {
                std::num::NonZeroU32::new(self.costs.grow_memory).map(MemoryGrowCost::Linear)
            }
        }

        /// The node's `preprocess` for this line.
        ///
        /// Where the line hides a parser feature the node lacked, the check normally runs right
        /// after parsing (where the node's parser failed). When the line's gas rules make the
        /// check redundant on success ([`defers_feature_check`]), it runs only if a later step
        /// fails — then the node's parser would have failed first, so its error wins.
        pub(crate) fn preprocess(run: Run<'_>, bytes: &[u8], steps: &mut Vec<Step>) -> Result<Module, Failure> {
            let node_2x = run.pipeline.line.sign_ext();
            let module = deserialize(bytes, Stage::Preprocess, node_2x)?;
            if !defers_feature_check(&module, run.pipeline) {
                reject_unsupported_features(&module, run.pipeline.line, Stage::Preprocess)?;
                return preprocess_parsed(run, bytes.len(), module, steps);
            }
            let mark = steps.len();
            preprocess_parsed(run, bytes.len(), module, steps).map_err(|failure| {
                // Failure paths only: parse again (deterministic; it succeeded above) and run the
                // check the node's parser made before everything that just failed.
                let check = deserialize(bytes, Stage::Preprocess, node_2x)
                    .and_then(|module| reject_unsupported_features(&module, run.pipeline.line, Stage::Preprocess));
                match check {
                    Err(parser_failure) => {
                        steps.truncate(mark);
                        parser_failure
                    }
                    Ok(()) => failure,
                }
            })
        }

        /// `preprocess` after `deserialize`.
        fn preprocess_parsed(
            run: Run<'_>,
            input_bytes: usize,
            module: Module,
            steps: &mut Vec<Step>,
        ) -> Result<Module, Failure> {
            let measure = run.detailed;
            steps.push(Step::Deserialize { parser: PARSER, input_bytes, after: shape(&module, measure) });

            let checks = run.pipeline.checks;
            if checks == Checks::Full {
                ensure_valid_access(&module)?;
            }
            if !has_memory(&module, checks == Checks::MemorySectionPresent) {
                return Err(Failure::new(Stage::Preprocess, Reason::MissingMemory, "Memory section should exist"));
            }
            let module = if checks == Checks::Full {
                let (module, table_step) = ensure_table_size_limit(module)?;
                ensure_limits(&module)?;
                steps.push(Step::Validate {
                    checks,
                    passed: vec![
                        "ensure_valid_access",
                        "memory_section",
                        "ensure_table_size_limit",
                        "ensure_br_table_size_limit",
                        "ensure_global_variable_limit",
                        "ensure_parameter_limit",
                        "ensure_valid_imports",
                    ],
                });
                steps.extend(table_step);
                module
            } else {
                steps.push(Step::Validate { checks, passed: vec!["memory_section"] });
                module
            };

            let (initial_pages, maximum_before) = module
                .memory_section()
                .and_then(|m| m.entries().last())
                .map(|m| (m.limits().initial(), m.limits().maximum()))
                .unwrap_or((0, None));
            let max_memory = run.config.max_memory;
            let module = guarded(Stage::Preprocess, "externalize_mem", || {
                $utils::externalize_mem(module, None, max_memory)
            })?;
            steps.push(Step::ExternalizeMemory {
                max_memory,
                initial_pages,
                maximum_before,
                maximum_after: Some(maximum_before.unwrap_or(max_memory)),
                after: shape(&module, measure),
            });

            let costs = &run.config.opcode_costs;
            let module = match inject_gas(run.pipeline.rules, costs, module)? {
                Ok(module) => module,
                Err(module) => {
                    let cost = |i: &Instruction| instruction_cost(run.pipeline.rules, costs, i);
                    let imported = function_imports(&module) as u32;
                    let forbidden = module.code_section().into_iter().flat_map(|c| c.bodies()).enumerate().find_map(
                        |(index, body)| {
                            body.code()
                                .elements()
                                .iter()
                                .find(|i| cost(i).is_none())
                                .map(|i| (i.to_string(), imported + index as u32))
                        },
                    );
                    let (instruction, function) = match forbidden {
                        Some((instruction, function)) => (instruction, Some(function)),
                        None => ("none: a metered block's cost overflows u32".to_owned(), None),
                    };
                    return Err(Failure::new(
                        Stage::Preprocess,
                        Reason::ForbiddenInstruction { instruction, function },
                        "Encountered operation forbidden by gas rules. Consult instruction -> metering config map",
                    ));
                }
            };
            // Detailed records only (the node does no such pass): the charges, and whether
            // `memory.grow` survives — after injection it only exists inside the grow counter the
            // injection added (which itself calls gas once).
            let counts = measure.then(|| {
                let gas_index = function_imports(&module).saturating_sub(1) as u32;
                let (mut gas_calls, mut grow) = (0usize, false);
                for instruction in instructions(&module) {
                    match instruction {
                        Instruction::Call(f) if *f == gas_index => gas_calls += 1,
                        Instruction::GrowMemory(_) => grow = true,
                        _ => {}
                    }
                }
                (gas_calls - usize::from(grow), grow)
            });
            steps.push(Step::InjectGas {
                rules: run.pipeline.rules,
                costs: {
                    // The `opcode_costs.*` entries of `WasmConfig::flatten`, without the prefix.
                    let mut costs = Vec::with_capacity(32);
                    run.config.opcode_costs.for_each(|k, v| {
                        if run.pipeline.rules == GasRules::ClassSet || k != "regular" {
                            costs.push((k.to_owned(), v));
                        }
                    });
                    costs.into_iter().collect()
                },
                metered_blocks: counts.map(|(blocks, _)| blocks),
                grow_counter: counts.map(|(_, grow)| grow),
                after: shape(&module, measure),
            });

            let limit = run.config.max_stack_height;
            let module = guarded(Stage::Preprocess, "stack_height::inject_limiter", || {
                $utils::stack_height::inject_limiter(module, limit)
            })?
            .map_err(|_| Failure::new(Stage::Preprocess, Reason::StackLimiter, "Stack limiter error"))?;
            steps.push(Step::InjectStackLimiter { max_stack_height: limit, after: shape(&module, measure) });
            Ok(module)
        }

        /// Factory path: the stored bytes of the executing contract, read back with `deserialize`
        /// and nothing else.
        pub(crate) fn load_stored(
            line: Line,
            bytes: &[u8],
            measure: bool,
            steps: &mut Vec<Step>,
        ) -> Result<Module, Failure> {
            let module = deserialize(bytes, Stage::LoadStored, line.sign_ext())?;
            reject_unsupported_features(&module, line, Stage::LoadStored)?;
            steps.push(Step::LoadStored { parser: PARSER, input_bytes: bytes.len(), after: shape(&module, measure) });
            Ok(module)
        }

        /// `get_module_from_entry_points`: check the names, `optimize` a clone, `serialize`.
        pub(crate) fn install(
            mut module: Module,
            entry_points: &[&str],
            measure: bool,
            steps: &mut Vec<Step>,
        ) -> Result<Vec<u8>, Failure> {
            let not_found = |name: &str| {
                Failure::new(
                    Stage::Install,
                    Reason::EntryPointNotExported { name: name.to_owned() },
                    format!("Function not found: {name}"),
                )
            };
            let exports = module.export_section().ok_or_else(|| not_found("Missing Export Section"))?;
            if let Some(missing) =
                entry_points.iter().find(|name| !exports.entries().iter().any(|e| e.field() == **name))
            {
                return Err(not_found(missing));
            }
            let custom_sections_before = module
                .sections()
                .iter()
                .filter_map(|s| match s {
                    Section::Custom(c) => Some(c.name().to_owned()),
                    Section::Name(_) => Some("name".to_owned()),
                    _ => None,
                })
                .collect();
            let names: Vec<&str> = entry_points.to_vec();
            let optimized = guarded(Stage::Install, "optimize", || $utils::optimize(&mut module, names))?;
            if let Err(error) = optimized {
                let message = format!("{error:?}");
                return Err(Failure::new(Stage::Install, Reason::InstallFailed { message: message.clone() }, message));
            }
            let name_section_kept = module.sections().iter().any(|s| matches!(s, Section::Name(_)));
            let mut sorted: Vec<String> = entry_points.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>().into_iter().collect();
            sorted.dedup();
            steps.push(Step::Optimize {
                entry_points: sorted,
                custom_sections_before,
                name_section_kept,
                after: shape(&module, measure),
            });
            let bytes = guarded(Stage::Install, "serialize", || $wasm::serialize(module))?.map_err(|error| {
                let message = error.to_string();
                Failure::new(Stage::Install, Reason::InstallFailed { message: message.clone() }, message)
            })?;
            Ok(bytes)
        }
    };
}

/// Lines whose parser has no extension the node lacked: nothing to hide.
macro_rules! no_feature_guard {
    () => {
        fn reject_unsupported_features(_: &Module, _: Line, _: Stage) -> Result<(), Failure> {
            Ok(())
        }

        fn defers_feature_check(_: &Module, _: crate::line::Pipeline) -> bool {
            false
        }
    };
}

/// 2.x `RuledOpcodeCosts` (casper-execution-engine 8.x `cycles_for_instruction` × the per-opcode
/// cost); only on casper-wasm, whose parser knows sign-extension opcodes.
macro_rules! cycles_rules {
    () => {
        fn cycles(i: &Instruction) -> u32 {
            use Instruction::*;
            match i {
                Loop(_) | Block(_) | Else | End | Unreachable | Nop | Br(_) | Return | Drop => 1,
                If(_) | BrIf(_) => 3,
                BrTable(_) => 5,
                Call(_) => 22,
                CallIndirect(..) => 27,
                Select => 11,
                GetGlobal(_) => 7,
                I32Load(..) | I64Load(..) | F32Load(..) | F64Load(..) | I32Load8S(..)
                | I32Load8U(..) | I32Load16S(..) | I32Load16U(..) | I64Load8S(..)
                | I64Load8U(..) | I64Load16S(..) | I64Load16U(..) | I64Load32S(..)
                | I64Load32U(..) => 8,
                I32Store(..) | I64Store(..) | F32Store(..) | F64Store(..) | I32Store8(..)
                | I32Store16(..) | I64Store8(..) | I64Store16(..) | I64Store32(..) => 4,
                I32TruncUF32 | I64TruncSF32 => 40,
                I32TruncSF32 | I64TruncUF32 => 42,
                I32TruncSF64 | I32TruncUF64 | I64TruncUF64 | I64TruncSF64 => 195,
                // Locals, global.set, memory.size/grow, constants, comparisons, arithmetic, bit
                // operations, conversions, reinterpretations and sign extension: 5.
                _ => 5,
            }
        }

        fn cycles_times_cost(c: &OpcodeCosts, i: &Instruction) -> Option<u32> {
            let multiplier = opcode_cost(c, per_opcode(c), c.sign, i)?;
            cycles(i).checked_mul(multiplier)
        }

        struct CyclesRules<'a>(&'a OpcodeCosts);

        fn cycles_rules(costs: &OpcodeCosts) -> CyclesRules<'_> {
            CyclesRules(costs)
        }

        impl Rules for CyclesRules<'_> {
            fn instruction_cost(&self, i: &Instruction) -> Option<u32> {
                cycles_times_cost(self.0, i)
            }

            fn memory_grow_cost(&self) -> Option<MemoryGrowCost> {
                std::num::NonZeroU32::new(self.0.grow_memory).map(MemoryGrowCost::Linear)
            }
        }
    };
}

/// `inject_gas` / `instruction_cost` for a line, listing the gas rules its nodes ran; any other
/// pairing is impossible (`Pipeline::for_version` decides both from the version).
macro_rules! gas_dispatch {
    ($($kind:ident => $rules:expr, $cost:expr;)+) => {
        fn inject_gas(kind: GasRules, costs: &OpcodeCosts, module: Module) -> Result<Result<Module, Module>, Failure> {
            match kind {
                $(GasRules::$kind => {
                    let rules = $rules(costs);
                    guarded(Stage::Preprocess, "inject_gas_counter", move || inject_with(module, &rules))
                })+
                #[allow(unreachable_patterns)]
                other => unreachable!("{other:?} gas rules never ran on {PARSER}"),
            }
        }

        fn instruction_cost(kind: GasRules, costs: &OpcodeCosts, i: &Instruction) -> Option<u32> {
            match kind {
                $(GasRules::$kind => $cost(costs, i),)+
                #[allow(unreachable_patterns)]
                other => unreachable!("{other:?} gas rules never ran on {PARSER}"),
            }
        }
    };
}

/// pwasm-utils 0.16.0 + parity-wasm 0.41.0: mainnet 1.4.1 – 1.4.13.
pub(crate) mod pwasm016 {
    line_impl!(
        wasm = parity_wasm_0_41,
        utils = pwasm_utils_0_16,
        parser = "parity-wasm 0.41.0"
    );
    no_feature_guard!();

    use pwasm_utils_0_16::rules::{InstructionType, Metering, Set};

    fn inject_with<R: Rules>(module: Module, rules: &R) -> Result<Module, Module> {
        pwasm_utils_0_16::inject_gas_counter(module, rules, GAS_MODULE)
    }

    gas_dispatch! {
        ClassSet => class_set, class_set_cost;
        PerOpcode => per_opcode_rules, per_opcode_cost;
    }

    fn class_set_cost(c: &OpcodeCosts, i: &Instruction) -> Option<u32> {
        class_set(c).instruction_cost(i)
    }

    /// The ≤1.4.9 `OpcodeCosts::to_set`: fixed costs per class, `regular` for the rest (only the
    /// reinterpretations), floats forbidden, `grow_memory` as the linear grow cost.
    fn class_set(c: &OpcodeCosts) -> Set {
        let flat = match c.control_flow {
            crate::config::ControlFlowCosts::Flat(v) => v,
            crate::config::ControlFlowCosts::PerOpcode(_) => {
                unreachable!(
                    "checked by Protocol::new: class-set rules need a flat control-flow cost"
                )
            }
        };
        let mut map = std::collections::BTreeMap::new();
        for (class, cost) in [
            (InstructionType::Bit, c.bit),
            (InstructionType::Add, c.add),
            (InstructionType::Mul, c.mul),
            (InstructionType::Div, c.div),
            (InstructionType::Load, c.load),
            (InstructionType::Store, c.store),
            (InstructionType::Const, c.op_const),
            (InstructionType::Local, c.local),
            (InstructionType::Global, c.global),
            (InstructionType::ControlFlow, flat),
            (InstructionType::IntegerComparison, c.integer_comparison),
            (InstructionType::Conversion, c.conversion),
            (InstructionType::Unreachable, c.unreachable),
            (InstructionType::Nop, c.nop),
            (InstructionType::CurrentMemory, c.current_memory),
            (InstructionType::GrowMemory, c.grow_memory),
        ] {
            map.insert(class, Metering::Fixed(cost));
        }
        let regular = c
            .regular
            .expect("checked by Protocol::new: class-set rules need `regular`");
        Set::new(regular, map)
            .with_grow_cost(c.grow_memory)
            .with_forbidden_floats()
    }
}

/// casper-wasm-utils 1.0.0 + parity-wasm 0.42.2: mainnet 1.4.15 – 1.5.2.
pub(crate) mod cwu1 {
    line_impl!(
        wasm = parity_wasm_0_42,
        utils = casper_wasm_utils_1,
        parser = "parity-wasm 0.42.2"
    );
    no_feature_guard!();

    fn inject_with<R: Rules>(module: Module, rules: &R) -> Result<Module, Module> {
        casper_wasm_utils_1::inject_gas_counter(module, rules, GAS_MODULE)
    }

    gas_dispatch! {
        PerOpcode => per_opcode_rules, per_opcode_cost;
    }
}

/// casper-wasm-utils 2.0.0 + parity-wasm 0.45.0: the binary that ran mainnet 1.5.3.
pub(crate) mod cwu2 {
    line_impl!(
        wasm = parity_wasm_0_45,
        utils = casper_wasm_utils_2,
        parser = "parity-wasm 0.45.0"
    );
    no_feature_guard!();

    fn inject_with<R: Rules>(module: Module, rules: &R) -> Result<Module, Module> {
        casper_wasm_utils_2::inject_gas_counter(module, rules, GAS_MODULE)
    }

    gas_dispatch! {
        PerOpcode => per_opcode_rules, per_opcode_cost;
    }
}

/// casper-wasm-utils 3.0.0 + casper-wasm 0.46: mainnet 1.5.4 – 1.5.8 (no features) and 2.0.0 –
/// 2.0.2 (`sign_ext`). Compiled once, with `sign_ext`; the 1.5.x line hides it again.
pub(crate) mod cwu3 {
    line_impl!(
        wasm = casper_wasm_0_46,
        utils = casper_wasm_utils_3,
        parser = "casper-wasm 0.46.0"
    );
    cycles_rules!();

    fn inject_with<R: Rules>(module: Module, rules: &R) -> Result<Module, Module> {
        casper_wasm_utils_3::inject_gas_counter(module, rules, GAS_MODULE)
    }

    gas_dispatch! {
        PerOpcode => per_opcode_rules, per_opcode_cost;
        CyclesTimesCost => cycles_rules, cycles_times_cost;
    }

    /// The opcode byte of a sign-extension instruction.
    fn sign_ext_opcode(i: &Instruction) -> Option<u8> {
        use casper_wasm_0_46::elements::SignExtInstruction as S;
        match i {
            Instruction::SignExt(op) => Some(match op {
                S::I32Extend8S => 0xc0,
                S::I32Extend16S => 0xc1,
                S::I64Extend8S => 0xc2,
                S::I64Extend16S => 0xc3,
                S::I64Extend32S => 0xc4,
            }),
            _ => None,
        }
    }

    /// Constant expressions in module order around the code section: global initializers and
    /// element offsets before it, data offsets after it.
    fn constant_exprs(
        module: &Module,
    ) -> (
        impl Iterator<Item = &Instruction>,
        impl Iterator<Item = &Instruction>,
    ) {
        let before = module
            .global_section()
            .into_iter()
            .flat_map(|g| g.entries())
            .flat_map(|g| g.init_expr().code())
            .chain(
                module
                    .elements_section()
                    .into_iter()
                    .flat_map(|e| e.entries())
                    .flat_map(|e| e.offset().iter().flat_map(|o| o.code())),
            );
        let after = module
            .data_section()
            .into_iter()
            .flat_map(|d| d.entries())
            .flat_map(|d| d.offset().iter().flat_map(|o| o.code()));
        (before, after)
    }

    /// Node 1.5.x's casper-wasm had no `sign_ext`: its parser stopped at the first
    /// sign-extension opcode with `Unknown opcode`. Restore exactly that outcome.
    fn reject_unsupported_features(
        module: &Module,
        line: Line,
        stage: Stage,
    ) -> Result<(), Failure> {
        if line.sign_ext() {
            return Ok(());
        }
        let (before, after) = constant_exprs(module);
        let first = before
            .chain(instructions(module))
            .chain(after)
            .find_map(sign_ext_opcode);
        match first {
            None => Ok(()),
            Some(opcode) => Err(Failure::new(
                stage,
                Reason::SignExtension { opcode },
                format!("Deserialization error: Unknown opcode {opcode}"),
            )),
        }
    }

    /// Whether `preprocess` may skip [`reject_unsupported_features`] unless a later step fails:
    /// on 1.5.x with the per-opcode rules, which price sign extension as forbidden (`None`), and
    /// whose `inject_gas_counter` asks the rules for the cost of every instruction of every
    /// function body (`determine_metered_blocks`: reachable or not, before looking at it, and any
    /// `None` fails the whole injection). So a preprocessing that succeeds had no sign extension
    /// in any body, and one that fails gets the full check, whose error the node's parser gave
    /// first. The constant expressions the gas pass never visits (a handful of instructions) are
    /// checked here; finding one there runs the full check at once, in module order.
    fn defers_feature_check(module: &Module, pipeline: crate::line::Pipeline) -> bool {
        if pipeline.line.sign_ext() || pipeline.rules != GasRules::PerOpcode {
            return false;
        }
        let (before, after) = constant_exprs(module);
        !before.chain(after).any(|i| sign_ext_opcode(i).is_some())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The premise of [`defers_feature_check`]: the per-opcode rules forbid every
        /// sign-extension instruction, so `inject_gas_counter` fails on any of them.
        #[test]
        fn per_opcode_rules_forbid_every_sign_extension_instruction() {
            use casper_wasm_0_46::elements::SignExtInstruction as S;
            let protocol = crate::Protocol::mainnet("1.5.8".parse().unwrap()).unwrap();
            let rules = per_opcode_rules(&protocol.wasm.opcode_costs);
            for op in [
                S::I32Extend8S,
                S::I32Extend16S,
                S::I64Extend8S,
                S::I64Extend16S,
                S::I64Extend32S,
            ] {
                let i = Instruction::SignExt(op);
                assert!(sign_ext_opcode(&i).is_some());
                assert_eq!(rules.instruction_cost(&i), None, "{i}");
            }
        }
    }
}

/// casper-wasm-utils 4.0.0 + casper-wasm 1.0 (`sign_ext`, `call_indirect_overlong`): 2.0.3 and
/// later 2.x.
pub(crate) mod cwu4 {
    line_impl!(
        wasm = casper_wasm_1,
        utils = casper_wasm_utils_4,
        parser = "casper-wasm 1.0.0"
    );
    no_feature_guard!();
    cycles_rules!();

    fn inject_with<R: Rules>(module: Module, rules: &R) -> Result<Module, Module> {
        casper_wasm_utils_4::inject_gas_counter(module, rules, GAS_MODULE)
    }

    gas_dispatch! {
        CyclesTimesCost => cycles_rules, cycles_times_cost;
    }
}
