-- Migration from the province's old mail system (`govmail import`): the sync
-- state of every source folder and the map from its UIDs to ours, so that a run
-- copies only what changed since the last one and resumes where one stopped.
CREATE TABLE import_folders (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  folder TEXT NOT NULL,
  -- Deleting our mailbox forgets the state: the next run copies the folder again.
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uidvalidity INTEGER NOT NULL,
  uidnext INTEGER NOT NULL DEFAULT 0,
  last_uid INTEGER NOT NULL DEFAULT 0,
  highest_modseq INTEGER NOT NULL DEFAULT 0,
  synced_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE (account_id, source, folder)
);
CREATE INDEX import_folders_mailbox ON import_folders(mailbox_id);

-- Rows of an earlier uidvalidity are orphans: their copies are matched by
-- content when the source renumbered its folder.
CREATE TABLE import_uids (
  folder_id INTEGER NOT NULL REFERENCES import_folders(id) ON DELETE CASCADE,
  uidvalidity INTEGER NOT NULL,
  src_uid INTEGER NOT NULL,
  dst_uid INTEGER NOT NULL,
  PRIMARY KEY (folder_id, uidvalidity, src_uid)
) WITHOUT ROWID;
