package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// UserSetting returns a per-account preference, "" when never set.
func (s *Store) UserSetting(ctx context.Context, accountID int64, key string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM user_settings WHERE account_id = $1 AND key = $2`, accountID, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetUserSetting stores a per-account preference; "" removes it.
func (s *Store) SetUserSetting(ctx context.Context, accountID int64, key, value string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if value == "" {
			_, err := tx.Exec(ctx, `DELETE FROM user_settings WHERE account_id = $1 AND key = $2`, accountID, key)
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO user_settings (account_id, key, value) VALUES ($1,$2,$3)
			ON CONFLICT (account_id, key) DO UPDATE SET value = EXCLUDED.value`, accountID, key, value)
		return err
	})
}
