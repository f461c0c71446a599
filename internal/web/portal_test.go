package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"govmail/internal/directory"
	"govmail/internal/lifecycle"
	"govmail/internal/password"
	"govmail/internal/store"
)

// portalEnv is a webmail over the province's shipped unit list (R1.2) with an
// operator, the head of Sở KHCN with two staff (one in its Văn phòng) and the
// unit mailbox, and the head of Phường Chiềng Cơi with one staff.
type portalEnv struct {
	*env
	op, head, an, binh, box, otherHead, otherStaff *store.Account
	skhcn, vp, chiengcoi                           *store.Unit
}

func newPortalEnv(t *testing.T) *portalEnv {
	t.Helper()
	return newPortalEnvWith(t, envOptions{})
}

// newPortalEnvWith is newPortalEnv over an env built with opt.
func newPortalEnvWith(t *testing.T, opt envOptions) *portalEnv {
	t.Helper()
	e := newEnv(t, opt)
	ctx := context.Background()
	if _, err := e.dir.ImportUnits(ctx, bytes.NewReader(directory.ProvinceUnits), "system:import"); err != nil {
		t.Fatal(err)
	}
	pe := &portalEnv{env: e}
	pe.skhcn = pe.unit("skhcn")
	pe.chiengcoi = pe.unit("chiengcoi")
	vp, err := e.dir.CreateUnit(ctx, "Văn phòng Sở", store.UnitSubUnit, "skhcn", "vp", "system:test")
	if err != nil {
		t.Fatal(err)
	}
	pe.vp = vp
	pe.op = pe.person(pe.skhcn, "vanhanh.skhcn@sonla.gov.vn", "Vận hành hệ thống", store.RoleOperator)
	pe.head = pe.person(pe.skhcn, "hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", "")
	pe.an = pe.person(pe.vp, "annv.skhcn@sonla.gov.vn", "Nguyễn Văn An", "")
	pe.binh = pe.person(pe.skhcn, "binhtt.skhcn@sonla.gov.vn", "Trần Thị Bình", "")
	pe.box = pe.mailboxOf(pe.skhcn)
	pe.otherHead = pe.person(pe.chiengcoi, "minhlv.chiengcoi@sonla.gov.vn", "Lò Văn Minh", "")
	pe.otherStaff = pe.person(pe.chiengcoi, "lanct.chiengcoi@sonla.gov.vn", "Cầm Thị Lan", "")
	pe.setManager(pe.skhcn, pe.head)
	pe.setManager(pe.chiengcoi, pe.otherHead)
	return pe
}

func (pe *portalEnv) unit(lp string) *store.Unit {
	pe.t.Helper()
	u, err := pe.st.UnitByLocalPart(context.Background(), lp)
	if err != nil {
		pe.t.Fatal(err)
	}
	return u
}

func (pe *portalEnv) person(u *store.Unit, addr, name, role string) *store.Account {
	pe.t.Helper()
	a := &store.Account{Address: addr, DisplayName: name, Kind: store.KindPersonal, UnitID: u.ID, PasswordHash: cheapHash(pe.t, goodPassword),
		PasswordSetAt: pe.clk.Now(), QuotaBytes: pe.cfg.Policy.QuotaBytes, Role: role}
	if err := pe.st.CreateAccount(context.Background(), a); err != nil {
		pe.t.Fatal(err)
	}
	return a
}

func (pe *portalEnv) mailboxOf(u *store.Unit) *store.Account {
	pe.t.Helper()
	a := &store.Account{Address: u.LocalPart + "@sonla.gov.vn", DisplayName: u.Name, Kind: store.KindUnit, UnitID: u.ID,
		PasswordHash: cheapHash(pe.t, goodPassword), PasswordSetAt: pe.clk.Now(), QuotaBytes: pe.cfg.Policy.QuotaBytes}
	if err := pe.st.CreateAccount(context.Background(), a); err != nil {
		pe.t.Fatal(err)
	}
	return a
}

func (pe *portalEnv) setManager(u *store.Unit, a *store.Account) {
	pe.t.Helper()
	cur, err := pe.st.UnitByID(context.Background(), u.ID)
	if err != nil {
		pe.t.Fatal(err)
	}
	cur.ManagerID = a.ID
	if err := pe.st.UpdateUnit(context.Background(), cur); err != nil {
		pe.t.Fatal(err)
	}
}

func (pe *portalEnv) account(id int64) *store.Account {
	pe.t.Helper()
	a, err := pe.st.AccountByID(context.Background(), id)
	if err != nil {
		pe.t.Fatal(err)
	}
	return a
}

// signedIn is a browser with a session of a made directly, past the password and
// the second factor (their pages have tests of their own).
func (e *env) signedIn(a *store.Account) *browser {
	e.t.Helper()
	b := e.browser()
	sess := &Session{AccountID: a.ID}
	if err := e.srv.sessions.Create(context.Background(), sess); err != nil {
		e.t.Fatal(err)
	}
	u, _ := url.Parse(e.ts.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sess.ID, Path: "/", Secure: true, HttpOnly: true}})
	b.token = sess.CSRF
	return b
}

// audited tells whether the audit log holds action by actor on target.
func (e *env) audited(actor, action, target string) bool {
	e.t.Helper()
	entries, err := e.st.SearchAudit(context.Background(), target, time.Time{}, time.Time{}, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, x := range entries {
		if x.Actor == actor && x.Action == action {
			return true
		}
	}
	return false
}

// Every portal route refuses users and unit managers with the 403 page, and
// every unit route refuses users and the manager of another unit (R7.5, R16).
func TestPortalAndUnitRoutesRefuseWrongRoles(t *testing.T) {
	pe := newPortalEnv(t)
	acct := itoa(pe.an.ID)
	req := itoa(1)
	portalGets := []string{"/portal", "/portal/units", "/portal/units/" + itoa(pe.skhcn.ID), "/portal/accounts", "/portal/accounts/new",
		"/portal/accounts/" + acct, "/portal/requests", "/portal/requests/" + req, "/portal/log?s=1", "/portal/log.csv", "/portal/audit"}
	portalPosts := []string{"/portal/units", "/portal/units/" + itoa(pe.skhcn.ID), "/portal/units/" + itoa(pe.skhcn.ID) + "/mailbox",
		"/portal/accounts", "/portal/accounts/" + acct + "/reset", "/portal/accounts/" + acct + "/lock", "/portal/accounts/" + acct + "/restore",
		"/portal/accounts/" + acct + "/revoke", "/portal/accounts/" + acct + "/quota", "/portal/requests/" + req + "/carry", "/portal/requests/" + req + "/reject"}
	u := itoa(pe.skhcn.ID)
	unitGets := []string{"/unit/" + u, "/unit/" + u + "/requests", "/unit/" + u + "/requests/new", "/unit/" + u + "/requests/" + req, "/unit/" + u + "/report?period=2026-03"}
	unitPosts := []string{"/unit/" + u + "/requests", "/unit/" + u + "/absence", "/unit/" + u + "/delegates", "/unit/" + u + "/security"}
	if _, err := pe.life.FileRequest(context.Background(), lifecycleCreate(pe, "1/SKHCN-VP")); err != nil {
		t.Fatal(err)
	}
	user, manager, other := pe.signedIn(pe.an), pe.signedIn(pe.head), pe.signedIn(pe.otherHead)
	for _, c := range []struct {
		who   string
		b     *browser
		gets  []string
		posts []string
	}{
		{"user in the portal", user, portalGets, portalPosts},
		{"manager in the portal", manager, portalGets, portalPosts},
		{"user in unit pages", user, append(unitGets, "/unit"), unitPosts},
		{"manager of another unit", other, unitGets, unitPosts},
	} {
		for _, p := range c.gets {
			r := c.b.get(p)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "Bạn không có quyền") {
				t.Errorf("%s: GET %s = %d", c.who, p, r.status)
			}
		}
		for _, p := range c.posts {
			r := c.b.post(p, url.Values{"account": {acct}, "box": {itoa(pe.box.ID)}, "person": {pe.an.Address}, "contact": {pe.an.Address},
				"kind": {"revoke"}, "doc_number": {"9/X"}, "doc_date": {"2026-03-09"}, "addr": {pe.an.Address}, "reason": {"x"}, "ends": {"2026-04-01"}})
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "Bạn không có quyền") {
				t.Errorf("%s: POST %s = %d", c.who, p, r.status)
			}
		}
	}
	// Nothing was done by the refused posts.
	if a := pe.account(pe.an.ID); a.State != store.StateActive || a.MustChange {
		t.Errorf("refused posts changed the account: %+v", a)
	}
	reqs, _ := pe.st.ListRequests(context.Background(), store.RequestFilter{})
	if len(reqs) != 1 {
		t.Errorf("%d requests after refused posts", len(reqs))
	}
	// A signed-out visitor is sent to the login page, not shown a 403.
	if r := pe.browser().get("/portal"); r.url.Path != "/login" {
		t.Errorf("anonymous /portal at %s", r.url)
	}
}

func lifecycleCreate(pe *portalEnv, doc string) lifecycle.RequestInput {
	return lifecycle.RequestInput{Kind: store.RequestCreate, UnitLP: "skhcn", DocNumber: doc, DocDate: "2026-03-09",
		People: []lifecycle.PersonSpec{{FullName: "Lường Văn Tú"}}, FiledBy: pe.head.Address}
}

// Every POST of the new pages refuses a missing or wrong CSRF token and a
// cross-site origin.
func TestPortalCSRFRefused(t *testing.T) {
	pe := newPortalEnv(t)
	op, head, user := pe.signedIn(pe.op), pe.signedIn(pe.head), pe.signedIn(pe.an)
	u := itoa(pe.skhcn.ID)
	for _, c := range []struct {
		b *browser
		p string
	}{
		{op, "/portal/units"}, {op, "/portal/units/" + u}, {op, "/portal/accounts"}, {op, "/portal/accounts/" + itoa(pe.an.ID) + "/lock"},
		{op, "/portal/requests/1/carry"}, {head, "/unit/" + u + "/requests"}, {head, "/unit/" + u + "/absence"}, {head, "/unit/" + u + "/delegates"},
		{head, "/unit/" + u + "/security"}, {user, "/settings/totp"}, {user, "/settings/apppw"}, {user, "/settings/lang"},
	} {
		r := c.b.post(c.p, url.Values{"_csrf": {"forged"}, "lang": {"en"}, "name": {"x"}})
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "Yêu cầu không hợp lệ") {
			t.Errorf("POST %s with a forged token: %d", c.p, r.status)
		}
		req, _ := http.NewRequest(http.MethodPost, pe.ts.URL+c.p, strings.NewReader(url.Values{"_csrf": {c.b.token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if r := c.b.do(req); r.status != http.StatusForbidden {
			t.Errorf("POST %s from another origin: %d", c.p, r.status)
		}
	}
	if _, err := pe.st.UnitByLocalPart(context.Background(), "x"); err == nil {
		t.Error("a forged post created a unit")
	}
}

// The dashboard counts accounts by state, waiting and overdue requests (R8.5),
// held mail of 30 days and today's mail by direction, and units without a
// security contact (R12.1).
func TestPortalDashboard(t *testing.T) {
	pe := newPortalEnv(t)
	ctx := context.Background()
	if err := pe.life.Lock(ctx, pe.binh.ID, store.LockCompromised, "CV 12/CAT", pe.op.Address); err != nil {
		t.Fatal(err)
	}
	r1, err := pe.life.FileRequest(ctx, lifecycle.RequestInput{Kind: store.RequestRestore, UnitLP: "skhcn", DocNumber: "15/SKHCN-VP", DocDate: "2026-03-10",
		Addresses: []string{pe.binh.Address}, FiledBy: pe.head.Address})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Deadline != "2026-03-13" {
		t.Fatalf("deadline %s", r1.Deadline)
	}
	now := pe.clk.Now()
	rows := []store.LogEntry{
		{Time: now.Add(-40 * 24 * time.Hour), Direction: "in", EnvelopeFrom: "x@example.org", Recipient: pe.an.Address, Status: store.LogQuarantined, Size: 10},
		{Time: now.Add(-2 * 24 * time.Hour), Direction: "in", EnvelopeFrom: "x@example.org", Recipient: pe.an.Address, Status: store.LogQuarantined, Size: 10},
		{Time: now.Add(-time.Hour), Direction: "in", EnvelopeFrom: "y@example.org", Recipient: pe.an.Address, Status: store.LogQuarantined, Size: 10},
		{Time: now.Add(-time.Hour), Direction: "in", EnvelopeFrom: "y@example.org", Recipient: pe.an.Address, Status: store.LogDelivered, Size: 2048},
		{Time: now.Add(-time.Minute), Direction: "out", EnvelopeFrom: pe.an.Address, Recipient: "z@example.org", Status: store.LogDelivered, Size: 1024},
	}
	if err := pe.st.AppendLog(ctx, rows); err != nil {
		t.Fatal(err)
	}
	op := pe.signedIn(pe.op)
	r := op.get("/portal")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Tổng quan hệ thống thư", `id="n-locked">1<`, `id="n-pending">1<`, `id="n-overdue">0<`, `id="n-held">2<`,
		"Bị nhiễm mã độc", "Thư đến từ ngoài", "15/SKHCN-VP")
	// 7 accounts: 6 people and the unit mailbox; one is locked.
	mustContain(t, r.body, `id="n-active">6<`)
	if !regexp.MustCompile(`Thư đến từ ngoài</th><td class="num">2</td><td class="num">1</td>`).MatchString(r.body) {
		t.Errorf("inbound today not 2 rows, 1 delivered:\n%s", abbreviate(r.body[strings.Index(r.body, "c-mail"):]))
	}
	// Past the end of the deadline day (Asia/Ho_Chi_Minh) the request is overdue.
	// (The jumps of the clock end idle sessions: sign in again after each.)
	pe.clk.Set(time.Date(2026, 3, 13, 23, 59, 0, 0, password.Location()))
	op = pe.signedIn(pe.op)
	mustContain(t, op.get("/portal").body, `id="n-overdue">0<`, "Hết hạn hôm nay")
	pe.clk.Set(time.Date(2026, 3, 14, 0, 0, 1, 0, password.Location()))
	op = pe.signedIn(pe.op)
	r = op.get("/portal")
	mustContain(t, r.body, `id="n-overdue">1<`, `class="overdue"`, "Quá hạn")
	// English.
	op.get("/lang/en")
	mustContain(t, op.get("/portal").body, "Mail system overview", "Overdue")
}

// Units: the tree, a sub-unit created with the address rule (R5.1c), the
// refusal of a taken address in Vietnamese (R5.5), managers and security
// contacts (R12.1).
func TestPortalUnits(t *testing.T) {
	pe := newPortalEnv(t)
	op := pe.signedIn(pe.op)
	r := op.get("/portal/units")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Sở Khoa học và Công nghệ", "Phường Chiềng Cơi", "skhcn@sonla.gov.vn", "vp.skhcn@sonla.gov.vn",
		"Chưa có đầu mối an toàn thông tin", `id="no-contact"`)
	// A new phòng of Sở KHCN.
	r = op.post("/portal/units", url.Values{"name": {"Phòng Quản lý khoa học"}, "kind": {"sub_unit"}, "parent": {"skhcn"}, "abbr": {""}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã thêm đơn vị", "qlkh.skhcn@sonla.gov.vn")
	if _, err := pe.st.UnitByLocalPart(context.Background(), "qlkh.skhcn"); err != nil {
		t.Fatalf("unit not created: %v", err)
	}
	// The same abbreviation again clashes; the form is kept.
	r = op.post("/portal/units", url.Values{"name": {"Phòng Quản lý khoa học 2"}, "kind": {"sub_unit"}, "parent": {"skhcn"}, "abbr": {"qlkh"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "đã được dùng; hãy thêm chữ vào tên viết tắt", `value="Phòng Quản lý khoa học 2"`)
	r = op.post("/portal/units", url.Values{"name": {"Ban Quản trị"}, "kind": {"province_agency"}, "abbr": {"postmaster"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "tên dành riêng")
	r = op.post("/portal/units", url.Values{"name": {""}, "kind": {"province_agency"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Tên đơn vị trống")

	// Name Chiềng Cơi's manager and security contact.
	path := "/portal/units/" + itoa(pe.chiengcoi.ID)
	r = op.get(path)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Phường Chiềng Cơi", "chiengcoi@sonla.gov.vn", pe.otherHead.Address, "Chưa có đầu mối ATTT", "Tạo hộp thư đơn vị")
	r = op.post(path, url.Values{"manager": {pe.otherHead.Address}, "contact": {"khongco.chiengcoi@sonla.gov.vn"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Không có hộp thư khongco.chiengcoi@sonla.gov.vn")
	r = op.post(path, url.Values{"manager": {pe.otherHead.Address}, "contact": {"lanct.chiengcoi"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã lưu người phụ trách")
	u, _ := pe.st.UnitByID(context.Background(), pe.chiengcoi.ID)
	if u.SecurityContactID != pe.otherStaff.ID || u.ManagerID != pe.otherHead.ID {
		t.Errorf("unit %+v", u)
	}
	if !pe.audited(pe.op.Address, "unit.update", "chiengcoi") {
		t.Error("unit update not audited")
	}
	r = op.get("/portal/units")
	if strings.Contains(r.body[strings.Index(r.body, `id="no-contact"`):strings.Index(r.body, `id="new-h"`)], "Phường Chiềng Cơi") {
		t.Error("Chiềng Cơi still listed without a security contact")
	}
	// The unit mailbox, with its one-time password shown once.
	r = op.post(path+"/mailbox", nil)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã tạo hộp thư đơn vị", "chiengcoi@sonla.gov.vn", `class="secret"`)
	if a, err := pe.st.AccountByAddress(context.Background(), "chiengcoi@sonla.gov.vn"); err != nil || a.Kind != store.KindUnit || !a.MustChange {
		t.Errorf("unit mailbox %+v %v", a, err)
	}
	r = op.post(path+"/mailbox", nil)
	r.wantStatus(t, http.StatusConflict)
}

// Accounts: folded search (R5.1), the rule's address shown before creation
// (R5.2), creation with a one-time password (R6.1), refusals.
func TestPortalAccounts(t *testing.T) {
	pe := newPortalEnv(t)
	op := pe.signedIn(pe.op)
	r := op.get("/portal/accounts?q=nguyen+van+an")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, pe.an.Address, "Nguyễn Văn An", "Văn phòng Sở")
	mustNotContain(t, r.body, pe.binh.Address)
	r = op.get("/portal/accounts?unit=" + itoa(pe.chiengcoi.ID))
	mustContain(t, r.body, pe.otherHead.Address, pe.otherStaff.Address)

	r = op.get("/portal/accounts/new?unit=vp.skhcn&name=" + url.QueryEscape("Đặng Thị Thu Hà") + "&year=1990")
	r.wantStatus(t, http.StatusOK)
	// R5.8: staff of a phòng get the sở's unit part.
	mustContain(t, r.body, `id="suggested">hadtt.skhcn@sonla.gov.vn<`)
	r = op.get("/portal/accounts/new?unit=vp.skhcn&name=" + url.QueryEscape("Đặng Thị Thu Hà") + "&year=19x0")
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Năm sinh không hợp lệ")

	r = op.post("/portal/accounts", url.Values{"unit": {"vp.skhcn"}, "name": {"Đặng Thị Thu Hà"}, "year": {"1990"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã tạo tài khoản", "hadtt.skhcn@sonla.gov.vn", "chỉ hiển thị một lần")
	pw := regexp.MustCompile(`<code class="secret">([^<]+)</code>`).FindStringSubmatch(r.body)
	if pw == nil {
		t.Fatal("no one-time password shown")
	}
	a, err := pe.st.AccountByAddress(context.Background(), "hadtt.skhcn@sonla.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	if !a.MustChange || a.UnitID != pe.vp.ID {
		t.Errorf("created %+v", a)
	}
	if ok, _ := password.Verify(a.PasswordHash, htmlUnescape(pw[1])); !ok {
		t.Error("the shown password is not the account's")
	}
	// A reserved override is refused with the rule's text.
	r = op.post("/portal/accounts", url.Values{"unit": {"skhcn"}, "name": {"Quản trị"}, "override": {"abuse"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "tên dành riêng")
	r = op.get("/portal/accounts/" + itoa(a.ID))
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "hadtt.skhcn@sonla.gov.vn", "Phải đổi mật khẩu", "account.create")
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&#43;", "+").Replace(s)
}

// Account actions: reset (R6.1), lock with reason and evidence (R8.1, R8.3),
// restore on a document (R8.5), quota (R11.4), revoke confirmed (R7.4).
func TestPortalAccountActions(t *testing.T) {
	pe := newPortalEnv(t)
	ctx := context.Background()
	op := pe.signedIn(pe.op)
	victim := pe.signedIn(pe.an)
	base := "/portal/accounts/" + itoa(pe.an.ID)

	r := op.post(base+"/reset", nil)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã cấp lại mật khẩu", `class="secret"`)
	if a := pe.account(pe.an.ID); !a.MustChange {
		t.Error("reset password need not be changed")
	}
	if r := victim.get("/settings"); r.url.Path != "/login" {
		t.Errorf("the holder's session survived the reset: %s", r.url)
	}
	if !pe.audited(pe.op.Address, "account.password_reset", pe.an.Address) {
		t.Error("reset not audited")
	}

	r = op.post(base+"/lock", url.Values{"reason": {"compromised"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "phải ghi văn bản hoặc bằng chứng")
	r = op.post(base+"/lock", url.Values{"reason": {"inactivity"}, "note": {"x"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	r = op.post(base+"/lock", url.Values{"reason": {"compromised"}, "doc_ref": {"CV 45/CAT-PA05"}, "note": {"phát tán mã độc"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã khóa tài khoản", "Bị nhiễm mã độc", "CV 45/CAT-PA05")
	if a := pe.account(pe.an.ID); a.State != store.StateLocked || a.LockReason != store.LockCompromised {
		t.Errorf("after lock %+v", a)
	}

	r = op.post(base+"/restore", url.Values{})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Khôi phục phải theo văn bản")
	r = op.post(base+"/restore", url.Values{"doc_ref": {"20/SKHCN-VP ngày 11/03/2026"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã khôi phục tài khoản", `class="secret"`)
	if a := pe.account(pe.an.ID); a.State != store.StateActive || !a.MustChange {
		t.Errorf("after restore %+v", a)
	}
	if !pe.audited(pe.op.Address, "account.restore.reference", pe.an.Address) {
		t.Error("restore document not audited")
	}

	r = op.post(base+"/quota", url.Values{"quota_mb": {"-5"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	r = op.post(base+"/quota", url.Values{"quota_mb": {"4096"}})
	r.wantStatus(t, http.StatusOK)
	if a := pe.account(pe.an.ID); a.QuotaBytes != 4096<<20 {
		t.Errorf("quota %d", a.QuotaBytes)
	}

	r = op.post(base+"/revoke", url.Values{"doc_ref": {"30/SKHCN-VP"}, "confirm": {"someone@sonla.gov.vn"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Địa chỉ xác nhận không khớp")
	r = op.post(base+"/revoke", url.Values{"confirm": {pe.an.Address}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Thu hồi phải theo văn bản")
	if a := pe.account(pe.an.ID); a.State != store.StateActive {
		t.Fatal("revoked without confirmation")
	}
	r = op.post(base+"/revoke", url.Values{"doc_ref": {"30/SKHCN-VP"}, "confirm": {pe.an.Address}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã thu hồi tài khoản")
	if a := pe.account(pe.an.ID); a.State != store.StateRevoked {
		t.Errorf("after revoke %+v", a)
	}
	r = op.post(base+"/reset", nil)
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Tài khoản đã bị thu hồi")
	_ = ctx
}

// The request queue: a restore request a manager filed from the unit page, its
// deadline and overdue flag (R8.5), carried out by an operator with the result
// mailed to the unit mailbox (R7.2); a rejection needs a reason (R7.1).
func TestPortalRequestQueue(t *testing.T) {
	pe := newPortalEnv(t)
	ctx := context.Background()
	if err := pe.life.Lock(ctx, pe.binh.ID, store.LockInactivity, "", "system:daily"); err != nil {
		t.Fatal(err)
	}
	head := pe.signedIn(pe.head)
	u := "/unit/" + itoa(pe.skhcn.ID)
	r := head.post(u+"/requests", url.Values{"kind": {"restore"}, "doc_number": {""}, "doc_date": {"2026-03-10"}, "addr": {pe.binh.Address}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Thiếu số, ký hiệu văn bản")
	r = head.post(u+"/requests", url.Values{"kind": {"restore"}, "doc_number": {"21/SKHCN-VP"}, "doc_date": {"2026-03-10"}, "addr": {pe.binh.Address}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã gửi đề nghị", "21/SKHCN-VP", "13/03/2026", "Đang chờ xử lý")
	mustNotContain(t, r.body, `action="/portal/requests`)

	op := pe.signedIn(pe.op)
	r = op.get("/portal/requests")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "21/SKHCN-VP", "Khôi phục", "Sở Khoa học và Công nghệ", "13/03/2026")
	mustNotContain(t, r.body, "Quá hạn")
	pe.clk.Set(time.Date(2026, 3, 16, 8, 0, 0, 0, password.Location()))
	op, head = pe.signedIn(pe.op), pe.signedIn(pe.head)
	r = op.get("/portal/requests")
	mustContain(t, r.body, "1 đề nghị quá hạn", `class="overdue"`)
	reqs, _ := pe.st.ListRequests(ctx, store.RequestFilter{})
	id := itoa(reqs[0].ID)
	r = op.get("/portal/requests/" + id)
	mustContain(t, r.body, "Đề nghị số "+id, pe.binh.Address, pe.head.Address, "Thực hiện", "Từ chối")

	r = op.post("/portal/requests/"+id+"/carry", nil)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã thực hiện đề nghị", "đã khôi phục", `class="secret"`, "Đã thực hiện")
	if a := pe.account(pe.binh.ID); a.State != store.StateActive {
		t.Errorf("not restored: %s", a.State)
	}
	// R7.2: the result reached the unit mailbox.
	msgs := pe.messages(pe.mailbox(pe.box, "INBOX"))
	found := false
	for _, m := range msgs {
		if strings.Contains(string(m.Raw), "X-Govmail-Notice: request-result") {
			found = true
		}
	}
	if !found {
		t.Errorf("no result in the unit mailbox (%d messages)", len(msgs))
	}
	r = op.post("/portal/requests/"+id+"/carry", nil)
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "đã được xử lý")

	// A second request, rejected: the reason is required.
	req2, err := pe.life.FileRequest(ctx, lifecycleCreate(pe, "22/SKHCN-VP"))
	if err != nil {
		t.Fatal(err)
	}
	r = op.post("/portal/requests/"+itoa(req2.ID)+"/reject", url.Values{"reason": {"  "}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Từ chối phải nêu lý do")
	r = op.post("/portal/requests/"+itoa(req2.ID)+"/reject", url.Values{"reason": {"Thiếu năm sinh của cán bộ"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã từ chối đề nghị", "Thiếu năm sinh của cán bộ")
	r = op.get("/portal/requests?state=")
	mustContain(t, r.body, "21/SKHCN-VP", "22/SKHCN-VP", "Từ chối")

	// The manager follows both; the trail shows each step.
	r = head.get(u + "/requests")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "21/SKHCN-VP", "22/SKHCN-VP")
	r = head.get(u + "/requests/" + itoa(req2.ID))
	mustContain(t, r.body, "Thiếu năm sinh của cán bộ", "Lường Văn Tú")
	// Another unit's manager cannot read it, even by its own unit's path.
	other := pe.signedIn(pe.otherHead)
	r = other.get("/unit/" + itoa(pe.chiengcoi.ID) + "/requests/" + itoa(req2.ID))
	r.wantStatus(t, http.StatusForbidden)
}

// The transaction log: search by address, IP, status and dates with paging;
// every search and export is in the audit log (R11.3, R14.5).
func TestPortalLogSearchAndExport(t *testing.T) {
	pe := newPortalEnv(t)
	ctx := context.Background()
	now := pe.clk.Now()
	rows := []store.LogEntry{{Time: now.Add(-3 * 24 * time.Hour), Direction: "in", EnvelopeFrom: "spam@bad.example", Recipient: pe.binh.Address,
		ClientIP: "198.51.100.9", Size: 500, Status: store.LogQuarantined, Error: "virus found: Eicar-Test"}}
	// Oldest first, as the log is written: paging goes by row id.
	for i := 129; i >= 0; i-- {
		rows = append(rows, store.LogEntry{Time: now.Add(-time.Duration(i) * time.Minute), Direction: "in", EnvelopeFrom: "vanban@tinh.example",
			Recipient: pe.an.Address, ClientIP: "203.0.113.7", Size: 1000, MessageID: "<m" + itoa(int64(i)) + "@x>", Status: store.LogDelivered})
	}
	if err := pe.st.AppendLog(ctx, rows); err != nil {
		t.Fatal(err)
	}
	op := pe.signedIn(pe.op)
	r := op.get("/portal/log")
	r.wantStatus(t, http.StatusOK)
	mustNotContain(t, r.body, "<table class=\"data log\"")
	r = op.get("/portal/log?s=1&address=" + url.QueryEscape(pe.an.Address))
	r.wantStatus(t, http.StatusOK)
	if n := strings.Count(r.body, "vanban@tinh.example"); n != 100 {
		t.Errorf("first page has %d rows", n)
	}
	next := regexp.MustCompile(`href="(/portal/log\?[^"]+)" rel="next"`).FindStringSubmatch(r.body)
	if next == nil {
		t.Fatal("no next page")
	}
	r = op.get(htmlUnescape(next[1]))
	if n := strings.Count(r.body, "vanban@tinh.example"); n != 30 {
		t.Errorf("second page has %d rows", n)
	}
	if !pe.audited(pe.op.Address, "log.search", pe.an.Address) {
		t.Error("search not audited")
	}
	r = op.get("/portal/log?s=1&ip=198.51.100.9&status=quarantined&since=2026-03-01&until=2026-03-10")
	mustContain(t, r.body, "spam@bad.example", "virus found", "Bị giữ lại")
	mustNotContain(t, r.body, "vanban@tinh.example")
	r = op.get("/portal/log?s=1&ip=not-an-ip&since=2026-13-01")
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Địa chỉ IP không hợp lệ", "Ngày “2026-13-01” không hợp lệ")

	r = op.get("/portal/log.csv?s=1&address=" + url.QueryEscape(pe.an.Address))
	r.wantStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 131 || recs[0][0] != "time" {
		t.Errorf("CSV has %d lines, header %v", len(recs), recs[0])
	}
	if !pe.audited(pe.op.Address, "log.export", pe.an.Address) {
		t.Error("export not audited")
	}
	// The audit log page shows both.
	r = op.get("/portal/audit?target=" + url.QueryEscape(pe.an.Address))
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "log.search", "log.export", pe.op.Address)
	r = op.get("/portal/audit?since=yesterday")
	r.wantStatus(t, http.StatusUnprocessableEntity)
}

// The unit manager's page: only their unit and its sub-units, with state, last
// login, password age, quota, lock reason and absences (R16.1); absences (R8.2),
// delegates (R9.1), the security contact (R12.1), a create request from a staff
// list (R16.2) and the unit's figures (R16.3).
func TestUnitManagerPages(t *testing.T) {
	pe := newPortalEnv(t)
	ctx := context.Background()
	if err := pe.st.RecordLogin(ctx, pe.an.ID, pe.clk.Now().Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := pe.life.Lock(ctx, pe.binh.ID, store.LockCompromised, "CV 7/CAT", pe.op.Address); err != nil {
		t.Fatal(err)
	}
	pe.clk.Advance(24 * time.Hour)
	head := pe.signedIn(pe.head)
	r := head.get("/unit")
	r.wantStatus(t, http.StatusOK)
	if r.url.Path != "/unit/"+itoa(pe.skhcn.ID) {
		t.Fatalf("landing at %s", r.url)
	}
	mustContain(t, r.body, "Sở Khoa học và Công nghệ", pe.an.Address, pe.binh.Address, pe.box.Address, "Văn phòng Sở",
		"Bị khóa", "Bị nhiễm mã độc", "08/03/2026", "1 ngày", "Đề nghị khôi phục")
	mustNotContain(t, r.body, pe.otherStaff.Address, pe.otherHead.Address)
	u := "/unit/" + itoa(pe.skhcn.ID)
	// The sub-unit's page is reachable, another unit's is not.
	head.get("/unit/"+itoa(pe.vp.ID)).wantStatus(t, http.StatusOK)
	head.get("/unit/"+itoa(pe.chiengcoi.ID)).wantStatus(t, http.StatusForbidden)

	// Absence (R8.2).
	r = head.post(u+"/absence", url.Values{"account": {itoa(pe.an.ID)}, "reason": {"Đi học"}, "ends": {"03/2026"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Ngày kết thúc vắng mặt không hợp lệ")
	r = head.post(u+"/absence", url.Values{"account": {itoa(pe.binh.ID)}, "reason": {"Đi học"}, "ends": {"2026-06-30"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "thông báo vắng mặt không mở khóa")
	r = head.post(u+"/absence", url.Values{"account": {itoa(pe.an.ID)}, "reason": {"Đi học"}, "ends": {"2026-06-30"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã ghi nhận thông báo vắng mặt", "Đi học: từ 11/03/2026 đến hết 30/06/2026")
	r = head.post(u+"/absence", url.Values{"account": {itoa(pe.otherStaff.ID)}, "reason": {"Đi học"}, "ends": {"2026-06-30"}})
	r.wantStatus(t, http.StatusForbidden)

	// Delegates (R9.1).
	r = head.post(u+"/delegates", url.Values{"op": {"grant"}, "box": {itoa(pe.box.ID)}, "person": {pe.an.Address}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã giao quyền")
	if d, _ := pe.st.Delegations(ctx, pe.box.ID); len(d) != 1 || d[0].DelegateID != pe.an.ID {
		t.Errorf("delegations %+v", d)
	}
	r = head.post(u+"/delegates", url.Values{"op": {"grant"}, "box": {itoa(pe.box.ID)}, "person": {pe.otherStaff.Address}})
	r.wantStatus(t, http.StatusForbidden)
	r = head.post(u+"/delegates", url.Values{"op": {"grant"}, "box": {itoa(pe.box.ID)}, "person": {""}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	r = head.post(u+"/delegates", url.Values{"op": {"remove"}, "box": {itoa(pe.box.ID)}, "person": {pe.an.Address}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã thu hồi quyền")
	if d, _ := pe.st.Delegations(ctx, pe.box.ID); len(d) != 0 {
		t.Errorf("delegations after removal %+v", d)
	}

	// Security contact (R12.1): one of the unit's own people.
	r = head.post(u+"/security", url.Values{"contact": {pe.otherStaff.Address}})
	r.wantStatus(t, http.StatusForbidden)
	r = head.post(u+"/security", url.Values{"contact": {pe.an.Address}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã cập nhật đầu mối", `id="contact">`+pe.an.Address)
	// The security contact reads the unit page, without its forms.
	sec := pe.signedIn(pe.an)
	r = sec.get("/unit")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, pe.binh.Address)
	mustNotContain(t, r.body, "/absence", "/delegates", "Gửi đề nghị")
	sec.get(u+"/requests").wantStatus(t, http.StatusForbidden)
	sec.post(u+"/security", url.Values{"contact": {pe.an.Address}}).wantStatus(t, http.StatusForbidden)

	// A create request from a staff list (R16.2), Excel's Vietnamese CSV.
	list := "Họ và tên;Năm sinh;Đơn vị\r\nLường Văn Tú;1995;vp.skhcn\r\nQuàng Thị Mai;1998;\r\n"
	r = head.postMultipart(u+"/requests", url.Values{"kind": {"create"}, "doc_number": {"30/SKHCN-TCCB"}, "doc_date": {"2026-03-10"}},
		[]upload{{"danh-sach.csv", "text/csv", []byte(list)}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã gửi đề nghị", "Lường Văn Tú (1995) — vp.skhcn", "Quàng Thị Mai (1998)")
	// People of another unit are refused (R16: own unit only).
	r = head.postMultipart(u+"/requests", url.Values{"kind": {"create"}, "doc_number": {"31/SKHCN-TCCB"}, "doc_date": {"2026-03-10"}},
		[]upload{{"ds.csv", "text/csv", []byte("full_name,unit\nLò Văn Sáu,chiengcoi\n")}})
	r.wantStatus(t, http.StatusForbidden)
	r = head.postMultipart(u+"/requests", url.Values{"kind": {"create"}, "doc_number": {"32/SKHCN-TCCB"}, "doc_date": {"2026-03-10"}},
		[]upload{{"ds.csv", "text/csv", []byte("ten\nA\n")}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Tệp thiếu cột họ tên")
	// One person from the form.
	r = head.post(u+"/requests", url.Values{"kind": {"create"}, "doc_number": {"33/SKHCN-TCCB"}, "doc_date": {"2026-03-10"}, "full_name": {"Hà Văn Phong"}, "birth_year": {"1988"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Hà Văn Phong (1988)")
	r = head.get(u + "/requests/new?kind=restore&addr=" + url.QueryEscape(pe.binh.Address))
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, `value="restore" checked`, `value="`+pe.binh.Address+`" checked`)

	// R16.3: the unit's figures as CSV.
	r = head.get(u + "/report?period=2026-03&format=csv")
	r.wantStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("report Content-Type %q", ct)
	}
	if !strings.Contains(r.body, "Sở Khoa học và Công nghệ") {
		t.Errorf("report:\n%s", abbreviate(r.body))
	}
	head.get(u+"/report?period=March").wantStatus(t, http.StatusUnprocessableEntity)
	if !pe.audited(pe.head.Address, "report.export", "skhcn") {
		t.Error("report export not audited")
	}
}

// Every new page renders in both languages without a placeholder.
func TestPortalPagesHaveNoMissingText(t *testing.T) {
	pe := newPortalEnv(t)
	ctx := context.Background()
	if err := pe.life.Lock(ctx, pe.binh.ID, store.LockOperator, "thử", pe.op.Address); err != nil {
		t.Fatal(err)
	}
	req, err := pe.life.FileRequest(ctx, lifecycle.RequestInput{Kind: store.RequestRestore, UnitLP: "skhcn", DocNumber: "1/X", DocDate: "2026-03-10",
		Addresses: []string{pe.binh.Address}, FiledBy: pe.head.Address})
	if err != nil {
		t.Fatal(err)
	}
	op, head := pe.signedIn(pe.op), pe.signedIn(pe.head)
	u := "/unit/" + itoa(pe.skhcn.ID)
	for _, lang := range []string{"vi", "en"} {
		op.get("/lang/" + lang)
		head.get("/lang/" + lang)
		for _, c := range []struct {
			b *browser
			p string
		}{
			{op, "/portal"}, {op, "/portal/units"}, {op, "/portal/units/" + itoa(pe.skhcn.ID)}, {op, "/portal/accounts?q=a"},
			{op, "/portal/accounts/new?unit=skhcn&name=Le+Van+Tam"}, {op, "/portal/accounts/" + itoa(pe.binh.ID)},
			{op, "/portal/accounts/" + itoa(pe.box.ID)}, {op, "/portal/requests"}, {op, "/portal/requests/" + itoa(req.ID)},
			{op, "/portal/log?s=1"}, {op, "/portal/audit"}, {op, "/settings"}, {op, "/unit"},
			{head, u}, {head, u + "/requests"}, {head, u + "/requests/new"}, {head, u + "/requests/" + itoa(req.ID)}, {head, "/settings"},
		} {
			r := c.b.get(c.p)
			if r.status != http.StatusOK {
				t.Errorf("%s %s: %d", lang, c.p, r.status)
			}
			if i := strings.Index(r.body, "⟦"); i >= 0 {
				t.Errorf("%s %s: missing text near %q", lang, c.p, r.body[i:min(len(r.body), i+60)])
			}
		}
	}
}
