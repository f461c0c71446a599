package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// stls upgrades the client's connection after STLS and returns the TLS client.
func (c *testClient) stls(conf *tls.Config) *testClient {
	c.t.Helper()
	if got := c.cmd("STLS"); got != "+OK begin TLS negotiation" {
		c.t.Fatalf("STLS: %q", got)
	}
	if c.br.Buffered() != 0 {
		c.t.Fatal("server sent data after the STLS reply")
	}
	tc := tls.Client(c.conn, conf)
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("handshake: %v", err)
	}
	return newTestClient(c.t, tc)
}

func (c *testClient) capa() []string {
	c.t.Helper()
	if got := c.cmd("CAPA"); !strings.HasPrefix(got, "+OK") {
		c.t.Fatalf("CAPA: %q", got)
	}
	return c.multi()
}

func TestAuthRefusedWithoutTLS(t *testing.T) {
	serverConf, _, _ := testCerts(t)
	for _, withTLS := range []bool{true, false} {
		b := newFakeBackend()
		srv, _ := newTestServer(b)
		want := "-ERR [SYS/PERM] TLS required"
		if withTLS {
			srv.TLSConfig = serverConf
			want = "-ERR [SYS/PERM] TLS required: use STLS first"
		}
		c := dial(t, startServer(t, srv, false))
		c.line()
		caps := c.capa()
		if slices.Contains(caps, "USER") || slices.Contains(caps, "SASL PLAIN") {
			t.Errorf("auth advertised without TLS: %q", caps)
		}
		if slices.Contains(caps, "STLS") != withTLS {
			t.Errorf("tls=%v: CAPA %q", withTLS, caps)
		}
		for _, cmd := range []string{"USER alice", "PASS secret pass", "AUTH PLAIN " + plainIR("", "alice", "secret pass"), "AUTH PLAIN", "AUTH"} {
			if got := c.cmd(cmd); got != want {
				t.Errorf("tls=%v %q: got %q, want %q", withTLS, cmd, got, want)
			}
		}
		if len(b.logins) != 0 {
			t.Error("backend asked without TLS")
		}
	}
}

func TestSTLS(t *testing.T) {
	serverConf, clientConf, _ := testCerts(t)
	b := newFakeBackend()
	srv, _ := newTestServer(b)
	srv.TLSConfig = serverConf
	c := dial(t, startServer(t, srv, false))
	c.line()
	c.cmd("USER alice") // refused before TLS, and forgotten anyway
	c = c.stls(clientConf)
	caps := c.capa()
	for _, want := range []string{"USER", "SASL PLAIN", "TOP", "UIDL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE"} {
		if !slices.Contains(caps, want) {
			t.Errorf("CAPA after STLS lacks %q: %q", want, caps)
		}
	}
	if slices.Contains(caps, "STLS") {
		t.Errorf("STLS advertised again: %q", caps)
	}
	if got := c.cmd("STLS"); got != "-ERR TLS already active" {
		t.Errorf("second STLS: %q", got)
	}
	if got := c.cmd("PASS secret pass"); got != "-ERR send USER first" {
		t.Errorf("USER survived STLS: %q", got)
	}
	c.login()
	if info := b.lastLogin(); info.TLS == nil || info.Mechanism != "USER" {
		t.Errorf("ConnInfo %+v", info)
	}
	if got := c.cmd("RETR 1"); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("RETR: %q", got)
	}
	if lines := c.multi(); lines[3] != "..hidden dot line" {
		t.Errorf("RETR over TLS: %q", lines)
	}
	c.cmd("DELE 1")
	if got := c.cmd("QUIT"); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("QUIT: %q", got)
	}
	c.expectClosed()
}

func TestSTLSInjection(t *testing.T) {
	serverConf, _, _ := testCerts(t)
	b := newFakeBackend()
	srv, _ := newTestServer(b)
	srv.TLSConfig = serverConf
	c := dial(t, startServer(t, srv, false))
	c.line()
	// Plain-text bytes after STLS would otherwise be read as if sent over TLS.
	if _, err := c.conn.Write([]byte("STLS\r\nUSER alice\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := c.line(); !strings.HasPrefix(got, "-ERR no command may follow STLS") {
		t.Fatalf("got %q", got)
	}
	c.expectClosed()
}

func TestSTLSHandshakeFailure(t *testing.T) {
	serverConf, clientConf, _ := testCerts(t)
	b := newFakeBackend()
	srv, logs := newTestServer(b)
	srv.TLSConfig = serverConf
	addr := startServer(t, srv, false)
	c := dial(t, addr)
	c.line()
	c.cmd("STLS")
	c.send("this is not a TLS client hello, not at all")
	c.expectClosed()
	if !strings.Contains(logs.String(), "TLS handshake failed") {
		t.Errorf("not logged:\n%s", logs)
	}
	// Others still get through.
	c = dial(t, addr)
	c.line()
	c.stls(clientConf).login()
}

func TestImplicitTLS(t *testing.T) {
	serverConf, clientConf, _ := testCerts(t)
	for _, mode := range []string{"ServeTLS", "Serve on tls.NewListener"} {
		t.Run(mode, func(t *testing.T) {
			b := newFakeBackend()
			srv, _ := newTestServer(b)
			srv.TLSConfig = serverConf
			var addr string
			if mode == "ServeTLS" {
				addr = startServer(t, srv, true)
			} else {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				go srv.Serve(tls.NewListener(ln, serverConf))
				t.Cleanup(func() { srv.Close(); srv.wg.Wait() })
				addr = ln.Addr().String()
			}
			conn, err := tls.Dial("tcp", addr, clientConf)
			if err != nil {
				t.Fatal(err)
			}
			c := newTestClient(t, conn)
			if g := c.line(); !strings.HasPrefix(g, "+OK") {
				t.Fatalf("greeting %q", g)
			}
			caps := c.capa()
			if slices.Contains(caps, "STLS") || !slices.Contains(caps, "USER") {
				t.Errorf("CAPA on implicit TLS: %q", caps)
			}
			if got := c.cmd("AUTH PLAIN " + plainIR("", "alice", "secret pass")); !strings.HasPrefix(got, "+OK maildrop has 3") {
				t.Fatalf("AUTH: %q", got)
			}
			if b.lastLogin().TLS == nil {
				t.Error("ConnInfo.TLS nil on implicit TLS")
			}
			c.cmd("QUIT")
			c.expectClosed()
		})
	}
}

func TestServeTLSWithoutConfig(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Backend: newFakeBackend()}
	if err := srv.ServeTLS(ln); err == nil {
		t.Fatal("ServeTLS without TLSConfig succeeded")
	}
}

func TestIdleTimeout(t *testing.T) {
	b := newFakeBackend()
	srv, _ := newTestServer(b)
	srv.AllowInsecureAuth = true
	srv.IdleTimeout = 100 * time.Millisecond
	c := dial(t, startServer(t, srv, false))
	c.line()
	c.login()
	c.cmd("DELE 1")
	if got := c.line(); got != "-ERR autologout: idle for too long" {
		t.Fatalf("got %q", got)
	}
	c.expectClosed()
	srv.Close()
	srv.wg.Wait()
	if n := len(b.getCommits()); n != 0 {
		t.Errorf("autologout committed %d times; RFC 1939 says no UPDATE", n)
	}
}

func TestMaxConnections(t *testing.T) {
	b := newFakeBackend()
	srv, _ := newTestServer(b)
	srv.MaxConnections = 1
	addr := startServer(t, srv, false)
	first := dial(t, addr)
	first.line()
	second := dial(t, addr)
	if got := second.line(); got != "-ERR [SYS/TEMP] too many connections, try again later" {
		t.Fatalf("over the cap: %q", got)
	}
	second.expectClosed()
	first.cmd("QUIT")
	first.expectClosed()
	// The slot frees once the first session's goroutine is gone; poll with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dial(t, addr)
		got := c.line()
		if strings.HasPrefix(got, "+OK") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot never freed: %q", got)
		}
	}
}

func TestShutdownGraceful(t *testing.T) {
	b := newFakeBackend()
	srv, _ := newTestServer(b)
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	c := dial(t, ln.Addr().String())
	c.line()
	c.login()
	c.cmd("DELE 1")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-errc; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	if got := c.line(); got != "-ERR [SYS/TEMP] server shutting down, try again later" {
		t.Errorf("idle session told %q", got)
	}
	c.expectClosed()
	if n := len(b.getCommits()); n != 0 {
		t.Errorf("shutdown committed deletions")
	}
	if n := b.getCloses(); n != 1 {
		t.Errorf("mailbox closed %d times", n)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still accepting after Shutdown")
	}
	if err := srv.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown: %v", err)
	}
}

func TestShutdownDeadlineCancelsBackend(t *testing.T) {
	b := newFakeBackend()
	b.blockCommit = make(chan struct{}, 1)
	srv, _ := newTestServer(b)
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	c := dial(t, ln.Addr().String())
	c.line()
	c.login()
	c.cmd("DELE 1")
	c.send("QUIT")
	<-b.blockCommit // the session is inside Commit

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want deadline exceeded", err)
	}
	srv.wg.Wait()
	commits := b.getCommits()
	if len(commits) != 1 || !errors.Is(commits[0].ctxErr, context.Canceled) {
		t.Errorf("commit context not cancelled: %+v", commits)
	}
	// The session may get its -ERR out before its connection is closed, or not.
	if l, err := c.br.ReadString('\n'); err == nil && l != "-ERR [SYS/TEMP] some deleted messages not removed\r\n" {
		t.Errorf("QUIT cut short answered %q", l)
	}
	c.expectClosed()
}

func TestServeWithoutBackend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Server{}).Serve(ln); err == nil {
		t.Fatal("Serve without Backend succeeded")
	}
}
