package queue_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"govmail/internal/queue"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
)

// Postfix (Debian's package) is the foreign MTA: govmail's queue delivers to
// it over STARTTLS, one connection for several messages, gets its real 550 for
// an unknown user and bounces into the sender's mailbox; and Postfix delivers
// mail for sonla.gov.vn to govmail's MX.
func TestPostfixPeer(t *testing.T) {
	srv := testutil.Start(t, testutil.Options{})
	srv.AddAccount(t, sender, "Abcdef1!")
	st, ok := srv.App.Store.(*sqlite.Store)
	if !ok {
		t.Skip("queue test needs the SQLite store")
	}
	pf := testutil.StartPostfix(t, testutil.PostfixOptions{
		LocalDomains: []string{"example.test"},
		TLS:          true,
		Relay:        map[string]string{"sonla.gov.vn": srv.Addr("smtp")},
		Main:         map[string]string{"virtual_mailbox_maps": "inline:{ b@example.test=box/, c@example.test=box/ }"},
	})
	h := newHarness(t, harnessOpts{st: st, local: &queue.Local{Store: srv.App.Store, Deliverer: srv.App.Deliver, Hostname: "mail.sonla.gov.vn"}},
		"example.test. 300 IN MX 10 mx.example.test.", "mx.example.test. 300 IN A 127.0.0.1")
	h.route("127.0.0.1", pf.Addr)
	ctx := context.Background()

	t.Run("GovmailToPostfix", func(t *testing.T) {
		h.submit(t, sender, []string{"b@example.test"}, "Kính gửi anh B")
		h.submit(t, sender, []string{"b@example.test", "c@example.test"}, "Gửi hai người")
		h.submit(t, sender, []string{"nobody@example.test", "c@example.test"}, "Một người không tồn tại")
		h.runOnce(t)
		got := pf.WaitMessages(t, 4, 20*time.Second)
		intact := 0
		for _, m := range got {
			if bytes.Contains(m, []byte("\r\n\r\nKính gửi anh B\r\n")) || bytes.Contains(m, []byte("\n\nKính gửi anh B\n")) {
				intact++
			}
		}
		if intact != 1 {
			t.Errorf("body not delivered intact (%d of %d)", intact, len(got))
		}
		for _, rcpt := range []string{"b@example.test", "c@example.test"} {
			for _, r := range h.logs(t, rcpt) {
				if r.Status != store.LogDelivered || !strings.Contains(r.Error, "250 2.0.0 Ok: queued as") || !strings.Contains(r.Error, "TLS") {
					t.Errorf("log row for %s: %+v", rcpt, r)
				}
			}
		}
		// One connection carried all three transactions.
		if !strings.Contains(pf.Log(), "mail=3 rcpt=5/5") && !strings.Contains(pf.Log(), "mail=3 rcpt=4/5") {
			t.Errorf("connection not reused; postfix log:\n%s", pf.Log())
		}
		r := h.logs(t, "nobody@example.test")
		if len(r) != 1 || r[0].Status != store.LogBounced || !strings.Contains(r[0].Error, "550 5.1.1") {
			t.Fatalf("unknown user: %+v", r)
		}
		// The bounce is in the sender's INBOX, with Postfix's own reply.
		acct, err := st.AccountByAddress(ctx, sender)
		if err != nil {
			t.Fatal(err)
		}
		mb, err := st.MailboxByName(ctx, acct.ID, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		msgs, _, err := st.Messages(ctx, mb.ID, false)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("inbox: %d messages, %v", len(msgs), err)
		}
		raw, _ := st.ReadBlob(ctx, msgs[0].BlobID)
		for _, want := range []string{"Return-Path: <>", "Final-Recipient: rfc822; nobody@example.test", "Status: 5.1.1",
			"User unknown in virtual mailbox table", "Subject: thử nghiệm"} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("bounce lacks %q", want)
			}
		}
	})

	t.Run("PostfixToGovmail", func(t *testing.T) {
		c, err := smtp.Dial(pf.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		msg := "From: <x@peer.test>\r\nTo: <" + sender + ">\r\nSubject: =?utf-8?q?Th=C6=B0_t=E1=BB=AB_Postfix?=\r\n\r\nXin chào từ Postfix\r\n"
		if err := c.SendMail("x@peer.test", []string{sender}, strings.NewReader(msg)); err != nil {
			t.Fatalf("postfix refused: %v", err)
		}
		c.Quit()
		acct, _ := st.AccountByAddress(ctx, sender)
		mb, _ := st.MailboxByName(ctx, acct.ID, "INBOX")
		deadline := time.Now().Add(20 * time.Second)
		for {
			msgs, _, _ := st.Messages(ctx, mb.ID, false)
			for _, m := range msgs {
				raw, _ := st.ReadBlob(ctx, m.BlobID)
				if bytes.Contains(raw, []byte("Xin chào từ Postfix")) {
					if !bytes.Contains(raw, []byte("by mail.sonla.gov.vn (govmail)")) || !bytes.Contains(raw, []byte("postfix.peer.test")) {
						t.Errorf("trace headers: %s", raw)
					}
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("postfix did not deliver to govmail; postfix log:\n%s", pf.Log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
