-- The index that lists a tenant's events newest first (`GET /api/v2/events`) becomes a partial
-- index that only the listing can use.
--
-- Measured (e2e-10, auto_explain with a sample of statements): the claim's join from each
-- claimed delivery to its event, `events.tenant_id = ... AND events.id = ...`, was planned on
-- events_received_idx (tenant_id, received_at DESC, id DESC) instead of the primary key. With
-- `id` behind `received_at`, that lookup walks every index entry of the tenant: 0.22 ms and
-- about 90 buffers per claimed row, 27 of a 30 ms claim of 120 rows, and it grows with the
-- number of the tenant's events. A claim that slow holds its lanes' row locks for as long, so
-- the recorder's lane update waited on it (half an active backend on average) and e2e-10
-- swung between about 5,000 and 2,300 deliveries a second with the plan picked.
--
-- A partial index is used only by a query whose conditions imply its predicate. The listing
-- says `received_at IS NOT NULL` (always true: the column is NOT NULL); nothing else does, so
-- every lookup of an event by its key goes by the primary key.
DROP INDEX events_received_idx;
CREATE INDEX events_listed_idx ON events (tenant_id, received_at DESC, id DESC)
    WHERE received_at IS NOT NULL;
