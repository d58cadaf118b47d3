//! The plain-data results: [`DiffReport`] and [`Fingerprint`]. Both serialise to the JSON documented
//! in `docs/diff-json.md`; field names here are the JSON names, so renaming one is a schema change.

use serde::Serialize;

use crate::instrument::{ConstRole, InstrumentationFacts, ProfileFit};
use crate::strings::PathFacts;

/// Size and digest of a whole module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ModuleInfo {
    /// Byte length.
    pub size: usize,
    /// Lowercase hex sha256 of the bytes.
    pub sha256: String,
}

/// One section as seen in one module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SectionSide {
    /// Offset of the section payload.
    pub offset: usize,
    /// Payload size in bytes.
    pub size: usize,
    /// Item count for vector sections.
    pub count: Option<u32>,
    /// sha256 of the payload.
    pub sha256: String,
}

/// Whether something is the same on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Same bytes.
    Identical,
    /// Present on both sides, different bytes.
    Differs,
    /// Only in module A.
    OnlyInA,
    /// Only in module B.
    OnlyInB,
}

/// A section aligned across both modules (custom sections by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SectionRow {
    /// `type`, `import`, … or the custom section's name.
    pub name: String,
    /// Section id (0 for custom).
    pub id: u8,
    /// Identical, differs, only in A, only in B.
    pub status: Status,
    /// The section in A.
    pub a: Option<SectionSide>,
    /// The section in B.
    pub b: Option<SectionSide>,
}

/// Kind of an item-level change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Only in B.
    Added,
    /// Only in A.
    Removed,
    /// In both, different.
    Changed,
}

/// An item (type, import, export, global, table, memory, element, start) that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ItemChange {
    /// Section the item belongs to.
    pub section: String,
    /// Added, removed or changed.
    pub change: Change,
    /// Index in A.
    pub index_a: Option<u32>,
    /// Index in B.
    pub index_b: Option<u32>,
    /// Name (import `module.name`, export name) where items have one.
    pub name: Option<String>,
    /// Rendering in A.
    pub a: Option<String>,
    /// Rendering in B.
    pub b: Option<String>,
}

/// Class of an aligned function pair.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FunctionClass {
    /// Same position, same bytes.
    Identical,
    /// Same code up to function-index renumbering, at another position or calling renumbered functions.
    Moved,
    /// Same instructions, only constant immediates differ.
    ConstantsOnly,
    /// Instructions differ.
    InstructionsDiffer,
    /// No counterpart in B.
    OnlyInA,
    /// No counterpart in A.
    OnlyInB,
}

/// A function on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FunctionRef {
    /// Absolute function index (imports first).
    pub index: u32,
    /// Name-section name, if any.
    pub name: Option<String>,
    /// Export names of this function.
    pub exports: Vec<String>,
    /// Body size in bytes.
    pub size: usize,
    /// Offset of the body in the module.
    pub offset: usize,
}

/// One differing constant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ConstChange {
    /// What the constant is for.
    pub role: ConstRole,
    /// Instruction position in the body.
    pub position: usize,
    /// Value in A (as written, signed).
    pub a: i64,
    /// Value in B.
    pub b: i64,
}

/// A function pair that is not identical (or an unpaired function).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FunctionEntry {
    /// The class.
    pub class: FunctionClass,
    /// How the pair was aligned: `body`, `export`, `name`, `element`, `normalised_body`,
    /// `skeleton`, `call_graph`, `position`.
    pub matched_by: Option<String>,
    /// The function in A.
    pub a: Option<FunctionRef>,
    /// The function in B.
    pub b: Option<FunctionRef>,
    /// Differing constants (constants_only), at most 32; see `constants_total`.
    pub constants: Vec<ConstChange>,
    /// Total number of differing constants.
    pub constants_total: usize,
    /// Differing constants per role (all of them, not only the first 32).
    pub constant_roles: std::collections::BTreeMap<ConstRole, usize>,
    /// Instructions inserted, deleted or replaced (instructions_differ).
    pub changed_instructions: Option<usize>,
    /// Unified diff of the WAT of both sides, when rendered.
    pub wat_diff: Option<String>,
}

/// Counts per class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FunctionCounts {
    /// Identical.
    pub identical: usize,
    /// Moved.
    pub moved: usize,
    /// Constants only.
    pub constants_only: usize,
    /// Instructions differ.
    pub instructions_differ: usize,
    /// Only in A.
    pub only_in_a: usize,
    /// Only in B.
    pub only_in_b: usize,
}

/// The function-level comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FunctionsDiff {
    /// Imported functions in A.
    pub imports_a: u32,
    /// Imported functions in B.
    pub imports_b: u32,
    /// Defined functions in A.
    pub count_a: usize,
    /// Defined functions in B.
    pub count_b: usize,
    /// Counts per class.
    pub counts: FunctionCounts,
    /// Every non-identical entry, most significant first.
    pub entries: Vec<FunctionEntry>,
}

/// A data segment on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SegmentSide {
    /// Mode and offset expression.
    pub placement: String,
    /// Byte length.
    pub size: usize,
    /// sha256 of the bytes.
    pub sha256: String,
}

/// A data segment aligned by index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SegmentRow {
    /// Segment index.
    pub index: u32,
    /// Status.
    pub status: Status,
    /// In A.
    pub a: Option<SegmentSide>,
    /// In B.
    pub b: Option<SegmentSide>,
}

/// Data comparison: segments and the printable strings that differ.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DataDiff {
    /// Every segment of both sides.
    pub segments: Vec<SegmentRow>,
    /// Printable strings (≥ 4 bytes) found in A's data but not B's (at most 64).
    pub strings_only_in_a: Vec<String>,
    /// Total count before truncation.
    pub strings_only_in_a_total: usize,
    /// Printable strings found in B's data but not A's (at most 64).
    pub strings_only_in_b: Vec<String>,
    /// Total count before truncation.
    pub strings_only_in_b_total: usize,
}

/// Toolchain evidence in one module.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ToolchainEvidence {
    /// `producers` section entries as `field: name version`.
    pub producers: Vec<String>,
    /// Commits from `/rustc/<commit>/` strings.
    pub rustc_commits: Vec<String>,
    /// `target_features` section entries (`+sign-ext`, …) as the compiler recorded them.
    pub target_features: Vec<String>,
}

/// A Wasm feature and how often it is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FeatureUse {
    /// Feature name (`sign-ext`, `bulk-memory`, `floats`, …).
    pub feature: String,
    /// Number of uses (instructions, types or segments).
    pub count: usize,
}

/// Facts about one side of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SideFacts {
    /// Toolchain evidence.
    pub toolchain: ToolchainEvidence,
    /// Paths embedded in the data.
    pub paths: PathFacts,
    /// Features used.
    pub features: Vec<FeatureUse>,
    /// Metering / stack limiter / grow counter.
    pub instrumentation: InstrumentationFacts,
    /// Caller-supplied profiles checked against the instrumentation, fitting ones first.
    pub profile_fits: Vec<ProfileFit>,
}

/// Identifier of a probable cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CauseKind {
    /// One module carries injected metering, the other does not.
    InstrumentedOneSide,
    /// Only custom sections differ.
    CustomSectionsOnly,
    /// Only the metering constants differ.
    MeteringConstants,
    /// Only the stack limiter's limit differs.
    StackLimit,
    /// Only the stack limiter's per-function costs differ.
    StackCosts,
    /// Different rustc.
    RustcDiffers,
    /// Embedded build paths differ.
    BuildPaths,
    /// Same bodies, different order.
    Reordered,
    /// Export sets differ.
    ExportsDiffer,
    /// Wasm feature use differs.
    FeaturesDiffer,
    /// Code differs for no recognised reason.
    CodeDiffers,
}

/// A `--remap FROM=TO` that would make B's embedded paths equal A's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Remap {
    /// Prefix as embedded in B.
    pub from: String,
    /// Prefix as embedded in A.
    pub to: String,
}

/// A probable cause, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Cause {
    /// Identifier.
    pub kind: CauseKind,
    /// 0–100; causes are sorted by it.
    pub score: u8,
    /// One sentence.
    pub summary: String,
    /// What in the bytes supports it.
    pub evidence: Vec<String>,
    /// What to do about it.
    pub fix: Option<String>,
    /// Path remaps that would fix embedded-path differences (build_paths only).
    pub remaps: Vec<Remap>,
}

/// The result of [`crate::diff`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DiffReport {
    /// True when the two inputs are byte-identical.
    pub identical: bool,
    /// Module A.
    pub a: ModuleInfo,
    /// Module B.
    pub b: ModuleInfo,
    /// Every section of both modules, aligned.
    pub sections: Vec<SectionRow>,
    /// Item-level changes in the differing non-code, non-data sections.
    pub items: Vec<ItemChange>,
    /// Function alignment.
    pub functions: FunctionsDiff,
    /// Data segments and strings.
    pub data: DataDiff,
    /// Facts about A.
    pub facts_a: SideFacts,
    /// Facts about B.
    pub facts_b: SideFacts,
    /// Probable causes, most probable first. Empty when identical.
    pub causes: Vec<Cause>,
}

/// A section of an inspected module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SectionEntry {
    /// `type`, `import`, … or the custom section's name.
    pub name: String,
    /// Section id (0 for custom).
    pub id: u8,
    /// Offset, size, count, digest.
    #[serde(flatten)]
    pub side: SectionSide,
}

/// The result of [`crate::inspect`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Fingerprint {
    /// Size and digest.
    pub module: ModuleInfo,
    /// Sections in order.
    pub sections: Vec<SectionEntry>,
    /// Imports as `module.name desc`.
    pub imports: Vec<String>,
    /// Exports as `name kind index`.
    pub exports: Vec<String>,
    /// Imported functions.
    pub imported_functions: u32,
    /// Defined functions.
    pub defined_functions: usize,
    /// Number of function names in the `name` section.
    pub function_names: usize,
    /// True when a metering import was found.
    pub metered: bool,
    /// Everything else.
    pub facts: SideFacts,
}
