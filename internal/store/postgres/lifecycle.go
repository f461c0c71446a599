package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"govmail/internal/store"
	"govmail/internal/textfold"
)

// LockAccount locks an active account.
func (s *Store) LockAccount(ctx context.Context, id int64, reason string, info store.LockInfo) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(ctx, `UPDATE accounts SET state = 'locked', lock_reason = $1, locked_at = $2, lock_note = $3, locked_by = $4
			WHERE id = $5 AND state = 'active'`, reason, store.Micros(info.LockedAt), clean(info.Note), clean(info.LockedBy), id)); err != nil {
			return err
		}
		w.events = append(w.events, store.Event{Kind: store.EventAccess, AccountID: id})
		return nil
	})
}

// RestoreAccount reactivates a locked account with a one-time password.
func (s *Store) RestoreAccount(ctx context.Context, id int64, hash string, at time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(ctx, `UPDATE accounts SET state = 'active', lock_reason = '', locked_at = 0, lock_note = '', locked_by = '',
			restored_at = $1, password_hash = $2, must_change = true, password_set_at = $1 WHERE id = $3 AND state = 'locked'`,
			store.Micros(at), hash, id)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO password_history (account_id, hash, set_at) VALUES ($1,$2,$3)`, id, hash, store.Micros(at))
		return err
	})
}

func queryIDs(ctx context.Context, tx pgx.Tx, q string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// RevokeAccount deletes the mailbox's content, credentials, delegations and
// aliases in one transaction; the account row stays as the record (R7.4).
func (s *Store) RevokeAccount(ctx context.Context, id int64, at, reusableFrom time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if err := lockNamespace(ctx, tx); err != nil {
			return err
		}
		var addr, state string
		if err := tx.QueryRow(ctx, `SELECT address, state FROM accounts WHERE id = $1 FOR UPDATE`, id).Scan(&addr, &state); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		if state == string(store.StateRevoked) {
			return store.ErrNotFound
		}
		mbs, err := queryIDs(ctx, tx, `SELECT id FROM mailboxes WHERE account_id = $1 ORDER BY id`, id)
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		for _, m := range mbs {
			if _, err := s.expungeTx(ctx, tx, w, m, nil, true); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT address FROM aliases WHERE account_id = $1`, id)
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		aliases, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		released := append([]string{addr}, aliases...)
		delegates, err := queryIDs(ctx, tx, `SELECT delegate_id FROM delegations WHERE unit_account_id = $1`, id)
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		for _, q := range []string{
			`DELETE FROM mailboxes WHERE account_id = $1`,
			`DELETE FROM password_history WHERE account_id = $1`,
			`DELETE FROM delegations WHERE unit_account_id = $1 OR delegate_id = $1`,
			`DELETE FROM aliases WHERE account_id = $1`,
			`DELETE FROM absences WHERE account_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return fmt.Errorf("revoke: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET state = 'revoked', revoked_at = $1, revoked_address = address,
			address = address || '#revoked-' || id, password_hash = '', must_change = false, used_bytes = 0 WHERE id = $2`, store.Micros(at), id); err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		for _, a := range released {
			if _, err := tx.Exec(ctx, releaseSQL, a, store.Micros(at), store.Micros(reusableFrom)); err != nil {
				return fmt.Errorf("revoke: %w", err)
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
	var a args
	if len(states) > 0 {
		ss := make([]string, len(states))
		for i, st := range states {
			ss[i] = string(st)
		}
		q += ` WHERE state = ANY(` + a.add(ss) + `)`
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY id`, a...)
	if err != nil {
		return nil, fmt.Errorf("account lives: %w", err)
	}
	defer rows.Close()
	var out []store.AccountLife
	for rows.Next() {
		var l store.AccountLife
		var lockedAt, restoredAt int64
		acc, err := scanAccount(rows, &lockedAt, &l.Note, &l.LockedBy, &restoredAt)
		if err != nil {
			return nil, err
		}
		l.Account = *acc
		l.LockedAt, l.RestoredAt = store.FromMicros(lockedAt), store.FromMicros(restoredAt)
		out = append(out, l)
	}
	return out, rows.Err()
}

// AddAbsence records a declared absence.
func (s *Store) AddAbsence(ctx context.Context, a *store.Absence) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		err := tx.QueryRow(ctx, `INSERT INTO absences (account_id, reason, starts, ends, declared_by, declared_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`,
			a.AccountID, clean(a.Reason), a.Starts, a.Ends, a.DeclaredBy, store.Micros(a.DeclaredAt)).Scan(&a.ID)
		if err != nil {
			return fmt.Errorf("absence: %w", err)
		}
		return nil
	})
}

// Absences lists an account's absences, latest end first.
func (s *Store) Absences(ctx context.Context, accountID int64) ([]store.Absence, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, account_id, reason, starts, ends, declared_by, declared_at FROM absences WHERE account_id = $1 ORDER BY ends DESC, id`, accountID)
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

func insertRequestEvent(ctx context.Context, tx pgx.Tx, id int64, ev store.RequestEvent) error {
	_, err := tx.Exec(ctx, `INSERT INTO request_events (request_id, time, actor, action, detail) VALUES ($1,$2,$3,$4,$5)`,
		id, store.Micros(ev.Time), clean(ev.Actor), clean(ev.Action), clean(ev.Detail))
	return err
}

func insertRequestTargets(ctx context.Context, tx pgx.Tx, id int64, targets []int64) error {
	if len(targets) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO request_targets (request_id, account_id) SELECT $1, t FROM unnest($2::bigint[]) AS t
		ON CONFLICT DO NOTHING`, id, targets)
	return err
}

// CreateRequest files a request with its first audit step.
func (s *Store) CreateRequest(ctx context.Context, r *store.Request, ev store.RequestEvent) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		err := tx.QueryRow(ctx, `INSERT INTO requests (kind, unit_id, doc_number, doc_date, received_at, deadline, state, reason, filed_by, payload)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`, r.Kind, r.UnitID, clean(r.DocNumber), r.DocDate, store.Micros(r.ReceivedAt),
			r.Deadline, r.State, clean(r.Reason), r.FiledBy, clean(r.Payload)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("create request: %w", err)
		}
		if err := insertRequestTargets(ctx, tx, r.ID, r.Targets); err != nil {
			return fmt.Errorf("create request: %w", err)
		}
		return insertRequestEvent(ctx, tx, r.ID, ev)
	})
}

// UpdateRequest stores a request's new state with an audit step.
func (s *Store) UpdateRequest(ctx context.Context, r *store.Request, ev store.RequestEvent) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(ctx, `UPDATE requests SET state = $1, reason = $2, handled_by = $3, handled_at = $4, deadline = $5, payload = $6 WHERE id = $7`,
			r.State, clean(r.Reason), r.HandledBy, store.Micros(r.HandledAt), r.Deadline, clean(r.Payload), r.ID)); err != nil {
			return err
		}
		if err := insertRequestTargets(ctx, tx, r.ID, r.Targets); err != nil {
			return fmt.Errorf("update request: %w", err)
		}
		return insertRequestEvent(ctx, tx, r.ID, ev)
	})
}

const requestCols = `id, kind, unit_id, doc_number, doc_date, received_at, deadline, state, reason, filed_by, handled_by, handled_at, payload`

func (s *Store) scanRequests(ctx context.Context, rows pgx.Rows) ([]store.Request, error) {
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
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]int64, len(out))
	idx := make(map[int64]int, len(out))
	for i, r := range out {
		ids[i], idx[r.ID] = r.ID, i
	}
	trows, err := s.pool.Query(ctx, `SELECT request_id, account_id FROM request_targets WHERE request_id = ANY($1) ORDER BY request_id, account_id`, ids)
	if err != nil {
		return nil, err
	}
	defer trows.Close()
	for trows.Next() {
		var rid, aid int64
		if err := trows.Scan(&rid, &aid); err != nil {
			return nil, err
		}
		out[idx[rid]].Targets = append(out[idx[rid]].Targets, aid)
	}
	return out, trows.Err()
}

// RequestByID reads one request.
func (s *Store) RequestByID(ctx context.Context, id int64) (*store.Request, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+requestCols+` FROM requests WHERE id = $1`, id)
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
	var a args
	if f.UnitID != 0 {
		where = append(where, `unit_id = `+a.add(f.UnitID))
	}
	if f.State != "" {
		where = append(where, `state = `+a.add(f.State))
	}
	if f.Kind != "" {
		where = append(where, `kind = `+a.add(f.Kind))
	}
	if !f.Since.IsZero() {
		where = append(where, `received_at >= `+a.add(store.Micros(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, `received_at < `+a.add(store.Micros(f.Until)))
	}
	q := `SELECT ` + requestCols + ` FROM requests`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY received_at, id`, a...)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return s.scanRequests(ctx, rows)
}

// RequestEvents reads a request's audit trail in order.
func (s *Store) RequestEvents(ctx context.Context, id int64) ([]store.RequestEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT time, actor, action, detail FROM request_events WHERE request_id = $1 ORDER BY id`, id)
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
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM requests r JOIN request_targets t ON t.request_id = r.id
		WHERE t.account_id = $1 AND r.kind = $2 AND r.state = 'received' AND r.received_at >= $3)`, accountID, kind, store.Micros(since)).Scan(&ok)
	return ok, err
}

// GrantDelegation gives a person access to a unit mailbox.
func (s *Store) GrantDelegation(ctx context.Context, d store.Delegation) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO delegations (unit_account_id, delegate_id, granted_by, granted_at) VALUES ($1,$2,$3,$4)
			ON CONFLICT DO NOTHING`, d.UnitAccountID, d.DelegateID, d.GrantedBy, store.Micros(d.GrantedAt))
		if err != nil {
			if isForeignKey(err) {
				return fmt.Errorf("delegation: %w", store.ErrNotFound)
			}
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrExists
		}
		w.events = append(w.events, store.Event{Kind: store.EventMailboxes, AccountID: d.DelegateID})
		return nil
	})
}

// RevokeDelegation removes it; live sessions of the delegate are told (R9.1).
func (s *Store) RevokeDelegation(ctx context.Context, unitAccountID, delegateID int64) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if err := expectOne(tx.Exec(ctx, `DELETE FROM delegations WHERE unit_account_id = $1 AND delegate_id = $2`, unitAccountID, delegateID)); err != nil {
			return err
		}
		w.events = append(w.events, store.Event{Kind: store.EventAccess, AccountID: delegateID, MailboxID: unitAccountID})
		return nil
	})
}

func (s *Store) delegations(ctx context.Context, col string, id int64) ([]store.Delegation, error) {
	rows, err := s.pool.Query(ctx, `SELECT unit_account_id, delegate_id, granted_by, granted_at FROM delegations WHERE `+col+` = $1 ORDER BY granted_at`, id)
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
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO notices_sent (account_id, kind, key, sent_at) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING`,
			accountID, kind, key, store.Micros(at))
		if err != nil {
			return err
		}
		first = tag.RowsAffected() == 1
		return nil
	})
	return first, err
}

// SetQuota changes an account's quota.
func (s *Store) SetQuota(ctx context.Context, id int64, bytes int64) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(ctx, `UPDATE accounts SET quota_bytes = $1 WHERE id = $2 AND state != 'revoked'`, bytes, id))
	})
}

// SetDisplayName changes the name shown for an account.
func (s *Store) SetDisplayName(ctx context.Context, id int64, name string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(ctx, `UPDATE accounts SET display_name = $1, name_folded = $2 WHERE id = $3 AND state != 'revoked'`, name, textfold.Search(name), id))
	})
}

// MoveAccount renames an account's address and unit, keeping the old address
// as an alias.
func (s *Store) MoveAccount(ctx context.Context, id int64, newAddress string, unitID int64, aliasUntil time.Time) error {
	newAddress = strings.ToLower(newAddress)
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if err := lockNamespace(ctx, tx); err != nil {
			return err
		}
		var old string
		if err := tx.QueryRow(ctx, `SELECT address FROM accounts WHERE id = $1 AND state != 'revoked' FOR UPDATE`, id).Scan(&old); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		if old != newAddress {
			if use, err := addressUse(ctx, tx, newAddress, s.clock.Now()); err != nil {
				return err
			} else if use != store.UseNone {
				return fmt.Errorf("address %s (%s): %w", newAddress, use, store.ErrExists)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET address = $1, unit_id = $2 WHERE id = $3`, newAddress, store.NullID(unitID), id); err != nil {
			return err
		}
		if old != newAddress {
			if _, err := tx.Exec(ctx, `INSERT INTO aliases (address, account_id, until) VALUES ($1,$2,$3)`, old, id, store.Micros(aliasUntil)); err != nil {
				if isUnique(err) {
					return fmt.Errorf("alias %s: %w", old, store.ErrExists)
				}
				return err
			}
		}
		return nil
	})
}

// SetQuotaWarned is a compare-and-set of the warned level.
func (s *Store) SetQuotaWarned(ctx context.Context, id int64, old, level int) (bool, error) {
	var ok bool
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		tag, err := tx.Exec(ctx, `UPDATE accounts SET quota_warned = $1 WHERE id = $2 AND quota_warned = $3`, level, id, old)
		if err != nil {
			return err
		}
		ok = tag.RowsAffected() == 1
		return nil
	})
	return ok, err
}
