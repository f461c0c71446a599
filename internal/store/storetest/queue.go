package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"govmail/internal/store"
)

// QueueBackend is a store that also keeps the outbound queue.
type QueueBackend interface {
	store.Store
	store.QueueStore
}

// QueueOpener returns a new empty store with a queue; the suite closes it.
type QueueOpener func(t *testing.T) QueueBackend

// RunQueue runs the conformance tests of the outbound queue. Every test ends
// with an empty queue and then checks the store's integrity, so a body
// reference the queue forgot to drop (or dropped twice) fails it.
func RunQueue(t *testing.T, open QueueOpener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s QueueBackend)
	}{
		{"EnqueueClaimRecord", testQueueLifecycle},
		{"LeaseExpires", testQueueLease},
		{"HoldRetryDrop", testQueueHoldRetryDrop},
		{"SharedBody", testQueueSharedBody},
		{"LargeBody", testQueueLargeBody},
		{"ConcurrentClaims", testQueueConcurrentClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
			ctx := context.Background()
			left, err := s.ListQueue(ctx, store.QueueFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range left {
				if err := s.DropQueue(ctx, m.ID); err != nil {
					t.Fatalf("drop %d: %v", m.ID, err)
				}
			}
			if err := s.Check(ctx); err != nil {
				t.Fatalf("integrity after test: %v", err)
			}
		})
	}
}

var qt0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600))

func queued(from string, rcpts ...string) *store.QueuedMessage {
	m := &store.QueuedMessage{From: from, HeaderFrom: from, MessageID: "<q@test>", AuthUser: from, ClientIP: "127.0.0.1", CreatedAt: qt0}
	for _, r := range rcpts {
		m.Recipients = append(m.Recipients, store.QueueRecipient{Address: r})
	}
	return m
}

func rawMsg(body string) *store.NewMessage {
	return &store.NewMessage{Raw: []byte("From: a@sonla.gov.vn\r\nSubject: q\r\n\r\n" + body + "\r\n"), InternalDate: qt0}
}

func testQueueLifecycle(t *testing.T, s QueueBackend) {
	ctx := context.Background()
	m := queued("hoant.skhcn@sonla.gov.vn", "a@Example.ORG", "b@example.net")
	logs := []store.LogEntry{{Time: qt0, Direction: "out", Proto: "submission", EnvelopeFrom: m.From, Recipient: "a@example.org", Status: store.LogDeferred, Error: "queued"}}
	id, err := s.Enqueue(ctx, rawMsg("lifecycle"), m, logs)
	if err != nil {
		t.Fatal(err)
	}
	if id == 0 || m.ID != id || m.Recipients[0].ID == 0 || m.Recipients[0].Domain != "example.org" {
		t.Fatalf("enqueue did not fill ids/domain: %+v", m)
	}
	if m.Size == 0 {
		t.Error("size not filled")
	}
	body, err := s.QueueBody(ctx, id)
	if err != nil || !bytes.Contains(body, []byte("lifecycle")) {
		t.Fatalf("body: %q %v", body, err)
	}
	// Not due before its time.
	if got, _ := s.ClaimQueue(ctx, qt0.Add(-time.Second), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed before due: %+v", got)
	}
	got, err := s.ClaimQueue(ctx, qt0, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Recipients) != 2 || got[0].From != m.From || got[0].AuthUser != m.AuthUser {
		t.Fatalf("claim: %+v", got)
	}
	a, b := got[0].Recipients[0], got[0].Recipients[1]
	// Leased: a second claim gets nothing.
	if again, _ := s.ClaimQueue(ctx, qt0, time.Minute, 10); len(again) != 0 {
		t.Fatalf("claimed twice: %+v", again)
	}
	next := qt0.Add(10 * time.Minute)
	err = s.RecordQueue(ctx, []store.QueueUpdate{
		{RecipientID: a.ID, State: store.QueueDelivered, Attempted: true, LastAttempt: qt0, Error: "250 2.0.0 ok"},
		{RecipientID: b.ID, State: store.QueueQueued, Attempted: true, LastAttempt: qt0, NextAttempt: next, Error: "451 4.7.1 greylisted"},
	}, []store.LogEntry{
		{Time: qt0, Direction: "out", Proto: "smtp", EnvelopeFrom: m.From, Recipient: a.Address, Status: store.LogDelivered, Error: "250 2.0.0 ok"},
		{Time: qt0, Direction: "out", Proto: "smtp", EnvelopeFrom: m.From, Recipient: b.Address, Status: store.LogDeferred, Error: "451 4.7.1 greylisted"},
	})
	if err != nil {
		t.Fatal(err)
	}
	qm, err := s.QueueMessage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if qm.Recipients[0].State != store.QueueDelivered || qm.Recipients[1].State != store.QueueQueued ||
		qm.Recipients[1].Attempts != 1 || !qm.Recipients[1].NextAttempt.Equal(next) || qm.Recipients[1].LastError != "451 4.7.1 greylisted" {
		t.Fatalf("after record: %+v", qm.Recipients)
	}
	if got, _ := s.ClaimQueue(ctx, qt0.Add(5*time.Minute), time.Minute, 10); len(got) != 0 {
		t.Fatalf("deferred recipient claimed early: %+v", got)
	}
	got, err = s.ClaimQueue(ctx, next, time.Minute, 10)
	if err != nil || len(got) != 1 || len(got[0].Recipients) != 1 || got[0].Recipients[0].ID != b.ID {
		t.Fatalf("claim after back-off: %+v %v", got, err)
	}
	st, err := s.QueueStats(ctx)
	if err != nil || st.Messages != 1 || st.Recipients != 1 || !st.Oldest.Equal(qt0) {
		t.Fatalf("stats: %+v %v", st, err)
	}
	err = s.RecordQueue(ctx, []store.QueueUpdate{{RecipientID: b.ID, State: store.QueueFailed, Attempted: true, LastAttempt: next, Error: "550 5.1.1 no such user", DelayNotified: true}},
		[]store.LogEntry{{Time: next, Direction: "out", Proto: "smtp", EnvelopeFrom: m.From, Recipient: b.Address, Status: store.LogBounced, Error: "550 5.1.1 no such user"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.QueueMessage(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("finished message still queued: %v", err)
	}
	if _, err := s.QueueBody(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("finished body still readable: %v", err)
	}
	// R11.1: the enqueue row and one row per attempt, with the remote reply.
	rows, err := s.SearchLog(ctx, store.LogFilter{Address: m.From})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("log rows: %d, want 4: %+v", len(rows), rows)
	}
	var statuses []string
	for _, r := range rows {
		statuses = append(statuses, r.Status+":"+r.Error)
	}
	if !strings.Contains(strings.Join(statuses, "|"), "bounced:550 5.1.1 no such user") {
		t.Errorf("bounce not logged: %v", statuses)
	}
	// Updating a recipient that is gone is not an error (dropped while in flight).
	if err := s.RecordQueue(ctx, []store.QueueUpdate{{RecipientID: b.ID, State: store.QueueDelivered}}, nil); err != nil {
		t.Errorf("record for a gone recipient: %v", err)
	}
}

func testQueueLease(t *testing.T, s QueueBackend) {
	ctx := context.Background()
	if _, err := s.Enqueue(ctx, rawMsg("lease"), queued("x@sonla.gov.vn", "a@example.org"), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClaimQueue(ctx, qt0, time.Minute, 10); len(got) != 1 {
		t.Fatalf("first claim: %+v", got)
	}
	// The worker died: its lease runs out and another one gets the recipient.
	if got, _ := s.ClaimQueue(ctx, qt0.Add(59*time.Second), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed during the lease: %+v", got)
	}
	got, _ := s.ClaimQueue(ctx, qt0.Add(time.Minute), time.Minute, 10)
	if len(got) != 1 {
		t.Fatalf("not claimable after the lease: %+v", got)
	}
	// limit is honoured.
	for i := 0; i < 3; i++ {
		if _, err := s.Enqueue(ctx, rawMsg(fmt.Sprint("lease", i)), queued("x@sonla.gov.vn", "a@example.org", "b@example.org"), nil); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = s.ClaimQueue(ctx, qt0.Add(time.Minute), time.Minute, 4)
	n := 0
	for _, m := range got {
		n += len(m.Recipients)
	}
	if n != 4 {
		t.Fatalf("limit 4 claimed %d", n)
	}
}

func testQueueHoldRetryDrop(t *testing.T, s QueueBackend) {
	ctx := context.Background()
	m1 := queued("spam@sonla.gov.vn", "a@example.org")
	m2 := queued("spam@sonla.gov.vn", "b@example.org")
	m3 := queued("ok@sonla.gov.vn", "c@example.org")
	for i, m := range []*store.QueuedMessage{m1, m2, m3} {
		if _, err := s.Enqueue(ctx, rawMsg(fmt.Sprint("hold", i)), m, nil); err != nil {
			t.Fatal(err)
		}
	}
	// R17.2: an account over its limits has all its queued mail held.
	n, err := s.HoldQueue(ctx, 0, "SPAM@sonla.gov.vn", "compromised")
	if err != nil || n != 2 {
		t.Fatalf("hold by user: %d %v", n, err)
	}
	got, _ := s.ClaimQueue(ctx, qt0, 2*time.Hour, 10)
	if len(got) != 1 || got[0].ID != m3.ID {
		t.Fatalf("held mail claimed: %+v", got)
	}
	held := true
	hl, err := s.ListQueue(ctx, store.QueueFilter{Held: &held})
	if err != nil || len(hl) != 2 || hl[0].HoldReason != "compromised" {
		t.Fatalf("list held: %+v %v", hl, err)
	}
	if l, _ := s.ListQueue(ctx, store.QueueFilter{Domain: "EXAMPLE.org", AuthUser: "ok@sonla.gov.vn"}); len(l) != 1 || l[0].ID != m3.ID {
		t.Fatalf("filter: %+v", l)
	}
	// An operator releases one: it is due at once.
	later := qt0.Add(time.Hour)
	if n, err := s.RetryQueue(ctx, m1.ID, later); err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	got, _ = s.ClaimQueue(ctx, later, time.Minute, 10)
	if len(got) != 1 || got[0].ID != m1.ID || got[0].Held {
		t.Fatalf("released message not claimed: %+v", got)
	}
	if _, err := s.RetryQueue(ctx, 99999, later); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retry of a missing message: %v", err)
	}
	if _, err := s.HoldQueue(ctx, 99999, "", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("hold of a missing message: %v", err)
	}
	if err := s.DropQueue(ctx, m2.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DropQueue(ctx, m2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second drop: %v", err)
	}
	if l, _ := s.ListQueue(ctx, store.QueueFilter{}); len(l) != 2 {
		t.Errorf("after drop: %d messages", len(l))
	}
}

func testQueueSharedBody(t *testing.T, s QueueBackend) {
	ctx := context.Background()
	a := mustAccount(t, s, "sender@sonla.gov.vn", 1<<20)
	nm := rawMsg("shared body")
	// The sender's copy and the queued copy are one body.
	if _, err := s.Deliver(ctx, nm, []store.DeliveryTarget{{AccountID: a.ID}}); err != nil {
		t.Fatal(err)
	}
	id, err := s.Enqueue(ctx, rawMsg("shared body"), queued(a.Address, "x@example.org"), nil)
	if err != nil {
		t.Fatal(err)
	}
	mb := inbox(t, s, a)
	if _, err := s.StoreFlags(ctx, mb.ID, []uint32{1}, store.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expunge(ctx, mb.ID, nil); err != nil {
		t.Fatal(err)
	}
	// The mailbox copy is gone; the queue still holds the body.
	body, err := s.QueueBody(ctx, id)
	if err != nil || !bytes.Contains(body, []byte("shared body")) {
		t.Fatalf("queued body after expunge: %q %v", body, err)
	}
	if err := s.DropQueue(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func testQueueLargeBody(t *testing.T, s QueueBackend) {
	ctx := context.Background()
	big := strings.Repeat("Thư điện tử tỉnh Sơn La. ", 40000) // ~1 MB: a file blob
	id, err := s.Enqueue(ctx, rawMsg(big), queued("x@sonla.gov.vn", "a@example.org"), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := s.QueueBody(ctx, id)
	if err != nil || !bytes.Equal(body, rawMsg(big).Raw) {
		t.Fatalf("large body differs (%d bytes, %v)", len(body), err)
	}
	got, _ := s.ClaimQueue(ctx, qt0, time.Minute, 10)
	if len(got) != 1 {
		t.Fatalf("claim: %+v", got)
	}
	if err := s.RecordQueue(ctx, []store.QueueUpdate{{RecipientID: got[0].Recipients[0].ID, State: store.QueueDelivered, Attempted: true, LastAttempt: qt0}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.QueueBody(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delivered large body still there: %v", err)
	}
}

func testQueueConcurrentClaims(t *testing.T, s QueueBackend) {
	ctx := context.Background()
	const msgs = 20
	for i := 0; i < msgs; i++ {
		if _, err := s.Enqueue(ctx, rawMsg(fmt.Sprint("c", i)), queued("x@sonla.gov.vn", "a@example.org", "b@example.net"), nil); err != nil {
			t.Fatal(err)
		}
	}
	ClaimEachOnce(t, qt0, 3, 2*msgs, s, s, s, s)
	if st, _ := s.QueueStats(ctx); st.Messages != 0 {
		t.Errorf("queue not empty: %+v", st)
	}
}

// ClaimEachOnce has every claimer drain the queue at the same time, in batches,
// marking what it claims delivered, and fails unless want recipients were
// claimed, each exactly once. Claimers may be one store (concurrent workers) or
// several opened on one database (several nodes).
func ClaimEachOnce(t *testing.T, now time.Time, batch, want int, claimers ...store.QueueStore) {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for _, s := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimQueue(ctx, now, time.Hour, batch)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				var ups []store.QueueUpdate
				mu.Lock()
				for _, m := range got {
					for _, r := range m.Recipients {
						seen[r.ID]++
						ups = append(ups, store.QueueUpdate{RecipientID: r.ID, State: store.QueueDelivered, Attempted: true, LastAttempt: now})
					}
				}
				mu.Unlock()
				if err := s.RecordQueue(ctx, ups, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != want {
		t.Fatalf("claimed %d recipients, want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("recipient %d claimed %d times", id, n)
		}
	}
}
