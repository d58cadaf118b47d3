//! How a project builds its contracts: the recipe. Data, so that it can be recorded in the
//! provenance and replayed by someone else.
//!
//! Detection, in order: an `Odra.toml` next to a manifest that depends on `odra` is an Odra
//! project; a `Makefile` whose contract rule runs `cargo build` and then `wasm-strip` or
//! `wasm-opt` is a make project (read by [`make`], never run); anything else is plain cargo.

use std::path::Path;

pub mod make;
pub mod odra;

/// The kinds of recipe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RecipeKind {
    Cargo,
    Odra,
    Make,
}

/// A recipe as replayed, for the provenance: enough for someone else to re-run it.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct RecipeRecord {
    pub kind: RecipeKind,
    /// Why this recipe: detected (and from what) or chosen with `--recipe`.
    pub reason: String,
    /// For make: the rule read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Every command the recipe runs, in order (make: the rule's, expanded; Odra: cargo-odra's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// Commands of the rule that a build does not replay, by program name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_replayed: Vec<String>,
    /// The tools the recipe stands for, their versions and why those (Odra: cargo-odra, binaryen).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
}

/// The recipe detected for a project and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub kind: RecipeKind,
    pub reason: String,
    /// For a make project: what its contract rule runs.
    pub make_plan: Option<make::Plan>,
}

/// Detects the recipe of the project whose workspace root is `root`.
pub fn detect(root: &Path) -> std::io::Result<Detection> {
    let odra = root.join("Odra.toml");
    if odra.is_file() {
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
        if depends_on_odra(&manifest) {
            return Ok(Detection {
                kind: RecipeKind::Odra,
                reason: "Odra.toml, and Cargo.toml depends on odra".into(),
                make_plan: None,
            });
        }
    }
    let makefile = root.join("Makefile");
    if makefile.is_file() {
        let mk = make::Makefile::parse(&std::fs::read_to_string(&makefile)?);
        if let Some(rule) = mk.build_rule() {
            let plan = mk.plan(&rule);
            if plan.builds_and_post_processes() {
                return Ok(Detection {
                    kind: RecipeKind::Make,
                    reason: format!(
                        "Makefile rule `{rule}` runs cargo build, then wasm-strip or wasm-opt"
                    ),
                    make_plan: Some(plan),
                });
            }
        }
    }
    Ok(Detection {
        kind: RecipeKind::Cargo,
        reason: "no Odra project and no Makefile that post-processes cargo's output".into(),
        make_plan: None,
    })
}

/// True when the manifest's dependencies name `odra` (any table, any form).
fn depends_on_odra(manifest: &str) -> bool {
    let Ok(value) = manifest.parse::<toml::Table>() else {
        return false;
    };
    let in_table = |t: Option<&toml::Value>| {
        t.and_then(|t| t.as_table())
            .is_some_and(|t| t.contains_key("odra"))
    };
    ["dependencies", "build-dependencies"]
        .iter()
        .any(|k| in_table(value.get(*k)))
        || value
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .is_some_and(|d| d.as_table().is_some_and(|t| t.contains_key("odra")))
}
