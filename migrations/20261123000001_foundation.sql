-- Foundation: tenants, their API clients and their integrations.
-- Every tenant-owned row carries tenant_id and goes when its tenant goes.

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_name_key UNIQUE (name)
);

-- OAuth2 client-credentials clients. The id is the public client_id; only an argon2 hash
-- of the secret is kept. Revoked clients stay for the audit trail.
CREATE TABLE api_clients (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    name         text NOT NULL,
    secret_hash  text NOT NULL,
    permissions  text[] NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CONSTRAINT api_clients_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX api_clients_tenant_idx ON api_clients (tenant_id, id);

-- Integrations are soft-deleted (deleted_at) so that their delivery logs stay readable;
-- a name is unique among a tenant's live integrations only.
CREATE TABLE integrations (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL,
    enabled     boolean NOT NULL,
    settings    jsonb NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    CONSTRAINT integrations_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX integrations_tenant_name_key ON integrations (tenant_id, name) WHERE deleted_at IS NULL;
CREATE INDEX integrations_tenant_idx ON integrations (tenant_id, id) WHERE deleted_at IS NULL;
