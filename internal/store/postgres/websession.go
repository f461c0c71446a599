package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"govmail/internal/store"
)

// lockClassThrottle serialises the updates of one throttle key across nodes;
// the second half of the advisory lock is hashtext(key), so a collision only
// serialises two unrelated keys.
const lockClassThrottle = 0x676d7468 // "gmth"

// PutWebSession inserts or replaces a webmail session.
func (s *Store) PutWebSession(ctx context.Context, ws store.WebSession) error {
	data := ws.Data
	if data == nil {
		data = []byte{}
	}
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		_, err := tx.Exec(ctx, `INSERT INTO web_sessions (id_hash, account_id, data, created_at, last_seen) VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT (id_hash) DO UPDATE SET account_id = excluded.account_id, data = excluded.data,
			created_at = excluded.created_at, last_seen = excluded.last_seen`,
			ws.IDHash, ws.AccountID, data, store.Micros(ws.Created), store.Micros(ws.LastSeen))
		return err
	})
	if err != nil {
		return fmt.Errorf("put web session: %w", err)
	}
	return nil
}

// WebSession reads one webmail session.
func (s *Store) WebSession(ctx context.Context, idHash string) (*store.WebSession, error) {
	ws := store.WebSession{IDHash: idHash}
	var c, l int64
	err := s.pool.QueryRow(ctx, `SELECT account_id, data, created_at, last_seen FROM web_sessions WHERE id_hash = $1`, idHash).
		Scan(&ws.AccountID, &ws.Data, &c, &l)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("web session: %w", err)
	}
	ws.Created, ws.LastSeen = store.FromMicros(c), store.FromMicros(l)
	return &ws, nil
}

// UpdateWebSessionData replaces a session's data, never creating one.
func (s *Store) UpdateWebSessionData(ctx context.Context, idHash string, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(ctx, `UPDATE web_sessions SET data = $1 WHERE id_hash = $2`, data, idHash))
	})
}

// TouchWebSession records that a session was used. GREATEST keeps a node with a
// slightly slower clock from moving last_seen back.
func (s *Store) TouchWebSession(ctx context.Context, idHash string, lastSeen time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(ctx, `UPDATE web_sessions SET last_seen = GREATEST(last_seen, $1) WHERE id_hash = $2`, store.Micros(lastSeen), idHash))
	})
}

// DeleteWebSession ends one session.
func (s *Store) DeleteWebSession(ctx context.Context, idHash string) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		_, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE id_hash = $1`, idHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}

// DeleteWebSessions ends every session of an account.
func (s *Store) DeleteWebSessions(ctx context.Context, accountID int64) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		_, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE account_id = $1`, accountID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete web sessions: %w", err)
	}
	return nil
}

// PurgeWebSessions deletes idle and over-age sessions.
func (s *Store) PurgeWebSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE last_seen < $1 OR created_at < $2`, store.Micros(idleBefore), store.Micros(createdBefore))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge web sessions: %w", err)
	}
	return int(n), nil
}

// ThrottleStates reads throttle records without locking.
func (s *Store) ThrottleStates(ctx context.Context, keys []string) (map[string][]byte, error) {
	return readThrottle(ctx, s.pool, keys)
}

func readThrottle(ctx context.Context, q querier, keys []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	rows, err := q.Query(ctx, `SELECT key, data FROM throttle_state WHERE key = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("throttle state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var data []byte
		if err := rows.Scan(&k, &data); err != nil {
			return nil, fmt.Errorf("throttle state: %w", err)
		}
		out[k] = data
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("throttle state: %w", err)
	}
	return out, nil
}

// UpdateThrottleStates takes a transaction-scoped advisory lock per key, in
// key order so that two nodes updating overlapping keys cannot deadlock (a
// hash collision can still, and write retries that). Row locks would not do:
// the first failure of a key has no row to lock yet. Under READ COMMITTED the
// read after the locks sees what the previous holder committed.
func (s *Store) UpdateThrottleStates(ctx context.Context, keys []string, fn func(map[string][]byte) ([]store.ThrottleState, error)) error {
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClassThrottle, k); err != nil {
				return fmt.Errorf("throttle lock: %w", err)
			}
		}
		cur, err := readThrottle(ctx, tx, keys)
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		for _, st := range next {
			if st.Data == nil {
				if _, err := tx.Exec(ctx, `DELETE FROM throttle_state WHERE key = $1`, st.Key); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO throttle_state (key, data, expires_at) VALUES ($1,$2,$3)
				ON CONFLICT (key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
				st.Key, st.Data, store.Micros(st.Expires)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update throttle state: %w", err)
	}
	return nil
}

// PurgeThrottleStates deletes the throttle records expired at before.
func (s *Store) PurgeThrottleStates(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx, w *writeCtx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM throttle_state WHERE expires_at <= $1`, store.Micros(before))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge throttle state: %w", err)
	}
	return int(n), nil
}
