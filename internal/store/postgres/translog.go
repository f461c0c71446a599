package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"govmail/internal/store"
)

// AppendLog writes log rows that belong to no delivery (refusals at RCPT, auth events).
func (s *Store) AppendLog(ctx context.Context, entries []store.LogEntry) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		for i := range entries {
			if err := s.insertLog(ctx, tx, &entries[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// SearchLog reads the transaction log, newest first.
func (s *Store) SearchLog(ctx context.Context, f store.LogFilter) ([]store.LogEntry, error) {
	var where []string
	var a args
	if f.Address != "" {
		p := a.add(strings.ToLower(f.Address))
		where = append(where, `(recipient = `+p+` OR envelope_from = `+p+`)`)
	}
	if !f.Since.IsZero() {
		where = append(where, `time >= `+a.add(f.Since.UnixMicro()))
	}
	if !f.Until.IsZero() {
		where = append(where, `time < `+a.add(f.Until.UnixMicro()))
	}
	if f.Status != "" {
		where = append(where, `status = `+a.add(f.Status))
	}
	if f.ClientIP != "" {
		where = append(where, `client_ip = `+a.add(f.ClientIP))
	}
	if f.MessageID != "" {
		where = append(where, `message_id = `+a.add(f.MessageID))
	}
	if f.AuthUser != "" {
		where = append(where, `auth_user = `+a.add(strings.ToLower(f.AuthUser)))
	}
	if f.BeforeID != 0 {
		// Keyset paging in the order of the results (time, then id), as the
		// SQLite store does: ids follow insertion, not time, so "id <" skipped
		// or ended pages whenever the two disagreed.
		where = append(where, `(time, id) < (SELECT time, id FROM translog WHERE id = `+a.add(f.BeforeID)+`)`)
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
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, fmt.Errorf("search log: %w", err)
	}
	defer rows.Close()
	var out []store.LogEntry
	for rows.Next() {
		var e store.LogEntry
		var t int64
		var off int32
		if err := rows.Scan(&e.ID, &t, &off, &e.Direction, &e.Proto, &e.EnvelopeFrom, &e.HeaderFrom, &e.Recipient, &e.ClientIP,
			&e.Size, &e.MessageID, &e.AuthUser, &e.Status, &e.Error); err != nil {
			return nil, err
		}
		e.Time = time.UnixMicro(t).In(time.FixedZone("", int(off)))
		out = append(out, e)
	}
	return out, rows.Err()
}

// Check verifies what the schema cannot: every blob's reference count is the
// number of messages and queued messages holding it, every body has the size
// recorded for it, and no mailbox would hand out a UID it has used. Bodies'
// hashes are verified by `govmail migrate`, which reads them all anyway.
func (s *Store) Check(ctx context.Context) error {
	var bad int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM messages m LEFT JOIN blobs b ON b.id = m.blob_id WHERE b.id IS NULL`).Scan(&bad); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if bad > 0 {
		return fmt.Errorf("integrity check: %d messages without a body", bad)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM blobs b WHERE refs !=
		(SELECT count(*) FROM messages WHERE blob_id = b.id) + (SELECT count(*) FROM queue_messages WHERE blob_id = b.id)`).Scan(&bad); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if bad > 0 {
		return fmt.Errorf("integrity check: %d blobs with a wrong reference count", bad)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM blobs WHERE octet_length(data) != size`).Scan(&bad); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if bad > 0 {
		return fmt.Errorf("integrity check: %d bodies truncated", bad)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM mailboxes mb WHERE uidnext <= (SELECT max(uid) FROM messages WHERE mailbox_id = mb.id)`).Scan(&bad); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if bad > 0 {
		return fmt.Errorf("integrity check: %d mailboxes with UIDNEXT not above their UIDs", bad)
	}
	return nil
}

// PurgeLogs deletes old log rows in batches.
func (s *Store) PurgeLogs(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	var n int
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		n = 0
		for _, t := range []string{"translog", "auth_log", "audit_log"} {
			tag, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE id IN (SELECT id FROM `+t+` WHERE time < $1 ORDER BY time LIMIT $2)`, cutoff.UnixMicro(), batch)
			if err != nil {
				return fmt.Errorf("purge %s: %w", t, err)
			}
			n += int(tag.RowsAffected())
		}
		return nil
	})
	return n, err
}
