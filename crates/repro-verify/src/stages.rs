//! The three comparisons of a verification and the verdict they support.
//!
//! 1. rebuild vs the uploaded session bytes — a build question;
//! 2. replay(uploaded bytes) vs the stored bytes — a replay / configuration question that needs no
//!    source at all;
//! 3. replay(rebuild) vs the stored bytes — the claim users care about.
//!
//! A verdict is only as good as the chain commitments behind the bytes: any failed commitment
//! check makes it `untrusted`, whatever the comparisons say.

use repro_chain::install::{CheckStatus, Install, InstalledContract, Installer};
use repro_chain::sha256_hex;
use repro_core::Protocol;
use repro_diff::{DiffOptions, WatSelection};

use crate::model::{
    Comparison, ConfigSource, ContractResult, Normalisation, RebuildStage, Rebuilt, Report, Rerun,
    Stage, StageKind, Verdict,
};
use crate::profiles::{self, TableProfile};

/// The stored modules a replay produced, one per contract, or why the node would reject it.
type ReplayResult = Result<Vec<Vec<u8>>, String>;

/// The artifact compared, its stage 1 and its replay.
type Candidate<'a> = (&'a Rebuilt, Stage, ReplayResult);

/// Equal once every custom section is removed from both (the only normalisation there is).
fn equal_after_normalisation(a: &[u8], b: &[u8]) -> bool {
    use repro_diff::strip_custom_sections;
    matches!(
        (strip_custom_sections(a), strip_custom_sections(b)),
        (Ok(sa), Ok(sb)) if sa == sb
    )
}

/// Compares the chain's side `a` with `b`; on a difference, the structural diff and its causes.
fn compare(kind: StageKind, a: &[u8], b: &[u8], options: &DiffOptions<'_>) -> Stage {
    let comparison = if a == b {
        Comparison::Identical
    } else if equal_after_normalisation(a, b) {
        Comparison::EqualAfterNormalisation(vec![Normalisation::CustomSectionsRemoved])
    } else {
        match repro_diff::diff(a, b, options) {
            Ok(mut report) => Comparison::Different {
                causes: {
                    crate::toolchain::name_compilers(&mut report);
                    report.causes.clone()
                },
                diff: Some(Box::new(report)),
                diff_error: None,
            },
            Err(e) => Comparison::Different {
                causes: Vec::new(),
                diff: None,
                diff_error: Some(format!("the structural diff failed: {e}")),
            },
        }
    };
    Stage {
        kind,
        a_sha256: sha256_hex(a),
        b_sha256: Some(sha256_hex(b)),
        comparison,
    }
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

fn rejected(kind: StageKind, a: &[u8], reason: String) -> Stage {
    Stage {
        kind,
        a_sha256: sha256_hex(a),
        b_sha256: None,
        comparison: Comparison::Rejected { reason },
    }
}

/// Runs the stages and decides.
pub fn verify(
    install: Install,
    protocol: &Protocol,
    configuration: ConfigSource,
    rebuilt: &[Rebuilt],
) -> Report {
    let profiles = profiles::mainnet();
    let options = DiffOptions {
        wat: WatSelection::Default,
        context: 3,
        profiles: profiles::as_dyn(&profiles),
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
        let stage1 = compare(
            StageKind::RebuildVsUpload,
            &install.input,
            &r.bytes,
            &options,
        );
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
            Ok(outs) => compare(
                StageKind::ReplayUploadVsStored,
                &c.stored,
                &outs[index],
                &options,
            ),
            Err(e) => rejected(StageKind::ReplayUploadVsStored, &c.stored, e.clone()),
        };
        stages.push(stage2.clone());
        let verdict = if let Some((_, _, replayed)) = &candidate {
            let stage3 = match replayed {
                Ok(outs) => compare(
                    StageKind::ReplayRebuildVsStored,
                    &c.stored,
                    &outs[index],
                    &options,
                ),
                Err(e) => rejected(StageKind::ReplayRebuildVsStored, &c.stored, e.clone()),
            };
            let v = if stage3.comparison.is_exact() {
                Verdict::Verified
            } else if stage3.comparison.matches() {
                Verdict::VerifiedAfterNormalisation
            } else {
                Verdict::Mismatch
            };
            stages.push(stage3);
            v
        } else if stage2.comparison.is_exact() {
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
        artifact: r.artifact.clone(),
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
        toolchain: None,
    }
}

/// When stage 2 of `c` differs only in instrumentation constants: which mainnet tables fit the
/// stored (A) side.
fn rerun_hint(
    c: &ContractResult,
    profiles: &[TableProfile],
    block: Option<repro_core::ProtocolVersion>,
) -> Option<Rerun> {
    use repro_diff::CauseKind;
    use repro_diff::CostProfile as _;
    let stage2 = c.stage(StageKind::ReplayUploadVsStored)?;
    let Comparison::Different {
        causes,
        diff: Some(diff),
        ..
    } = &stage2.comparison
    else {
        return None;
    };
    let cause = causes.first()?;
    if !matches!(
        cause.kind,
        CauseKind::MeteringConstants | CauseKind::StackLimit
    ) {
        return None;
    }
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
            if let [only] = failed.as_slice()
                && *only == "finality"
                && let Some(c) = install.checks.iter().find(|c| c.check == "finality")
            {
                return format!(
                    "not shown final by the validators' weight chained from the trusted block: {}",
                    c.detail
                );
            }
            format!(
                "chain commitment check(s) failed ({}): the fetched data is not what the chain committed to",
                failed.join(", ")
            )
        }
        Verdict::Mismatch => {
            // The first failing stage of the first failing contract, with its leading cause.
            let stage1 = rebuild
                .map(|r| &r.stage)
                .filter(|s| !s.comparison.matches());
            for c in contracts {
                let stage2 = c.stage(StageKind::ReplayUploadVsStored);
                let stage2_ok = stage2.is_some_and(|s| s.comparison.matches());
                let failing = if !stage2_ok {
                    stage2
                } else if stage1.is_some() {
                    stage1
                } else {
                    c.stages.iter().find(|s| !s.comparison.matches())
                };
                if let Some(s) = failing {
                    let cause = match &s.comparison {
                        Comparison::Different {
                            causes, diff_error, ..
                        } => causes
                            .first()
                            .map(|c| format!(": probable cause {}", c.summary))
                            .or_else(|| diff_error.as_ref().map(|e| format!(": {e}")))
                            .unwrap_or_default(),
                        Comparison::Rejected { reason } => format!(": {reason}"),
                        _ => String::new(),
                    };
                    let what = match s.kind {
                        StageKind::RebuildVsUpload => {
                            "the rebuild is not the uploaded session (a build difference)"
                        }
                        StageKind::ReplayUploadVsStored => {
                            "the replay of the uploaded session is not the stored module (a replay or chainspec difference: the source was not even needed)"
                        }
                        StageKind::ReplayRebuildVsStored => {
                            "the replay of the rebuild is not the stored module"
                        }
                    };
                    return format!("contract {}: {what}{cause}", short(&c.contract_hash));
                }
            }
            "the bytes differ".into()
        }
    }
}

pub(crate) fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
