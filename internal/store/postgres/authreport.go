package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"govmail/internal/store"
)

var _ store.AuthReportStore = (*Store)(nil)

// AddAuthEvents adds to report counts; nodes add into the same rows.
func (s *Store) AddAuthEvents(ctx context.Context, events []store.AuthEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		for _, e := range events {
			_, err := tx.Exec(ctx, `INSERT INTO auth_event_counts (kind, day, domain, key, count) VALUES ($1,$2,$3,$4,$5)
				ON CONFLICT (kind, day, domain, key) DO UPDATE SET count = auth_event_counts.count + excluded.count`,
				e.Kind, e.Day, clean(e.Domain), clean(e.Key), e.Count)
			if err != nil {
				return fmt.Errorf("add auth events: %w", err)
			}
		}
		return nil
	})
}

// AuthEventCounts lists a day's counts.
func (s *Store) AuthEventCounts(ctx context.Context, kind, day string) ([]store.AuthEventCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT domain, key, count FROM auth_event_counts WHERE kind = $1 AND day = $2 ORDER BY domain, key`, kind, day)
	if err != nil {
		return nil, fmt.Errorf("auth event counts: %w", err)
	}
	defer rows.Close()
	var out []store.AuthEventCount
	for rows.Next() {
		var c store.AuthEventCount
		if err := rows.Scan(&c.Domain, &c.Key, &c.Count); err != nil {
			return nil, fmt.Errorf("auth event counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AuthEventDays lists the days with counts before before.
func (s *Store) AuthEventDays(ctx context.Context, kind, before string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT day FROM auth_event_counts WHERE kind = $1 AND day < $2 ORDER BY day`, kind, before)
	if err != nil {
		return nil, fmt.Errorf("auth event days: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("auth event days: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ClaimAuthReport records a report as being sent, once across nodes.
func (s *Store) ClaimAuthReport(ctx context.Context, kind, day, domain string) (bool, error) {
	claimed := false
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO auth_reports_sent (kind, day, domain) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`, kind, day, domain)
		if err != nil {
			return fmt.Errorf("claim auth report: %w", err)
		}
		claimed = tag.RowsAffected() == 1
		return nil
	})
	return claimed, err
}

// UnclaimAuthReport takes a claim back.
func (s *Store) UnclaimAuthReport(ctx context.Context, kind, day, domain string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		_, err := tx.Exec(ctx, `DELETE FROM auth_reports_sent WHERE kind = $1 AND day = $2 AND domain = $3`, kind, day, domain)
		return err
	})
}

// PurgeAuthEvents deletes counts and claims older than before.
func (s *Store) PurgeAuthEvents(ctx context.Context, before string) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM auth_event_counts WHERE day < $1`, before)
		if err != nil {
			return fmt.Errorf("purge auth events: %w", err)
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM auth_reports_sent WHERE day < $1`, before)
		return err
	})
	return n, err
}

// SaveReceivedReport stores a parsed report.
func (s *Store) SaveReceivedReport(ctx context.Context, r *store.ReceivedReport) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		err := tx.QueryRow(ctx, `INSERT INTO received_reports (kind, org, report_id, domain, begin_at, end_at, received_at, total, failed, body)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (kind, org, report_id) DO NOTHING RETURNING id`,
			r.Kind, clean(r.Org), clean(r.ReportID), clean(r.Domain), store.Micros(r.Begin), store.Micros(r.End),
			store.Micros(r.ReceivedAt), r.Total, r.Failed, clean(r.Body)).Scan(&r.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrExists
		}
		if err != nil {
			return fmt.Errorf("save received report: %w", err)
		}
		return nil
	})
}

const receivedCols = `id, kind, org, report_id, domain, begin_at, end_at, received_at, total, failed, body`

func scanReceived(sc interface{ Scan(...any) error }) (store.ReceivedReport, error) {
	var r store.ReceivedReport
	var b, e, at int64
	err := sc.Scan(&r.ID, &r.Kind, &r.Org, &r.ReportID, &r.Domain, &b, &e, &at, &r.Total, &r.Failed, &r.Body)
	r.Begin, r.End, r.ReceivedAt = store.FromMicros(b), store.FromMicros(e), store.FromMicros(at)
	return r, err
}

// ReceivedReports lists received reports, newest period first.
func (s *Store) ReceivedReports(ctx context.Context, kind string, limit int) ([]store.ReceivedReport, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+receivedCols+` FROM received_reports WHERE $1 = '' OR kind = $1
		ORDER BY end_at DESC, id DESC LIMIT $2`, kind, limit)
	if err != nil {
		return nil, fmt.Errorf("received reports: %w", err)
	}
	defer rows.Close()
	var out []store.ReceivedReport
	for rows.Next() {
		r, err := scanReceived(rows)
		if err != nil {
			return nil, fmt.Errorf("received reports: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReceivedReportByID reads one received report.
func (s *Store) ReceivedReportByID(ctx context.Context, id int64) (*store.ReceivedReport, error) {
	r, err := scanReceived(s.pool.QueryRow(ctx, `SELECT `+receivedCols+` FROM received_reports WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("received report: %w", err)
	}
	return &r, nil
}
