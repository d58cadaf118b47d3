//! The verification report for people (the JSON form is `crate::wire`'s).

use repro_chain::install::{CheckStatus, Installer, TrustCheck};

use crate::model::{Comparison, Report, Stage, StageKind};

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
    s.push_str(&render_checks(&i.checks));
    let _ = writeln!(s, "\nIn each comparison A is the chain's side, B is ours.");
    if let Some(rebuild) = &r.rebuild {
        let _ = match &rebuild.artifact {
            Some(file) => writeln!(
                s,
                "\nrebuilt package: {} (artifact {file})",
                rebuild.package
            ),
            None => writeln!(s, "\nrebuilt package: {}", rebuild.package),
        };
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
            let label = match st.kind {
                StageKind::ReplayUploadVsStored
                    if matches!(i.installer, Installer::StoredContract { .. }) =>
                {
                    "stage 2  replay(caller stored) vs stored:"
                }
                StageKind::ReplayUploadVsStored => "stage 2  replay(upload) vs stored:",
                _ => "stage 3  replay(rebuild) vs stored:",
            };
            render_stage(&mut s, label, st, "  ");
        }
        let _ = writeln!(s, "  verdict: {}", c.verdict.as_str());
    }
    if let Some(note) = &r.toolchain {
        let _ = writeln!(s, "\nToolchain: {}", note.describe());
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

/// One line per chain commitment check: status, check, what it found (`verify`, `fetch`).
pub fn render_checks(checks: &[TrustCheck]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for c in checks {
        let status = match c.status {
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "FAILED",
            CheckStatus::NotPossible => "not possible",
        };
        let _ = writeln!(s, "  {status:<13} {:<32} {}", c.check, c.detail);
    }
    s
}

/// One stage's lines, indented by `indent`.
fn render_stage(s: &mut String, label: &str, st: &Stage, indent: &str) {
    use std::fmt::Write as _;
    let _ = writeln!(s, "{indent}{label:<38} {}", st.comparison.outcome());
    match &st.comparison {
        Comparison::EqualAfterNormalisation(steps) => {
            for n in steps {
                let _ = writeln!(s, "{indent}    normalisation: {}", n.describe());
            }
        }
        Comparison::Different { diff_error, .. } => {
            if let Some(e) = diff_error {
                let _ = writeln!(s, "{indent}    {e}");
            }
        }
        Comparison::Rejected { reason } => {
            let _ = writeln!(s, "{indent}    {reason}");
        }
        Comparison::Identical => {}
    }
    for (rank, cause) in st.comparison.causes().iter().enumerate() {
        let _ = writeln!(s, "{indent}    cause {}: {}", rank + 1, cause.summary);
        if let Some(fix) = &cause.fix {
            let _ = writeln!(s, "{indent}             fix: {fix}");
        }
    }
}
