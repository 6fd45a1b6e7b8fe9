-- Operator console sign-in (issue 17): an API key posted to POST /console/session is exchanged for a
-- short-lived session cookie. Only the SHA-256 of the cookie's secret is stored; a session is good only
-- while its key is live (the lookup joins api_keys on revoked_at IS NULL), so revoking the key ends it.
CREATE TABLE console_sessions (
  token_hash TEXT PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES api_keys (id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
