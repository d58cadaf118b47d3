//! `casper-repro batch FILE --server URL`: queue many verifications on a service at once, and
//! follow them to the end with a progress bar.

#![allow(clippy::print_stderr)]

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use repro_service::batch::{BatchDoc, human_duration};
use repro_service::client::{self, Client};

use crate::Outcome;
use crate::output::{self, Format};

const AFTER_HELP: &str = "\
The batch file (TOML; relative paths are from the file's directory):

  name = \"nightly\"                      # optional
  [[job]]
  transaction = \"deploy-69dd…\"          # deploy or transaction hash
  source = \"contracts/multi_ep\"         # a directory (packed without target/ and .git/) or a .tar.gz
  [[job]]
  transaction = \"f7b0…\"
  git = { url = \"https://github.com/o/r\", commit = \"<40 hex>\", path = \"contracts\" }

The service checks every job as it checks a single submission (the hash, the archive, the
transaction on its node); if one fails, the whole batch is refused, naming the job, and nothing is
queued. Its workers (any number, on any number of machines sharing its PostgreSQL) then verify
the jobs, grouped by toolchain. Progress is also on the service's page /batches/ID.

Examples:
  casper-repro batch contracts.toml --server http://127.0.0.1:8080
  casper-repro batch contracts.toml --server http://verifier:8080 --no-wait

Exit status:
  0  every job verified (or queued, with --no-wait)
  1  at least one job failed (its reason is listed)
  2  error: bad batch file, unreadable source, service unreachable, batch refused";

/// One line on what `casper-repro batch` does.
pub const ABOUT: &str =
    "Queue many verifications on a casper-repro service and follow them to the end";

#[derive(Debug, clap::Args)]
#[command(about = ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// The batch file (TOML).
    file: PathBuf,
    /// The service's base URL.
    #[arg(long, env = "CASPER_REPRO_SERVER")]
    server: String,
    /// Queue the batch and print its id and page, without waiting for the results.
    #[arg(long)]
    no_wait: bool,
    /// Seconds between two progress requests.
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    poll: f64,
    /// Give up waiting after this many seconds (the jobs go on on the service); 0: never.
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    timeout: u64,
    /// Result format on stdout (`json`: the service's batch document).
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if !(args.poll.is_finite() && args.poll > 0.0) {
        anyhow::bail!("--poll must be a positive number of seconds");
    }
    let file = client::read_batch_file(&args.file)?;
    let body = client::request_body(&file)?;
    let api = Client::new(&args.server, Duration::from_secs(300));
    let mut doc = api
        .submit_batch(body)
        .with_context(|| format!("submitting {}", args.file.display()))?;
    // `-q` keeps stderr for errors.
    let chatty = tracing::enabled!(tracing::Level::WARN);
    if chatty {
        eprintln!(
            "batch {} queued: {} job(s); progress at {}{}",
            doc.id,
            doc.total,
            api.base(),
            doc.links.page
        );
    }
    if !args.no_wait {
        doc = follow(&api, doc, &args, chatty)?;
    }
    match args.format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&doc).context("writing JSON")?;
            output::print_text(&format!("{text}\n"))?;
        }
        Format::Text => output::print_text(&summary(&doc, api.base()))?,
    }
    Ok(if args.no_wait || doc.failed == 0 {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// Polls until every job finished, drawing the progress bar (on a terminal) or a line per change
/// (otherwise).
fn follow(api: &Client, mut doc: BatchDoc, args: &Args, chatty: bool) -> anyhow::Result<BatchDoc> {
    let tty = chatty && std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::new(doc.total as u64);
    if tty {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            )
            .expect("a valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let start = std::time::Instant::now();
    // Off a terminal: a line when the counts change (not at every tick of the ETA).
    let mut last_counts = None;
    loop {
        let line = status_line(&doc);
        bar.set_position((doc.verified + doc.failed) as u64);
        bar.set_message(line.clone());
        let counts = (doc.verified, doc.failed, doc.running, doc.remaining);
        if chatty && !tty && last_counts != Some(counts) {
            eprintln!("batch {}: {line}", doc.id);
            last_counts = Some(counts);
        }
        if doc.done {
            break;
        }
        if args.timeout > 0 && start.elapsed() > Duration::from_secs(args.timeout) {
            bar.abandon();
            anyhow::bail!(
                "batch {} is not finished after {} s (--timeout); it goes on on the service: {}{}",
                doc.id,
                args.timeout,
                api.base(),
                doc.links.page
            );
        }
        std::thread::sleep(Duration::from_secs_f64(args.poll));
        doc = api
            .batch(doc.id)
            .with_context(|| format!("following batch {}", doc.id))?;
    }
    bar.finish_and_clear();
    Ok(doc)
}

/// `12 verified · 1 failed · 7 remaining (2 running) · 3.2/min · ETA 2m10s`.
fn status_line(d: &BatchDoc) -> String {
    let mut s = format!(
        "{} verified · {} failed · {} remaining ({} running)",
        d.verified, d.failed, d.remaining, d.running
    );
    if let Some(r) = d.rate_per_minute {
        s.push_str(&format!(" · {r:.1}/min"));
    }
    if !d.done
        && let Some(eta) = d.eta_seconds
    {
        s.push_str(&format!(" · ETA {}", human_duration(eta)));
    }
    s
}

/// The final table: every job with its outcome.
fn summary(d: &BatchDoc, base: &str) -> String {
    let mut out = format!(
        "batch {}{}: {} job(s): {}\n",
        d.id,
        d.name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        d.total,
        status_line(d)
    );
    for j in &d.jobs {
        let outcome = match (&j.verdict, &j.error) {
            (Some(v), None) => v.clone(),
            (Some(v), Some(e)) => format!("{v}: {} {}", e.code, e.description),
            (None, Some(e)) => format!("{} {}", e.code, e.description),
            (None, None) => String::new(),
        };
        out.push_str(&format!(
            "  {:>3}  job {:<5} {:<8} {}  {}\n",
            j.position,
            j.id,
            j.status.as_str(),
            j.transaction,
            outcome
        ));
    }
    out.push_str(&format!("page: {base}{}\n", d.links.page));
    out
}
