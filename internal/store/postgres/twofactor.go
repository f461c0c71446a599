package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"govmail/internal/store"
)

// SetTOTP stores or clears the TOTP secret.
func (s *Store) SetTOTP(ctx context.Context, id int64, secret string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(ctx, `UPDATE accounts SET totp_secret = $1, totp_last_step = 0 WHERE id = $2`, secret, id))
	})
}

// TOTP reads the secret and the last used step.
func (s *Store) TOTP(ctx context.Context, id int64) (string, int64, error) {
	var sec string
	var step int64
	err := s.pool.QueryRow(ctx, `SELECT totp_secret, totp_last_step FROM accounts WHERE id = $1`, id).Scan(&sec, &step)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, store.ErrNotFound
	}
	return sec, step, err
}

// UseTOTPStep is a compare-and-set so that a code cannot be replayed, on this
// node or another.
func (s *Store) UseTOTPStep(ctx context.Context, id int64, step int64) (bool, error) {
	var ok bool
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		tag, err := tx.Exec(ctx, `UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, id)
		if err != nil {
			return err
		}
		ok = tag.RowsAffected() == 1
		return nil
	})
	return ok, err
}

// AddAppPassword stores a new app password hash.
func (s *Store) AddAppPassword(ctx context.Context, p *store.AppPassword) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		err := tx.QueryRow(ctx, `INSERT INTO app_passwords (account_id, name, hash, created_at) VALUES ($1,$2,$3,$4) RETURNING id`,
			p.AccountID, clean(p.Name), p.Hash, store.Micros(p.CreatedAt)).Scan(&p.ID)
		if err != nil {
			return fmt.Errorf("app password: %w", err)
		}
		return nil
	})
}

// AppPasswords lists an account's app passwords.
func (s *Store) AppPasswords(ctx context.Context, id int64) ([]store.AppPassword, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, account_id, name, hash, created_at, last_used_at FROM app_passwords WHERE account_id = $1 ORDER BY id`, id)
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

// DeleteAppPassword revokes one app password; sessions opened with it are told.
func (s *Store) DeleteAppPassword(ctx context.Context, accountID, id int64) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(ctx, `DELETE FROM app_passwords WHERE id = $1 AND account_id = $2`, id, accountID)); err != nil {
			return err
		}
		w.events = append(w.events, store.Event{Kind: store.EventAccess, AccountID: accountID})
		return nil
	})
}

// TouchAppPassword records a use.
func (s *Store) TouchAppPassword(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		_, err := tx.Exec(ctx, `UPDATE app_passwords SET last_used_at = $1 WHERE id = $2`, store.Micros(at), id)
		return err
	})
}
