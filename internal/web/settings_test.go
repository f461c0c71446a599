package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"govmail/internal/auth"
	"govmail/internal/store"
)

// R2.1: a user turns the second factor on from the settings page (QR code and
// otpauth URL, confirmed with a code) and off again with their password.
func TestSettingsTwoFactorR2_1(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.signedIn(a)
	r := b.get("/settings")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Cài đặt tài khoản", "Đang tắt", "Bật xác thực hai lớp", "Mật khẩu ứng dụng", "Hộp thư đến")
	r = b.post("/settings/totp", url.Values{"op": {"start"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, `src="data:image/png;base64,`, "otpauth://totp/")
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no secret shown")
	}
	r = b.post("/settings/totp", url.Values{"op": {"confirm"}, "code": {"000000"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Mã xác thực hai lớp không đúng", m[1])
	code, _ := totp.GenerateCode(m[1], e.clk.Now())
	r = b.post("/settings/totp", url.Values{"op": {"confirm"}, "code": {code}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã bật xác thực hai lớp", "Đang bật")
	if sec, _, _ := e.st.TOTP(context.Background(), a.ID); sec != m[1] {
		t.Fatalf("secret stored %q", sec)
	}
	// The next web login asks for the code.
	b2 := e.browser()
	if r := b2.login(a.Address, goodPassword); r.url.Path != "/totp" {
		t.Errorf("login with 2FA on went to %s", r.url)
	}
	r = b.post("/settings/totp", url.Values{"op": {"off"}, "current": {"sai-mat-khau"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Mật khẩu hiện tại không đúng")
	r = b.post("/settings/totp", url.Values{"op": {"off"}, "current": {goodPassword}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã tắt xác thực hai lớp")
	if sec, _, _ := e.st.TOTP(context.Background(), a.ID); sec != "" {
		t.Error("2FA still on")
	}
	r = b.post("/settings/totp", url.Values{"op": {"sideways"}})
	r.wantStatus(t, http.StatusBadRequest)
	// Signed out, the page is the login page's.
	if r := e.browser().get("/settings"); r.url.Path != "/login" {
		t.Errorf("anonymous settings at %s", r.url)
	}
}

// Operators keep the second factor: the page refuses to turn it off.
func TestSettingsOperatorKeepsTwoFactor(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := &store.Account{Address: "vanhanh.skhcn@sonla.gov.vn", DisplayName: "Vận hành", PasswordHash: cheapHash(t, goodPassword),
		PasswordSetAt: e.clk.Now(), QuotaBytes: e.cfg.Policy.QuotaBytes, Role: store.RoleOperator}
	if err := e.st.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetTOTP(context.Background(), a.ID, "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	b := e.signedIn(a)
	r := b.get("/settings")
	mustContain(t, r.body, "Tài khoản quản trị luôn phải dùng xác thực hai lớp", `href="/portal"`)
	mustNotContain(t, r.body, "Tắt xác thực hai lớp")
	r = b.post("/settings/totp", url.Values{"op": {"off"}, "current": {goodPassword}})
	r.wantStatus(t, http.StatusForbidden)
	if sec, _, _ := e.st.TOTP(context.Background(), a.ID); sec == "" {
		t.Error("an operator turned 2FA off")
	}
}

// App passwords (R2.1): made for one program, shown once, usable by IMAP and
// SMTP while 2FA is on, revoked from the list.
func TestSettingsAppPasswords(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	if err := e.st.SetTOTP(ctx, a.ID, "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	b := e.signedIn(a)
	r := b.post("/settings/apppw", url.Values{"name": {"   "}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Hãy đặt tên cho mật khẩu ứng dụng")
	r = b.post("/settings/apppw", url.Values{"name": {"Thunderbird máy cơ quan"}})
	r.wantStatus(t, http.StatusOK)
	m := regexp.MustCompile(`id="new-apppw">([^<]+)<`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("app password not shown:\n%s", abbreviate(r.body))
	}
	pw := htmlUnescape(m[1])
	mustContain(t, r.body, "Thunderbird máy cơ quan", "chỉ hiển thị một lần")
	// Shown once: the list no longer carries it.
	r = b.get("/settings")
	mustContain(t, r.body, "Thunderbird máy cơ quan", "Chưa dùng")
	mustNotContain(t, r.body, m[1])
	if _, err := e.auth.Login(ctx, auth.Request{Proto: "imap", Username: a.Address, Password: pw, RemoteIP: "192.0.2.5"}); err != nil {
		t.Fatalf("IMAP login with the app password: %v", err)
	}
	aps, _ := e.st.AppPasswords(ctx, a.ID)
	if len(aps) != 1 {
		t.Fatalf("%d app passwords", len(aps))
	}
	r = b.post("/settings/apppw/"+itoa(aps[0].ID)+"/delete", nil)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã thu hồi mật khẩu ứng dụng", "Chưa có mật khẩu ứng dụng nào")
	if _, err := e.auth.Login(ctx, auth.Request{Proto: "imap", Username: a.Address, Password: pw, RemoteIP: "192.0.2.5"}); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("revoked app password: %v", err)
	}
	// Another account's id does nothing.
	other := e.addAccount("binh.snv@sonla.gov.vn", "Trần Văn Bình", goodPassword, false)
	pw2, err := e.auth.NewAppPassword(ctx, other, "điện thoại")
	if err != nil || pw2 == "" {
		t.Fatal(err)
	}
	aps, _ = e.st.AppPasswords(ctx, other.ID)
	b.post("/settings/apppw/"+itoa(aps[0].ID)+"/delete", nil)
	if aps, _ = e.st.AppPasswords(ctx, other.ID); len(aps) != 1 {
		t.Error("revoked another account's app password")
	}
}

// The language choice is kept in a cookie; refused values change nothing.
func TestSettingsLanguage(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.signedIn(a)
	r := b.post("/settings/lang", url.Values{"lang": {"en"}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, `<html lang="en">`, "Account settings", "Language saved.")
	r = b.post("/settings/lang", url.Values{"lang": {"fr"}})
	r.wantStatus(t, http.StatusBadRequest)
	r = b.post("/settings/lang", url.Values{"lang": {"vi"}})
	mustContain(t, r.body, `<html lang="vi">`, "Đã lưu ngôn ngữ")
	if !strings.Contains(b.get("/").body, `href="/settings"`) {
		t.Error("no settings link in the webmail top bar")
	}
}
