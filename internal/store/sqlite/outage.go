package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"govmail/internal/store"
)

var _ store.OutageStore = (*Store)(nil)

// CreateOutage stores an open outage notice with its units and recipients.
func (s *Store) CreateOutage(ctx context.Context, o *store.Outage) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`INSERT INTO outages (what, since, until, published_by, published_at) VALUES (?,?,?,?,?)`,
			o.What, store.Micros(o.Since), store.Micros(o.Until), o.PublishedBy, store.Micros(o.PublishedAt))
		if err != nil {
			return fmt.Errorf("create outage: %w", err)
		}
		id, _ := res.LastInsertId()
		for _, u := range o.UnitIDs {
			if _, err := tx.Exec(`INSERT OR IGNORE INTO outage_units (outage_id, unit_id) VALUES (?,?)`, id, u); err != nil {
				return fmt.Errorf("create outage: %w", err)
			}
		}
		for _, a := range o.Recipients {
			if _, err := tx.Exec(`INSERT OR IGNORE INTO outage_recipients (outage_id, account_id) VALUES (?,?)`, id, a); err != nil {
				return fmt.Errorf("create outage: %w", err)
			}
		}
		o.ID = id
		return nil
	})
}

// CloseOutage closes an open notice.
func (s *Store) CloseOutage(ctx context.Context, id int64, by string, at time.Time, note string) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`UPDATE outages SET closed_by = ?, closed_at = ?, close_note = ? WHERE id = ? AND closed_at = 0`,
			by, store.Micros(at), note, id))
	})
}

const outageCols = `id, what, since, until, published_by, published_at, closed_by, closed_at, close_note`

func (s *Store) outages(ctx context.Context, where string, args ...any) ([]store.Outage, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+outageCols+` FROM outages `+where+` ORDER BY published_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("outages: %w", err)
	}
	var out []store.Outage
	for rows.Next() {
		var o store.Outage
		var since, until, pub, closed int64
		if err := rows.Scan(&o.ID, &o.What, &since, &until, &o.PublishedBy, &pub, &o.ClosedBy, &closed, &o.CloseNote); err != nil {
			rows.Close()
			return nil, fmt.Errorf("outages: %w", err)
		}
		o.Since, o.Until, o.PublishedAt, o.ClosedAt = store.FromMicros(since), store.FromMicros(until), store.FromMicros(pub), store.FromMicros(closed)
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outages: %w", err)
	}
	// Notices are few (one per incident); two small lookups each keep the
	// scanning simple.
	for i := range out {
		if out[i].UnitIDs, err = s.ids(ctx, `SELECT unit_id FROM outage_units WHERE outage_id = ? ORDER BY unit_id`, out[i].ID); err != nil {
			return nil, err
		}
		if out[i].Recipients, err = s.ids(ctx, `SELECT account_id FROM outage_recipients WHERE outage_id = ? ORDER BY account_id`, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) ids(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("outages: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("outages: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// OutageByID reads one notice.
func (s *Store) OutageByID(ctx context.Context, id int64) (*store.Outage, error) {
	os, err := s.outages(ctx, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, store.ErrNotFound
	}
	return &os[0], nil
}

// ListOutages lists notices, newest first.
func (s *Store) ListOutages(ctx context.Context, openOnly bool) ([]store.Outage, error) {
	if openOnly {
		return s.outages(ctx, `WHERE closed_at = 0`)
	}
	return s.outages(ctx, ``)
}

// UnitMailboxes lists the unit mailboxes that are not revoked.
func (s *Store) UnitMailboxes(ctx context.Context) ([]store.Account, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE kind = 'unit' AND state != 'revoked' ORDER BY address`)
	if err != nil {
		return nil, fmt.Errorf("unit mailboxes: %w", err)
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unit mailboxes: %w", err)
	}
	return out, nil
}
