package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"govmail/internal/store"
	"govmail/internal/vacation"
)

// addUnit makes a unit with its own mailbox, as the directory service does.
func (e *env) addUnit(u *store.Unit, box string) *store.Unit {
	e.t.Helper()
	ctx := context.Background()
	if err := e.st.CreateUnit(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	if box != "" {
		a := &store.Account{Address: box, DisplayName: u.Name, Kind: store.KindUnit, UnitID: u.ID, PasswordHash: "x",
			PasswordSetAt: e.clk.Now(), QuotaBytes: e.cfg.Policy.QuotaBytes}
		if err := e.st.CreateAccount(ctx, a); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

func (e *env) addStaff(addr, name string, unit int64) *store.Account {
	e.t.Helper()
	a := &store.Account{Address: addr, DisplayName: name, UnitID: unit, PasswordHash: "x", PasswordSetAt: e.clk.Now(), QuotaBytes: e.cfg.Policy.QuotaBytes}
	if err := e.st.CreateAccount(context.Background(), a); err != nil {
		e.t.Fatal(err)
	}
	return a
}

func suggestions(t *testing.T, b *browser, q string) []suggestion {
	t.Helper()
	r := b.get("/addressbook/suggest?q=" + url.QueryEscape(q))
	r.wantStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	var out []suggestion
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return out
}

func findSuggestion(out []suggestion, name string) *suggestion {
	for i := range out {
		if out[i].Name == name {
			return &out[i]
		}
	}
	return nil
}

// Issue 8 part 4: the directory answers folded names, units' staff and the
// province-wide groups; never a locked account.
func TestAddressBookSuggest(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	khcn := e.addUnit(&store.Unit{Kind: store.UnitProvinceAgency, Name: "Sở Khoa học và Công nghệ", Abbr: "skhcn", LocalPart: "skhcn"}, "skhcn@sonla.gov.vn")
	cc := e.addUnit(&store.Unit{Kind: store.UnitCommune, Name: "UBND xã Chiềng Cơi", Abbr: "chiengcoi", LocalPart: "chiengcoi"}, "chiengcoi@sonla.gov.vn")
	hoa := e.addStaff("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", khcn.ID)
	e.addStaff("binhlv.skhcn@sonla.gov.vn", "Lò Văn Bình", khcn.ID)
	gone := e.addStaff("hoalt.chiengcoi@sonla.gov.vn", "Lê Thị Hoà", cc.ID)
	if err := e.st.LockAccount(ctx, gone.ID, "test", store.LockInfo{}); err != nil {
		t.Fatal(err)
	}
	b := e.signedIn(hoa)

	out := suggestions(t, b, "nguyen thi")
	if len(out) != 1 || out[0].Address != "hoant.skhcn@sonla.gov.vn" || out[0].Name != "Nguyễn Thị Hoa" || out[0].Unit != "Sở Khoa học và Công nghệ" {
		t.Errorf("nguyen thi: %+v", out)
	}
	// Folded: no diacritics, any case.
	out = suggestions(t, b, "KHOA HOC")
	g := findSuggestion(out, "Tất cả cán bộ Sở Khoa học và Công nghệ")
	if g == nil || strings.Join(g.Members, ",") != "binhlv.skhcn@sonla.gov.vn,hoant.skhcn@sonla.gov.vn" {
		t.Errorf("unit staff group: %+v", out)
	}
	if findSuggestion(out, "Sở Khoa học và Công nghệ") == nil {
		t.Errorf("unit mailbox missing: %+v", out)
	}
	out = suggestions(t, b, "tat ca xa")
	g = findSuggestion(out, "Tất cả UBND xã, phường")
	if g == nil || strings.Join(g.Members, ",") != "chiengcoi@sonla.gov.vn" {
		t.Errorf("all communes: %+v", out)
	}
	out = suggestions(t, b, "sở, ban")
	if g = findSuggestion(out, "Tất cả sở, ban, ngành tỉnh"); g == nil || strings.Join(g.Members, ",") != "skhcn@sonla.gov.vn" {
		t.Errorf("all agencies: %+v", out)
	}
	if out := suggestions(t, b, ""); len(out) != 0 {
		t.Errorf("empty query: %+v", out)
	}
	for i := 0; i < 30; i++ {
		e.addStaff("cb"+string(rune('a'+i%26))+string(rune('a'+i/26))+".skhcn@sonla.gov.vn", "Cán bộ số", khcn.ID)
	}
	if out := suggestions(t, b, "can bo"); len(out) != maxSuggestions {
		t.Errorf("%d suggestions, want %d", len(out), maxSuggestions)
	}
	// Signed out: no directory.
	r := e.browser().get("/addressbook/suggest?q=hoa")
	if r.url.Path != "/login" || strings.Contains(r.body, "binhlv.skhcn") {
		t.Errorf("directory answered without a session: %s", r.url)
	}
}

// The compose page loads the address book script from static/, never inline.
func TestComposeLoadsAddressBook(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.signedIn(a)
	r := b.get("/compose")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, `src="/static/addressbook.js?v=`, `data-suggest="/addressbook/suggest"`)
	if r := b.get("/static/addressbook.js"); r.status != http.StatusOK || !strings.Contains(r.body, "role") {
		t.Errorf("script: %d", r.status)
	}
}

// Issue 8 part 6: the signature is saved in settings and ends new messages
// and replies below "-- ", but not drafts.
func TestSignature(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.signedIn(a)
	r := b.post("/settings/signature", url.Values{"signature": {"Nguyễn Thị Hoa\r\nSở KHCN Sơn La\r\n"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã lưu chữ ký.", "Sở KHCN Sơn La</textarea>")
	r = b.get("/compose")
	mustContain(t, r.body, "\n\n-- \nNguyễn Thị Hoa\nSở KHCN Sơn La</textarea>")
	uid := e.deliver(a, "From: binh@example.org\nTo: hoant.skhcn@sonla.gov.vn\nSubject: Hỏi\n\nNội dung gốc\n")
	inbox := e.mailbox(a, "INBOX")
	r = b.get("/compose?reply=" + itoa(inbox.ID) + ":" + itoa(int64(uid)))
	body := r.body[strings.Index(r.body, `name="body"`):]
	if i, j := strings.Index(body, "-- \nNguyễn Thị Hoa"), strings.Index(body, "&gt; Nội dung gốc"); i < 0 || j < i {
		t.Errorf("reply body: %s", abbreviate(body))
	}
	long := strings.Repeat("x", maxSignature+1)
	r = b.post("/settings/signature", url.Values{"signature": {long}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Chữ ký dài quá 1000 ký tự.")
	r = b.post("/settings/signature", url.Values{"signature": {""}})
	r.wantStatus(t, http.StatusOK)
	mustNotContain(t, b.get("/compose").body, "-- \n")
}

// Issue 8 part 6: the vacation responder's settings.
func TestVacationSettings(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.signedIn(a)
	r := b.get("/settings")
	mustContain(t, r.body, "Trả lời tự động khi vắng mặt", "Đang tắt")
	r = b.post("/settings/vacation", url.Values{"on": {"1"}, "subject": {"Vắng mặt"}, "message": {"Tôi đi công tác."}, "until": {"2026-03-20"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã lưu cài đặt trả lời tự động.", `value="Vắng mặt"`, "Tôi đi công tác.</textarea>", `value="2026-03-20"`)
	vs, err := vacation.Load(context.Background(), e.st, a.ID)
	if err != nil || !vs.On || vs.Subject != "Vắng mặt" || vs.Message != "Tôi đi công tác." || vs.Until != "2026-03-20" {
		t.Fatalf("stored %+v %v", vs, err)
	}
	r = b.post("/settings/vacation", url.Values{"on": {"1"}, "message": {"x"}, "until": {"20/3/2026"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Ngày không hợp lệ.")
	r = b.post("/settings/vacation", url.Values{"message": {"Tôi đi công tác."}})
	r.wantStatus(t, http.StatusOK)
	if vs, _ := vacation.Load(context.Background(), e.st, a.ID); vs.On {
		t.Error("still on")
	}
	b.post("/settings/lang", url.Values{"lang": {"en"}})
	mustContain(t, b.get("/settings").body, "Out-of-office auto-reply")
}

// R17.3: a message whose Authentication-Results from us says dmarc=fail is
// shown with a warning; one written by someone else is not believed.
func TestReadWarnsFailedDMARC(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.signedIn(a)
	inbox := e.mailbox(a, "INBOX")
	warn := "không qua được kiểm tra DMARC"
	fail := e.deliver(a, "Authentication-Results: "+e.cfg.Hostname+"; spf=fail smtp.mailfrom=sonla.gov.vn;\n\tdmarc=fail header.from=sonla.gov.vn\nFrom: giamdoc@sonla.gov.vn\nSubject: Chuyển tiền gấp\n\nxin chuyển\n")
	mustContain(t, b.get("/mail/"+itoa(inbox.ID)+"/"+itoa(int64(fail))).body, warn)
	pass := e.deliver(a, "Authentication-Results: "+e.cfg.Hostname+"; dmarc=pass header.from=example.org\nAuthentication-Results: "+e.cfg.Hostname+"; dmarc=fail header.from=example.org\nFrom: a@example.org\nSubject: Bình thường\n\nx\n")
	mustNotContain(t, b.get("/mail/"+itoa(inbox.ID)+"/"+itoa(int64(pass))).body, warn)
	other := e.deliver(a, "Authentication-Results: mx.example.org; dmarc=fail header.from=example.org\nFrom: a@example.org\nSubject: Khác\n\nx\n")
	mustNotContain(t, b.get("/mail/"+itoa(inbox.ID)+"/"+itoa(int64(other))).body, warn)
}
