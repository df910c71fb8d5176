-- Fair scheduling and receiver protection (issue 12, first landing).
--
-- Each integration has one lane row holding its scheduling state. The claim picks lanes (the
-- ones served longest ago first) and takes each lane's allowance of due rows from that lane's
-- own index, so one integration's backlog never fills every worker slot, and gated lanes
-- (paused, or at their cap) never enter the scan of deliveries.
--
-- in_flight: deliveries of the integration in flight (claimed, handed over or running), across
--   every worker process. It changes only in the statements that move rows into or out of
--   in_flight (claim, hand-over at publish, record, reap, release), by the rows those
--   statements actually moved, under the lane's row lock: never by a count of rows, which
--   under READ COMMITTED could miss a concurrent claim. The integration's
--   settings.maxConcurrency caps it.
-- served_at: when the claim last served the lane; the claim serves the oldest first (round
--   robin among lanes with due work and room).
-- paused_until / pause_reason: a receiver's Retry-After (429/503) pauses the whole lane.
-- consecutive_failures, last_success_at, last_failure_at: health, shown on the integration.
CREATE TABLE delivery_lanes (
    integration_id        uuid PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    in_flight             integer NOT NULL DEFAULT 0 CHECK (in_flight >= 0),
    served_at             timestamptz NOT NULL DEFAULT '-infinity',
    paused_until          timestamptz,
    pause_reason          text,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    last_success_at       timestamptz,
    last_failure_at       timestamptz,
    -- Set by the hand-over at publish (in the statement that raises in_flight) to the
    -- deliveries it may lease; read back from RETURNING.
    granted               integer NOT NULL DEFAULT 0
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
