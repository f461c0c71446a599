package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/throttle"
)

func TestLoginPageVietnameseWithSupportContact(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	r := b.get("/login")
	r.wantStatus(t, http.StatusOK)
	// R14.2: the support contact is on the login page.
	mustContain(t, r.body, `<html lang="vi">`, "Đăng nhập", "Địa chỉ thư điện tử", "Mật khẩu",
		"Sở Khoa học và Công nghệ tỉnh Sơn La", `href="mailto:hotro@sonla.gov.vn"`)
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("page CSP allows inline code: %q", csp)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	// R3.2: nothing is loaded from elsewhere; no inline script.
	mustNotContain(t, r.body, `src="http`, `href="http`, "<script>", "fonts.googleapis", "cdn")
}

func TestEnglishFromAcceptLanguageAndCookie(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.lang = "en-US,en;q=0.9"
	r := b.get("/login")
	mustContain(t, r.body, `<html lang="en">`, "Sign in", "User support:")
	// The explicit choice wins over the browser.
	r = b.get("/lang/vi?next=/login")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, `<html lang="vi">`, "Đăng nhập")
	// An outside next= is not followed.
	r = b.get("/lang/en?next=//evil.example/")
	if r.url.Host != strings.TrimPrefix(e.ts.URL, "https://") {
		t.Errorf("redirected off-site to %s", r.url)
	}
}

func TestLoginSessionCookieAndLogout(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.browser()
	b.get("/login")
	form := url.Values{"username": {"hoant.skhcn@sonla.gov.vn"}, "password": {goodPassword}, "_csrf": {b.token}}
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login status %d", res.StatusCode)
	}
	var sc *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == sessionCookie {
			sc = ck
		}
	}
	if sc == nil {
		t.Fatal("no session cookie")
	}
	if !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/" || len(sc.Value) < 40 {
		t.Errorf("session cookie %+v", sc)
	}
	r := b.get("/")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Hộp thư đến", "hoant.skhcn@sonla.gov.vn", "Dung lượng hộp thư", "hotro@sonla.gov.vn")
	if got := e.srv.sessions.(*MemorySessions).Len(); got != 1 {
		t.Errorf("%d sessions", got)
	}
	r = b.post("/logout", nil)
	mustContain(t, r.body, "Bạn đã đăng xuất.")
	if got := e.srv.sessions.(*MemorySessions).Len(); got != 0 {
		t.Errorf("%d sessions after logout", got)
	}
	r = b.get("/")
	if r.url.Path != "/login" {
		t.Errorf("after logout / went to %s", r.url)
	}
}

func TestLoginWithLocalPartOnly(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.browser()
	r := b.login("hoant.skhcn", goodPassword)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Hộp thư đến")
}

func TestWrongPassword(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.browser()
	r := b.login("hoant.skhcn@sonla.gov.vn", "Sai-mat-khau1!")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Sai địa chỉ thư hoặc mật khẩu.", `value="hoant.skhcn@sonla.gov.vn"`)
	if r.url.Path != "/login" {
		t.Errorf("at %s", r.url)
	}
}

// R6.1: an account whose password someone else set is admitted only to the change
// page; the change lists every broken rule in Vietnamese and, when it succeeds,
// stores the new hash with the must-change mark cleared.
func TestMustChangeAdmitsOnlyChangePage(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", "Tam-Thoi#2026", true)
	inbox := e.mailbox(a, "INBOX")
	b := e.browser()
	r := b.login(a.Address, "Tam-Thoi#2026")
	r.wantStatus(t, http.StatusOK)
	if r.url.Path != "/password" {
		t.Fatalf("must-change login went to %s", r.url)
	}
	mustContain(t, r.body, "Đổi mật khẩu", "Mật khẩu của bạn do người khác đặt")
	mustNotContain(t, r.body, `name="current"`) // just proved it at login
	for _, p := range []string{"/", "/mail/" + itoa(inbox.ID), "/compose", "/search?q=x", "/mail/" + itoa(inbox.ID) + "/1/raw"} {
		r = b.get(p)
		if r.url.Path != "/password" {
			t.Errorf("GET %s reached %s", p, r.url)
		}
	}
	r = b.post("/mail/"+itoa(inbox.ID)+"/action", url.Values{"op": {"read"}, "uid": {"1"}})
	if r.url.Path != "/password" {
		t.Errorf("POST action reached %s", r.url)
	}

	// Weak: every rule broken is named (R6.3).
	r = b.post("/password", url.Values{"new": {"hoant"}, "confirm": {"hoant"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Mật khẩu chưa được đổi:",
		"Mật khẩu phải có ít nhất 8 ký tự (mật khẩu này có 5).",
		"Mật khẩu phải có ít nhất một chữ in hoa (A–Z).",
		"Mật khẩu phải có ít nhất một chữ số (0–9).",
		"Mật khẩu phải có ít nhất một ký tự đặc biệt",
		"Mật khẩu không được chứa tên hộp thư của bạn")
	r = b.post("/password", url.Values{"new": {"Mật-khẩu-1!A"}, "confirm": {"Mật-khẩu-1!A"}})
	mustContain(t, r.body, "không dùng chữ có dấu")
	r = b.post("/password", url.Values{"new": {"Tam-Thoi#2026"}, "confirm": {"Tam-Thoi#2026"}})
	mustContain(t, r.body, "Mật khẩu không được trùng")
	r = b.post("/password", url.Values{"new": {goodPassword}, "confirm": {goodPassword + "x"}})
	mustContain(t, r.body, "Hai lần nhập mật khẩu mới không giống nhau.")

	// A second browser logged in with the old password loses its session.
	other := e.browser()
	other.login(a.Address, "Tam-Thoi#2026")

	r = b.post("/password", url.Values{"new": {goodPassword}, "confirm": {goodPassword}})
	r.wantStatus(t, http.StatusOK)
	if r.url.Path != "/mail/"+itoa(inbox.ID) {
		t.Fatalf("after change at %s", r.url)
	}
	mustContain(t, r.body, "Đã đổi mật khẩu thành công.", "Hộp thư đến")
	got, err := e.st.AccountByID(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.MustChange {
		t.Error("must-change still set")
	}
	if ok, _ := password.Verify(got.PasswordHash, goodPassword); !ok {
		t.Error("new password not stored")
	}
	if !got.PasswordSetAt.Equal(e.clk.Now()) {
		t.Errorf("password date %v", got.PasswordSetAt)
	}
	r = other.get("/")
	if r.url.Path != "/login" {
		t.Errorf("other session survived the change: %s", r.url)
	}
}

// R6.2: an expired password is treated as R6.1, with the reason said.
func TestExpiredPasswordGoesToChangePage(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	e.clk.Advance(95 * 24 * time.Hour)
	b := e.browser()
	r := b.login(a.Address, goodPassword)
	if r.url.Path != "/password" {
		t.Fatalf("expired login went to %s", r.url)
	}
	mustContain(t, r.body, "đã quá 3 tháng và hết hạn")
}

func TestVoluntaryChangeNeedsCurrentPassword(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.browser()
	b.login(a.Address, goodPassword)
	r := b.get("/password")
	mustContain(t, r.body, `name="current"`)
	r = b.post("/password", url.Values{"current": {"wrong"}, "new": {"Moi-Hon#2027"}, "confirm": {"Moi-Hon#2027"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Mật khẩu hiện tại không đúng.")
	r = b.post("/password", url.Values{"current": {goodPassword}, "new": {"Moi-Hon#2027"}, "confirm": {"Moi-Hon#2027"}})
	mustContain(t, r.body, "Đã đổi mật khẩu thành công.")
}

// R8.1: a locked mailbox gets a page saying so, why, and whom to contact; a lock
// during a session closes it.
func TestLockedAccountPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.browser()
	b.login(a.Address, goodPassword)
	ctx := context.Background()
	if err := e.st.LockAccount(ctx, a.ID, "inactivity", store.LockInfo{LockedAt: e.clk.Now(), LockedBy: "system:test"}); err != nil {
		t.Fatal(err)
	}
	r := b.get("/")
	r.wantStatus(t, http.StatusForbidden)
	mustContain(t, r.body, "Hộp thư đang bị khóa", "không đăng nhập trong 90 ngày", "hotro@sonla.gov.vn")
	r = b.get("/")
	if r.url.Path != "/login" {
		t.Errorf("session survived the lock: %s", r.url)
	}
	r = b.login(a.Address, goodPassword)
	r.wantStatus(t, http.StatusForbidden)
	mustContain(t, r.body, "Hộp thư đang bị khóa (Điều 8 Quy chế 115/2025/QĐ-UBND). Đề nghị thủ trưởng đơn vị gửi văn bản yêu cầu khôi phục tới Sở Khoa học và Công nghệ.",
		"Lý do khóa:", "Sở Khoa học và Công nghệ tỉnh Sơn La", "vẫn được nhận")
	// A wrong password on a locked account says nothing about the lock.
	r = b.login(a.Address, "Sai-mat-khau1!")
	mustNotContain(t, r.body, "bị khóa")
}

type throttleAdapter struct{ m *throttle.Memory }

func (t throttleAdapter) Check(ctx context.Context, account, ip string) (bool, time.Duration, time.Duration) {
	d := t.m.Check(ctx, account, ip)
	return d.Allowed, d.RetryAfter, d.Delay
}
func (t throttleAdapter) Failure(ctx context.Context, account, ip string) {
	t.m.Failure(ctx, account, ip)
}
func (t throttleAdapter) Success(ctx context.Context, account, ip string) {
	t.m.Success(ctx, account, ip)
}

func TestThrottledLogin(t *testing.T) {
	clkEnv := newEnv(t, envOptions{})
	th, err := throttle.NewMemory(throttle.DefaultConfig(), clkEnv.clk)
	if err != nil {
		t.Fatal(err)
	}
	clkEnv.auth.Throttle = throttleAdapter{th}
	a := clkEnv.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := clkEnv.browser()
	var r *resp
	for i := 0; i < 6; i++ {
		r = b.login(a.Address, "Sai-mat-khau1!")
	}
	r.wantStatus(t, http.StatusTooManyRequests)
	mustContain(t, r.body, "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau")
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestCSRFRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	uid := e.deliver(a, "Subject: x\n\nbody\n")
	inbox := e.mailbox(a, "INBOX")
	b := e.browser()
	b.login(a.Address, goodPassword)
	action := "/mail/" + itoa(inbox.ID) + "/action"
	form := url.Values{"op": {"delete"}, "uid": {itoa(int64(uid))}}

	form.Set("_csrf", "")
	r := b.post(action, form)
	r.wantStatus(t, http.StatusForbidden)
	mustContain(t, r.body, "Yêu cầu không hợp lệ")
	form.Set("_csrf", "forged-token")
	r = b.post(action, form)
	r.wantStatus(t, http.StatusForbidden)

	// The right token from another origin is refused too.
	b.get("/")
	form.Set("_csrf", b.token)
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	r = b.do(req)
	r.wantStatus(t, http.StatusForbidden)
	req, _ = http.NewRequest(http.MethodPost, e.ts.URL+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	r = b.do(req)
	r.wantStatus(t, http.StatusForbidden)

	if n := len(e.messages(inbox)); n != 1 {
		t.Fatalf("a refused POST changed the folder: %d messages", n)
	}
	// Login itself needs the login token.
	b2 := e.browser()
	r = b2.post("/login", url.Values{"username": {a.Address}, "password": {goodPassword}, "_csrf": {"x"}})
	r.wantStatus(t, http.StatusForbidden)
	mustContain(t, r.body, "Trang đăng nhập đã hết hạn")

	// With the token the same POST works.
	form.Set("_csrf", b.token)
	r = b.post(action, form)
	r.wantStatus(t, http.StatusOK)
	if n := len(e.messages(inbox)); n != 0 {
		t.Fatalf("delete with token: %d messages left", n)
	}
}

func TestSessionIdleAndAbsoluteExpiry(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.browser()
	b.login(a.Address, goodPassword)
	e.clk.Advance(29 * time.Minute)
	if r := b.get("/"); r.url.Path == "/login" {
		t.Fatal("expired before the idle timeout")
	}
	e.clk.Advance(31 * time.Minute)
	r := b.get("/")
	if r.url.Path != "/login" {
		t.Fatalf("idle session still valid: %s", r.url)
	}
	mustContain(t, r.body, "Phiên làm việc đã hết hạn")

	// Absolute lifetime: active all day, still ends after 12 hours.
	b.login(a.Address, goodPassword)
	for i := 0; i < 25; i++ {
		e.clk.Advance(29 * time.Minute)
		r = b.get("/")
	}
	if r.url.Path != "/login" {
		t.Fatalf("session outlived its absolute lifetime: %s", r.url)
	}
}

func TestMemorySessionsSweep(t *testing.T) {
	e := newEnv(t, envOptions{})
	m := NewMemorySessions(e.clk, time.Minute, time.Hour)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		if err := m.Create(ctx, &Session{AccountID: 1}); err != nil {
			t.Fatal(err)
		}
	}
	e.clk.Advance(2 * time.Minute)
	s := &Session{AccountID: 2}
	m.Create(ctx, s)
	if m.Len() != 1 {
		t.Errorf("%d sessions after sweep, want 1", m.Len())
	}
	got, err := m.Get(ctx, s.ID)
	if err != nil || got.AccountID != 2 || got.CSRF == "" {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := m.Get(ctx, "nope"); err != ErrNoSession {
		t.Errorf("unknown id: %v", err)
	}
}

func TestRedirectHTTPS(t *testing.T) {
	h := RedirectHTTPS("https://mail.sonla.gov.vn")
	for _, c := range []struct{ method, target, want string }{
		{http.MethodGet, "http://mail.sonla.gov.vn/login?next=%2F", "https://mail.sonla.gov.vn/login?next=%2F"},
		{http.MethodGet, "http://evil.example/x", "https://mail.sonla.gov.vn/x"},
		{http.MethodPost, "http://mail.sonla.gov.vn/login", "https://mail.sonla.gov.vn/login"},
	} {
		req := httptestRequest(c.method, c.target)
		rec := newRecorder()
		h.ServeHTTP(rec, req)
		if loc := rec.Header().Get("Location"); loc != c.want {
			t.Errorf("%s %s → %q, want %q", c.method, c.target, loc, c.want)
		}
		wantCode := http.StatusMovedPermanently
		if c.method != http.MethodGet {
			wantCode = http.StatusPermanentRedirect
		}
		if rec.Code != wantCode {
			t.Errorf("%s %s: code %d", c.method, c.target, rec.Code)
		}
	}
	rec := newRecorder()
	RedirectHTTPS("").ServeHTTP(rec, httptestRequest(http.MethodGet, "http://mail.example.org:8080/a"))
	if loc := rec.Header().Get("Location"); loc != "https://mail.example.org/a" {
		t.Errorf("no web_url: %q", loc)
	}
}
