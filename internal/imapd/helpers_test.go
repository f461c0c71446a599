package imapd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"govmail/internal/auth"
	"govmail/internal/clock"
	"govmail/internal/delivery"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
)

// hashPassword stands in for the argon2id hash: the tests need a Verifier, not
// a strong one.
func hashPassword(pw string) string {
	sum := sha256.Sum256([]byte(pw))
	return "sha256$" + hex.EncodeToString(sum[:])
}

func verifyPassword(encoded, pw string) (bool, error) {
	return encoded == hashPassword(pw), nil
}

// tlsPair makes a self-signed ECDSA P-256 certificate for localhost and the
// loopback addresses: a server configuration with it, and a client one that
// trusts exactly it. (Not internal/testutil: that package starts the whole
// application, which imports this package.)
func tlsPair(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("tls key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("tls certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("tls certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	client = &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	return server, client
}

// testEnv is a real server on 127.0.0.1 over a real SQLite store.
type testEnv struct {
	t         testing.TB
	store     store.Store
	srv       *Server
	addr      string // STARTTLS (port 143 style)
	tlsAddr   string // implicit TLS (port 993 style)
	clientTLS *tls.Config
}

type envOptions struct {
	// wrap lets a test put a hook between the server and the store.
	wrap func(store.Store) store.Store
	// throttle is given to auth.Service.
	throttle auth.Throttle
	// learn and report are Options.Learn and Options.Report.
	learn  func(raw []byte, spam bool)
	report func(accountID int64, raw []byte)
}

// refuseThrottle throttles one account, as internal/throttle does after too
// many failures.
type refuseThrottle struct{ account string }

func (r refuseThrottle) Check(_ context.Context, account, _ string) (bool, time.Duration, time.Duration) {
	if account == r.account {
		return false, 15 * time.Minute, 0
	}
	return true, 0, 0
}
func (refuseThrottle) Failure(context.Context, string, string) {}
func (refuseThrottle) Success(context.Context, string, string) {}

// logWriter sends server logs to the test log until the test ends (a log line
// after that would panic).
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

func newEnv(t testing.TB, opts ...envOptions) *testEnv {
	t.Helper()
	ctx := context.Background()
	sq, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	var st store.Store = sq
	var throttle auth.Throttle
	var learn func([]byte, bool)
	var report func(int64, []byte)
	for _, o := range opts {
		if o.wrap != nil {
			st = o.wrap(st)
		}
		if o.throttle != nil {
			throttle = o.throttle
		}
		if o.learn != nil {
			learn = o.learn
		}
		if o.report != nil {
			report = o.report
		}
	}
	lw := &logWriter{t: t}
	log := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	serverTLS, clientTLS := tlsPair(t)
	authSvc := &auth.Service{Store: st, Clock: clock.Real{}, Verify: verifyPassword, Throttle: throttle, Logger: slog.New(slog.DiscardHandler)}
	srv, err := New(Options{Store: st, Auth: authSvc, Logger: log, TLSConfig: serverTLS, Learn: learn, Report: report})
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
			if err := serve(); err != nil && !errors.Is(err, ErrServerClosed) {
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
	return &testEnv{t: t, store: st, srv: srv, addr: ln.Addr().String(), tlsAddr: tln.Addr().String(), clientTLS: clientTLS}
}

// account creates an account with password pw; mod may change it first.
func (e *testEnv) account(address, pw string, mod func(*store.Account)) *store.Account {
	e.t.Helper()
	a := &store.Account{Address: address, DisplayName: address, PasswordHash: hashPassword(pw), QuotaBytes: 1 << 30, PasswordSetAt: time.Now()}
	if mod != nil {
		mod(a)
	}
	if err := e.store.CreateAccount(context.Background(), a); err != nil {
		e.t.Fatalf("create account: %v", err)
	}
	return a
}

// dial connects with STARTTLS.
func (e *testEnv) dial(h *imapclient.UnilateralDataHandler) *imapclient.Client {
	e.t.Helper()
	return e.dialOptions(&imapclient.Options{UnilateralDataHandler: h})
}

func (e *testEnv) dialOptions(o *imapclient.Options) *imapclient.Client {
	e.t.Helper()
	o.TLSConfig = e.clientTLS
	c, err := imapclient.DialStartTLS(e.addr, o)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// login dials and logs in.
func (e *testEnv) login(user, pw string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	e.t.Helper()
	c := e.dial(h)
	if err := c.Login(user, pw).Wait(); err != nil {
		e.t.Fatalf("login %s: %v", user, err)
	}
	return c
}

// deliver stores raw in the account's mailbox the way SMTP delivery does.
func (e *testEnv) deliver(a *store.Account, mailbox, raw string) uint32 {
	e.t.Helper()
	nm, _ := delivery.Prepare([]byte(raw), time.Now())
	out, err := e.store.Deliver(context.Background(), nm, []store.DeliveryTarget{{AccountID: a.ID, Mailbox: mailbox}})
	if err != nil || out[0].Err != nil {
		e.t.Fatalf("deliver: %v %v", err, out)
	}
	return out[0].UID
}

func (e *testEnv) mailbox(a *store.Account, name string) *store.Mailbox {
	e.t.Helper()
	mb, err := e.store.MailboxByName(context.Background(), a.ID, name)
	if err != nil {
		e.t.Fatalf("mailbox %s: %v", name, err)
	}
	return mb
}

// simpleMessage is a short text message.
func simpleMessage(subject, body string) string {
	return "From: Nguyễn Văn An <an@sonla.gov.vn>\r\n" +
		"To: Trần Thị Bình <binh@sonla.gov.vn>\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Mon, 24 Nov 2025 08:30:00 +0700\r\n" +
		"Message-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@sonla.gov.vn>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"\r\n" + body + "\r\n"
}

// responseCode extracts the IMAP response code of a failed command.
func responseCode(err error) imap.ResponseCode {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return ie.Code
	}
	return ""
}

// waitFor polls cond until it holds or the deadline passes (no sleeps).
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		<-tick.C
	}
}

// recorder collects unilateral updates of one client.
type recorder struct {
	mu       sync.Mutex
	exists   []uint32
	expunges []uint32
	fetches  map[uint32][]imap.Flag // seq → last flags seen
	fetchN   int
}

func (r *recorder) handler() *imapclient.UnilateralDataHandler {
	return &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				r.mu.Lock()
				r.exists = append(r.exists, *d.NumMessages)
				r.mu.Unlock()
			}
		},
		Expunge: func(seq uint32) {
			r.mu.Lock()
			r.expunges = append(r.expunges, seq)
			r.mu.Unlock()
		},
		Fetch: func(msg *imapclient.FetchMessageData) {
			buf, err := msg.Collect()
			if err != nil {
				return
			}
			r.mu.Lock()
			if r.fetches == nil {
				r.fetches = map[uint32][]imap.Flag{}
			}
			r.fetches[buf.SeqNum] = buf.Flags
			r.fetchN++
			r.mu.Unlock()
		},
	}
}

func (r *recorder) snapshot() (exists, expunges []uint32, fetches map[uint32][]imap.Flag, fetchN int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fetches = map[uint32][]imap.Flag{}
	for k, v := range r.fetches {
		fetches[k] = v
	}
	return append([]uint32(nil), r.exists...), append([]uint32(nil), r.expunges...), fetches, r.fetchN
}

func hasIMAPFlag(flags []imap.Flag, f imap.Flag) bool {
	for _, x := range flags {
		if strings.EqualFold(string(x), string(f)) {
			return true
		}
	}
	return false
}

// fetchUIDs lists seq → UID of the whole selected mailbox.
func fetchUIDs(t testing.TB, c *imapclient.Client) map[uint32]imap.UID {
	t.Helper()
	msgs, err := c.Fetch(allSeq(), &imap.FetchOptions{UID: true}).Collect()
	if err != nil {
		t.Fatalf("fetch uids: %v", err)
	}
	out := map[uint32]imap.UID{}
	for _, m := range msgs {
		out[m.SeqNum] = m.UID
	}
	return out
}

// allSeq is "1:*".
func allSeq() imap.SeqSet { return imap.SeqSet{{Start: 1, Stop: 0}} }

// wire records a client's conversation; the client's reader has consumed (and
// so recorded) every response line before the command they precede completes.
type wire struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (w *wire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *wire) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// fetchLines counts the untagged FETCH responses in s.
func fetchLines(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\r\n") {
		if strings.HasPrefix(l, "* ") && strings.Contains(l, " FETCH (") {
			n++
		}
	}
	return n
}
