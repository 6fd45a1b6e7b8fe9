-- The collector's operator console (issue 17): operator keys (made with `fieldproof devices console-key`,
-- only their SHA-256 stored) and console sessions (only the SHA-256 of the cookie's secret stored; a
-- session is good only while its key is live, so revoking the key ends it).
CREATE TABLE operator_keys (
  id TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
  label TEXT,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

CREATE TABLE console_sessions (
  token_hash TEXT PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES operator_keys (id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
