//! The transformation record: every step the node's processing applied, with the configuration
//! values it used and the module's size around it, so a report can say exactly what was
//! normalised.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::line::{Checks, GasRules, Line};
use crate::version::ProtocolVersion;

/// Shape of a module at one point of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Shape {
    /// Serialized size in bytes (detailed records only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<usize>,
    /// Imported + defined functions.
    pub functions: usize,
    pub imports: usize,
    pub exports: usize,
    pub globals: usize,
}

/// One step of the node's processing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The node's parser read the module.
    Deserialize {
        parser: &'static str,
        input_bytes: usize,
        after: Shape,
    },
    /// Rejection-only checks that passed.
    Validate {
        checks: Checks,
        passed: Vec<&'static str>,
    },
    /// `ensure_table_size_limit`: a table without maximum gets maximum 4096 (1.4.8+).
    TableMaximum {
        initial: u32,
        maximum_before: Option<u32>,
        maximum_after: Option<u32>,
        rewritten: bool,
    },
    /// `externalize_mem`: the module's memory becomes the import `env.memory`.
    ExternalizeMemory {
        max_memory: u32,
        initial_pages: u32,
        maximum_before: Option<u32>,
        maximum_after: Option<u32>,
        after: Shape,
    },
    /// `inject_gas_counter`: `i32.const COST; call $env.gas` at every metered block.
    InjectGas {
        rules: GasRules,
        /// The opcode costs used, by chainspec name.
        costs: BTreeMap<String, u32>,
        /// Number of `call $env.gas` charges (detailed records only).
        #[serde(skip_serializing_if = "Option::is_none")]
        metered_blocks: Option<usize>,
        /// `memory.grow` was found and replaced by a call to an added grow-counter function
        /// (detailed records only).
        #[serde(skip_serializing_if = "Option::is_none")]
        grow_counter: Option<bool>,
        after: Shape,
    },
    /// `stack_height::inject_limiter`.
    InjectStackLimiter { max_stack_height: u32, after: Shape },
    /// Factory path: a stored contract's bytes read back without any preprocessing.
    LoadStored {
        parser: &'static str,
        input_bytes: usize,
        after: Shape,
    },
    /// `optimize(module, entry points)` in `add_contract_version`.
    Optimize {
        entry_points: Vec<String>,
        /// Name of every custom section before the step; all but a parsed `name` section vanish.
        custom_sections_before: Vec<String>,
        name_section_kept: bool,
        after: Shape,
    },
    /// `serialize`: the bytes the node stores as `ContractWasm`.
    Serialize { output_bytes: usize },
}

/// The record of one replay: what ran, with which configuration, and each step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TransformationRecord {
    pub protocol: ProtocolVersion,
    pub line: Line,
    pub crates: &'static str,
    pub steps: Vec<Step>,
}
