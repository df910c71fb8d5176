-- Stats rollups (issue 16): `GET /api/v2/integrations/{id}/stats` and `GET /api/v2/stats` read
-- these rows rather than the attempts, so a call costs the same at ten million attempts as at
-- ten (measured at one million attempts in the window, the attempts themselves took 0.4 to 1.5 s
-- a query: every one of them scanned, and sorted for the percentiles and the time series).
--
-- Rows are written by a statement-level trigger on attempts, in the statement (and so the
-- transaction) that inserts them: always exactly what is stored, whoever writes attempts. The
-- trigger only appends (one row per integration, minute and status code of the statement's
-- attempts, from its transition table): no row is ever updated on the recording path, so two
-- recording transactions never wait for each other here. A periodic compaction
-- (attempt_rollups_compact) later merges the rows of a finished minute into one, minutes older
-- than the last hour into hours, and deletes rows older than 8 days (the widest window is 7).
-- Deleting attempts (retention) leaves their rollups: stats count what was delivered, within
-- the 8 days.
--
-- status_code is 0 for attempts without an answer (timeouts, refused connections); their
-- durations count in no average or percentile. Durations of answered attempts are kept as a
-- sparse histogram: buckets[i] holds counts[i] attempts, bucket k > 0 holding durations in
-- (1.04^(k-2), 1.04^(k-1)] ms (k = 0: 0 ms). Percentiles are read from it (within 4%, always
-- at or above the true value); sums, counts and the average are exact.
CREATE FUNCTION attempt_duration_bucket(ms integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN ms <= 0 THEN 0 ELSE ceil(ln(ms::float8) / ln(1.04))::integer + 1 END;

CREATE TABLE attempt_rollups (
    integration_id  uuid NOT NULL,
    -- The start of its minute, or of its hour when hourly.
    period_start    timestamptz NOT NULL,
    hourly          boolean NOT NULL DEFAULT false,
    status_code     integer NOT NULL,
    attempts        integer NOT NULL,
    succeeded       integer NOT NULL,
    duration_ms_sum bigint NOT NULL,
    last_success_at timestamptz,
    last_failure_at timestamptz,
    buckets         integer[] NOT NULL,
    counts          integer[] NOT NULL
);
CREATE INDEX attempt_rollups_idx ON attempt_rollups (integration_id, period_start);
-- The compaction: the rows of recent minutes and hours across integrations, and the expired.
CREATE INDEX attempt_rollups_period_idx ON attempt_rollups (period_start);

-- The trigger: the rows of the statement's attempts, one per integration, minute and status.
CREATE FUNCTION attempts_roll_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
          FROM new_attempts GROUP BY 1, 2, 3, 4) b
    GROUP BY 1, 2, 3;
    RETURN NULL;
END
$$;

-- The attempts already stored (of the last 8 days), in the same shape, before the trigger
-- exists (migrations run before any worker).
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
      FROM attempts WHERE started_at >= now() - interval '8 days' GROUP BY 1, 2, 3, 4) b
GROUP BY 1, 2, 3;

CREATE TRIGGER attempts_roll_up AFTER INSERT ON attempts
    REFERENCING NEW TABLE AS new_attempts
    FOR EACH STATEMENT EXECUTE FUNCTION attempts_roll_up();

-- Merges rollup rows (called every 30 s by one process at a time; safe to call concurrently:
-- a row is merged by the call whose DELETE took it). As of `at`, with `cut` the start of the
-- hour an hour before `at`: the rows of each minute finished in the last 10 minutes (and after
-- `cut`) into one; the rows of the two hours before `cut` into one per hour; rows older than 8
-- days are deleted. Each step reads only its recent range (attempt_rollups_period_idx), so a
-- call costs the same however long the history. Rows the trigger appends meanwhile (an attempt
-- recorded late) are merged by a later call; rows left out of every range (compaction stopped
-- for hours) stay as they are: still counted, only less compact. Returns the rows removed.
CREATE FUNCTION attempt_rollups_compact(at timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    removed integer;
    total integer := 0;
BEGIN
    DELETE FROM attempt_rollups WHERE period_start < at - interval '8 days';
    GET DIAGNOSTICS removed = ROW_COUNT;
    total := total + removed;
    -- Hours: every minute row before the cut, and hour rows that are not alone.
    WITH cut AS (SELECT date_bin('1 hour', at - interval '1 hour', 'epoch') AS t),
    picked AS (
        SELECT integration_id, date_bin('1 hour', period_start, 'epoch') AS period, status_code
        FROM attempt_rollups, cut WHERE period_start >= cut.t - interval '2 hours' AND period_start < cut.t
        GROUP BY 1, 2, 3 HAVING count(*) > 1 OR bool_or(NOT hourly)
    ), gone AS (
        DELETE FROM attempt_rollups r USING picked p
        WHERE r.integration_id = p.integration_id AND r.status_code = p.status_code
          AND date_bin('1 hour', r.period_start, 'epoch') = p.period
          AND r.period_start >= (SELECT t FROM cut) - interval '2 hours' AND r.period_start < (SELECT t FROM cut)
        RETURNING r.integration_id, p.period, r.status_code, r.attempts, r.succeeded, r.duration_ms_sum,
            r.last_success_at, r.last_failure_at, r.buckets, r.counts
    ), merged AS (
        INSERT INTO attempt_rollups (integration_id, period_start, hourly, status_code, attempts, succeeded,
            duration_ms_sum, last_success_at, last_failure_at, buckets, counts)
        SELECT s.integration_id, s.period, true, s.status_code, s.attempts, s.succeeded, s.ms, s.ls, s.lf,
            coalesce(h.buckets, '{}'), coalesce(h.counts, '{}')
        FROM (SELECT integration_id, period, status_code, sum(attempts)::integer AS attempts,
                  sum(succeeded)::integer AS succeeded, sum(duration_ms_sum)::bigint AS ms,
                  max(last_success_at) AS ls, max(last_failure_at) AS lf
              FROM gone GROUP BY 1, 2, 3) s
        LEFT JOIN (SELECT integration_id, period, status_code,
                       array_agg(bucket ORDER BY bucket) AS buckets, array_agg(n ORDER BY bucket) AS counts
                   FROM (SELECT g.integration_id, g.period, g.status_code, u.bucket, sum(u.n)::integer AS n
                         FROM gone g, unnest(g.buckets, g.counts) AS u(bucket, n) GROUP BY 1, 2, 3, 4) x
                   GROUP BY 1, 2, 3) h
            ON h.integration_id = s.integration_id AND h.period = s.period AND h.status_code = s.status_code
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM merged) INTO removed;
    total := total + removed;
    -- Minutes: the rows of each minute finished in the last 10 minutes into one.
    WITH cut AS (SELECT date_bin('1 hour', at - interval '1 hour', 'epoch') AS t),
    picked AS (
        SELECT integration_id, period_start AS period, status_code
        FROM attempt_rollups, cut
        WHERE NOT hourly AND period_start >= greatest(cut.t, date_bin('1 minute', at, 'epoch') - interval '10 minutes')
          AND period_start < date_bin('1 minute', at, 'epoch')
        GROUP BY 1, 2, 3 HAVING count(*) > 1
    ), gone AS (
        DELETE FROM attempt_rollups r USING picked p
        WHERE r.integration_id = p.integration_id AND r.period_start = p.period
          AND r.status_code = p.status_code AND NOT r.hourly
        RETURNING r.integration_id, p.period, r.status_code, r.attempts, r.succeeded, r.duration_ms_sum,
            r.last_success_at, r.last_failure_at, r.buckets, r.counts
    ), merged AS (
        INSERT INTO attempt_rollups (integration_id, period_start, hourly, status_code, attempts, succeeded,
            duration_ms_sum, last_success_at, last_failure_at, buckets, counts)
        SELECT s.integration_id, s.period, false, s.status_code, s.attempts, s.succeeded, s.ms, s.ls, s.lf,
            coalesce(h.buckets, '{}'), coalesce(h.counts, '{}')
        FROM (SELECT integration_id, period, status_code, sum(attempts)::integer AS attempts,
                  sum(succeeded)::integer AS succeeded, sum(duration_ms_sum)::bigint AS ms,
                  max(last_success_at) AS ls, max(last_failure_at) AS lf
              FROM gone GROUP BY 1, 2, 3) s
        LEFT JOIN (SELECT integration_id, period, status_code,
                       array_agg(bucket ORDER BY bucket) AS buckets, array_agg(n ORDER BY bucket) AS counts
                   FROM (SELECT g.integration_id, g.period, g.status_code, u.bucket, sum(u.n)::integer AS n
                         FROM gone g, unnest(g.buckets, g.counts) AS u(bucket, n) GROUP BY 1, 2, 3, 4) x
                   GROUP BY 1, 2, 3) h
            ON h.integration_id = s.integration_id AND h.period = s.period AND h.status_code = s.status_code
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM merged) INTO removed;
    RETURN total + removed;
END
$$;
