package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"govmail/internal/password"
	"govmail/internal/store"
)

// ErrTOTP is wrapped when a second-factor code is wrong or reused.
var ErrTOTP = errors.New("auth: wrong second-factor code")

// totpPeriod is RFC 6238's default step.
const totpPeriod = 30

// NeedsTOTP tells whether a web login of a must also pass TOTP: when the user
// turned 2FA on, and always for operators (security-level controls).
func (s *Service) NeedsTOTP(ctx context.Context, a *store.Account) (need, enrolled bool, err error) {
	sec, _, err := s.Store.TOTP(ctx, a.ID)
	if err != nil {
		return false, false, err
	}
	return sec != "" || a.Role == store.RoleOperator, sec != "", nil
}

// NewTOTP makes a secret for enrolment; it is stored only by ConfirmTOTP, once
// the user has proved their app has it.
func (s *Service) NewTOTP(a *store.Account, issuer string) (secret, url string, err error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: a.Address, Period: totpPeriod, Algorithm: otp.AlgorithmSHA1, Digits: otp.DigitsSix})
	if err != nil {
		return "", "", fmt.Errorf("totp: %w", err)
	}
	return k.Secret(), k.URL(), nil
}

// ConfirmTOTP stores secret after checking a code made with it.
func (s *Service) ConfirmTOTP(ctx context.Context, a *store.Account, secret, code string) error {
	ok, err := totp.ValidateCustom(code, secret, s.Clock.Now(), totp.ValidateOpts{Period: totpPeriod, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil || !ok {
		return s.totpError()
	}
	return s.Store.SetTOTP(ctx, a.ID, secret)
}

// VerifyTOTP checks a code against the stored secret; a code works once (the
// time step is recorded), with one step of clock drift allowed either way.
func (s *Service) VerifyTOTP(ctx context.Context, a *store.Account, code string, ip string) error {
	sec, _, err := s.Store.TOTP(ctx, a.ID)
	if err != nil {
		return err
	}
	if sec == "" {
		return s.totpError()
	}
	now := s.Clock.Now()
	for _, skew := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(skew*totpPeriod) * time.Second)
		ok, err := totp.ValidateCustom(code, sec, t, totp.ValidateOpts{Period: totpPeriod, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil || !ok {
			continue
		}
		fresh, err := s.Store.UseTOTPStep(ctx, a.ID, t.Unix()/totpPeriod)
		if err != nil {
			return err
		}
		if fresh {
			return nil
		}
	}
	if s.Throttle != nil {
		s.Throttle.Failure(ctx, a.Address, ip)
	}
	s.record(ctx, Request{Proto: "web", RemoteIP: ip}, a.Address, false, "bad_totp")
	return s.totpError()
}

func (s *Service) totpError() error {
	return &Error{Code: "bad_totp", base: ErrTOTP, VI: "Mã xác thực hai lớp không đúng hoặc đã được dùng.", EN: "The two-factor code is wrong or was already used."}
}

// NewAppPassword makes a password for one device's mail client; the plain text
// is shown once and only its hash is kept.
func (s *Service) NewAppPassword(ctx context.Context, a *store.Account, name string) (string, error) {
	if name == "" {
		name = "app"
	}
	pw := password.Generate()
	h, err := password.Hash(pw)
	if err != nil {
		return "", err
	}
	if err := s.Store.AddAppPassword(ctx, &store.AppPassword{AccountID: a.ID, Name: name, Hash: h, CreatedAt: s.Clock.Now()}); err != nil {
		return "", err
	}
	return pw, nil
}

// checkAppPassword tries the account's app passwords.
func (s *Service) checkAppPassword(ctx context.Context, a *store.Account, pw string) bool {
	aps, err := s.Store.AppPasswords(ctx, a.ID)
	if err != nil {
		return false
	}
	for _, ap := range aps {
		if ok, _ := s.verify(ctx, ap.Hash, pw); ok {
			s.Store.TouchAppPassword(ctx, ap.ID, s.Clock.Now())
			return true
		}
	}
	return false
}
