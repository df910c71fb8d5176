-- Fair scheduling and receiver protection (issue 12).
--
-- Each integration has one lane row holding its scheduling state. The claim picks lanes (the
-- ones served longest ago first) and takes each lane's allowance of due rows from that lane's
-- own index, so one integration's backlog never fills every worker slot, and gated lanes
-- (paused, or at their cap) never enter the scan of deliveries.
--
-- in_flight: deliveries of the integration in flight (claimed, handed over or running), across
--   every worker process; the integration's settings.maxConcurrency caps it. Slots are taken
--   under the lane's row lock by the claim (in the statement that leases the rows) and by the
--   publisher before a hand-over (a reservation; what the publish did not use is given back),
--   and given back after an attempt's record commits. None of these statements waits for the
--   disk (synchronous_commit off, set per transaction), and none of the durable statements
--   (publish, record) touches a lane: a lane lock held through a commit's flush would make
--   every publish, record and claim of one integration wait in line for the disk (measured:
--   e2e-1 fell to 0.35x pgbench that way). So after a crash a count can be too high (a slot
--   taken by a reservation whose publish never committed, or by a record whose give-back was
--   lost): that only holds deliveries back, and delivery_lanes_audit() recounts a lane left
--   alone for a while. It can never be too low, which would break the cap.
-- touched_at: when a claim, reservation or give-back last changed the lane (the audit leaves
--   recently touched lanes alone: one of their reservations may not be committed yet).
-- served_at: when the claim last served the lane; the claim serves the oldest first (round
--   robin among lanes with due work and room).
-- paused_until / pause_reason: a receiver's Retry-After (429/503) pauses the whole lane.
-- consecutive_failures, last_success_at, last_failure_at: health, shown on the integration.
-- tat: the rate limit's theoretical arrival time (GCRA): the earliest the next attempt may
--   start; each claimed attempt of a rate-limited lane is given its start time, one emission
--   interval (period / requests) after the previous one, across every worker.
-- rate_factor, rate_cut_at: the share of maxConcurrency and of the rate limit in force (1 =
--   all). A 429 without Retry-After halves it (at most once a second); each batch of successes
--   without a 429 raises it by a tenth, back to 1.
-- circuit, circuit_opens: the circuit breaker. `open` while paused_until is ahead; once it has
--   passed, the claim lets exactly one probe through (`half_open`, in-flight cap 1); the
--   probe's success closes it, its failure opens it again for twice as long (up to the max).
-- failing_since: the first failure since the last success (auto-disable after
--   settings.autoDisableAfter).
CREATE TABLE delivery_lanes (
    integration_id        uuid PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    in_flight             integer NOT NULL DEFAULT 0 CHECK (in_flight >= 0),
    served_at             timestamptz NOT NULL DEFAULT '-infinity',
    paused_until          timestamptz,
    pause_reason          text,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    last_success_at       timestamptz,
    last_failure_at       timestamptz,
    touched_at            timestamptz NOT NULL DEFAULT now(),
    tat                   timestamptz,
    rate_factor           double precision NOT NULL DEFAULT 1 CHECK (rate_factor > 0 AND rate_factor <= 1),
    rate_cut_at           timestamptz,
    circuit               text NOT NULL DEFAULT 'closed' CHECK (circuit IN ('closed', 'open', 'half_open')),
    circuit_opens         integer NOT NULL DEFAULT 0,
    failing_since         timestamptz
) WITH (fillfactor = 50);

-- Every integration has its lane, from its creation on.
INSERT INTO delivery_lanes (integration_id, in_flight)
SELECT i.id, (SELECT count(*) FROM deliveries d WHERE d.integration_id = i.id AND d.status = 'in_flight')
FROM integrations i;

CREATE FUNCTION delivery_lane_for_integration() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_lanes (integration_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;
CREATE TRIGGER integrations_lane AFTER INSERT ON integrations
    FOR EACH ROW EXECUTE FUNCTION delivery_lane_for_integration();

-- The claim: one lane's due pending rows in time order (replaces the global time order).
CREATE INDEX deliveries_lane_due_idx ON deliveries (integration_id, next_attempt_at) WHERE status = 'pending';

-- Recounts the in-flight deliveries of lanes with a count left alone for `quiet` (at most 1000
-- lanes a call, skipping any another statement holds): a count left too high by a crash is
-- brought back to the truth. The lanes are locked first; the count is a later statement, so
-- its snapshot sees every claim committed before the locks were taken.
CREATE FUNCTION delivery_lanes_audit(quiet interval) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    picked uuid[];
    fixed integer;
BEGIN
    SELECT coalesce(array_agg(integration_id), '{}') INTO picked FROM (
        SELECT integration_id FROM delivery_lanes
        WHERE in_flight > 0 AND touched_at < now() - quiet
        ORDER BY integration_id LIMIT 1000
        FOR UPDATE SKIP LOCKED) s;
    IF cardinality(picked) = 0 THEN
        RETURN 0;
    END IF;
    UPDATE delivery_lanes l SET in_flight = coalesce(c.n, 0), touched_at = now()
    FROM unnest(picked) AS p(integration_id)
    LEFT JOIN (SELECT d.integration_id, count(*)::int AS n FROM deliveries d
               WHERE d.status = 'in_flight' AND d.integration_id = ANY (picked)
               GROUP BY d.integration_id) c ON c.integration_id = p.integration_id
    WHERE l.integration_id = p.integration_id AND l.in_flight <> coalesce(c.n, 0);
    GET DIAGNOSTICS fixed = ROW_COUNT;
    RETURN fixed;
END
$$;
