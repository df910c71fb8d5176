-- Signing keys of two kinds: `v1` (HMAC-SHA256, a `whsec_` secret; every key before this
-- migration) and `v1a` (Ed25519, a `whsk_` seed whose public `whpk_` key receivers verify
-- with). An integration signs with the kinds its `settings.signature.scheme` names, each with
-- one current key and, after a rotation, the replaced ones until their grace period ends.
ALTER TABLE signing_keys
    ADD COLUMN scheme text NOT NULL DEFAULT 'v1' CHECK (scheme IN ('v1', 'v1a'));

-- One current key per integration and kind (was: per integration).
DROP INDEX signing_keys_current;
CREATE UNIQUE INDEX signing_keys_current ON signing_keys (integration_id, scheme)
    WHERE retires_at IS NULL;
