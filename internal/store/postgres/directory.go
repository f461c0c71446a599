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

const unitCols = `id, COALESCE(parent_id, 0), kind, name, abbr, local_part, code, COALESCE(manager_id, 0), COALESCE(security_contact_id, 0), notes, created_at`

func scanUnit(row pgx.Row) (*store.Unit, error) {
	var u store.Unit
	var kind string
	var created int64
	err := row.Scan(&u.ID, &u.ParentID, &kind, &u.Name, &u.Abbr, &u.LocalPart, &u.Code, &u.ManagerID, &u.SecurityContactID, &u.Notes, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan unit: %w", err)
	}
	u.Kind, u.CreatedAt = store.UnitKind(kind), store.FromMicros(created)
	return &u, nil
}

// addressUse is the one namespace check of R5.7.
func addressUse(ctx context.Context, q querier, address string, now time.Time) (store.AddressUse, error) {
	address = strings.ToLower(address)
	var acc, alias, unit, released bool
	err := q.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM accounts WHERE address = $1 AND state != 'revoked'),
		EXISTS (SELECT 1 FROM aliases WHERE address = $1 AND (until = 0 OR until > $2)),
		EXISTS (SELECT 1 FROM units WHERE local_part = $3),
		EXISTS (SELECT 1 FROM released_addresses WHERE address = $1 AND reusable_from > $2)`,
		address, store.Micros(now), addrpkg.Local(address)).Scan(&acc, &alias, &unit, &released)
	if err != nil {
		return "", fmt.Errorf("address use: %w", err)
	}
	switch {
	case acc:
		return store.UseAccount, nil
	case alias:
		return store.UseAlias, nil
	case unit:
		// A unit's local part is its mailbox's address; only its own unit
		// mailbox account may take it (CreateAccount's check).
		return store.UseUnit, nil
	case released:
		return store.UseReleased, nil
	}
	return store.UseNone, nil
}

// likeEscape makes s match literally in a LIKE pattern.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CreateUnit adds a unit; its local part must be free in the namespace.
func (s *Store) CreateUnit(ctx context.Context, u *store.Unit) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.clock.Now()
	}
	u.LocalPart = strings.ToLower(u.LocalPart)
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if err := lockNamespace(ctx, tx); err != nil {
			return err
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE address LIKE $1 AND state != 'revoked')`,
			likeEscape(u.LocalPart)+"@%").Scan(&taken); err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("unit %s: an account has this local part: %w", u.LocalPart, store.ErrExists)
		}
		err := tx.QueryRow(ctx, `INSERT INTO units (parent_id, kind, name, name_folded, abbr, local_part, code, manager_id, security_contact_id, notes, created_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT (local_part) DO NOTHING RETURNING id`,
			store.NullID(u.ParentID), string(u.Kind), u.Name, textfold.Search(u.Name), u.Abbr, u.LocalPart, u.Code,
			store.NullID(u.ManagerID), store.NullID(u.SecurityContactID), u.Notes, store.Micros(u.CreatedAt)).Scan(&u.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("unit %s: %w", u.LocalPart, store.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("insert unit: %w", err)
		}
		return nil
	})
}

// UpdateUnit changes a unit's name, manager, security contact and notes.
func (s *Store) UpdateUnit(ctx context.Context, u *store.Unit) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(ctx, `UPDATE units SET name = $1, name_folded = $2, code = $3, manager_id = $4, security_contact_id = $5, notes = $6 WHERE id = $7`,
			u.Name, textfold.Search(u.Name), u.Code, store.NullID(u.ManagerID), store.NullID(u.SecurityContactID), u.Notes, u.ID))
	})
}

// UnitByID finds a unit.
func (s *Store) UnitByID(ctx context.Context, id int64) (*store.Unit, error) {
	return scanUnit(s.pool.QueryRow(ctx, `SELECT `+unitCols+` FROM units WHERE id = $1`, id))
}

// UnitByLocalPart finds a unit by its full local part.
func (s *Store) UnitByLocalPart(ctx context.Context, lp string) (*store.Unit, error) {
	return scanUnit(s.pool.QueryRow(ctx, `SELECT `+unitCols+` FROM units WHERE local_part = $1`, strings.ToLower(lp)))
}

// ListUnits lists every unit, parents before children.
func (s *Store) ListUnits(ctx context.Context) ([]store.Unit, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+unitCols+` FROM units ORDER BY COALESCE(parent_id, 0), id`)
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
	return addressUse(ctx, s.pool, address, now)
}

// AddAlias makes address deliver to an account (until zero: for ever).
func (s *Store) AddAlias(ctx context.Context, address string, accountID int64, until time.Time) error {
	address = strings.ToLower(address)
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if err := lockNamespace(ctx, tx); err != nil {
			return err
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE address = $1 AND state != 'revoked')`, address).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("alias %s: %w", address, store.ErrExists)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO aliases (address, account_id, until) VALUES ($1,$2,$3) ON CONFLICT (address) DO NOTHING`, address, accountID, store.Micros(until))
		if err != nil {
			if isForeignKey(err) {
				return fmt.Errorf("alias %s: account %d: %w", address, accountID, store.ErrNotFound)
			}
			return fmt.Errorf("insert alias: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("alias %s: %w", address, store.ErrExists)
		}
		return nil
	})
}

// RemoveAlias drops an alias.
func (s *Store) RemoveAlias(ctx context.Context, address string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(ctx, `DELETE FROM aliases WHERE address = $1`, strings.ToLower(address)))
	})
}

// ResolveAddress finds the account for an address or a live alias.
func (s *Store) ResolveAddress(ctx context.Context, address string, now time.Time) (*store.Account, error) {
	a, err := s.AccountByAddress(ctx, address)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return a, err
	}
	var id int64
	err = s.pool.QueryRow(ctx, `SELECT account_id FROM aliases WHERE address = $1 AND (until = 0 OR until > $2)`, strings.ToLower(address), store.Micros(now)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("resolve alias: %w", err)
	}
	return s.AccountByID(ctx, id)
}

const releaseSQL = `INSERT INTO released_addresses (address, released_at, reusable_from) VALUES ($1,$2,$3)
	ON CONFLICT (address) DO UPDATE SET released_at = EXCLUDED.released_at, reusable_from = EXCLUDED.reusable_from`

// ReleaseAddress records that an address was given up (R7.6).
func (s *Store) ReleaseAddress(ctx context.Context, address string, at, reusableFrom time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if err := lockNamespace(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, releaseSQL, strings.ToLower(address), store.Micros(at), store.Micros(reusableFrom))
		return err
	})
}

// SetRole sets an account's role.
func (s *Store) SetRole(ctx context.Context, id int64, role string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(ctx, `UPDATE accounts SET role = $1 WHERE id = $2`, role, id))
	})
}

// AccountRole reads an account's role.
func (s *Store) AccountRole(ctx context.Context, id int64) (string, error) {
	var r string
	err := s.pool.QueryRow(ctx, `SELECT role FROM accounts WHERE id = $1`, id).Scan(&r)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", store.ErrNotFound
	}
	return r, err
}

// args numbers query parameters as they are added.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// ListAccounts lists accounts by address.
func (s *Store) ListAccounts(ctx context.Context, f store.AccountFilter) ([]store.Account, error) {
	var where []string
	var a args
	if f.UnitID != 0 {
		where = append(where, `unit_id = `+a.add(f.UnitID))
	}
	if f.State != "" {
		where = append(where, `state = `+a.add(string(f.State)))
	}
	if f.Query != "" {
		// SQLite's LIKE is case-insensitive for ASCII: ILIKE on the address
		// keeps that; the folded name is lower-case already.
		q := "%" + strings.NewReplacer("%", "", "_", "", `\`, "").Replace(textfold.Search(f.Query)) + "%"
		where = append(where, `(name_folded LIKE `+a.add(q)+` OR address ILIKE `+a.add("%"+likeEscape(strings.ToLower(f.Query))+"%")+`)`)
	}
	q := `SELECT ` + accountCols + ` FROM accounts`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY address`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		acc, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *acc)
	}
	return out, rows.Err()
}

// PasswordHistory returns recent hashes, newest first.
func (s *Store) PasswordHistory(ctx context.Context, id int64, n int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT hash FROM password_history WHERE account_id = $1 ORDER BY set_at DESC, id DESC LIMIT $2`, id, n)
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
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		_, err := tx.Exec(ctx, `INSERT INTO auth_log (time, time_offset, proto, username, ip, success, reason) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
			e.Time.UnixMicro(), off, clean(e.Proto), clean(strings.ToLower(e.Username)), clean(e.IP), e.Success, clean(e.Reason))
		return err
	})
}

// SearchAuthLog reads authentication events, newest first.
func (s *Store) SearchAuthLog(ctx context.Context, username string, since, until time.Time, limit int) ([]store.AuthLogEntry, error) {
	q, a := timeRange(`SELECT time, time_offset, proto, username, ip, success, reason FROM auth_log`, `username`, username, since, until, limit)
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, fmt.Errorf("auth log: %w", err)
	}
	defer rows.Close()
	var out []store.AuthLogEntry
	for rows.Next() {
		var e store.AuthLogEntry
		var t int64
		var off int32
		if err := rows.Scan(&t, &off, &e.Proto, &e.Username, &e.IP, &e.Success, &e.Reason); err != nil {
			return nil, err
		}
		e.Time = time.UnixMicro(t).In(time.FixedZone("", int(off)))
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
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		_, err := tx.Exec(ctx, `INSERT INTO audit_log (time, time_offset, actor, action, target, detail) VALUES ($1,$2,$3,$4,$5,$6)`,
			e.Time.UnixMicro(), off, clean(e.Actor), clean(e.Action), clean(strings.ToLower(e.Target)), clean(e.Detail))
		return err
	})
}

// SearchAudit reads audit entries, newest first.
func (s *Store) SearchAudit(ctx context.Context, target string, since, until time.Time, limit int) ([]store.AuditEntry, error) {
	q, a := timeRange(`SELECT id, time, time_offset, actor, action, target, detail FROM audit_log`, `target`, target, since, until, limit)
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var t int64
		var off int32
		if err := rows.Scan(&e.ID, &t, &off, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		e.Time = time.UnixMicro(t).In(time.FixedZone("", int(off)))
		out = append(out, e)
	}
	return out, rows.Err()
}

func timeRange(base, col, val string, since, until time.Time, limit int) (string, args) {
	var where []string
	var a args
	if val != "" {
		where = append(where, col+` = `+a.add(strings.ToLower(val)))
	}
	if !since.IsZero() {
		where = append(where, `time >= `+a.add(since.UnixMicro()))
	}
	if !until.IsZero() {
		where = append(where, `time < `+a.add(until.UnixMicro()))
	}
	if len(where) > 0 {
		base += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if limit <= 0 {
		limit = 1000
	}
	// id breaks ties between rows of one microsecond, as SQLite's rowid
	// order does in practice.
	return base + fmt.Sprintf(` ORDER BY time DESC, id DESC LIMIT %d`, limit), a
}
