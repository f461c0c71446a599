package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"govmail/internal/clock"
)

// ErrNoSession is returned for an unknown, expired or ended session.
var ErrNoSession = errors.New("web: no such session")

// Session is one signed-in browser. Only its id travels in the cookie; everything
// else stays on the server, so a stolen cookie can be ended by ending the session.
type Session struct {
	ID        string // the cookie value; SessionStore implementations keep only its hash
	AccountID int64
	// CSRF is the token every POST of this session must carry.
	CSRF string
	// MustChange admits the session only to the change-password page (R6.1, R6.2).
	MustChange bool
	// PendingTOTP admits the session only to the second-factor page: the password
	// was right, the code is still to come (R2.1, security-level controls).
	PendingTOTP bool
	// EnrolSecret is a TOTP secret being enrolled, kept here (server side) until the
	// user proves their app holds it.
	EnrolSecret string
	// TOTPFailures counts wrong codes; too many end the session.
	TOTPFailures int
	Created      time.Time
	LastSeen     time.Time
}

// SessionStore keeps sessions. The in-memory one serves one node; several nodes
// need one in the shared database (DESIGN decision 4), behind the same interface.
type SessionStore interface {
	// Create stores s, filling ID, CSRF, Created and LastSeen.
	Create(ctx context.Context, s *Session) error
	// Get returns the session with this id and marks it seen, or ErrNoSession when
	// it is unknown, idle too long or past its absolute lifetime.
	Get(ctx context.Context, id string) (*Session, error)
	// Update stores the changed fields of a session got from Get.
	Update(ctx context.Context, s *Session) error
	// Delete ends one session; ending an unknown one is not an error.
	Delete(ctx context.Context, id string) error
	// DeleteAccount ends every session of an account (password changed, account
	// locked: R8.1 "live sessions are closed").
	DeleteAccount(ctx context.Context, accountID int64) error
}

// Default session limits: the idle timeout of the security-level controls
// ("idle sessions time out"), and a working day as the absolute bound.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxLifetime = 12 * time.Hour
)

// MemorySessions is the in-memory SessionStore of a single node.
type MemorySessions struct {
	Clock       clock.Clock
	IdleTimeout time.Duration
	MaxLifetime time.Duration

	mu        sync.Mutex
	byHash    map[string]*Session
	lastSweep time.Time
}

// NewMemorySessions returns an empty store; zero durations take the defaults.
func NewMemorySessions(clk clock.Clock, idle, max time.Duration) *MemorySessions {
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	if max <= 0 {
		max = DefaultMaxLifetime
	}
	return &MemorySessions{Clock: clk, IdleTimeout: idle, MaxLifetime: max, byHash: map[string]*Session{}}
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hashID keys sessions by a hash of the cookie value, so that a later database-backed
// store holding the same keys would not hold usable cookies.
func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// Create implements SessionStore.
func (m *MemorySessions) Create(_ context.Context, s *Session) error {
	id, err := randomToken()
	if err != nil {
		return err
	}
	csrf, err := randomToken()
	if err != nil {
		return err
	}
	now := m.Clock.Now()
	s.ID, s.CSRF, s.Created, s.LastSeen = id, csrf, now, now
	cp := *s
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(now)
	m.byHash[hashID(id)] = &cp
	return nil
}

func (m *MemorySessions) expired(s *Session, now time.Time) bool {
	return now.Sub(s.LastSeen) >= m.IdleTimeout || now.Sub(s.Created) >= m.MaxLifetime
}

// sweepLocked drops expired sessions at most once per idle period, so memory stays
// bounded by the sessions of the last idle period without a background goroutine.
func (m *MemorySessions) sweepLocked(now time.Time) {
	if now.Sub(m.lastSweep) < m.IdleTimeout {
		return
	}
	m.lastSweep = now
	for k, s := range m.byHash {
		if m.expired(s, now) {
			delete(m.byHash, k)
		}
	}
}

// Get implements SessionStore.
func (m *MemorySessions) Get(_ context.Context, id string) (*Session, error) {
	if id == "" {
		return nil, ErrNoSession
	}
	now := m.Clock.Now()
	k := hashID(id)
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.byHash[k]
	if !ok {
		return nil, ErrNoSession
	}
	if m.expired(s, now) {
		delete(m.byHash, k)
		return nil, ErrNoSession
	}
	s.LastSeen = now
	cp := *s
	return &cp, nil
}

// Update implements SessionStore. The id, token and times are not changed.
func (m *MemorySessions) Update(_ context.Context, s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.byHash[hashID(s.ID)]
	if !ok {
		return ErrNoSession
	}
	cur.MustChange, cur.PendingTOTP, cur.EnrolSecret, cur.TOTPFailures = s.MustChange, s.PendingTOTP, s.EnrolSecret, s.TOTPFailures
	return nil
}

// Delete implements SessionStore.
func (m *MemorySessions) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	delete(m.byHash, hashID(id))
	m.mu.Unlock()
	return nil
}

// DeleteAccount implements SessionStore.
func (m *MemorySessions) DeleteAccount(_ context.Context, accountID int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, s := range m.byHash {
		if s.AccountID == accountID {
			delete(m.byHash, k)
		}
	}
	return nil
}

// Len returns the number of stored sessions, expired ones not yet swept included.
func (m *MemorySessions) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byHash)
}
