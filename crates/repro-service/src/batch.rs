//! Batches: many (transaction, source) pairs queued in one request (`POST /api/v1/batches`,
//! `casper-repro batch FILE`) and followed as one: how many are verified, failed and remaining,
//! the rate, and when the rest should be done.
//!
//! The documents here are the API's; the command-line client reads them back with the same types.

use serde::{Deserialize, Serialize};

use crate::codeverifier::Status;
use crate::store::{Batch, Job};

/// One job of a batch, as the API lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchJob {
    /// Its place in the submitted list (from 0).
    pub position: usize,
    pub id: i64,
    pub transaction: String,
    pub status: Status,
    /// The verify report's verdict, when the verification made one.
    pub verdict: Option<String>,
    /// Why it failed (the codeverifier's code and the description).
    pub error: Option<BatchJobError>,
    pub attempts: i64,
    /// The toolchain the project pins, if any.
    pub toolchain: Option<String>,
    /// The job's page.
    pub page: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchJobError {
    pub code: String,
    pub description: String,
}

/// A batch's progress (`GET /api/v1/batches/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchDoc {
    pub id: i64,
    pub name: Option<String>,
    pub created_at_ms: i64,
    pub total: usize,
    pub verified: usize,
    pub failed: usize,
    /// Queued and not yet claimed.
    pub waiting: usize,
    /// Being verified now.
    pub running: usize,
    /// `waiting + running`.
    pub remaining: usize,
    /// Every job finished.
    pub done: bool,
    /// Jobs finished per minute since the batch was queued (only those finished after it: a job
    /// the batch shares with an earlier submission does not count).
    pub rate_per_minute: Option<f64>,
    /// Seconds until the remaining jobs should be done at that rate.
    pub eta_seconds: Option<u64>,
    pub jobs: Vec<BatchJob>,
    pub links: BatchLinks,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchLinks {
    #[serde(rename = "self")]
    pub this: String,
    pub page: String,
}

/// The progress of `batch`, whose jobs (in their submitted order) are `jobs`, at `now_ms`.
pub fn progress(batch: &Batch, jobs: &[Job], now_ms: i64) -> BatchDoc {
    let count = |s: Status| jobs.iter().filter(|j| j.status == s).count();
    let (verified, failed) = (count(Status::Verified), count(Status::Failed));
    let (waiting, running) = (count(Status::Waiting), count(Status::Pending));
    let remaining = waiting + running;
    let finished_since: Vec<i64> = jobs
        .iter()
        .filter_map(|j| j.finished_at)
        .filter(|&t| t >= batch.created_at)
        .collect();
    // Until now while jobs remain; up to the last finish once all are done.
    let end = if remaining > 0 {
        now_ms
    } else {
        finished_since.iter().copied().max().unwrap_or(now_ms)
    };
    let span_ms = (end - batch.created_at).max(1);
    let rate_per_minute = (!finished_since.is_empty())
        .then(|| finished_since.len() as f64 * 60_000.0 / span_ms as f64);
    let eta_seconds = match rate_per_minute {
        _ if remaining == 0 => Some(0),
        Some(r) if r > 0.0 => Some((remaining as f64 / r * 60.0).ceil() as u64),
        _ => None,
    };
    BatchDoc {
        id: batch.id,
        name: batch.name.clone(),
        created_at_ms: batch.created_at,
        total: jobs.len(),
        verified,
        failed,
        waiting,
        running,
        remaining,
        done: remaining == 0,
        rate_per_minute,
        eta_seconds,
        jobs: jobs
            .iter()
            .enumerate()
            .map(|(position, j)| BatchJob {
                position,
                id: j.id,
                transaction: j.tx_hash.clone(),
                status: j.status,
                verdict: j.verdict.clone(),
                error: j.error_code.map(|c| BatchJobError {
                    code: c.as_str().to_owned(),
                    description: j.error_description.clone().unwrap_or_default(),
                }),
                attempts: j.attempts,
                toolchain: j.toolchain.clone(),
                page: format!("/jobs/{}", j.id),
            })
            .collect(),
        links: BatchLinks {
            this: format!("/api/v1/batches/{}", batch.id),
            page: format!("/batches/{}", batch.id),
        },
    }
}

/// Seconds as `1h02m`, `3m05s`, `42s`.
pub fn human_duration(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: i64, status: Status, finished_at: Option<i64>) -> Job {
        Job {
            id,
            tx_hash: format!("{id:064x}"),
            source_digest: String::new(),
            archive_sha256: String::new(),
            status,
            attempts: 1,
            max_attempts: 3,
            created_at: 0,
            started_at: None,
            finished_at,
            error_code: None,
            error_description: None,
            verdict: None,
            binary_sha256: None,
            logs_sha256: None,
            provenance_sha256: None,
            bundle_sha256: None,
            git: None,
            toolchain: None,
        }
    }

    #[test]
    fn counts_rate_and_eta() {
        let batch = Batch {
            id: 7,
            name: None,
            created_at: 1_000_000,
        };
        // Job 1 finished before the batch (shared): done, but not part of the rate.
        let jobs = [
            job(1, Status::Verified, Some(900_000)),
            job(2, Status::Verified, Some(1_030_000)),
            job(3, Status::Failed, Some(1_060_000)),
            job(4, Status::Pending, None),
            job(5, Status::Waiting, None),
            job(6, Status::Waiting, None),
        ];
        // Two finished in the batch's first 60 s: 2 per minute; 3 remain: 90 s.
        let d = progress(&batch, &jobs, 1_060_000);
        assert_eq!(
            (
                d.total,
                d.verified,
                d.failed,
                d.waiting,
                d.running,
                d.remaining,
                d.done
            ),
            (6, 2, 1, 2, 1, 3, false)
        );
        assert_eq!(d.rate_per_minute, Some(2.0));
        assert_eq!(d.eta_seconds, Some(90));
        assert_eq!(d.jobs[3].position, 3);
        assert_eq!(d.links.page, "/batches/7");
    }

    #[test]
    fn nothing_finished_yet_has_no_rate_and_done_has_no_eta_left() {
        let batch = Batch {
            id: 1,
            name: Some("n".into()),
            created_at: 0,
        };
        let d = progress(&batch, &[job(1, Status::Waiting, None)], 5_000);
        assert_eq!((d.rate_per_minute, d.eta_seconds), (None, None));
        let d = progress(&batch, &[job(1, Status::Failed, Some(30_000))], 90_000);
        assert!(d.done);
        assert_eq!((d.rate_per_minute, d.eta_seconds), (Some(2.0), Some(0)));
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human_duration(42), "42s");
        assert_eq!(human_duration(185), "3m05s");
        assert_eq!(human_duration(3720), "1h02m");
    }
}
