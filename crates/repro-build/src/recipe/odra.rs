//! Odra projects: what `cargo odra build` runs, read from `Odra.toml`, `Cargo.toml` and
//! `Cargo.lock` (cargo-odra itself is never needed nor run).
//!
//! For every contract of `Odra.toml`, in order, cargo-odra 0.1.x runs
//!
//! ```text
//! ODRA_MODULE=<Struct> cargo build --target wasm32-unknown-unknown --bin <crate>_build_contract --release
//! cp target/wasm32-unknown-unknown/release/<crate>_build_contract.wasm wasm/<Struct>.wasm
//! wasm-opt --signext-lowering [--enable-bulk-memory --llvm-memory-copy-fill-lowering] wasm/<Struct>.wasm -o wasm/<Struct>.wasm
//! wasm-strip wasm/<Struct>.wasm
//! ```
//!
//! (read from its sources on crates.io, versions 0.1.0 to 0.1.8). The bracketed flags are passed
//! from cargo-odra 0.1.7 on, and only when `rustc --version` is dated 2025-02-17 or later (the
//! LLVM 20 compilers, which emit `memory.copy` / `memory.fill`). Which cargo-odra a project was
//! built with is not recorded anywhere; the odra version in `Cargo.lock` implies it
//! ([`implied_cargo_odra`]), and `--cargo-odra` overrides it.

use std::path::Path;

use crate::binaryen::Binaryen;
use crate::{BuildUnit, PostContext, PostProcess};

/// cargo-odra releases this recipe replays: version, publication day (crates.io), and whether it
/// lowers bulk-memory instructions for new compilers.
const CARGO_ODRA: &[(&str, &str, bool)] = &[
    ("0.1.0", "2024-02-06", false),
    ("0.1.1", "2024-03-01", false),
    ("0.1.2", "2024-05-23", false),
    ("0.1.3", "2024-06-17", false),
    ("0.1.4", "2024-07-30", false),
    ("0.1.5", "2025-07-09", false),
    ("0.1.6", "2025-12-10", false),
    ("0.1.7", "2026-04-03", true),
    ("0.1.8", "2026-08-04", true),
];

/// odra releases from 1.0 (crates.io publication days), which cargo-odra 0.1.x builds.
const ODRA: &[(&str, &str)] = &[
    ("1.0.0", "2024-05-23"),
    ("1.1.0", "2024-06-17"),
    ("1.2.0", "2024-07-30"),
    ("1.3.0", "2024-09-20"),
    ("1.4.0", "2024-10-18"),
    ("1.5.0", "2025-01-07"),
    ("1.5.1", "2025-02-28"),
    ("2.0.0", "2025-05-27"),
    ("2.0.1", "2025-06-06"),
    ("2.1.0", "2025-07-09"),
    ("2.2.0", "2025-07-16"),
    ("2.3.0", "2025-08-11"),
    ("2.3.1", "2025-08-11"),
    ("2.4.0", "2025-09-02"),
    ("2.5.0", "2026-01-23"),
    ("2.5.1", "2026-03-20"),
    ("2.6.0", "2026-04-03"),
    ("2.7.0", "2026-05-26"),
    ("2.7.1", "2026-05-27"),
    ("2.7.2", "2026-06-03"),
    ("2.8.0", "2026-06-10"),
    ("2.8.1", "2026-06-11"),
    ("2.8.2", "2026-06-26"),
    ("2.9.0", "2026-07-13"),
    ("2.9.1", "2026-08-04"),
];

/// The first compiler date whose LLVM emits bulk-memory instructions (cargo-odra's own cut-off).
pub const BULK_MEMORY_RUSTC_DATE: &str = "2025-02-17";

/// The oldest binaryen that knows `--llvm-memory-copy-fill-lowering` (cargo-odra 0.1.8 refuses
/// older ones when it needs the flag).
pub const MIN_BINARYEN_FOR_BULK_LOWERING: u32 = 121;

/// Why an Odra project's build cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OdraError {
    #[error("{path}: {reason}")]
    BadFile { path: String, reason: String },
    #[error("Odra.toml lists no contracts: cargo odra build would build nothing")]
    NoContracts,
    #[error(
        "cargo-odra {0} is not one this tool replays (known: {known}); pass one of those with --cargo-odra",
        known = CARGO_ODRA.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
    )]
    UnknownCargoOdra(String),
    #[error(
        "Cargo.lock locks odra {0}: odra before 1.0 is built by cargo-odra 0.0.x through a generated builder crate, which is not replayed; build with cargo odra and give the artifacts with `verify --wasm`"
    )]
    OdraTooOld(String),
    #[error(
        "the project is a cargo workspace with Odra members ({members}); cargo odra build of a workspace is not replayed yet: give the artifacts with `verify --wasm`"
    )]
    Workspace { members: String },
}

/// One contract of `Odra.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// `crate::module::Struct` as written.
    pub fqn: String,
    /// The last segment: `ODRA_MODULE` and the artifact's name.
    pub struct_name: String,
}

/// The cargo-odra whose steps are replayed, and why that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoOdra {
    pub version: String,
    pub reason: String,
    /// Passes the bulk-memory lowering flags to wasm-opt for compilers dated
    /// [`BULK_MEMORY_RUSTC_DATE`] or later.
    pub lowers_bulk_memory: bool,
}

/// What `cargo odra build` does for this project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub cargo_odra: CargoOdra,
    /// The crate's name with `-` as `_` (cargo-odra's `project_crate_name`).
    pub crate_name: String,
    pub contracts: Vec<Contract>,
}

impl Plan {
    /// One cargo invocation per contract, in Odra.toml's order, each artifact named
    /// `<Struct>.wasm`.
    pub fn units(&self) -> Vec<BuildUnit> {
        self.contracts
            .iter()
            .map(|c| BuildUnit {
                env: vec![("ODRA_MODULE".into(), c.struct_name.clone())],
                bin: self.bin(),
                package: None,
                file: format!("{}.wasm", c.struct_name),
            })
            .collect()
    }

    /// `<crate>_build_contract`.
    pub fn bin(&self) -> String {
        format!("{}_build_contract", self.crate_name)
    }

    /// wasm-opt's flags for a compiler with this commit date (`None`: unknown, taken as old).
    pub fn wasm_opt_flags(&self, rustc_commit_date: Option<&str>) -> Vec<&'static str> {
        let mut flags = vec!["--signext-lowering"];
        if self.cargo_odra.lowers_bulk_memory
            && rustc_commit_date.is_some_and(|d| d >= BULK_MEMORY_RUSTC_DATE)
        {
            flags.extend(["--enable-bulk-memory", "--llvm-memory-copy-fill-lowering"]);
        }
        flags
    }

    /// Every command `cargo odra build` runs, for the record (flags that depend on the
    /// compiler are named as such).
    pub fn commands(&self) -> Vec<String> {
        let conditional = if self.cargo_odra.lowers_bulk_memory {
            format!(
                " [--enable-bulk-memory --llvm-memory-copy-fill-lowering when rustc is dated {BULK_MEMORY_RUSTC_DATE} or later]"
            )
        } else {
            String::new()
        };
        self.contracts
            .iter()
            .flat_map(|c| {
                let wasm = format!("wasm/{}.wasm", c.struct_name);
                [
                    format!(
                        "ODRA_MODULE={} cargo build --target wasm32-unknown-unknown --bin {} --release",
                        c.struct_name,
                        self.bin()
                    ),
                    format!(
                        "cp target/wasm32-unknown-unknown/release/{}.wasm {wasm}",
                        self.bin()
                    ),
                    format!("wasm-opt --signext-lowering{conditional} {wasm} -o {wasm}"),
                    format!("wasm-strip {wasm}"),
                ]
            })
            .collect()
    }
}

/// Reads the project at `root` (the directory with `Odra.toml`). `cargo_odra`: the version to
/// replay, else the one `Cargo.lock` implies.
pub fn plan(root: &Path, cargo_odra: Option<&str>) -> Result<Plan, OdraError> {
    let contracts = read_odra_toml(&root.join("Odra.toml"))?;
    let manifest = read_toml(&root.join("Cargo.toml"))?;
    if let Some(members) = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .filter(|m| !m.is_empty())
    {
        return Err(OdraError::Workspace {
            members: members
                .iter()
                .filter_map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let crate_name = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .ok_or_else(|| OdraError::BadFile {
            path: root.join("Cargo.toml").display().to_string(),
            reason: "no [package] name".into(),
        })?
        .replace('-', "_");
    let cargo_odra = match cargo_odra {
        Some(v) => given_cargo_odra(v)?,
        None => implied_cargo_odra(locked_odra(&root.join("Cargo.lock"))?.as_deref())?,
    };
    Ok(Plan {
        cargo_odra,
        crate_name,
        contracts,
    })
}

fn given_cargo_odra(version: &str) -> Result<CargoOdra, OdraError> {
    let (v, _, bulk) = CARGO_ODRA
        .iter()
        .find(|c| c.0 == version)
        .ok_or_else(|| OdraError::UnknownCargoOdra(version.into()))?;
    Ok(CargoOdra {
        version: (*v).into(),
        reason: "--cargo-odra".into(),
        lowers_bulk_memory: *bulk,
    })
}

/// The cargo-odra a project locking `odra` at this version was built with: the newest release
/// published before the next odra release (cargo-odra and odra are released together), or the
/// newest known one for the newest odra.
pub fn implied_cargo_odra(locked_odra: Option<&str>) -> Result<CargoOdra, OdraError> {
    let newest = CARGO_ODRA.last().expect("table is not empty");
    let Some(odra) = locked_odra else {
        return Ok(CargoOdra {
            version: newest.0.into(),
            reason: "the newest cargo-odra (Cargo.lock locks no odra)".into(),
            lowers_bulk_memory: newest.2,
        });
    };
    if odra.starts_with("0.") {
        return Err(OdraError::OdraTooOld(odra.into()));
    }
    let index = ODRA.iter().position(|o| o.0 == odra);
    let next_release = index.and_then(|i| ODRA.get(i + 1)).map(|o| o.1);
    let chosen = match next_release {
        Some(day) => CARGO_ODRA
            .iter()
            .rev()
            .find(|c| c.1 < day)
            .unwrap_or(&CARGO_ODRA[0]),
        None => newest,
    };
    let reason = match (index, next_release) {
        (Some(_), Some(day)) => format!(
            "implied by Cargo.lock's odra {odra}: the newest cargo-odra before the next odra release ({day})"
        ),
        (Some(_), None) => format!(
            "implied by Cargo.lock's odra {odra}, the newest odra known here: the newest cargo-odra"
        ),
        (None, _) => format!(
            "Cargo.lock's odra {odra} is not in this tool's table: the newest cargo-odra known here"
        ),
    };
    Ok(CargoOdra {
        version: chosen.0.into(),
        reason,
        lowers_bulk_memory: chosen.2,
    })
}

/// The `odra` version `Cargo.lock` locks, if any.
fn locked_odra(lock: &Path) -> Result<Option<String>, OdraError> {
    if !lock.is_file() {
        return Ok(None);
    }
    let value = read_toml(lock)?;
    Ok(value
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(|n| n.as_str()) == Some("odra"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(str::to_owned))
}

fn read_toml(path: &Path) -> Result<toml::Table, OdraError> {
    let bad = |reason: String| OdraError::BadFile {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    text.parse::<toml::Table>()
        .map_err(|e| bad(format!("not valid TOML: {}", e.message())))
}

/// `[[contracts]] fqn = "…"`, in order.
fn read_odra_toml(path: &Path) -> Result<Vec<Contract>, OdraError> {
    let value = read_toml(path)?;
    let bad = |reason: String| OdraError::BadFile {
        path: path.display().to_string(),
        reason,
    };
    let contracts = match value.get("contracts") {
        None => return Err(OdraError::NoContracts),
        Some(c) => c
            .as_array()
            .ok_or_else(|| bad("`contracts` is not an array of tables".into()))?,
    };
    let mut out = Vec::new();
    for (i, c) in contracts.iter().enumerate() {
        let fqn = c
            .get("fqn")
            .and_then(|f| f.as_str())
            .ok_or_else(|| bad(format!("contract #{} has no `fqn`", i + 1)))?;
        let struct_name = fqn
            .rsplit("::")
            .next()
            .filter(|s| !s.is_empty() && fqn.contains("::"))
            .ok_or_else(|| bad(format!("`{fqn}` is not crate::path::Struct")))?;
        out.push(Contract {
            fqn: fqn.into(),
            struct_name: struct_name.into(),
        });
    }
    if out.is_empty() {
        return Err(OdraError::NoContracts);
    }
    Ok(out)
}

/// cargo-odra's `wasm-opt` step with a pinned binaryen: `--signext-lowering`, plus the
/// bulk-memory lowering when this cargo-odra passes it for the compiler that built the module.
#[derive(Debug)]
pub struct WasmOpt {
    plan: Plan,
    binaryen: Binaryen,
    name: String,
}

impl WasmOpt {
    pub fn new(plan: Plan, binaryen: Binaryen) -> Self {
        let name = format!(
            "wasm-opt(binaryen {}, cargo-odra {} flags)",
            binaryen.version, plan.cargo_odra.version
        );
        WasmOpt {
            plan,
            binaryen,
            name,
        }
    }
}

impl PostProcess for WasmOpt {
    fn name(&self) -> &str {
        &self.name
    }

    fn apply(&self, wasm: &[u8], ctx: &PostContext<'_>) -> Result<Vec<u8>, String> {
        let flags = self.plan.wasm_opt_flags(ctx.rustc_commit_date());
        if flags.len() > 1 && self.binaryen.version < MIN_BINARYEN_FOR_BULK_LOWERING {
            return Err(format!(
                "cargo-odra {} lowers bulk memory for this compiler (dated {}), which needs binaryen {MIN_BINARYEN_FOR_BULK_LOWERING} or later, not {}: pass --binaryen {MIN_BINARYEN_FOR_BULK_LOWERING} (or newer)",
                self.plan.cargo_odra.version,
                ctx.rustc_commit_date().unwrap_or("?"),
                self.binaryen.version
            ));
        }
        self.binaryen.run_wasm_opt(&flags, wasm, ctx)
    }

    fn describe(&self, ctx: &PostContext<'_>) -> String {
        self.binaryen
            .describe_run(&self.plan.wasm_opt_flags(ctx.rustc_commit_date()).join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odra_implies_the_cargo_odra_released_with_it() {
        // Released the same day as their cargo-odra (crates.io): 1.1.0 with 0.1.3, 2.9.1 with
        // 0.1.8; 2.8.2 was current while 0.1.7 was the newest cargo-odra.
        for (odra, cargo_odra) in [("1.1.0", "0.1.3"), ("2.9.1", "0.1.8"), ("2.8.2", "0.1.7")] {
            assert_eq!(
                implied_cargo_odra(Some(odra)).unwrap().version,
                cargo_odra,
                "odra {odra}"
            );
        }
        assert!(matches!(
            implied_cargo_odra(Some("0.9.1")),
            Err(OdraError::OdraTooOld(_))
        ));
    }

    #[test]
    fn bulk_lowering_needs_both_a_new_cargo_odra_and_a_new_compiler() {
        let plan = |v: &str| Plan {
            cargo_odra: given_cargo_odra(v).unwrap(),
            crate_name: "c".into(),
            contracts: vec![],
        };
        assert_eq!(
            plan("0.1.8").wasm_opt_flags(Some("2026-04-14")),
            [
                "--signext-lowering",
                "--enable-bulk-memory",
                "--llvm-memory-copy-fill-lowering"
            ]
        );
        assert_eq!(
            plan("0.1.8").wasm_opt_flags(Some("2025-02-16")),
            ["--signext-lowering"]
        );
        assert_eq!(
            plan("0.1.3").wasm_opt_flags(Some("2026-04-14")),
            ["--signext-lowering"]
        );
    }
}
