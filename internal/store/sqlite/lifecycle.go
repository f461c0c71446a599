package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"govmail/internal/store"
	"govmail/internal/textfold"
)

// LockAccount locks an active account.
func (s *Store) LockAccount(ctx context.Context, id int64, reason string, info store.LockInfo) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(`UPDATE accounts SET state = 'locked', lock_reason = ?, locked_at = ?, lock_note = ?, locked_by = ?
			WHERE id = ? AND state = 'active'`, reason, store.Micros(info.LockedAt), info.Note, info.LockedBy, id)); err != nil {
			return err
		}
		w.events = append(w.events, store.Event{Kind: store.EventAccess, AccountID: id})
		return nil
	})
}

// RestoreAccount reactivates a locked account with a one-time password.
func (s *Store) RestoreAccount(ctx context.Context, id int64, hash string, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(`UPDATE accounts SET state = 'active', lock_reason = '', locked_at = 0, lock_note = '', locked_by = '',
			restored_at = ?, password_hash = ?, must_change = 1, password_set_at = ? WHERE id = ? AND state = 'locked'`,
			store.Micros(at), hash, store.Micros(at), id)); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO password_history (account_id, hash, set_at) VALUES (?,?,?)`, id, hash, store.Micros(at))
		return err
	})
}

// RevokeAccount deletes the mailbox's content, credentials, delegations and
// aliases in one transaction; the account row stays as the record (R7.4).
func (s *Store) RevokeAccount(ctx context.Context, id int64, at, reusableFrom time.Time) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var addr, state string
		if err := tx.QueryRow(`SELECT address, state FROM accounts WHERE id = ?`, id).Scan(&addr, &state); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		if state == string(store.StateRevoked) {
			return store.ErrNotFound
		}
		rows, err := tx.Query(`SELECT id FROM mailboxes WHERE account_id = ?`, id)
		if err != nil {
			return err
		}
		var mbs []int64
		for rows.Next() {
			var m int64
			rows.Scan(&m)
			mbs = append(mbs, m)
		}
		rows.Close()
		for _, m := range mbs {
			if _, err := s.expungeTx(tx, w, m, nil, true); err != nil {
				return err
			}
		}
		released := []string{addr}
		arows, err := tx.Query(`SELECT address FROM aliases WHERE account_id = ?`, id)
		if err != nil {
			return err
		}
		for arows.Next() {
			var a string
			arows.Scan(&a)
			released = append(released, a)
		}
		arows.Close()
		var delegates []int64
		drows, err := tx.Query(`SELECT delegate_id FROM delegations WHERE unit_account_id = ?`, id)
		if err != nil {
			return err
		}
		for drows.Next() {
			var d int64
			drows.Scan(&d)
			delegates = append(delegates, d)
		}
		drows.Close()
		for _, q := range []string{
			`DELETE FROM mailboxes WHERE account_id = ?`,
			`DELETE FROM password_history WHERE account_id = ?`,
			`DELETE FROM delegations WHERE unit_account_id = ? OR delegate_id = ?1`,
			`DELETE FROM aliases WHERE account_id = ?`,
			`DELETE FROM absences WHERE account_id = ?`,
		} {
			if _, err := tx.Exec(q, id); err != nil {
				return fmt.Errorf("revoke: %w", err)
			}
		}
		if _, err := tx.Exec(`UPDATE accounts SET state = 'revoked', revoked_at = ?, revoked_address = address,
			address = address || '#revoked-' || id, password_hash = '', must_change = 0, used_bytes = 0 WHERE id = ?`, store.Micros(at), id); err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		for _, a := range released {
			if _, err := tx.Exec(`INSERT INTO released_addresses (address, released_at, reusable_from) VALUES (?,?,?)
				ON CONFLICT(address) DO UPDATE SET released_at = excluded.released_at, reusable_from = excluded.reusable_from`,
				a, store.Micros(at), store.Micros(reusableFrom)); err != nil {
				return err
			}
		}
		w.events = append(w.events, store.Event{Kind: store.EventAccess, AccountID: id})
		for _, d := range delegates {
			w.events = append(w.events, store.Event{Kind: store.EventAccess, AccountID: d, MailboxID: id})
		}
		return nil
	})
}

// AccountLives lists accounts with their lock details.
func (s *Store) AccountLives(ctx context.Context, states ...store.AccountState) ([]store.AccountLife, error) {
	q := `SELECT ` + accountCols + `, locked_at, lock_note, locked_by, restored_at FROM accounts`
	var args []any
	if len(states) > 0 {
		q += ` WHERE state IN (?` + strings.Repeat(",?", len(states)-1) + `)`
		for _, st := range states {
			args = append(args, string(st))
		}
	}
	rows, err := s.rdb.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("account lives: %w", err)
	}
	defer rows.Close()
	var out []store.AccountLife
	for rows.Next() {
		var l store.AccountLife
		var lockedAt, restoredAt int64
		sc := scanner{rows, []any{&lockedAt, &l.Note, &l.LockedBy, &restoredAt}}
		a, err := scanAccount(sc)
		if err != nil {
			return nil, err
		}
		l.Account = *a
		l.LockedAt, l.RestoredAt = store.FromMicros(lockedAt), store.FromMicros(restoredAt)
		out = append(out, l)
	}
	return out, rows.Err()
}

// scanner appends extra destinations to a scan of account columns.
type scanner struct {
	rows  *sql.Rows
	extra []any
}

func (s scanner) Scan(dst ...any) error { return s.rows.Scan(append(dst, s.extra...)...) }

// AddAbsence records a declared absence.
func (s *Store) AddAbsence(ctx context.Context, a *store.Absence) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`INSERT INTO absences (account_id, reason, starts, ends, declared_by, declared_at) VALUES (?,?,?,?,?,?)`,
			a.AccountID, a.Reason, a.Starts, a.Ends, a.DeclaredBy, store.Micros(a.DeclaredAt))
		if err != nil {
			return fmt.Errorf("absence: %w", err)
		}
		a.ID, _ = res.LastInsertId()
		return nil
	})
}

// Absences lists an account's absences, latest end first.
func (s *Store) Absences(ctx context.Context, accountID int64) ([]store.Absence, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, account_id, reason, starts, ends, declared_by, declared_at FROM absences WHERE account_id = ? ORDER BY ends DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("absences: %w", err)
	}
	defer rows.Close()
	var out []store.Absence
	for rows.Next() {
		var a store.Absence
		var at int64
		if err := rows.Scan(&a.ID, &a.AccountID, &a.Reason, &a.Starts, &a.Ends, &a.DeclaredBy, &at); err != nil {
			return nil, err
		}
		a.DeclaredAt = store.FromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

func insertRequestEvent(tx *sql.Tx, id int64, ev store.RequestEvent) error {
	_, err := tx.Exec(`INSERT INTO request_events (request_id, time, actor, action, detail) VALUES (?,?,?,?,?)`, id, store.Micros(ev.Time), ev.Actor, ev.Action, ev.Detail)
	return err
}

// CreateRequest files a request with its first audit step.
func (s *Store) CreateRequest(ctx context.Context, r *store.Request, ev store.RequestEvent) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`INSERT INTO requests (kind, unit_id, doc_number, doc_date, received_at, deadline, state, reason, filed_by, payload)
			VALUES (?,?,?,?,?,?,?,?,?,?)`, r.Kind, r.UnitID, r.DocNumber, r.DocDate, store.Micros(r.ReceivedAt), r.Deadline, r.State, r.Reason, r.FiledBy, r.Payload)
		if err != nil {
			return fmt.Errorf("create request: %w", err)
		}
		r.ID, _ = res.LastInsertId()
		for _, t := range r.Targets {
			if _, err := tx.Exec(`INSERT OR IGNORE INTO request_targets (request_id, account_id) VALUES (?,?)`, r.ID, t); err != nil {
				return err
			}
		}
		return insertRequestEvent(tx, r.ID, ev)
	})
}

// UpdateRequest stores a request's new state with an audit step.
func (s *Store) UpdateRequest(ctx context.Context, r *store.Request, ev store.RequestEvent) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(`UPDATE requests SET state = ?, reason = ?, handled_by = ?, handled_at = ?, deadline = ?, payload = ? WHERE id = ?`,
			r.State, r.Reason, r.HandledBy, store.Micros(r.HandledAt), r.Deadline, r.Payload, r.ID)); err != nil {
			return err
		}
		for _, t := range r.Targets {
			if _, err := tx.Exec(`INSERT OR IGNORE INTO request_targets (request_id, account_id) VALUES (?,?)`, r.ID, t); err != nil {
				return err
			}
		}
		return insertRequestEvent(tx, r.ID, ev)
	})
}

const requestCols = `id, kind, unit_id, doc_number, doc_date, received_at, deadline, state, reason, filed_by, handled_by, handled_at, payload`

func (s *Store) scanRequests(ctx context.Context, rows *sql.Rows) ([]store.Request, error) {
	defer rows.Close()
	var out []store.Request
	for rows.Next() {
		var r store.Request
		var rec, hand int64
		if err := rows.Scan(&r.ID, &r.Kind, &r.UnitID, &r.DocNumber, &r.DocDate, &rec, &r.Deadline, &r.State, &r.Reason, &r.FiledBy, &r.HandledBy, &hand, &r.Payload); err != nil {
			return nil, err
		}
		r.ReceivedAt, r.HandledAt = store.FromMicros(rec), store.FromMicros(hand)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		trows, err := s.rdb.QueryContext(ctx, `SELECT account_id FROM request_targets WHERE request_id = ? ORDER BY account_id`, out[i].ID)
		if err != nil {
			return nil, err
		}
		for trows.Next() {
			var id int64
			trows.Scan(&id)
			out[i].Targets = append(out[i].Targets, id)
		}
		trows.Close()
	}
	return out, nil
}

// RequestByID reads one request.
func (s *Store) RequestByID(ctx context.Context, id int64) (*store.Request, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+requestCols+` FROM requests WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	rs, err := s.scanRequests(ctx, rows)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, store.ErrNotFound
	}
	return &rs[0], nil
}

// ListRequests lists requests, oldest first.
func (s *Store) ListRequests(ctx context.Context, f store.RequestFilter) ([]store.Request, error) {
	var where []string
	var args []any
	if f.UnitID != 0 {
		where, args = append(where, `unit_id = ?`), append(args, f.UnitID)
	}
	if f.State != "" {
		where, args = append(where, `state = ?`), append(args, f.State)
	}
	if f.Kind != "" {
		where, args = append(where, `kind = ?`), append(args, f.Kind)
	}
	if !f.Since.IsZero() {
		where, args = append(where, `received_at >= ?`), append(args, store.Micros(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, `received_at < ?`), append(args, store.Micros(f.Until))
	}
	q := `SELECT ` + requestCols + ` FROM requests`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := s.rdb.QueryContext(ctx, q+` ORDER BY received_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return s.scanRequests(ctx, rows)
}

// RequestEvents reads a request's audit trail in order.
func (s *Store) RequestEvents(ctx context.Context, id int64) ([]store.RequestEvent, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT time, actor, action, detail FROM request_events WHERE request_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.RequestEvent
	for rows.Next() {
		var e store.RequestEvent
		var t int64
		if err := rows.Scan(&t, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, err
		}
		e.Time = store.FromMicros(t)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PendingRequestFor tells whether a waiting request of kind targets the account.
func (s *Store) PendingRequestFor(ctx context.Context, accountID int64, kind string, since time.Time) (bool, error) {
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM requests r JOIN request_targets t ON t.request_id = r.id
		WHERE t.account_id = ? AND r.kind = ? AND r.state = 'received' AND r.received_at >= ?`, accountID, kind, store.Micros(since)).Scan(&n)
	return n > 0, err
}

// GrantDelegation gives a person access to a unit mailbox.
func (s *Store) GrantDelegation(ctx context.Context, d store.Delegation) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		_, err := tx.Exec(`INSERT INTO delegations (unit_account_id, delegate_id, granted_by, granted_at) VALUES (?,?,?,?)`,
			d.UnitAccountID, d.DelegateID, d.GrantedBy, store.Micros(d.GrantedAt))
		if isUnique(err) || (err != nil && strings.Contains(err.Error(), "PRIMARY KEY")) {
			return store.ErrExists
		}
		if err == nil {
			w.events = append(w.events, store.Event{Kind: store.EventMailboxes, AccountID: d.DelegateID})
		}
		return err
	})
}

// RevokeDelegation removes it; live sessions of the delegate are told (R9.1).
func (s *Store) RevokeDelegation(ctx context.Context, unitAccountID, delegateID int64) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(`DELETE FROM delegations WHERE unit_account_id = ? AND delegate_id = ?`, unitAccountID, delegateID)); err != nil {
			return err
		}
		w.events = append(w.events, store.Event{Kind: store.EventAccess, AccountID: delegateID, MailboxID: unitAccountID})
		return nil
	})
}

func (s *Store) delegations(ctx context.Context, col string, id int64) ([]store.Delegation, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT unit_account_id, delegate_id, granted_by, granted_at FROM delegations WHERE `+col+` = ? ORDER BY granted_at`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Delegation
	for rows.Next() {
		var d store.Delegation
		var at int64
		if err := rows.Scan(&d.UnitAccountID, &d.DelegateID, &d.GrantedBy, &at); err != nil {
			return nil, err
		}
		d.GrantedAt = store.FromMicros(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Delegations lists who may use a unit mailbox.
func (s *Store) Delegations(ctx context.Context, unitAccountID int64) ([]store.Delegation, error) {
	return s.delegations(ctx, "unit_account_id", unitAccountID)
}

// DelegatedTo lists the unit mailboxes a person may use.
func (s *Store) DelegatedTo(ctx context.Context, delegateID int64) ([]store.Delegation, error) {
	return s.delegations(ctx, "delegate_id", delegateID)
}

// MarkNotice records a notice once.
func (s *Store) MarkNotice(ctx context.Context, accountID int64, kind, key string, at time.Time) (bool, error) {
	var first bool
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`INSERT OR IGNORE INTO notices_sent (account_id, kind, key, sent_at) VALUES (?,?,?,?)`, accountID, kind, key, store.Micros(at))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		first = n == 1
		return nil
	})
	return first, err
}

// SetQuota changes an account's quota.
func (s *Store) SetQuota(ctx context.Context, id int64, bytes int64) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`UPDATE accounts SET quota_bytes = ? WHERE id = ? AND state != 'revoked'`, bytes, id))
	})
}

// SetDisplayName changes the name shown for an account.
func (s *Store) SetDisplayName(ctx context.Context, id int64, name string) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`UPDATE accounts SET display_name = ?, name_folded = ? WHERE id = ? AND state != 'revoked'`, name, textfold.Search(name), id))
	})
}

// MoveAccount renames an account's address and unit, keeping the old address
// as an alias.
func (s *Store) MoveAccount(ctx context.Context, id int64, newAddress string, unitID int64, aliasUntil time.Time) error {
	newAddress = strings.ToLower(newAddress)
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var old string
		if err := tx.QueryRow(`SELECT address FROM accounts WHERE id = ? AND state != 'revoked'`, id).Scan(&old); err != nil {
			return store.ErrNotFound
		}
		if old != newAddress {
			if use, err := addressUseTx(tx, newAddress, s.clock.Now()); err != nil {
				return err
			} else if use != store.UseNone {
				return fmt.Errorf("address %s (%s): %w", newAddress, use, store.ErrExists)
			}
		}
		if _, err := tx.Exec(`UPDATE accounts SET address = ?, unit_id = ? WHERE id = ?`, newAddress, store.NullID(unitID), id); err != nil {
			return err
		}
		if old != newAddress {
			if _, err := tx.Exec(`INSERT INTO aliases (address, account_id, until) VALUES (?,?,?)`, old, id, store.Micros(aliasUntil)); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetQuotaWarned is a compare-and-set of the warned level.
func (s *Store) SetQuotaWarned(ctx context.Context, id int64, old, level int) (bool, error) {
	var ok bool
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`UPDATE accounts SET quota_warned = ? WHERE id = ? AND quota_warned = ?`, level, id, old)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}
