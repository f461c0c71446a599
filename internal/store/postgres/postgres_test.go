package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"govmail/internal/store"
	"govmail/internal/store/postgres"
	"govmail/internal/store/storetest"
	"govmail/internal/testutil"
)

// cluster is this package's private PostgreSQL: one per test binary, a fresh
// database per test (testutil.PostgresMain).
var cluster *testutil.PostgresCluster

func TestMain(m *testing.M) { os.Exit(testutil.PostgresMain(m, &cluster)) }

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, postgres.Options{DSN: dsn, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, cluster.Database(t))
	})
}

func TestQueueConformance(t *testing.T) {
	storetest.RunQueue(t, func(t *testing.T) storetest.QueueBackend {
		return open(t, cluster.Database(t))
	})
}

// DESIGN decision 4: a message stored through one node wakes listeners (IMAP
// IDLE) on another, in commit order, once each.
func TestTwoNodesFeed(t *testing.T) {
	dsn := cluster.Database(t)
	a := open(t, dsn)
	defer a.Close()
	b := open(t, dsn)
	defer b.Close()
	ctx := context.Background()
	acc := &store.Account{Address: "idle@sonla.gov.vn", QuotaBytes: 1 << 30}
	if err := a.CreateAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	inbox, err := b.MailboxByName(ctx, acc.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var onB, onA []store.Event
	arrived := make(chan struct{}, 1)
	defer b.Listen(func(evs []store.Event) {
		mu.Lock()
		onB = append(onB, evs...)
		mu.Unlock()
		select {
		case arrived <- struct{}{}:
		default:
		}
	})()
	defer a.Listen(func(evs []store.Event) {
		mu.Lock()
		onA = append(onA, evs...)
		mu.Unlock()
	})()
	start := time.Now()
	uid, err := a.Append(ctx, inbox.ID, &store.NewMessage{Raw: []byte("Subject: x\r\n\r\nhi\r\n"), InternalDate: time.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(time.Second):
		t.Fatal("node B heard nothing within a second")
	}
	t.Logf("append on A seen on B after %v", time.Since(start))
	mu.Lock()
	if len(onB) != 1 || onB[0].Kind != store.EventAppend || onB[0].UID != uid || onB[0].MailboxID != inbox.ID || onB[0].ModSeq == 0 {
		t.Errorf("B's events: %+v", onB)
	}
	// The writer's own listeners had the event before Append returned, once.
	if len(onA) != 1 || onA[0].UID != uid || onA[0].ModSeq != onB[0].ModSeq {
		t.Errorf("A's events: %+v", onA)
	}
	mu.Unlock()

	// Concurrent writes on both nodes to one mailbox: every listener sees one
	// order, with modseqs increasing, and nothing twice.
	var wg sync.WaitGroup
	for _, s := range []*postgres.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := s.Deliver(ctx, &store.NewMessage{Raw: fmt.Appendf(nil, "Subject: %p %d\r\n\r\nx\r\n", s, i)},
					[]store.DeliveryTarget{{AccountID: acc.ID}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := min(len(onA), len(onB))
		mu.Unlock()
		if n >= 41 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for name, evs := range map[string][]store.Event{"A": onA, "B": onB} {
		if len(evs) != 41 {
			t.Errorf("node %s heard %d events, want 41", name, len(evs))
			continue
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].ModSeq <= evs[i-1].ModSeq || evs[i].UID != evs[i-1].UID+1 {
				t.Errorf("node %s: event %d out of order: %+v after %+v", name, i, evs[i], evs[i-1])
				break
			}
		}
	}
}

// A transaction with more events than one NOTIFY payload holds arrives whole.
func TestFeedSplitsLargeTransactions(t *testing.T) {
	dsn := cluster.Database(t)
	a := open(t, dsn)
	defer a.Close()
	b := open(t, dsn)
	defer b.Close()
	ctx := context.Background()
	acc := &store.Account{Address: "many@sonla.gov.vn", QuotaBytes: 1 << 30}
	if err := a.CreateAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	inbox, _ := a.MailboxByName(ctx, acc.ID, "INBOX")
	const n = 600
	for i := 0; i < n; i++ {
		if _, err := a.Append(ctx, inbox.ID, &store.NewMessage{Raw: fmt.Appendf(nil, "Subject: %d\r\n\r\nx\r\n", i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan []store.Event, 4)
	// The appends' events may still be on their way to B: only what follows counts.
	defer b.Listen(func(evs []store.Event) {
		if evs[0].Kind != store.EventAppend {
			got <- evs
		}
	})()
	long := make([]string, 0, 400)
	for i := 0; i < 400; i++ {
		long = append(long, fmt.Sprintf("$Keyword%03d", i))
	}
	uids := make([]uint32, n)
	for i := range uids {
		uids[i] = uint32(i + 1)
	}
	if _, err := a.StoreFlags(ctx, inbox.ID, uids[:1], store.FlagsAdd, long); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Expunge(ctx, inbox.ID, uids); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{1, n} {
		select {
		case evs := <-got:
			if len(evs) != want {
				t.Fatalf("got %d events in one call, want %d", len(evs), want)
			}
			if want == 1 && len(evs[0].Flags) != len(long) {
				t.Errorf("flags too long for a payload arrived as %d flags", len(evs[0].Flags))
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no events")
		}
	}
}

// DESIGN decision 4: a daily job runs on one node at a time.
func TestJobLock(t *testing.T) {
	dsn := cluster.Database(t)
	a := open(t, dsn)
	defer a.Close()
	b := open(t, dsn)
	defer b.Close()
	ctx := context.Background()
	release, ok, err := a.TryJobLock(ctx, "lock-idle")
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	if _, ok, err := b.TryJobLock(ctx, "lock-idle"); err != nil || ok {
		t.Fatalf("second node got the lock: %v %v", ok, err)
	}
	if rel, ok, err := b.TryJobLock(ctx, "other-job"); err != nil || !ok {
		t.Fatalf("another job: %v %v", ok, err)
	} else {
		rel()
	}
	release()
	release() // idempotent
	rel, ok, err := b.TryJobLock(ctx, "lock-idle")
	if err != nil || !ok {
		t.Fatalf("after release: %v %v", ok, err)
	}
	rel()
}

// Two nodes claiming one queue never get the same recipient.
func TestQueueClaimsAcrossNodes(t *testing.T) {
	dsn := cluster.Database(t)
	a := open(t, dsn)
	defer a.Close()
	b := open(t, dsn)
	defer b.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const msgs = 30
	for i := 0; i < msgs; i++ {
		m := &store.QueuedMessage{From: "x@sonla.gov.vn", CreatedAt: t0, Recipients: []store.QueueRecipient{{Address: "a@example.org"}, {Address: "b@example.net"}}}
		if _, err := a.Enqueue(ctx, &store.NewMessage{Raw: fmt.Appendf(nil, "Subject: %d\r\n\r\nx\r\n", i)}, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	storetest.ClaimEachOnce(t, t0, 4, 2*msgs, a, b, a, b)
	if err := a.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The feed survives losing its connection: writes still return with their
// events handed out locally, and once the node listens again other nodes'
// changes reach it as before.
func TestFeedReconnects(t *testing.T) {
	dsn := cluster.Database(t)
	a := open(t, dsn)
	defer a.Close()
	b := open(t, dsn)
	defer b.Close()
	ctx := context.Background()
	acc := &store.Account{Address: "rec@sonla.gov.vn", QuotaBytes: 1 << 30}
	must(t, a.CreateAccount(ctx, acc))
	inbox, _ := a.MailboxByName(ctx, acc.ID, "INBOX")
	listeners := func() int {
		var n int
		if err := a.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("two listeners", func() bool { return listeners() == 2 })
	var mu sync.Mutex
	var onA, onB []store.Event
	defer a.Listen(func(evs []store.Event) { mu.Lock(); onA = append(onA, evs...); mu.Unlock() })()
	defer b.Listen(func(evs []store.Event) { mu.Lock(); onB = append(onB, evs...); mu.Unlock() })()
	// End every feed connection: both nodes lose their LISTEN.
	if _, err := a.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := a.Append(ctx, inbox.ID, &store.NewMessage{Raw: []byte("Subject: 1\r\n\r\nx\r\n")}, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("append took %v with the feed down", d)
	}
	mu.Lock()
	if len(onA) != 1 {
		t.Errorf("writer's own listeners got %d events with the feed down", len(onA))
	}
	mu.Unlock()
	waitFor("listeners back", func() bool { return listeners() == 2 })
	if _, err := a.Append(ctx, inbox.ID, &store.NewMessage{Raw: []byte("Subject: 2\r\n\r\nx\r\n")}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor("node B to hear the second append", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(onB) > 0 && onB[len(onB)-1].UID == 2
	})
	mu.Lock()
	defer mu.Unlock()
	if len(onA) != 2 || onA[1].UID != 2 {
		t.Errorf("node A's events: %+v", onA)
	}
}
