package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	addrpkg "govmail/internal/address"
	"govmail/internal/store"
	"govmail/internal/textfold"
)

const accountCols = `id, address, display_name, kind, COALESCE(unit_id, 0), password_hash, must_change,
	password_set_at, state, lock_reason, created_at, last_login_at, quota_bytes, used_bytes, role, birth_year, address_note, quota_warned`

func scanAccount(row pgx.Row, extra ...any) (*store.Account, error) {
	var a store.Account
	var kind, state string
	var setAt, created, login int64
	dst := []any{&a.ID, &a.Address, &a.DisplayName, &kind, &a.UnitID, &a.PasswordHash, &a.MustChange,
		&setAt, &state, &a.LockReason, &created, &login, &a.QuotaBytes, &a.UsedBytes, &a.Role, &a.BirthYear, &a.AddressNote, &a.QuotaWarned}
	err := row.Scan(append(dst, extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan account: %w", err)
	}
	a.Kind, a.State = store.AccountKind(kind), store.AccountState(state)
	a.PasswordSetAt, a.CreatedAt, a.LastLoginAt = store.FromMicros(setAt), store.FromMicros(created), store.FromMicros(login)
	return &a, nil
}

// CreateAccount inserts a and its default folders.
func (s *Store) CreateAccount(ctx context.Context, a *store.Account) error {
	a.Address = strings.ToLower(a.Address)
	if a.Kind == "" {
		a.Kind = store.KindPersonal
	}
	if a.State == "" {
		a.State = store.StateActive
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.clock.Now()
	}
	if a.Role == "" {
		a.Role = store.RoleUser
	}
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		// R5.7: one namespace; checked under the namespace lock so two
		// creations on two nodes cannot both take the same address.
		if err := lockNamespace(ctx, tx); err != nil {
			return err
		}
		if use, err := addressUse(ctx, tx, a.Address, a.CreatedAt); err != nil {
			return err
		} else if use == store.UseUnit && a.Kind == store.KindUnit && a.UnitID != 0 {
			// A unit's own mailbox takes its unit's local part (R5.1a–c).
			var lp string
			if err := tx.QueryRow(ctx, `SELECT local_part FROM units WHERE id = $1`, a.UnitID).Scan(&lp); err != nil || lp != addrpkg.Local(a.Address) {
				return fmt.Errorf("account %s (%s): %w", a.Address, use, store.ErrExists)
			}
		} else if use != store.UseNone {
			return fmt.Errorf("account %s (%s): %w", a.Address, use, store.ErrExists)
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO accounts (address, display_name, kind, unit_id, password_hash, must_change,
			password_set_at, state, lock_reason, created_at, quota_bytes, role, name_folded, birth_year, address_note)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) ON CONFLICT (address) DO NOTHING RETURNING id`,
			a.Address, a.DisplayName, string(a.Kind), store.NullID(a.UnitID), a.PasswordHash, a.MustChange,
			store.Micros(a.PasswordSetAt), string(a.State), a.LockReason, store.Micros(a.CreatedAt), a.QuotaBytes,
			a.Role, textfold.Search(a.DisplayName), a.BirthYear, a.AddressNote).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("account %s: %w", a.Address, store.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("insert account: %w", err)
		}
		if a.PasswordHash != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO password_history (account_id, hash, set_at) VALUES ($1,$2,$3)`, id, a.PasswordHash, store.Micros(a.PasswordSetAt)); err != nil {
				return fmt.Errorf("password history: %w", err)
			}
		}
		names := make([]string, len(store.DefaultMailboxes))
		specials := make([]string, len(store.DefaultMailboxes))
		for i, m := range store.DefaultMailboxes {
			names[i], specials[i] = m.Name, m.SpecialUse
		}
		if _, err := s.insertMailboxes(ctx, tx, id, names, specials); err != nil {
			return err
		}
		a.ID = id
		return nil
	})
}

// AccountByAddress finds an account by its address, case-insensitively.
func (s *Store) AccountByAddress(ctx context.Context, address string) (*store.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE address = $1`, strings.ToLower(address)))
}

// AccountByID finds an account by id.
func (s *Store) AccountByID(ctx context.Context, id int64) (*store.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
}

// SetPassword stores a new password hash.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string, mustChange bool, at time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(ctx, `UPDATE accounts SET password_hash = $1, must_change = $2, password_set_at = $3 WHERE id = $4`,
			hash, mustChange, store.Micros(at), id)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO password_history (account_id, hash, set_at) VALUES ($1,$2,$3)`, id, hash, store.Micros(at))
		return err
	})
}

// RecordLogin notes a successful login (R8.2: any protocol counts).
func (s *Store) RecordLogin(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(ctx, `UPDATE accounts SET last_login_at = GREATEST(last_login_at, $1) WHERE id = $2`, store.Micros(at), id))
	})
}

// lockAccounts takes the row locks of accounts in ascending id order (the
// first step of the lock order) and returns what quota checks need.
func lockAccounts(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]*acctState, error) {
	rows, err := tx.Query(ctx, `SELECT id, used_bytes, quota_bytes, state FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return nil, fmt.Errorf("lock accounts: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]*acctState, len(ids))
	for rows.Next() {
		var id int64
		a := &acctState{}
		if err := rows.Scan(&id, &a.used, &a.quota, &a.state); err != nil {
			return nil, fmt.Errorf("lock accounts: %w", err)
		}
		out[id] = a
	}
	return out, rows.Err()
}

type acctState struct {
	used, quota int64
	state       string
}
