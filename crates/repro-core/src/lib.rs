//! repro-core replays, byte for byte, what a Casper node does to the session Wasm of an install
//! before it stores a contract: validation, the table-maximum rewrite, `externalize_mem`, gas
//! injection with the era's rules and costs, the stack-height limiter, and `optimize` down to the
//! contract's entry points. Every mainnet protocol version from 1.4.1 to 2.x is covered, each on the
//! exact Wasm crates its node linked (see `docs/fidelity.md` for what proves each one).
//!
//! ```no_run
//! use repro_core::{Protocol, ReplayOptions};
//!
//! let session = std::fs::read("session.wasm")?;
//! let protocol = Protocol::mainnet("1.5.8".parse()?)?;
//! let preprocessed = repro_core::preprocess(&protocol, &session, ReplayOptions::default())?;
//! let stored = preprocessed.install(&["init", "transfer"])?;
//! std::fs::write("stored.wasm", &stored.bytes)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Architecture invariant: this crate never spawns a process, never prints, and never touches the
//! network or the file system.

// A library never prints: results are returned, logs go through `tracing`.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

mod config;
mod error;
mod line;
mod lines;
pub mod mainnet;
pub mod metering;
mod record;
mod version;

use sha2::{Digest, Sha256};

pub use config::{
    BrTableCost, ChainspecError, ChainspecWasm, ControlFlow, ControlFlowCosts, OpcodeCosts,
    WasmConfig, parse_chainspec,
};
pub use error::{ProtocolError, Reason, Rejection, Stage, ValidationCheck};
pub use line::{Checks, GasRules, Line, Pipeline, UnsupportedVersion};
pub use record::{Shape, Step, TransformationRecord};
pub use version::{ParseVersionError, ProtocolVersion};

use crate::lines::{Failure, Run};

/// Where a protocol's Wasm configuration came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ConfigSource {
    /// casper-repro's built-in table of mainnet releases.
    Mainnet,
    /// A chainspec file given by the user (another network, or a check of ours).
    Chainspec {
        name: String,
        sha256: String,
        network: Option<String>,
    },
}

/// A protocol version with everything that decides how its node processes Wasm.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Protocol {
    version: ProtocolVersion,
    pipeline: Pipeline,
    wasm: WasmConfig,
    source: ConfigSource,
}

impl Protocol {
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The node release's crates, gas rules and checks.
    pub fn pipeline(&self) -> Pipeline {
        self.pipeline
    }

    /// The configuration values (checked by [`Protocol::new`] to fit the pipeline's rules).
    pub fn wasm(&self) -> &WasmConfig {
        &self.wasm
    }

    pub fn source(&self) -> &ConfigSource {
        &self.source
    }

    /// A mainnet protocol version from the built-in table. An unknown version is an error that
    /// lists the known ones.
    pub fn mainnet(version: ProtocolVersion) -> Result<Protocol, ProtocolError> {
        let release = mainnet::release(version).ok_or_else(|| ProtocolError::UnknownVersion {
            version,
            known: mainnet::releases()
                .iter()
                .map(|r| r.version.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        Protocol::new(version, release.wasm, ConfigSource::Mainnet)
    }

    /// Any network: the version decides the node release (crates, rules, checks), the chainspec
    /// the values.
    pub fn from_chainspec(
        chainspec: &ChainspecWasm,
        name: &str,
        text: &[u8],
    ) -> Result<Protocol, ProtocolError> {
        let source = ConfigSource::Chainspec {
            name: name.to_owned(),
            sha256: hex::encode(Sha256::digest(text)),
            network: chainspec.network.clone(),
        };
        Protocol::new(chainspec.version, chainspec.wasm.clone(), source)
    }

    /// `version` with an explicit configuration, checked against what that release's rules read.
    pub fn new(
        version: ProtocolVersion,
        wasm: WasmConfig,
        source: ConfigSource,
    ) -> Result<Protocol, ProtocolError> {
        let pipeline = Pipeline::for_version(version)?;
        let mismatch = |problem: &str| ProtocolError::ConfigMismatch {
            version,
            rules: pipeline.rules,
            problem: problem.to_owned(),
        };
        let costs = &wasm.opcode_costs;
        match (pipeline.rules, &costs.control_flow) {
            (GasRules::ClassSet, ControlFlowCosts::PerOpcode(_)) => {
                return Err(mismatch(
                    "releases before 1.4.13 charge one flat `control_flow` cost",
                ));
            }
            (GasRules::PerOpcode | GasRules::CyclesTimesCost, ControlFlowCosts::Flat(_)) => {
                return Err(mismatch(
                    "releases from 1.4.13 need per-opcode `[…opcode_costs.control_flow]` costs",
                ));
            }
            _ => {}
        }
        if pipeline.rules == GasRules::ClassSet && costs.regular.is_none() {
            return Err(mismatch(
                "releases before 1.4.13 need `opcode_costs.regular`",
            ));
        }
        if pipeline.rules == GasRules::CyclesTimesCost && costs.sign.is_none() {
            return Err(mismatch("2.x releases need `opcode_costs.sign`"));
        }
        Ok(Protocol {
            version,
            pipeline,
            wasm,
            source,
        })
    }
}

/// Knobs of a replay that do not change its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayOptions {
    /// A detailed record: the module's size after every step (one extra serialization per
    /// step) and the number of metered blocks (one extra pass). The node does neither; without
    /// them a replay does the node's work plus only what feature unification requires.
    pub detailed: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self { detailed: true }
    }
}

/// The instrumented module a node keeps in its runtime while session code runs; each
/// `add_contract_version` stores an optimized clone of it.
#[derive(Debug, Clone)]
pub struct Preprocessed {
    protocol: ProtocolVersion,
    line: Line,
    options: ReplayOptions,
    module: LineModule,
    steps: Vec<Step>,
}

#[derive(Debug, Clone)]
enum LineModule {
    Pwasm016(lines::pwasm016::Parsed),
    Cwu1(lines::cwu1::Parsed),
    Cwu2(lines::cwu2::Parsed),
    Cwu3(lines::cwu3::Parsed),
    Cwu4(lines::cwu4::Parsed),
}

/// One stored contract module and how it came to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The bytes the node stores as `ContractWasm`.
    pub bytes: Vec<u8>,
    pub record: TransformationRecord,
}

/// Runs the node's `preprocess` on the exact uploaded session bytes.
pub fn preprocess(
    protocol: &Protocol,
    session: &[u8],
    options: ReplayOptions,
) -> Result<Preprocessed, Rejection> {
    let run = Run {
        pipeline: protocol.pipeline,
        config: &protocol.wasm,
        detailed: options.detailed,
    };
    let mut steps = Vec::new();
    let _span = tracing::debug_span!("preprocess", protocol = %protocol.version, line = run.pipeline.line.id()).entered();
    let module = match run.pipeline.line {
        Line::Pwasm016 => {
            lines::pwasm016::preprocess(run, session, &mut steps).map(LineModule::Pwasm016)
        }
        Line::Cwu1 => lines::cwu1::preprocess(run, session, &mut steps).map(LineModule::Cwu1),
        Line::Cwu2 => lines::cwu2::preprocess(run, session, &mut steps).map(LineModule::Cwu2),
        Line::Cwu3 | Line::Cwu3SignExt => {
            lines::cwu3::preprocess(run, session, &mut steps).map(LineModule::Cwu3)
        }
        Line::Cwu4 => lines::cwu4::preprocess(run, session, &mut steps).map(LineModule::Cwu4),
    }
    .map_err(|f| rejection(protocol.version, run.pipeline.line, f))?;
    tracing::debug!(steps = steps.len(), "preprocessed");
    Ok(Preprocessed {
        protocol: protocol.version,
        line: run.pipeline.line,
        options,
        module,
        steps,
    })
}

/// Factory path: a contract installed by a *stored* contract. The node optimizes the caller's
/// stored bytes as they are — deserialized, never preprocessed again.
pub fn load_stored(
    protocol: &Protocol,
    stored: &[u8],
    options: ReplayOptions,
) -> Result<Preprocessed, Rejection> {
    let line = protocol.pipeline.line;
    let measure = options.detailed;
    let mut steps = Vec::new();
    let module = match line {
        Line::Pwasm016 => lines::pwasm016::load_stored(line, stored, measure, &mut steps)
            .map(LineModule::Pwasm016),
        Line::Cwu1 => {
            lines::cwu1::load_stored(line, stored, measure, &mut steps).map(LineModule::Cwu1)
        }
        Line::Cwu2 => {
            lines::cwu2::load_stored(line, stored, measure, &mut steps).map(LineModule::Cwu2)
        }
        Line::Cwu3 | Line::Cwu3SignExt => {
            lines::cwu3::load_stored(line, stored, measure, &mut steps).map(LineModule::Cwu3)
        }
        Line::Cwu4 => {
            lines::cwu4::load_stored(line, stored, measure, &mut steps).map(LineModule::Cwu4)
        }
    }
    .map_err(|f| rejection(protocol.version, line, f))?;
    Ok(Preprocessed {
        protocol: protocol.version,
        line,
        options,
        module,
        steps,
    })
}

impl Preprocessed {
    /// What `add_contract_version` stores for a contract with these entry-point names (the keys
    /// of the stored `Contract.entry_points`; order and duplicates do not matter). The module is
    /// kept for further installs by the same session, as the node keeps it.
    pub fn install<S: AsRef<str>>(&self, entry_points: &[S]) -> Result<Installed, Rejection> {
        self.clone().install_once(entry_points)
    }

    /// [`Preprocessed::install`] for the last (or only) contract of a session: consumes the
    /// module instead of cloning it.
    pub fn install_once<S: AsRef<str>>(self, entry_points: &[S]) -> Result<Installed, Rejection> {
        let Preprocessed {
            protocol,
            line,
            options,
            module,
            mut steps,
        } = self;
        let names: Vec<&str> = entry_points.iter().map(AsRef::as_ref).collect();
        let measure = options.detailed;
        let _span = tracing::debug_span!("install", entry_points = ?names).entered();
        let bytes = match module {
            LineModule::Pwasm016(m) => lines::pwasm016::install(m, &names, measure, &mut steps),
            LineModule::Cwu1(m) => lines::cwu1::install(m, &names, measure, &mut steps),
            LineModule::Cwu2(m) => lines::cwu2::install(m, &names, measure, &mut steps),
            LineModule::Cwu3(m) => lines::cwu3::install(m, &names, measure, &mut steps),
            LineModule::Cwu4(m) => lines::cwu4::install(m, &names, measure, &mut steps),
        }
        .map_err(|f| rejection(protocol, line, f))?;
        steps.push(Step::Serialize {
            output_bytes: bytes.len(),
        });
        let record = TransformationRecord {
            protocol,
            line,
            crates: line.crates(),
            steps,
        };
        Ok(Installed { bytes, record })
    }

    /// The steps applied so far (preprocessing, or loading the stored caller).
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The release line that processed the module.
    pub fn line(&self) -> Line {
        self.line
    }
}

/// Where wasmparser (all proposals on, so only real malformations count) finds the first problem
/// in `bytes`, as "message (at offset 0x…)".
pub(crate) fn locate_malformation(bytes: &[u8]) -> Option<String> {
    let mut validator = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
    validator
        .validate_all(bytes)
        .err()
        .map(|e| format!("{} (at offset {:#x})", e.message(), e.offset()))
}

fn rejection(protocol: ProtocolVersion, line: Line, failure: Failure) -> Rejection {
    Rejection {
        protocol,
        line,
        stage: failure.stage,
        reason: failure.reason,
        node_error: failure.node_error,
    }
}
