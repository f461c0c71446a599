-- State that several nodes must share (issue 10): webmail sessions and the
-- failed-login throttle. A single SQLite node keeps both in memory today; the
-- tables exist here too so that both backends have one schema and one API.
-- Sessions are keyed by the SHA-256 of the cookie value, never the value.
CREATE TABLE web_sessions (
  id_hash TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL,
  data BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions(account_id);
CREATE INDEX web_sessions_last_seen ON web_sessions(last_seen);
CREATE INDEX web_sessions_created ON web_sessions(created_at);

-- Throttle records: the encoding of data belongs to package throttle.
CREATE TABLE throttle_state (
  key TEXT PRIMARY KEY,
  data BLOB NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX throttle_state_expires ON throttle_state(expires_at);
