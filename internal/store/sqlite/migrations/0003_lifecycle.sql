-- Lifecycle of Điều 7–9: lock state details, absences, requests with their
-- audit trail, delegations, and the record of notices already sent (so that the
-- daily jobs are idempotent).
ALTER TABLE accounts ADD COLUMN locked_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN lock_note TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN locked_by TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN restored_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;
-- A revoked account keeps its row as the record that it existed (R7.4); its
-- address moves here so that the address can be given again after R7.6.
ALTER TABLE accounts ADD COLUMN revoked_address TEXT NOT NULL DEFAULT '';

CREATE TABLE absences (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  reason TEXT NOT NULL,
  starts TEXT NOT NULL,   -- local date YYYY-MM-DD
  ends TEXT NOT NULL,     -- local date, inclusive
  declared_by TEXT NOT NULL,
  declared_at INTEGER NOT NULL
);
CREATE INDEX absences_account ON absences(account_id);

CREATE TABLE requests (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,            -- create | modify | revoke | restore
  unit_id INTEGER NOT NULL REFERENCES units(id),
  doc_number TEXT NOT NULL,      -- số và ký hiệu văn bản
  doc_date TEXT NOT NULL,        -- YYYY-MM-DD
  received_at INTEGER NOT NULL,
  deadline TEXT NOT NULL DEFAULT '', -- local date (restore: 3 working days)
  state TEXT NOT NULL,           -- received | done | rejected
  reason TEXT NOT NULL DEFAULT '',
  filed_by TEXT NOT NULL,
  handled_by TEXT NOT NULL DEFAULT '',
  handled_at INTEGER NOT NULL DEFAULT 0,
  payload TEXT NOT NULL          -- JSON: targets and parameters
);
CREATE INDEX requests_state ON requests(state, received_at);
CREATE INDEX requests_unit ON requests(unit_id, received_at);

CREATE TABLE request_targets (
  request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL,
  PRIMARY KEY (request_id, account_id)
);
CREATE INDEX request_targets_account ON request_targets(account_id);

CREATE TABLE request_events (
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  time INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL
);

CREATE TABLE delegations (
  unit_account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  delegate_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  granted_by TEXT NOT NULL,
  granted_at INTEGER NOT NULL,
  PRIMARY KEY (unit_account_id, delegate_id)
);
CREATE INDEX delegations_delegate ON delegations(delegate_id);

CREATE TABLE notices_sent (
  account_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, kind, key)
);
