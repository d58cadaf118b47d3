//! The three comparisons of a verification and the verdict they support.
//!
//! 1. rebuild vs the uploaded session bytes — a build question;
//! 2. replay(uploaded bytes) vs the stored bytes — a replay / configuration question that needs no
//!    source at all;
//! 3. replay(rebuild) vs the stored bytes — the claim users care about.
//!
//! A verdict is only as good as the chain commitments behind the bytes: any failed commitment
//! check makes it `untrusted`, whatever the comparisons say.

use repro_core::Protocol;
use repro_diff::{Cause, DiffOptions, DiffReport, WatSelection};
use serde::Serialize;

use crate::digest::sha256_hex;
use repro_chain::install::{CheckStatus, Install, InstalledContract, Installer};

/// The stored modules a replay produced, one per contract, or why the node would reject it.
type ReplayResult = Result<Vec<Vec<u8>>, String>;

/// The artifact compared, its stage 1 and its replay.
type Candidate<'a> = (&'a Rebuilt, Stage, ReplayResult);

/// A candidate rebuild: one package's artifact.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    pub package: String,
    pub bytes: Vec<u8>,
}

/// The configuration used for the replay and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigSource {
    pub protocol_version: String,
    /// `chainspec FILE`, `--protocol`, or `block` (the executing block's protocol version, built-in
    /// mainnet table).
    pub from: String,
    /// Set when the mainnet table was used for a chain that does not call itself mainnet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumption: Option<String>,
}

/// One comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    /// `rebuild-vs-upload`, `replay-upload-vs-stored`, `replay-rebuild-vs-stored`.
    pub stage: &'static str,
    /// `identical`, `identical-after-normalisation`, `different`, `replay-rejected`.
    pub outcome: &'static str,
    /// sha256 of the two sides (A is the chain's side).
    pub a_sha256: String,
    pub b_sha256: Option<String>,
    /// The normalisation that made them equal, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalisation: Option<String>,
    /// Why the replay failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Ranked probable causes, when the sides differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
    /// The structural diff, when the sides differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<Box<DiffReport>>,
}

impl Stage {
    fn exact(&self) -> bool {
        self.outcome == "identical"
    }
    fn matches(&self) -> bool {
        matches!(self.outcome, "identical" | "identical-after-normalisation")
    }
}

/// The verdict on one contract.
#[derive(Debug, Clone, Serialize)]
pub struct ContractResult {
    pub contract_hash: String,
    pub entry_points: Vec<String>,
    pub stored_sha256: String,
    pub stages: Vec<Stage>,
    pub verdict: Verdict,
}

/// What the evidence supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
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

/// The whole verification.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub summary: String,
    pub install: Install,
    pub configuration: ConfigSource,
    /// Stage 1, with a source: the artifact compared and how it compares with the upload (one
    /// for the whole transaction: every contract of a session comes from the same upload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuild: Option<RebuildStage>,
    pub contracts: Vec<ContractResult>,
    /// Set when stage 2 differs only in instrumentation constants (metering costs, stack limit):
    /// the protocol versions whose cost tables fit the stored module, and how to rerun with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rerun: Option<Rerun>,
}

/// What to rerun with when the stored module was instrumented with another configuration than
/// the one replayed.
#[derive(Debug, Clone, Serialize)]
pub struct Rerun {
    /// Why: the leading cause of stage 2.
    pub reason: String,
    /// Mainnet protocol versions whose cost table, stack limit and grow cost fit the stored
    /// module (oldest first); empty when none of the built-in tables does.
    pub fitting_protocols: Vec<String>,
    /// The one suggested: the newest fitting version not after the executing block's, else the
    /// newest fitting one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_protocol: Option<String>,
    /// The command to rerun with (set by the caller, who knows the command line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// Stage 1: the rebuilt artifact against the uploaded session bytes.
#[derive(Debug, Clone, Serialize)]
pub struct RebuildStage {
    /// The package (or `--wasm` file) whose artifact was compared.
    pub package: String,
    #[serde(flatten)]
    pub stage: Stage,
}

/// Equal once every custom section is removed from both (the only normalisation there is).
fn equal_after_normalisation(a: &[u8], b: &[u8]) -> bool {
    use crate::cmd::build::strip_custom_sections;
    matches!(
        (strip_custom_sections(a), strip_custom_sections(b)),
        (Ok(sa), Ok(sb)) if sa == sb
    )
}

/// Compares the chain's side `a` with `b`; on a difference, the structural diff and its causes.
fn compare(stage: &'static str, a: &[u8], b: &[u8], profiles: &DiffOptions<'_>) -> Stage {
    let mut s = Stage {
        stage,
        outcome: "identical",
        a_sha256: sha256_hex(a),
        b_sha256: Some(sha256_hex(b)),
        normalisation: None,
        error: None,
        causes: Vec::new(),
        diff: None,
    };
    if a == b {
        return s;
    }
    if equal_after_normalisation(a, b) {
        s.outcome = "identical-after-normalisation";
        s.normalisation = Some(
            "custom sections removed from both (names, producers, debug info): the code and data are identical"
                .into(),
        );
        return s;
    }
    s.outcome = "different";
    match repro_diff::diff(a, b, profiles) {
        Ok(report) => {
            s.causes = report.causes.clone();
            s.diff = Some(Box::new(report));
        }
        Err(e) => s.error = Some(format!("the structural diff failed: {e}")),
    }
    s
}

fn replay(
    protocol: &Protocol,
    installer: &Installer,
    input: &[u8],
    contracts: &[InstalledContract],
) -> ReplayResult {
    let options = repro_core::ReplayOptions { detailed: false };
    let pre = match installer {
        Installer::Session => repro_core::preprocess(protocol, input, options),
        // A factory: the caller's stored bytes, optimized without a second preprocessing.
        Installer::StoredContract { .. } => repro_core::load_stored(protocol, input, options),
    }
    .map_err(|r| r.to_string())?;
    contracts
        .iter()
        .map(|c| {
            pre.install(&c.entry_points)
                .map(|i| i.bytes)
                .map_err(|r| r.to_string())
        })
        .collect()
}

fn rejected(stage: &'static str, a: &[u8], error: String) -> Stage {
    Stage {
        stage,
        outcome: "replay-rejected",
        a_sha256: sha256_hex(a),
        b_sha256: None,
        normalisation: None,
        error: Some(error),
        causes: Vec::new(),
        diff: None,
    }
}

/// Runs the stages and decides.
pub fn verify(
    install: Install,
    protocol: &Protocol,
    configuration: ConfigSource,
    rebuilt: &[Rebuilt],
) -> Report {
    let profiles = crate::cmd::inspect::profiles();
    let options = DiffOptions {
        wat: WatSelection::Default,
        context: 3,
        profiles: profiles
            .iter()
            .map(|p| p as &dyn repro_diff::CostProfile)
            .collect(),
    };

    // Stage 2, once for all contracts.
    let replayed_upload = replay(
        protocol,
        &install.installer,
        &install.input,
        &install.contracts,
    );

    // Stage 1: which artifact is the upload? Exact first, then equal after normalisation, else
    // the one whose replay reproduces the most stored modules, else the first.
    let mut best: Option<(usize, &Rebuilt, Option<ReplayResult>)> = None;
    for r in rebuilt {
        let (score, replayed) = if r.bytes == install.input {
            (usize::MAX, None)
        } else if equal_after_normalisation(&install.input, &r.bytes) {
            (usize::MAX - 1, None)
        } else {
            let replayed = replay(protocol, &Installer::Session, &r.bytes, &install.contracts);
            let reproduced = replayed.as_ref().map_or(0, |outs| {
                outs.iter()
                    .zip(&install.contracts)
                    .filter(|(o, c)| **o == c.stored)
                    .count()
            });
            (reproduced, Some(replayed))
        };
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, r, replayed));
        }
    }
    let candidate: Option<Candidate<'_>> = best.map(|(_, r, replayed)| {
        let stage1 = compare("rebuild-vs-upload", &install.input, &r.bytes, &options);
        let replayed = replayed
            .unwrap_or_else(|| replay(protocol, &Installer::Session, &r.bytes, &install.contracts));
        (r, stage1, replayed)
    });

    let any_check_failed = install
        .checks
        .iter()
        .any(|c| c.status == CheckStatus::Failed);
    let mut contracts = Vec::new();
    for (index, c) in install.contracts.iter().enumerate() {
        let mut stages = Vec::new();
        let stage2 = match &replayed_upload {
            Ok(outs) => compare("replay-upload-vs-stored", &c.stored, &outs[index], &options),
            Err(e) => rejected("replay-upload-vs-stored", &c.stored, e.clone()),
        };
        stages.push(stage2.clone());
        let verdict = if let Some((_, _, replayed)) = &candidate {
            let stage3 = match replayed {
                Ok(outs) => compare(
                    "replay-rebuild-vs-stored",
                    &c.stored,
                    &outs[index],
                    &options,
                ),
                Err(e) => rejected("replay-rebuild-vs-stored", &c.stored, e.clone()),
            };
            let v = if stage3.exact() {
                Verdict::Verified
            } else if stage3.matches() {
                Verdict::VerifiedAfterNormalisation
            } else {
                Verdict::Mismatch
            };
            stages.push(stage3);
            v
        } else if stage2.exact() {
            Verdict::ReplayVerified
        } else {
            Verdict::Mismatch
        };
        contracts.push(ContractResult {
            contract_hash: c.contract_hash.clone(),
            entry_points: c.entry_points.clone(),
            stored_sha256: c.stored_sha256.clone(),
            stages,
            verdict: if any_check_failed {
                Verdict::Untrusted
            } else {
                verdict
            },
        });
    }
    let verdict = contracts
        .iter()
        .map(|c| c.verdict)
        .max_by_key(|v| match v {
            Verdict::Verified | Verdict::ReplayVerified => 0,
            Verdict::VerifiedAfterNormalisation => 1,
            Verdict::Mismatch => 2,
            Verdict::Untrusted => 3,
        })
        .unwrap_or(Verdict::Mismatch);
    let rebuild = candidate.map(|(r, stage, _)| RebuildStage {
        package: r.package.clone(),
        stage,
    });
    let summary = summarise(verdict, rebuild.as_ref(), &contracts, &install);
    let block_version = install
        .block
        .as_ref()
        .and_then(|b| b.protocol_version.parse().ok());
    let rerun = contracts
        .iter()
        .find_map(|c| rerun_hint(c, &profiles, block_version));
    Report {
        verdict,
        summary,
        rebuild,
        install,
        configuration,
        contracts,
        rerun,
    }
}

/// When stage 2 of `c` differs only in instrumentation constants: which mainnet tables fit the
/// stored (A) side.
fn rerun_hint(
    c: &ContractResult,
    profiles: &[crate::cmd::inspect::MainnetProfile],
    block: Option<repro_core::ProtocolVersion>,
) -> Option<Rerun> {
    use repro_diff::CauseKind;
    use repro_diff::CostProfile as _;
    let stage2 = c
        .stages
        .iter()
        .find(|s| s.stage == "replay-upload-vs-stored")?;
    let cause = stage2.causes.first()?;
    if !matches!(
        cause.kind,
        CauseKind::MeteringConstants | CauseKind::StackLimit
    ) {
        return None;
    }
    let diff = stage2.diff.as_ref()?;
    let fitting: Vec<repro_core::ProtocolVersion> = diff
        .facts_a
        .profile_fits
        .iter()
        .filter(|f| f.fits)
        .filter_map(|f| profiles.iter().find(|p| p.name() == f.profile))
        .map(|p| p.version())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let suggested = fitting
        .iter()
        .rev()
        .find(|v| block.is_none_or(|b| **v <= b))
        .or(fitting.last())
        .map(|v| v.to_string());
    Some(Rerun {
        reason: cause.summary.clone(),
        fitting_protocols: fitting.iter().map(|v| v.to_string()).collect(),
        suggested_protocol: suggested,
        command: None,
    })
}

/// One sentence a person can act on.
fn summarise(
    verdict: Verdict,
    rebuild: Option<&RebuildStage>,
    contracts: &[ContractResult],
    install: &Install,
) -> String {
    let n = contracts.len();
    match verdict {
        Verdict::Verified => format!(
            "the rebuilt source, processed as the node did, is byte for byte the stored module of {n} contract(s)"
        ),
        Verdict::VerifiedAfterNormalisation => format!(
            "the rebuilt source matches the stored module of {n} contract(s) after the named normalisation steps only"
        ),
        Verdict::ReplayVerified => match install.installer {
            Installer::Session => format!(
                "the node's processing of the uploaded session reproduces the stored module of {n} contract(s); give the source crate to verify it"
            ),
            Installer::StoredContract { .. } => format!(
                "the node's processing of the called factory's proven stored bytes reproduces the stored module of {n} contract(s); verify the factory's own install against its source"
            ),
        },
        Verdict::Untrusted => {
            let failed: Vec<&str> = install
                .checks
                .iter()
                .filter(|c| c.status == CheckStatus::Failed)
                .map(|c| c.check.as_str())
                .collect();
            format!(
                "chain commitment check(s) failed ({}): the fetched data is not what the chain committed to",
                failed.join(", ")
            )
        }
        Verdict::Mismatch => {
            // The first failing stage of the first failing contract, with its leading cause.
            let stage1 = rebuild.map(|r| &r.stage).filter(|s| !s.matches());
            for c in contracts {
                let stage2 = c
                    .stages
                    .iter()
                    .find(|s| s.stage == "replay-upload-vs-stored");
                let stage2_ok = stage2.is_some_and(Stage::matches);
                let failing = if !stage2_ok {
                    stage2
                } else if stage1.is_some() {
                    stage1
                } else {
                    c.stages.iter().find(|s| !s.matches())
                };
                if let Some(s) = failing {
                    let cause = s
                        .causes
                        .first()
                        .map(|c| format!(": probable cause {}", c.summary))
                        .or_else(|| s.error.as_ref().map(|e| format!(": {e}")))
                        .unwrap_or_default();
                    let what = match s.stage {
                        "rebuild-vs-upload" => {
                            "the rebuild is not the uploaded session (a build difference)"
                        }
                        "replay-upload-vs-stored" => {
                            "the replay of the uploaded session is not the stored module (a replay or chainspec difference: the source was not even needed)"
                        }
                        _ => "the replay of the rebuild is not the stored module",
                    };
                    return format!("contract {}: {what}{cause}", short(&c.contract_hash));
                }
            }
            "the bytes differ".into()
        }
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The report for people.
pub fn render_text(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let i = &r.install;
    let what = match (
        &i.installer,
        i.transaction.session_len,
        &i.transaction.session_sha256,
    ) {
        (
            Installer::StoredContract {
                contract_hash,
                named_key,
                stored_len,
                stored_sha256,
                proven,
                ..
            },
            _,
            _,
        ) => format!(
            "calls stored contract {contract_hash}{} (a factory: {stored_len} stored bytes, sha256 {stored_sha256}{})",
            named_key
                .as_ref()
                .map(|n| format!(" by its named key `{n}`"))
                .unwrap_or_default(),
            if *proven { ", proven" } else { ", NOT proven" }
        ),
        (Installer::Session, Some(len), Some(sha)) => format!("{len} byte session, sha256 {sha}"),
        (Installer::Session, _, _) => "session".into(),
    };
    let _ = writeln!(
        s,
        "{} {} ({}, chain `{}`, {what})",
        i.transaction.kind,
        i.transaction.hash,
        i.api.as_str(),
        i.transaction.chain_name,
    );
    match &i.block {
        Some(b) => {
            let _ = writeln!(
                s,
                "executed in block {} (height {}, protocol {}, state root {})",
                b.hash, b.height, b.protocol_version, b.state_root_hash
            );
        }
        None => {
            let _ = writeln!(s, "executing block: not available");
        }
    }
    let _ = writeln!(
        s,
        "replayed with protocol {} ({}){}",
        r.configuration.protocol_version,
        r.configuration.from,
        r.configuration
            .assumption
            .as_ref()
            .map(|a| format!("\n  note: {a}"))
            .unwrap_or_default()
    );
    let _ = writeln!(s, "\nchain commitments:");
    for c in &i.checks {
        let status = match c.status {
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "FAILED",
            CheckStatus::NotPossible => "not possible",
        };
        let _ = writeln!(s, "  {status:<13} {:<32} {}", c.check, c.detail);
    }
    let _ = writeln!(
        s,
        "  {:<13} {:<32} whether the block's signers hold enough of the era's stake",
        "not checked", "finality-weights"
    );
    let _ = writeln!(s, "\nIn each comparison A is the chain's side, B is ours.");
    if let Some(rebuild) = &r.rebuild {
        let _ = writeln!(s, "\nrebuilt package: {}", rebuild.package);
        render_stage(&mut s, "stage 1  rebuild vs upload:", &rebuild.stage, "");
    }
    for (c, ic) in r.contracts.iter().zip(&i.contracts) {
        let _ = writeln!(
            s,
            "\ncontract {} (package {}, wasm {})\n  entry points: {}\n  stored: {} bytes, sha256 {}{}",
            c.contract_hash,
            ic.package_hash,
            ic.contract_wasm_hash,
            c.entry_points.join(", "),
            ic.stored_len,
            c.stored_sha256,
            if ic.proven {
                ", proven under the state root"
            } else {
                ", NOT proven (no merkle proof)"
            }
        );
        for st in &c.stages {
            let label = match st.stage {
                "replay-upload-vs-stored"
                    if matches!(i.installer, Installer::StoredContract { .. }) =>
                {
                    "stage 2  replay(caller stored) vs stored:"
                }
                "replay-upload-vs-stored" => "stage 2  replay(upload) vs stored:",
                _ => "stage 3  replay(rebuild) vs stored:",
            };
            render_stage(&mut s, label, st, "  ");
        }
        let _ = writeln!(s, "  verdict: {}", c.verdict.as_str());
    }
    if let Some(rerun) = &r.rerun {
        let _ = writeln!(s);
        if rerun.fitting_protocols.is_empty() {
            let _ = writeln!(
                s,
                "The stored module was instrumented with another configuration, but no built-in mainnet cost table fits it: give that network's chainspec with --chainspec FILE."
            );
        } else {
            let _ = writeln!(
                s,
                "The stored module was instrumented with the cost table of mainnet {}, not {}.",
                rerun.fitting_protocols.join(", "),
                r.configuration.protocol_version
            );
        }
        if let Some(cmd) = &rerun.command {
            let _ = writeln!(s, "Rerun with: {cmd}");
        }
    }
    let _ = writeln!(s, "\n{}: {}", r.verdict.as_str().to_uppercase(), r.summary);
    s
}

/// One stage's lines, indented by `indent`.
fn render_stage(s: &mut String, label: &str, st: &Stage, indent: &str) {
    use std::fmt::Write as _;
    let _ = writeln!(s, "{indent}{label:<38} {}", st.outcome);
    if let Some(n) = &st.normalisation {
        let _ = writeln!(s, "{indent}    normalisation: {n}");
    }
    if let Some(e) = &st.error {
        let _ = writeln!(s, "{indent}    {e}");
    }
    for (rank, cause) in st.causes.iter().enumerate() {
        let _ = writeln!(s, "{indent}    cause {}: {}", rank + 1, cause.summary);
        if let Some(fix) = &cause.fix {
            let _ = writeln!(s, "{indent}             fix: {fix}");
        }
    }
}
