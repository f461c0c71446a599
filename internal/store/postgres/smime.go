package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"govmail/internal/store"
)

// PutSMIMEIdentity stores or replaces the account's signing identity.
func (s *Store) PutSMIMEIdentity(ctx context.Context, accountID int64, certPEM, encryptedKey []byte) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		_, err := tx.Exec(ctx, `INSERT INTO smime_identities (account_id, cert_pem, encrypted_key, updated_at) VALUES ($1,$2,$3,$4)
			ON CONFLICT (account_id) DO UPDATE SET cert_pem = excluded.cert_pem, encrypted_key = excluded.encrypted_key, updated_at = excluded.updated_at`,
			accountID, certPEM, encryptedKey, store.Micros(s.clock.Now()))
		return err
	})
}

// SMIMEIdentity reads the account's signing identity.
func (s *Store) SMIMEIdentity(ctx context.Context, accountID int64) ([]byte, []byte, error) {
	var c, k []byte
	err := s.pool.QueryRow(ctx, `SELECT cert_pem, encrypted_key FROM smime_identities WHERE account_id = $1`, accountID).Scan(&c, &k)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, store.ErrNotFound
	}
	return c, k, err
}
