package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"govmail/internal/config"
	"govmail/internal/store"
	"govmail/internal/testutil"
)

// DANE end to end (issue 5 part 4): govmail resolving through a real
// validating unbound over a signed example.test delivers to Postfix because
// Postfix's self-signed certificate matches its TLSA record, and refuses to
// deliver (defers) to an MX whose TLSA record matches nothing.
func TestDANEWithPostfix(t *testing.T) {
	testutil.NeedPostfix(t)
	dns := testutil.StartDNS(t, "example.test. 60 IN MX 10 mx.example.test.", "mx.example.test. 60 IN A 127.0.0.1",
		"wrong.example.test. 60 IN MX 10 mx.wrong.example.test.", "mx.wrong.example.test. 60 IN A 127.0.0.1")
	anchor := dns.Sign(t, "example.test.")
	resolver := testutil.StartUnbound(t, dns, "test.", anchor)
	s, pf := withPostfix(t, dns, func(c *config.Config) { c.DNS = resolver })
	_, port, _ := net.SplitHostPort(pf.Addr)
	pemBytes, err := os.ReadFile(filepath.Join(pf.Dir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	dns.Add(t, "_"+port+"._tcp.mx.example.test. 60 IN TLSA 3 1 1 "+hex.EncodeToString(sum[:]),
		"_"+port+"._tcp.mx.wrong.example.test. 60 IN TLSA 3 1 1 "+strings.Repeat("cd", 32))

	ctx := context.Background()
	a := s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)
	for _, rcpt := range []string{"friend@example.test", "friend@wrong.example.test"} {
		c := dialSubmissionTLS(t, s)
		if err := c.Auth(sasl.NewPlainClient("", a.Address, pw)); err != nil {
			t.Fatal(err)
		}
		if err := c.SendMail(a.Address, []string{rcpt}, strings.NewReader("From: hoant.skhcn@sonla.gov.vn\r\nTo: "+rcpt+"\r\nSubject: DANE\r\n\r\nKính gửi.\r\n")); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	pf.WaitMessages(t, 1, 30*time.Second)
	waitFor(t, "both outcomes in the log", func() bool {
		ok, _ := s.App.Store.SearchLog(ctx, store.LogFilter{Address: "friend@example.test", Status: store.LogDelivered})
		bad, _ := s.App.Store.SearchLog(ctx, store.LogFilter{Address: "friend@wrong.example.test", Status: store.LogDeferred})
		return len(ok) == 1 && len(bad) >= 1
	})
	bad, _ := s.App.Store.SearchLog(ctx, store.LogFilter{Address: "friend@wrong.example.test"})
	if !strings.Contains(bad[0].Error, "TLSA") {
		t.Fatalf("the mismatching MX was not refused for its TLSA record: %+v", bad)
	}
	if n := len(pf.Messages()); n != 1 {
		t.Fatalf("Postfix got %d messages; the one to the mismatching MX must stay queued", n)
	}
}
