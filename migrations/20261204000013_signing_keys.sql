-- Standard Webhooks signing keys, one current key per integration and, after a rotation, the
-- keys it replaced until their grace period ends (both sign meanwhile). Values are sealed with
-- the master keyring like secrets (associated data: tenant, integration and key id).
CREATE TABLE signing_keys (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    integration_id  uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    -- Master key that sealed the value, nonce and ciphertext (see secrets).
    key_id          text NOT NULL,
    nonce           bytea NOT NULL,
    ciphertext      bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- NULL for the current key; when a replaced key stops signing.
    retires_at      timestamptz
);

-- At most one current key per integration: concurrent first uses agree on one.
CREATE UNIQUE INDEX signing_keys_current ON signing_keys (integration_id) WHERE retires_at IS NULL;
CREATE INDEX signing_keys_integration ON signing_keys (integration_id, created_at);
