-- Order per key (issue 12, item 7).
--
-- An event may carry an ordering key (a conversation id, say). For an integration with
-- settings.ordering = 'perKey', its deliveries with the same key are attempted one at a time,
-- in publish order (the order of their uuid v7 ids):
--   - a keyed delivery of such an integration is written `blocked`, never handed over and never
--     claimed (the claim only takes `pending` rows);
--   - the key's head is its one delivery that is pending, in_flight or paused (a retry keeps it
--     pending, so it holds back the ones behind it);
--   - promotion moves a key's lowest blocked delivery to pending (paused if the integration is
--     disabled) when the key has no head. It runs right after the publish commits, right after
--     a head's record commits (succeeded or dead-lettered: a dead letter releases the next),
--     after a replay, and in a sweep with the lease reaper for keys a crash left without a head.
-- Promotions of one key take a transaction-scoped advisory lock on it, so two of them (a
-- publish's and a record's, say) never promote two rows of a key; each runs as its own
-- statement after the durable one and need not wait for the disk (a promotion lost in a crash
-- is done again by the sweep).
-- Keyless events, and integrations with ordering 'none', are not affected: nothing is blocked.

ALTER TABLE events ADD COLUMN ordering_key text;
ALTER TABLE deliveries ADD COLUMN ordering_key text;

ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'in_flight', 'succeeded', 'dead_lettered', 'paused', 'cancelled', 'purged', 'blocked'));

-- Promotion and the sweep: a key's blocked deliveries in publish order.
CREATE INDEX deliveries_blocked_key_idx ON deliveries (integration_id, ordering_key, id) WHERE status = 'blocked';
-- Promotion: whether a key has a head.
CREATE INDEX deliveries_key_head_idx ON deliveries (integration_id, ordering_key)
    WHERE ordering_key IS NOT NULL AND status IN ('pending', 'in_flight', 'paused');

-- Promotes, for each (integration, key) given, the key's lowest blocked delivery when the key
-- has no head; returns how many were promoted. Keys are locked in sorted order (no two calls
-- wait in a cycle); callers pass at most a few hundred keys a call (each lock is held to the
-- end of the transaction).
CREATE FUNCTION deliveries_promote(integration_ids uuid[], keys text[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    k record;
    n integer;
    promoted integer := 0;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR k IN
        SELECT DISTINCT t.integration_id, t.ordering_key
        FROM unnest(integration_ids, keys) AS t(integration_id, ordering_key)
        WHERE t.integration_id IS NOT NULL AND t.ordering_key IS NOT NULL
        ORDER BY 1, 2
    LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended(k.integration_id::text || '/' || k.ordering_key, 20261204));
        -- A statement after the lock: its snapshot sees every promotion committed before.
        UPDATE deliveries d
        SET status = (SELECT CASE WHEN i.deleted_at IS NOT NULL THEN 'cancelled' WHEN NOT i.enabled THEN 'paused' ELSE 'pending' END
                      FROM integrations i WHERE i.id = d.integration_id),
            completed_at = (SELECT CASE WHEN i.deleted_at IS NOT NULL THEN now() END
                            FROM integrations i WHERE i.id = d.integration_id),
            next_attempt_at = now(), updated_at = now()
        WHERE d.id = (SELECT b.id FROM deliveries b
                      WHERE b.integration_id = k.integration_id AND b.ordering_key = k.ordering_key
                        AND b.status = 'blocked'
                      ORDER BY b.id LIMIT 1)
          AND d.status = 'blocked'
          AND NOT EXISTS (SELECT 1 FROM deliveries h
                          WHERE h.integration_id = k.integration_id AND h.ordering_key = k.ordering_key
                            AND h.status IN ('pending', 'in_flight', 'paused'));
        GET DIAGNOSTICS n = ROW_COUNT;
        promoted := promoted + n;
    END LOOP;
    RETURN promoted;
END
$$;
