package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"govmail/internal/auth"
	"govmail/internal/testutil"
)

// readReply reads one (possibly multi-line) SMTP reply.
func readReply(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var out strings.Builder
	for {
		l, err := r.ReadString('\n')
		out.WriteString(l)
		if err != nil || len(l) < 4 || l[3] == ' ' {
			return out.String()
		}
	}
}

// Issue 11: a command pipelined behind STARTTLS in the same packet is never
// executed inside the TLS session (CVE-2011-0411 class).
func TestSTARTTLSInjection(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	c, err := net.Dial("tcp", s.Addr("submission"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	readReply(t, r)
	c.Write([]byte("EHLO x\r\n"))
	readReply(t, r)
	c.Write([]byte("STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n"))
	rep := readReply(t, r)
	if !strings.HasPrefix(rep, "220") {
		t.Logf("pipelined STARTTLS refused outright: %q", rep)
		return
	}
	tc := tls.Client(c, testutil.ClientTLS())
	if err := tc.Handshake(); err != nil {
		t.Logf("the server dropped the connection: %v", err)
		return
	}
	tr := bufio.NewReader(tc)
	tc.SetDeadline(time.Now().Add(2 * time.Second))
	tc.Write([]byte("EHLO x\r\n"))
	got := readReply(t, tr)
	if !strings.HasPrefix(got, "250") {
		t.Fatalf("after STARTTLS, EHLO answered %q: the injected command was processed in TLS", got)
	}
	tc.Write([]byte("RCPT TO:<x@sonla.gov.vn>\r\n"))
	if got := readReply(t, tr); strings.HasPrefix(got, "250") {
		t.Fatalf("RCPT accepted without MAIL in the TLS session: the injected MAIL FROM survived (%q)", got)
	}
}

// N1: every TLS listener refuses TLS 1.1 and older.
func TestTLSVersionsN1(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	old := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11} //nolint:gosec // the point of the test
	for _, svc := range []string{"submissions", "imaps", "pop3s"} {
		c, err := tls.Dial("tcp", s.Addr(svc), old)
		if err == nil {
			c.Close()
			t.Errorf("%s accepted TLS 1.1", svc)
		}
		c, err = tls.Dial("tcp", s.Addr(svc), testutil.ClientTLS())
		if err != nil {
			t.Errorf("%s: TLS 1.2+ refused: %v", svc, err)
			continue
		}
		if v := c.ConnectionState().Version; v < tls.VersionTLS12 {
			t.Errorf("%s negotiated %x", svc, v)
		}
		c.Close()
	}
}

// Security-level controls (failed logins): 1,000 guesses from one address get
// only a handful of password checks; the owner from their own address is not
// locked out, and no account state changes (R8.6).
func TestBruteForceThousandAttempts(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	a := s.AddAccount(t, "victim.skhcn@sonla.gov.vn", pw)
	ctx := context.Background()
	// The owner logs in once from their office address.
	if _, err := s.App.Auth.Login(ctx, auth.Request{Proto: "imap", Username: a.Address, Password: pw, RemoteIP: "192.0.2.10"}); err != nil {
		t.Fatal(err)
	}
	s.App.Auth.Sleep = func(context.Context, time.Duration) {} // the growing delay is the throttle's; not this test's wait
	refused := 0
	for i := 0; i < 1000; i++ {
		_, err := s.App.Auth.Login(ctx, auth.Request{Proto: "smtp", Username: a.Address, Password: "Guess" + string(rune('A'+i%26)) + "1!x", RemoteIP: "198.51.100.66"})
		if errors.Is(err, auth.ErrThrottled) {
			refused++
		}
	}
	if refused < 990 {
		t.Errorf("only %d of 1000 guesses refused without a password check", refused)
	}
	if _, err := s.App.Auth.Login(ctx, auth.Request{Proto: "imap", Username: a.Address, Password: pw, RemoteIP: "192.0.2.10"}); err != nil {
		t.Fatalf("the owner is locked out by a stranger's guesses: %v", err)
	}
	if acc, _ := s.App.Store.AccountByID(ctx, a.ID); acc.State != "active" {
		t.Fatalf("throttling changed the account state: %s", acc.State)
	}
	// Over the wire the refusal is a temporary 454, not 535.
	c := dialSubmissionTLS(t, s)
	err := c.Auth(sasl.NewPlainClient("", a.Address, "x"))
	if codeOf(err) != 454 && codeOf(err) != 535 {
		t.Errorf("AUTH reply: %v", err)
	}
}
