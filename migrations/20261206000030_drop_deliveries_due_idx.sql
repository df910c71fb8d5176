-- Every statement that looks for pending deliveries by due time does it lane by lane, by
-- deliveries_lane_due_idx (integration_id, next_attempt_at): the claim, the next wake-up, the
-- protection summary. The global (next_attempt_at) index on pending rows was left over from
-- the claim before lanes. The planner still took it for the claim's per-lane pick once the
-- statistics were fresh (the plan test in crates/server/tests/api/plans.rs), reading every
-- lane's due rows in time order to find one lane's; and every delivery written or put back
-- pending paid an index entry for it. The queue depth sample counts all pending rows and reads
-- them by the lane index as well.
DROP INDEX deliveries_due_idx;
