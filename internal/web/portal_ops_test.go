package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"govmail/internal/delivery"
	"govmail/internal/lifecycle"
	"govmail/internal/outage"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// hold delivers raw into a's held-mail folder, as delivery files mail the
// prohibited-use policy holds (R4.2, R4.3).
func (pe *portalEnv) hold(a *store.Account, raw string) uint32 {
	pe.t.Helper()
	ctx := context.Background()
	if _, err := pe.st.MailboxByName(ctx, a.ID, store.HeldFolder); err != nil {
		if _, err := pe.st.CreateMailbox(ctx, a.ID, store.HeldFolder, ""); err != nil {
			pe.t.Fatal(err)
		}
	}
	res, err := pe.del.Deliver(ctx, &delivery.Envelope{
		From: "security@facebookmail.com", Recipients: []delivery.Recipient{{Address: a.Address, AccountID: a.ID, Mailbox: store.HeldFolder}},
		ClientIP: "192.0.2.9", ClientHelo: "mx.facebookmail.com", Proto: "ESMTPS", Direction: "in",
	}, strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		pe.t.Fatal(err)
	}
	if res.Outcomes[0].Err != nil {
		pe.t.Fatal(res.Outcomes[0].Err)
	}
	return res.Outcomes[0].UID
}

const signupMail = "From: Facebook <security@facebookmail.com>\nTo: annv.skhcn@sonla.gov.vn\nSubject: Xác nhận tài khoản Facebook của bạn\nMessage-ID: <fb1@facebookmail.com>\n\nMã xác nhận của bạn là 123456.\n"

// The new portal pages refuse users and unit managers with the 403 page and do
// nothing for them (R7.5: the portal is Sở KHCN's; R14.1, R4.2, R7.3, C3).
func TestPortalOpsRefuseWrongRoles(t *testing.T) {
	pe := newPortalEnv(t)
	uid := pe.hold(pe.an, signupMail)
	ctx := context.Background()
	if _, err := pe.out.Publish(ctx, outagePublishInput(pe)); err != nil {
		t.Fatal(err)
	}
	// Chiềng Cơi's security contact reads that unit's pages, not the portal.
	cc, err := pe.st.UnitByID(ctx, pe.chiengcoi.ID)
	if err != nil {
		t.Fatal(err)
	}
	cc.SecurityContactID = pe.otherStaff.ID
	if err := pe.st.UpdateUnit(ctx, cc); err != nil {
		t.Fatal(err)
	}
	heldBase := "/portal/held/" + itoa(pe.an.ID) + "/" + itoa(int64(uid))
	gets := []string{"/portal/outages", "/portal/held", "/portal/holidays", "/portal/holidays?year=2026&received=2026-11-20",
		"/portal/reports", "/portal/reports?kind=month&month=2026-02", "/portal/reports/view?period=2026-02",
		"/portal/reports/view?period=2026-02&unit=skhcn", "/portal/reports/download?period=2026-02&format=csv"}
	posts := []string{"/portal/outages", "/portal/outages/1/close", heldBase + "/release", heldBase + "/drop", "/portal/holidays", "/portal/holidays/remove"}
	form := url.Values{"what": {"Mất điện"}, "since": {"2026-03-10T08:00"}, "until": {"2026-03-10T12:00"}, "scope": {"all"},
		"date": {"2026-11-24"}, "kind": {"holiday"}, "name": {"Ngày Văn hóa Việt Nam"}, "note": {"x"}}
	for _, c := range []struct {
		who string
		b   *browser
	}{{"user", pe.signedIn(pe.an)}, {"unit manager", pe.signedIn(pe.head)}, {"security contact", pe.signedIn(pe.otherStaff)}} {
		for _, p := range gets {
			if r := c.b.get(p); r.status != http.StatusForbidden || !strings.Contains(r.body, "Bạn không có quyền") {
				t.Errorf("%s: GET %s = %d", c.who, p, r.status)
			}
		}
		for _, p := range posts {
			if r := c.b.post(p, cloneForm(form)); r.status != http.StatusForbidden || !strings.Contains(r.body, "Bạn không có quyền") {
				t.Errorf("%s: POST %s = %d", c.who, p, r.status)
			}
		}
	}
	// Nothing was done.
	ns, _ := pe.out.List(ctx)
	if len(ns) != 1 || !ns[0].ClosedAt.IsZero() {
		t.Errorf("outages after refused posts: %+v", ns)
	}
	if msgs := pe.messages(pe.mailbox(pe.an, store.HeldFolder)); len(msgs) != 1 {
		t.Errorf("%d held messages after refused posts", len(msgs))
	}
	if !pe.cal.IsWorkingDay(workdays.NewDate(2026, 11, 24)) {
		t.Error("a refused post changed the calendar")
	}
	if _, err := os.Stat(filepath.Join(pe.cfg.DataDir, workdays.HolidaysFile)); err == nil {
		t.Error("a refused post wrote the calendar file")
	}
	for _, a := range []string{"report.view", "report.export"} {
		if pe.audited(pe.an.Address, a, "province") || pe.audited(pe.head.Address, a, "skhcn") {
			t.Errorf("a refused %s was audited as done", a)
		}
	}
}

func outagePublishInput(pe *portalEnv) outage.PublishInput {
	return outage.PublishInput{What: "Bảo trì máy chủ thư", Since: testStart, Until: testStart.Add(2 * time.Hour), Actor: pe.op.Address}
}

// Every POST of the new pages, and webmail's report action, refuses a forged
// CSRF token and a cross-site origin.
func TestPortalOpsCSRFRefused(t *testing.T) {
	var mu sync.Mutex
	reported := 0
	pe := newPortalEnvWith(t, envOptions{report: func(int64, []byte) { mu.Lock(); reported++; mu.Unlock() }})
	uid := pe.hold(pe.an, signupMail)
	inUID := pe.deliver(pe.an, "From: a@example.org\nSubject: Thư lạ\n\nBấm vào đây.\n")
	inbox := pe.mailbox(pe.an, "INBOX")
	op, user := pe.signedIn(pe.op), pe.signedIn(pe.an)
	heldBase := "/portal/held/" + itoa(pe.an.ID) + "/" + itoa(int64(uid))
	for _, c := range []struct {
		b *browser
		p string
	}{
		{op, "/portal/outages"}, {op, "/portal/outages/1/close"}, {op, heldBase + "/release"}, {op, heldBase + "/drop"},
		{op, "/portal/holidays"}, {op, "/portal/holidays/remove"}, {user, itoaPath(inbox.ID, inUID) + "/report"},
	} {
		r := c.b.post(c.p, url.Values{"_csrf": {"forged"}, "date": {"2026-11-24"}, "kind": {"holiday"}, "name": {"x"}, "what": {"x"}})
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "Yêu cầu không hợp lệ") {
			t.Errorf("POST %s with a forged token: %d", c.p, r.status)
		}
		req, _ := http.NewRequest(http.MethodPost, pe.ts.URL+c.p, strings.NewReader(url.Values{"_csrf": {c.b.token}, "date": {"2026-11-24"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if r := c.b.do(req); r.status != http.StatusForbidden {
			t.Errorf("POST %s from another origin: %d", c.p, r.status)
		}
	}
	if msgs := pe.messages(pe.mailbox(pe.an, store.HeldFolder)); len(msgs) != 1 {
		t.Errorf("%d held messages after forged posts", len(msgs))
	}
	if ns, _ := pe.out.List(context.Background()); len(ns) != 0 {
		t.Errorf("a forged post published %d notices", len(ns))
	}
	if !pe.cal.IsWorkingDay(workdays.NewDate(2026, 11, 24)) {
		t.Error("a forged post changed the calendar")
	}
	mu.Lock()
	defer mu.Unlock()
	if reported != 0 {
		t.Errorf("a forged post reported %d messages", reported)
	}
}

// R14.1: an operator publishes what, since when and the expected restoration,
// to all or chosen units; it is mailed to the units' mailboxes, listed as open,
// and closing it mails the all-clear. Both are audited.
func TestPortalOutages(t *testing.T) {
	pe := newPortalEnv(t)
	op := pe.signedIn(pe.op)
	r := op.get("/portal/outages")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Thông báo gián đoạn hệ thống thư", `id="no-open"`, `value="2026-03-10T09:00"`)

	// Refusals, with the form kept.
	r = op.post("/portal/outages", url.Values{"what": {""}, "since": {"2026-03-10T08:30"}, "until": {"2026-03-10T11:00"}, "scope": {"all"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Phải nêu nội dung sự cố")
	r = op.post("/portal/outages", url.Values{"what": {"Mất kết nối"}, "since": {"10/03/2026 8h"}, "until": {"2026-03-10T11:00"}, "scope": {"all"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Thời điểm bắt đầu không hợp lệ", "Mất kết nối")
	r = op.post("/portal/outages", url.Values{"what": {"Mất kết nối"}, "since": {"2026-03-10T08:30"}, "until": {"2026-03-10T08:00"}, "scope": {"all"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "phải sau thời điểm bắt đầu")
	r = op.post("/portal/outages", url.Values{"what": {"Mất kết nối"}, "since": {"2026-03-10T08:30"}, "until": {"2026-03-10T11:00"}, "scope": {"units"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Hãy chọn ít nhất một đơn vị", `value="units" checked`)
	if ns, _ := pe.out.List(context.Background()); len(ns) != 0 {
		t.Fatalf("refused forms published %d notices", len(ns))
	}

	// To every unit: the unit mailbox of Sở KHCN and the manager of Chiềng Cơi
	// (no unit mailbox there); the others have neither and are listed.
	r = op.post("/portal/outages", url.Values{"what": {"Mất kết nối đường truyền tới Trung tâm dữ liệu tỉnh"}, "since": {"2026-03-10T08:30"},
		"until": {"2026-03-10 11:00"}, "scope": {"all"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã công bố thông báo số 1", "Đã gửi tới 2 hộp thư", "chưa có hộp thư đơn vị và thủ trưởng", "Văn phòng Sở",
		"Mất kết nối đường truyền tới Trung tâm dữ liệu tỉnh", "10/03/2026 08:30", "10/03/2026 11:00", "Tất cả các cơ quan, đơn vị")
	mustNotContain(t, r.body, `id="no-open"`)
	if !mailed(pe, pe.box, "X-Govmail-Notice: outage\r") || !mailed(pe, pe.otherHead, "X-Govmail-Notice: outage\r") {
		t.Error("the notice did not reach the unit mailbox and the manager")
	}
	if !pe.audited(pe.op.Address, "outage.publish", "outage#1") {
		t.Error("publication not audited")
	}
	// To one unit only.
	r = op.post("/portal/outages", url.Values{"what": {"Bảo trì máy chủ"}, "since": {"2026-03-11T22:00"}, "until": {"2026-03-12T02:00"},
		"scope": {"units"}, "unit": {"chiengcoi"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã công bố thông báo số 2", "Đã gửi tới 1 hộp thư", "Phường Chiềng Cơi")

	// Closing mails the all-clear to the notice's mailboxes.
	r = op.post("/portal/outages/1/close", url.Values{"note": {"Đã thay thiết bị chuyển mạch."}})
	r.wantStatus(t, http.StatusOK)
	if r.url.Path != "/portal/outages" {
		t.Errorf("after closing at %s", r.url)
	}
	mustContain(t, r.body, "Đã đóng thông báo và gửi thông báo đã khôi phục", "Đã thay thiết bị chuyển mạch.", "Thông báo số 2")
	if !mailed(pe, pe.box, "X-Govmail-Notice: outage-closed") {
		t.Error("the all-clear did not reach the unit mailbox")
	}
	if !pe.audited(pe.op.Address, "outage.close", "outage#1") {
		t.Error("closing not audited")
	}
	active, _ := pe.out.Active(context.Background())
	if len(active) != 1 || active[0].ID != 2 {
		t.Errorf("open notices %+v", active)
	}
	r = op.post("/portal/outages/1/close", url.Values{"note": {"lần nữa"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Thông báo số 1 không còn hiệu lực")
	op.post("/portal/outages/x/close", nil).wantStatus(t, http.StatusNotFound)
}

// cloneForm copies a form, since post adds the browser's token to the one it gets.
func cloneForm(f url.Values) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// mailed tells whether a's INBOX holds a message containing s.
func mailed(pe *portalEnv, a *store.Account, s string) bool {
	pe.t.Helper()
	for _, m := range pe.messages(pe.mailbox(a, "INBOX")) {
		if strings.Contains(string(m.Raw), s) {
			return true
		}
	}
	return false
}

// R4.2, R4.3: operators list held mail across accounts, release it into the
// owner's INBOX or delete it; both are audited.
func TestPortalHeldMail(t *testing.T) {
	pe := newPortalEnv(t)
	uidAn := pe.hold(pe.an, signupMail)
	pe.clk.Advance(time.Minute)
	uidBinh := pe.hold(pe.binh, "From: ChatGPT <noreply@tm.openai.com>\nSubject: Verify your email address\n\nClick to verify.\n")
	op := pe.signedIn(pe.op)
	r := op.get("/portal/held")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "2 thư", pe.an.Address, pe.binh.Address, "security@facebookmail.com", "Xác nhận tài khoản Facebook của bạn",
		"noreply@tm.openai.com", "10/03/2026 09:00", `data-confirm=`)
	if strings.Index(r.body, pe.binh.Address) > strings.Index(r.body, pe.an.Address) {
		t.Error("held mail not newest first")
	}
	an := "/portal/held/" + itoa(pe.an.ID) + "/" + itoa(int64(uidAn))
	// Validation: an unknown operation, a bad uid, a message not held.
	op.post(an+"/open", nil).wantStatus(t, http.StatusNotFound)
	op.post("/portal/held/"+itoa(pe.an.ID)+"/x/release", nil).wantStatus(t, http.StatusNotFound)
	r = op.post("/portal/held/"+itoa(pe.an.ID)+"/999/release", nil)
	r.wantStatus(t, http.StatusNotFound)
	mustContain(t, r.body, "Thư này không còn bị giữ")

	r = op.post(an+"/release", nil)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã chuyển thư vào Hộp thư đến của người nhận")
	mustNotContain(t, r.body, "security@facebookmail.com")
	if !mailed(pe, pe.an, "Mã xác nhận của bạn là 123456.") {
		t.Error("the released message is not in the INBOX")
	}
	if n := len(pe.messages(pe.mailbox(pe.an, store.HeldFolder))); n != 0 {
		t.Errorf("%d messages still held", n)
	}
	if !pe.audited(pe.op.Address, "held.release", pe.an.Address) {
		t.Error("release not audited")
	}
	// Twice: another operator was first.
	r = op.post(an+"/release", nil)
	r.wantStatus(t, http.StatusNotFound)
	mustContain(t, r.body, "Thư này không còn bị giữ")

	r = op.post("/portal/held/"+itoa(pe.binh.ID)+"/"+itoa(int64(uidBinh))+"/drop", nil)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã xóa vĩnh viễn thư bị giữ", "Không có thư nào bị giữ lại")
	if n := len(pe.messages(pe.mailbox(pe.binh, store.HeldFolder))); n != 0 {
		t.Errorf("%d messages still held", n)
	}
	if mailed(pe, pe.binh, "Verify your email") {
		t.Error("the deleted message reached the INBOX")
	}
	if !pe.audited(pe.op.Address, "held.drop", pe.binh.Address) {
		t.Error("deletion not audited")
	}
}

// C3, C4: the calendar of a year, 24 November added as a holiday and removed
// again, the restore deadline counted with it (received Fri 2026-11-20: end of
// Wed 25/11, Thu 26/11 once 24/11 is off), the edits written to holidays.csv and
// loaded again by Calendar.LoadFile, each audited.
func TestPortalHolidays(t *testing.T) {
	pe := newPortalEnv(t)
	ctx := context.Background()
	// A restore request received on Fri 2026-11-20.
	pe.clk.Set(time.Date(2026, 11, 20, 10, 0, 0, 0, password.Location()))
	if err := pe.life.Lock(ctx, pe.binh.ID, store.LockInactivity, "", "system:daily"); err != nil {
		t.Fatal(err)
	}
	req, err := pe.life.FileRequest(ctx, lifecycle.RequestInput{Kind: store.RequestRestore, UnitLP: "skhcn", DocNumber: "88/SKHCN-VP", DocDate: "2026-11-20",
		Addresses: []string{pe.binh.Address}, FiledBy: pe.head.Address})
	if err != nil {
		t.Fatal(err)
	}
	if req.Deadline != "2026-11-25" {
		t.Fatalf("deadline %s", req.Deadline)
	}
	// The operator's password is as old as the clock jump: renew it.
	if err := pe.st.SetPassword(ctx, pe.op.ID, cheapHash(t, goodPassword), false, pe.clk.Now()); err != nil {
		t.Fatal(err)
	}
	op := pe.signedIn(pe.op)
	r := op.get("/portal/holidays")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Lịch ngày làm việc năm 2026", "Tết Nguyên đán", "Làm bù cho thứ Sáu 02/01/2026", "Ngày làm bù",
		"Thứ sáu, 20/11/2026: hạn xử lý 3 ngày làm việc là hết ngày Thứ tư, 25/11/2026", "88/SKHCN-VP")
	mustNotContain(t, r.body, "Khác hạn đã ghi", `id="d-2026-11-24"`)
	r = op.get("/portal/holidays?year=2026&received=2026-02-13")
	mustContain(t, r.body, "hết ngày Thứ tư, 25/02/2026")
	r = op.get("/portal/holidays?year=2030")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Lịch tính sẵn", "Tết Nguyên đán")
	r = op.get("/portal/holidays?year=abc&received=2026-13-01")
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Năm không hợp lệ", "Ngày nhận không hợp lệ")

	// Refusals keep the form.
	r = op.post("/portal/holidays", url.Values{"date": {"24/11/2026"}, "kind": {"holiday"}, "name": {"Ngày Văn hóa Việt Nam"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Ngày không hợp lệ", `value="Ngày Văn hóa Việt Nam"`)
	r = op.post("/portal/holidays", url.Values{"date": {"2026-11-24"}, "kind": {"makeup_workday"}, "name": {"Làm bù"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Thứ ba, 24/11/2026 không phải thứ Bảy hay Chủ nhật")
	r = op.post("/portal/holidays", url.Values{"date": {"2026-11-24"}, "kind": {"holiday"}, "name": {"  "}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Hãy nhập tên ngày")
	r = op.post("/portal/holidays", url.Values{"date": {"2026-11-24"}, "kind": {"day_off"}, "name": {"x"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Hãy chọn ngày nghỉ hoặc ngày làm bù")
	if !pe.cal.IsWorkingDay(workdays.NewDate(2026, 11, 24)) {
		t.Fatal("a refused form changed the calendar")
	}

	// C4: 24 November becomes a holiday.
	r = op.post("/portal/holidays", url.Values{"date": {"2026-11-24"}, "kind": {"holiday"}, "name": {"Ngày Văn hóa Việt Nam"},
		"note": {"Quyết định số 99/QĐ-TTg"}})
	r.wantStatus(t, http.StatusOK)
	if r.url.Path != "/portal/holidays" || r.url.Query().Get("year") != "2026" {
		t.Errorf("after saving at %s", r.url)
	}
	mustContain(t, r.body, "Đã lưu ngày vào lịch", `id="d-2026-11-24"`, "Ngày Văn hóa Việt Nam", "Quyết định số 99/QĐ-TTg",
		"hết ngày Thứ năm, 26/11/2026", "Khác hạn đã ghi")
	if pe.cal.IsWorkingDay(workdays.NewDate(2026, 11, 24)) || pe.cal.AddWorkingDays(workdays.NewDate(2026, 11, 20), 3) != workdays.NewDate(2026, 11, 26) {
		t.Error("24/11 is not a day off for the deadlines")
	}
	if !pe.audited(pe.op.Address, "calendar.set", "2026-11-24") {
		t.Error("calendar.set not audited")
	}
	file := filepath.Join(pe.cfg.DataDir, workdays.HolidaysFile)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "2026-11-24,holiday,Ngày Văn hóa Việt Nam,Quyết định số 99/QĐ-TTg") || !strings.Contains(string(b), "2026-02-17,holiday,Tết Nguyên đán") {
		t.Errorf("calendar file:\n%s", b)
	}
	// The next start loads it over the shipped table.
	cal, err := workdays.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	if err := cal.LoadFile(pe.cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	if cal.IsWorkingDay(workdays.NewDate(2026, 11, 24)) {
		t.Error("LoadFile did not load 24/11")
	}
	if err := cal.LoadFile(t.TempDir()); err != nil {
		t.Errorf("no file: %v", err)
	}

	// An edit that cannot be written is undone: memory and file agree.
	pe.clk.Advance(time.Minute)
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(file, "blocker"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = op.post("/portal/holidays", url.Values{"date": {"2030-11-25"}, "kind": {"holiday"}, "name": {"Thử"}})
	r.wantStatus(t, http.StatusInternalServerError)
	if !pe.cal.IsWorkingDay(workdays.NewDate(2030, 11, 25)) || pe.cal.HasTable(2030) {
		t.Error("an edit that was not saved stayed in memory")
	}
	if !pe.audited(pe.op.Address, "calendar.undone", "2030-11-25") {
		t.Error("the undone edit is not in the audit log")
	}
	if err := os.RemoveAll(file); err != nil {
		t.Fatal(err)
	}

	// Removing it again.
	r = op.post("/portal/holidays/remove", url.Values{"date": {"2026-11-23"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Ngày 23/11/2026 không có trong lịch")
	r = op.post("/portal/holidays/remove", url.Values{"date": {"2026-11-24"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã bỏ ngày khỏi lịch", "hết ngày Thứ tư, 25/11/2026")
	mustNotContain(t, r.body, `id="d-2026-11-24"`)
	if !pe.cal.IsWorkingDay(workdays.NewDate(2026, 11, 24)) {
		t.Error("24/11 still off")
	}
	if !pe.audited(pe.op.Address, "calendar.remove", "2026-11-24") {
		t.Error("calendar.remove not audited")
	}
	if b, _ := os.ReadFile(file); strings.Contains(string(b), "2026-11-24") || !strings.Contains(string(b), "2026-01-10,makeup_workday") {
		t.Errorf("calendar file after removal:\n%s", b)
	}
	op.post("/portal/holidays/remove", url.Values{"date": {"hôm nay"}}).wantStatus(t, http.StatusUnprocessableEntity)
}

// R7.3: a period (month, quarter, year, dates) and a unit or the province; the
// report shown in its frame and offered as CSV and XLSX, every view and
// download audited.
func TestPortalReports(t *testing.T) {
	pe := newPortalEnv(t)
	op := pe.signedIn(pe.op)
	r := op.get("/portal/reports")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Báo cáo tình hình quản lý, sử dụng thư điện tử", `value="2026-02"`, `value="month" checked`, "Toàn tỉnh")
	mustNotContain(t, r.body, "report-frame")

	for q, want := range map[string]string{
		"kind=month&month=2026-04":                   "Kỳ báo cáo chưa bắt đầu",
		"kind=month&month=March":                     "Kỳ báo cáo không hợp lệ",
		"kind=dates&from=2026-03-05&to=2026-03-01":   "Kỳ báo cáo không hợp lệ",
		"kind=quarter&qyear=2026&q=5":                "Kỳ báo cáo không hợp lệ",
		"kind=week":                                  "Kỳ báo cáo không hợp lệ",
		"kind=month&month=2026-02&unit=khongco":      "Không có đơn vị “khongco”",
		"kind=year&year=1990":                        "Kỳ báo cáo không hợp lệ",
		"kind=dates&from=2026-03-01&to=2026-03-0":    "Kỳ báo cáo không hợp lệ",
		"kind=month&month=2026-02&unit=skhcn&x=<b>":  "",
		"kind=quarter&qyear=2026&q=1&unit=chiengcoi": "",
		"kind=dates&from=2026-03-01&to=2026-03-09":   "",
		"kind=year&year=2026":                        "",
	} {
		r := op.get("/portal/reports?" + q)
		if want == "" {
			r.wantStatus(t, http.StatusOK)
			mustContain(t, r.body, `class="report-frame"`, "/portal/reports/download?")
			continue
		}
		r.wantStatus(t, http.StatusUnprocessableEntity)
		mustContain(t, r.body, want)
		mustNotContain(t, r.body, "report-frame")
	}
	r = op.get("/portal/reports?kind=month&month=2026-02&unit=skhcn")
	mustContain(t, r.body, "Báo cáo tháng 02/2026 — Sở Khoa học và Công nghệ", `src="/portal/reports/view?period=2026-02&amp;unit=skhcn"`,
		`href="/portal/reports/download?format=csv&amp;period=2026-02&amp;unit=skhcn"`, `href="/portal/reports/download?format=xlsx&amp;period=2026-02&amp;unit=skhcn"`)

	// The report itself, in its frame's own policy.
	r = op.get("/portal/reports/view?period=2026-03&unit=skhcn")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Báo cáo tình hình quản lý, sử dụng hệ thống thư điện tử tháng 03/2026", "Sở Khoa học và Công nghệ", "Văn phòng Sở")
	if csp := r.header.Get("Content-Security-Policy"); csp != reportFrameCSP || r.header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("frame headers: CSP %q, XFO %q", csp, r.header.Get("X-Frame-Options"))
	}
	if !pe.audited(pe.op.Address, "report.view", "skhcn") {
		t.Error("view not audited")
	}
	r = op.get("/portal/reports/view?period=2026-Q1")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "quý I/2026", "Toàn tỉnh Sơn La", "Phường Chiềng Cơi")
	if !pe.audited(pe.op.Address, "report.view", "province") {
		t.Error("province view not audited")
	}
	op.get("/portal/reports/view?period=2026-03-01_2026-03-09").wantStatus(t, http.StatusOK)
	op.get("/portal/reports/view?period=2026-3").wantStatus(t, http.StatusUnprocessableEntity)
	op.get("/portal/reports/view?period=2026-12").wantStatus(t, http.StatusUnprocessableEntity)
	op.get("/portal/reports/view?period=2026-03&unit=khongco").wantStatus(t, http.StatusUnprocessableEntity)

	r = op.get("/portal/reports/download?period=2026-03&unit=skhcn&format=csv")
	r.wantStatus(t, http.StatusOK)
	if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" || cd != `attachment; filename="bao-cao-thu-dien-tu_2026-03_skhcn.csv"` {
		t.Errorf("CSV headers %q %q", ct, cd)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 3 || recs[1][1] != "Sở Khoa học và Công nghệ (riêng đơn vị / own accounts)" {
		t.Errorf("CSV %v", recs)
	}
	r = op.get("/portal/reports/download?period=2026&format=xlsx")
	r.wantStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || !strings.HasPrefix(r.body, "PK") {
		t.Errorf("XLSX %q %q", ct, abbreviate(r.body[:min(len(r.body), 20)]))
	}
	if !pe.audited(pe.op.Address, "report.export", "skhcn") || !pe.audited(pe.op.Address, "report.export", "province") {
		t.Error("downloads not audited")
	}
	r = op.get("/portal/reports/download?period=2026-03&format=pdf")
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Định dạng tải về không hợp lệ")
}

// R13.1, R17.3: the read view offers the report action; posting it hands the
// message as stored to the hook (which mails it, attached, to the security
// contact and the operators) and confirms. Without the hook there is no button.
func TestWebmailReportMessage(t *testing.T) {
	type call struct {
		account int64
		raw     []byte
	}
	var mu sync.Mutex
	var calls []call
	e := newEnv(t, envOptions{report: func(id int64, raw []byte) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, call{id, raw})
	}})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	other := e.addAccount("binhtt.skhcn@sonla.gov.vn", "Trần Thị Bình", goodPassword, false)
	uid := e.deliver(a, "From: \"Ngân hàng\" <canhbao@vietcombank-xacthuc.example>\nSubject: Tài khoản của bạn bị khóa\nContent-Type: text/html; charset=utf-8\n\n<p><a href=\"http://evil.example/login\">https://vietcombank.com.vn</a></p>\n")
	otherUID := e.deliver(other, "From: x@example.org\nSubject: Riêng\n\nx\n")
	inbox, otherInbox := e.mailbox(a, "INBOX"), e.mailbox(other, "INBOX")
	b := e.signedIn(a)
	path := itoaPath(inbox.ID, uid)
	r := b.get(path)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, `action="`+path+`/report"`, "Báo cáo thư đáng ngờ", `data-confirm="Gửi thư này tới đầu mối an toàn thông tin`,
		"Nếu nghi ngờ, hãy bấm “Báo cáo thư đáng ngờ”")

	r = b.post(path+"/report", nil)
	r.wantStatus(t, http.StatusOK)
	if r.url.Path != path {
		t.Errorf("after reporting at %s", r.url)
	}
	mustContain(t, r.body, "Đã gửi báo cáo tới đầu mối an toàn thông tin của đơn vị và quản trị hệ thống")
	stored := e.messages(inbox)[0].Raw
	mu.Lock()
	if len(calls) != 1 || calls[0].account != a.ID || string(calls[0].raw) != string(stored) {
		t.Errorf("hook calls %d (account %v)", len(calls), calls)
	}
	mu.Unlock()
	// The message stays where it was.
	if n := len(e.messages(inbox)); n != 1 {
		t.Errorf("%d messages in the inbox after reporting", n)
	}
	// Another person's message, an unknown one: not found, nothing reported.
	b.post(itoaPath(otherInbox.ID, otherUID)+"/report", nil).wantStatus(t, http.StatusNotFound)
	b.post(itoaPath(inbox.ID, 999)+"/report", nil).wantStatus(t, http.StatusNotFound)
	b.get("/lang/en")
	mustContain(t, b.post(path+"/report", nil).body, "Reported to your unit&#39;s security contact and the operators")
	mu.Lock()
	if len(calls) != 2 {
		t.Errorf("%d reports, want 2", len(calls))
	}
	mu.Unlock()

	// Without the hook: no button, and the action is not there.
	e2 := newEnv(t, envOptions{})
	a2 := e2.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	uid2 := e2.deliver(a2, "From: x@example.org\nSubject: Thư\n\nx\n")
	b2 := e2.signedIn(a2)
	p2 := itoaPath(e2.mailbox(a2, "INBOX").ID, uid2)
	mustNotContain(t, b2.get(p2).body, "/report", "Báo cáo thư đáng ngờ")
	b2.post(p2+"/report", nil).wantStatus(t, http.StatusNotFound)
}

// The new pages render in both languages without a placeholder, and appear in
// the portal's menu.
func TestPortalOpsPagesHaveNoMissingText(t *testing.T) {
	pe := newPortalEnv(t)
	pe.hold(pe.an, signupMail)
	if _, err := pe.out.Publish(context.Background(), outagePublishInput(pe)); err != nil {
		t.Fatal(err)
	}
	op := pe.signedIn(pe.op)
	menu := regexp.MustCompile(`<nav class="sidebar portal-nav"[\s\S]*?</nav>`)
	for _, lang := range []string{"vi", "en"} {
		op.get("/lang/" + lang)
		for _, p := range []string{"/portal", "/portal/outages", "/portal/held", "/portal/holidays", "/portal/holidays?year=2031",
			"/portal/reports", "/portal/reports?kind=quarter&qyear=2026&q=1", "/portal/reports?kind=month&month=2099-01"} {
			r := op.get(p)
			if r.status != http.StatusOK && r.status != http.StatusUnprocessableEntity {
				t.Errorf("%s %s: %d", lang, p, r.status)
			}
			if i := strings.Index(r.body, "⟦"); i >= 0 {
				t.Errorf("%s %s: missing text near %q", lang, p, r.body[i:min(len(r.body), i+60)])
			}
			nav := menu.FindString(r.body)
			for _, href := range []string{"/portal/held", "/portal/outages", "/portal/reports", "/portal/holidays"} {
				if !strings.Contains(nav, `href="`+href+`"`) {
					t.Errorf("%s %s: no %s in the menu", lang, p, href)
				}
			}
		}
	}
}
