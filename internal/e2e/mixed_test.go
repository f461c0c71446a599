package e2e

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-sasl"

	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
)

// flakyStore fails the next n mailbox deliveries, as a database hiccup would,
// and leaves everything else (the queue) working.
type flakyStore struct {
	*sqlite.Store
	failNext atomic.Int32
	// refuse is an account whose next delivery fails alone (as when it was
	// revoked between RCPT and DATA).
	refuse atomic.Int64
}

func (f *flakyStore) Deliver(ctx context.Context, msg *store.NewMessage, targets []store.DeliveryTarget) ([]store.DeliveryOutcome, error) {
	if f.failNext.Add(-1) >= 0 {
		return nil, errors.New("injected: database busy")
	}
	if id := f.refuse.Load(); id != 0 {
		for i, t := range targets {
			if t.AccountID != id {
				continue
			}
			f.refuse.Store(0)
			out, err := f.Store.Deliver(ctx, msg, slices.Delete(slices.Clone(targets), i, i+1))
			if err != nil {
				return nil, err
			}
			return slices.Insert(out, i, store.DeliveryOutcome{Err: store.ErrNotFound}), nil
		}
	}
	return f.Store.Deliver(ctx, msg, targets)
}

// A message to a local and a remote recipient whose local delivery fails
// after the remote copy was queued is accepted (250): the local copy goes
// through the queue and arrives once, and the client, told nothing failed,
// does not send the remote copy again.
func TestMixedRecipientsLocalFailureNoDuplicate(t *testing.T) {
	var fs *flakyStore
	s := testutil.Start(t, testutil.Options{WrapStore: func(st store.Store) store.Store {
		fs = &flakyStore{Store: st.(*sqlite.Store)}
		return fs
	}})
	ctx := context.Background()
	a := s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)
	b := s.AddAccount(t, "binhlv.skhcn@sonla.gov.vn", pw)
	fs.failNext.Store(1)
	c := dialSubmissionTLS(t, s)
	if err := c.Auth(sasl.NewPlainClient("", a.Address, pw)); err != nil {
		t.Fatal(err)
	}
	err := c.SendMail(a.Address, []string{b.Address, "ban@example.org"}, strings.NewReader(
		"From: hoant.skhcn@sonla.gov.vn\r\nTo: binhlv.skhcn@sonla.gov.vn, ban@example.org\r\nSubject: Giấy mời họp\r\n\r\nKính mời.\r\n"))
	if err != nil {
		t.Fatalf("DATA refused although the remote copy was queued: %v", err)
	}
	waitFor(t, "the local copy through the queue", func() bool { return len(inboxBodies(t, s, b)) == 1 })
	if got := inboxBodies(t, s, b)[0]; !strings.Contains(string(got), "Kính mời.") {
		t.Fatalf("local copy:\n%s", got)
	}
	qs := s.App.Store.(store.QueueStore)
	msgs, err := qs.ListQueue(ctx, store.QueueFilter{})
	if err != nil {
		t.Fatal(err)
	}
	remote := 0
	for _, m := range msgs {
		for _, r := range m.Recipients {
			if r.Address == "ban@example.org" {
				remote++
			}
		}
	}
	if remote != 1 {
		t.Fatalf("the remote recipient is queued %d times, want once", remote)
	}
}

// A recipient whose delivery fails alone after DATA, when the others were
// delivered, is not dropped: the queue takes it (and would bounce it to the
// sender if it kept failing).
func TestLocalRecipientFailingAloneIsQueued(t *testing.T) {
	var fs *flakyStore
	s := testutil.Start(t, testutil.Options{WrapStore: func(st store.Store) store.Store {
		fs = &flakyStore{Store: st.(*sqlite.Store)}
		return fs
	}})
	a := s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)
	b := s.AddAccount(t, "binhlv.skhcn@sonla.gov.vn", pw)
	c := s.AddAccount(t, "chauvt.skhcn@sonla.gov.vn", pw)
	fs.refuse.Store(b.ID)
	cl := dialSubmissionTLS(t, s)
	if err := cl.Auth(sasl.NewPlainClient("", a.Address, pw)); err != nil {
		t.Fatal(err)
	}
	if err := cl.SendMail(a.Address, []string{b.Address, c.Address}, strings.NewReader(
		"From: hoant.skhcn@sonla.gov.vn\r\nTo: binhlv.skhcn@sonla.gov.vn, chauvt.skhcn@sonla.gov.vn\r\nSubject: Hai người nhận\r\n\r\nNội dung.\r\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed recipient's copy through the queue", func() bool { return len(inboxBodies(t, s, b)) == 1 })
	if n := len(inboxBodies(t, s, c)); n != 1 {
		t.Fatalf("the delivered recipient has %d copies, want 1", n)
	}
}
