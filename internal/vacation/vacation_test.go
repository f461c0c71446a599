package vacation

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"govmail/internal/clock"
	"govmail/internal/delivery"
	"govmail/internal/store"
)

// fakeStore keeps settings and notices in maps: the rules, not SQL, are under test.
type fakeStore struct {
	mu       sync.Mutex
	settings map[int64]map[string]string
	notices  map[string]bool
	accts    map[int64]*store.Account
	reads    int // UserSetting calls
}

func newFakeStore() *fakeStore {
	return &fakeStore{settings: map[int64]map[string]string{}, notices: map[string]bool{},
		accts: map[int64]*store.Account{1: {ID: 1, Address: "an@sonla.gov.vn", DisplayName: "Nguyễn Văn An", State: store.StateActive}}}
}

func (f *fakeStore) UserSetting(_ context.Context, id int64, key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.settings[id][key], nil
}

func (f *fakeStore) SetUserSetting(_ context.Context, id int64, key, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.settings[id] == nil {
		f.settings[id] = map[string]string{}
	}
	f.settings[id][key] = value
	return nil
}

func (f *fakeStore) AccountByID(_ context.Context, id int64) (*store.Account, error) {
	if a, ok := f.accts[id]; ok {
		return a, nil
	}
	return nil, store.ErrNotFound
}

func (f *fakeStore) MarkNotice(_ context.Context, id int64, kind, key string, _ time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := kind + "|" + key
	if f.notices[k] {
		return false, nil
	}
	f.notices[k] = true
	return true, nil
}

type sent struct{ from, to string }

type fixture struct {
	st   *fakeStore
	clk  *clock.Fake
	r    *Responder
	sent []sent
	raw  [][]byte
}

var start = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

func newFixture(t *testing.T) *fixture {
	f := &fixture{st: newFakeStore(), clk: clock.NewFake(start)}
	f.r = &Responder{Store: f.st, Clock: f.clk, Location: time.UTC, Hostname: "mail.sonla.gov.vn",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Send: func(_ context.Context, from, to string, raw []byte) error {
			f.sent = append(f.sent, sent{from, to})
			f.raw = append(f.raw, raw)
			return nil
		}}
	if err := Save(context.Background(), f.st, 1, Settings{On: true, Subject: "", Message: "Tôi nghỉ phép đến 10/7.", Until: "2026-07-10"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func msg(extra string) []byte {
	return []byte("From: Bình <binh@example.vn>\r\nTo: an@sonla.gov.vn\r\nSubject: Họp giao ban\r\nMessage-ID: <m1@example.vn>\r\n" + extra + "\r\nNội dung\r\n")
}

func inbox() []delivery.Delivered {
	return []delivery.Delivered{{Recipient: delivery.Recipient{Address: "an@sonla.gov.vn", AccountID: 1}}}
}

func (f *fixture) deliver(t *testing.T, from string, raw []byte, d []delivery.Delivered) int {
	t.Helper()
	before := len(f.sent)
	if err := f.r.Handle(context.Background(), &delivery.Envelope{From: from}, d, raw); err != nil {
		t.Fatal(err)
	}
	return len(f.sent) - before
}

func TestRepliesOncePerSenderPerWeek(t *testing.T) {
	f := newFixture(t)
	if n := f.deliver(t, "binh@example.vn", msg(""), inbox()); n != 1 {
		t.Fatalf("first message: %d replies, want 1", n)
	}
	if f.sent[0].from != "an@sonla.gov.vn" || f.sent[0].to != "binh@example.vn" {
		t.Errorf("reply envelope %+v", f.sent[0])
	}
	if n := f.deliver(t, "binh@example.vn", msg(""), inbox()); n != 0 {
		t.Errorf("same sender again: %d replies", n)
	}
	if n := f.deliver(t, "chi@example.vn", msg(""), inbox()); n != 1 {
		t.Errorf("other sender: %d replies", n)
	}
	f.clk.Advance(Period)
	if n := f.deliver(t, "binh@example.vn", msg(""), inbox()); n != 1 {
		t.Errorf("a week later: %d replies", n)
	}
}

func TestReplyMessage(t *testing.T) {
	f := newFixture(t)
	f.deliver(t, "binh@example.vn", msg("References: <m0@example.vn>\r\n"), inbox())
	mr, err := mail.CreateReader(bytes.NewReader(f.raw[0]))
	if err != nil {
		t.Fatal(err)
	}
	h := mr.Header
	if s, _ := h.Subject(); s != "Re: Họp giao ban" {
		t.Errorf("subject %q", s)
	}
	if h.Get("Auto-Submitted") != "auto-replied" {
		t.Errorf("Auto-Submitted %q", h.Get("Auto-Submitted"))
	}
	if ids, _ := h.MsgIDList("In-Reply-To"); len(ids) != 1 || ids[0] != "m1@example.vn" {
		t.Errorf("In-Reply-To %v", ids)
	}
	if ids, _ := h.MsgIDList("References"); strings.Join(ids, " ") != "m0@example.vn m1@example.vn" {
		t.Errorf("References %v", ids)
	}
	if id, _ := h.MessageID(); !strings.HasSuffix(id, "@mail.sonla.gov.vn") {
		t.Errorf("Message-ID %q", id)
	}
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(p.Body)
	vi, en := strings.Index(string(body), "Đây là thư trả lời tự động"), strings.Index(string(body), "automatic reply")
	if !strings.Contains(string(body), "Tôi nghỉ phép đến 10/7.") || vi < 0 || en < vi {
		t.Errorf("body %q", body)
	}
}

func TestCustomSubject(t *testing.T) {
	f := newFixture(t)
	if err := Save(context.Background(), f.st, 1, Settings{On: true, Subject: "Vắng mặt", Message: "x"}); err != nil {
		t.Fatal(err)
	}
	f.deliver(t, "binh@example.vn", msg(""), inbox())
	mr, err := mail.CreateReader(bytes.NewReader(f.raw[0]))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := mr.Header.Subject(); s != "Vắng mặt" {
		t.Errorf("subject %q", s)
	}
}

// Every rule of when not to answer.
func TestNoReply(t *testing.T) {
	held := inbox()
	held[0].Held = true
	junk := inbox()
	junk[0].Junk = true
	junkFolder := inbox()
	junkFolder[0].Recipient.Mailbox = "Junk"
	refused := inbox()
	refused[0].Err = store.ErrQuotaExceeded
	for _, c := range []struct {
		name string
		from string
		raw  []byte
		d    []delivery.Delivered
	}{
		{"null sender (bounce)", "", msg(""), inbox()},
		{"MAILER-DAEMON", "MAILER-DAEMON@example.vn", msg(""), inbox()},
		{"postmaster", "postmaster@example.vn", msg(""), inbox()},
		{"noreply", "noreply@dichvucong.gov.vn", msg(""), inbox()},
		{"no-reply", "no-reply@example.vn", msg(""), inbox()},
		{"list owner", "owner-staff@example.vn", msg(""), inbox()},
		{"list request", "staff-request@example.vn", msg(""), inbox()},
		{"List-Id", "binh@example.vn", msg("List-Id: <staff.example.vn>\r\n"), inbox()},
		{"List-Unsubscribe", "binh@example.vn", msg("List-Unsubscribe: <mailto:u@example.vn>\r\n"), inbox()},
		{"Precedence bulk", "binh@example.vn", msg("Precedence: bulk\r\n"), inbox()},
		{"Precedence list", "binh@example.vn", msg("Precedence: list\r\n"), inbox()},
		{"Precedence junk", "binh@example.vn", msg("Precedence: Junk\r\n"), inbox()},
		{"Auto-Submitted auto-replied", "binh@example.vn", msg("Auto-Submitted: auto-replied\r\n"), inbox()},
		{"Auto-Submitted auto-generated", "binh@example.vn", msg("Auto-Submitted: auto-generated\r\n"), inbox()},
		{"quarantined", "binh@example.vn", msg(""), held},
		{"filed to Junk by the spam check", "binh@example.vn", msg(""), junk},
		{"filed to Junk by a rule", "binh@example.vn", msg(""), junkFolder},
		{"not stored", "binh@example.vn", msg(""), refused},
		{"to oneself", "an@sonla.gov.vn", msg(""), inbox()},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			if n := f.deliver(t, c.from, c.raw, c.d); n != 0 {
				t.Errorf("%d replies, want none", n)
			}
		})
	}
}

func TestAutoSubmittedNoIsAnswered(t *testing.T) {
	f := newFixture(t)
	if n := f.deliver(t, "binh@example.vn", msg("Auto-Submitted: no\r\n"), inbox()); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
}

func TestOffOrPastDate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := Save(ctx, f.st, 1, Settings{On: false, Message: "x"}); err != nil {
		t.Fatal(err)
	}
	if n := f.deliver(t, "binh@example.vn", msg(""), inbox()); n != 0 {
		t.Errorf("off: %d replies", n)
	}
	if err := Save(ctx, f.st, 1, Settings{On: true, Message: "x", Until: "2026-07-01"}); err != nil {
		t.Fatal(err)
	}
	f.clk.Set(time.Date(2026, 7, 1, 23, 59, 0, 0, time.UTC))
	if n := f.deliver(t, "binh@example.vn", msg(""), inbox()); n != 1 {
		t.Errorf("last day: %d replies, want 1", n)
	}
	f.clk.Set(time.Date(2026, 7, 2, 0, 0, 0, 0, time.UTC))
	if n := f.deliver(t, "chi@example.vn", msg(""), inbox()); n != 0 {
		t.Errorf("after the date: %d replies", n)
	}
}

func TestOtherAccountsNotAway(t *testing.T) {
	f := newFixture(t)
	f.st.accts[2] = &store.Account{ID: 2, Address: "binh2@sonla.gov.vn", State: store.StateActive}
	d := []delivery.Delivered{{Recipient: delivery.Recipient{AccountID: 2}}}
	if n := f.deliver(t, "binh@example.vn", msg(""), d); n != 0 {
		t.Errorf("%d replies for an account without a responder", n)
	}
}

// Every delivered message asks about each recipient; one without a responder
// costs one settings read, not one per setting.
func TestRecipientNotAwayCostsOneRead(t *testing.T) {
	f := newFixture(t)
	f.st.accts[2] = &store.Account{ID: 2, Address: "binh2@sonla.gov.vn", State: store.StateActive}
	d := []delivery.Delivered{{Recipient: delivery.Recipient{AccountID: 2}}}
	f.st.reads = 0
	if n := f.deliver(t, "binh@example.vn", msg(""), d); n != 0 {
		t.Errorf("%d replies for an account without a responder", n)
	}
	if f.st.reads != 1 {
		t.Errorf("%d settings reads, want 1", f.st.reads)
	}
}

func TestSaveRejectsBadDate(t *testing.T) {
	if err := Save(context.Background(), newFakeStore(), 1, Settings{On: true, Until: "10/7/2026"}); !errors.Is(err, ErrBadDate) {
		t.Errorf("err %v", err)
	}
}
