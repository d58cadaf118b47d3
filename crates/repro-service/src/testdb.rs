//! Test support (feature `test-support`): a fresh database per test, on SQLite (a temporary
//! file) or on the real PostgreSQL server that `scripts/postgres.sh` starts. A test that needs
//! PostgreSQL and cannot reach it fails, saying how to start it; it is never skipped.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

use crate::store::Store;

/// The PostgreSQL server the tests use (a role that may create databases).
pub const DEFAULT_POSTGRES: &str = "postgres://casper_repro:casper_repro@127.0.0.1:5432/postgres";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    pub url: String,
    drop_sql: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Closes the store and removes the database.
    pub async fn drop(self) {
        self.store.close().await;
        if let Some((admin, sql)) = self.drop_sql
            && let Ok(mut c) = sqlx::AnyConnection::connect(&admin).await
        {
            let _ = sqlx::query(&sql).execute(&mut c).await;
        }
    }
}

/// A fresh SQLite database file.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("service.db").display()
    );
    let store = Store::open(&url).await.expect("open SQLite");
    TestDb {
        store,
        url,
        drop_sql: None,
        _dir: Some(dir),
    }
}

/// The admin URL of the test PostgreSQL (`CASPER_REPRO_TEST_POSTGRES`, else [`DEFAULT_POSTGRES`]).
pub fn postgres_admin_url() -> String {
    std::env::var("CASPER_REPRO_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
}

/// A fresh PostgreSQL database; panics with the way to start the server when it is not there.
pub async fn postgres() -> TestDb {
    sqlx::any::install_default_drivers();
    static N: AtomicU32 = AtomicU32::new(0);
    let admin = postgres_admin_url();
    let mut c = sqlx::AnyConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {admin}: {e}\n\
             start it with `bash scripts/postgres.sh` (PostgreSQL 15: pg_ctlcluster 15 main start, \
             and the casper_repro role), or point CASPER_REPRO_TEST_POSTGRES at another server"
            )
        });
    let name = format!(
        "casper_repro_t{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        crate::store::now_ms()
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
    let (base, _) = admin
        .rsplit_once('/')
        .expect("a database URL ends in /DATABASE");
    let url = format!("{base}/{name}");
    let store = Store::open(&url).await.expect("open PostgreSQL");
    TestDb {
        store,
        url,
        drop_sql: Some((
            admin,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )),
        _dir: None,
    }
}
