-- Outbound queue (internal/queue). The body is a blob like a mailbox message's:
-- a queued message holds one reference on it, so the body is stored once however
-- many recipients or mailboxes share it.
CREATE TABLE queue_messages (
  id INTEGER PRIMARY KEY,
  blob_id INTEGER NOT NULL REFERENCES blobs(id),
  envelope_from TEXT NOT NULL,
  header_from TEXT NOT NULL DEFAULT '',
  message_id TEXT NOT NULL DEFAULT '',
  auth_user TEXT NOT NULL DEFAULT '',
  client_ip TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  env_id TEXT NOT NULL DEFAULT '',
  ret TEXT NOT NULL DEFAULT '',
  utf8 INTEGER NOT NULL DEFAULT 0,
  held INTEGER NOT NULL DEFAULT 0,
  hold_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX queue_messages_auth ON queue_messages(auth_user);
CREATE INDEX queue_messages_blob ON queue_messages(blob_id);

-- One row per remote recipient: each has its own attempts and schedule. A claim
-- is a lease (lease_until), so a worker that dies leaves its rows due again.
CREATE TABLE queue_rcpts (
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  domain TEXT NOT NULL,
  orcpt TEXT NOT NULL DEFAULT '',
  notify TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'queued',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL,
  last_attempt INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  delay_notified INTEGER NOT NULL DEFAULT 0,
  lease_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX queue_rcpts_due ON queue_rcpts(state, next_attempt);
CREATE INDEX queue_rcpts_message ON queue_rcpts(message_id);
CREATE INDEX queue_rcpts_domain ON queue_rcpts(domain);
