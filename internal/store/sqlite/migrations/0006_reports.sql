-- Periodic reports (R7.3, R16.3) and outage notices (R14.1).

-- A revoked account keeps its old address here (R7.4); the reports find the
-- unit of log and audit rows written under that address through it.
CREATE INDEX accounts_revoked_address ON accounts(revoked_address) WHERE revoked_address != '';

-- Reports already sent (the monthly job's idempotency): a row is claimed before
-- sending and dropped again if sending fails.
CREATE TABLE report_sends (
  key TEXT PRIMARY KEY,        -- e.g. monthly:2026-11
  claimed_at INTEGER NOT NULL
);

CREATE TABLE outages (
  id INTEGER PRIMARY KEY,
  what TEXT NOT NULL,
  since INTEGER NOT NULL,
  until INTEGER NOT NULL,      -- expected restoration
  published_by TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  closed_by TEXT NOT NULL DEFAULT '',
  closed_at INTEGER NOT NULL DEFAULT 0, -- 0: open (shown as a webmail banner)
  close_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outages_open ON outages(closed_at);

-- The units chosen (none: every unit).
CREATE TABLE outage_units (
  outage_id INTEGER NOT NULL REFERENCES outages(id) ON DELETE CASCADE,
  unit_id INTEGER NOT NULL,
  PRIMARY KEY (outage_id, unit_id)
);

-- Who was told, so that the all-clear reaches the same mailboxes.
CREATE TABLE outage_recipients (
  outage_id INTEGER NOT NULL REFERENCES outages(id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL,
  PRIMARY KEY (outage_id, account_id)
);

-- The reports group the log by recipient and by sender over a period. With
-- direction, status and size in these indexes (which the log search uses by
-- their first columns already) the grouping reads the index alone, in order,
-- instead of sorting every row of the period: a year of a province's log
-- (1,000,000 rows) groups in a fraction of a second instead of several.
DROP INDEX translog_recipient;
CREATE INDEX translog_recipient ON translog(recipient, time, direction, status, size);
DROP INDEX translog_sender;
CREATE INDEX translog_sender ON translog(envelope_from, time, direction, status, size);
