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

const unitCols = `id, COALESCE(parent_id, 0), kind, name, abbr, local_part, code, COALESCE(manager_id, 0), COALESCE(security_contact_id, 0), notes, created_at`

func scanUnit(row interface{ Scan(...any) error }) (*store.Unit, error) {
	var u store.Unit
	var kind string
	var created int64
	err := row.Scan(&u.ID, &u.ParentID, &kind, &u.Name, &u.Abbr, &u.LocalPart, &u.Code, &u.ManagerID, &u.SecurityContactID, &u.Notes, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan unit: %w", err)
	}
	u.Kind, u.CreatedAt = store.UnitKind(kind), store.FromMicros(created)
	return &u, nil
}

// addressUseTx is the one namespace check of R5.7.
func addressUseTx(q interface {
	QueryRow(string, ...any) *sql.Row
}, address string, now time.Time) (store.AddressUse, error) {
	address = strings.ToLower(address)
	var n int
	if err := q.QueryRow(`SELECT count(*) FROM accounts WHERE address = ? AND state != 'revoked'`, address).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return store.UseAccount, nil
	}
	if err := q.QueryRow(`SELECT count(*) FROM aliases WHERE address = ? AND (until = 0 OR until > ?)`, address, store.Micros(now)).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return store.UseAlias, nil
	}
	if err := q.QueryRow(`SELECT count(*) FROM units WHERE local_part = ?`, addrpkg.Local(address)).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		// A unit's local part is its mailbox's address; only its own unit mailbox
		// account may take it, and that account is created with UseUnit allowed
		// by the directory service through CreateAccount's caller check.
		return store.UseUnit, nil
	}
	if err := q.QueryRow(`SELECT count(*) FROM released_addresses WHERE address = ? AND reusable_from > ?`, address, store.Micros(now)).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return store.UseReleased, nil
	}
	return store.UseNone, nil
}

// CreateUnit adds a unit; its local part must be free in the namespace.
func (s *Store) CreateUnit(ctx context.Context, u *store.Unit) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.clock.Now()
	}
	u.LocalPart = strings.ToLower(u.LocalPart)
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM accounts WHERE address LIKE ? || '@%' AND state != 'revoked'`, u.LocalPart).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("unit %s: an account has this local part: %w", u.LocalPart, store.ErrExists)
		}
		res, err := tx.Exec(`INSERT INTO units (parent_id, kind, name, name_folded, abbr, local_part, code, manager_id, security_contact_id, notes, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, store.NullID(u.ParentID), string(u.Kind), u.Name, textfold.Search(u.Name), u.Abbr, u.LocalPart, u.Code,
			store.NullID(u.ManagerID), store.NullID(u.SecurityContactID), u.Notes, store.Micros(u.CreatedAt))
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("unit %s: %w", u.LocalPart, store.ErrExists)
			}
			return fmt.Errorf("insert unit: %w", err)
		}
		u.ID, _ = res.LastInsertId()
		return nil
	})
}

// UpdateUnit changes a unit's name, manager, security contact and notes.
func (s *Store) UpdateUnit(ctx context.Context, u *store.Unit) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`UPDATE units SET name = ?, name_folded = ?, code = ?, manager_id = ?, security_contact_id = ?, notes = ? WHERE id = ?`,
			u.Name, textfold.Search(u.Name), u.Code, store.NullID(u.ManagerID), store.NullID(u.SecurityContactID), u.Notes, u.ID))
	})
}

// UnitByID finds a unit.
func (s *Store) UnitByID(ctx context.Context, id int64) (*store.Unit, error) {
	return scanUnit(s.rdb.QueryRowContext(ctx, `SELECT `+unitCols+` FROM units WHERE id = ?`, id))
}

// UnitByLocalPart finds a unit by its full local part.
func (s *Store) UnitByLocalPart(ctx context.Context, lp string) (*store.Unit, error) {
	return scanUnit(s.rdb.QueryRowContext(ctx, `SELECT `+unitCols+` FROM units WHERE local_part = ?`, strings.ToLower(lp)))
}

// ListUnits lists every unit, parents before children.
func (s *Store) ListUnits(ctx context.Context) ([]store.Unit, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+unitCols+` FROM units ORDER BY COALESCE(parent_id, 0), id`)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	defer rows.Close()
	var out []store.Unit
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// AddressUse reports what holds an address.
func (s *Store) AddressUse(ctx context.Context, address string, now time.Time) (store.AddressUse, error) {
	return addressUseTx(readerQ{ctx, s.rdb}, address, now)
}

type readerQ struct {
	ctx context.Context
	db  *sql.DB
}

func (r readerQ) QueryRow(q string, args ...any) *sql.Row {
	return r.db.QueryRowContext(r.ctx, q, args...)
}

// AddAlias makes address deliver to an account (until zero: for ever).
func (s *Store) AddAlias(ctx context.Context, address string, accountID int64, until time.Time) error {
	address = strings.ToLower(address)
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM accounts WHERE address = ? AND state != 'revoked'`, address).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("alias %s: %w", address, store.ErrExists)
		}
		if _, err := tx.Exec(`INSERT INTO aliases (address, account_id, until) VALUES (?,?,?)`, address, accountID, store.Micros(until)); err != nil {
			if isUnique(err) {
				return fmt.Errorf("alias %s: %w", address, store.ErrExists)
			}
			return fmt.Errorf("insert alias: %w", err)
		}
		return nil
	})
}

// RemoveAlias drops an alias.
func (s *Store) RemoveAlias(ctx context.Context, address string) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`DELETE FROM aliases WHERE address = ?`, strings.ToLower(address)))
	})
}

// ResolveAddress finds the account for an address or a live alias.
func (s *Store) ResolveAddress(ctx context.Context, address string, now time.Time) (*store.Account, error) {
	a, err := s.AccountByAddress(ctx, address)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return a, err
	}
	var id int64
	err = s.rdb.QueryRowContext(ctx, `SELECT account_id FROM aliases WHERE address = ? AND (until = 0 OR until > ?)`, strings.ToLower(address), store.Micros(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("resolve alias: %w", err)
	}
	return s.AccountByID(ctx, id)
}

// ReleaseAddress records that an address was given up (R7.6).
func (s *Store) ReleaseAddress(ctx context.Context, address string, at, reusableFrom time.Time) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		_, err := tx.Exec(`INSERT INTO released_addresses (address, released_at, reusable_from) VALUES (?,?,?)
			ON CONFLICT(address) DO UPDATE SET released_at = excluded.released_at, reusable_from = excluded.reusable_from`,
			strings.ToLower(address), store.Micros(at), store.Micros(reusableFrom))
		return err
	})
}

// SetRole sets an account's role.
func (s *Store) SetRole(ctx context.Context, id int64, role string) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`UPDATE accounts SET role = ? WHERE id = ?`, role, id))
	})
}

// AccountRole reads an account's role.
func (s *Store) AccountRole(ctx context.Context, id int64) (string, error) {
	var r string
	err := s.rdb.QueryRowContext(ctx, `SELECT role FROM accounts WHERE id = ?`, id).Scan(&r)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	return r, err
}

// ListAccounts lists accounts by address.
func (s *Store) ListAccounts(ctx context.Context, f store.AccountFilter) ([]store.Account, error) {
	var where []string
	var args []any
	if f.UnitID != 0 {
		where = append(where, `unit_id = ?`)
		args = append(args, f.UnitID)
	}
	if f.State != "" {
		where = append(where, `state = ?`)
		args = append(args, string(f.State))
	}
	if f.Query != "" {
		q := "%" + strings.NewReplacer("%", "", "_", "").Replace(textfold.Search(f.Query)) + "%"
		where = append(where, `(name_folded LIKE ? OR address LIKE ?)`)
		args = append(args, q, "%"+strings.ToLower(f.Query)+"%")
	}
	q := `SELECT ` + accountCols + ` FROM accounts`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY address`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// PasswordHistory returns recent hashes, newest first.
func (s *Store) PasswordHistory(ctx context.Context, id int64, n int) ([]string, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT hash FROM password_history WHERE account_id = ? ORDER BY set_at DESC, rowid DESC LIMIT ?`, id, n)
	if err != nil {
		return nil, fmt.Errorf("password history: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// AppendAuthLog writes an authentication event.
func (s *Store) AppendAuthLog(ctx context.Context, e store.AuthLogEntry) error {
	_, off := e.Time.Zone()
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		_, err := tx.Exec(`INSERT INTO auth_log (time, time_offset, proto, username, ip, success, reason) VALUES (?,?,?,?,?,?,?)`,
			e.Time.UnixMicro(), off, e.Proto, strings.ToLower(e.Username), e.IP, boolInt(e.Success), e.Reason)
		return err
	})
}

// SearchAuthLog reads authentication events, newest first.
func (s *Store) SearchAuthLog(ctx context.Context, username string, since, until time.Time, limit int) ([]store.AuthLogEntry, error) {
	q, args := timeRange(`SELECT time, time_offset, proto, username, ip, success, reason FROM auth_log`, `username`, username, since, until, limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("auth log: %w", err)
	}
	defer rows.Close()
	var out []store.AuthLogEntry
	for rows.Next() {
		var e store.AuthLogEntry
		var t int64
		var off, ok int
		if err := rows.Scan(&t, &off, &e.Proto, &e.Username, &e.IP, &ok, &e.Reason); err != nil {
			return nil, err
		}
		e.Time, e.Success = time.UnixMicro(t).In(time.FixedZone("", off)), ok != 0
		out = append(out, e)
	}
	return out, rows.Err()
}

// AppendAudit writes an audit entry.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = s.clock.Now()
	}
	_, off := e.Time.Zone()
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		_, err := tx.Exec(`INSERT INTO audit_log (time, time_offset, actor, action, target, detail) VALUES (?,?,?,?,?,?)`,
			e.Time.UnixMicro(), off, e.Actor, e.Action, strings.ToLower(e.Target), e.Detail)
		return err
	})
}

// SearchAudit reads audit entries, newest first.
func (s *Store) SearchAudit(ctx context.Context, target string, since, until time.Time, limit int) ([]store.AuditEntry, error) {
	q, args := timeRange(`SELECT id, time, time_offset, actor, action, target, detail FROM audit_log`, `target`, target, since, until, limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var t int64
		var off int
		if err := rows.Scan(&e.ID, &t, &off, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		e.Time = time.UnixMicro(t).In(time.FixedZone("", off))
		out = append(out, e)
	}
	return out, rows.Err()
}

func timeRange(base, col, val string, since, until time.Time, limit int) (string, []any) {
	var where []string
	var args []any
	if val != "" {
		where = append(where, col+` = ?`)
		args = append(args, strings.ToLower(val))
	}
	if !since.IsZero() {
		where = append(where, `time >= ?`)
		args = append(args, since.UnixMicro())
	}
	if !until.IsZero() {
		where = append(where, `time < ?`)
		args = append(args, until.UnixMicro())
	}
	if len(where) > 0 {
		base += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if limit <= 0 {
		limit = 1000
	}
	return base + fmt.Sprintf(` ORDER BY time DESC LIMIT %d`, limit), args
}
