package ldapd

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"govmail/internal/address"
	"govmail/internal/auth"
	"govmail/internal/clock"
	"govmail/internal/directory"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/throttle"
	"govmail/internal/tlsutil"
)

const (
	testBase     = "dc=sonla,dc=gov,dc=vn"
	testDomain   = "sonla.gov.vn"
	testPassword = "Mk@tkhau2026"
)

// fastParams keep argon2id real but cheap: the tests bind dozens of times on
// a shared two-core machine.
var fastParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}

// person is one account the tests create through the directory service.
type person struct {
	name, unit string
	year       int
	mustChange bool
	locked     bool
}

var testPeople = []person{
	{name: "Nguyễn Văn An", unit: "skhcn", year: 1985},
	{name: "Nguyễn Văn Bình", unit: "skhcn", year: 1990},
	{name: "Nguyễn Thị Hoa", unit: "snv", year: 1988},
	{name: "Trần Thị Hoa", unit: "snv", year: 1979},
	{name: "Lê Văn Đức", unit: "skhcn", year: 1992},
	{name: "Nguyễn Văn Khóa", unit: "skhcn", year: 1980, locked: true},
	{name: "Nguyễn Văn Mới", unit: "snv", year: 1999, mustChange: true},
}

// recorder wraps the real store and remembers the account queries, to prove
// which searches reach the store's index.
type recorder struct {
	store.Store
	mu      sync.Mutex
	queries []store.AccountFilter
}

func (r *recorder) ListAccounts(ctx context.Context, f store.AccountFilter) ([]store.Account, error) {
	r.mu.Lock()
	r.queries = append(r.queries, f)
	r.mu.Unlock()
	return r.Store.ListAccounts(ctx, f)
}

func (r *recorder) last() store.AccountFilter {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queries) == 0 {
		return store.AccountFilter{Query: "<none>"}
	}
	return r.queries[len(r.queries)-1]
}

// throttleAdapter fits throttle.Memory to auth.Throttle, as internal/app does.
type throttleAdapter struct{ m *throttle.Memory }

func (t throttleAdapter) Check(ctx context.Context, account, ip string) (bool, time.Duration, time.Duration) {
	d := t.m.Check(ctx, account, ip)
	return d.Allowed, d.RetryAfter, d.Delay
}
func (t throttleAdapter) Failure(ctx context.Context, account, ip string) {
	t.m.Failure(ctx, account, ip)
}
func (t throttleAdapter) Success(ctx context.Context, account, ip string) {
	t.m.Success(ctx, account, ip)
}

// logWriter sends server logs to the test log until the test ends.
type logWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *logWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

type testEnv struct {
	t       testing.TB
	rec     *recorder
	srv     *Server
	addr    string // plain LDAP with StartTLS
	tlsAddr string // LDAPS
	certPEM []byte
	pool    *x509.CertPool
	people  map[string]*store.Account // by full name
	units   int
}

// newEnv starts a server over a real SQLite store holding the province's
// units (directory.ProvinceUnits) and testPeople, with the real auth service
// and throttle.
func newEnv(t testing.TB, mod func(*Options)) *testEnv {
	t.Helper()
	ctx := context.Background()
	clk := clock.Real{}
	lw := &logWriter{t: t}
	log := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sq, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir(), Clock: clk, Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	rec := &recorder{Store: sq}
	ds := &directory.Service{Store: sq, Clock: clk, Rules: address.DefaultRules(), Domain: testDomain, Logger: log}
	if _, err := ds.ImportUnits(ctx, bytes.NewReader(directory.ProvinceUnits), "op"); err != nil {
		t.Fatalf("import units: %v", err)
	}
	units, err := sq.ListUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := fastParams.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	people := map[string]*store.Account{}
	for _, p := range testPeople {
		a, err := ds.CreatePerson(ctx, directory.NewPerson{UnitLP: p.unit, FullName: p.name, BirthYear: p.year,
			PasswordHash: hash, MustChange: p.mustChange, QuotaBytes: 1 << 30}, "op")
		if err != nil {
			t.Fatalf("create %s: %v", p.name, err)
		}
		if p.locked {
			if err := sq.LockAccount(ctx, a.ID, store.LockOperator, store.LockInfo{LockedAt: time.Now(), LockedBy: "op"}); err != nil {
				t.Fatalf("lock: %v", err)
			}
		}
		people[p.name] = a
	}
	// A unit's mailbox is an account too; the address book shows it as the unit.
	if _, err := ds.CreateUnitMailbox(ctx, "skhcn", hash, 1<<30, "op"); err != nil {
		t.Fatalf("unit mailbox: %v", err)
	}
	th, err := throttle.NewMemory(throttle.DefaultConfig(), clk)
	if err != nil {
		t.Fatal(err)
	}
	authSvc := &auth.Service{Store: sq, Clock: clk, Verify: password.Verify, Throttle: throttleAdapter{th}, Logger: log}

	certPEM, keyPEM, err := tlsutil.SelfSigned("localhost", time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	opts := Options{Store: rec, Auth: authSvc, Logger: log, Domain: testDomain,
		TLSConfig: tlsutil.ServerConfig(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil })}
	if mod != nil {
		mod(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, serve := range []func() error{func() error { return srv.Serve(ln) }, func() error { return srv.ServeTLS(tln) }} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serve(); !errors.Is(err, ErrServerClosed) {
				t.Errorf("serve: %v", err)
			}
		}()
	}
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
		lw.done.Store(true)
		sq.Close()
	})
	return &testEnv{t: t, rec: rec, srv: srv, addr: ln.Addr().String(), tlsAddr: tln.Addr().String(),
		certPEM: certPEM, pool: pool, people: people, units: len(units)}
}

func (e *testEnv) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: e.pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
}

// dialTLS connects over LDAPS.
func (e *testEnv) dialTLS() *ldap.Conn {
	e.t.Helper()
	c, err := ldap.DialURL("ldaps://"+e.tlsAddr, ldap.DialWithTLSConfig(e.clientTLS()))
	if err != nil {
		e.t.Fatalf("dial ldaps: %v", err)
	}
	c.SetTimeout(10 * time.Second)
	e.t.Cleanup(func() { c.Close() })
	return c
}

// dialPlain connects without TLS.
func (e *testEnv) dialPlain() *ldap.Conn {
	e.t.Helper()
	c, err := ldap.DialURL("ldap://" + e.addr)
	if err != nil {
		e.t.Fatalf("dial ldap: %v", err)
	}
	c.SetTimeout(10 * time.Second)
	e.t.Cleanup(func() { c.Close() })
	return c
}

// login dials LDAPS and binds as the named person.
func (e *testEnv) login(name string) *ldap.Conn {
	e.t.Helper()
	c := e.dialTLS()
	if err := c.Bind(e.people[name].Address, testPassword); err != nil {
		e.t.Fatalf("bind %s: %v", name, err)
	}
	return c
}

func search(c *ldap.Conn, base string, scope int, filter string, attrs ...string) (*ldap.SearchResult, error) {
	return c.Search(ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil))
}

// code is the LDAP result code of err (0 for nil).
func code(err error) uint16 {
	if err == nil {
		return 0
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0xffff
}

// cns lists the cn values of the entries, sorted by the server's order.
func cns(r *ldap.SearchResult) []string {
	var out []string
	for _, e := range r.Entries {
		out = append(out, e.GetAttributeValue("cn"))
	}
	return out
}
