package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"govmail/internal/store"
)

// With 2FA on, the password only opens the code page; the mail opens after the code.
func TestTOTPRequiredWhenEnrolled(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "test", AccountName: a.Address})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetTOTP(context.Background(), a.ID, key.Secret()); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	r := b.login(a.Address, goodPassword)
	if r.url.Path != "/totp" {
		t.Fatalf("login went to %s", r.url)
	}
	mustContain(t, r.body, "Xác thực hai lớp", "Nhập mã 6 chữ số")
	if r := b.get("/"); r.url.Path != "/totp" {
		t.Errorf("mail reachable before the code: %s", r.url)
	}
	r = b.post("/totp", url.Values{"code": {"000000"}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Mã xác thực hai lớp không đúng")
	code, _ := totp.GenerateCode(key.Secret(), e.clk.Now())
	r = b.post("/totp", url.Values{"code": {code}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Hộp thư đến")
	// The same code cannot open a second session.
	b2 := e.browser()
	b2.login(a.Address, goodPassword)
	r = b2.post("/totp", url.Values{"code": {code}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	// Too many wrong codes end the half-open session (one was counted above).
	for i := 1; i < maxTOTPFailures; i++ {
		r = b2.post("/totp", url.Values{"code": {"123456"}})
	}
	if r.url.Path != "/login" {
		t.Errorf("after %d failures at %s", maxTOTPFailures, r.url)
	}
	mustContain(t, r.body, "Nhập sai mã xác thực quá nhiều lần")
}

// Operators always need a second factor; one without it enrols at sign-in.
func TestOperatorEnrolsTOTP(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := &store.Account{Address: "vanhanh.skhcn@sonla.gov.vn", DisplayName: "Vận hành", PasswordHash: cheapHash(t, goodPassword),
		PasswordSetAt: e.clk.Now(), QuotaBytes: e.cfg.Policy.QuotaBytes, Role: store.RoleOperator}
	if err := e.st.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	r := b.login(a.Address, goodPassword)
	if r.url.Path != "/totp" {
		t.Fatalf("operator login went to %s", r.url)
	}
	mustContain(t, r.body, "phải dùng xác thực hai lớp", `src="data:image/png;base64,`, "Khóa bí mật:")
	m := regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no secret shown")
	}
	// Reloading keeps the same secret (held in the session).
	if r2 := b.get("/totp"); !regexp.MustCompile(m[1]).MatchString(r2.body) {
		t.Error("secret changed on reload")
	}
	code, _ := totp.GenerateCode(m[1], e.clk.Now())
	r = b.post("/totp", url.Values{"code": {code}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Hộp thư đến")
	sec, _, err := e.st.TOTP(context.Background(), a.ID)
	if err != nil || sec != m[1] {
		t.Errorf("secret not stored: %q %v", sec, err)
	}
	// Next time the code is asked for, not enrolment.
	e.clk.Advance(time.Minute)
	b2 := e.browser()
	r = b2.login(a.Address, goodPassword)
	mustContain(t, r.body, "Nhập mã 6 chữ số")
}
