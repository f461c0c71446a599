package delivery

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
)

// AfterDeliver hears every recipient with what became of it, and never hears
// system notices.
func TestAfterDeliver(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	st, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &store.Account{Address: "a@sonla.gov.vn", QuotaBytes: 1 << 30}
	full := &store.Account{Address: "full@sonla.gov.vn", QuotaBytes: 1}
	for _, acct := range []*store.Account{a, full} {
		if err := st.CreateAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
	}
	var got []Delivered
	var gotRaw []byte
	calls := 0
	d := &Deliverer{Store: st, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Hostname: "mail.sonla.gov.vn",
		AfterDeliver: func(_ context.Context, _ *Envelope, dl []Delivered, raw []byte) { calls++; got, gotRaw = dl, raw }}
	env := &Envelope{From: "b@example.org", Proto: "ESMTPS", Direction: "in", ClientIP: "192.0.2.1",
		Recipients: []Recipient{{Address: a.Address, AccountID: a.ID, Mailbox: "Junk"}, {Address: full.Address, AccountID: full.ID}}}
	if _, err := d.Deliver(ctx, env, strings.NewReader("From: b@example.org\r\nSubject: x\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || len(got) != 2 {
		t.Fatalf("calls %d, delivered %+v", calls, got)
	}
	if !got[0].Junk || got[0].Err != nil || got[0].Recipient.AccountID != a.ID {
		t.Errorf("first: %+v", got[0])
	}
	if got[1].Err == nil {
		t.Errorf("over quota not reported: %+v", got[1])
	}
	if !bytes.HasPrefix(gotRaw, []byte("Return-Path: <b@example.org>")) {
		t.Errorf("raw without trace: %.60q", gotRaw)
	}
	env.Proto = "LOCAL"
	env.Recipients = env.Recipients[:1]
	if _, err := d.Deliver(ctx, env, strings.NewReader("From: postmaster@sonla.gov.vn\r\n\r\nnotice\r\n")); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Error("a system notice reached AfterDeliver")
	}
}
