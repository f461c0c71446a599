package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"govmail/internal/store"
)

// SetTOTP stores or clears the TOTP secret.
func (s *Store) SetTOTP(ctx context.Context, id int64, secret string) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`UPDATE accounts SET totp_secret = ?, totp_last_step = 0 WHERE id = ?`, secret, id))
	})
}

// TOTP reads the secret and the last used step.
func (s *Store) TOTP(ctx context.Context, id int64) (string, int64, error) {
	var sec string
	var step int64
	err := s.rdb.QueryRowContext(ctx, `SELECT totp_secret, totp_last_step FROM accounts WHERE id = ?`, id).Scan(&sec, &step)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, store.ErrNotFound
	}
	return sec, step, err
}

// UseTOTPStep is a compare-and-set so that a code cannot be replayed.
func (s *Store) UseTOTPStep(ctx context.Context, id int64, step int64) (bool, error) {
	var ok bool
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`UPDATE accounts SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, id, step)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

// AddAppPassword stores a new app password hash.
func (s *Store) AddAppPassword(ctx context.Context, p *store.AppPassword) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`INSERT INTO app_passwords (account_id, name, hash, created_at) VALUES (?,?,?,?)`, p.AccountID, p.Name, p.Hash, store.Micros(p.CreatedAt))
		if err != nil {
			return fmt.Errorf("app password: %w", err)
		}
		p.ID, _ = res.LastInsertId()
		return nil
	})
}

// AppPasswords lists an account's app passwords.
func (s *Store) AppPasswords(ctx context.Context, id int64) ([]store.AppPassword, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, account_id, name, hash, created_at, last_used_at FROM app_passwords WHERE account_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AppPassword
	for rows.Next() {
		var p store.AppPassword
		var c, u int64
		if err := rows.Scan(&p.ID, &p.AccountID, &p.Name, &p.Hash, &c, &u); err != nil {
			return nil, err
		}
		p.CreatedAt, p.LastUsedAt = store.FromMicros(c), store.FromMicros(u)
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeleteAppPassword revokes one app password.
func (s *Store) DeleteAppPassword(ctx context.Context, accountID, id int64) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(`DELETE FROM app_passwords WHERE id = ? AND account_id = ?`, id, accountID)); err != nil {
			return err
		}
		w.events = append(w.events, store.Event{Kind: store.EventAccess, AccountID: accountID})
		return nil
	})
}

// TouchAppPassword records a use.
func (s *Store) TouchAppPassword(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		_, err := tx.Exec(`UPDATE app_passwords SET last_used_at = ? WHERE id = ?`, store.Micros(at), id)
		return err
	})
}
