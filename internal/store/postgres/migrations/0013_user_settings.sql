-- Per-account preferences (webmail signature, vacation responder): a generic
-- key/value table so that a new preference needs no migration.
CREATE TABLE user_settings (
  account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  key text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (account_id, key)
);
