//! Build progress on stderr.

#![allow(clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::repro_build::{BuildRequest, Progress, ProgressEvent};
use anyhow::Context;

/// Runs one build with progress on stderr.
pub fn build_with_progress(req: &BuildRequest) -> anyhow::Result<crate::repro_build::BuildOutput> {
    let mut progress = StderrProgress::new();
    let out = crate::repro_build::build(req, &mut progress);
    progress.finish();
    let out = out.with_context(|| format!("building {}", req.crate_dir.display()))?;
    if out.cache_hit && progress.level != Level::Quiet {
        let _ = writeln!(
            std::io::stderr(),
            "cache hit ({} ms)",
            out.elapsed.as_millis()
        );
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Quiet,
    Normal,
    Verbose,
}

/// Progress on stderr: steps always, a status line (current crate, elapsed) while cargo runs, and
/// every cargo line with `-v`. The level follows the tracing filter `main` installed.
#[derive(Debug)]
pub struct StderrProgress {
    level: Level,
    tty: bool,
    last_draw: Option<Instant>,
    drawn: bool,
    last_current: String,
}

impl StderrProgress {
    pub fn new() -> Self {
        let level = if tracing::enabled!(tracing::Level::DEBUG) {
            Level::Verbose
        } else if tracing::enabled!(tracing::Level::WARN) {
            Level::Normal
        } else {
            Level::Quiet
        };
        Self {
            level,
            tty: std::io::stderr().is_terminal(),
            last_draw: None,
            drawn: false,
            last_current: String::new(),
        }
    }

    fn clear(&mut self, err: &mut impl Write) {
        if self.drawn {
            let _ = write!(err, "\r\x1b[2K");
            self.drawn = false;
        }
    }

    pub fn finish(&mut self) {
        let mut err = std::io::stderr().lock();
        self.clear(&mut err);
    }
}

impl Progress for StderrProgress {
    fn event(&mut self, event: ProgressEvent<'_>) {
        if self.level == Level::Quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        match event {
            ProgressEvent::Step(s) => {
                self.clear(&mut err);
                let _ = writeln!(err, "casper-repro: {s}");
            }
            ProgressEvent::CargoLine(l) if self.level == Level::Verbose => {
                self.clear(&mut err);
                let _ = writeln!(err, "{l}");
            }
            ProgressEvent::CargoLine(_) => {}
            ProgressEvent::Tick { current, elapsed } => {
                if self.tty {
                    if self
                        .last_draw
                        .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
                    {
                        return;
                    }
                    self.last_draw = Some(Instant::now());
                    let _ = write!(err, "\r\x1b[2K[{:>5.1}s] {current}", elapsed.as_secs_f64());
                    self.drawn = true;
                } else if self.level == Level::Normal
                    && current != self.last_current
                    && current.starts_with("Compiling")
                {
                    // Not a terminal: one line per crate, no carriage returns.
                    let _ = writeln!(err, "[{:>5.1}s] {current}", elapsed.as_secs_f64());
                }
                self.last_current = current.to_owned();
            }
            ProgressEvent::Done { elapsed } => {
                self.clear(&mut err);
                let _ = writeln!(
                    err,
                    "casper-repro: cargo step finished in {:.1}s",
                    elapsed.as_secs_f64()
                );
            }
        }
    }
}

/// Says which recipe the build replays and why (and what of it is not replayed), unless quiet.
pub fn report_toolchain(what: &str) {
    if tracing::enabled!(tracing::Level::WARN) {
        let _ = writeln!(std::io::stderr().lock(), "casper-repro: toolchain {what}");
    }
}

/// Says on stderr which recipe was chosen and why (not with `--quiet`).
pub fn report_recipe(record: &crate::repro_build::recipe::RecipeRecord) {
    if !tracing::enabled!(tracing::Level::WARN) {
        return;
    }
    let kind = match record.kind {
        crate::repro_build::recipe::RecipeKind::Cargo => "cargo",
        crate::repro_build::recipe::RecipeKind::Make => "make",
        crate::repro_build::recipe::RecipeKind::Odra => "odra",
    };
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "casper-repro: recipe {kind}: {}", record.reason);
    for tool in &record.tools {
        let _ = writeln!(stderr, "casper-repro: with {tool}");
    }
    if !record.not_replayed.is_empty() {
        let _ = writeln!(
            stderr,
            "casper-repro: not replayed from the Makefile: {}",
            record.not_replayed.join(", ")
        );
    }
}
