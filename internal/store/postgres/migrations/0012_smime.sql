-- S/MIME signing identities (N2): one per account, the certificate chain as PEM
-- and the private key encrypted by webmail under the server secret.
CREATE TABLE smime_identities (
  account_id bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  cert_pem bytea NOT NULL,
  encrypted_key bytea NOT NULL,
  updated_at bigint NOT NULL
);
