//! The JSON documents: their own serialisation types, apart from the model, so that a change of a
//! model type cannot change a document by accident. Every document is an envelope
//! `{"schema_version": N, "kind": KIND, ...}` (see docs/json-schema.md).

use repro_chain::install::Install;
use repro_diff::{Cause, DiffReport};
use serde::Serialize;

use crate::model::{self, Comparison};
use crate::toolchain::ToolchainNote;

/// Version of every JSON document. Bump it on any change of a document's shape.
pub const SCHEMA_VERSION: u32 = 3;

/// `{"schema_version": N, "kind": KIND, ...payload}`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Envelope<'a, T: Serialize> {
    pub schema_version: u32,
    pub kind: &'a str,
    #[serde(flatten)]
    pub payload: &'a T,
}

impl<'a, T: Serialize> Envelope<'a, T> {
    pub fn new(kind: &'a str, payload: &'a T) -> Self {
        Envelope {
            schema_version: SCHEMA_VERSION,
            kind,
            payload,
        }
    }
}

/// `verify`: the whole verification.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct VerifyDoc<'a> {
    pub verdict: &'static str,
    pub summary: &'a str,
    pub install: &'a Install,
    pub configuration: ConfigDoc<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuild: Option<RebuildDoc<'a>>,
    pub contracts: Vec<ContractDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rerun: Option<RerunDoc<'a>>,
    /// How the rebuild's toolchain was chosen, when there is something to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toolchain: Option<ToolchainDoc<'a>>,
}

/// How the rebuild's toolchain was chosen.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ToolchainDoc<'a> {
    /// `inferred` (`--toolchain auto`) or `moving-pin` (the source pins only `stable`,
    /// `nightly` or `beta`: not reproducible).
    pub kind: &'static str,
    /// The same in one sentence.
    pub description: String,
    /// With `moving-pin`: the pin and its file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_file: Option<&'a str>,
    /// What was inferred (`inferred`), or what `--toolchain auto` would use (`moving-pin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inferred: Option<InferredDoc<'a>>,
    /// With `moving-pin`: why `--toolchain auto` cannot infer one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_inferable: Option<&'a str>,
}

/// A toolchain inferred from a module.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct InferredDoc<'a> {
    /// The name rustup installs (`1.79.0`, `nightly-2023-01-09`).
    pub toolchain: &'a str,
    /// The compiler as it names itself (`rustc 1.79.0 (129f3b996 2024-06-10)`).
    pub rustc: &'a str,
    /// Its commit (full when known).
    pub commit: &'a str,
    /// `producers` (the producers section) or `rustc-path` (a `/rustc/<commit>/` path in the
    /// data, through the table of stable releases).
    pub from: &'static str,
    /// The producers entry, or the commit of the path.
    pub evidence: &'a str,
    /// What the name rests on when it is not a release's own name (a nightly's date rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
}

impl<'a> From<&'a repro_build::toolchain::infer::Inferred> for InferredDoc<'a> {
    fn from(i: &'a repro_build::toolchain::infer::Inferred) -> Self {
        use repro_build::toolchain::infer::Source;
        let (from, evidence) = match &i.source {
            Source::Producers { entry } => ("producers", entry.as_str()),
            Source::RustcPath { commit } => ("rustc-path", commit.as_str()),
        };
        InferredDoc {
            toolchain: &i.toolchain,
            rustc: &i.rustc,
            commit: &i.commit,
            from,
            evidence,
            note: i.note.as_deref(),
        }
    }
}

impl<'a> From<&'a ToolchainNote> for ToolchainDoc<'a> {
    fn from(n: &'a ToolchainNote) -> Self {
        let description = n.describe();
        match n {
            ToolchainNote::Inferred(i) => ToolchainDoc {
                kind: "inferred",
                description,
                pin: None,
                pin_file: None,
                inferred: Some(i.into()),
                not_inferable: None,
            },
            ToolchainNote::MovingPin { pin, file, auto } => ToolchainDoc {
                kind: "moving-pin",
                description,
                pin: Some(pin),
                pin_file: Some(file),
                inferred: auto.as_ref().ok().map(InferredDoc::from),
                not_inferable: auto.as_ref().err().map(String::as_str),
            },
        }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ConfigDoc<'a> {
    pub protocol_version: &'a str,
    pub from: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumption: Option<&'a str>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RebuildDoc<'a> {
    pub package: &'a str,
    /// The artifact's file name (several per package with Odra: `<Contract>.wasm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact: Option<&'a str>,
    #[serde(flatten)]
    pub stage: StageDoc<'a>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ContractDoc<'a> {
    pub contract_hash: &'a str,
    pub entry_points: &'a [String],
    pub stored_sha256: &'a str,
    pub stages: Vec<StageDoc<'a>>,
    pub verdict: &'static str,
}

/// One comparison: A is the chain's side, B ours.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct StageDoc<'a> {
    /// `rebuild-vs-upload`, `replay-upload-vs-stored`, `replay-rebuild-vs-stored`.
    pub stage: &'static str,
    /// `identical`, `identical-after-normalisation`, `different`, `replay-rejected`.
    pub outcome: &'static str,
    pub a_sha256: &'a str,
    pub b_sha256: Option<&'a str>,
    /// The normalisation that made them equal, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalisation: Option<String>,
    /// Why the replay or the diff failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    #[serde(skip_serializing_if = "<[Cause]>::is_empty")]
    pub causes: &'a [Cause],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<&'a DiffReport>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RerunDoc<'a> {
    pub reason: &'a str,
    pub fitting_protocols: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_protocol: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<&'a str>,
}

impl<'a> From<&'a model::Stage> for StageDoc<'a> {
    fn from(s: &'a model::Stage) -> Self {
        let (normalisation, error, diff) = match &s.comparison {
            Comparison::EqualAfterNormalisation(steps) => (
                Some(
                    steps
                        .iter()
                        .map(|n| n.describe())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                None,
                None,
            ),
            Comparison::Different {
                diff, diff_error, ..
            } => (None, diff_error.as_deref(), diff.as_deref()),
            Comparison::Rejected { reason } => (None, Some(reason.as_str()), None),
            Comparison::Identical => (None, None, None),
        };
        StageDoc {
            stage: s.kind.as_str(),
            outcome: s.comparison.outcome(),
            a_sha256: &s.a_sha256,
            b_sha256: s.b_sha256.as_deref(),
            normalisation,
            error,
            causes: s.comparison.causes(),
            diff,
        }
    }
}

impl<'a> From<&'a model::Report> for VerifyDoc<'a> {
    fn from(r: &'a model::Report) -> Self {
        VerifyDoc {
            verdict: r.verdict.as_str(),
            summary: &r.summary,
            install: &r.install,
            configuration: ConfigDoc {
                protocol_version: &r.configuration.protocol_version,
                from: &r.configuration.from,
                assumption: r.configuration.assumption.as_deref(),
            },
            rebuild: r.rebuild.as_ref().map(|b| RebuildDoc {
                package: &b.package,
                artifact: b.artifact.as_deref(),
                stage: (&b.stage).into(),
            }),
            contracts: r
                .contracts
                .iter()
                .map(|c| ContractDoc {
                    contract_hash: &c.contract_hash,
                    entry_points: &c.entry_points,
                    stored_sha256: &c.stored_sha256,
                    stages: c.stages.iter().map(StageDoc::from).collect(),
                    verdict: c.verdict.as_str(),
                })
                .collect(),
            rerun: r.rerun.as_ref().map(|x| RerunDoc {
                reason: &x.reason,
                fitting_protocols: &x.fitting_protocols,
                suggested_protocol: x.suggested_protocol.as_deref(),
                command: x.command.as_deref(),
            }),
            toolchain: r.toolchain.as_ref().map(ToolchainDoc::from),
        }
    }
}

/// `replay`: what a node stores for an install.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ReplayDoc<'a> {
    pub protocol: &'a repro_core::Protocol,
    pub input: String,
    pub factory: bool,
    pub installs: Vec<ReplayInstallDoc<'a>>,
}

/// One contract of a `replay`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ReplayInstallDoc<'a> {
    pub entry_points: &'a [String],
    pub output: String,
    pub bytes: usize,
    pub sha256: String,
    pub record: &'a repro_core::TransformationRecord,
}

/// `replay` when the node would reject the module (nothing is written).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ReplayRejectedDoc<'a> {
    pub input: String,
    pub rejected: &'a repro_core::Rejection,
}

/// `protocols`: every known mainnet protocol version.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ProtocolsDoc<'a> {
    pub protocols: Vec<ProtocolDoc<'a>>,
}

/// One mainnet protocol version.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ProtocolDoc<'a> {
    pub version: String,
    pub activation_era: Option<u64>,
    pub pipeline: repro_core::Pipeline,
    pub crates: &'static str,
    pub note: &'static str,
    pub wasm: &'a repro_core::WasmConfig,
}

/// `build`: the artifacts and where their provenance is.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct BuildDoc<'a> {
    pub cache_hit: bool,
    pub cache_key: &'a str,
    pub toolchain: &'a str,
    /// With `--toolchain auto`: what was inferred, from what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inferred: Option<InferredDoc<'a>>,
    pub elapsed_ms: u128,
    pub artifacts: Vec<BuildArtifactDoc<'a>>,
}

/// One artifact of a `build`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct BuildArtifactDoc<'a> {
    pub package: &'a str,
    pub path: String,
    pub provenance: String,
    pub sha256: &'a str,
    pub size: u64,
}

/// `fetch`: the bundle saved and what the node's answers say.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FetchDoc<'a> {
    pub bundle: String,
    pub install: &'a Install,
}

/// `diff`: repro-diff's report is the document (docs/diff-json.md).
pub type DiffDoc = DiffReport;
/// `inspect`: repro-diff's fingerprint is the document.
pub type InspectDoc = repro_diff::Fingerprint;

/// The JSON Schema of every document kind, by kind name, envelope included.
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    use schemars::schema_for;
    vec![
        ("verify", schema_for!(Envelope<'static, VerifyDoc<'static>>)),
        ("fetch", schema_for!(Envelope<'static, FetchDoc<'static>>)),
        ("replay", schema_for!(Envelope<'static, ReplayDoc<'static>>)),
        (
            "replay-rejected",
            schema_for!(Envelope<'static, ReplayRejectedDoc<'static>>),
        ),
        (
            "protocols",
            schema_for!(Envelope<'static, ProtocolsDoc<'static>>),
        ),
        ("build", schema_for!(Envelope<'static, BuildDoc<'static>>)),
        ("diff", schema_for!(Envelope<'static, DiffDoc>)),
        ("inspect", schema_for!(Envelope<'static, InspectDoc>)),
    ]
}
