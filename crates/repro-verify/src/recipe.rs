//! Rebuilding the way the project builds: the recipe repro-build detects, applied to a build
//! request. A make project's contract rule (read, never run) gives the cargo invocation and the
//! post-processing of each module; the replay is repro-build's cargo build plus, in the
//! Makefile's order, [`StripCustom`] on exactly the modules it strips and [`WasmOptCommand`] with
//! its flags on the modules it optimises in place. What cannot be replayed is an error that says
//! so, never a silent plain build.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use repro_build::binaryen::{Binaryen, WasmOptCommand};
use repro_build::recipe::make::{Plan, Step};
use repro_build::recipe::odra;
use repro_build::recipe::{self, RecipeKind, RecipeRecord};
use repro_build::{BuildRequest, PostContext, PostProcess, Progress};

// Not `#[from]`: that would also make it the error's source, and the message would be printed twice.
impl From<odra::OdraError> for RecipeError {
    fn from(e: odra::OdraError) -> Self {
        RecipeError::Odra(e)
    }
}

/// `--recipe`: detect, or force one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecipeChoice {
    #[default]
    Auto,
    Cargo,
    Make,
    Odra,
}

/// Why the project's recipe cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    #[error("reading the project's build files: {0}")]
    Io(#[from] std::io::Error),
    #[error("Odra project: {0}")]
    Odra(odra::OdraError),
    #[error(transparent)]
    Tool(#[from] repro_build::BuildError),
    #[error("--recipe make: {0}")]
    NoMakeRule(String),
    #[error(
        "the Makefile's rule `{rule}` {what}; that is not replayed yet: build with --recipe cargo and the matching options, or give the artifacts with `verify --wasm`"
    )]
    Unsupported { rule: String, what: String },
}

/// The `wasm-strip` step: removes every custom section (id 0), keeping every other section's
/// bytes, with wabt's semantics (section sizes re-encoded as minimal LEB128, as wabt writes them).
/// With `only`, just the artifacts with those file names (what a Makefile strips).
#[derive(Debug, Default)]
pub struct StripCustom {
    pub only: Option<BTreeSet<String>>,
    name: String,
}

impl StripCustom {
    /// Every artifact.
    pub fn all() -> Self {
        StripCustom {
            only: None,
            name: "strip-custom-sections".into(),
        }
    }

    /// Only the artifacts with these file names.
    pub fn only(files: BTreeSet<String>) -> Self {
        let name = format!(
            "strip-custom-sections({})",
            files.iter().cloned().collect::<Vec<_>>().join(",")
        );
        StripCustom {
            only: Some(files),
            name,
        }
    }
}

impl PostProcess for StripCustom {
    fn name(&self) -> &str {
        &self.name
    }

    fn apply(&self, wasm: &[u8], _ctx: &PostContext<'_>) -> Result<Vec<u8>, String> {
        repro_diff::strip_custom_sections(wasm)
    }

    fn applies_to(&self, artifact_file: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(artifact_file))
    }
}

/// What the user already decided (these win over the Makefile's).
#[derive(Debug, Clone, Copy, Default)]
pub struct Explicit {
    pub target: bool,
    pub packages: bool,
}

/// Versions of the tools a recipe runs, when the user names them.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    /// The cargo-odra whose steps are replayed (default: the one Cargo.lock's odra implies).
    pub cargo_odra: Option<String>,
    /// The binaryen release of wasm-opt (default: [`repro_build::binaryen::DEFAULT_VERSION`]).
    pub binaryen: Option<u32>,
}

/// Detects (or takes) the recipe of the project at `req.crate_dir` and applies it to `req`:
/// for make, the packages, target and features of the rule's `cargo build`, the strip of
/// exactly the modules it strips and its wasm-opt steps; for Odra, one build unit per contract,
/// cargo-odra's wasm-opt and the strip. Both install the pinned binaryen when they run wasm-opt
/// (hence `progress`). Records the recipe in `req.recipe` and returns it.
pub fn apply(
    choice: RecipeChoice,
    explicit: Explicit,
    tools: &Tools,
    req: &mut BuildRequest,
    progress: &mut dyn Progress,
) -> Result<RecipeRecord, RecipeError> {
    let dir = req.crate_dir.clone();
    let detected = recipe::detect(&dir)?;
    let kind = match choice {
        RecipeChoice::Auto => detected.kind,
        RecipeChoice::Cargo => RecipeKind::Cargo,
        RecipeChoice::Make => RecipeKind::Make,
        RecipeChoice::Odra => RecipeKind::Odra,
    };
    let reason = if choice == RecipeChoice::Auto {
        detected.reason.clone()
    } else {
        format!(
            "--recipe {} (detected: {})",
            kind_name(kind),
            detected.reason
        )
    };
    let record = match kind {
        RecipeKind::Cargo => RecipeRecord {
            kind,
            reason,
            rule: None,
            commands: Vec::new(),
            not_replayed: Vec::new(),
            tools: Vec::new(),
        },
        RecipeKind::Odra => apply_odra(reason, explicit, tools, req, progress)?,
        RecipeKind::Make => {
            let plan = match detected.make_plan {
                Some(plan) => plan,
                None => make_plan(&dir)?,
            };
            let binaryen = apply_make(&plan, explicit, tools, req, progress)?;
            RecipeRecord {
                kind,
                reason,
                rule: Some(plan.rule.clone()),
                commands: plan.steps.iter().map(describe).collect(),
                not_replayed: plan.unrecognised().iter().map(|s| s.to_string()).collect(),
                tools: binaryen.iter().map(|b| binaryen_record(b, tools)).collect(),
            }
        }
    };
    req.recipe = Some(record.clone());
    Ok(record)
}

fn kind_name(kind: RecipeKind) -> &'static str {
    match kind {
        RecipeKind::Cargo => "cargo",
        RecipeKind::Odra => "odra",
        RecipeKind::Make => "make",
    }
}

/// `cargo odra build`: one cargo build per contract of Odra.toml, then cargo-odra's wasm-opt with a
/// pinned binaryen, then wasm-strip, on every artifact.
fn apply_odra(
    reason: String,
    explicit: Explicit,
    tools: &Tools,
    req: &mut BuildRequest,
    progress: &mut dyn Progress,
) -> Result<RecipeRecord, RecipeError> {
    let plan = odra::plan(&req.crate_dir, tools.cargo_odra.as_deref())?;
    let version = tools
        .binaryen
        .unwrap_or(repro_build::binaryen::DEFAULT_VERSION);
    let binaryen =
        repro_build::binaryen::ensure(version, &req.cache.dir, &req.host, req.offline, progress)?;
    if !explicit.target {
        req.target = "wasm32-unknown-unknown".into();
    }
    req.units = plan.units();
    let record = RecipeRecord {
        kind: RecipeKind::Odra,
        reason,
        rule: None,
        commands: plan.commands(),
        not_replayed: Vec::new(),
        tools: vec![
            format!(
                "cargo-odra {} ({})",
                plan.cargo_odra.version, plan.cargo_odra.reason
            ),
            binaryen_record(&binaryen, tools),
        ],
    };
    let opt: Arc<dyn PostProcess> = Arc::new(odra::WasmOpt::new(plan, binaryen));
    let strip: Arc<dyn PostProcess> = Arc::new(StripCustom::all());
    req.post_process.splice(0..0, [opt, strip]);
    Ok(record)
}

/// The provenance's line for the binaryen that ran.
fn binaryen_record(binaryen: &Binaryen, tools: &Tools) -> String {
    format!(
        "binaryen {} (npm binaryen@{}.0.0, {}){}",
        binaryen.version,
        binaryen.version,
        binaryen.integrity,
        if tools.binaryen.is_some() {
            ", --binaryen"
        } else {
            ", this tool's default"
        }
    )
}

/// `--recipe make` on a project whose Makefile detection did not pick.
fn make_plan(dir: &Path) -> Result<Plan, RecipeError> {
    let path = dir.join("Makefile");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| RecipeError::NoMakeRule(format!("{}: {e}", path.display())))?;
    let mk = recipe::make::Makefile::parse(&text);
    let rule = mk.build_rule().ok_or_else(|| {
        RecipeError::NoMakeRule(format!("no rule of {} runs cargo build", path.display()))
    })?;
    Ok(mk.plan(&rule))
}

/// Applies a make plan: its cargo invocation, then its post-processing steps in the Makefile's
/// order. Returns the binaryen installed for its wasm-opt steps, if it has any.
fn apply_make(
    plan: &Plan,
    explicit: Explicit,
    tools: &Tools,
    req: &mut BuildRequest,
    progress: &mut dyn Progress,
) -> Result<Option<Binaryen>, RecipeError> {
    let unsupported = |what: String| RecipeError::Unsupported {
        rule: plan.rule.clone(),
        what,
    };
    if let Some(u) = plan.unsupported.first() {
        return Err(unsupported(format!("uses {u}")));
    }
    // Where cargo runs: one directory for every cargo step (the Makefile's own, or one
    // subdirectory as in the cargo-casper template: `cd contract && cargo build …`).
    let dirs: BTreeSet<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Cargo { dir, .. } => Some(dir.as_str()),
            _ => None,
        })
        .collect();
    if dirs.len() > 1 {
        return Err(unsupported(format!(
            "runs cargo in {} directories ({}), each its own build; build each directory on its own",
            dirs.len(),
            dirs.iter()
                .map(|d| if d.is_empty() { "." } else { d })
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let sub = dirs.into_iter().next().unwrap_or_default();
    if !sub.is_empty() {
        let relative = Path::new(sub);
        if relative.is_absolute()
            || relative.components().any(|c| {
                !matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            })
        {
            return Err(unsupported(format!(
                "runs cargo in `{sub}`, outside the project"
            )));
        }
        req.crate_dir = req.crate_dir.join(relative);
    }
    let mut packages = Vec::new();
    let mut target = None;
    // Post-processing in the Makefile's order; consecutive strips are one step.
    let mut post: Vec<Arc<dyn PostProcess>> = Vec::new();
    let mut stripped = BTreeSet::new();
    let mut binaryen = None;
    for step in &plan.steps {
        if !matches!(step, Step::WasmStrip { .. }) && !stripped.is_empty() {
            post.push(Arc::new(StripCustom::only(std::mem::take(&mut stripped))));
        }
        match step {
            Step::Cargo {
                toolchain, args, ..
            } => {
                if let Some(t) = toolchain {
                    return Err(unsupported(format!(
                        "picks the toolchain `+{t}` on the command line; give it with --toolchain"
                    )));
                }
                read_cargo_args(args, &mut packages, &mut target, req).map_err(unsupported)?;
            }
            Step::WasmStrip { file } => {
                stripped.insert(file_name(file).to_owned());
            }
            Step::WasmOpt { args, .. } => {
                let (flags, file) = read_wasm_opt_args(args).map_err(unsupported)?;
                let b = match &binaryen {
                    Some(b) => Binaryen::clone(b),
                    None => {
                        let version = tools
                            .binaryen
                            .unwrap_or(repro_build::binaryen::DEFAULT_VERSION);
                        let b = repro_build::binaryen::ensure(
                            version,
                            &req.cache.dir,
                            &req.host,
                            req.offline,
                            progress,
                        )?;
                        binaryen = Some(b.clone());
                        b
                    }
                };
                post.push(Arc::new(WasmOptCommand::new(
                    b,
                    flags,
                    BTreeSet::from([file]),
                )));
            }
            Step::Other { .. } => {}
        }
    }
    if !stripped.is_empty() {
        post.push(Arc::new(StripCustom::only(stripped)));
    }
    if !explicit.packages {
        req.packages = packages;
    }
    if let (false, Some(t)) = (explicit.target, target) {
        req.target = t;
    }
    req.post_process.extend(post);
    Ok(binaryen)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A Makefile's `wasm-opt` arguments: its flags and the module it rewrites in place. Steps that
/// write elsewhere, or read or write files besides the module, are not replayed and say why.
fn read_wasm_opt_args(args: &[String]) -> Result<(Vec<String>, String), String> {
    let mut flags = Vec::new();
    let mut input: Option<&str> = None;
    let mut output: Option<&str> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-o" | "--output" => {
                output = Some(
                    it.next()
                        .ok_or("runs wasm-opt with -o and no file after it")?,
                );
            }
            "-S"
            | "--emit-text"
            | "-ism"
            | "--input-source-map"
            | "-osm"
            | "--output-source-map"
            | "-osu"
            | "--output-source-map-url" => {
                return Err(format!(
                    "runs wasm-opt with `{a}`, which reads or writes another file"
                ));
            }
            "--pass-arg" | "-pa" => {
                flags.push(a.clone());
                flags.push(
                    it.next()
                        .ok_or_else(|| format!("runs wasm-opt with {a} and no value"))?
                        .clone(),
                );
            }
            flag if flag.starts_with('-') => flags.push(a.clone()),
            file if input.is_none() => input = Some(file),
            other => {
                return Err(format!("runs wasm-opt with a second input `{other}`"));
            }
        }
    }
    let input = input.ok_or("runs wasm-opt without an input module")?;
    match output {
        Some(out) if file_name(out) == file_name(input) => {}
        Some(out) => {
            return Err(format!(
                "runs wasm-opt from `{input}` into another file `{out}`; only a module rewritten in place is replayed"
            ));
        }
        None => {
            return Err(format!(
                "runs wasm-opt on `{input}` without -o: it writes nothing"
            ));
        }
    }
    Ok((flags, file_name(input).to_owned()))
}

/// The cargo options the build replays; anything else is an error naming it.
fn read_cargo_args(
    args: &[String],
    packages: &mut Vec<String>,
    target: &mut Option<String>,
    req: &mut BuildRequest,
) -> Result<(), String> {
    let mut it = args.iter();
    let mut release = false;
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (a.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .unwrap_or_default()
        };
        match flag {
            "--release" => release = true,
            "--locked" | "--frozen" | "--offline" | "-q" | "--quiet" | "-v" | "--verbose" => {}
            "-p" | "--package" => packages.push(value()),
            "--target" => *target = Some(value()),
            "-F" | "--features" => req.features.extend(
                value()
                    .split([',', ' '])
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            ),
            "--no-default-features" => req.no_default_features = true,
            "-j" | "--jobs" | "--target-dir" => {
                value();
            }
            other => return Err(format!("passes `{other}` to cargo build")),
        }
    }
    if release {
        Ok(())
    } else {
        Err("builds without --release".into())
    }
}

fn describe(step: &Step) -> String {
    match step {
        Step::Cargo {
            dir,
            toolchain,
            args,
        } => format!(
            "{}cargo {}build {}",
            if dir.is_empty() {
                String::new()
            } else {
                format!("cd {dir} && ")
            },
            toolchain
                .as_ref()
                .map(|t| format!("+{t} "))
                .unwrap_or_default(),
            args.join(" ")
        ),
        Step::WasmStrip { file } => format!("wasm-strip {file}"),
        Step::WasmOpt { dir, args } => format!(
            "{}wasm-opt {}",
            if dir.is_empty() {
                String::new()
            } else {
                format!("cd {dir} && ")
            },
            args.join(" ")
        ),
        Step::Other { command, .. } => command.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn wasm_opt_in_place_is_read_as_flags_and_module() {
        let (flags, file) = read_wasm_opt_args(&args(
            "-Oz --signext-lowering --pass-arg a@b target/w/release/c.wasm -o target/w/release/c.wasm",
        ))
        .unwrap();
        assert_eq!(flags, ["-Oz", "--signext-lowering", "--pass-arg", "a@b"]);
        assert_eq!(file, "c.wasm");
    }

    #[test]
    fn wasm_opt_steps_that_are_not_replayed_say_why() {
        for (line, why) in [
            ("-Oz c.wasm -o d.wasm", "into another file `d.wasm`"),
            ("-Oz c.wasm", "without -o"),
            ("-Oz -o c.wasm", "without an input module"),
            ("-Oz c.wasm d.wasm -o c.wasm", "a second input `d.wasm`"),
            ("-S c.wasm -o c.wasm", "`-S`"),
            ("c.wasm -o", "-o and no file"),
        ] {
            let err = read_wasm_opt_args(&args(line)).unwrap_err();
            assert!(err.contains(why), "{line}: {err}");
        }
    }
}
