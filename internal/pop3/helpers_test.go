package pop3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake backend is an in-memory Backend: the interface is this package's own,
// so a fake of it tests the protocol layer without mocking anything foreign.

type fakeMsg struct {
	uid  string
	body []byte
}

type commitCall struct {
	user    string
	deleted []string
	ctxErr  error // the context's error when Commit returned
}

type fakeBackend struct {
	mu        sync.Mutex
	passwords map[string]string
	boxes     map[string][]fakeMsg
	logins    []ConnInfo
	commits   []commitCall
	opened    int // mailboxes handed out
	closes    int

	panics      bool // Login of user "panic" panics
	commitErr   error
	blockCommit chan struct{} // when set, Commit signals here and waits for its ctx
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		panics: true,
		passwords: map[string]string{
			"alice":   "secret pass",
			"badsnap": "x",
			"empty":   "x",
			"flaky":   "x",
		},
		boxes: map[string][]fakeMsg{
			"alice": testMessages(),
			"badsnap": {
				{uid: "same", body: []byte("a\r\n")},
				{uid: "same", body: []byte("b\r\n")},
			},
			"flaky": {
				{uid: "ok-1", body: []byte("Subject: ok\r\n\r\nfine\r\n")},
				{uid: "bad-2", body: []byte("UNREADABLE")},
				{uid: "mid-3", body: []byte("FAILS-MIDWAY")},
			},
		},
	}
}

// testMessages: dot lines, bare LF, no final newline.
func testMessages() []fakeMsg {
	return []fakeMsg{
		{uid: "uid-1", body: []byte("Subject: one\r\n\r\nHello\r\n.hidden dot line\r\n..two dots\r\n.\r\nend\r\n")},
		{uid: "uid-2", body: []byte("Subject: two\nX: y\n\nline1\nline2\r\nline3\n")},
		{uid: "uid-3", body: []byte("Subject: three\r\n\r\nno newline at end")},
	}
}

func (b *fakeBackend) Login(ctx context.Context, conn ConnInfo, username, password string) (Mailbox, error) {
	switch username {
	case "panic":
		if b.panics {
			panic("fake backend panic")
		}
	case "broken":
		return nil, errors.New("db down: secret internal detail")
	case "inuse":
		return nil, fmt.Errorf("lock held: %w", ErrInUse)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.logins = append(b.logins, conn)
	if pw, ok := b.passwords[username]; !ok || pw != password {
		return nil, &Error{Code: ErrAuthFailed.Code, Text: ErrAuthFailed.Text, Err: errors.New("bad password")}
	}
	b.opened++
	return &fakeMailbox{b: b, user: username, msgs: append([]fakeMsg(nil), b.boxes[username]...)}, nil
}

func (b *fakeBackend) lastLogin() ConnInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.logins[len(b.logins)-1]
}

func (b *fakeBackend) getCommits() []commitCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]commitCall(nil), b.commits...)
}

func (b *fakeBackend) getCloses() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closes
}

type fakeMailbox struct {
	b    *fakeBackend
	user string
	msgs []fakeMsg
}

func (m *fakeMailbox) Messages(ctx context.Context) ([]MessageInfo, error) {
	out := make([]MessageInfo, len(m.msgs))
	for i, msg := range m.msgs {
		out[i] = MessageInfo{UID: msg.uid, Size: int64(len(msg.body))}
	}
	return out, nil
}

func (m *fakeMailbox) Open(ctx context.Context, uid string) (io.ReadCloser, error) {
	for _, msg := range m.msgs {
		if msg.uid != uid {
			continue
		}
		switch string(msg.body) {
		case "UNREADABLE":
			return nil, errors.New("blob missing")
		case "FAILS-MIDWAY":
			return io.NopCloser(io.MultiReader(strings.NewReader("Subject: partial\r\n\r\nfirst line\r\n"),
				errReader{errors.New("disk error")})), nil
		}
		return io.NopCloser(bytes.NewReader(msg.body)), nil
	}
	return nil, errors.New("no such uid")
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func (m *fakeMailbox) Commit(ctx context.Context, deleted []string) error {
	m.b.mu.Lock()
	block, cerr := m.b.blockCommit, m.b.commitErr
	m.b.mu.Unlock()
	var ctxErr error
	if block != nil {
		block <- struct{}{}
		<-ctx.Done()
		ctxErr = ctx.Err()
		cerr = ctxErr
	}
	m.b.mu.Lock()
	defer m.b.mu.Unlock()
	m.b.commits = append(m.b.commits, commitCall{user: m.user, deleted: deleted, ctxErr: ctxErr})
	return cerr
}

func (m *fakeMailbox) Close() error {
	m.b.mu.Lock()
	defer m.b.mu.Unlock()
	m.b.closes++
	return nil
}

// logBuffer collects logs for assertions; safe for the session goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newTestServer(b Backend) (*Server, *logBuffer) {
	logs := &logBuffer{}
	return &Server{
		Backend:  b,
		Hostname: "mail.test",
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, logs
}

// startServer serves srv on 127.0.0.1:0 until the test ends and returns the address.
func startServer(t *testing.T, srv *Server, implicitTLS bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		if implicitTLS {
			errc <- srv.ServeTLS(ln)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		srv.wg.Wait() // no session goroutine outlives its test
	})
	return ln.Addr().String()
}

type testClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func newTestClient(t *testing.T, conn net.Conn) *testClient {
	t.Helper()
	// A hung server fails the test instead of hanging it.
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return &testClient{t: t, conn: conn, br: bufio.NewReader(conn)}
}

func dial(t *testing.T, addr string) *testClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return newTestClient(t, conn)
}

func (c *testClient) line() string {
	c.t.Helper()
	l, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading reply: %v (got %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("reply %q does not end with CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

func (c *testClient) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		c.t.Fatalf("sending %q: %v", line, err)
	}
}

func (c *testClient) cmd(line string) string {
	c.t.Helper()
	c.send(line)
	return c.line()
}

// multi reads a multi-line body up to its "." line, as sent (still dot-stuffed).
func (c *testClient) multi() []string {
	c.t.Helper()
	var lines []string
	for {
		l := c.line()
		if l == "." {
			return lines
		}
		lines = append(lines, l)
	}
}

func (c *testClient) expectClosed() {
	c.t.Helper()
	if l, err := c.br.ReadString('\n'); err == nil || l != "" {
		c.t.Fatalf("want connection closed, got %q, %v", l, err)
	}
}

func (c *testClient) login() {
	c.t.Helper()
	if got := c.cmd("USER alice"); !strings.HasPrefix(got, "+OK") {
		c.t.Fatalf("USER: %q", got)
	}
	if got := c.cmd("PASS secret pass"); !strings.HasPrefix(got, "+OK") {
		c.t.Fatalf("PASS: %q", got)
	}
}

// testCerts makes a self-signed ECDSA certificate for 127.0.0.1 and localhost.
func testCerts(t testing.TB) (serverConf, clientConf *tls.Config, caPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "govmail pop3 test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	serverConf = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
		MinVersion:   tls.VersionTLS12,
	}
	clientConf = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return serverConf, clientConf, caPEM
}
