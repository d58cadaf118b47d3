//! The verification's result as types: stages, comparisons, verdicts. Their JSON form is the
//! wire module's (`crate::wire`), not theirs.

use repro_chain::install::Install;
use repro_diff::{Cause, DiffReport};

/// Which comparison a stage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    /// 1. the rebuilt artifact vs the uploaded session bytes: a build question.
    RebuildVsUpload,
    /// 2. replay(uploaded bytes) vs the stored bytes: a replay / configuration question.
    ReplayUploadVsStored,
    /// 3. replay(rebuild) vs the stored bytes: the claim users care about.
    ReplayRebuildVsStored,
}

impl StageKind {
    /// The stage's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::RebuildVsUpload => "rebuild-vs-upload",
            StageKind::ReplayUploadVsStored => "replay-upload-vs-stored",
            StageKind::ReplayRebuildVsStored => "replay-rebuild-vs-stored",
        }
    }
}

/// A named normalisation that made two modules equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalisation {
    /// Every custom section (names, producers, debug info) removed from both.
    CustomSectionsRemoved,
}

impl Normalisation {
    /// What it did, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Normalisation::CustomSectionsRemoved => {
                "custom sections removed from both (names, producers, debug info): the code and data are identical"
            }
        }
    }
}

/// How the two sides of a stage compare.
#[derive(Debug, Clone)]
pub enum Comparison {
    /// Byte for byte.
    Identical,
    /// Equal only after the named normalisations.
    EqualAfterNormalisation(Vec<Normalisation>),
    /// Different: the structural diff and its ranked causes (or why the diff failed).
    Different {
        causes: Vec<Cause>,
        diff: Option<Box<DiffReport>>,
        diff_error: Option<String>,
    },
    /// The node would have rejected the module: its reason.
    Rejected { reason: String },
}

impl Comparison {
    /// Byte for byte.
    pub fn is_exact(&self) -> bool {
        matches!(self, Comparison::Identical)
    }

    /// Exactly or after named normalisations.
    pub fn matches(&self) -> bool {
        matches!(
            self,
            Comparison::Identical | Comparison::EqualAfterNormalisation(_)
        )
    }

    /// The ranked causes of a difference (empty otherwise).
    pub fn causes(&self) -> &[Cause] {
        match self {
            Comparison::Different { causes, .. } => causes,
            _ => &[],
        }
    }

    /// The outcome's name in reports.
    pub fn outcome(&self) -> &'static str {
        match self {
            Comparison::Identical => "identical",
            Comparison::EqualAfterNormalisation(_) => "identical-after-normalisation",
            Comparison::Different { .. } => "different",
            Comparison::Rejected { .. } => "replay-rejected",
        }
    }
}

/// One comparison: the chain's side (A) against ours (B).
#[derive(Debug, Clone)]
pub struct Stage {
    pub kind: StageKind,
    /// sha256 of A (the chain's side).
    pub a_sha256: String,
    /// sha256 of B, when there is a B (not when the replay was rejected).
    pub b_sha256: Option<String>,
    pub comparison: Comparison,
}

/// What the evidence supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// replay(rebuild) is the stored module, byte for byte.
    Verified,
    /// Equal only after named, reported normalisation steps.
    VerifiedAfterNormalisation,
    /// No source given: the node's processing of the uploaded bytes is reproduced exactly.
    ReplayVerified,
    /// The bytes do not match; the failing stage and causes say why.
    Mismatch,
    /// A chain commitment (hash, signature, proof) failed: nothing here can be trusted.
    Untrusted,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::VerifiedAfterNormalisation => "verified-after-normalisation",
            Verdict::ReplayVerified => "replay-verified",
            Verdict::Mismatch => "mismatch",
            Verdict::Untrusted => "untrusted",
        }
    }

    pub fn is_positive(self) -> bool {
        matches!(
            self,
            Verdict::Verified | Verdict::VerifiedAfterNormalisation | Verdict::ReplayVerified
        )
    }
}

/// The verdict on one contract.
#[derive(Debug, Clone)]
pub struct ContractResult {
    pub contract_hash: String,
    pub entry_points: Vec<String>,
    pub stored_sha256: String,
    pub stages: Vec<Stage>,
    pub verdict: Verdict,
}

impl ContractResult {
    /// The stage of this kind, if it ran.
    pub fn stage(&self, kind: StageKind) -> Option<&Stage> {
        self.stages.iter().find(|s| s.kind == kind)
    }
}

/// A candidate rebuild: one package's artifact (or a file built elsewhere).
#[derive(Debug, Clone)]
pub struct Rebuilt {
    pub package: String,
    /// The artifact's file name, when a package builds several (an Odra contract's
    /// `<Contract>.wasm`).
    pub artifact: Option<String>,
    pub bytes: Vec<u8>,
}

/// Stage 1: the rebuilt artifact against the uploaded session bytes.
#[derive(Debug, Clone)]
pub struct RebuildStage {
    /// The package (or file) whose artifact was compared.
    pub package: String,
    /// That artifact's file name, when the build names one.
    pub artifact: Option<String>,
    pub stage: Stage,
}

/// The configuration used for the replay and where it came from.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    pub protocol_version: String,
    /// `chainspec FILE`, `--protocol`, or the executing block's protocol version.
    pub from: String,
    /// Set when a configuration was assumed (e.g. mainnet's table for another chain).
    pub assumption: Option<String>,
}

/// What to rerun with when the stored module was instrumented with another configuration than
/// the one replayed.
#[derive(Debug, Clone)]
pub struct Rerun {
    /// Why: the leading cause of stage 2.
    pub reason: String,
    /// Mainnet protocol versions whose cost table, stack limit and grow cost fit the stored
    /// module (oldest first); empty when none of the built-in tables does.
    pub fitting_protocols: Vec<String>,
    /// The one suggested: the newest fitting version not after the executing block's, else the
    /// newest fitting one.
    pub suggested_protocol: Option<String>,
    /// The command to rerun with (set by the caller, who knows the command line).
    pub command: Option<String>,
}

/// The whole verification.
#[derive(Debug, Clone)]
pub struct Report {
    pub verdict: Verdict,
    pub summary: String,
    pub install: Install,
    pub configuration: ConfigSource,
    /// Stage 1, with a source (one for the whole transaction: every contract of a session comes
    /// from the same upload).
    pub rebuild: Option<RebuildStage>,
    pub contracts: Vec<ContractResult>,
    /// Set when stage 2 differs only in instrumentation constants.
    pub rerun: Option<Rerun>,
    /// How the rebuild's toolchain was chosen, when there is something to say: inferred
    /// (`--toolchain auto`), or a pin of a moving channel.
    pub toolchain: Option<crate::toolchain::ToolchainNote>,
}
