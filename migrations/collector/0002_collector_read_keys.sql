-- Auditor read keys on the collector (issue 15, "For auditors"): the unit's api_keys table, same shape, so
-- `fieldproof keys create --collector` and the api's key hashing serve both. Only SHA-256 hashes stored.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
  label TEXT,
  scopes TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

-- Content of a mirrored device is served by digest only if one of its leaves names that digest.
CREATE INDEX device_leaves_digest ON device_leaves (device_id, digest);
