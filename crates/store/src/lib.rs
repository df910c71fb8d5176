//! Ricochet's Postgres access. One module per resource; every tenant-owned query takes the
//! `TenantId` first, and every function is generic over the executor so the caller owns the
//! transaction.

pub mod activity;
pub mod api_clients;
pub mod attempts;
pub mod crypto;
pub mod dead_letters;
pub mod deliveries;
pub mod error;
pub mod event_bindings;
pub mod events;
pub mod health;
pub mod integrations;
pub mod lanes;
pub mod ordering;
pub mod overview;
pub mod retention;
pub mod secrets;
pub mod settings_cache;
pub mod signing_keys;
pub mod stats;
pub mod tenants;
pub mod wake;

pub use error::StoreError;
pub use sqlx::PgPool;

/// How long a pooled connection may sit idle before it is checked with a round trip.
const IDLE_CHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a caller waits for a pooled connection. Short, so that while the database is down
/// (or every connection is busy for that long) a request is answered "unavailable, retry"
/// quickly instead of hanging.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The options of every Ricochet pool: at most `max_connections`, waiting up to
/// [`ACQUIRE_TIMEOUT`] for one.
/// A connection idle for more than a few seconds is checked with a round trip before it is
/// handed out; one used moments ago is not (sqlx's default checks every time: one round trip
/// more per batch on the publishing, claiming and recording paths). A connection that broke
/// in between fails its statement, which every caller retries or reports.
pub fn pool_options(max_connections: u32) -> sqlx::postgres::PgPoolOptions {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > IDLE_CHECK {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// A page of rows in id order, with the id to continue after when there may be more.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The last id of this page when another page follows.
    pub next_after: Option<uuid::Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> uuid::Uuid) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_after = if more { rows.last().map(id) } else { None };
        Page {
            items: rows,
            next_after,
        }
    }
}
