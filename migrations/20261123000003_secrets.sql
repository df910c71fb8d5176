-- Secrets: values substituted into requests at send time, stored only as ciphertext.
-- Each row records the id of the master key that sealed it, so keys can rotate
-- (`ricochet secrets rekey`). The nonce is fresh for every value; the tenant and name are
-- bound in as associated data, so a ciphertext cannot be moved to another row.
CREATE TABLE secrets (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    key_id       text NOT NULL,
    nonce        bytea NOT NULL,
    ciphertext   bytea NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT secrets_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT secrets_tenant_name_key UNIQUE (tenant_id, name)
);
CREATE INDEX secrets_key_idx ON secrets (key_id);
