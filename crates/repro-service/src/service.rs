//! `casper-repro serve` and `casper-repro worker` as library calls: bind, run until a shutdown
//! signal, stop gracefully (the server finishes its requests; workers give unfinished jobs back).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::watch;

use crate::server::{self, AppState};
use crate::store::{Store, StoreError};
use crate::worker;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("creating the data directory {dir}: {source}")]
    Data { dir: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("serving HTTP: {0}")]
    Serve(std::io::Error),
}

/// The data directory when none is given: `$XDG_DATA_HOME/casper-repro`, else
/// `~/.local/share/casper-repro`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("casper-repro")
}

/// The default database: a SQLite file in the data directory.
pub fn sqlite_url(data: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data.join("service.db").display())
}

/// Creates `data` and opens `database` (migrating it).
pub async fn open(database: &str, data: &Path) -> Result<Store, ServiceError> {
    fs_err::create_dir_all(data).map_err(|source| ServiceError::Data {
        dir: data.display().to_string(),
        source,
    })?;
    Ok(Store::open(database).await?)
}

/// A bound server, with its in-process workers.
#[derive(Debug)]
pub struct Service {
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    workers: Option<worker::Config>,
}

impl Service {
    /// Binds `listen` (`0` as the port: any free one, see [`Service::local_addr`]).
    pub async fn bind(
        listen: &str,
        store: Store,
        config: server::Config,
        workers: Option<worker::Config>,
    ) -> Result<Service, ServiceError> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| ServiceError::Listen {
                addr: listen.to_owned(),
                source,
            })?;
        Ok(Service {
            listener,
            state: Arc::new(AppState { store, config }),
            workers,
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until `shutdown` resolves; then stops accepting, finishes the requests in flight,
    /// and stops the workers gracefully.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        if let Some(config) = self.workers.clone() {
            let store = self.state.store.clone();
            let stop = wait_for(stop_rx.clone());
            tasks.spawn(async move { worker::run(store, config, stop).await });
        }
        let app = server::router(Arc::clone(&self.state));
        let stop = wait_for(stop_rx);
        let served = tokio::spawn(async move {
            axum::serve(self.listener, app)
                .with_graceful_shutdown(stop)
                .await
        });
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
        let served = served.await;
        while let Some(r) = tasks.join_next().await {
            if let Ok(Err(e)) = r {
                tracing::error!("{e}");
            }
        }
        self.state.store.close().await;
        match served {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ServiceError::Serve(e)),
            Err(e) => Err(ServiceError::Serve(std::io::Error::other(e.to_string()))),
        }
    }
}

async fn wait_for(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Runs a worker (no HTTP) until `shutdown`.
pub async fn run_worker(
    store: Store,
    config: worker::Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServiceError> {
    worker::run(store.clone(), config, shutdown).await?;
    store.close().await;
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
