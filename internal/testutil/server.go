// Package testutil starts real govmail servers for tests: every listener on
// 127.0.0.1:0, a SQLite store in a temporary directory, the real auth, delivery
// and protocol layers. Nothing here is a fake of a component.
package testutil

import (
	"context"
	"crypto/tls"
	"log/slog"
	"os"
	"testing"
	"time"

	"govmail/internal/app"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/password"
	"govmail/internal/store"
)

// Server is a running govmail for one test.
type Server struct {
	App   *app.App
	Cfg   config.Config
	Clock clock.Clock
}

// Options adjust the server before it starts.
type Options struct {
	// Dir is the data directory; empty means a new temporary one.
	Dir    string
	Clock  clock.Clock
	Config func(*config.Config)
	// WrapStore, when set, is given the opened store and returns the one the
	// server uses (fault injection: a wrapper embedding the concrete store).
	WrapStore func(store.Store) store.Store
}

// Start runs a govmail on loopback until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	dir := opts.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := config.Defaults(dir)
	one := []string{"127.0.0.1:0"}
	cfg.Listen = config.Listeners{SMTP: one, Submission: one, SubmissionTLS: one, IMAP: one, IMAPTLS: one, POP3: one, POP3TLS: one, HTTP: one, HTTPS: one, LDAP: one, LDAPS: one}
	// Tests talk only to loopback: DNS goes to a closed port (lookups fail at
	// once) unless a test points it at its own server.
	cfg.DNS = "127.0.0.1:9"
	cfg.Security.Clamd = "off"
	if opts.Config != nil {
		opts.Config(&cfg)
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	level := slog.LevelWarn
	if os.Getenv("GOVMAIL_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx := context.Background()
	st, err := app.OpenStore(ctx, cfg, clk, log)
	if err != nil {
		t.Fatal(err)
	}
	if opts.WrapStore != nil {
		st = opts.WrapStore(st)
	}
	a, err := app.New(cfg, st, clk, log)
	if err != nil {
		t.Fatal(err)
	}
	a.NoJobs = true
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Shutdown(sctx)
	})
	return &Server{App: a, Cfg: cfg, Clock: clk}
}

// Addr returns the first address of a service ("smtp", "submission", "imap", ...).
func (s *Server) Addr(service string) string {
	if a := s.App.Addrs[service]; len(a) > 0 {
		return a[0]
	}
	return ""
}

// AddAccount creates an account whose holder already chose pw (no forced change).
func (s *Server) AddAccount(t testing.TB, addr, pw string) *store.Account {
	t.Helper()
	h, err := password.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	a := &store.Account{Address: addr, DisplayName: addr, PasswordHash: h, PasswordSetAt: s.Clock.Now(), QuotaBytes: s.Cfg.Policy.QuotaBytes}
	if err := s.App.Store.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// ClientTLS trusts the server's self-signed certificate for tests.
func ClientTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"} //nolint:gosec // test client of a self-signed loopback server
}
