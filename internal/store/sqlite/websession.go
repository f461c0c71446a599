package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"govmail/internal/store"
)

// PutWebSession inserts or replaces a webmail session.
func (s *Store) PutWebSession(ctx context.Context, ws store.WebSession) error {
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		_, err := tx.Exec(`INSERT INTO web_sessions (id_hash, account_id, data, created_at, last_seen) VALUES (?,?,?,?,?)
			ON CONFLICT (id_hash) DO UPDATE SET account_id = excluded.account_id, data = excluded.data,
			created_at = excluded.created_at, last_seen = excluded.last_seen`,
			ws.IDHash, ws.AccountID, nonNil(ws.Data), store.Micros(ws.Created), store.Micros(ws.LastSeen))
		return err
	})
	if err != nil {
		return fmt.Errorf("put web session: %w", err)
	}
	return nil
}

// nonNil keeps NOT NULL blob columns from receiving NULL for an empty slice.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// WebSession reads one webmail session.
func (s *Store) WebSession(ctx context.Context, idHash string) (*store.WebSession, error) {
	ws := store.WebSession{IDHash: idHash}
	var c, l int64
	err := s.rdb.QueryRowContext(ctx, `SELECT account_id, data, created_at, last_seen FROM web_sessions WHERE id_hash = ?`, idHash).
		Scan(&ws.AccountID, &ws.Data, &c, &l)
	if errors.Is(err, sql.ErrNoRows) {
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
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`UPDATE web_sessions SET data = ? WHERE id_hash = ?`, nonNil(data), idHash))
	})
}

// TouchWebSession records that a session was used.
func (s *Store) TouchWebSession(ctx context.Context, idHash string, lastSeen time.Time) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		return expectOne(tx.Exec(`UPDATE web_sessions SET last_seen = ? WHERE id_hash = ?`, store.Micros(lastSeen), idHash))
	})
}

// DeleteWebSession ends one session.
func (s *Store) DeleteWebSession(ctx context.Context, idHash string) error {
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		_, err := tx.Exec(`DELETE FROM web_sessions WHERE id_hash = ?`, idHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}

// DeleteWebSessions ends every session of an account.
func (s *Store) DeleteWebSessions(ctx context.Context, accountID int64) error {
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		_, err := tx.Exec(`DELETE FROM web_sessions WHERE account_id = ?`, accountID)
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
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`DELETE FROM web_sessions WHERE last_seen < ? OR created_at < ?`, store.Micros(idleBefore), store.Micros(createdBefore))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge web sessions: %w", err)
	}
	return int(n), nil
}

// ThrottleStates reads throttle records.
func (s *Store) ThrottleStates(ctx context.Context, keys []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	for _, k := range keys {
		var data []byte
		err := s.rdb.QueryRowContext(ctx, `SELECT data FROM throttle_state WHERE key = ?`, k).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("throttle state: %w", err)
		}
		out[k] = data
	}
	return out, nil
}

// UpdateThrottleStates runs fn inside one write job: the single writer is what
// holds other updates off, so no row locks, and no key order to take them in,
// are needed (a repeated key only fills the same map entry twice).
func (s *Store) UpdateThrottleStates(ctx context.Context, keys []string, fn func(map[string][]byte) ([]store.ThrottleState, error)) error {
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		cur := make(map[string][]byte, len(keys))
		for _, k := range keys {
			var data []byte
			err := tx.QueryRow(`SELECT data FROM throttle_state WHERE key = ?`, k).Scan(&data)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			cur[k] = data
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		for _, st := range next {
			if st.Data == nil {
				if _, err := tx.Exec(`DELETE FROM throttle_state WHERE key = ?`, st.Key); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.Exec(`INSERT INTO throttle_state (key, data, expires_at) VALUES (?,?,?)
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
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`DELETE FROM throttle_state WHERE expires_at <= ?`, store.Micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge throttle state: %w", err)
	}
	return int(n), nil
}
