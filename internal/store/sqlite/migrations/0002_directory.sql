-- Directory: units (R1.1), roles, the one address namespace (R5.7), password
-- history (R6.4), and the authentication and audit logs (R11.2).
CREATE TABLE units (
  id INTEGER PRIMARY KEY,
  parent_id INTEGER REFERENCES units(id),
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  name_folded TEXT NOT NULL,
  abbr TEXT NOT NULL,
  local_part TEXT NOT NULL UNIQUE,
  code TEXT NOT NULL DEFAULT '',
  manager_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
  security_contact_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
  notes TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE INDEX units_parent ON units(parent_id);

ALTER TABLE accounts ADD COLUMN role TEXT NOT NULL DEFAULT 'user';
ALTER TABLE accounts ADD COLUMN name_folded TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN birth_year INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN address_note TEXT NOT NULL DEFAULT '';
CREATE INDEX accounts_unit ON accounts(unit_id);

-- Other addresses of an account: a transferred account's old address (R7.1),
-- postmaster and abuse (R5.11). until = 0: for ever.
CREATE TABLE aliases (
  address TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX aliases_account ON aliases(account_id);

-- Addresses given up (revoked, or aliases expired), not handed out again before
-- reusable_from (R7.6).
CREATE TABLE released_addresses (
  address TEXT PRIMARY KEY,
  released_at INTEGER NOT NULL,
  reusable_from INTEGER NOT NULL
);

CREATE TABLE password_history (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  hash TEXT NOT NULL,
  set_at INTEGER NOT NULL
);
CREATE INDEX password_history_account ON password_history(account_id, set_at);

CREATE TABLE auth_log (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  time_offset INTEGER NOT NULL,
  proto TEXT NOT NULL,
  username TEXT NOT NULL,
  ip TEXT NOT NULL,
  success INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX auth_log_time ON auth_log(time);
CREATE INDEX auth_log_user ON auth_log(username, time);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  time_offset INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_log_time ON audit_log(time);
CREATE INDEX audit_log_target ON audit_log(target, time);
