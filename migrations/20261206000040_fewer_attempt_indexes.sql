-- Each recorded attempt paid four index entries: its id (the primary key), its delivery and
-- number (unique), the log's (tenant, integration, id), and attempts_stats_idx (integration,
-- started_at). Two of them are read by nothing any more:
-- - No statement looks an attempt up by id: a delivery's attempts are read by delivery, the log
--   by (tenant, integration, id), and retention deletes by delivery. The unique (delivery,
--   number) key identifies a row, for logical replication too (REPLICA IDENTITY), so the id's
--   index goes with no index built. Ids are UUIDv7 values made by the worker, as before.
-- - The integration health of the operator's overview (the console, `ricochet integrations
--   failing`) counts the last hour from the stats rollups, as the stats API does, not from
--   the attempts; nothing else read attempts_stats_idx.
-- The record is the statement with the most PostgreSQL time at e2e-10, most of it writing the
-- attempt row and its index entries (BENCHMARKS.md, the "late night" section of 2026-12-06).
DROP INDEX attempts_stats_idx;
ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
ALTER TABLE attempts REPLICA IDENTITY USING INDEX attempts_delivery_number_key;
