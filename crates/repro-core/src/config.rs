//! The part of a chainspec that shapes stored contract Wasm: `max_memory`, `max_stack_height` and
//! the opcode costs, in the layout of the chainspec's `[wasm]` (1.x) or `[wasm.v1]` (2.x) table.
//!
//! Host-function and storage costs do not change the stored bytes and are not kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::version::ProtocolVersion;

/// Wasm limits and opcode costs of one network at one protocol version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WasmConfig {
    /// Maximum linear memory in 64 KiB pages; becomes the maximum of the `env.memory` import when
    /// the module's own memory has none.
    pub max_memory: u32,
    /// The stack-height limiter's limit, baked into every instrumented call.
    pub max_stack_height: u32,
    pub opcode_costs: OpcodeCosts,
}

/// Opcode costs, named as in the chainspec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OpcodeCosts {
    pub bit: u32,
    pub add: u32,
    pub mul: u32,
    pub div: u32,
    pub load: u32,
    pub store: u32,
    #[serde(rename = "const")]
    pub op_const: u32,
    pub local: u32,
    pub global: u32,
    pub integer_comparison: u32,
    pub conversion: u32,
    pub unreachable: u32,
    pub nop: u32,
    pub current_memory: u32,
    pub grow_memory: u32,
    /// Cost of instructions of no listed class (only reinterpretations). Read by the ≤1.4.9
    /// `Set` rules; present but ignored in 1.4.13 files; absent from 1.4.15 on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regular: Option<u32>,
    /// Sign-extension opcodes (2.x only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<u32>,
    pub control_flow: ControlFlowCosts,
}

/// Control-flow costs: one number for the whole class (≤1.4.9) or one per opcode (1.4.13+).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ControlFlowCosts {
    Flat(u32),
    PerOpcode(ControlFlow),
}

/// Per-opcode control-flow costs (1.4.13 and later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ControlFlow {
    pub block: u32,
    #[serde(rename = "loop")]
    pub op_loop: u32,
    #[serde(rename = "if")]
    pub op_if: u32,
    #[serde(rename = "else")]
    pub op_else: u32,
    pub end: u32,
    pub br: u32,
    pub br_if: u32,
    pub br_table: BrTableCost,
    #[serde(rename = "return")]
    pub op_return: u32,
    pub call: u32,
    pub call_indirect: u32,
    pub drop: u32,
    pub select: u32,
}

/// `br_table` costs `cost + targets × size_multiplier` (the default target is not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BrTableCost {
    pub cost: u32,
    pub size_multiplier: u32,
}

impl WasmConfig {
    /// Every value as a flat `name → value` map with dotted names (`control_flow.br_table.cost`),
    /// for reports and comparisons.
    pub fn flatten(&self) -> BTreeMap<String, u32> {
        let mut out = BTreeMap::new();
        out.insert("max_memory".to_owned(), self.max_memory);
        out.insert("max_stack_height".to_owned(), self.max_stack_height);
        self.opcode_costs.for_each(|k, v| {
            out.insert(format!("opcode_costs.{k}"), v);
        });
        out
    }
}

impl OpcodeCosts {
    /// Every cost with its dotted chainspec name below `opcode_costs` (`control_flow.br_table.cost`),
    /// in a fixed order: the entries of [`WasmConfig::flatten`] without their `opcode_costs.` prefix.
    pub(crate) fn for_each(&self, mut put: impl FnMut(&'static str, u32)) {
        let c = self;
        for (k, v) in [
            ("bit", c.bit),
            ("add", c.add),
            ("mul", c.mul),
            ("div", c.div),
            ("load", c.load),
            ("store", c.store),
            ("const", c.op_const),
            ("local", c.local),
            ("global", c.global),
            ("integer_comparison", c.integer_comparison),
            ("conversion", c.conversion),
            ("unreachable", c.unreachable),
            ("nop", c.nop),
            ("current_memory", c.current_memory),
            ("grow_memory", c.grow_memory),
        ] {
            put(k, v);
        }
        if let Some(v) = c.regular {
            put("regular", v);
        }
        if let Some(v) = c.sign {
            put("sign", v);
        }
        match &c.control_flow {
            ControlFlowCosts::Flat(v) => put("control_flow", *v),
            ControlFlowCosts::PerOpcode(cf) => {
                for (k, v) in [
                    ("control_flow.block", cf.block),
                    ("control_flow.loop", cf.op_loop),
                    ("control_flow.if", cf.op_if),
                    ("control_flow.else", cf.op_else),
                    ("control_flow.end", cf.end),
                    ("control_flow.br", cf.br),
                    ("control_flow.br_if", cf.br_if),
                    ("control_flow.br_table.cost", cf.br_table.cost),
                    (
                        "control_flow.br_table.size_multiplier",
                        cf.br_table.size_multiplier,
                    ),
                    ("control_flow.return", cf.op_return),
                    ("control_flow.call", cf.call),
                    ("control_flow.call_indirect", cf.call_indirect),
                    ("control_flow.drop", cf.drop),
                    ("control_flow.select", cf.select),
                ] {
                    put(k, v);
                }
            }
        }
    }
}

/// A chainspec file that cannot be used for replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainspecError {
    #[error("not valid TOML: {0}")]
    Toml(String),
    #[error("no `[protocol] version` in the chainspec")]
    MissingVersion,
    #[error("invalid `[protocol] version`: {0}")]
    BadVersion(String),
    #[error("no `[wasm]` (1.x) or `[wasm.v1]` (2.x) table in the chainspec")]
    MissingWasm,
    #[error("invalid `[{table}]` table: {message}")]
    BadWasm {
        table: &'static str,
        message: String,
    },
}

/// What a chainspec file says about Wasm processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainspecWasm {
    /// `[protocol] version`.
    pub version: ProtocolVersion,
    /// `[network] name`, when present.
    pub network: Option<String>,
    /// Which table the values came from: `wasm` or `wasm.v1`.
    pub table: &'static str,
    pub wasm: WasmConfig,
}

/// Parses the Wasm-relevant parts of a chainspec (the node's `chainspec.toml`), in the 1.x
/// (`[wasm]`) or the 2.x (`[wasm.v1]`) layout. Tables the replay does not need are ignored.
pub fn parse_chainspec(text: &str) -> Result<ChainspecWasm, ChainspecError> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ChainspecError::Toml(e.to_string()))?;
    let version = doc
        .get("protocol")
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .ok_or(ChainspecError::MissingVersion)?;
    let version: ProtocolVersion =
        version
            .parse()
            .map_err(|e: crate::version::ParseVersionError| {
                ChainspecError::BadVersion(e.to_string())
            })?;
    let network = doc
        .get("network")
        .and_then(|n| n.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned);
    let wasm = doc.get("wasm").ok_or(ChainspecError::MissingWasm)?;
    let (table, value) = match wasm.get("v1") {
        Some(v1) => ("wasm.v1", v1.clone()),
        None => ("wasm", wasm.clone()),
    };
    let wasm: WasmConfig =
        value
            .try_into()
            .map_err(|e: toml::de::Error| ChainspecError::BadWasm {
                table,
                message: e.message().to_owned(),
            })?;
    Ok(ChainspecWasm {
        version,
        network,
        table,
        wasm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_LAYOUT: &str = r#"
[protocol]
version = '1.4.5'
[network]
name = 'my-net'
[wasm]
max_memory = 64
max_stack_height = 188
[wasm.storage_costs]
gas_per_byte = 630_000
[wasm.opcode_costs]
bit = 300
add = 210
mul = 240
div = 320
load = 2_500
store = 4_700
const = 110
local = 390
global = 390
control_flow = 440
integer_comparison = 250
conversion = 420
unreachable = 270
nop = 200
current_memory = 290
grow_memory = 240_000
regular = 210
[wasm.host_function_costs]
add = { cost = 5_800, arguments = [0, 0, 0, 0] }
"#;

    #[test]
    fn parses_flat_control_flow_layout() {
        let spec = parse_chainspec(V1_LAYOUT).unwrap();
        assert_eq!(spec.version, ProtocolVersion::new(1, 4, 5));
        assert_eq!(spec.network.as_deref(), Some("my-net"));
        assert_eq!(spec.table, "wasm");
        assert_eq!(
            spec.wasm.opcode_costs.control_flow,
            ControlFlowCosts::Flat(440)
        );
        assert_eq!(spec.wasm.opcode_costs.regular, Some(210));
        assert_eq!(spec.wasm.flatten()["opcode_costs.const"], 110);
    }

    #[test]
    fn names_the_missing_field() {
        let text = V1_LAYOUT.replace("load = 2_500\n", "");
        let err = parse_chainspec(&text).unwrap_err();
        assert_eq!(
            err,
            ChainspecError::BadWasm {
                table: "wasm",
                message: "missing field `load`".to_owned()
            }
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            parse_chainspec("[[[").unwrap_err(),
            ChainspecError::Toml(_)
        ));
        assert_eq!(
            parse_chainspec("[network]\nname='x'").unwrap_err(),
            ChainspecError::MissingVersion
        );
        assert_eq!(
            parse_chainspec("[protocol]\nversion='1.5.8'").unwrap_err(),
            ChainspecError::MissingWasm
        );
    }
}
