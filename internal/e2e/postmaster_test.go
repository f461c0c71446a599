package e2e

import (
	"context"
	"errors"
	"testing"

	"github.com/emersion/go-smtp"

	"govmail/internal/store"
	"govmail/internal/testutil"
)

// R5.11: postmaster@ and abuse@ are reserved and reach the operators (every
// one of them, no one else); with no operator account they are refused
// instead of being accepted into nowhere.
func TestPostmasterAndAbuseReachOperatorsR5_11(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	ctx := context.Background()
	if err := sendPlain(s.Addr("smtp"), "x@example.org", "postmaster@sonla.gov.vn", "Subject: a\r\n\r\nb\r\n"); err == nil {
		t.Fatal("postmaster@ accepted with no operator to read it")
	} else if se := (*smtp.SMTPError)(nil); !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("postmaster@ without operators: %v, want 550", err)
	}
	op1 := s.AddAccount(t, "quantri1@sonla.gov.vn", pw)
	op2 := s.AddAccount(t, "quantri2@sonla.gov.vn", pw)
	user := s.AddAccount(t, "annv.skhcn@sonla.gov.vn", pw)
	for _, op := range []*store.Account{op1, op2} {
		if err := s.App.Store.SetRole(ctx, op.ID, store.RoleOperator); err != nil {
			t.Fatal(err)
		}
	}
	for _, rcpt := range []string{"postmaster@sonla.gov.vn", "abuse@sonla.gov.vn"} {
		if err := sendPlain(s.Addr("smtp"), "x@example.org", rcpt, "Subject: "+rcpt+"\r\n\r\nBáo cáo.\r\n"); err != nil {
			t.Fatalf("%s: %v", rcpt, err)
		}
	}
	for _, op := range []*store.Account{op1, op2} {
		if n := len(inboxBodies(t, s, op)); n != 2 {
			t.Errorf("%s got %d messages, want 2", op.Address, n)
		}
	}
	if n := len(inboxBodies(t, s, user)); n != 0 {
		t.Errorf("a user who is no operator got %d", n)
	}
}
