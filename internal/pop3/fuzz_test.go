package pop3

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptConn is a net.Conn whose client side is a fixed byte stream: the
// session reads it to EOF and everything it writes is kept. No network and no
// timing, so a fuzz input always replays the same way.
type scriptConn struct {
	r  io.Reader
	mu sync.Mutex
	w  bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Write(p)
}
func (c *scriptConn) Close() error        { return nil }
func (c *scriptConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 110} }
func (c *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

func FuzzSession(f *testing.F) {
	ir := plainIR("", "alice", "secret pass")
	seeds := []string{
		"CAPA\r\nUSER alice\r\nPASS secret pass\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 2 1\r\nDELE 1\r\nRSET\r\nDELE 3\r\nQUIT\r\n",
		"AUTH PLAIN " + ir + "\r\nLIST 2\r\nUIDL 3\r\nRETR 3\r\nTOP 1 0\r\nNOOP\r\nQUIT\r\n",
		"AUTH PLAIN\r\n" + ir + "\r\nDELE 2\r\nDELE 2\r\nLIST\r\nQUIT\r\n",
		"AUTH PLAIN\r\n*\r\nAUTH\r\nAUTH PLAIN =\r\nAUTH X\r\n",
		"USER flaky\r\nPASS x\r\nRETR 2\r\nRETR 3\r\nRETR 1\r\n",
		"USER badsnap\nPASS x\nUSER empty\nPASS x\nSTAT\nLIST 1\n",
		"STLS\r\n\x16\x03\x01\x00\x05hello",
		"STLS\r\nCAPA\r\n",
		"APOP a b\r\nRETR 1\r\nBOGUS\r\n\r\n" + strings.Repeat("A", 300) + "\r\nQUIT\r\n",
		"USER panic\r\nPASS x\r\n",
		"USER alice\r\nPASS secret pass\r\nLIST 99999999999\r\nTOP 1 99999999\r\nRETR 0\r\nDELE -1\r\nUSER x\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	serverConf, _, _ := testCerts(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		b := newFakeBackend()
		b.panics = false // so that any panic the log shows is the server's own
		logs := &logBuffer{}
		srv := &Server{
			Backend:           b,
			Hostname:          "fuzz.test",
			TLSConfig:         serverConf,
			AllowInsecureAuth: true,
			MaxLineLength:     128,
			Logger:            slog.New(slog.NewTextHandler(logs, nil)),
		}
		srv.init()
		conn := &scriptConn{r: bytes.NewReader(input)}
		s := newSession(srv, conn, false)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.serve()
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("session hung on input %q", input)
		}

		out := conn.w.Bytes()
		if strings.Contains(logs.String(), "pop3 session panic") {
			t.Fatalf("panic on input %q:\n%s", input, logs)
		}
		// Every line the server sends ends in CRLF, whatever the message or input.
		for i, c := range out {
			if c == '\n' && (i == 0 || out[i-1] != '\r') {
				t.Fatalf("bare LF at %d in output %q", i, out)
			}
		}
		if len(out) == 0 || !bytes.HasPrefix(out, []byte("+OK fuzz.test POP3 server ready\r\n")) {
			t.Fatalf("no greeting: %q", out)
		}
		// Commit only on QUIT, and only with UIDs of the snapshot.
		for _, c := range b.getCommits() {
			if !bytes.Contains(bytes.ToUpper(input), []byte("QUIT")) {
				t.Fatalf("commit without QUIT: %q", input)
			}
			for _, uid := range c.deleted {
				if !slices.ContainsFunc(b.boxes[c.user], func(m fakeMsg) bool { return m.uid == uid }) {
					t.Fatalf("commit of unknown uid %q for %s", uid, c.user)
				}
			}
		}
		// Every mailbox handed out is closed exactly once.
		if b.getCloses() != b.opened {
			t.Fatalf("%d mailboxes opened, %d closes", b.opened, b.getCloses())
		}
	})
}
