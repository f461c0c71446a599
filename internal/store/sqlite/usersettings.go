package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// UserSetting returns a per-account preference, "" when never set.
func (s *Store) UserSetting(ctx context.Context, accountID int64, key string) (string, error) {
	var v string
	err := s.rdb.QueryRowContext(ctx, `SELECT value FROM user_settings WHERE account_id = ? AND key = ?`, accountID, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetUserSetting stores a per-account preference; "" removes it.
func (s *Store) SetUserSetting(ctx context.Context, accountID int64, key, value string) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		if value == "" {
			_, err := tx.Exec(`DELETE FROM user_settings WHERE account_id = ? AND key = ?`, accountID, key)
			return err
		}
		_, err := tx.Exec(`INSERT INTO user_settings (account_id, key, value) VALUES (?,?,?)
			ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value`, accountID, key, value)
		return err
	})
}
