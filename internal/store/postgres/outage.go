package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"govmail/internal/store"
)

var _ store.OutageStore = (*Store)(nil)

// CreateOutage stores an open outage notice with its units and recipients.
func (s *Store) CreateOutage(ctx context.Context, o *store.Outage) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO outages (what, since, until, published_by, published_at) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
			clean(o.What), store.Micros(o.Since), store.Micros(o.Until), o.PublishedBy, store.Micros(o.PublishedAt)).Scan(&id)
		if err != nil {
			return fmt.Errorf("create outage: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO outage_units (outage_id, unit_id) SELECT $1, u FROM unnest($2::bigint[]) AS u ON CONFLICT DO NOTHING`,
			id, o.UnitIDs); err != nil {
			return fmt.Errorf("create outage: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO outage_recipients (outage_id, account_id) SELECT $1, a FROM unnest($2::bigint[]) AS a ON CONFLICT DO NOTHING`,
			id, o.Recipients); err != nil {
			return fmt.Errorf("create outage: %w", err)
		}
		o.ID = id
		return nil
	})
}

// CloseOutage closes an open notice.
func (s *Store) CloseOutage(ctx context.Context, id int64, by string, at time.Time, note string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(ctx, `UPDATE outages SET closed_by = $1, closed_at = $2, close_note = $3 WHERE id = $4 AND closed_at = 0`,
			by, store.Micros(at), clean(note), id))
	})
}

// outages reads notices with their units and recipients (arrays, so one
// query however many notices).
func (s *Store) outages(ctx context.Context, where string, args ...any) ([]store.Outage, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, what, since, until, published_by, published_at, closed_by, closed_at, close_note,
		ARRAY(SELECT unit_id FROM outage_units WHERE outage_id = o.id ORDER BY unit_id),
		ARRAY(SELECT account_id FROM outage_recipients WHERE outage_id = o.id ORDER BY account_id)
		FROM outages o `+where+` ORDER BY published_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("outages: %w", err)
	}
	defer rows.Close()
	var out []store.Outage
	for rows.Next() {
		var o store.Outage
		var since, until, pub, closed int64
		if err := rows.Scan(&o.ID, &o.What, &since, &until, &o.PublishedBy, &pub, &o.ClosedBy, &closed, &o.CloseNote, &o.UnitIDs, &o.Recipients); err != nil {
			return nil, fmt.Errorf("outages: %w", err)
		}
		o.Since, o.Until, o.PublishedAt, o.ClosedAt = store.FromMicros(since), store.FromMicros(until), store.FromMicros(pub), store.FromMicros(closed)
		// SQLite's lists are nil when empty.
		if len(o.UnitIDs) == 0 {
			o.UnitIDs = nil
		}
		if len(o.Recipients) == 0 {
			o.Recipients = nil
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// OutageByID reads one notice.
func (s *Store) OutageByID(ctx context.Context, id int64) (*store.Outage, error) {
	os, err := s.outages(ctx, `WHERE id = $1`, id)
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
	rows, err := s.pool.Query(ctx, `SELECT `+accountCols+` FROM accounts WHERE kind = 'unit' AND state != 'revoked' ORDER BY address`)
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
	return out, rows.Err()
}
