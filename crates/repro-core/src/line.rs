//! Release lines: which Wasm crates, gas rules and checks a node ran at a protocol version
//! (`node-pipeline.md` §1–§4). The mapping is by protocol version, not by crates.io engine version.

use std::fmt;

use serde::Serialize;

use crate::version::ProtocolVersion;

/// The Wasm crates (and their features) a node linked: one per distinct byte-level behaviour.
/// Serialized as its [`Line::id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Line {
    /// pwasm-utils 0.16.0 + parity-wasm 0.41.0 (1.4.0 – 1.4.13).
    Pwasm016,
    /// casper-wasm-utils 1.0.0 + parity-wasm 0.42.2 (1.4.14 – 1.5.2).
    Cwu1,
    /// casper-wasm-utils 2.0.0 + parity-wasm 0.45.0 (the binary that ran mainnet 1.5.3).
    Cwu2,
    /// casper-wasm-utils 3.0.0 + casper-wasm 0.46, no features (1.5.4 – 1.5.x).
    Cwu3,
    /// casper-wasm-utils 3.0.0 + casper-wasm 0.46 with `sign_ext` (2.0.0 – 2.0.2).
    Cwu3SignExt,
    /// casper-wasm-utils 4.0.0 + casper-wasm 1.0 with `sign_ext` and `call_indirect_overlong`
    /// (2.0.3 and later 2.x).
    Cwu4,
}

impl Line {
    /// The crates (exact versions) and features of this line.
    pub fn crates(self) -> &'static str {
        match self {
            Line::Pwasm016 => "pwasm-utils 0.16.0 + parity-wasm 0.41.0",
            Line::Cwu1 => "casper-wasm-utils 1.0.0 + parity-wasm 0.42.2",
            Line::Cwu2 => "casper-wasm-utils 2.0.0 + parity-wasm 0.45.0",
            Line::Cwu3 => "casper-wasm-utils 3.0.0 + casper-wasm 0.46.0",
            Line::Cwu3SignExt => "casper-wasm-utils 3.0.0 + casper-wasm 0.46.0 [sign_ext]",
            Line::Cwu4 => {
                "casper-wasm-utils 4.0.0 + casper-wasm 1.0.0 [sign_ext, call_indirect_overlong]"
            }
        }
    }

    /// Short stable identifier (used in JSON and snapshots).
    pub fn id(self) -> &'static str {
        match self {
            Line::Pwasm016 => "pwasm-0.16",
            Line::Cwu1 => "cwu-1",
            Line::Cwu2 => "cwu-2",
            Line::Cwu3 => "cwu-3",
            Line::Cwu3SignExt => "cwu-3-sign-ext",
            Line::Cwu4 => "cwu-4",
        }
    }

    /// Whether the node's parser accepts sign-extension opcodes.
    pub fn sign_ext(self) -> bool {
        matches!(self, Line::Cwu3SignExt | Line::Cwu4)
    }
}

impl Serialize for Line {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl schemars::JsonSchema for Line {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Line".into()
    }
    /// The release line's id (`Line::id`).
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string"})
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.crates())
    }
}

/// The gas rules the execution engine built from the chainspec's opcode costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GasRules {
    /// pwasm-utils `rules::Set`: one cost per instruction class, flat control flow, `regular` for
    /// unlisted classes, floats forbidden (1.4.0 – 1.4.9).
    ClassSet,
    /// `impl Rules for OpcodeCosts`: per-opcode control flow, floats and reinterpretations
    /// forbidden (1.4.13 – 1.5.x).
    PerOpcode,
    /// `RuledOpcodeCosts`: a fixed cycle count per opcode × the chainspec cost (2.x).
    CyclesTimesCost,
}

/// The checks `preprocess` ran before instrumenting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Checks {
    /// A Memory section must exist; an empty one slips through and then panics the node's
    /// `externalize_mem` (1.4.0 – 1.4.4).
    MemorySectionPresent,
    /// A Memory section with at least one entry must exist (1.4.5 – 1.4.7).
    MemoryNonEmpty,
    /// Full validation and the table-maximum rewrite (1.4.8 and later).
    Full,
}

/// Everything that decides how a module is processed at one protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct Pipeline {
    pub line: Line,
    pub rules: GasRules,
    pub checks: Checks,
}

/// A protocol version outside the range casper-repro knows how to replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("protocol version {0} is outside the supported range 1.4.0 – 2.x")]
pub struct UnsupportedVersion(pub ProtocolVersion);

impl Pipeline {
    /// The pipeline of the node release that ran at `version` on mainnet (any network running the
    /// same release behaves the same; only the chainspec values differ).
    pub fn for_version(version: ProtocolVersion) -> Result<Pipeline, UnsupportedVersion> {
        let v = |a, b, c| ProtocolVersion::new(a, b, c);
        let (line, rules, checks) = match version {
            x if x < v(1, 4, 0) => return Err(UnsupportedVersion(version)),
            x if x < v(1, 4, 5) => (
                Line::Pwasm016,
                GasRules::ClassSet,
                Checks::MemorySectionPresent,
            ),
            x if x < v(1, 4, 8) => (Line::Pwasm016, GasRules::ClassSet, Checks::MemoryNonEmpty),
            // 1.4.9 ran the 1.4.8 binary (only the chainspec changed).
            x if x < v(1, 4, 13) => (Line::Pwasm016, GasRules::ClassSet, Checks::Full),
            x if x < v(1, 4, 14) => (Line::Pwasm016, GasRules::PerOpcode, Checks::Full),
            x if x < v(1, 5, 3) => (Line::Cwu1, GasRules::PerOpcode, Checks::Full),
            x if x < v(1, 5, 4) => (Line::Cwu2, GasRules::PerOpcode, Checks::Full),
            x if x < v(2, 0, 0) => (Line::Cwu3, GasRules::PerOpcode, Checks::Full),
            x if x < v(2, 0, 3) => (Line::Cwu3SignExt, GasRules::CyclesTimesCost, Checks::Full),
            x if x < v(3, 0, 0) => (Line::Cwu4, GasRules::CyclesTimesCost, Checks::Full),
            _ => return Err(UnsupportedVersion(version)),
        };
        Ok(Pipeline {
            line,
            rules,
            checks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pipeline {
        Pipeline::for_version(s.parse().unwrap()).unwrap()
    }

    #[test]
    fn boundaries_follow_the_mainnet_binaries() {
        assert_eq!(p("1.4.4").checks, Checks::MemorySectionPresent);
        assert_eq!(p("1.4.5").checks, Checks::MemoryNonEmpty);
        assert_eq!(
            p("1.4.9"),
            Pipeline {
                line: Line::Pwasm016,
                rules: GasRules::ClassSet,
                checks: Checks::Full
            }
        );
        assert_eq!(p("1.4.13").rules, GasRules::PerOpcode);
        assert_eq!(p("1.4.15").line, Line::Cwu1);
        assert_eq!(p("1.5.2").line, Line::Cwu1);
        assert_eq!(p("1.5.3").line, Line::Cwu2);
        assert_eq!(p("1.5.8").line, Line::Cwu3);
        assert_eq!(p("2.0.0").line, Line::Cwu3SignExt);
        assert_eq!(p("2.0.3").line, Line::Cwu4);
        assert_eq!(p("2.2.0").line, Line::Cwu4);
        assert!(Pipeline::for_version("1.3.9".parse().unwrap()).is_err());
        assert!(Pipeline::for_version("3.0.0".parse().unwrap()).is_err());
    }
}
