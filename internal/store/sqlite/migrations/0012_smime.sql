-- S/MIME signing identities (N2): one per account, the certificate chain as PEM
-- and the private key encrypted by webmail under the server secret.
CREATE TABLE smime_identities (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  cert_pem BLOB NOT NULL,
  encrypted_key BLOB NOT NULL,
  updated_at INTEGER NOT NULL
);
