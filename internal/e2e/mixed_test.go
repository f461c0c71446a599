package e2e

import (
	"context"
	"errors"
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
}

func (f *flakyStore) Deliver(ctx context.Context, msg *store.NewMessage, targets []store.DeliveryTarget) ([]store.DeliveryOutcome, error) {
	if f.failNext.Add(-1) >= 0 {
		return nil, errors.New("injected: database busy")
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
