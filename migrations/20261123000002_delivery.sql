-- Event bindings, events, deliveries and attempts: the path of an event to its receivers.

-- Which event types (or families, `routing.queue.*`, or `*`) an integration receives.
CREATE TABLE event_bindings (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    integration_id  uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    event_type      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_bindings_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT event_bindings_integration_type_key UNIQUE (integration_id, event_type)
);
CREATE INDEX event_bindings_lookup_idx ON event_bindings (tenant_id, event_type);

-- Published events. The client's id makes publishing idempotent per tenant.
CREATE TABLE events (
    tenant_id    uuid NOT NULL,
    id           text NOT NULL,
    event_type   text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    data         jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT events_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);

-- The queue and the state machine: one row per (event, integration).
--   pending       waiting for next_attempt_at
--   in_flight     leased by a worker until lease_expires_at
--   succeeded     delivered
--   dead_lettered no further attempt (reason says why); can be replayed
--   paused        its integration is disabled; resumes as pending when enabled
--   cancelled     its integration was deleted
--   purged        a dead letter the tenant removed from the queue (its log stays)
-- attempt_count counts recorded attempts; a worker's claim does not count until recorded.
-- A replay starts a new attempt series: series_base is the attempt_count it started from, so
-- the retry budget counts from there while attempt numbers keep rising.
CREATE TABLE deliveries (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL,
    event_id          text NOT NULL,
    integration_id    uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'in_flight', 'succeeded', 'dead_lettered', 'paused', 'cancelled', 'purged')),
    attempt_count     integer NOT NULL DEFAULT 0,
    series_base       integer NOT NULL DEFAULT 0,
    replay_count      integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    leased_by         text,
    lease_expires_at  timestamptz,
    last_status_code  integer,
    reason            text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    CONSTRAINT deliveries_event_fkey FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id) ON DELETE CASCADE
);
-- The claim: due pending rows in time order.
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
-- The reaper: expired leases.
CREATE INDEX deliveries_lease_idx ON deliveries (lease_expires_at) WHERE status = 'in_flight';
CREATE INDEX deliveries_event_idx ON deliveries (tenant_id, event_id);
-- Pausing, resuming and cancelling an integration's waiting deliveries. Partial, so that
-- deliveries moving through in_flight and succeeded do not churn it.
CREATE INDEX deliveries_integration_idx ON deliveries (integration_id, status) WHERE status IN ('pending', 'paused');
-- The dead-letter queue, newest first.
CREATE INDEX deliveries_dead_idx ON deliveries (tenant_id, id DESC) WHERE status = 'dead_lettered';

-- Every attempt, recorded in the transaction that moves its delivery on.
CREATE TABLE attempts (
    id                     uuid PRIMARY KEY,
    delivery_id            uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    tenant_id              uuid NOT NULL,
    integration_id         uuid NOT NULL,
    event_id               text NOT NULL,
    attempt_number         integer NOT NULL,
    started_at             timestamptz NOT NULL,
    duration_ms            integer NOT NULL,
    outcome                text NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    status_code            integer,
    error_kind             text,
    error_message          text,
    request_method         text NOT NULL,
    request_url            text NOT NULL,
    request_headers        jsonb NOT NULL,
    response_content_type  text,
    response_body          text,
    retry_after_ms         bigint,
    retry_after_note       text,
    next_attempt_at        timestamptz,
    CONSTRAINT attempts_delivery_number_key UNIQUE (delivery_id, attempt_number)
);
CREATE INDEX attempts_log_idx ON attempts (tenant_id, integration_id, id DESC);
