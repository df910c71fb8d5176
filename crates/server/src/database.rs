//! The database: an existing server from `DATABASE_URL`, or the embedded cluster in the data
//! directory, which this process stops on exit only if it started it.

use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgPool};

use crate::embedded_pg::{EmbeddedOptions, EmbeddedPostgres};

/// Name of Ricochet's database inside the embedded cluster.
pub const EMBEDDED_DATABASE: &str = "ricochet";

/// A connection pool and, when embedded, the cluster behind it.
#[derive(Debug)]
pub struct Database {
    /// The pool.
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
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
                (options, None)
            }
            None => {
                let cluster_dir = data_dir.join("postgres");
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
        Ok(Database { pool, embedded })
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
        self.pool.close().await;
        if let Some(embedded) = self.embedded {
            match tokio::task::spawn_blocking(move || embedded.stop_if_owned()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "stopping embedded PostgreSQL"),
                Err(e) => tracing::error!(error = %e, "stopping embedded PostgreSQL"),
            }
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
