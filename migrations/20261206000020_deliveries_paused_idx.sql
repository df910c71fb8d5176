-- The claim's per-lane pick (store::deliveries::claim, `picked`: a lane's earliest pending
-- deliveries, ORDER BY next_attempt_at LIMIT n) must go by deliveries_lane_due_idx
-- (integration_id, next_attempt_at), which gives them in order. Measured (e2e-10, auto_explain):
-- with statistics taken while the table was small, the planner estimated one pending row per
-- lane, at which deliveries_integration_idx (integration_id, status) looked as cheap, and took
-- it: each lane then read all its pending rows (2,848 a lane, 3.1 ms) and sorted them for a
-- LIMIT of 9. The claim took 40 ms with its lanes locked, the recorder waited on them, and the
-- run stayed slow as the backlog grew (BENCHMARKS.md, 2026-12-06).
--
-- That index served only pausing and resuming an integration's waiting deliveries. Pending ones
-- are found by deliveries_lane_due_idx (integration_id leads it); paused ones get an index of
-- their own. No index on pending deliveries by integration is left that gives them unordered.
DROP INDEX deliveries_integration_idx;
CREATE INDEX deliveries_paused_idx ON deliveries (integration_id) WHERE status = 'paused';
