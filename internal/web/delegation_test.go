package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"govmail/internal/store"
)

// Điều 9, R9.1, R9.2 in webmail: a delegate sees the unit mailbox beside their
// own folders, reads it, and sends as it with their own credentials; the sent
// mail names them in Sender and lands in the unit's Sent; removing the
// delegation removes the access at once.
func TestDelegatedUnitMailboxR9_1(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	person := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", "Abcdef1!x", false)
	other := e.addAccount("duyenct.skhcn@sonla.gov.vn", "Cầm Thị Duyên", "Abcdef1!x", false)
	unit := &store.Account{Address: "vp.skhcn@sonla.gov.vn", DisplayName: "Văn phòng Sở KHCN", Kind: store.KindUnit, QuotaBytes: 1 << 30}
	if err := e.st.CreateAccount(ctx, unit); err != nil {
		t.Fatal(err)
	}
	e.deliver(unit, "From: a@example.org\nSubject: Công văn đến số 12\n\nNội dung.\n")
	unitInbox := e.mailbox(unit, "INBOX")

	b := e.browser()
	b.login(person.Address, "Abcdef1!x").wantStatus(t, http.StatusOK)
	if r := b.get("/mail/" + itoa(unitInbox.ID)); r.status != http.StatusNotFound {
		t.Fatalf("unit INBOX readable before delegation: %d", r.status)
	}
	if err := e.st.GrantDelegation(ctx, store.Delegation{UnitAccountID: unit.ID, DelegateID: person.ID, GrantedBy: "manager", GrantedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r := b.get("/")
	mustContain(t, r.body, "vp.skhcn@sonla.gov.vn")
	r = b.get("/mail/" + itoa(unitInbox.ID))
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Công văn đến số 12")

	r = b.get("/compose")
	mustContain(t, r.body, `name="from"`, `<option value="vp.skhcn@sonla.gov.vn"`)
	r = b.postMultipart("/compose", url.Values{"from": {unit.Address}, "to": {other.Address}, "subject": {"Thông báo của Văn phòng"},
		"body": {"Kính gửi chị Duyên."}, "action": {"send"}}, nil)
	r.wantStatus(t, http.StatusOK)
	got := e.messages(e.mailbox(other, "INBOX"))
	if len(got) != 1 || !strings.Contains(string(got[0].Raw), "From: =?utf-8?") || !strings.Contains(string(got[0].Raw), "<vp.skhcn@sonla.gov.vn>") ||
		!strings.Contains(string(got[0].Raw), "Sender: =?utf-8?") || !strings.Contains(string(got[0].Raw), "<hoant.skhcn@sonla.gov.vn>") {
		t.Fatalf("sent as the unit without naming the delegate: %d messages", len(got))
	}
	if n := len(e.messages(e.mailbox(unit, "Sent"))); n != 1 {
		t.Errorf("unit Sent holds %d copies, want 1", n)
	}
	rows, _ := e.st.SearchLog(ctx, store.LogFilter{Address: other.Address})
	if len(rows) != 1 || rows[0].EnvelopeFrom != unit.Address || !strings.Contains(rows[0].AuthUser, person.Address) {
		t.Errorf("log: %+v", rows)
	}
	// Sending as a mailbox one does not manage is refused.
	r = b.postMultipart("/compose", url.Values{"from": {other.Address}, "to": {other.Address}, "subject": {"x"}, "action": {"send"}}, nil)
	mustContain(t, r.body, "không được gửi thư dưới địa chỉ duyenct.skhcn@sonla.gov.vn")
	// Removal acts at once.
	if err := e.st.RevokeDelegation(ctx, unit.ID, person.ID); err != nil {
		t.Fatal(err)
	}
	if r := b.get("/mail/" + itoa(unitInbox.ID)); r.status != http.StatusNotFound {
		t.Fatalf("unit INBOX still readable after removal: %d", r.status)
	}
}
