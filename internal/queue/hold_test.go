package queue_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"govmail/internal/queue"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
)

// R17.2: mail over the sending limits is held: nothing leaves until an
// operator releases it, and then its local and remote recipients both get it.
func TestHeldMailReleased(t *testing.T) {
	srv := testutil.Start(t, testutil.Options{})
	srv.AddAccount(t, sender, "Abcdef1!")
	colleague := srv.AddAccount(t, "duyenct.skhcn@sonla.gov.vn", "Abcdef1!")
	st, ok := srv.App.Store.(*sqlite.Store)
	if !ok {
		t.Skip("needs the SQLite store")
	}
	p := startPeer(t, nil, "tcp", "127.0.0.1:0")
	h := newHarness(t, harnessOpts{st: st, local: &queue.Local{Store: srv.App.Store, Deliverer: srv.App.Deliver, Hostname: "mail.sonla.gov.vn"}},
		"ext.test. 300 IN MX 10 mx.ext.test.", "mx.ext.test. 300 IN A 127.0.0.1")
	h.route("127.0.0.1", p.Addr)
	ctx := context.Background()
	id, err := h.q.Submit(ctx, &queue.Submission{
		From: sender, AuthUser: sender, ClientIP: "127.0.0.1", Hold: store.LockCompromised,
		Recipients: []queue.Recipient{{Address: "x@ext.test"}, {Address: colleague.Address}, {Address: "ghost@sonla.gov.vn"}},
		Body:       []byte("From: <" + sender + ">\r\nSubject: held\r\n\r\nheld mail\r\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := h.runOnce(t); n != 0 {
		t.Fatalf("held mail was claimed (%d)", n)
	}
	if r := h.logs(t, "x@ext.test"); len(r) != 1 || r[0].Status != store.LogQuarantined || !strings.Contains(r[0].Error, "compromised") {
		t.Fatalf("hold not logged: %+v", r)
	}
	if _, err := st.RetryQueue(ctx, id, h.clk.Now()); err != nil {
		t.Fatal(err)
	}
	h.runOnce(t)
	if len(p.messages()) != 1 {
		t.Fatal("remote recipient not delivered after release")
	}
	mb, _ := st.MailboxByName(ctx, colleague.ID, "INBOX")
	msgs, _, _ := st.Messages(ctx, mb.ID, false)
	if len(msgs) != 1 {
		t.Fatalf("local recipient got %d messages", len(msgs))
	}
	rows, _ := st.SearchLog(ctx, store.LogFilter{Address: colleague.Address})
	if len(rows) < 2 || rows[0].Status != store.LogDelivered || rows[0].AuthUser != sender {
		t.Errorf("local delivery log (R9.2 needs the submitter): %+v", rows)
	}
	// The unknown local recipient bounces to the sender.
	if r := h.logs(t, "ghost@sonla.gov.vn"); len(r) != 2 || r[1].Status != store.LogBounced {
		t.Errorf("unknown local recipient: %+v", r)
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.queueLen(t) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if h.queueLen(t) != 0 {
		t.Error("queue not empty")
	}
}
