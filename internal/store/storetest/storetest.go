// Package storetest is the conformance suite every store backend passes
// (DESIGN: store). A backend's test calls Run with a function that opens a fresh,
// empty store.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"govmail/internal/store"
)

// Opener returns a new empty store; the suite closes it.
type Opener func(t *testing.T) store.Store

// Run runs every conformance test.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Accounts", testAccounts},
		{"DeliverSharesBody", testDeliverSharesBody},
		{"LargeBody", testLargeBody},
		{"Quota", testQuota},
		{"FlagsCopyMoveExpunge", testFlagsCopyMoveExpunge},
		{"Mailboxes", testMailboxes},
		{"SearchFolded", testSearchFolded},
		{"Events", testEvents},
		{"ConcurrentDeliveries", testConcurrent},
		{"Log", testLog},
		{"LogPaging", testLogPaging},
		{"AuthReports", testAuthReports},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
			if err := s.Check(context.Background()); err != nil {
				t.Fatalf("integrity after test: %v", err)
			}
		})
	}
}

func mustAccount(t *testing.T, s store.Store, addr string, quota int64) *store.Account {
	t.Helper()
	a := &store.Account{Address: addr, DisplayName: addr, QuotaBytes: quota}
	if err := s.CreateAccount(context.Background(), a); err != nil {
		t.Fatalf("create %s: %v", addr, err)
	}
	return a
}

func msg(body string) *store.NewMessage {
	raw := "From: a@example.org\r\nSubject: test\r\n\r\n" + body + "\r\n"
	return &store.NewMessage{Raw: []byte(raw), SearchText: body, InternalDate: time.Unix(1764000000, 0)}
}

func inbox(t *testing.T, s store.Store, a *store.Account) *store.Mailbox {
	t.Helper()
	m, err := s.MailboxByName(context.Background(), a.ID, "inbox")
	if err != nil {
		t.Fatalf("inbox: %v", err)
	}
	return m
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "HoaNT.skhcn@sonla.gov.vn", 1<<20)
	if a.Address != "hoant.skhcn@sonla.gov.vn" {
		t.Errorf("address not lower-cased: %s", a.Address)
	}
	err := s.CreateAccount(ctx, &store.Account{Address: "hoant.SKHCN@sonla.gov.vn", QuotaBytes: 1})
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate address: %v", err)
	}
	got, err := s.AccountByAddress(ctx, "HOANT.skhcn@sonla.gov.vn")
	if err != nil || got.ID != a.ID || got.State != store.StateActive || got.Kind != store.KindPersonal {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	if _, err := s.AccountByAddress(ctx, "nobody@sonla.gov.vn"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing account: %v", err)
	}
	mbs, err := s.ListMailboxes(ctx, a.ID)
	if err != nil || len(mbs) != len(store.DefaultMailboxes) {
		t.Fatalf("default mailboxes: %v %v", mbs, err)
	}
	at := time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC)
	if err := s.SetPassword(ctx, a.ID, "hash", true, at); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordLogin(ctx, a.ID, at); err != nil {
		t.Fatal(err)
	}
	got, _ = s.AccountByID(ctx, a.ID)
	if got.PasswordHash != "hash" || !got.MustChange || !got.PasswordSetAt.Equal(at) || !got.LastLoginAt.Equal(at) {
		t.Errorf("password/login not stored: %+v", got)
	}
}

func testDeliverSharesBody(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "a@sonla.gov.vn", 1<<20)
	b := mustAccount(t, s, "b@sonla.gov.vn", 1<<20)
	m := msg("Kính gửi các đơn vị")
	out, err := s.Deliver(ctx, m, []store.DeliveryTarget{
		{AccountID: a.ID, Log: &store.LogEntry{Recipient: "a@sonla.gov.vn", Direction: "in"}},
		{AccountID: b.ID, Log: &store.LogEntry{Recipient: "b@sonla.gov.vn", Direction: "in"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Err != nil || out[1].Err != nil || out[0].UID != 1 || out[1].UID != 1 {
		t.Fatalf("outcomes: %+v", out)
	}
	ma, _, _ := s.Messages(ctx, out[0].MailboxID, false)
	mb, _, _ := s.Messages(ctx, out[1].MailboxID, false)
	if len(ma) != 1 || len(mb) != 1 || ma[0].BlobID != mb[0].BlobID {
		t.Fatalf("body not shared: %+v %+v", ma, mb)
	}
	raw, err := s.ReadBlob(ctx, ma[0].BlobID)
	if err != nil || !bytes.Equal(raw, m.Raw) {
		t.Fatalf("body changed: %q %v", raw, err)
	}
	acc, _ := s.AccountByID(ctx, a.ID)
	if acc.UsedBytes != int64(len(m.Raw)) {
		t.Errorf("usage %d, want %d", acc.UsedBytes, len(m.Raw))
	}
	// Expunging one copy keeps the other's body.
	if _, err := s.Expunge(ctx, out[0].MailboxID, []uint32{1}); err != nil {
		t.Fatal(err)
	}
	if raw, err := s.ReadBlob(ctx, mb[0].BlobID); err != nil || !bytes.Equal(raw, m.Raw) {
		t.Fatalf("shared body lost: %v", err)
	}
	if _, err := s.Expunge(ctx, out[1].MailboxID, []uint32{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadBlob(ctx, mb[0].BlobID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unreferenced body kept: %v", err)
	}
	logs, _ := s.SearchLog(ctx, store.LogFilter{})
	if len(logs) != 2 || logs[0].Status != store.LogDelivered {
		t.Fatalf("log rows: %+v", logs)
	}
}

func testLargeBody(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "big@sonla.gov.vn", 64<<20)
	body := bytes.Repeat([]byte("Văn bản dài 0123456789\r\n"), 100000) // ~2.5 MB
	m := &store.NewMessage{Raw: append([]byte("Subject: big\r\n\r\n"), body...), InternalDate: time.Now()}
	uid, err := s.Append(ctx, inbox(t, s, a).ID, m, []string{`\Seen`})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := s.MessagesByUID(ctx, inbox(t, s, a).ID, []uint32{uid}, false)
	if err != nil || len(msgs) != 1 {
		t.Fatal(err)
	}
	raw, err := s.ReadBlob(ctx, msgs[0].BlobID)
	if err != nil || !bytes.Equal(raw, m.Raw) {
		t.Fatalf("large body changed (%d vs %d bytes): %v", len(raw), len(m.Raw), err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expunge(ctx, inbox(t, s, a).ID, []uint32{uid}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadBlob(ctx, msgs[0].BlobID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("large body kept: %v", err)
	}
}

// R11.7: a message that would take usage over the quota is refused.
func testQuota(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := msg("x")
	a := mustAccount(t, s, "q@sonla.gov.vn", int64(len(m.Raw))*2)
	for i := 0; i < 2; i++ {
		out, err := s.Deliver(ctx, m, []store.DeliveryTarget{{AccountID: a.ID}})
		if err != nil || out[0].Err != nil {
			t.Fatalf("delivery %d: %v %v", i, err, out)
		}
	}
	out, err := s.Deliver(ctx, m, []store.DeliveryTarget{{AccountID: a.ID, Log: &store.LogEntry{Recipient: a.Address}}})
	if err != nil || !errors.Is(out[0].Err, store.ErrQuotaExceeded) {
		t.Fatalf("over quota accepted: %v %+v", err, out)
	}
	if _, err := s.Append(ctx, inbox(t, s, a).ID, m, nil); !errors.Is(err, store.ErrQuotaExceeded) {
		t.Fatalf("append over quota: %v", err)
	}
	out, err = s.Deliver(ctx, m, []store.DeliveryTarget{{AccountID: a.ID, IgnoreQuota: true}})
	if err != nil || out[0].Err != nil {
		t.Fatalf("IgnoreQuota refused: %v %+v", err, out)
	}
	logs, _ := s.SearchLog(ctx, store.LogFilter{Status: store.LogRefused})
	if len(logs) != 1 {
		t.Fatalf("refusal not logged: %+v", logs)
	}
}

func testFlagsCopyMoveExpunge(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "f@sonla.gov.vn", 1<<20)
	in := inbox(t, s, a)
	for i := 0; i < 5; i++ {
		if _, err := s.Append(ctx, in.ID, msg(fmt.Sprint("m", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := s.StoreFlags(ctx, in.ID, []uint32{1, 2, 3}, store.FlagsAdd, []string{`\Seen`, `\Flagged`})
	if err != nil || len(ch) != 3 {
		t.Fatalf("store flags: %v %v", ch, err)
	}
	ch, _ = s.StoreFlags(ctx, in.ID, []uint32{1, 2, 3}, store.FlagsAdd, []string{`\Seen`})
	if len(ch) != 0 {
		t.Errorf("no-op store reported changes: %v", ch)
	}
	ch, _ = s.StoreFlags(ctx, in.ID, []uint32{2}, store.FlagsRemove, []string{`\flagged`})
	if len(ch) != 1 || len(ch[0].Flags) != 1 || ch[0].Flags[0] != `\Seen` {
		t.Errorf("remove flag: %+v", ch)
	}
	st, _ := s.MailboxStatus(ctx, in.ID)
	if st.Messages != 5 || st.Unseen != 2 || st.UIDNext != 6 {
		t.Errorf("status: %+v", st)
	}
	arch, _ := s.MailboxByName(ctx, a.ID, "Archive")
	pairs, err := s.Copy(ctx, in.ID, []uint32{1, 4}, arch.ID)
	if err != nil || len(pairs) != 2 || pairs[0] != (store.UIDPair{Src: 1, Dst: 1}) || pairs[1] != (store.UIDPair{Src: 4, Dst: 2}) {
		t.Fatalf("copy: %v %v", pairs, err)
	}
	trash, _ := s.MailboxByName(ctx, a.ID, "Trash")
	pairs, err = s.Move(ctx, in.ID, []uint32{2, 3}, trash.ID)
	if err != nil || len(pairs) != 2 {
		t.Fatalf("move: %v %v", pairs, err)
	}
	msgs, _, _ := s.Messages(ctx, in.ID, false)
	if len(msgs) != 3 || msgs[0].UID != 1 || msgs[1].UID != 4 || msgs[2].UID != 5 {
		t.Fatalf("after move: %+v", msgs)
	}
	tm, _, _ := s.Messages(ctx, trash.ID, false)
	if len(tm) != 2 || len(tm[0].Flags) != 1 || len(tm[1].Flags) != 2 {
		t.Fatalf("moved flags lost: %+v", tm)
	}
	s.StoreFlags(ctx, in.ID, []uint32{4}, store.FlagsAdd, []string{`\Deleted`})
	gone, err := s.Expunge(ctx, in.ID, nil)
	if err != nil || len(gone) != 1 || gone[0] != 4 {
		t.Fatalf("expunge deleted: %v %v", gone, err)
	}
	// UIDs never go back, even after expunging the highest one.
	s.Expunge(ctx, in.ID, []uint32{5})
	uid, _ := s.Append(ctx, in.ID, msg("new"), nil)
	if uid != 6 {
		t.Errorf("uid reused: %d", uid)
	}
	acc, _ := s.AccountByID(ctx, a.ID)
	var total int64
	for _, name := range []string{"INBOX", "Archive", "Trash"} {
		mb, _ := s.MailboxByName(ctx, a.ID, name)
		st, _ := s.MailboxStatus(ctx, mb.ID)
		total += st.Size
	}
	if acc.UsedBytes != total {
		t.Errorf("usage %d, sum of folders %d", acc.UsedBytes, total)
	}
}

func testMailboxes(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "m@sonla.gov.vn", 1<<20)
	if _, err := s.CreateMailbox(ctx, a.ID, "Công văn/Đến", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMailbox(ctx, a.ID, "Công văn", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMailbox(ctx, a.ID, "Công văn", ""); !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate folder: %v", err)
	}
	if err := s.RenameMailbox(ctx, a.ID, "Công văn", "Văn bản"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MailboxByName(ctx, a.ID, "Văn bản/Đến"); err != nil {
		t.Errorf("child not renamed: %v", err)
	}
	if err := s.DeleteMailbox(ctx, a.ID, "INBOX"); err == nil {
		t.Error("INBOX deleted")
	}
	in := inbox(t, s, a)
	s.Append(ctx, in.ID, msg("x"), nil)
	if err := s.RenameMailbox(ctx, a.ID, "INBOX", "Cũ"); err != nil {
		t.Fatal(err)
	}
	old, _ := s.MailboxByName(ctx, a.ID, "Cũ")
	if st, _ := s.MailboxStatus(ctx, old.ID); st.Messages != 1 {
		t.Errorf("INBOX rename did not move messages: %+v", st)
	}
	if st, _ := s.MailboxStatus(ctx, in.ID); st.Messages != 0 {
		t.Errorf("INBOX not empty after rename: %+v", st)
	}
	if err := s.DeleteMailbox(ctx, a.ID, "Cũ"); err != nil {
		t.Fatal(err)
	}
	if acc, _ := s.AccountByID(ctx, a.ID); acc.UsedBytes != 0 {
		t.Errorf("usage after delete: %d", acc.UsedBytes)
	}
	if err := s.SetSubscribed(ctx, a.ID, "Văn bản", false); err != nil {
		t.Fatal(err)
	}
	if mb, _ := s.MailboxByName(ctx, a.ID, "Văn bản"); mb.Subscribed {
		t.Error("still subscribed")
	}
}

// DESIGN decision 6: "hop" finds "Cuộc họp", "dang" finds "Đảng".
func testSearchFolded(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "s@sonla.gov.vn", 1<<20)
	in := inbox(t, s, a)
	texts := []string{"cuoc hop giao ban thang 11", "dang uy tinh son la", "bao cao tong ket"}
	for _, x := range texts {
		if _, err := s.Append(ctx, in.ID, msg(x), nil); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string][]uint32{"họp": {1}, "HOP": {1}, "Đảng": {2}, "báo cáo": {3}, "bao ca": {3}, "tong bao": {3}, "khong co": nil}
	for q, want := range cases {
		got, err := s.SearchText(ctx, in.ID, q)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("search %q = %v, want %v", q, got, want)
		}
	}
}

func testEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "e@sonla.gov.vn", 1<<20)
	in := inbox(t, s, a)
	var mu sync.Mutex
	var got []store.Event
	stop := s.Listen(func(ev []store.Event) {
		mu.Lock()
		got = append(got, ev...)
		mu.Unlock()
	})
	defer stop()
	s.Append(ctx, in.ID, msg("1"), nil)
	s.StoreFlags(ctx, in.ID, []uint32{1}, store.FlagsAdd, []string{`\Seen`})
	s.Expunge(ctx, in.ID, []uint32{1})
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || got[0].Kind != store.EventAppend || got[1].Kind != store.EventFlags || got[2].Kind != store.EventExpunge {
		t.Fatalf("events: %+v", got)
	}
	if !(got[0].ModSeq < got[1].ModSeq && got[1].ModSeq < got[2].ModSeq) {
		t.Errorf("modseq not increasing: %+v", got)
	}
	_, ms, _ := s.Messages(ctx, in.ID, false)
	if ms != got[2].ModSeq {
		t.Errorf("mailbox modseq %d, last event %d", ms, got[2].ModSeq)
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "c@sonla.gov.vn", 1<<30)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				out, err := s.Deliver(ctx, msg(fmt.Sprintf("g%d-%d", g, i)), []store.DeliveryTarget{{AccountID: a.ID}})
				if err == nil && out[0].Err != nil {
					err = out[0].Err
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	msgs, _, _ := s.Messages(ctx, inbox(t, s, a).ID, false)
	if len(msgs) != 200 {
		t.Fatalf("%d messages, want 200", len(msgs))
	}
	for i, m := range msgs {
		if m.UID != uint32(i+1) {
			t.Fatalf("uid %d at %d", m.UID, i)
		}
	}
}

// R11.1: the transaction log keeps its fields and its time offset.
func testLog(t *testing.T, s store.Store) {
	ctx := context.Background()
	ict := time.FixedZone("ICT", 7*3600)
	at := time.Date(2026, 3, 1, 8, 30, 0, 0, ict)
	e := store.LogEntry{Time: at, Direction: "in", Proto: "smtp", EnvelopeFrom: "x@example.org", HeaderFrom: "X <x@example.org>",
		Recipient: "Y@sonla.gov.vn", ClientIP: "192.0.2.1", Size: 1234, MessageID: "<m@x>", Status: store.LogRefused, Error: "550 5.1.1 no such user"}
	if err := s.AppendLog(ctx, []store.LogEntry{e}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SearchLog(ctx, store.LogFilter{Address: "y@sonla.gov.vn", Since: at.Add(-time.Hour), Until: at.Add(time.Hour)})
	if err != nil || len(got) != 1 {
		t.Fatalf("search log: %v %v", got, err)
	}
	g := got[0]
	if !g.Time.Equal(at) || g.Time.Format("-07:00") != "+07:00" || g.Size != 1234 || g.ClientIP != "192.0.2.1" || g.Error != e.Error || g.Recipient != "y@sonla.gov.vn" {
		t.Errorf("log row: %+v", g)
	}
	if got, _ := s.SearchLog(ctx, store.LogFilter{Since: at.Add(time.Hour)}); len(got) != 0 {
		t.Errorf("time filter: %+v", got)
	}
}

// Paging the transaction log by BeforeID follows the result order (newest
// time first) even when ids and times disagree.
func testLogPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var rows []store.LogEntry
	// Written out of time order: id order and time order disagree.
	for _, off := range []int{5, 1, 4, 2, 3, 0, 6} {
		rows = append(rows, store.LogEntry{Time: base.Add(time.Duration(off) * time.Minute), Direction: "in", Recipient: "p@sonla.gov.vn", Status: store.LogDelivered, MessageID: fmt.Sprint(off)})
	}
	if err := s.AppendLog(ctx, rows); err != nil {
		t.Fatal(err)
	}
	var got []string
	var before int64
	for {
		page, err := s.SearchLog(ctx, store.LogFilter{Limit: 2, BeforeID: before})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			got = append(got, e.MessageID)
		}
		before = page[len(page)-1].ID
	}
	if fmt.Sprint(got) != "[6 5 4 3 2 1 0]" {
		t.Fatalf("pages gave %v, want every row once, newest first", got)
	}
}
