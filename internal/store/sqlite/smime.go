package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"govmail/internal/store"
)

// PutSMIMEIdentity stores or replaces the account's signing identity.
func (s *Store) PutSMIMEIdentity(ctx context.Context, accountID int64, certPEM, encryptedKey []byte) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		_, err := tx.Exec(`INSERT INTO smime_identities (account_id, cert_pem, encrypted_key, updated_at) VALUES (?,?,?,?)
			ON CONFLICT (account_id) DO UPDATE SET cert_pem = excluded.cert_pem, encrypted_key = excluded.encrypted_key, updated_at = excluded.updated_at`,
			accountID, certPEM, encryptedKey, store.Micros(s.clock.Now()))
		return err
	})
}

// SMIMEIdentity reads the account's signing identity.
func (s *Store) SMIMEIdentity(ctx context.Context, accountID int64) ([]byte, []byte, error) {
	var c, k []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT cert_pem, encrypted_key FROM smime_identities WHERE account_id = ?`, accountID).Scan(&c, &k)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, store.ErrNotFound
	}
	return c, k, err
}
