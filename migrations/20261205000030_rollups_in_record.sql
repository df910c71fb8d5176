-- Stats rollups are written by the statement that records attempts (store::deliveries::record)
-- rather than by a trigger on attempts: measured on e2e-1 (release build, one integration,
-- 16 clients), the statement-level trigger, with its transition table and PL/pgSQL call per
-- recording statement, cost 15% of the deliveries per second (2,516 -> 2,131 a second, medians
-- of 3) and about 45 us of PostgreSQL CPU per delivery. The same rows written by a
-- data-modifying CTE of the recording statement measured 2,714 a second (BENCHMARKS.md). Still one
-- appended row per integration, minute and status code of each recording statement, in its
-- transaction; only the recording statement writes attempts, so the rollups stay exact.
DROP TRIGGER attempts_roll_up ON attempts;
DROP FUNCTION attempts_roll_up();

-- Rolls up attempts already stored with started_at in [since, until): for attempts written
-- straight into the table (the benchmark's history), never for recorded ones (already counted).
CREATE FUNCTION attempt_rollups_add(since timestamptz, until timestamptz) RETURNS void
LANGUAGE sql AS $$
INSERT INTO attempt_rollups (integration_id, period_start, status_code, attempts, succeeded,
    duration_ms_sum, last_success_at, last_failure_at, buckets, counts)
SELECT integration_id, minute, code, sum(n)::integer, sum(ok)::integer, sum(ms)::bigint, max(ls), max(lf),
    CASE WHEN code = 0 THEN '{}' ELSE array_agg(bucket ORDER BY bucket) END,
    CASE WHEN code = 0 THEN '{}' ELSE array_agg(n::integer ORDER BY bucket) END
FROM (SELECT integration_id, date_bin('1 minute', started_at, 'epoch') AS minute,
          coalesce(status_code, 0) AS code, attempt_duration_bucket(duration_ms) AS bucket,
          count(*) AS n, count(*) FILTER (WHERE outcome = 'succeeded') AS ok,
          sum(duration_ms) AS ms,
          max(started_at) FILTER (WHERE outcome = 'succeeded') AS ls,
          max(started_at) FILTER (WHERE outcome = 'failed') AS lf
      FROM attempts WHERE started_at >= since AND started_at < until GROUP BY 1, 2, 3, 4) b
GROUP BY 1, 2, 3
$$;
