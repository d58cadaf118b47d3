//! Presentation helpers shared by subcommands: the `--format` flag and writing exactly one JSON
//! document (with `schema_version`) or text to stdout.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;

/// Output format of a subcommand's result on stdout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// One JSON document with a `schema_version`, for programs (see docs/json-schema.md).
    Json,
}

/// Prints one pretty JSON document followed by a newline to stdout.
pub fn print_json<T: Serialize>(kind: &str, payload: &T) -> anyhow::Result<()> {
    let envelope = repro_verify::wire::Envelope::new(kind, payload);
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &envelope).context("writing JSON to stdout")?;
    writeln!(stdout).context("writing to stdout")?;
    Ok(())
}

/// Prints text to stdout as is.
pub fn print_text(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .context("writing to stdout")?;
    Ok(())
}
