-- Per-account preferences (webmail signature, vacation responder): a generic
-- key/value table so that a new preference needs no migration.
CREATE TABLE user_settings (
  account_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (account_id, key)
);
