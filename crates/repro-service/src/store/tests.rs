//! The same queue flows on SQLite (a temporary file) and on a real PostgreSQL server
//! (`scripts/postgres.sh` starts the machine's PostgreSQL 15 and creates the test role; each test
//! gets a database of its own).

use super::*;
use crate::testdb::{TestDb, postgres, sqlite};

fn outcome(status: Status, code: Option<ErrorCode>) -> Outcome {
    Outcome {
        status,
        code,
        description: "d".into(),
        verdict: Some("verified".into()),
        report_json: Some("{}".into()),
        binary: Some(b"\0asm\x01\0\0\0".to_vec()),
        provenance: Some("{}".into()),
        bundle: None,
        logs: "log".into(),
        contracts: vec![ContractRef {
            contract_hash: "c1".into(),
            package_hash: "p1".into(),
            stored_sha256: "s1".into(),
        }],
    }
}

fn new_job<'a>(tx: &'a str, digest: &'a str, archive: &'a [u8]) -> NewJob<'a> {
    NewJob {
        tx_hash: tx,
        source_digest: digest,
        archive,
        max_attempts: 2,
        git: None,
        toolchain: None,
    }
}

async fn submit_claim_complete(db: TestDb) {
    let s = &db.store;
    let (id, new) = s.submit(&new_job("aa", "d1", b"archive")).await.unwrap();
    assert!(new);
    // Same transaction, same tree: the same job, nothing new.
    assert_eq!(
        s.submit(&new_job("aa", "d1", b"archive")).await.unwrap(),
        (id, false)
    );
    // Same archive for another transaction: stored once.
    let (id2, _) = s.submit(&new_job("bb", "d1", b"archive")).await.unwrap();
    assert_ne!(id, id2);
    assert_eq!(s.job(id).await.unwrap().unwrap().status, Status::Waiting);

    let c = s
        .claim("w1", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.id, c.attempts, c.tx_hash.as_str()), (id, 1, "aa"));
    assert_eq!(
        s.blob(&c.archive_sha256).await.unwrap().unwrap(),
        b"archive"
    );
    assert_eq!(s.job(id).await.unwrap().unwrap().status, Status::Pending);
    // The next claim takes the next job, never the held one.
    let c2 = s
        .claim("w2", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c2.id, id2);
    assert!(
        s.claim("w3", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );

    assert!(
        s.heartbeat(id, "w1", Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(
        !s.heartbeat(id, "w2", Duration::from_secs(60))
            .await
            .unwrap()
    );
    // Only the holder completes.
    let o = outcome(Status::Verified, None);
    assert!(!s.complete(id, "w2", &o).await.unwrap());
    assert!(s.complete(id, "w1", &o).await.unwrap());
    assert!(!s.complete(id, "w1", &o).await.unwrap(), "completed twice");
    let j = s.job(id).await.unwrap().unwrap();
    assert_eq!(j.status, Status::Verified);
    assert_eq!(j.verdict.as_deref(), Some("verified"));
    assert_eq!(
        s.blob(j.logs_sha256.as_deref().unwrap())
            .await
            .unwrap()
            .unwrap(),
        b"log"
    );

    for by in [
        Lookup::Transaction("aa"),
        Lookup::Contract("c1"),
        Lookup::Package("p1"),
        Lookup::StoredWasm("s1"),
    ] {
        let found = s.verified(by, 10).await.unwrap();
        assert_eq!(
            found.iter().map(|j| j.id).collect::<Vec<_>>(),
            [id],
            "{by:?}"
        );
    }
    assert!(
        s.verified(Lookup::Contract("nope"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.latest_for_tx("aa").await.unwrap().unwrap().id, id);

    // Failed, then re-verified.
    assert!(
        s.complete(
            id2,
            "w2",
            &outcome(Status::Failed, Some(ErrorCode::BytecodeMismatch))
        )
        .await
        .unwrap()
    );
    let j2 = s.job(id2).await.unwrap().unwrap();
    assert_eq!(j2.error_code, Some(ErrorCode::BytecodeMismatch));
    let page = s.list(None, None, 1).await.unwrap();
    assert_eq!(page[0].id, id2);
    let page2 = s.list(None, Some(page[0].id), 10).await.unwrap();
    assert_eq!(page2.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);
    assert_eq!(
        s.list(Some(Status::Verified), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(s.requeue(id2).await.unwrap());
    assert!(
        !s.requeue(id2).await.unwrap(),
        "a waiting job is not re-queued"
    );
    assert_eq!(s.job(id2).await.unwrap().unwrap().status, Status::Waiting);
    assert!(s.contracts(id2).await.unwrap().is_empty());
    assert_eq!(s.integrity().await.unwrap(), Vec::<String>::new());
    db.drop().await;
}

async fn leases_expire_and_attempts_are_bounded(db: TestDb) {
    let s = &db.store;
    let (id, _) = s.submit(&new_job("aa", "d1", b"x")).await.unwrap();
    // A worker claims with a lease that has already run out (it died).
    let c = s.claim("dead", Duration::ZERO).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    // Another worker takes it over: second attempt.
    let c2 = s.claim("alive", Duration::ZERO).await.unwrap().unwrap();
    assert_eq!((c2.id, c2.attempts), (c.id, 2));
    // The dead worker cannot write any more.
    assert!(
        !s.complete(id, "dead", &outcome(Status::Verified, None))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    // Attempts spent: failed, never claimed a third time.
    assert!(
        s.claim("third", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    let j = s.job(id).await.unwrap().unwrap();
    assert_eq!(j.status, Status::Failed);
    assert_eq!(j.error_code, Some(ErrorCode::Internal));
    assert!(
        j.error_description
            .unwrap()
            .contains("interrupted 2 time(s)")
    );

    // A release puts a job back after a delay, and may give its attempt back.
    let (id2, _) = s.submit(&new_job("bb", "d1", b"x")).await.unwrap();
    let c = s
        .claim("w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.id, id2);
    assert!(
        s.release(id2, "w", Duration::from_secs(3600), false, "shutting down")
            .await
            .unwrap()
    );
    assert!(
        s.claim("w", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none(),
        "not before its time"
    );
    let j = s.job(id2).await.unwrap().unwrap();
    assert_eq!((j.status, j.attempts), (Status::Waiting, 0));
    // An abandoned job is a complete (failed) record.
    assert_eq!(s.integrity().await.unwrap(), Vec::<String>::new());
    db.drop().await;
}

/// What a crash or a bug could leave behind is named by the integrity check; a re-submission
/// of the same tree in other archive bytes leaves nothing behind.
async fn integrity_names_what_a_crash_would_leave(db: TestDb) {
    let s = &db.store;
    let (id, _) = s
        .submit(&new_job("aa", "d1", b"gzip level 6"))
        .await
        .unwrap();
    let blobs = s.blob_count().await.unwrap();
    assert_eq!(
        s.submit(&new_job("aa", "d1", b"gzip level 9"))
            .await
            .unwrap(),
        (id, false)
    );
    assert_eq!(
        s.blob_count().await.unwrap(),
        blobs,
        "a useless blob was kept"
    );
    let (id2, _) = s.submit(&new_job("bb", "d2", b"other")).await.unwrap();
    assert_eq!(s.integrity().await.unwrap(), Vec::<String>::new());

    // Corrupt it as a half-done write would.
    for sql in [
        "INSERT INTO blobs (sha256, size, data, created_at) VALUES ('ff', 1, 'x', 0)".to_owned(),
        format!("UPDATE jobs SET state = 'Verified' WHERE id = {id}"),
        format!(
            "INSERT INTO contracts (job_id, contract_hash, package_hash, stored_sha256) \
             VALUES ({id2}, 'c', 'p', 's')"
        ),
    ] {
        sqlx::query(&sql).execute(&s.pool).await.unwrap();
    }
    let mut problems = s.integrity().await.unwrap();
    problems.sort();
    let mut want = [
        "blob ff: no job refers to it".to_owned(),
        format!("job {id2}: it lists contracts before it finished"),
        format!("job {id}: it is finished but its result is incomplete"),
        format!("job {id}: it is verified without a verdict or a report"),
    ];
    want.sort();
    assert_eq!(problems, want);
    db.drop().await;
}

/// Two workers claiming from one queue at the same time never get the same job.
async fn concurrent_claims_are_exclusive(db: TestDb) {
    let s = db.store.clone();
    for i in 0..40 {
        s.submit(&new_job(&format!("tx{i}"), "d", b"x"))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(c) = s
                .claim(&format!("w{w}"), Duration::from_secs(60))
                .await
                .unwrap()
            {
                got.push(c.id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!((n, all.len()), (40, 40));
    db.drop().await;
}

async fn batches_are_stored_whole_and_listed_in_order(db: TestDb) {
    let s = &db.store;
    // A job queued before the batch is shared with it, not queued twice.
    let (before, _) = s.submit(&new_job("aa", "d1", b"archive-1")).await.unwrap();
    let items = [
        new_job("bb", "d2", b"archive-2"),
        new_job("aa", "d1", b"archive-1 compressed differently"),
        new_job("cc", "d3", b"archive-3"),
        new_job("bb", "d2", b"archive-2"),
    ];
    let (batch, queued) = s.submit_batch(Some("nightly"), &items).await.unwrap();
    let ids: Vec<i64> = queued.iter().map(|q| q.0).collect();
    assert_eq!(ids[1], before);
    assert_eq!(ids[0], ids[3]);
    assert_eq!(
        queued.iter().map(|q| q.1).collect::<Vec<_>>(),
        [true, false, true, false]
    );
    let b = s.batch(batch).await.unwrap().unwrap();
    assert_eq!(b.name.as_deref(), Some("nightly"));
    let listed: Vec<(String, i64)> = s
        .batch_jobs(batch)
        .await
        .unwrap()
        .into_iter()
        .map(|j| (j.tx_hash, j.id))
        .collect();
    assert_eq!(
        listed,
        [
            ("bb".to_owned(), ids[0]),
            ("aa".to_owned(), before),
            ("cc".to_owned(), ids[2]),
            ("bb".to_owned(), ids[0]),
        ]
    );
    assert!(s.batch(batch + 1).await.unwrap().is_none());
    // The differently compressed archive of the shared job was not kept.
    assert_eq!(s.blob_count().await.unwrap(), 3);
    assert_eq!(s.integrity().await.unwrap(), Vec::<String>::new());
    db.drop().await;
}

async fn claims_group_jobs_by_toolchain(db: TestDb) {
    let s = &db.store;
    let mut ids = std::collections::BTreeMap::new();
    for (tx, tc) in [
        ("t1", Some("1.95.0")),
        ("t2", Some("nightly-2024-07-31")),
        ("t3", None),
        ("t4", Some("1.95.0")),
        ("t5", Some("nightly-2024-07-31")),
        ("t6", Some("1.81.0")),
    ] {
        let mut j = new_job(tx, tx, tx.as_bytes());
        j.toolchain = tc;
        ids.insert(tx, s.submit(&j).await.unwrap().0);
    }
    let lease = Duration::from_secs(60);
    let prefer = |last: Option<&str>, installed: &[&str]| Preference {
        last: last.map(str::to_owned),
        installed: installed.iter().map(|t| t.to_string()).collect(),
        max_wait: Duration::from_secs(3600),
    };
    // The last toolchain first, then an installed one, then the oldest.
    let order = [
        (prefer(Some("nightly-2024-07-31"), &["1.81.0"]), "t2"),
        (prefer(Some("nightly-2024-07-31"), &["1.81.0"]), "t5"),
        (prefer(Some("nightly-2024-07-31"), &["1.81.0"]), "t6"),
        (prefer(None, &[]), "t1"),
        (prefer(Some("1.95.0"), &[]), "t4"),
    ];
    for (p, want) in order {
        let c = s.claim_preferring("w", lease, &p).await.unwrap().unwrap();
        assert_eq!(
            (c.id, c.toolchain.is_some()),
            (ids[want], want != "t3"),
            "{want}"
        );
    }
    // A job that waited too long goes first, whatever the preference.
    let mut late = new_job("t7", "t7", b"t7");
    late.toolchain = Some("1.95.0");
    s.submit(&late).await.unwrap();
    let starving = Preference {
        last: Some("1.95.0".into()),
        installed: Vec::new(),
        max_wait: Duration::from_millis(1),
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let c = s
        .claim_preferring("w", lease, &starving)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.id, ids["t3"], "the oldest waiting job, pinned to nothing");
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_batches_are_stored_whole_and_listed_in_order() {
    batches_are_stored_whole_and_listed_in_order(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_batches_are_stored_whole_and_listed_in_order() {
    batches_are_stored_whole_and_listed_in_order(postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_claims_group_jobs_by_toolchain() {
    claims_group_jobs_by_toolchain(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_claims_group_jobs_by_toolchain() {
    claims_group_jobs_by_toolchain(postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_submit_claim_complete() {
    submit_claim_complete(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_submit_claim_complete() {
    submit_claim_complete(postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_leases_expire_and_attempts_are_bounded() {
    leases_expire_and_attempts_are_bounded(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_leases_expire_and_attempts_are_bounded() {
    leases_expire_and_attempts_are_bounded(postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_claims_are_exclusive() {
    concurrent_claims_are_exclusive(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_claims_are_exclusive() {
    concurrent_claims_are_exclusive(postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_integrity_names_what_a_crash_would_leave() {
    integrity_names_what_a_crash_would_leave(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_integrity_names_what_a_crash_would_leave() {
    integrity_names_what_a_crash_would_leave(postgres().await).await;
}

#[tokio::test]
async fn a_url_that_is_no_database_is_named() {
    let e = Store::open("mysql://x").await.unwrap_err().to_string();
    assert!(
        e.starts_with("database: `mysql://x` is not a database URL"),
        "{e}"
    );
}
