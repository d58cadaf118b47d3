//! Why a node would not store a module, in the node's words and in ours.

use std::fmt;

use serde::Serialize;

use crate::line::Line;
use crate::version::ProtocolVersion;

/// The node would have rejected the module: the execution fails and nothing is stored.
///
/// `node_error` is the text of the execution engine's error for this case (what the node put in
/// the execution result); `reason` classifies it and says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, schemars::JsonSchema)]
pub struct Rejection {
    pub protocol: ProtocolVersion,
    pub line: Line,
    /// `preprocess` (when the session starts) or `install` (`add_contract_version`).
    pub stage: Stage,
    pub reason: Reason,
    /// The execution engine's error text.
    pub node_error: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a protocol {} node ({}) rejects this module at {}: {}",
            self.protocol, self.line, self.stage, self.node_error
        )?;
        if let Reason::Malformed {
            located: Some(located),
            ..
        } = &self.reason
        {
            write!(f, " — {located}")?;
        }
        if let Some(hint) = self.reason.explanation() {
            write!(f, " — {hint}")?;
        }
        Ok(())
    }
}

/// Where in the node's processing the module fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// `wasm_prep::preprocess`, run when session code starts.
    Preprocess,
    /// Reading a stored contract's bytes back (`deserialize`, factory path).
    LoadStored,
    /// `get_module_from_entry_points` inside `add_contract_version`.
    Install,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Preprocess => "preprocessing",
            Stage::LoadStored => "loading the stored contract",
            Stage::Install => "install (add_contract_version)",
        })
    }
}

/// The reason for a rejection, classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// The node's parser failed for another reason (truncated, malformed, unsupported encoding).
    /// `located` is an independent reading of the same bytes with wasmparser, which names the
    /// byte offset of the first problem.
    Malformed {
        parser_error: String,
        located: Option<String>,
    },
    /// Sign-extension opcodes (`i32.extend8_s` …), unknown to every 1.x node.
    SignExtension { opcode: u8 },
    /// `call_indirect` with a table index that is not the single byte `0x00` (LLVM's 5-byte
    /// encoding under `reference-types`): rejected by every node before 2.0.3.
    OverlongCallIndirect,
    /// Bulk-memory opcodes (`memory.copy`, `memory.fill`, … prefix 0xFC).
    BulkMemory,
    /// SIMD opcodes (prefix 0xFD).
    Simd,
    /// Atomic opcodes (prefix 0xFE).
    Atomics,
    /// A function type with more than one result.
    MultiValue,
    /// No (non-empty) Memory section: an imported memory does not count.
    MissingMemory,
    /// One of the node's validation checks (1.4.8+), with its message.
    Validation {
        check: ValidationCheck,
        message: String,
    },
    /// An instruction the gas rules forbid (floats; reinterpretations from 1.4.13).
    ForbiddenInstruction {
        instruction: String,
        function: Option<u32>,
    },
    /// The stack-height limiter failed.
    StackLimiter,
    /// The node's own Wasm code panics on this module (possible on releases before 1.4.8 that did
    /// not validate); the real node failed the execution.
    NodePanic { message: String },
    /// An entry-point name is not an export of the module.
    EntryPointNotExported { name: String },
    /// `optimize` or `serialize` failed in `add_contract_version`.
    InstallFailed { message: String },
}

/// The node's validation checks (1.4.8+), named after the execution engine's functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ValidationCheck {
    ValidAccess,
    TableSize,
    BrTableSize,
    GlobalCount,
    ParameterCount,
    GasImport,
}

impl Reason {
    /// What the user can do about it, in one sentence.
    pub fn explanation(&self) -> Option<&'static str> {
        Some(match self {
            Reason::SignExtension { .. } => {
                "the module uses sign-extension opcodes, which Casper 1.x nodes do not accept; build for \
                 an MVP target (wasm32v1-none, or -C target-cpu=mvp on wasm32-unknown-unknown)"
            }
            Reason::OverlongCallIndirect => {
                "call_indirect carries a multi-byte table index (reference-types); nodes before 2.0.3 \
                 reject it; build without +reference-types (wasm32v1-none)"
            }
            Reason::BulkMemory => {
                "the module uses bulk-memory opcodes (memory.copy/fill), which no Casper node accepts; \
                 build for wasm32v1-none or with a toolchain whose core library is MVP"
            }
            Reason::Simd | Reason::Atomics => {
                "the module uses a Wasm proposal no Casper node accepts"
            }
            Reason::MultiValue => {
                "a function returns several values; no Casper node accepts multi-value"
            }
            Reason::MissingMemory => "the module must define its own memory (not import it)",
            Reason::ForbiddenInstruction { .. } => {
                "the gas rules forbid this instruction (floating point is not allowed in contracts)"
            }
            Reason::EntryPointNotExported { .. } => {
                "an entry point must be an exported function of the session module (check #[no_mangle] \
                 and the entry-point names)"
            }
            Reason::NodePanic { .. } => "the node's Wasm code could not process this module",
            Reason::Malformed { .. }
            | Reason::Validation { .. }
            | Reason::StackLimiter
            | Reason::InstallFailed { .. } => return None,
        })
    }
}

/// An error in the replay request itself (not a verdict about the module).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error(
        "unknown protocol version {version}; known mainnet versions: {known}. For another network pass its chainspec"
    )]
    UnknownVersion {
        version: ProtocolVersion,
        known: String,
    },
    #[error(transparent)]
    Unsupported(#[from] crate::line::UnsupportedVersion),
    #[error(
        "the chainspec's Wasm configuration does not fit protocol {version} ({rules:?} gas rules): {problem}"
    )]
    ConfigMismatch {
        version: ProtocolVersion,
        rules: crate::line::GasRules,
        problem: String,
    },
}
