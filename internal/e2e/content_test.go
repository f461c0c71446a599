package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/emersion/go-sasl"

	"govmail/internal/config"
	"govmail/internal/held"
	"govmail/internal/store"
	"govmail/internal/testutil"
)

const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

const gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

func eicarMessage() string {
	return "From: x@example.org\r\nSubject: Tài liệu\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nXem tệp đính kèm.\r\n--b\r\nContent-Type: application/octet-stream; name=eicar.com\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNULUZJTEUhJEgrSCo=\r\n--b--\r\n"
}

// Điều 4.2e, R4.1, R8.3: infected mail is refused naming the signature and
// logged; an infected submission locks the sender and tells the security
// contact; with the scanner down mail is deferred, never accepted unscanned.
func TestVirusR4_1(t *testing.T) {
	cl := testutil.StartClamdDaemon(t, testutil.ClamdOptions{})
	s := testutil.Start(t, testutil.Options{Config: func(c *config.Config) { c.Security.Clamd = cl.Addr }})
	ctx := context.Background()
	st := s.App.Store
	a := s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)
	sec := s.AddAccount(t, "attt.skhcn@sonla.gov.vn", pw)
	u := &store.Unit{Kind: store.UnitProvinceAgency, Name: "Sở Khoa học và Công nghệ", Abbr: "skhcn", LocalPart: "skhcn", SecurityContactID: sec.ID}
	if err := st.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	st.MoveAccount(ctx, a.ID, a.Address, u.ID, a.CreatedAt)

	err := sendPlain(s.Addr("smtp"), "x@example.org", a.Address, eicarMessage())
	if codeOf(err) != 554 || enhOf(err) != "5.7.1" || !strings.Contains(err.Error(), "Eicar") {
		t.Fatalf("EICAR inbound: %v", err)
	}
	if n := len(inboxBodies(t, s, a)); n != 0 {
		t.Fatalf("infected mail stored: %d", n)
	}
	rows, _ := st.SearchLog(ctx, store.LogFilter{Address: a.Address, Status: store.LogRefused})
	if len(rows) != 1 || !strings.Contains(rows[0].Error, "Virus") {
		t.Errorf("not logged: %+v", rows)
	}
	// A clean message passes.
	if err := sendPlain(s.Addr("smtp"), "x@example.org", a.Address, "Subject: sạch\r\n\r\nNội dung sạch.\r\n"); err != nil {
		t.Fatal(err)
	}
	// Submission of an infected message locks the sender (Điều 8.2b).
	c := dialSubmissionTLS(t, s)
	if err := c.Auth(sasl.NewPlainClient("", a.Address, pw)); err != nil {
		t.Fatal(err)
	}
	c.Mail(a.Address, nil)
	c.Rcpt(sec.Address, nil)
	w, _ := c.Data()
	w.Write([]byte(eicarMessage()))
	if err := w.Close(); codeOf(err) != 554 {
		t.Fatalf("EICAR submitted: %v", err)
	}
	acc, _ := st.AccountByID(ctx, a.ID)
	if acc.State != store.StateLocked || acc.LockReason != store.LockCompromised {
		t.Fatalf("sender not locked: %s %s", acc.State, acc.LockReason)
	}
	if countKind(inboxBodies(t, s, sec), "lock") != 1 {
		t.Error("security contact not told")
	}
	// Scanner down: 451 4.7.1, nothing stored.
	cl.Stop()
	err = sendPlain(s.Addr("smtp"), "x@example.org", sec.Address, "Subject: x\r\n\r\nx\r\n")
	if codeOf(err) != 451 || enhOf(err) != "4.7.1" {
		t.Fatalf("scanner down: %v", err)
	}
}

// R4.2, R4.3: GTUBE is refused above the reject score or filed in Junk; a
// sign-up mail from a social network is held in quarantine (hidden from IMAP)
// and the user is told why.
func TestSpamAndPolicyR4_2(t *testing.T) {
	url := testutil.StartRspamd(t)
	s := testutil.Start(t, testutil.Options{Config: func(c *config.Config) {
		c.Security.Clamd = "off"
		c.Security.RspamdURL = url
	}})
	ctx := context.Background()
	a := s.AddAccount(t, "duyenct.skhcn@sonla.gov.vn", pw)
	err := sendPlain(s.Addr("smtp"), "x@example.org", a.Address, "Subject: spam\r\n\r\n"+gtube+"\r\n")
	if codeOf(err) != 554 {
		t.Fatalf("GTUBE: %v", err)
	}
	signup := "From: Facebook <security@facebookmail.com>\r\nTo: duyenct.skhcn@sonla.gov.vn\r\nSubject: Xác nhận tài khoản Facebook của bạn\r\nMessage-ID: <fb1@facebookmail.com>\r\n\r\nMã xác nhận của bạn là 123456.\r\n"
	if err := sendPlain(s.Addr("smtp"), "notification@facebookmail.com", a.Address, signup); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "held notice", func() bool { return countKind(inboxBodies(t, s, a), "held") == 1 })
	for _, b := range inboxBodies(t, s, a) {
		if bytes.Contains(b, []byte("Mã xác nhận")) {
			t.Fatal("sign-up mail reached the inbox")
		}
	}
	q, err := s.App.Store.MailboxByName(ctx, a.ID, "#Quarantine")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := s.App.Store.MailboxStatus(ctx, q.ID); st.Messages != 1 {
		t.Fatalf("quarantine holds %d", st.Messages)
	}
	rows, _ := s.App.Store.SearchLog(ctx, store.LogFilter{Address: a.Address, Status: store.LogQuarantined})
	if len(rows) != 1 || !strings.Contains(rows[0].Error, "signup_social") {
		t.Errorf("log: %+v", rows)
	}
	c := imapLogin(t, s, a.Address, nil)
	list, _ := c.List("", "*", nil).Collect()
	for _, l := range list {
		if strings.HasPrefix(l.Mailbox, "#") {
			t.Errorf("quarantine visible over IMAP: %s", l.Mailbox)
		}
	}
	if _, err := c.Select("#Quarantine", nil).Wait(); err == nil {
		t.Error("quarantine selectable over IMAP")
	}
	// An operator sees it and releases it into the INBOX (R4.2).
	h := &held.Service{Store: s.App.Store, Clock: s.Clock}
	items, err := h.List(ctx, 10)
	if err != nil || len(items) != 1 || items[0].Address != a.Address || !strings.Contains(items[0].Subject, "Facebook") {
		t.Fatalf("held list: %+v %v", items, err)
	}
	if err := h.Release(ctx, a.Address, items[0].UID, "quantri@sonla.gov.vn"); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range inboxBodies(t, s, a) {
		if bytes.Contains(b, []byte("Mã xác nhận")) {
			found = true
		}
	}
	if !found {
		t.Error("released message not in the INBOX")
	}
	if items, _ := h.List(ctx, 10); len(items) != 0 {
		t.Errorf("still held after release: %d", len(items))
	}
}

// R4.2: spam scored between the junk and reject thresholds is filed in Junk;
// well-formed mail reaches the INBOX with its score in a trace header.
func TestSpamToJunkR4_2(t *testing.T) {
	url := testutil.StartRspamd(t)
	s := testutil.Start(t, testutil.Options{Config: func(c *config.Config) {
		c.Security.Clamd = "off"
		c.Security.RspamdURL = url
		c.Security.JunkScore = 3
		c.Security.RejectScore = 1000
	}})
	a := s.AddAccount(t, "junk.skhcn@sonla.gov.vn", pw)
	ctx := context.Background()
	good := "From: =?UTF-8?B?VsSDbiBwaMOybmc=?= <vp@example.org>\r\nTo: junk.skhcn@sonla.gov.vn\r\nSubject: =?UTF-8?Q?Gi=E1=BA=A5y_m=E1=BB=9Di_h=E1=BB=8Dp?=\r\nDate: Fri, 27 Nov 2026 09:00:00 +0700\r\nMessage-ID: <m1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nKính mời đồng chí dự họp giao ban.\r\n"
	if err := sendPlain(s.Addr("smtp"), "vp@example.org", a.Address, good); err != nil {
		t.Fatal(err)
	}
	// No From, no Date, no Message-ID, shouting: rspamd scores it well above 3.
	bad := "Subject: KHUYEN MAI CUC SOC!!! GIAM GIA 90%!!!\r\n\r\nBAM VAO DAY NGAY!!! http://192.0.2.7/khuyenmai\r\n"
	if err := sendPlain(s.Addr("smtp"), "x@example.org", a.Address, bad); err != nil {
		t.Fatal(err)
	}
	in := inboxBodies(t, s, a)
	if len(in) != 1 || !bytes.Contains(in[0], []byte("X-Spam-Score:")) || !bytes.Contains(in[0], []byte("dự họp giao ban")) {
		t.Fatalf("INBOX: %q", in)
	}
	j, _ := s.App.Store.MailboxByName(ctx, a.ID, "Junk")
	msgs, _, _ := s.App.Store.Messages(ctx, j.ID, false)
	if len(msgs) != 1 {
		t.Fatalf("Junk holds %d, want the shouting message", len(msgs))
	}
}

// R4.2: moving a message into Junk over IMAP teaches rspamd (learn_spam).
func TestJunkMoveTeachesR4_2(t *testing.T) {
	rs := testutil.StartRspamdDaemon(t, testutil.RspamdOptions{})
	if !rs.Bayes {
		testutil.Missing(t, "redis-server not installed: rspamd keeps no Bayes lessons (scripts/test.sh installs it)")
	}
	s := testutil.Start(t, testutil.Options{Config: func(c *config.Config) {
		c.Security.Clamd = "off"
		c.Security.RspamdURL = rs.URL
		c.Security.RspamdController = rs.ControllerURL
		c.Security.RspamdPassword = rs.Password
	}})
	a := s.AddAccount(t, "learn.skhcn@sonla.gov.vn", pw)
	msg := "From: =?UTF-8?B?VsSDbiBwaMOybmc=?= <vp@example.org>\r\nSubject: Quang cao\r\nDate: Fri, 27 Nov 2026 09:00:00 +0700\r\nMessage-ID: <learn1@example.org>\r\n\r\n" + strings.Repeat("Mua ngay hom nay san pham khuyen mai giam gia cuc soc chi co tai cua hang chung toi. ", 8) + "\r\n"
	if err := sendPlain(s.Addr("smtp"), "vp@example.org", a.Address, msg); err != nil {
		t.Fatal(err)
	}
	c := imapLogin(t, s, a.Address, nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(imap.SeqSetNum(1), "Junk").Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rspamd to learn the message", func() bool {
		return rspamdLearned(t, rs.ControllerURL, rs.Password) > 0
	})
}

// rspamdLearned reads the number of learned messages from the controller's /stat.
func rspamdLearned(t *testing.T, controller, password string) int {
	req, _ := http.NewRequest("GET", controller+"/stat", nil)
	if password != "" {
		req.Header.Set("Password", password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var st struct {
		Learned int `json:"learned"`
	}
	json.NewDecoder(resp.Body).Decode(&st)
	return st.Learned
}
