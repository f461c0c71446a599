package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"govmail/internal/store"
)

var _ store.AuthReportStore = (*Store)(nil)

// AddAuthEvents adds to report counts.
func (s *Store) AddAuthEvents(ctx context.Context, events []store.AuthEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		for _, e := range events {
			_, err := tx.Exec(`INSERT INTO auth_event_counts (kind, day, domain, key, count) VALUES (?,?,?,?,?)
				ON CONFLICT (kind, day, domain, key) DO UPDATE SET count = count + excluded.count`, e.Kind, e.Day, e.Domain, e.Key, e.Count)
			if err != nil {
				return fmt.Errorf("add auth events: %w", err)
			}
		}
		return nil
	})
}

// AuthEventCounts lists a day's counts.
func (s *Store) AuthEventCounts(ctx context.Context, kind, day string) ([]store.AuthEventCount, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT domain, key, count FROM auth_event_counts WHERE kind = ? AND day = ? ORDER BY domain, key`, kind, day)
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
	rows, err := s.rdb.QueryContext(ctx, `SELECT DISTINCT day FROM auth_event_counts WHERE kind = ? AND day < ? ORDER BY day`, kind, before)
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

// ClaimAuthReport records a report as being sent, once.
func (s *Store) ClaimAuthReport(ctx context.Context, kind, day, domain string) (bool, error) {
	claimed := false
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`INSERT OR IGNORE INTO auth_reports_sent (kind, day, domain) VALUES (?,?,?)`, kind, day, domain)
		if err != nil {
			return fmt.Errorf("claim auth report: %w", err)
		}
		n, _ := res.RowsAffected()
		claimed = n == 1
		return nil
	})
	return claimed, err
}

// UnclaimAuthReport takes a claim back.
func (s *Store) UnclaimAuthReport(ctx context.Context, kind, day, domain string) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		_, err := tx.Exec(`DELETE FROM auth_reports_sent WHERE kind = ? AND day = ? AND domain = ?`, kind, day, domain)
		return err
	})
}

// PurgeAuthEvents deletes counts and claims older than before.
func (s *Store) PurgeAuthEvents(ctx context.Context, before string) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`DELETE FROM auth_event_counts WHERE day < ?`, before)
		if err != nil {
			return fmt.Errorf("purge auth events: %w", err)
		}
		n, _ = res.RowsAffected()
		_, err = tx.Exec(`DELETE FROM auth_reports_sent WHERE day < ?`, before)
		return err
	})
	return n, err
}

// SaveReceivedReport stores a parsed report.
func (s *Store) SaveReceivedReport(ctx context.Context, r *store.ReceivedReport) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`INSERT INTO received_reports (kind, org, report_id, domain, begin_at, end_at, received_at, total, failed, body)
			VALUES (?,?,?,?,?,?,?,?,?,?)`, r.Kind, r.Org, r.ReportID, r.Domain, store.Micros(r.Begin), store.Micros(r.End),
			store.Micros(r.ReceivedAt), r.Total, r.Failed, r.Body)
		if isUnique(err) {
			return store.ErrExists
		}
		if err != nil {
			return fmt.Errorf("save received report: %w", err)
		}
		r.ID, err = res.LastInsertId()
		return err
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
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+receivedCols+` FROM received_reports WHERE ? = '' OR kind = ?
		ORDER BY end_at DESC, id DESC LIMIT ?`, kind, kind, limit)
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
	r, err := scanReceived(s.rdb.QueryRowContext(ctx, `SELECT `+receivedCols+` FROM received_reports WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("received report: %w", err)
	}
	return &r, nil
}
