package e2e

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"govmail/internal/config"
	"govmail/internal/store"
	"govmail/internal/testutil"
)

// withPostfix starts a Postfix for example.test (STARTTLS, relaying
// sonla.gov.vn to our MX) and a govmail that resolves through dns and
// delivers to that Postfix.
func withPostfix(t *testing.T, dns *testutil.DNS, more func(*config.Config)) (*testutil.Server, *testutil.Postfix) {
	t.Helper()
	ourMX := freeLoopbackPort(t)
	pf := testutil.StartPostfix(t, testutil.PostfixOptions{LocalDomains: []string{"example.test"}, TLS: true,
		Relay: map[string]string{"sonla.gov.vn": ourMX}})
	_, pport, _ := net.SplitHostPort(pf.Addr)
	port, _ := strconv.Atoi(pport)
	s := testutil.Start(t, testutil.Options{Config: func(c *config.Config) {
		c.DNS = dns.Addr
		c.Listen.SMTP = []string{ourMX}
		c.Outbound.Port = port
		c.Outbound.BackoffMin = config.Duration{Duration: time.Second}
		if more != nil {
			more(c)
		}
	}})
	return s, pf
}

func freeLoopbackPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Issue 5 end to end, with a real Postfix as the other domain's MTA and a real
// DNS server on loopback: submitted mail is queued, DKIM-signed and delivered to
// Postfix over STARTTLS; Postfix relays mail for our domain to our MX, where
// SPF, DKIM and DMARC go into Authentication-Results; crossing the sending limit
// holds the mail and locks the account (R17.2, Điều 8.2b).
func TestOutboundWithPostfix(t *testing.T) {
	testutil.NeedPostfix(t)
	dns := testutil.StartDNS(t, "example.test. 300 IN MX 10 mx.example.test.", "mx.example.test. 300 IN A 127.0.0.1",
		"example.test. 300 IN TXT \"v=spf1 ip4:127.0.0.1 -all\"")
	s, pf := withPostfix(t, dns, func(c *config.Config) { c.Limits.MessagesPerHour = 2 })
	ctx := context.Background()
	a := s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)

	send := func(subject string) error {
		c := dialSubmissionTLS(t, s)
		defer c.Close()
		if err := c.Auth(sasl.NewPlainClient("", a.Address, pw)); err != nil {
			return err
		}
		if err := c.Mail(a.Address, nil); err != nil {
			return err
		}
		if err := c.Rcpt("friend@example.test", nil); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		w.Write([]byte("From: hoant.skhcn@sonla.gov.vn\r\nTo: friend@example.test\r\nSubject: " + subject + "\r\nMessage-ID: <" + subject + "@sonla.gov.vn>\r\n\r\nKính mời.\r\n"))
		return w.Close()
	}
	if err := send("out1"); err != nil {
		t.Fatal(err)
	}
	msgs := pf.WaitMessages(t, 1, 30*time.Second)
	if !bytes.Contains(msgs[0], []byte("DKIM-Signature:")) || !bytes.Contains(msgs[0], []byte("Kính mời.")) {
		t.Fatalf("delivered to Postfix unsigned or altered:\n%s", msgs[0])
	}
	waitFor(t, "the outbound log row", func() bool {
		rows, _ := s.App.Store.SearchLog(ctx, store.LogFilter{Address: "friend@example.test", Status: store.LogDelivered})
		return len(rows) == 1 && rows[0].Direction == "out"
	})

	// Postfix delivers to us: its mail for sonla.gov.vn goes to our MX.
	pc, err := smtp.Dial(pf.Addr)
	if err != nil {
		t.Fatal(err)
	}
	pc.Hello("client.example.test")
	pc.Mail("friend@example.test", nil)
	if err := pc.Rcpt(a.Address, nil); err != nil {
		t.Fatalf("Postfix refused our recipient: %v", err)
	}
	w, _ := pc.Data()
	w.Write([]byte("From: friend@example.test\r\nTo: hoant.skhcn@sonla.gov.vn\r\nSubject: reply\r\nMessage-ID: <in1@example.test>\r\n\r\nĐã nhận.\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pc.Quit()
	waitFor(t, "mail relayed by Postfix", func() bool { return len(inboxBodies(t, s, a)) == 1 })
	got := inboxBodies(t, s, a)[0]
	if !bytes.Contains(got, []byte("Authentication-Results: mail.sonla.gov.vn")) || !bytes.Contains(got, []byte("spf=pass")) {
		t.Errorf("no SPF pass in Authentication-Results:\n%s", got[:min(len(got), 800)])
	}

	// R17.2: the third message in an hour crosses the limit of 2: held, locked.
	if err := send("out2"); err != nil {
		t.Fatal(err)
	}
	if err := send("out3"); err != nil {
		t.Fatalf("the limit-crossing message must still be accepted (held): %v", err)
	}
	acc, _ := s.App.Store.AccountByID(ctx, a.ID)
	if acc.State != store.StateLocked || acc.LockReason != store.LockCompromised {
		t.Fatalf("not locked after crossing the limit: %s %s", acc.State, acc.LockReason)
	}
	qs := s.App.Store.(store.QueueStore)
	yes := true
	held, err := qs.ListQueue(ctx, store.QueueFilter{Held: &yes})
	if err != nil || len(held) == 0 {
		t.Fatalf("nothing held: %v %v", held, err)
	}
}
