package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
)

// StoreSessions is the SessionStore of a cluster: sessions live in the shared
// database (issue 10, DESIGN decision 4), so a browser signed in through one node
// stays signed in whichever node serves its next request. The rules are those of
// MemorySessions: the database keeps only the hash of the cookie value, a session
// idle for IdleTimeout or older than MaxLifetime is gone.
type StoreSessions struct {
	st          store.WebSessionStore
	clk         clock.Clock
	idleTimeout time.Duration
	maxLifetime time.Duration

	mu        sync.Mutex
	lastPurge time.Time
}

var _ SessionStore = (*StoreSessions)(nil)

// NewStoreSessions returns a store-backed SessionStore; zero durations take the
// defaults, as NewMemorySessions does.
func NewStoreSessions(st store.WebSessionStore, clk clock.Clock, idle, max time.Duration) *StoreSessions {
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	if max <= 0 {
		max = DefaultMaxLifetime
	}
	return &StoreSessions{st: st, clk: clk, idleTimeout: idle, maxLifetime: max}
}

// sessionData is what a row's data holds: the fields of Session the row's
// columns do not. Field names are fixed so that nodes of different versions
// read each other's rows during a rolling upgrade.
type sessionData struct {
	CSRF         string `json:"csrf"`
	MustChange   bool   `json:"must_change,omitempty"`
	PendingTOTP  bool   `json:"pending_totp,omitempty"`
	EnrolSecret  string `json:"enrol_secret,omitempty"`
	TOTPFailures int    `json:"totp_failures,omitempty"`
}

func encodeSession(s *Session) ([]byte, error) {
	b, err := json.Marshal(sessionData{CSRF: s.CSRF, MustChange: s.MustChange, PendingTOTP: s.PendingTOTP,
		EnrolSecret: s.EnrolSecret, TOTPFailures: s.TOTPFailures})
	if err != nil {
		return nil, fmt.Errorf("encode session: %w", err)
	}
	return b, nil
}

func (m *StoreSessions) expired(lastSeen, created, now time.Time) bool {
	return now.Sub(lastSeen) >= m.idleTimeout || now.Sub(created) >= m.maxLifetime
}

// Create implements SessionStore.
func (m *StoreSessions) Create(ctx context.Context, s *Session) error {
	id, err := randomToken()
	if err != nil {
		return err
	}
	csrf, err := randomToken()
	if err != nil {
		return err
	}
	now := m.clk.Now()
	m.purge(ctx, now)
	data, err := encodeSession(&Session{CSRF: csrf, MustChange: s.MustChange, PendingTOTP: s.PendingTOTP,
		EnrolSecret: s.EnrolSecret, TOTPFailures: s.TOTPFailures})
	if err != nil {
		return err
	}
	ws := store.WebSession{IDHash: hashID(id), AccountID: s.AccountID, Data: data, Created: now, LastSeen: now}
	if err := m.st.PutWebSession(ctx, ws); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	// Fill s only once stored, so a failed Create leaves no half session behind.
	s.ID, s.CSRF, s.Created, s.LastSeen = id, csrf, now, now
	return nil
}

// purge drops expired rows at most once per idle period per node, like
// MemorySessions' sweep, so the table stays bounded without a background
// goroutine. A failure only delays the cleanup: Get refuses expired rows anyway,
// so it must not fail the sign-in that triggered it.
func (m *StoreSessions) purge(ctx context.Context, now time.Time) {
	m.mu.Lock()
	due := now.Sub(m.lastPurge) >= m.idleTimeout
	if due {
		m.lastPurge = now
	}
	m.mu.Unlock()
	if due {
		_, _ = m.st.PurgeWebSessions(ctx, now.Add(-m.idleTimeout), now.Add(-m.maxLifetime))
	}
}

// Get implements SessionStore.
func (m *StoreSessions) Get(ctx context.Context, id string) (*Session, error) {
	if id == "" {
		return nil, ErrNoSession
	}
	k := hashID(id)
	ws, err := m.st.WebSession(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	now := m.clk.Now()
	if m.expired(ws.LastSeen, ws.Created, now) {
		if err := m.st.DeleteWebSession(ctx, k); err != nil {
			return nil, fmt.Errorf("end expired session: %w", err)
		}
		return nil, ErrNoSession
	}
	var d sessionData
	if err := json.Unmarshal(ws.Data, &d); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	// Touch only updates an existing row: a session ended by another node since
	// the read stays ended.
	if err := m.st.TouchWebSession(ctx, k, now); errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	} else if err != nil {
		return nil, fmt.Errorf("touch session: %w", err)
	}
	return &Session{
		ID: id, AccountID: ws.AccountID, CSRF: d.CSRF,
		MustChange: d.MustChange, PendingTOTP: d.PendingTOTP, EnrolSecret: d.EnrolSecret, TOTPFailures: d.TOTPFailures,
		Created: ws.Created, LastSeen: now,
	}, nil
}

// Update implements SessionStore. The id, token and times are not changed: the
// CSRF token is carried over from the stored row, not taken from s.
func (m *StoreSessions) Update(ctx context.Context, s *Session) error {
	k := hashID(s.ID)
	ws, err := m.st.WebSession(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSession
	}
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	var d sessionData
	if err := json.Unmarshal(ws.Data, &d); err != nil {
		return fmt.Errorf("decode session: %w", err)
	}
	data, err := encodeSession(&Session{CSRF: d.CSRF, MustChange: s.MustChange, PendingTOTP: s.PendingTOTP,
		EnrolSecret: s.EnrolSecret, TOTPFailures: s.TOTPFailures})
	if err != nil {
		return err
	}
	if err := m.st.UpdateWebSessionData(ctx, k, data); errors.Is(err, store.ErrNotFound) {
		return ErrNoSession
	} else if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	return nil
}

// Delete implements SessionStore.
func (m *StoreSessions) Delete(ctx context.Context, id string) error {
	if err := m.st.DeleteWebSession(ctx, hashID(id)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteAccount implements SessionStore.
func (m *StoreSessions) DeleteAccount(ctx context.Context, accountID int64) error {
	if err := m.st.DeleteWebSessions(ctx, accountID); err != nil {
		return fmt.Errorf("delete account sessions: %w", err)
	}
	return nil
}

// Purge drops every expired session at now and returns how many went, for an
// owner that prefers a periodic job to the cleanup done by Create.
func (m *StoreSessions) Purge(ctx context.Context, now time.Time) (int, error) {
	n, err := m.st.PurgeWebSessions(ctx, now.Add(-m.idleTimeout), now.Add(-m.maxLifetime))
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return n, nil
}
