package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"govmail/internal/store"
	"govmail/internal/testutil"
)

func imapLogin(t *testing.T, s *testutil.Server, user string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	opts := &imapclient.Options{TLSConfig: testutil.ClientTLS()}
	if h != nil {
		opts.UnilateralDataHandler = h
	}
	c, err := imapclient.DialStartTLS(s.Addr("imap"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pw).Wait(); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

// DESIGN decision 5 and issue 2: a message delivered by SMTP wakes an IDLE
// session within a second; a POP3 deletion reaches IMAP sessions as EXPUNGE.
func TestSMTPWakesIMAPIdle(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	a := s.AddAccount(t, "idle.skhcn@sonla.gov.vn", pw)
	exists := make(chan uint32, 10)
	expunged := make(chan uint32, 10)
	c := imapLogin(t, s, a.Address, &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
		Expunge: func(seq uint32) { expunged <- seq },
	})
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := sendPlain(s.Addr("smtp"), "x@example.org", a.Address, "Subject: =?UTF-8?Q?Cu=E1=BB=99c_h=E1=BB=8Dp?=\r\n\r\nKính gửi.\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("EXISTS %d", n)
		}
		t.Logf("IDLE woken %v after the SMTP send began", time.Since(start))
	case <-time.After(time.Second):
		t.Fatal("IDLE not woken within a second")
	}
	idle.Close()
	idle.Wait()
	// Search accent-insensitively, then delete over POP3 and see the EXPUNGE.
	sd, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "hop"}}}, nil).Wait()
	if err != nil || len(sd.AllUIDs()) != 1 {
		t.Fatalf("SUBJECT hop: %v %v", sd, err)
	}
	mb, _ := s.App.Store.MailboxByName(context.Background(), a.ID, "INBOX")
	if _, err := s.App.Store.Expunge(context.Background(), mb.ID, []uint32{1}); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case seq := <-expunged:
		if seq != 1 {
			t.Errorf("EXPUNGE %d", seq)
		}
	case <-time.After(time.Second):
		t.Fatal("no EXPUNGE after the deletion")
	}
}

// Điều 9.2, R9.1, R8.1: a delegate sees the unit mailbox under the shared
// namespace; removing the delegation ends the live session; so does a lock.
func TestDelegationInIMAPR9_1(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	ctx := context.Background()
	st := s.App.Store
	person := s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)
	unit := &store.Account{Address: "vp.skhcn@sonla.gov.vn", Kind: store.KindUnit, QuotaBytes: 1 << 30}
	st.CreateAccount(ctx, unit)
	if err := sendPlain(s.Addr("smtp"), "x@example.org", unit.Address, "Subject: Công văn đến\r\n\r\nNội dung.\r\n"); err != nil {
		t.Fatal(err)
	}
	c := imapLogin(t, s, person.Address, nil)
	names := func() string {
		list, err := c.List("", "*", nil).Collect()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range list {
			out = append(out, l.Mailbox)
		}
		return strings.Join(out, "|")
	}
	if strings.Contains(names(), "Đơn vị") {
		t.Fatal("unit mailbox visible before delegation")
	}
	if _, err := c.Select("Đơn vị/vp.skhcn/INBOX", nil).Wait(); err == nil {
		t.Fatal("unit INBOX selectable before delegation")
	}
	st.GrantDelegation(ctx, store.Delegation{UnitAccountID: unit.ID, DelegateID: person.ID, GrantedBy: "manager", GrantedAt: time.Now()})
	if got := names(); !strings.Contains(got, "Đơn vị/vp.skhcn/INBOX") || !strings.Contains(got, "Đơn vị/vp.skhcn/Sent") {
		t.Fatalf("LIST after delegation: %s", got)
	}
	ns, err := c.Namespace().Wait()
	if err != nil || len(ns.Shared) != 1 || ns.Shared[0].Prefix != "Đơn vị/" {
		t.Fatalf("NAMESPACE: %+v %v", ns, err)
	}
	sel, err := c.Select("Đơn vị/vp.skhcn/INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 1 {
		t.Fatalf("select unit INBOX: %+v %v", sel, err)
	}
	if acc, _ := st.AccountByID(ctx, unit.ID); acc.LastLoginAt.IsZero() {
		t.Error("R8.2: delegate access not counted for the unit mailbox")
	}
	st.RevokeDelegation(ctx, unit.ID, person.ID)
	select {
	case <-c.Closed():
	case <-time.After(2 * time.Second):
		t.Fatal("session kept the unit mailbox after the delegation was removed")
	}
	// A lock ends the holder's own sessions too (R8.1).
	c2 := imapLogin(t, s, person.Address, nil)
	st.LockAccount(ctx, person.ID, store.LockOperator, store.LockInfo{LockedAt: time.Now(), Note: "test"})
	select {
	case <-c2.Closed():
	case <-time.After(2 * time.Second):
		t.Fatal("session survived the lock")
	}
}

// R13.1: moving a message into "Báo cáo" reports it, with the message attached,
// to the unit's security contact and the operators.
func TestReportFolderR13_1(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	ctx := context.Background()
	st := s.App.Store
	user := s.AddAccount(t, "user.skhcn@sonla.gov.vn", pw)
	sec := s.AddAccount(t, "attt.skhcn@sonla.gov.vn", pw)
	op := s.AddAccount(t, "quantri@sonla.gov.vn", pw)
	st.SetRole(ctx, op.ID, store.RoleOperator)
	u := &store.Unit{Kind: store.UnitProvinceAgency, Name: "Sở KHCN", Abbr: "skhcn", LocalPart: "skhcn", SecurityContactID: sec.ID}
	st.CreateUnit(ctx, u)
	st.MoveAccount(ctx, user.ID, user.Address, u.ID, time.Time{})
	if err := sendPlain(s.Addr("smtp"), "phish@example.org", user.Address, "Subject: Cap nhat mat khau\r\n\r\nBam vao http://192.0.2.9/login\r\n"); err != nil {
		t.Fatal(err)
	}
	c := imapLogin(t, s, user.Address, nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(imap.SeqSetNum(1), "Báo cáo").Wait(); err != nil {
		t.Fatal(err)
	}
	for _, who := range []*store.Account{sec, op} {
		waitFor(t, "the report to "+who.Address, func() bool {
			for _, b := range inboxBodies(t, s, who) {
				if strings.Contains(string(b), "X-Govmail-Notice: incident-report") && strings.Contains(string(b), "message/rfc822") && strings.Contains(string(b), "192.0.2.9/login") {
					return true
				}
			}
			return false
		})
	}
}
