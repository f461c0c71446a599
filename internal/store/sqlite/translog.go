package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"time"

	"govmail/internal/store"
)

// AppendLog writes log rows that belong to no delivery (refusals at RCPT, auth events).
func (s *Store) AppendLog(ctx context.Context, entries []store.LogEntry) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		for i := range entries {
			if err := s.insertLog(tx, &entries[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// SearchLog reads the transaction log, newest first.
func (s *Store) SearchLog(ctx context.Context, f store.LogFilter) ([]store.LogEntry, error) {
	var where []string
	var args []any
	if f.Address != "" {
		where = append(where, `(recipient = ? OR envelope_from = ?)`)
		a := strings.ToLower(f.Address)
		args = append(args, a, a)
	}
	if !f.Since.IsZero() {
		where = append(where, `time >= ?`)
		args = append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		where = append(where, `time < ?`)
		args = append(args, f.Until.UnixMicro())
	}
	if f.Status != "" {
		where = append(where, `status = ?`)
		args = append(args, f.Status)
	}
	if f.ClientIP != "" {
		where = append(where, `client_ip = ?`)
		args = append(args, f.ClientIP)
	}
	if f.MessageID != "" {
		where = append(where, `message_id = ?`)
		args = append(args, f.MessageID)
	}
	if f.AuthUser != "" {
		where = append(where, `auth_user = ?`)
		args = append(args, strings.ToLower(f.AuthUser))
	}
	if f.BeforeID != 0 {
		// Keyset paging in the order of the results (time, then id), so that a
		// page never skips a row whose id and time disagree.
		where = append(where, `(time, id) < (SELECT time, id FROM translog WHERE id = ?)`)
		args = append(args, f.BeforeID)
	}
	q := `SELECT id, time, time_offset, direction, proto, envelope_from, header_from, recipient, client_ip, size, message_id, auth_user, status, error FROM translog`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	// Newest first by time, the order every index on the log ends with.
	q += ` ORDER BY time DESC, id DESC`
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("search log: %w", err)
	}
	defer rows.Close()
	var out []store.LogEntry
	for rows.Next() {
		var e store.LogEntry
		var t int64
		var off int
		if err := rows.Scan(&e.ID, &t, &off, &e.Direction, &e.Proto, &e.EnvelopeFrom, &e.HeaderFrom, &e.Recipient, &e.ClientIP,
			&e.Size, &e.MessageID, &e.AuthUser, &e.Status, &e.Error); err != nil {
			return nil, err
		}
		e.Time = time.UnixMicro(t).In(time.FixedZone("", off))
		out = append(out, e)
	}
	return out, rows.Err()
}

// Check runs SQLite's integrity check and verifies that every blob file exists
// and every body hashes to its name.
func (s *Store) Check(ctx context.Context) error {
	var res string
	if err := s.rdb.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	var bad int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM messages m LEFT JOIN blobs b ON b.id = m.blob_id WHERE b.id IS NULL`).Scan(&bad); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("integrity check: %d messages without a body", bad)
	}
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM blobs b WHERE refs != (SELECT count(*) FROM messages WHERE blob_id = b.id)
		+ (SELECT count(*) FROM queue_messages WHERE blob_id = b.id)`).Scan(&bad); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("integrity check: %d blobs with a wrong reference count", bad)
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT hash, size FROM blobs WHERE in_file = 1`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var hash []byte
		var size int64
		if err := rows.Scan(&hash, &size); err != nil {
			return err
		}
		fi, err := os.Stat(s.blobPath(hash))
		if err != nil || fi.Size() != size {
			return fmt.Errorf("integrity check: blob file %x missing or truncated", hash)
		}
	}
	return rows.Err()
}

// PurgeLogs deletes old log rows in batches.
func (s *Store) PurgeLogs(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	var n int
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		n = 0
		for _, t := range []string{"translog", "auth_log", "audit_log"} {
			res, err := tx.Exec(`DELETE FROM `+t+` WHERE id IN (SELECT id FROM `+t+` WHERE time < ? ORDER BY time LIMIT ?)`, cutoff.UnixMicro(), batch)
			if err != nil {
				return fmt.Errorf("purge %s: %w", t, err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, err
}
