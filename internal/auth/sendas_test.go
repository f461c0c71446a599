package auth

import (
	"context"
	"testing"
	"time"
)

// R8.2: a delegate's use of a unit mailbox is a login of it, written at most
// once a minute however often a page or a client uses the mailbox.
func TestDelegateAccessCountsAsLoginR8_2(t *testing.T) {
	s, clk, unit := setup(t)
	ctx := context.Background()
	read := func() time.Time {
		t.Helper()
		a, err := s.Store.AccountByID(ctx, unit.ID)
		if err != nil {
			t.Fatal(err)
		}
		return a.LastLoginAt
	}
	if !read().IsZero() {
		t.Fatal("a new mailbox has a login")
	}
	first := clk.Now()
	if err := s.DelegateAccess(ctx, unit); err != nil {
		t.Fatal(err)
	}
	if got := read(); !got.Equal(first) {
		t.Fatalf("last login %v, want %v", got, first)
	}
	clk.Advance(30 * time.Second)
	if err := s.DelegateAccess(ctx, unit); err != nil {
		t.Fatal(err)
	}
	if got := read(); !got.Equal(first) {
		t.Fatalf("written again within the minute: %v", got)
	}
	clk.Advance(time.Minute)
	if err := s.DelegateAccess(ctx, unit); err != nil {
		t.Fatal(err)
	}
	if got := read(); !got.Equal(clk.Now()) {
		t.Fatalf("last login %v after a minute, want %v", got, clk.Now())
	}
}
