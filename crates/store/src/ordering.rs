//! Order per key: a keyed delivery of an integration with `settings.ordering: perKey` waits
//! `blocked` until the deliveries published before it with the same key succeeded or were
//! dead-lettered (see the ordering migration). Promotion makes a key's lowest blocked delivery
//! its head (pending) when the key has none.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::error::StoreResult;

/// Most keys promoted in one call (each holds an advisory lock to the end of its transaction).
const KEYS_PER_CALL: usize = 128;

/// Promotes, for each (integration, key), the key's lowest blocked delivery when the key has no
/// delivery pending, in flight or paused; returns how many were promoted. Run it right after the
/// statement that wrote blocked deliveries or finished a key's head has committed (outside a
/// transaction, the promotion commits without waiting for the disk: one lost in a crash is
/// done again by [`sweep`]).
pub async fn promote(conn: &mut PgConnection, keys: &[(Uuid, &str)]) -> StoreResult<u64> {
    let mut promoted = 0u64;
    for chunk in keys.chunks(KEYS_PER_CALL) {
        let (ids, names): (Vec<Uuid>, Vec<&str>) = chunk.iter().copied().unzip();
        let n: i32 = sqlx::query_scalar("SELECT deliveries_promote($1, $2)")
            .bind(&ids)
            .bind(&names)
            .fetch_one(&mut *conn)
            .await?;
        promoted += u64::try_from(n).unwrap_or(0);
    }
    Ok(promoted)
}

/// Promotes the keys left without a head (a crash between a head's record and its promotion,
/// or a failed promotion), at most `limit` keys a call; returns how many were promoted.
pub async fn sweep(conn: &mut PgConnection, limit: i64) -> StoreResult<u64> {
    let orphans: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT b.integration_id, b.ordering_key
         FROM (SELECT DISTINCT integration_id, ordering_key FROM deliveries WHERE status = 'blocked') b
         WHERE NOT EXISTS (SELECT 1 FROM deliveries h
                           WHERE h.integration_id = b.integration_id AND h.ordering_key = b.ordering_key
                             AND h.status IN ('pending', 'in_flight', 'paused'))
         LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let keys: Vec<(Uuid, &str)> = orphans.iter().map(|(i, k)| (*i, k.as_str())).collect();
    promote(conn, &keys).await
}

/// Releases every blocked delivery of an integration that no longer keeps the order per key
/// (its ordering changed to `none`), in the caller's transaction; how many.
pub async fn release_all(db: impl PgExecutor<'_>, integration: Uuid) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE deliveries d
         SET status = CASE WHEN i.enabled THEN 'pending' ELSE 'paused' END, next_attempt_at = now(), updated_at = now()
         FROM integrations i
         WHERE d.integration_id = $1 AND d.status = 'blocked' AND i.id = d.integration_id",
    )
    .bind(integration)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
