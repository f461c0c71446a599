package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"govmail/internal/store"
)

var _ store.TokenStore = (*Store)(nil)

const tokenCols = `id, account_id, name, hash, prefix, scopes, created_by, created_at, expires_at, last_used_at, revoked_at`

func scanToken(row interface{ Scan(...any) error }) (*store.APIToken, error) {
	var t store.APIToken
	var scopes string
	var created, expires, used, revoked int64
	err := row.Scan(&t.ID, &t.AccountID, &t.Name, &t.Hash, &t.Prefix, &scopes, &t.CreatedBy, &created, &expires, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan api token: %w", err)
	}
	t.Scopes = strings.Fields(scopes)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = store.FromMicros(created), store.FromMicros(expires), store.FromMicros(used), store.FromMicros(revoked)
	return &t, nil
}

// CreateAPIToken stores a token's hash and scopes.
func (s *Store) CreateAPIToken(ctx context.Context, t *store.APIToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.clock.Now()
	}
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`INSERT INTO api_tokens (account_id, name, hash, prefix, scopes, created_by, created_at, expires_at)
			VALUES (?,?,?,?,?,?,?,?)`, t.AccountID, t.Name, t.Hash, t.Prefix, strings.Join(t.Scopes, " "), t.CreatedBy,
			store.Micros(t.CreatedAt), store.Micros(t.ExpiresAt))
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("api token: %w", store.ErrExists)
			}
			return fmt.Errorf("api token: %w", err)
		}
		t.ID, _ = res.LastInsertId()
		return nil
	})
}

// APITokenByHash finds a token by its hash.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (*store.APIToken, error) {
	return scanToken(s.rdb.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = ?`, hash))
}

// APITokenByID reads one token.
func (s *Store) APITokenByID(ctx context.Context, id int64) (*store.APIToken, error) {
	return scanToken(s.rdb.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE id = ?`, id))
}

// APITokens lists an account's tokens, or all of them.
func (s *Store) APITokens(ctx context.Context, accountID int64) ([]store.APIToken, error) {
	q, args := `SELECT `+tokenCols+` FROM api_tokens`, []any{}
	if accountID != 0 {
		q, args = q+` WHERE account_id = ?`, append(args, accountID)
	}
	rows, err := s.rdb.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("api tokens: %w", err)
	}
	defer rows.Close()
	var out []store.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// RevokeAPIToken ends a token that is still in force.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, store.Micros(at), id))
	})
}

// TouchAPIToken records a use.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		_, err := tx.Exec(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, store.Micros(at), id)
		return err
	})
}
