package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	addrpkg "govmail/internal/address"
	"govmail/internal/store"
)

const queueMsgCols = `id, envelope_from, header_from, message_id, auth_user, client_ip, size, created_at, env_id, ret, utf8, held, hold_reason`
const queueRcptCols = `id, message_id, address, domain, orcpt, notify, state, attempts, next_attempt, last_attempt, last_error, delay_notified`

// Enqueue stores the body once and a row per recipient.
func (s *Store) Enqueue(ctx context.Context, body *store.NewMessage, m *store.QueuedMessage, logs []store.LogEntry) (int64, error) {
	if len(m.Recipients) == 0 {
		return 0, errors.New("enqueue: no recipients")
	}
	pb := prepareBlob(body)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.clock.Now()
	}
	m.Size = pb.size
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		blobID, err := refBlob(ctx, tx, pb, 1)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO queue_messages (blob_id, envelope_from, header_from, message_id, auth_user, client_ip, size,
			created_at, env_id, ret, utf8, held, hold_reason) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id`,
			blobID, clean(m.From), clean(m.HeaderFrom), clean(m.MessageID), clean(strings.ToLower(m.AuthUser)), clean(m.ClientIP), m.Size,
			store.Micros(m.CreatedAt), clean(m.EnvID), clean(m.Ret), m.UTF8, m.Held, clean(m.HoldReason)).Scan(&m.ID)
		if err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
		addrs := make([]string, len(m.Recipients))
		domains := make([]string, len(m.Recipients))
		orcpts := make([]string, len(m.Recipients))
		notifies := make([]string, len(m.Recipients))
		nexts := make([]int64, len(m.Recipients))
		for i := range m.Recipients {
			r := &m.Recipients[i]
			r.Domain = addrpkg.Domain(r.Address)
			r.State = store.QueueQueued
			if r.NextAttempt.IsZero() {
				r.NextAttempt = m.CreatedAt
			}
			addrs[i], domains[i], orcpts[i], notifies[i], nexts[i] = clean(r.Address), clean(r.Domain), clean(r.ORcpt), clean(r.Notify), store.Micros(r.NextAttempt)
		}
		// The identity values are drawn row by row in the SELECT's order, so
		// the ids sorted pair with the recipients by position (RETURNING itself
		// promises no order).
		rows, err := tx.Query(ctx, `INSERT INTO queue_rcpts (message_id, address, domain, orcpt, notify, state, next_attempt)
			SELECT $1, r.address, r.domain, r.orcpt, r.notify, 'queued', r.next
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) WITH ORDINALITY AS r(address, domain, orcpt, notify, next, ord)
			ORDER BY r.ord RETURNING id`, m.ID, addrs, domains, orcpts, notifies, nexts)
		if err != nil {
			return fmt.Errorf("enqueue recipient: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("enqueue recipient: %w", err)
		}
		if len(ids) != len(m.Recipients) {
			return fmt.Errorf("enqueue recipient: %d rows for %d recipients", len(ids), len(m.Recipients))
		}
		slices.Sort(ids)
		for i := range ids {
			m.Recipients[i].ID = ids[i]
		}
		for i := range logs {
			if err := s.insertLog(ctx, tx, &logs[i]); err != nil {
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

// ClaimQueue leases due recipients. FOR UPDATE SKIP LOCKED lets every node's
// workers claim at once without waiting on each other, and a row another
// claimer leased meanwhile fails the lease condition when it is re-checked
// under its lock, so a recipient is never leased twice.
func (s *Store) ClaimQueue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.QueuedMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []store.QueuedMessage
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		out = nil
		nowU := now.UnixMicro()
		rows, err := tx.Query(ctx, `UPDATE queue_rcpts SET lease_until = $3 WHERE id IN (
				SELECT r.id FROM queue_rcpts r JOIN queue_messages m ON m.id = r.message_id
				WHERE r.state = 'queued' AND r.next_attempt <= $1 AND r.lease_until <= $1 AND NOT m.held
				ORDER BY r.next_attempt, r.id LIMIT $2
				FOR UPDATE OF r SKIP LOCKED)
			RETURNING `+queueRcptCols, nowU, limit, now.Add(lease).UnixMicro())
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		rcpts, err := collectRcpts(rows)
		if err != nil {
			return err
		}
		if len(rcpts) == 0 {
			return nil
		}
		// RETURNING has no order: recipients go by message, then id.
		sortRcpts(rcpts)
		out, err = loadQueueMessages(ctx, tx, rcpts)
		return err
	})
	return out, err
}

type rcptRow struct {
	msgID int64
	r     store.QueueRecipient
}

func sortRcpts(rs []rcptRow) {
	slices.SortFunc(rs, func(a, b rcptRow) int {
		if c := cmp.Compare(a.msgID, b.msgID); c != 0 {
			return c
		}
		return cmp.Compare(a.r.ID, b.r.ID)
	})
}

func collectRcpts(rows pgx.Rows) ([]rcptRow, error) {
	defer rows.Close()
	var out []rcptRow
	for rows.Next() {
		var rr rcptRow
		var state string
		var next, last int64
		var attempts int32
		if err := rows.Scan(&rr.r.ID, &rr.msgID, &rr.r.Address, &rr.r.Domain, &rr.r.ORcpt, &rr.r.Notify, &state,
			&attempts, &next, &last, &rr.r.LastError, &rr.r.DelayNotified); err != nil {
			return nil, fmt.Errorf("queue recipients: %w", err)
		}
		rr.r.State, rr.r.Attempts = store.QueueState(state), int(attempts)
		rr.r.NextAttempt, rr.r.LastAttempt = store.FromMicros(next), store.FromMicros(last)
		out = append(out, rr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue recipients: %w", err)
	}
	return out, nil
}

func scanQueueMessage(row pgx.Row) (store.QueuedMessage, error) {
	var m store.QueuedMessage
	var created int64
	err := row.Scan(&m.ID, &m.From, &m.HeaderFrom, &m.MessageID, &m.AuthUser, &m.ClientIP, &m.Size, &created,
		&m.EnvID, &m.Ret, &m.UTF8, &m.Held, &m.HoldReason)
	m.CreatedAt = store.FromMicros(created)
	return m, err
}

// loadQueueMessages attaches rcpts (sorted by message) to their messages, in
// the order of the recipients' first appearance.
func loadQueueMessages(ctx context.Context, q querier, rcpts []rcptRow) ([]store.QueuedMessage, error) {
	var ids []int64
	for _, rr := range rcpts {
		if len(ids) == 0 || ids[len(ids)-1] != rr.msgID {
			ids = append(ids, rr.msgID)
		}
	}
	rows, err := q.Query(ctx, `SELECT `+queueMsgCols+` FROM queue_messages WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("queue messages: %w", err)
	}
	byID := map[int64]store.QueuedMessage{}
	for rows.Next() {
		m, err := scanQueueMessage(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("queue messages: %w", err)
		}
		byID[m.ID] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue messages: %w", err)
	}
	var out []store.QueuedMessage
	for _, rr := range rcpts {
		if len(out) == 0 || out[len(out)-1].ID != rr.msgID {
			m, ok := byID[rr.msgID]
			if !ok {
				return nil, fmt.Errorf("queue message %d: %w", rr.msgID, store.ErrNotFound)
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
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT b.data FROM queue_messages q JOIN blobs b ON b.id = q.blob_id WHERE q.id = $1`, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("queue body: %w", err)
	}
	return data, nil
}

// RecordQueue applies attempt outcomes, writes their log rows and removes
// finished messages, in one transaction.
func (s *Store) RecordQueue(ctx context.Context, updates []store.QueueUpdate, logs []store.LogEntry) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		// The messages' rows are locked first: two nodes recording the last
		// two recipients of one message then see each other's outcome, and
		// one of them removes the message. (Without the lock each could see
		// the other's recipient still queued, and the message would stay.)
		rids := make([]int64, len(updates))
		for i, u := range updates {
			rids[i] = u.RecipientID
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM queue_messages WHERE id IN (SELECT message_id FROM queue_rcpts WHERE id = ANY($1))
			ORDER BY id FOR UPDATE`, rids); err != nil {
			return fmt.Errorf("record queue: %w", err)
		}
		touched := map[int64]bool{}
		var order []int64
		for _, u := range updates {
			attempted := 0
			last := int64(0)
			if u.Attempted {
				attempted, last = 1, store.Micros(u.LastAttempt)
			}
			var msgID int64
			err := tx.QueryRow(ctx, `UPDATE queue_rcpts SET state = $1, attempts = attempts + $2,
				last_attempt = CASE WHEN $2 = 1 THEN $3 ELSE last_attempt END,
				next_attempt = CASE WHEN $1 = 'queued' THEN $4 ELSE next_attempt END,
				last_error = CASE WHEN $5 = '' THEN last_error ELSE $5 END,
				delay_notified = delay_notified OR $6, lease_until = 0
				WHERE id = $7 RETURNING message_id`,
				string(u.State), attempted, last, store.Micros(u.NextAttempt), clean(u.Error), u.DelayNotified, u.RecipientID).Scan(&msgID)
			if errors.Is(err, pgx.ErrNoRows) {
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
			var left bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM queue_rcpts WHERE message_id = $1 AND state = 'queued')`, id).Scan(&left); err != nil {
				return fmt.Errorf("record queue: %w", err)
			}
			if !left {
				if err := deleteQueued(ctx, tx, id); err != nil {
					return err
				}
			}
		}
		for i := range logs {
			if err := s.insertLog(ctx, tx, &logs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func deleteQueued(ctx context.Context, tx pgx.Tx, id int64) error {
	var blobID int64
	// Recipients go with the message (ON DELETE CASCADE).
	err := tx.QueryRow(ctx, `DELETE FROM queue_messages WHERE id = $1 RETURNING blob_id`, id).Scan(&blobID)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("dequeue: %w", err)
	}
	return unrefBlobs(ctx, tx, []int64{blobID})
}

// ListQueue lists messages with every recipient, oldest first.
func (s *Store) ListQueue(ctx context.Context, f store.QueueFilter) ([]store.QueuedMessage, error) {
	var where []string
	var a args
	if f.ID != 0 {
		where = append(where, `id = `+a.add(f.ID))
	}
	if f.AuthUser != "" {
		where = append(where, `auth_user = `+a.add(strings.ToLower(f.AuthUser)))
	}
	if f.Domain != "" {
		where = append(where, `id IN (SELECT message_id FROM queue_rcpts WHERE domain = `+a.add(strings.ToLower(f.Domain))+`)`)
	}
	if f.Held != nil {
		where = append(where, `held = `+a.add(*f.Held))
	}
	q := `SELECT ` + queueMsgCols + ` FROM queue_messages`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	q += fmt.Sprintf(` ORDER BY created_at, id LIMIT %d`, f.Limit)
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	rows, err := tx.Query(ctx, q, a...)
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
	ids := make([]int64, len(out))
	for i, m := range out {
		ids[i] = m.ID
	}
	rrows, err := tx.Query(ctx, `SELECT `+queueRcptCols+` FROM queue_rcpts WHERE message_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	rcpts, err := collectRcpts(rrows)
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
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		if id != 0 {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM queue_messages WHERE id = $1)`, id).Scan(&ok); err != nil {
				return fmt.Errorf("retry: %w", err)
			}
			if !ok {
				return store.ErrNotFound
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE queue_messages SET held = false, hold_reason = '' WHERE held AND ($1 = 0 OR id = $1)`, id); err != nil {
			return fmt.Errorf("retry: %w", err)
		}
		// A live lease is left alone: the worker holding it records its own result.
		tag, err := tx.Exec(ctx, `UPDATE queue_rcpts SET next_attempt = $1 WHERE state = 'queued' AND ($2 = 0 OR message_id = $2)`,
			now.UnixMicro(), id)
		if err != nil {
			return fmt.Errorf("retry: %w", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return int(n), err
}

// DropQueue removes a message without delivering or bouncing it.
func (s *Store) DropQueue(ctx context.Context, id int64) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return deleteQueued(ctx, tx, id)
	})
}

// HoldQueue holds one message, or every still-queued message of authUser.
func (s *Store) HoldQueue(ctx context.Context, id int64, authUser, reason string) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		var tag pgconn.CommandTag
		var err error
		if id != 0 {
			tag, err = tx.Exec(ctx, `UPDATE queue_messages SET held = true, hold_reason = $1 WHERE id = $2`, clean(reason), id)
		} else {
			tag, err = tx.Exec(ctx, `UPDATE queue_messages SET held = true, hold_reason = $1 WHERE auth_user = $2 AND NOT held`,
				clean(reason), strings.ToLower(authUser))
		}
		if err != nil {
			return fmt.Errorf("hold: %w", err)
		}
		n = tag.RowsAffected()
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
	var msgs, held, rcpts int64
	var oldest *int64
	err := s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE held), min(created_at),
		(SELECT count(*) FROM queue_rcpts WHERE state = 'queued') FROM queue_messages`).Scan(&msgs, &held, &oldest, &rcpts)
	if err != nil {
		return st, fmt.Errorf("queue stats: %w", err)
	}
	st.Messages, st.Held, st.Recipients = int(msgs), int(held), int(rcpts)
	if oldest != nil {
		st.Oldest = store.FromMicros(*oldest)
	}
	return st, nil
}
