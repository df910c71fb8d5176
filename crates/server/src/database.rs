//! The database: an existing server from `DATABASE_URL`, or the embedded cluster in the data
//! directory, which this process stops on exit only if it started it.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgPool};

use crate::data_dir::DataDirLock;
use crate::embedded_pg::{EmbeddedOptions, EmbeddedPostgres};

/// Name of Ricochet's database inside the embedded cluster.
pub const EMBEDDED_DATABASE: &str = "ricochet";

/// How often the supervisor looks at the embedded postmaster.
const SUPERVISE_EVERY: Duration = Duration::from_millis(500);

/// How long start-up keeps trying an external server that does not answer yet.
const CONNECT_FOR: Duration = Duration::from_secs(30);

/// A connection pool and, when embedded, the cluster behind it.
#[derive(Debug)]
pub struct Database {
    /// The pool.
    pub pool: PgPool,
    embedded: Option<Arc<Mutex<EmbeddedPostgres>>>,
    supervisor: Option<tokio::task::JoinHandle<()>>,
    /// The data directory's lock, once this process holds it: released only after the
    /// cluster is stopped, so that no other process starts using a cluster about to stop.
    lock: Arc<Mutex<Option<DataDirLock>>>,
}

impl Database {
    /// Connects to `url`, or starts (or joins) the embedded cluster under `data_dir`.
    pub async fn open(
        url: Option<&SecretString>,
        data_dir: &Path,
        max_connections: u32,
        pg_settings: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let (options, embedded) = match url {
            Some(url) => {
                let options = PgConnectOptions::from_str(url.expose_secret())
                    .context("DATABASE_URL is not a valid PostgreSQL URL")?;
                let pool = connect_retrying(max_connections, options).await?;
                return Ok(Database {
                    pool,
                    embedded: None,
                    supervisor: None,
                    lock: Arc::default(),
                });
            }
            None => {
                let cluster_dir = crate::data_dir::cluster_dir(data_dir);
                let opts = EmbeddedOptions {
                    cluster_dir,
                    ephemeral: false,
                    settings: pg_settings.to_vec(),
                };
                let embedded = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(opts))
                    .await
                    .context("embedded PostgreSQL task")??;
                tracing::info!(socket_dir = %embedded.socket_dir().display(), started = embedded.owned(), "embedded PostgreSQL ready");
                let options = embedded_options(&embedded);
                ensure_database(&options, EMBEDDED_DATABASE).await?;
                (options.database(EMBEDDED_DATABASE), Some(embedded))
            }
        };
        let pool = ricochet_store::pool_options(max_connections)
            .connect_with(options)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(Database {
            pool,
            embedded: embedded.map(|e| Arc::new(Mutex::new(e))),
            supervisor: None,
            lock: Arc::default(),
        })
    }

    /// Watches the embedded cluster for the life of this process and starts it again, on the
    /// same data directory and socket, when its postmaster dies (kill -9, the OOM killer): the
    /// pool reconnects by itself once it is back. Only the process holding the data
    /// directory's lock supervises, so two never race to start it; a process that joined the
    /// cluster of another (`lock` is `None`) takes the lock over when that one exits, and
    /// supervises from then on. Nothing to do with `DATABASE_URL`, where the pool simply
    /// reconnects when the server is back.
    pub fn supervise(
        &mut self,
        data_dir: PathBuf,
        command: &'static str,
        lock: Option<DataDirLock>,
    ) {
        *self
            .lock
            .lock()
            .expect("the supervisor never panics holding it") = lock;
        let Some(embedded) = self.embedded.clone() else {
            return;
        };
        let lock = self.lock.clone();
        self.supervisor = Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(SUPERVISE_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let (embedded, lock, data_dir) = (embedded.clone(), lock.clone(), data_dir.clone());
                let check = tokio::task::spawn_blocking(move || {
                    let mut lock = lock.lock().expect("the supervisor never panics holding it");
                    if lock.is_none() {
                        match DataDirLock::try_acquire(&data_dir, command) {
                            Ok(Ok(taken)) => {
                                tracing::info!(
                                    "the process holding the data directory exited; this one supervises its cluster now"
                                );
                                *lock = Some(taken);
                            }
                            Ok(Err(_)) => return Ok(false),
                            Err(e) => return Err(anyhow::anyhow!(e)),
                        }
                    }
                    let mut pg = embedded
                        .lock()
                        .expect("the supervisor never panics holding it");
                    if pg.postmaster_alive() {
                        return Ok(false);
                    }
                    tracing::error!("embedded PostgreSQL is not running; starting it again");
                    Ok(pg.restart_if_stopped()?)
                });
                match check.await {
                    Ok(Ok(true)) => tracing::info!("embedded PostgreSQL restarted"),
                    Ok(Ok(false)) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "restarting embedded PostgreSQL"),
                    Err(e) => tracing::error!(error = %e, "supervising embedded PostgreSQL"),
                }
            }
        }));
    }

    /// Applies the embedded migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        ricochet_store::MIGRATOR
            .run(&self.pool)
            .await
            .context("applying migrations")
    }

    /// Closes the pool and stops the embedded cluster if this process started it.
    pub async fn close(self) {
        if let Some(supervisor) = self.supervisor {
            supervisor.abort();
            supervisor.await.ok();
        }
        self.pool.close().await;
        if let Some(embedded) = self.embedded {
            let stop = move || {
                let pg = embedded
                    .lock()
                    .expect("the supervisor never panics holding it");
                pg.stop_if_owned()
            };
            match tokio::task::spawn_blocking(stop).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "stopping embedded PostgreSQL"),
                Err(e) => tracing::error!(error = %e, "stopping embedded PostgreSQL"),
            }
        }
        drop(self.lock);
    }
}

/// A pool on an external server, trying for [`CONNECT_FOR`] while it does not answer yet (it
/// may be starting alongside Ricochet). Once running, the pool reconnects by itself.
async fn connect_retrying(
    max_connections: u32,
    options: PgConnectOptions,
) -> anyhow::Result<PgPool> {
    let deadline = Instant::now() + CONNECT_FOR;
    loop {
        let pool = ricochet_store::pool_options(max_connections)
            .connect_with(options.clone())
            .await;
        match pool {
            Ok(pool) => return Ok(pool),
            Err(e) if ricochet_store::error::is_unavailable(&e) && Instant::now() < deadline => {
                tracing::warn!(error = %e, "PostgreSQL does not answer yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e).context("connecting to PostgreSQL"),
        }
    }
}

/// Connection options for the embedded cluster's maintenance database.
pub fn embedded_options(embedded: &EmbeddedPostgres) -> PgConnectOptions {
    PgConnectOptions::new()
        .socket(embedded.socket_dir())
        .port(embedded.port())
        .username(embedded.user())
        .database("postgres")
}

/// Creates `name` in the cluster of `maintenance` unless it exists.
pub async fn ensure_database(maintenance: &PgConnectOptions, name: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect_with(maintenance)
        .await
        .context("connecting to the embedded cluster")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let create = format!("CREATE DATABASE \"{name}\"");
        match sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&mut conn)
            .await
        {
            Ok(_) => {}
            // Another process created it between our check and our CREATE.
            Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("42P04") => {}
            Err(e) => return Err(e).context("creating the database"),
        }
    }
    conn.close().await.ok();
    Ok(())
}
