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
)

var _ store.QueueStore = (*Store)(nil)

const queueMsgCols = `id, envelope_from, header_from, message_id, auth_user, client_ip, size, created_at, env_id, ret, utf8, held, hold_reason`
const queueRcptCols = `id, message_id, address, domain, orcpt, notify, state, attempts, next_attempt, last_attempt, last_error, delay_notified`

// querier is what both *sql.Tx and *sql.DB offer, so that the same scans serve
// the writer's transaction (claims) and the readers (listing).
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// Enqueue stores the body once and a row per recipient.
func (s *Store) Enqueue(ctx context.Context, body *store.NewMessage, m *store.QueuedMessage, logs []store.LogEntry) (int64, error) {
	if len(m.Recipients) == 0 {
		return 0, errors.New("enqueue: no recipients")
	}
	pb, err := s.prepareBlob(body)
	if err != nil {
		return 0, err
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.clock.Now()
	}
	m.Size = pb.size
	err = s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		blobID, err := refBlob(tx, pb, 1)
		if err != nil {
			return err
		}
		res, err := tx.Exec(`INSERT INTO queue_messages (blob_id, envelope_from, header_from, message_id, auth_user, client_ip, size,
			created_at, env_id, ret, utf8, held, hold_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			blobID, m.From, m.HeaderFrom, m.MessageID, strings.ToLower(m.AuthUser), m.ClientIP, m.Size,
			store.Micros(m.CreatedAt), m.EnvID, m.Ret, m.UTF8, m.Held, m.HoldReason)
		if err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
		m.ID, _ = res.LastInsertId()
		for i := range m.Recipients {
			r := &m.Recipients[i]
			r.Domain = addrpkg.Domain(r.Address)
			r.State = store.QueueQueued
			if r.NextAttempt.IsZero() {
				r.NextAttempt = m.CreatedAt
			}
			res, err := tx.Exec(`INSERT INTO queue_rcpts (message_id, address, domain, orcpt, notify, state, next_attempt)
				VALUES (?,?,?,?,?,?,?)`, m.ID, r.Address, r.Domain, r.ORcpt, r.Notify, string(r.State), store.Micros(r.NextAttempt))
			if err != nil {
				return fmt.Errorf("enqueue recipient: %w", err)
			}
			r.ID, _ = res.LastInsertId()
		}
		for i := range logs {
			if err := s.insertLog(tx, &logs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return m.ID, nil
}

// ClaimQueue leases due recipients in the writer, so two workers never get the same one.
func (s *Store) ClaimQueue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.QueuedMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []store.QueuedMessage
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		out = nil
		nowU := now.UnixMicro()
		rows, err := tx.Query(`SELECT r.id FROM queue_rcpts r JOIN queue_messages m ON m.id = r.message_id
			WHERE r.state = 'queued' AND r.next_attempt <= ? AND r.lease_until <= ? AND m.held = 0
			ORDER BY r.next_attempt, r.id LIMIT ?`, nowU, nowU, limit)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		var ids []any
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("claim: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		args := append([]any{now.Add(lease).UnixMicro()}, ids...)
		if _, err := tx.Exec(`UPDATE queue_rcpts SET lease_until = ? WHERE id IN (`+in+`)`, args...); err != nil {
			return fmt.Errorf("claim lease: %w", err)
		}
		rcpts, err := scanRcpts(ctx, tx, `SELECT `+queueRcptCols+` FROM queue_rcpts WHERE id IN (`+in+`) ORDER BY message_id, id`, ids...)
		if err != nil {
			return err
		}
		out, err = loadQueueMessages(ctx, tx, rcpts)
		return err
	})
	return out, err
}

type rcptRow struct {
	msgID int64
	r     store.QueueRecipient
}

func scanRcpts(ctx context.Context, q querier, query string, args ...any) ([]rcptRow, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("queue recipients: %w", err)
	}
	defer rows.Close()
	var out []rcptRow
	for rows.Next() {
		var rr rcptRow
		var state string
		var next, last int64
		if err := rows.Scan(&rr.r.ID, &rr.msgID, &rr.r.Address, &rr.r.Domain, &rr.r.ORcpt, &rr.r.Notify, &state,
			&rr.r.Attempts, &next, &last, &rr.r.LastError, &rr.r.DelayNotified); err != nil {
			return nil, fmt.Errorf("queue recipients: %w", err)
		}
		rr.r.State = store.QueueState(state)
		rr.r.NextAttempt, rr.r.LastAttempt = store.FromMicros(next), store.FromMicros(last)
		out = append(out, rr)
	}
	return out, rows.Err()
}

func scanQueueMessage(sc interface{ Scan(...any) error }) (store.QueuedMessage, error) {
	var m store.QueuedMessage
	var created int64
	err := sc.Scan(&m.ID, &m.From, &m.HeaderFrom, &m.MessageID, &m.AuthUser, &m.ClientIP, &m.Size, &created,
		&m.EnvID, &m.Ret, &m.UTF8, &m.Held, &m.HoldReason)
	m.CreatedAt = store.FromMicros(created)
	return m, err
}

// loadQueueMessages attaches rcpts (sorted by message) to their messages, in
// the order of the recipients' first appearance.
func loadQueueMessages(ctx context.Context, q querier, rcpts []rcptRow) ([]store.QueuedMessage, error) {
	var out []store.QueuedMessage
	for _, rr := range rcpts {
		if len(out) == 0 || out[len(out)-1].ID != rr.msgID {
			m, err := scanQueueMessage(q.QueryRowContext(ctx, `SELECT `+queueMsgCols+` FROM queue_messages WHERE id = ?`, rr.msgID))
			if err != nil {
				return nil, fmt.Errorf("queue message %d: %w", rr.msgID, err)
			}
			out = append(out, m)
		}
		last := &out[len(out)-1]
		last.Recipients = append(last.Recipients, rr.r)
	}
	return out, nil
}

// QueueMessage reads one message with all its recipients.
func (s *Store) QueueMessage(ctx context.Context, id int64) (*store.QueuedMessage, error) {
	msgs, err := s.ListQueue(ctx, store.QueueFilter{ID: id})
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, store.ErrNotFound
	}
	return &msgs[0], nil
}

// QueueBody reads the body of a queued message.
func (s *Store) QueueBody(ctx context.Context, id int64) ([]byte, error) {
	var blobID int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT blob_id FROM queue_messages WHERE id = ?`, id).Scan(&blobID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, fmt.Errorf("queue body: %w", err)
	}
	return s.ReadBlob(ctx, blobID)
}

// RecordQueue applies attempt outcomes, writes their log rows and removes
// finished messages, in one transaction.
func (s *Store) RecordQueue(ctx context.Context, updates []store.QueueUpdate, logs []store.LogEntry) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		touched := map[int64]bool{}
		var order []int64
		for _, u := range updates {
			attempted := 0
			last := int64(0)
			if u.Attempted {
				attempted, last = 1, store.Micros(u.LastAttempt)
			}
			var msgID int64
			err := tx.QueryRow(`UPDATE queue_rcpts SET state = ?, attempts = attempts + ?,
				last_attempt = CASE WHEN ? = 1 THEN ? ELSE last_attempt END,
				next_attempt = CASE WHEN ? = 'queued' THEN ? ELSE next_attempt END,
				last_error = CASE WHEN ? = '' THEN last_error ELSE ? END,
				delay_notified = max(delay_notified, ?), lease_until = 0
				WHERE id = ? RETURNING message_id`,
				string(u.State), attempted, attempted, last, string(u.State), store.Micros(u.NextAttempt),
				u.Error, u.Error, u.DelayNotified, u.RecipientID).Scan(&msgID)
			if errors.Is(err, sql.ErrNoRows) {
				continue // dropped by an operator while in flight
			}
			if err != nil {
				return fmt.Errorf("record queue: %w", err)
			}
			if !touched[msgID] {
				touched[msgID] = true
				order = append(order, msgID)
			}
		}
		for _, id := range order {
			var left int
			if err := tx.QueryRow(`SELECT count(*) FROM queue_rcpts WHERE message_id = ? AND state = 'queued'`, id).Scan(&left); err != nil {
				return fmt.Errorf("record queue: %w", err)
			}
			if left == 0 {
				if err := s.deleteQueued(tx, w, id); err != nil {
					return err
				}
			}
		}
		for i := range logs {
			if err := s.insertLog(tx, &logs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) deleteQueued(tx *sql.Tx, w *writeCtx, id int64) error {
	var blobID int64
	if err := tx.QueryRow(`SELECT blob_id FROM queue_messages WHERE id = ?`, id).Scan(&blobID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		return fmt.Errorf("dequeue: %w", err)
	}
	if _, err := tx.Exec(`DELETE FROM queue_rcpts WHERE message_id = ?`, id); err != nil {
		return fmt.Errorf("dequeue: %w", err)
	}
	if _, err := tx.Exec(`DELETE FROM queue_messages WHERE id = ?`, id); err != nil {
		return fmt.Errorf("dequeue: %w", err)
	}
	return s.unrefBlob(tx, w, blobID)
}

// ListQueue lists messages with every recipient, oldest first.
func (s *Store) ListQueue(ctx context.Context, f store.QueueFilter) ([]store.QueuedMessage, error) {
	var where []string
	var args []any
	if f.ID != 0 {
		where = append(where, `id = ?`)
		args = append(args, f.ID)
	}
	if f.AuthUser != "" {
		where = append(where, `auth_user = ?`)
		args = append(args, strings.ToLower(f.AuthUser))
	}
	if f.Domain != "" {
		where = append(where, `id IN (SELECT message_id FROM queue_rcpts WHERE domain = ?)`)
		args = append(args, strings.ToLower(f.Domain))
	}
	if f.Held != nil {
		where = append(where, `held = ?`)
		args = append(args, *f.Held)
	}
	q := `SELECT ` + queueMsgCols + ` FROM queue_messages`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	q += fmt.Sprintf(` ORDER BY created_at, id LIMIT %d`, f.Limit)
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	var out []store.QueuedMessage
	idx := map[int64]int{}
	for rows.Next() {
		m, err := scanQueueMessage(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list queue: %w", err)
		}
		idx[m.ID] = len(out)
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	ids := make([]any, len(out))
	for i, m := range out {
		ids[i] = m.ID
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	rcpts, err := scanRcpts(ctx, tx, `SELECT `+queueRcptCols+` FROM queue_rcpts WHERE message_id IN (`+in+`) ORDER BY id`, ids...)
	if err != nil {
		return nil, err
	}
	for _, rr := range rcpts {
		m := &out[idx[rr.msgID]]
		m.Recipients = append(m.Recipients, rr.r)
	}
	return out, nil
}

// RetryQueue makes queued recipients due now and releases held messages.
func (s *Store) RetryQueue(ctx context.Context, id int64, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		if id != 0 {
			var one int
			if err := tx.QueryRow(`SELECT 1 FROM queue_messages WHERE id = ?`, id).Scan(&one); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return store.ErrNotFound
				}
				return fmt.Errorf("retry: %w", err)
			}
		}
		if _, err := tx.Exec(`UPDATE queue_messages SET held = 0, hold_reason = '' WHERE held = 1 AND (? = 0 OR id = ?)`, id, id); err != nil {
			return fmt.Errorf("retry: %w", err)
		}
		// A live lease is left alone: the worker holding it records its own result.
		res, err := tx.Exec(`UPDATE queue_rcpts SET next_attempt = ? WHERE state = 'queued' AND (? = 0 OR message_id = ?)`,
			now.UnixMicro(), id, id)
		if err != nil {
			return fmt.Errorf("retry: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// DropQueue removes a message without delivering or bouncing it.
func (s *Store) DropQueue(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return s.deleteQueued(tx, w, id)
	})
}

// HoldQueue holds one message, or every still-queued message of authUser.
func (s *Store) HoldQueue(ctx context.Context, id int64, authUser, reason string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		var res sql.Result
		var err error
		if id != 0 {
			res, err = tx.Exec(`UPDATE queue_messages SET held = 1, hold_reason = ? WHERE id = ?`, reason, id)
		} else {
			res, err = tx.Exec(`UPDATE queue_messages SET held = 1, hold_reason = ? WHERE auth_user = ? AND held = 0`,
				reason, strings.ToLower(authUser))
		}
		if err != nil {
			return fmt.Errorf("hold: %w", err)
		}
		n, _ = res.RowsAffected()
		if id != 0 && n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	return int(n), err
}

// QueueStats counts the queue.
func (s *Store) QueueStats(ctx context.Context) (store.QueueStats, error) {
	var st store.QueueStats
	var oldest sql.NullInt64
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(held), 0), min(created_at) FROM queue_messages`).Scan(&st.Messages, &st.Held, &oldest)
	if err != nil {
		return st, fmt.Errorf("queue stats: %w", err)
	}
	if oldest.Valid {
		st.Oldest = store.FromMicros(oldest.Int64)
	}
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM queue_rcpts WHERE state = 'queued'`).Scan(&st.Recipients); err != nil {
		return st, fmt.Errorf("queue stats: %w", err)
	}
	return st, nil
}
