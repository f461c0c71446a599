// Package e2e holds end-to-end tests: a real govmail on loopback driven by real
// clients (go-smtp, go-imap's imapclient, Python's smtplib/imaplib/poplib).
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"govmail/internal/config"
	"govmail/internal/store"
	"govmail/internal/testutil"
)

const pw = "Abcdef1!x"

func dialMX(t *testing.T, s *testutil.Server) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("mx.example.org"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func codeOf(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func enhOf(err error) string {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	}
	return ""
}

func inboxBodies(t *testing.T, s *testutil.Server, a *store.Account) [][]byte {
	t.Helper()
	ctx := context.Background()
	mb, err := s.App.Store.MailboxByName(ctx, a.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	msgs, _, err := s.App.Store.Messages(ctx, mb.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		b, err := s.App.Store.ReadBlob(ctx, m.BlobID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// R3.3: a Vietnamese subject, RFC 2047 encoded or raw UTF-8 under SMTPUTF8, is
// stored byte for byte after the trace headers.
func TestMXDeliversVietnameseR3_3(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	a := s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)
	b := s.AddAccount(t, "duyenct.skhcn@sonla.gov.vn", pw)
	msgs := []struct {
		name string
		utf8 bool
		body string
	}{
		{"rfc2047", false, "From: =?UTF-8?B?Tmd1eeG7hW4gVsSDbiBB?= <a@example.org>\r\nTo: hoant.skhcn@sonla.gov.vn\r\nSubject: =?UTF-8?Q?Cu=E1=BB=99c_h=E1=BB=8Dp_giao_ban?=\r\nMessage-ID: <m1@example.org>\r\n\r\nKính gửi các đơn vị.\r\n"},
		{"smtputf8", true, "From: Nguyễn Văn A <a@example.org>\r\nTo: hoant.skhcn@sonla.gov.vn\r\nSubject: Báo cáo tháng 11 — Sở KHCN\r\nMessage-ID: <m2@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nĐường dây nóng: Chie\u0300ng Co\u031bi (NFD).\r\n"},
	}
	for _, m := range msgs {
		c := dialMX(t, s)
		if err := c.Mail("a@example.org", &smtp.MailOptions{UTF8: m.utf8}); err != nil {
			t.Fatalf("%s: MAIL: %v", m.name, err)
		}
		for _, r := range []string{a.Address, b.Address} {
			if err := c.Rcpt(r, nil); err != nil {
				t.Fatalf("%s: RCPT: %v", m.name, err)
			}
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(m.body))
		if err := w.Close(); err != nil {
			t.Fatalf("%s: DATA: %v", m.name, err)
		}
		c.Quit()
	}
	for _, acc := range []*store.Account{a, b} {
		got := inboxBodies(t, s, acc)
		if len(got) != 2 {
			t.Fatalf("%s has %d messages", acc.Address, len(got))
		}
		for i, m := range msgs {
			if !bytes.HasSuffix(got[i], []byte(m.body)) {
				t.Errorf("%s: message %s altered:\n%q", acc.Address, m.name, got[i])
			}
			if !bytes.HasPrefix(got[i], []byte("Return-Path: <a@example.org>\r\nReceived: from mx.example.org")) {
				t.Errorf("trace headers missing: %q", got[i][:80])
			}
		}
	}
	// Điều 11.1: one log row per recipient with the required fields.
	rows, err := s.App.Store.SearchLog(context.Background(), store.LogFilter{Address: a.Address})
	if err != nil || len(rows) != 2 {
		t.Fatalf("log rows: %v %v", rows, err)
	}
	r := rows[0]
	if r.Status != store.LogDelivered || r.ClientIP != "127.0.0.1" || r.EnvelopeFrom != "a@example.org" || r.Size == 0 || r.MessageID == "" || r.Direction != "in" {
		t.Errorf("log row incomplete: %+v", r)
	}
}

// The MX port is never an open relay: every trick is refused.
func TestMXRefusesRelay(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)
	cases := []struct {
		rcpt string
		code int
		enh  string
	}{
		{"someone@example.org", 550, "5.7.1"},
		{"hoant.skhcn%example.org@sonla.gov.vn", 501, "5.1.3"},
		{"\"hoant.skhcn@example.org\"@sonla.gov.vn", 501, "5.1.3"},
		{"@sonla.gov.vn:user@example.org", 501, "5.1.3"},
		{"user@example.org@sonla.gov.vn", 501, "5.1.3"},
		{"nobody@sonla.gov.vn", 550, "5.1.1"},
		{"someone@SONLA.GOV.VN.example.org", 550, "5.7.1"},
		{"user@xn--sn-la-3ya.gov.vn", 550, "5.7.1"},     // IDN look-alike of the local domain
		{"user@sơnla.gov.vn", 550, "5.7.1"},             // the same in UTF-8 (SMTPUTF8)
		{"user@[127.0.0.1]", 501, "5.1.3"},              // address literal
		{"user@sonla.gov.vn@example.org", 501, "5.1.3"}, // two @
	}
	for _, tc := range cases {
		c := dialMX(t, s)
		if err := c.Mail("x@example.org", nil); err != nil {
			t.Fatal(err)
		}
		err := c.Rcpt(tc.rcpt, nil)
		if codeOf(err) != tc.code || enhOf(err) != tc.enh {
			// go-smtp's parser may refuse some forms itself with 501/553: a refusal is what matters.
			if codeOf(err) < 500 {
				t.Errorf("RCPT %s: %v, want %d %s", tc.rcpt, err, tc.code, tc.enh)
			}
		}
		c.Close()
	}
	// A bounce (empty reverse path) is no way to relay either.
	c0 := dialMX(t, s)
	if err := c0.Mail("", nil); err != nil {
		t.Fatal(err)
	}
	if err := c0.Rcpt("someone@example.org", nil); codeOf(err) != 550 {
		t.Errorf("relay with an empty envelope sender: %v", err)
	}
	// An upper-case local domain is local.
	c := dialMX(t, s)
	c.Mail("x@example.org", nil)
	if err := c.Rcpt("HoaNT.SKHCN@SonLa.Gov.VN", nil); err != nil {
		t.Errorf("upper-case local address refused: %v", err)
	}
}

func TestMXLimitsAndBadInput(t *testing.T) {
	s := testutil.Start(t, testutil.Options{Config: func(c *config.Config) {
		c.SMTP.MaxMessageBytes = 10000
		c.SMTP.MaxRecipients = 3
	}})
	a := s.AddAccount(t, "a@sonla.gov.vn", pw)

	// R11.5: over the size limit → 552 5.3.4, by SIZE and by content.
	c := dialMX(t, s)
	if err := c.Mail("x@example.org", &smtp.MailOptions{Size: 20000}); codeOf(err) != 552 || enhOf(err) != "5.3.4" {
		t.Errorf("SIZE over limit: %v", err)
	}
	c.Reset()
	c.Mail("x@example.org", nil)
	c.Rcpt(a.Address, nil)
	w, _ := c.Data()
	w.Write([]byte("Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 70)+"\r\n", 300)))
	if err := w.Close(); codeOf(err) != 552 || enhOf(err) != "5.3.4" {
		t.Errorf("big DATA: %v", err)
	}

	// Too many recipients → 452 4.5.3.
	c2 := dialMX(t, s)
	c2.Mail("x@example.org", nil)
	for i := 0; i < 3; i++ {
		c2.Rcpt(a.Address, nil)
	}
	if err := c2.Rcpt(a.Address, nil); codeOf(err) != 452 || enhOf(err) != "4.5.3" {
		t.Errorf("4th recipient: %v", err)
	}

	// SMTP smuggling: bare LF is refused and nothing is stored.
	raw, err := net.Dial("tcp", s.Addr("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	script := "EHLO x\r\nMAIL FROM:<x@example.org>\r\nRCPT TO:<a@sonla.gov.vn>\r\nDATA\r\nSubject: s\r\n\r\nhello\n.\nMAIL FROM:<y@example.org>\r\n.\r\nQUIT\r\n"
	raw.Write([]byte(script))
	var buf bytes.Buffer
	tmp := make([]byte, 4096)
	for !strings.Contains(buf.String(), "221") {
		n, err := raw.Read(tmp)
		buf.Write(tmp[:n])
		if err != nil {
			break
		}
	}
	if !strings.Contains(buf.String(), "554 5.6.11") {
		t.Errorf("bare LF not refused: %s", buf.String())
	}

	// A client that disconnects mid-DATA leaves nothing behind.
	raw2, _ := net.Dial("tcp", s.Addr("smtp"))
	raw2.Write([]byte("EHLO x\r\nMAIL FROM:<x@example.org>\r\nRCPT TO:<a@sonla.gov.vn>\r\nDATA\r\nSubject: cut\r\n\r\nhalf a mess"))
	readUntil(t, raw2, "354")
	raw2.Close()

	// A good message still goes through afterwards.
	c3 := dialMX(t, s)
	c3.Mail("x@example.org", nil)
	c3.Rcpt(a.Address, nil)
	w, _ = c3.Data()
	w.Write([]byte("Subject: ok\r\n\r\nok\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := inboxBodies(t, s, a); len(got) != 1 {
		t.Fatalf("inbox holds %d messages, want only the good one", len(got))
	}
	if err := s.App.Store.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func readUntil(t *testing.T, c net.Conn, want string) string {
	t.Helper()
	var buf bytes.Buffer
	tmp := make([]byte, 1024)
	for !strings.Contains(buf.String(), want) {
		n, err := c.Read(tmp)
		buf.Write(tmp[:n])
		if err != nil {
			t.Fatalf("waiting for %q: %v (got %q)", want, err, buf.String())
		}
	}
	return buf.String()
}

func dialSubmission(t *testing.T, s *testutil.Server) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr("submission"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.local"); err != nil {
		t.Fatal(err)
	}
	return c
}

// N1: authentication only under TLS; Điều 9.3: one sends only as oneself.
func TestSubmission(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	a := s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)
	b := s.AddAccount(t, "duyenct.skhcn@sonla.gov.vn", pw)

	c := dialSubmission(t, s)
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH offered without TLS")
	}
	if err := c.Mail(a.Address, nil); codeOf(err) != 530 {
		t.Errorf("MAIL without AUTH: %v", err)
	}
	c.Close()
	c = dialSubmissionTLS(t, s)
	if ok, mechs := c.Extension("AUTH"); !ok || !strings.Contains(mechs, "PLAIN") || !strings.Contains(mechs, "LOGIN") {
		t.Errorf("AUTH after STARTTLS: %v %q", ok, mechs)
	}
	if err := c.Auth(sasl.NewPlainClient("", a.Address, "Wrong1!xx")); codeOf(err) != 535 || enhOf(err) != "5.7.8" {
		t.Errorf("wrong password: %v", err)
	}
	if err := c.Auth(sasl.NewLoginClient(a.Address, pw)); err != nil {
		t.Fatalf("AUTH LOGIN: %v", err)
	}
	if err := c.Mail(b.Address, nil); codeOf(err) != 553 || enhOf(err) != "5.7.1" {
		t.Errorf("MAIL FROM another address: %v", err)
	}
	if err := c.Mail(a.Address, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("friend@example.org", nil); err != nil {
		t.Errorf("remote recipient on submission (queued): %v", err)
	}
	if err := c.Rcpt(b.Address, nil); err != nil {
		t.Fatal(err)
	}
	w, _ := c.Data()
	w.Write([]byte("From: hoant.skhcn@sonla.gov.vn\r\nTo: duyenct.skhcn@sonla.gov.vn\r\nSubject: Giấy mời họp\r\n\r\nMời chị dự họp.\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := inboxBodies(t, s, b); len(got) != 1 || !bytes.Contains(got[0], []byte("Giấy mời họp")) {
		t.Fatalf("internal mail not delivered: %d", len(got))
	}
	rows, _ := s.App.Store.SearchLog(context.Background(), store.LogFilter{Address: b.Address, Status: store.LogDelivered})
	if len(rows) != 1 || rows[0].AuthUser != a.Address || rows[0].Direction != "internal" {
		t.Errorf("log: %+v", rows)
	}
}

// R6.1: an account with a password set by an operator cannot use SMTP AUTH
// until the holder changes it; the refusal says so.
func TestSubmissionMustChangeR6_1(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	a := s.AddAccount(t, "new.skhcn@sonla.gov.vn", pw)
	ctx := context.Background()
	acc, _ := s.App.Store.AccountByID(ctx, a.ID)
	s.App.Store.SetPassword(ctx, a.ID, acc.PasswordHash, true, s.Clock.Now())
	c := dialSubmissionTLS(t, s)
	err := c.Auth(sasl.NewPlainClient("", a.Address, pw))
	if codeOf(err) != 535 || !strings.Contains(err.Error(), "webmail") {
		t.Fatalf("must-change login: %v", err)
	}
}

func dialSubmissionTLS(t *testing.T, s *testutil.Server) *smtp.Client {
	t.Helper()
	c, err := smtp.DialStartTLS(s.Addr("submission"), testutil.ClientTLS())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// R11.2: authentication successes and failures are logged with protocol and IP.
func TestAuthEventsLoggedR11_2(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	a := s.AddAccount(t, "log.skhcn@sonla.gov.vn", pw)
	c := dialSubmissionTLS(t, s)
	c.Auth(sasl.NewPlainClient("", a.Address, "Wrong1!xx"))
	c.Close()
	c = dialSubmissionTLS(t, s)
	if err := c.Auth(sasl.NewPlainClient("", a.Address, pw)); err != nil {
		t.Fatal(err)
	}
	rows, err := s.App.Store.SearchAuthLog(context.Background(), a.Address, time.Time{}, time.Time{}, 10)
	if err != nil || len(rows) != 2 {
		t.Fatalf("auth log: %+v %v", rows, err)
	}
	if !rows[0].Success || rows[1].Success || rows[1].Reason != "bad_credentials" || rows[0].IP != "127.0.0.1" || rows[0].Proto != "smtp" {
		t.Errorf("auth log rows: %+v", rows)
	}
	acc, _ := s.App.Store.AccountByID(context.Background(), a.ID)
	if acc.LastLoginAt.IsZero() {
		t.Error("R8.2: a successful SMTP AUTH is a login")
	}
}

// R9.1, R9.2, R8.1: a delegate sends as the unit mailbox with their own
// credentials; the Sender header and the log name them; removal is immediate;
// a locked unit mailbox sends nothing.
func TestDelegateSendsAsUnitR9(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	ctx := context.Background()
	st := s.App.Store
	person := s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)
	other := s.AddAccount(t, "duyenct.skhcn@sonla.gov.vn", pw)
	unit := &store.Account{Address: "vp.skhcn@sonla.gov.vn", Kind: store.KindUnit, QuotaBytes: 1 << 30}
	if err := st.CreateAccount(ctx, unit); err != nil {
		t.Fatal(err)
	}
	send := func() error {
		c := dialSubmissionTLS(t, s)
		defer c.Close()
		if err := c.Auth(sasl.NewPlainClient("", person.Address, pw)); err != nil {
			return err
		}
		if err := c.Mail(unit.Address, nil); err != nil {
			return err
		}
		if err := c.Rcpt(other.Address, nil); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		w.Write([]byte("From: Văn phòng Sở <vp.skhcn@sonla.gov.vn>\r\nSubject: Thông báo\r\n\r\nNội dung.\r\n"))
		return w.Close()
	}
	if err := send(); codeOf(err) != 553 {
		t.Fatalf("send as unit without delegation: %v", err)
	}
	if err := st.GrantDelegation(ctx, store.Delegation{UnitAccountID: unit.ID, DelegateID: person.ID, GrantedBy: "manager", GrantedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := send(); err != nil {
		t.Fatalf("delegate send: %v", err)
	}
	got := inboxBodies(t, s, other)
	if len(got) != 1 || !bytes.Contains(got[0], []byte("Sender: <hoant.skhcn@sonla.gov.vn>\r\nFrom: Văn phòng Sở")) {
		t.Fatalf("Sender header missing: %q", got)
	}
	rows, _ := st.SearchLog(ctx, store.LogFilter{Address: other.Address, Status: store.LogDelivered})
	if len(rows) != 1 || !strings.Contains(rows[0].AuthUser, person.Address) || rows[0].EnvelopeFrom != unit.Address {
		t.Errorf("log row: %+v", rows)
	}
	if u, _ := st.AccountByID(ctx, unit.ID); u.LastLoginAt.IsZero() {
		t.Error("R8.2: the delegate's use did not count for the unit mailbox")
	}
	if err := st.LockAccount(ctx, unit.ID, store.LockOperator, store.LockInfo{LockedAt: time.Now(), Note: "test", LockedBy: "op"}); err != nil {
		t.Fatal(err)
	}
	if err := send(); codeOf(err) != 550 {
		t.Errorf("send as a locked unit mailbox: %v", err)
	}
	st.RestoreAccount(ctx, unit.ID, "", time.Now())
	if err := st.RevokeDelegation(ctx, unit.ID, person.ID); err != nil {
		t.Fatal(err)
	}
	if err := send(); codeOf(err) != 553 {
		t.Errorf("send after removal: %v", err)
	}
}

// R11.5: an optional per-attachment limit refuses a message whose attachment is
// over it (552 5.3.4 naming the file), inbound and on submission.
func TestAttachmentLimitR11_5(t *testing.T) {
	s := testutil.Start(t, testutil.Options{Config: func(c *config.Config) { c.SMTP.MaxAttachmentBytes = 1 << 20 }})
	a := s.AddAccount(t, "att.skhcn@sonla.gov.vn", pw)
	msg := func(n int) string {
		return "MIME-Version: 1.0\r\nSubject: tệp\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nxem tệp\r\n" +
			"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"bao-cao.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			strings.Repeat(strings.Repeat("A", 76)+"\r\n", n) + "--b--\r\n"
	}
	err := sendPlain(s.Addr("smtp"), "x@example.org", a.Address, msg(20000)) // ~1.1 MB decoded
	if codeOf(err) != 552 || enhOf(err) != "5.3.4" || !strings.Contains(err.Error(), "bao-cao.pdf") {
		t.Fatalf("big attachment: %v", err)
	}
	if err := sendPlain(s.Addr("smtp"), "x@example.org", a.Address, msg(1000)); err != nil {
		t.Fatalf("small attachment: %v", err)
	}
	c := dialSubmissionTLS(t, s)
	c.Auth(sasl.NewPlainClient("", a.Address, pw))
	c.Mail(a.Address, nil)
	c.Rcpt("friend@example.org", nil)
	w, _ := c.Data()
	w.Write([]byte(msg(20000)))
	if err := w.Close(); codeOf(err) != 552 {
		t.Fatalf("big attachment to a remote recipient: %v", err)
	}
}
