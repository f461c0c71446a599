package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"govmail/internal/config"
	"govmail/internal/store"
	"govmail/internal/testutil"
)

func countKind(bodies [][]byte, kind string) int {
	n := 0
	for _, b := range bodies {
		if bytes.Contains(b, []byte("X-Govmail-Notice: "+kind+"\r\n")) {
			n++
		}
	}
	return n
}

// R11.6, R11.7: one warning per crossing of 80 % and 90 %, one at the first
// refusal for quota (452 4.2.2), re-armed when usage falls back.
func TestQuotaWarningsR11_6(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	ctx := context.Background()
	a := s.AddAccount(t, "day.skhcn@sonla.gov.vn", pw)
	if err := s.App.Store.SetQuota(ctx, a.ID, 100000); err != nil {
		t.Fatal(err)
	}
	body := "Subject: tài liệu\r\n\r\n" + strings.Repeat(strings.Repeat("a", 98)+"\r\n", 205)
	send := func() error {
		c := dialMX(t, s)
		defer c.Close()
		if err := c.Mail("x@example.org", nil); err != nil {
			return err
		}
		if err := c.Rcpt(a.Address, nil); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		w.Write([]byte(body))
		return w.Close()
	}
	warnings := func() [2]int {
		b := inboxBodies(t, s, a)
		return [2]int{countKind(b, "quota-80") + countKind(b, "quota-90"), countKind(b, "quota-100")}
	}
	for i := 0; i < 4; i++ {
		if err := send(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "80% warning", func() bool { return countKind(inboxBodies(t, s, a), "quota-80") == 1 })
	if err := send(); err != nil {
		t.Fatalf("5th message (usage checked at RCPT was under quota): %v", err)
	}
	waitFor(t, "90% warning", func() bool { return countKind(inboxBodies(t, s, a), "quota-90") == 1 })
	for i := 0; i < 2; i++ {
		if err := send(); codeOf(err) != 452 || enhOf(err) != "4.2.2" {
			t.Fatalf("over quota: %v", err)
		}
	}
	waitFor(t, "100% warning", func() bool { return warnings()[1] == 1 })
	time.Sleep(100 * time.Millisecond) // a second refusal must not warn again
	if w := warnings(); w != [2]int{2, 1} {
		t.Fatalf("warnings: %v", w)
	}
	// Free the mailbox: the next delivery re-arms, and crossing 80 % warns again.
	mb, _ := s.App.Store.MailboxByName(ctx, a.ID, "INBOX")
	msgs, _, _ := s.App.Store.Messages(ctx, mb.ID, false)
	var uids []uint32
	for _, m := range msgs {
		if !isNotice(t, s, m) {
			uids = append(uids, m.UID)
		}
	}
	if _, err := s.App.Store.Expunge(ctx, mb.ID, uids); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := send(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "second 80% warning", func() bool { return countKind(inboxBodies(t, s, a), "quota-80") == 2 })
}

func isNotice(t *testing.T, s *testutil.Server, m store.Message) bool {
	b, err := s.App.Store.ReadBlob(context.Background(), m.BlobID)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b, []byte("X-Govmail-Notice:"))
}

// R11.4: the configured quota is the one every door gives a new account,
// a create request carried out by lifecycle included.
func TestConfiguredQuotaReachesLifecycleR11_4(t *testing.T) {
	s := testutil.Start(t, testutil.Options{Config: func(c *config.Config) { c.Policy.QuotaBytes = 3 << 30 }})
	if got := s.App.Life.Policy.QuotaBytes; got != 3<<30 {
		t.Fatalf("lifecycle gives new accounts %d bytes, want the configured %d", got, int64(3<<30))
	}
}
