-- govmail SQLite schema, version 1.
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  address TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT 'personal',
  unit_id INTEGER,
  password_hash TEXT NOT NULL DEFAULT '',
  must_change INTEGER NOT NULL DEFAULT 0,
  password_set_at INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'active',
  lock_reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  last_login_at INTEGER NOT NULL DEFAULT 0,
  quota_bytes INTEGER NOT NULL,
  used_bytes INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE mailboxes (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  special_use TEXT NOT NULL DEFAULT '',
  uidvalidity INTEGER NOT NULL,
  uidnext INTEGER NOT NULL DEFAULT 1,
  highest_modseq INTEGER NOT NULL DEFAULT 1,
  subscribed INTEGER NOT NULL DEFAULT 1,
  UNIQUE (account_id, name)
);

-- Bodies, stored once however many mailboxes hold them. Small ones live inline
-- (inside the same transaction, so durable with one WAL sync); large ones in files
-- under blobs/, fsync'd before the transaction that refers to them commits.
CREATE TABLE blobs (
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  refs INTEGER NOT NULL,
  data BLOB,
  in_file INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE messages (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  blob_id INTEGER NOT NULL REFERENCES blobs(id),
  flags TEXT NOT NULL DEFAULT '',
  modseq INTEGER NOT NULL,
  size INTEGER NOT NULL,
  internal_date INTEGER NOT NULL,
  meta BLOB,
  PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX messages_blob ON messages(blob_id);

-- Folded text of each blob, for accent-insensitive search (DESIGN decision 6).
CREATE VIRTUAL TABLE blob_text USING fts5(text, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');

-- Transaction log of Điều 11.1.
CREATE TABLE translog (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  time_offset INTEGER NOT NULL,
  direction TEXT NOT NULL,
  proto TEXT NOT NULL,
  envelope_from TEXT NOT NULL,
  header_from TEXT NOT NULL,
  recipient TEXT NOT NULL,
  client_ip TEXT NOT NULL,
  size INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  auth_user TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT NOT NULL
);
CREATE INDEX translog_time ON translog(time);
CREATE INDEX translog_recipient ON translog(recipient, time);
CREATE INDEX translog_sender ON translog(envelope_from, time);
