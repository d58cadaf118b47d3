//! `casper-repro replay`: what a node stores for an install, from the exact uploaded session bytes.

use std::path::{Path, PathBuf};

use crate::repro_core::{Installed, Protocol, ProtocolVersion, ReplayOptions, Step};
use anyhow::bail;

use repro_verify::config::Explicit;
use repro_verify::wire::{ReplayDoc, ReplayInstallDoc, ReplayRejectedDoc};

use crate::Outcome;
use crate::flags::ChainspecFile;
use crate::output::{self, Format};
use crate::repro_chain::sha256_hex;

const AFTER_HELP: &str = "\
Examples:
  Replay an install on mainnet 1.5.8 of a contract with entry points `init` and `transfer`:
    casper-repro replay --protocol 1.5.8 --entry-points init,transfer session.wasm -o stored.wasm

  Two contracts installed by one session: one --entry-points and one -o per contract:
    casper-repro replay --protocol 2.0.3 --entry-points a,b -o first.wasm --entry-points c -o second.wasm session.wasm

  A private network: its chainspec gives the protocol version and the Wasm costs:
    casper-repro replay --chainspec chainspec.toml --entry-points call session.wasm -o stored.wasm

  A contract installed by a stored contract (factory): the input is the caller's stored bytes:
    casper-repro replay --protocol 1.5.8 --factory --entry-points child_inc,child_get factory.stored.wasm -o child.wasm

The text report lists every step; -v adds each step's serialized size (one extra serialization
per step, as much work again as the node's pipeline); --format json always has them.

Exit status:
  0  the module was processed and written
  2  the node would have rejected the module (nothing is written), or bad input";

/// One line on what `casper-repro replay` does: in the top-level help and its own.
pub const ABOUT: &str =
    "Replay the node's install processing: preprocess the session, optimize to the entry points";

/// The arguments of `casper-repro replay`.
#[derive(Debug, clap::Args)]
#[command(about = ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// The session Wasm exactly as uploaded (with --factory: the calling contract's stored bytes).
    input: PathBuf,
    /// Protocol version of the block that executed the install (see `casper-repro protocols`).
    #[arg(long, required_unless_present = "chainspec")]
    protocol: Option<ProtocolVersion>,
    /// A chainspec.toml (1.x `[wasm]` or 2.x `[wasm.v1]`) for a network other than mainnet; its
    /// `[protocol] version` must agree with --protocol when both are given.
    #[arg(long, value_name = "FILE")]
    chainspec: Option<PathBuf>,
    /// Entry-point names of one installed contract, comma-separated. Repeat for each contract the
    /// session installs.
    #[arg(
        long = "entry-points",
        short = 'e',
        value_name = "A,B,C",
        required = true
    )]
    entry_points: Vec<EntryPointList>,
    /// Output file of the stored module; one per --entry-points, in the same order.
    #[arg(short, long = "output", value_name = "STORED.wasm", required = true)]
    output: Vec<PathBuf>,
    /// The input is a stored contract that installs another one (no second preprocessing).
    #[arg(long)]
    factory: bool,
    /// Result format on stdout.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Output size (all stored modules) from which their digests are computed on another thread:
/// below it, hashing takes less than starting a thread (SHA-256 runs at about 1–2 GB/s here).
const HASH_ON_ANOTHER_CORE_FROM: usize = 128 * 1024;

/// `detailed`: the global `-v`; the record then has every step's size (always with JSON).
pub fn run(args: Args, detailed: bool) -> anyhow::Result<Outcome> {
    let protocol = resolve_protocol(args.protocol, args.chainspec.as_deref())?;
    let groups = group_entry_points(&args)?;
    if groups.len() != args.output.len() {
        bail!(
            "{} --entry-points list(s) but {} -o file(s): give one output file per installed contract",
            groups.len(),
            args.output.len()
        );
    }
    let input = fs_err::read(&args.input)?;
    // The detailed record re-serializes the module after every step: as much work again as the
    // node's own pipeline. Only when the sizes are shown.
    let options = ReplayOptions {
        detailed: detailed || args.format == Format::Json,
    };
    let processed = if args.factory {
        crate::repro_core::load_stored(&protocol, &input, options)
    } else {
        crate::repro_core::preprocess(&protocol, &input, options)
    };
    let processed = match processed {
        Ok(p) => p,
        Err(rejection) => return rejected(args.format, &args.input, rejection),
    };
    let mut installed: Vec<Installed> = Vec::with_capacity(groups.len());
    let (last, others) = groups
        .split_last()
        .expect("clap requires one --entry-points");
    for names in others {
        match processed.install(names) {
            Ok(i) => installed.push(i),
            Err(rejection) => return rejected(args.format, &args.input, rejection),
        }
    }
    match processed.install_once(last) {
        Ok(i) => installed.push(i),
        Err(rejection) => return rejected(args.format, &args.input, rejection),
    }
    // Everything succeeded: only now touch the file system. All temporary files are written
    // first and renamed only when every one of them is complete.
    let files: Vec<(&Path, &[u8])> = args
        .output
        .iter()
        .map(PathBuf::as_path)
        .zip(installed.iter().map(|i| i.bytes.as_slice()))
        .collect();
    // The digests of the report: for large modules on the other core while the files are written;
    // for small ones here, where starting a thread would cost more than the hashing.
    let hash_all = || {
        installed
            .iter()
            .map(|i| sha256_hex(&i.bytes))
            .collect::<Vec<_>>()
    };
    let total: usize = installed.iter().map(|i| i.bytes.len()).sum();
    let digests = if total < HASH_ON_ANOTHER_CORE_FROM {
        write_all_atomically(&files)?;
        hash_all()
    } else {
        std::thread::scope(|scope| {
            let hashing = scope.spawn(hash_all);
            write_all_atomically(&files)?;
            hashing
                .join()
                .map_err(|_| anyhow::anyhow!("hashing the stored modules failed"))
        })?
    };
    let report = ReplayDoc {
        protocol: &protocol,
        input: args.input.display().to_string(),
        factory: args.factory,
        installs: installed
            .iter()
            .zip(&groups)
            .zip(&args.output)
            .zip(digests)
            .map(|(((i, names), path), sha256)| ReplayInstallDoc {
                entry_points: names,
                output: path.display().to_string(),
                bytes: i.bytes.len(),
                sha256,
                record: &i.record,
            })
            .collect(),
    };
    match args.format {
        Format::Json => output::print_json("replay", &report)?,
        Format::Text => output::print_text(&render_text(&report))?,
    }
    Ok(Outcome::Success)
}

/// The entry-point names of one contract: one `--entry-points a,b,c` occurrence.
#[derive(Debug, Clone)]
pub struct EntryPointList(Vec<String>);

impl std::str::FromStr for EntryPointList {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let names: Vec<String> = s
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Err(
                "an entry-point list is empty: name at least one entry point per contract"
                    .to_owned(),
            );
        }
        Ok(EntryPointList(names))
    }
}

/// One list of entry-point names per installed contract.
fn group_entry_points(args: &Args) -> anyhow::Result<Vec<Vec<String>>> {
    Ok(args.entry_points.iter().map(|l| l.0.clone()).collect())
}

/// The protocol from --protocol (mainnet table) and/or --chainspec (any network).
fn resolve_protocol(
    version: Option<ProtocolVersion>,
    chainspec: Option<&Path>,
) -> anyhow::Result<Protocol> {
    let file = chainspec.map(ChainspecFile::read).transpose()?;
    let explicit = Explicit {
        protocol: version,
        chainspec: file.as_ref().map(ChainspecFile::as_chainspec),
    };
    Ok(repro_verify::config::explicit_protocol(&explicit)?)
}

fn rejected(
    format: Format,
    input: &Path,
    rejection: crate::repro_core::Rejection,
) -> anyhow::Result<Outcome> {
    if format == Format::Json {
        output::print_json(
            "replay",
            &ReplayRejectedDoc {
                input: input.display().to_string(),
                rejected: &rejection,
            },
        )?;
    }
    Err(anyhow::Error::new(rejection).context(format!("replaying {}", input.display())))
}

/// Writes each file to a temporary file beside its path, then, once all are written, renames them
/// into place. On an error no temporary file is left behind.
pub fn write_all_atomically(files: &[(&Path, &[u8])]) -> anyhow::Result<()> {
    let mut temps: Vec<(PathBuf, &Path)> = Vec::with_capacity(files.len());
    let cleanup = |temps: &[(PathBuf, &Path)]| {
        for (tmp, _) in temps {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for (path, bytes) in files {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let Some(name) = path.file_name() else {
            cleanup(&temps);
            bail!("{} is not a file path", path.display());
        };
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        if let Err(e) = fs_err::write(&tmp, bytes) {
            cleanup(&temps);
            return Err(e.into());
        }
        temps.push((tmp, path));
    }
    for (index, (tmp, path)) in temps.iter().enumerate() {
        if let Err(e) = fs_err::rename(tmp, path) {
            cleanup(&temps[index..]);
            return Err(e.into());
        }
    }
    Ok(())
}

fn render_text(report: &ReplayDoc<'_>) -> String {
    use std::fmt::Write;
    let p = report.protocol;
    let mut s = String::new();
    let source = match p.source() {
        crate::repro_core::ConfigSource::Mainnet => "mainnet table".to_owned(),
        crate::repro_core::ConfigSource::Chainspec { name, .. } => format!("chainspec {name}"),
    };
    let _ = writeln!(
        s,
        "protocol {} ({source}) — {}",
        p.version(),
        p.pipeline().line.crates()
    );
    let _ = writeln!(
        s,
        "input {}{}",
        report.input,
        if report.factory {
            " (stored caller, no preprocessing)"
        } else {
            ""
        }
    );
    if let Some(first) = report.installs.first() {
        let pre: Vec<&Step> = first
            .record
            .steps
            .iter()
            .take_while(|s| !matches!(s, Step::Optimize { .. }))
            .collect();
        for step in pre {
            let _ = writeln!(s, "  {}", describe(step));
        }
    }
    for install in &report.installs {
        let _ = writeln!(
            s,
            "contract [{}] -> {} (sha256 {})",
            install.entry_points.join(", "),
            install.output,
            install.sha256
        );
        for step in install
            .record
            .steps
            .iter()
            .skip_while(|s| !matches!(s, Step::Optimize { .. }))
        {
            let _ = writeln!(s, "  {}", describe(step));
        }
    }
    s
}

fn describe(step: &Step) -> String {
    let size = |shape: &crate::repro_core::Shape| match shape.bytes {
        Some(b) => format!("{b} bytes, {} functions", shape.functions),
        None => format!("{} functions", shape.functions),
    };
    match step {
        Step::Deserialize {
            parser,
            input_bytes,
            ..
        } => format!("deserialize   {input_bytes} bytes with {parser}"),
        Step::Validate { checks, passed } => {
            format!("validate      {checks:?}: {} checks passed", passed.len())
        }
        Step::TableMaximum {
            initial,
            maximum_before,
            maximum_after,
            rewritten,
        } => format!(
            "table         initial {initial}, maximum {} -> {}{}",
            maximum_before.map_or("none".to_owned(), |m| m.to_string()),
            maximum_after.map_or("none".to_owned(), |m| m.to_string()),
            if *rewritten { " (rewritten)" } else { "" }
        ),
        Step::ExternalizeMemory {
            max_memory,
            initial_pages,
            maximum_before,
            maximum_after,
            after,
        } => format!(
            "memory        -> import env.memory, {initial_pages} pages, maximum {} -> {} (max_memory {max_memory}); {}",
            maximum_before.map_or("none".to_owned(), |m| m.to_string()),
            maximum_after.map_or("none".to_owned(), |m| m.to_string()),
            size(after)
        ),
        Step::InjectGas {
            rules,
            metered_blocks,
            grow_counter,
            after,
            ..
        } => format!(
            "gas           {rules:?} rules{}{}; {}",
            metered_blocks.map_or(String::new(), |n| format!(", {n} metered blocks")),
            if *grow_counter == Some(true) {
                ", grow counter added"
            } else {
                ""
            },
            size(after)
        ),
        Step::InjectStackLimiter {
            max_stack_height,
            after,
        } => {
            format!(
                "stack limit   max_stack_height {max_stack_height}; {}",
                size(after)
            )
        }
        Step::LoadStored {
            parser,
            input_bytes,
            ..
        } => format!("load stored   {input_bytes} bytes with {parser}"),
        Step::Optimize {
            entry_points,
            custom_sections_before,
            name_section_kept,
            after,
        } => format!(
            "optimize      to {} entry point(s); custom sections {:?} -> {}; {}",
            entry_points.len(),
            custom_sections_before,
            if *name_section_kept {
                "name kept"
            } else {
                "none kept"
            },
            size(after)
        ),
        Step::Serialize { output_bytes } => format!("serialize     {output_bytes} bytes"),
    }
}
