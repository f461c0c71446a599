package queue_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"govmail/internal/authreport"
	"govmail/internal/clock"
	"govmail/internal/queue"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// harness is a queue over a real SQLite store and a real DNS server; remote
// port 25 of the names in DNS is mapped to loopback test peers by dial.
type harness struct {
	st    *sqlite.Store
	clk   *clock.Fake
	dns   *testutil.DNS
	q     *queue.Queue
	dsns  *dsnRecorder
	ports map[string]string // "ip:25" → real loopback address
	mu    sync.Mutex
}

type dsnRecorder struct {
	mu  sync.Mutex
	got []recordedDSN
}

type recordedDSN struct {
	rcpt string
	raw  string
}

func (r *dsnRecorder) DeliverLocal(_ context.Context, m queue.LocalMessage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, recordedDSN{m.Rcpt, string(m.Raw)})
	return nil
}

func (r *dsnRecorder) all() []recordedDSN {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedDSN(nil), r.got...)
}

type harnessOpts struct {
	cfg    func(*queue.Config)
	local  queue.LocalDelivery
	tls    *tls.Config
	signer queue.Signer
	sts    queue.PolicyFinder
	st     *sqlite.Store
	onTLS  func(ctx context.Context, o authreport.TLSEvent)
	// daneZone, when set, is signed, and every lookup goes through a private
	// validating unbound that trusts its key, which is also the DANE resolver.
	daneZone string
}

func newHarness(t *testing.T, o harnessOpts, records ...string) *harness {
	t.Helper()
	h := &harness{clk: clock.NewFake(t0), dsns: &dsnRecorder{}, ports: map[string]string{}}
	h.st = o.st
	if h.st == nil {
		st, err := sqlite.Open(context.Background(), sqlite.Options{Dir: t.TempDir(), Clock: h.clk})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		h.st = st
	}
	h.dns = testutil.StartDNS(t, records...)
	var res queue.Resolver = h.dns.Resolver()
	var dane queue.SecureResolver
	if o.daneZone != "" {
		anchor := h.dns.Sign(t, o.daneZone)
		addr := testutil.StartUnbound(t, h.dns, "test.", anchor)
		res = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
		dane = &queue.DNSClient{Server: addr}
	}
	cfg := queue.Config{
		Hostname:       "mail.sonla.gov.vn",
		Domains:        []string{"sonla.gov.vn"},
		Port:           25,
		BackoffMin:     5 * time.Minute,
		BackoffMax:     time.Hour,
		ConnectTimeout: 2 * time.Second,
		CommandTimeout: 3 * time.Second,
		DataTimeout:    3 * time.Second,
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	var local queue.LocalDelivery = h.dsns
	if o.local != nil {
		local = o.local
	}
	q, err := queue.New(queue.Options{
		Config: cfg, Store: h.st, Resolver: res, Clock: h.clk, Local: local, DANE: dane,
		Dial: h.dial, TLS: o.tls, Signer: o.signer, STS: o.sts, OnTLS: o.onTLS,
		// GOVMAIL_TEST_LOG=1 shows the queue's log.
		Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.q = q
	return h
}

// route maps ip:25 to a loopback test peer.
func (h *harness) route(ip, addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ports[net.JoinHostPort(ip, "25")] = addr
}

// dial connects only to loopback peers: an address the test did not map is
// refused as an unreachable host would be.
func (h *harness) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	h.mu.Lock()
	real, ok := h.ports[addr]
	h.mu.Unlock()
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused (no test peer at " + addr + ")")}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, real)
}

func (h *harness) submit(t *testing.T, from string, rcpts []string, body string) int64 {
	t.Helper()
	s := &queue.Submission{From: from, AuthUser: from, ClientIP: "127.0.0.1", ClientHelo: "client.test", Proto: "ESMTPSA",
		Body: []byte("From: <" + from + ">\r\nTo: <" + rcpts[0] + ">\r\nSubject: thử nghiệm\r\nMessage-ID: <" + fmt.Sprint(time.Now().UnixNano()) + "@sonla.gov.vn>\r\n\r\n" + body + "\r\n")}
	for _, r := range rcpts {
		s.Recipients = append(s.Recipients, queue.Recipient{Address: r})
	}
	id, err := h.q.Submit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (h *harness) runOnce(t *testing.T) int {
	t.Helper()
	n, err := h.q.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (h *harness) logs(t *testing.T, rcpt string) []store.LogEntry {
	t.Helper()
	rows, err := h.st.SearchLog(context.Background(), store.LogFilter{Address: rcpt})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.LogEntry
	for i := len(rows) - 1; i >= 0; i-- { // oldest first
		if strings.EqualFold(rows[i].Recipient, rcpt) && rows[i].Direction == "out" {
			out = append(out, rows[i])
		}
	}
	return out
}

func (h *harness) queueLen(t *testing.T) int {
	t.Helper()
	l, err := h.st.ListQueue(context.Background(), store.QueueFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(l)
}

// peer is a go-smtp server used as a remote MX whose answers a test decides:
// greylisting, 550, a stalled server. Real foreign-MTA behaviour is tested
// against Postfix; this peer injects the failures.
type peer struct {
	Addr string
	srv  *smtp.Server

	mu       sync.Mutex
	rcpt     func(from, to string, n int) error // n: how often this pair was seen
	stall    time.Duration                      // before answering DATA
	seen     map[string]int
	msgs     []peerMsg
	tcp      int
	authUser string
	needAuth bool
}

type peerMsg struct {
	From string
	To   []string
	Data string
	User string
	TLS  bool
}

func startPeer(t *testing.T, tlsCfg *tls.Config, network, addr string) *peer {
	t.Helper()
	p := &peer{seen: map[string]int{}}
	p.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &peerSession{p: p, c: c}, nil
	}))
	p.srv.Domain = "peer.test"
	p.srv.TLSConfig = tlsCfg
	p.srv.ReadTimeout = 10 * time.Second
	p.srv.WriteTimeout = 10 * time.Second
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("listen %s: %v", addr, err)
	}
	p.Addr = ln.Addr().String()
	go p.srv.Serve(&countingListener{Listener: ln, p: p})
	t.Cleanup(func() { p.srv.Close() })
	return p
}

func (p *peer) messages() []peerMsg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]peerMsg(nil), p.msgs...)
}

// accepted counts TCP connections (go-smtp makes a new session after STARTTLS).
func (p *peer) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tcp
}

type countingListener struct {
	net.Listener
	p *peer
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.p.mu.Lock()
		l.p.tcp++
		l.p.mu.Unlock()
	}
	return c, err
}

// refusedAddr is a loopback port where nothing listens: a server that is down.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

type peerSession struct {
	p    *peer
	c    *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
}

func (s *peerSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *peerSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "relay" || password != "Bí mật 1!" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.user = username
		return nil
	}), nil
}

func (s *peerSession) Mail(from string, _ *smtp.MailOptions) error {
	s.p.mu.Lock()
	need := s.p.needAuth
	s.p.mu.Unlock()
	if need && s.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "auth required"}
	}
	s.from = from
	_, s.tls = s.c.TLSConnectionState()
	return nil
}

func (s *peerSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.p.mu.Lock()
	key := s.from + " " + to
	s.p.seen[key]++
	n, f := s.p.seen[key], s.p.rcpt
	s.p.mu.Unlock()
	if f != nil {
		if err := f(s.from, to, n); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *peerSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.p.mu.Lock()
	stall := s.p.stall
	s.p.mu.Unlock()
	if stall > 0 {
		time.Sleep(stall)
	}
	s.p.mu.Lock()
	s.p.msgs = append(s.p.msgs, peerMsg{From: s.from, To: s.to, Data: string(b), User: s.user, TLS: s.tls})
	s.p.mu.Unlock()
	return nil
}

func (s *peerSession) Reset() { s.from, s.to = "", nil }

func testLogger() *slog.Logger {
	if os.Getenv("GOVMAIL_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
func (s *peerSession) Logout() error { return nil }

// tlsRecorder collects the TLS outcomes the queue reports, by domain.
type tlsRecorder struct {
	mu  sync.Mutex
	got map[string][]authreport.TLSEvent
}

func (r *tlsRecorder) record(_ context.Context, o authreport.TLSEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[string][]authreport.TLSEvent{}
	}
	r.got[o.Domain] = append(r.got[o.Domain], o)
}

// of returns the outcomes for domain.
func (r *tlsRecorder) of(domain string) []authreport.TLSEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]authreport.TLSEvent(nil), r.got[domain]...)
}
