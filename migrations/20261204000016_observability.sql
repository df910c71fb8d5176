-- Observability (issue 16): events listed newest first, and the stats of an integration.
--
-- Events are written once and never updated, so an index on them costs one entry per publish.
-- It serves `GET /api/v2/events` (a tenant's events by arrival, newest first, optionally from/to).
CREATE INDEX events_received_idx ON events (tenant_id, received_at DESC, id DESC);

-- The stats of an integration over a window (`GET /api/v2/integrations/{id}/stats`) read only
-- this index (an index-only scan): the attempts of one integration since a time, with the
-- columns the aggregates need. Attempts are insert-only, so this is one index entry per
-- attempt and never a dead one. `GET /api/v2/deliveries` needs no index of its own: delivery
-- ids are UUIDv7, so its time bounds are bounds on the primary key.
CREATE INDEX attempts_stats_idx ON attempts (integration_id, started_at)
    INCLUDE (duration_ms, status_code, outcome);
