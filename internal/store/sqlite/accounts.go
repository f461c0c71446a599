package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	addrpkg "govmail/internal/address"
	"govmail/internal/store"
	"govmail/internal/textfold"
)

const accountCols = `id, address, display_name, kind, COALESCE(unit_id, 0), password_hash, must_change,
	password_set_at, state, lock_reason, created_at, last_login_at, quota_bytes, used_bytes, role, birth_year, address_note, quota_warned`

func scanAccount(row interface{ Scan(...any) error }) (*store.Account, error) {
	var a store.Account
	var kind, state string
	var mc int
	var setAt, created, login int64
	err := row.Scan(&a.ID, &a.Address, &a.DisplayName, &kind, &a.UnitID, &a.PasswordHash, &mc,
		&setAt, &state, &a.LockReason, &created, &login, &a.QuotaBytes, &a.UsedBytes, &a.Role, &a.BirthYear, &a.AddressNote, &a.QuotaWarned)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan account: %w", err)
	}
	a.Kind, a.State, a.MustChange = store.AccountKind(kind), store.AccountState(state), mc != 0
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
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		// R5.7: one namespace; checked inside the transaction so two creations
		// cannot both take the same address.
		if use, err := addressUseTx(tx, a.Address, a.CreatedAt); err != nil {
			return err
		} else if use == store.UseUnit && a.Kind == store.KindUnit && a.UnitID != 0 {
			// A unit's own mailbox takes its unit's local part (R5.1a–c).
			var lp string
			if err := tx.QueryRow(`SELECT local_part FROM units WHERE id = ?`, a.UnitID).Scan(&lp); err != nil || lp != addrpkg.Local(a.Address) {
				return fmt.Errorf("account %s (%s): %w", a.Address, use, store.ErrExists)
			}
		} else if use != store.UseNone {
			return fmt.Errorf("account %s (%s): %w", a.Address, use, store.ErrExists)
		}
		res, err := tx.Exec(`INSERT INTO accounts (address, display_name, kind, unit_id, password_hash, must_change,
			password_set_at, state, lock_reason, created_at, quota_bytes, role, name_folded, birth_year, address_note)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			a.Address, a.DisplayName, string(a.Kind), store.NullID(a.UnitID), a.PasswordHash, boolInt(a.MustChange),
			store.Micros(a.PasswordSetAt), string(a.State), a.LockReason, store.Micros(a.CreatedAt), a.QuotaBytes,
			a.Role, textfold.Search(a.DisplayName), a.BirthYear, a.AddressNote)
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("account %s: %w", a.Address, store.ErrExists)
			}
			return fmt.Errorf("insert account: %w", err)
		}
		id, _ := res.LastInsertId()
		if a.PasswordHash != "" {
			if _, err := tx.Exec(`INSERT INTO password_history (account_id, hash, set_at) VALUES (?,?,?)`, id, a.PasswordHash, store.Micros(a.PasswordSetAt)); err != nil {
				return fmt.Errorf("password history: %w", err)
			}
		}
		for _, m := range store.DefaultMailboxes {
			if _, err := s.insertMailbox(tx, id, m.Name, m.SpecialUse); err != nil {
				return err
			}
		}
		a.ID = id
		return nil
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// AccountByAddress finds an account by its address, case-insensitively.
func (s *Store) AccountByAddress(ctx context.Context, address string) (*store.Account, error) {
	return scanAccount(s.rdb.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE address = ?`, strings.ToLower(address)))
}

// AccountByID finds an account by id.
func (s *Store) AccountByID(ctx context.Context, id int64) (*store.Account, error) {
	return scanAccount(s.rdb.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
}

// SetPassword stores a new password hash.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string, mustChange bool, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(`UPDATE accounts SET password_hash = ?, must_change = ?, password_set_at = ? WHERE id = ?`,
			hash, boolInt(mustChange), store.Micros(at), id)); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO password_history (account_id, hash, set_at) VALUES (?,?,?)`, id, hash, store.Micros(at))
		return err
	})
}

// RecordLogin notes a successful login (R8.2: any protocol counts).
func (s *Store) RecordLogin(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`UPDATE accounts SET last_login_at = max(last_login_at, ?) WHERE id = ?`, store.Micros(at), id))
	})
}

func expectOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
