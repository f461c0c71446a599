package auth

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"govmail/internal/clock"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/throttle"
)

type thr struct{ m *throttle.Memory }

func (t thr) Check(ctx context.Context, a, ip string) (bool, time.Duration, time.Duration) {
	d := t.m.Check(ctx, a, ip)
	return d.Allowed, d.RetryAfter, 0
}
func (t thr) Failure(ctx context.Context, a, ip string) { t.m.Failure(ctx, a, ip) }
func (t thr) Success(ctx context.Context, a, ip string) { t.m.Success(ctx, a, ip) }

func setup(t *testing.T) (*Service, *clock.Fake, *store.Account) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
	st, err := sqlite.Open(context.Background(), sqlite.Options{Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, _ := password.Hash("Abcdef1!x")
	a := &store.Account{Address: "a@sonla.gov.vn", PasswordHash: h, PasswordSetAt: clk.Now(), QuotaBytes: 1}
	if err := st.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	m, _ := throttle.NewMemory(throttle.DefaultConfig(), clk)
	pol := password.DefaultPolicy()
	s := &Service{Store: st, Clock: clk, Verify: password.Verify, Throttle: thr{m}, Logger: slog.New(slog.DiscardHandler),
		Expired: func(setAt, now time.Time) bool { return pol.MustChange(setAt, now, password.Location()) }}
	return s, clk, a
}

// R6.1, R6.2, R8.1, R8.6 and the failed-login control, in one place.
func TestLoginRules(t *testing.T) {
	s, clk, a := setup(t)
	ctx := context.Background()
	req := Request{Proto: "imap", Username: "A@SONLA.GOV.VN", Password: "Abcdef1!x", RemoteIP: "192.0.2.1"}
	if _, err := s.Login(ctx, req); err != nil {
		t.Fatalf("good login: %v", err)
	}
	bad := req
	bad.Password = "nope"
	if _, err := s.Login(ctx, bad); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("bad password: %v", err)
	}
	// R6.2: three months later the password must be changed; webmail admits the
	// user to the change page only, protocols refuse.
	clk.Set(time.Date(2026, 6, 3, 2, 0, 0, 0, time.UTC))
	if _, err := s.Login(ctx, req); !errors.Is(err, ErrMustChange) {
		t.Fatalf("expired password over IMAP: %v", err)
	}
	web := req
	web.Web = true
	if acc, err := s.Login(ctx, web); err != nil || !acc.MustChange {
		t.Fatalf("expired password on the web: %+v %v", acc, err)
	}
	s.Store.SetPassword(ctx, a.ID, a.PasswordHash, false, clk.Now())
	// R8.1: locked → refused everywhere with the reason, after the password is right.
	s.Store.LockAccount(ctx, a.ID, store.LockOperator, store.LockInfo{LockedAt: clk.Now()})
	if _, err := s.Login(ctx, web); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked: %v", err)
	}
	s.Store.RestoreAccount(ctx, a.ID, a.PasswordHash, clk.Now())
	s.Store.SetPassword(ctx, a.ID, a.PasswordHash, false, clk.Now())
	// Throttling: 5 failures for the pair refuse it, even the right password;
	// it is no account state (R8.6).
	for i := 0; i < 5; i++ {
		s.Login(ctx, Request{Proto: "smtp", Username: a.Address, Password: "x", RemoteIP: "198.51.100.7"})
	}
	if _, err := s.Login(ctx, Request{Proto: "smtp", Username: a.Address, Password: "Abcdef1!x", RemoteIP: "198.51.100.7"}); !errors.Is(err, ErrThrottled) {
		t.Fatalf("throttle: %v", err)
	}
	if acc, _ := s.Store.AccountByID(ctx, a.ID); acc.State != store.StateActive {
		t.Fatalf("throttling changed the account state: %s", acc.State)
	}
	clk.Advance(16 * time.Minute)
	if _, err := s.Login(ctx, Request{Proto: "smtp", Username: a.Address, Password: "Abcdef1!x", RemoteIP: "198.51.100.7"}); err != nil {
		t.Fatalf("after the refusal expired: %v", err)
	}
}

// R2.1: TOTP codes work once; with 2FA on, mail clients need app passwords;
// operators always need the second factor on the web.
func TestTwoFactorR2_1(t *testing.T) {
	s, clk, a := setup(t)
	ctx := context.Background()
	if need, _, _ := s.NeedsTOTP(ctx, a); need {
		t.Fatal("2FA required before enrolment")
	}
	secret, url, err := s.NewTOTP(a, "govmail Sơn La")
	if err != nil || secret == "" || url == "" {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(secret, clk.Now())
	if err := s.ConfirmTOTP(ctx, a, secret, "000000"); err == nil && code != "000000" {
		t.Fatal("wrong enrolment code accepted")
	}
	if err := s.ConfirmTOTP(ctx, a, secret, code); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Second)
	code, _ = totp.GenerateCode(secret, clk.Now())
	if err := s.VerifyTOTP(ctx, a, code, "192.0.2.1"); err != nil {
		t.Fatalf("fresh code: %v", err)
	}
	if err := s.VerifyTOTP(ctx, a, code, "192.0.2.1"); !errors.Is(err, ErrTOTP) {
		t.Fatalf("replayed code: %v", err)
	}
	if _, err := s.Login(ctx, Request{Proto: "imap", Username: a.Address, Password: "Abcdef1!x"}); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("account password over IMAP with 2FA on: %v", err)
	}
	app, err := s.NewAppPassword(ctx, a, "Thunderbird")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, Request{Proto: "imap", Username: a.Address, Password: app}); err != nil {
		t.Fatalf("app password: %v", err)
	}
	if _, err := s.Login(ctx, Request{Proto: "web", Web: true, Username: a.Address, Password: app}); err == nil {
		t.Fatal("app password accepted on the web")
	}
	op := &store.Account{Address: "op@sonla.gov.vn", Role: store.RoleOperator, QuotaBytes: 1}
	s.Store.CreateAccount(ctx, op)
	if need, enrolled, _ := s.NeedsTOTP(ctx, op); !need || enrolled {
		t.Fatalf("operator: need %v enrolled %v", need, enrolled)
	}
}
