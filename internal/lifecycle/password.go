package lifecycle

import (
	"context"
	"fmt"

	"govmail/internal/password"
	"govmail/internal/store"
)

// OneTimePassword is the password an operator gives an account (R6.1):
// chosen when the operator typed one, checked against the policy and the
// account's history (R6.3, R6.4), else generated to pass them.
func (s *Service) OneTimePassword(chosen string, pc password.CheckContext) (pw string, generated bool, err error) {
	if chosen == "" {
		return s.Passwords.Generate(pc), true, nil
	}
	if err := s.Passwords.Check(chosen, pc); err != nil {
		return "", false, err
	}
	return chosen, false, nil
}

// ResetPassword gives an account a one-time password its holder must change
// at the next login (R6.1), for the portal and the API alike. Sessions opened
// with the old password end: the webmail refuses a session older than the
// account's PasswordSetAt.
func (s *Service) ResetPassword(ctx context.Context, accountID int64, chosen, actor string) (pw string, generated bool, err error) {
	a, err := s.Store.AccountByID(ctx, accountID)
	if err != nil {
		return "", false, err
	}
	if a.State == store.StateRevoked {
		return "", false, &Error{VI: "Tài khoản đã bị thu hồi.", EN: "The account has been revoked.", Err: ErrState}
	}
	hist, err := s.Store.PasswordHistory(ctx, a.ID, max(s.Passwords.History, 0))
	if err != nil {
		return "", false, err
	}
	pw, generated, err = s.OneTimePassword(chosen, password.CheckContext{Address: a.Address, FullName: a.DisplayName, PreviousHashes: hist})
	if err != nil {
		return "", false, err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return "", false, fmt.Errorf("hash: %w", err)
	}
	if err := s.Store.SetPassword(ctx, a.ID, hash, true, s.Clock.Now()); err != nil {
		return "", false, err
	}
	s.audit(ctx, actor, "account.password_reset", a.Address, "one-time password, must change (Điều 6.1)")
	return pw, generated, nil
}
