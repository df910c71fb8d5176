-- Retention (issue 11): finished deliveries (succeeded, cancelled, purged), their attempts and
-- the events no delivery still needs are deleted once older than `--retention`, in small
-- batches by a background task of the worker role. Dead letters are kept however old.
--
-- The attempts table is not partitioned: its primary key and (delivery_id, attempt_number)
-- key would have to carry the partition key, and the attempts of one delivery span days.
-- Deletes go by delivery, through attempts_delivery_number_key.

-- Finished deliveries by completion time. Partial: a row enters it once, when it finishes;
-- pending and in-flight rows, updated at every claim and record, never touch it.
CREATE INDEX deliveries_finished_idx ON deliveries (completed_at)
    WHERE status IN ('succeeded', 'cancelled', 'purged');

-- Events that made no delivery (no binding matched) go by age alone. Partial: events with
-- deliveries go with their last delivery, found by key.
CREATE INDEX events_undelivered_idx ON events (received_at)
    WHERE cardinality(delivery_ids) = 0;

-- Event payloads compressed with lz4 (faster than the default pglz, and better on JSON) when
-- the server was built with it; otherwise they keep pglz. EXECUTE, so that a server that does
-- not know the syntax is caught too. Applies to values written from now on.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE events ALTER COLUMN data SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available: event payloads keep the default compression';
END
$$;
