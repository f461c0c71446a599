-- State that the nodes of a cluster share (issue 10): webmail sessions and the
-- failed-login throttle, so that a session opened on one node is valid on
-- another and failures counted on one node refuse on another. Sessions are
-- keyed by the SHA-256 of the cookie value, never the value. No foreign key to
-- accounts: a session row outliving its account is refused by the web layer
-- and purged on expiry, and the throttle also counts unknown account names.
CREATE TABLE web_sessions (
  id_hash text PRIMARY KEY,
  account_id bigint NOT NULL,
  data bytea NOT NULL,
  created_at bigint NOT NULL,
  last_seen bigint NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions(account_id);
CREATE INDEX web_sessions_last_seen ON web_sessions(last_seen);
CREATE INDEX web_sessions_created ON web_sessions(created_at);

-- Throttle records: the encoding of data belongs to package throttle.
CREATE TABLE throttle_state (
  key text PRIMARY KEY,
  data bytea NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX throttle_state_expires ON throttle_state(expires_at);
