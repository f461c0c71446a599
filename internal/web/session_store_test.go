package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
	"govmail/internal/store/postgres"
	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
	"govmail/internal/web"
)

// hashID is how the web package keys sessions at rest (SHA-256, hex).
func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

var sessionStart = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// sessionImpl builds one web.SessionStore under test (idle 30 min, max 12 h) over
// the given fake clock.
type sessionImpl struct {
	name string
	open func(t *testing.T, clk clock.Clock) web.SessionStore
}

func openSQLiteStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgresStore(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, postgres.Options{DSN: dsn, MaxConns: 4, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sessionImpls lists the memory store, the store-backed one over SQLite and,
// when PostgreSQL is installed, over PostgreSQL (one private cluster for the
// whole test, a fresh database per subtest).
func sessionImpls(t *testing.T) []sessionImpl {
	impls := []sessionImpl{
		{"memory", func(t *testing.T, clk clock.Clock) web.SessionStore {
			return web.NewMemorySessions(clk, web.DefaultIdleTimeout, web.DefaultMaxLifetime)
		}},
		{"sqlite", func(t *testing.T, clk clock.Clock) web.SessionStore {
			return web.NewStoreSessions(openSQLiteStore(t), clk, web.DefaultIdleTimeout, web.DefaultMaxLifetime)
		}},
	}
	c, err := testutil.StartPostgresCluster(testutil.PostgresOptions{})
	if errors.Is(err, testutil.ErrNoPostgres) {
		t.Log("PostgreSQL not installed: store sessions tested on SQLite only")
		return impls
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return append(impls, sessionImpl{"postgres", func(t *testing.T, clk clock.Clock) web.SessionStore {
		return web.NewStoreSessions(openPostgresStore(t, c.Database(t)), clk, web.DefaultIdleTimeout, web.DefaultMaxLifetime)
	}})
}

// The behaviour every web.SessionStore must have, whichever keeps the sessions.
func TestSessionStores(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, m web.SessionStore, clk *clock.Fake)
	}{
		{"create fills id, token and times; get returns the session", func(t *testing.T, m web.SessionStore, clk *clock.Fake) {
			s := &web.Session{AccountID: 7, MustChange: true}
			if err := m.Create(ctx, s); err != nil {
				t.Fatal(err)
			}
			if s.ID == "" || s.CSRF == "" || s.ID == s.CSRF || !s.Created.Equal(sessionStart) || !s.LastSeen.Equal(sessionStart) {
				t.Fatalf("created %+v", s)
			}
			clk.Advance(time.Minute)
			got, err := m.Get(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != s.ID || got.AccountID != 7 || got.CSRF != s.CSRF || !got.MustChange || got.PendingTOTP ||
				!got.Created.Equal(sessionStart) || !got.LastSeen.Equal(sessionStart.Add(time.Minute)) {
				t.Errorf("got %+v", got)
			}
		}},
		{"unknown and empty ids are no session", func(t *testing.T, m web.SessionStore, clk *clock.Fake) {
			for _, id := range []string{"", "nope"} {
				if _, err := m.Get(ctx, id); !errors.Is(err, web.ErrNoSession) {
					t.Errorf("Get(%q) = %v", id, err)
				}
			}
		}},
		{"idle timeout slides with use", func(t *testing.T, m web.SessionStore, clk *clock.Fake) {
			s := &web.Session{AccountID: 7}
			m.Create(ctx, s)
			for range 3 {
				clk.Advance(web.DefaultIdleTimeout - time.Second)
				if _, err := m.Get(ctx, s.ID); err != nil {
					t.Fatalf("used session idle < timeout: %v", err)
				}
			}
			clk.Advance(web.DefaultIdleTimeout)
			if _, err := m.Get(ctx, s.ID); !errors.Is(err, web.ErrNoSession) {
				t.Fatalf("idle session: %v", err)
			}
			clk.Advance(-web.DefaultIdleTimeout)
			if _, err := m.Get(ctx, s.ID); !errors.Is(err, web.ErrNoSession) {
				t.Fatalf("an expired session must be gone, not only hidden: %v", err)
			}
		}},
		{"absolute lifetime ends a session in use", func(t *testing.T, m web.SessionStore, clk *clock.Fake) {
			s := &web.Session{AccountID: 7}
			m.Create(ctx, s)
			step := web.DefaultIdleTimeout / 2
			for elapsed := step; elapsed < web.DefaultMaxLifetime; elapsed += step {
				clk.Advance(step)
				if _, err := m.Get(ctx, s.ID); err != nil {
					t.Fatalf("at %v: %v", elapsed, err)
				}
			}
			clk.Advance(step)
			if _, err := m.Get(ctx, s.ID); !errors.Is(err, web.ErrNoSession) {
				t.Fatalf("past max lifetime: %v", err)
			}
		}},
		{"update stores the changeable fields only", func(t *testing.T, m web.SessionStore, clk *clock.Fake) {
			s := &web.Session{AccountID: 7, PendingTOTP: true}
			m.Create(ctx, s)
			got, _ := m.Get(ctx, s.ID)
			csrf := got.CSRF
			got.PendingTOTP, got.MustChange, got.EnrolSecret, got.TOTPFailures = false, true, "JBSWY3DP", 2
			got.CSRF, got.AccountID = "forged", 99
			if err := m.Update(ctx, got); err != nil {
				t.Fatal(err)
			}
			again, err := m.Get(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if again.PendingTOTP || !again.MustChange || again.EnrolSecret != "JBSWY3DP" || again.TOTPFailures != 2 ||
				again.CSRF != csrf || again.AccountID != 7 {
				t.Errorf("after update %+v", again)
			}
			if err := m.Update(ctx, &web.Session{ID: "nope"}); !errors.Is(err, web.ErrNoSession) {
				t.Errorf("update of unknown session: %v", err)
			}
		}},
		{"delete ends one session; unknown is no error", func(t *testing.T, m web.SessionStore, clk *clock.Fake) {
			a, b := &web.Session{AccountID: 7}, &web.Session{AccountID: 7}
			m.Create(ctx, a)
			m.Create(ctx, b)
			if err := m.Delete(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if err := m.Delete(ctx, "nope"); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Get(ctx, a.ID); !errors.Is(err, web.ErrNoSession) {
				t.Errorf("deleted: %v", err)
			}
			if _, err := m.Get(ctx, b.ID); err != nil {
				t.Errorf("other session: %v", err)
			}
			if err := m.Update(ctx, a); !errors.Is(err, web.ErrNoSession) {
				t.Errorf("update brought back a deleted session: %v", err)
			}
		}},
		{"R8.1: delete account ends that account's sessions only", func(t *testing.T, m web.SessionStore, clk *clock.Fake) {
			a1, a2, b := &web.Session{AccountID: 7}, &web.Session{AccountID: 7}, &web.Session{AccountID: 8}
			for _, s := range []*web.Session{a1, a2, b} {
				m.Create(ctx, s)
			}
			if err := m.DeleteAccount(ctx, 7); err != nil {
				t.Fatal(err)
			}
			for _, s := range []*web.Session{a1, a2} {
				if _, err := m.Get(ctx, s.ID); !errors.Is(err, web.ErrNoSession) {
					t.Errorf("session of account 7: %v", err)
				}
			}
			if _, err := m.Get(ctx, b.ID); err != nil {
				t.Errorf("session of account 8: %v", err)
			}
		}},
	}
	for _, impl := range sessionImpls(t) {
		t.Run(impl.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					clk := clock.NewFake(sessionStart)
					tt.run(t, impl.open(t, clk), clk)
				})
			}
		})
	}
}

// Only the hash of the cookie value is at rest: a copy of the database holds no
// usable cookie.
func TestStoreSessionsKeepOnlyTheHash(t *testing.T) {
	ctx := context.Background()
	st := openSQLiteStore(t)
	m := web.NewStoreSessions(st, clock.NewFake(sessionStart), 0, 0)
	s := &web.Session{AccountID: 7}
	if err := m.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := st.WebSession(ctx, s.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("row found under the cookie value: %v", err)
	}
	row, err := st.WebSession(ctx, hashID(s.ID))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(row.Data, []byte(s.ID)) {
		t.Errorf("row data holds the cookie value: %s", row.Data)
	}
}

// Create purges expired rows at most once per idle period, as MemorySessions
// sweeps, so the table stays bounded.
func TestStoreSessionsPurge(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(sessionStart)
	st := openSQLiteStore(t)
	m := web.NewStoreSessions(st, clk, time.Minute, time.Hour)
	var old []*web.Session
	for range 5 {
		s := &web.Session{AccountID: 1}
		m.Create(ctx, s)
		old = append(old, s)
	}
	clk.Advance(2 * time.Minute)
	m.Create(ctx, &web.Session{AccountID: 2})
	for _, s := range old {
		if _, err := st.WebSession(ctx, hashID(s.ID)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired row kept: %v", err)
		}
	}
	if n, err := m.Purge(ctx, clk.Now()); err != nil || n != 0 {
		t.Errorf("Purge = %d, %v", n, err)
	}
}

// Issue 10: a session created through one node is valid on another, and ending
// it on either ends it on both.
func TestStoreSessionsTwoNodes(t *testing.T) {
	dsn := testutil.StartPostgres(t)
	ctx := context.Background()
	clk := clock.NewFake(sessionStart)
	a := web.NewStoreSessions(openPostgresStore(t, dsn), clk, 0, 0)
	b := web.NewStoreSessions(openPostgresStore(t, dsn), clk, 0, 0)
	s := &web.Session{AccountID: 7, PendingTOTP: true}
	if err := a.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, s.ID)
	if err != nil || got.AccountID != 7 || got.CSRF != s.CSRF || !got.PendingTOTP {
		t.Fatalf("node b: %+v %v", got, err)
	}
	got.PendingTOTP = false
	if err := b.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	clk.Advance(web.DefaultIdleTimeout - time.Second)
	if got, err := a.Get(ctx, s.ID); err != nil || got.PendingTOTP {
		t.Fatalf("node a after b's update: %+v %v", got, err)
	}
	// b used the session a minute ago through a: still within the idle timeout.
	clk.Advance(web.DefaultIdleTimeout - time.Second)
	if _, err := b.Get(ctx, s.ID); err != nil {
		t.Fatalf("use on a did not count on b: %v", err)
	}
	if err := a.DeleteAccount(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, s.ID); !errors.Is(err, web.ErrNoSession) {
		t.Fatalf("session ended on a still valid on b: %v", err)
	}
}
