-- Fewer writes per delivery (issue 6). A delivery's row is written three times (publish, claim,
-- record) and none of those updates can be HOT, so every index on `deliveries` takes a new entry
-- each time; and every foreign key costs a lookup (and a row lock on the parent) per row.
--
-- * An event lists its deliveries (`delivery_ids`, written with the event), so the repeated
--   publish of an id answers from it by primary key and `deliveries` needs no index on its event.
-- * `deliveries` and `attempts` keep no foreign keys: deliveries are only made by publishing,
--   for integrations that exist (their bindings reference them; integrations are soft-deleted),
--   and attempts only for the delivery a worker holds. Deleting a tenant deletes them explicitly
--   (`tenants::delete_tenant`), after locking the tenant row against concurrent publishes,
--   which still take a key-share lock on it through `events_tenant_fkey`.

ALTER TABLE events ADD COLUMN delivery_ids uuid[] NOT NULL DEFAULT '{}';
UPDATE events e SET delivery_ids = d.ids
FROM (SELECT tenant_id, event_id, array_agg(id ORDER BY id) AS ids FROM deliveries GROUP BY 1, 2) d
WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id;

ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_integration_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT attempts_delivery_id_fkey;
DROP INDEX deliveries_event_idx;
