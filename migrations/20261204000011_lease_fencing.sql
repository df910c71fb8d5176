-- Lease fencing and lost leases (issue 11).
--
-- lease_token: a fencing token for the lease. Every claim increments it (a delivery handed over
--   at publish holds token 0, its first lease), and a worker's record of an attempt matches on
--   the token it claimed with: a worker whose lease expired and was taken by another (or by
--   itself, later) changes nothing when its late attempt finishes.
-- lost_leases: leases that expired without a recorded attempt (a killed or stuck worker) since
--   the last recorded attempt or replay. The reaper counts them, and dead-letters the delivery
--   as `worker_lost` once the configured limit is reached, so a delivery that kills every
--   worker that takes it cannot loop forever.
-- Both are constant-default columns: adding them rewrites nothing.
ALTER TABLE deliveries ADD COLUMN lease_token bigint NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN lost_leases integer NOT NULL DEFAULT 0;
