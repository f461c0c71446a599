package app

import (
	"context"
	"fmt"

	"govmail/internal/password"
	"govmail/internal/store"
)

// OperatorLocalPart is the first operator's mailbox, made on the first run.
const OperatorLocalPart = "quantri"

// EnsureOperator makes the first operator account when there is none, with a
// one-time password that must be changed at first login (R6.1): a fresh system
// is administrable, and no default password is ever left enabled.
func (a *App) EnsureOperator(ctx context.Context) (addr, pw string, err error) {
	accs, err := a.Store.ListAccounts(ctx, store.AccountFilter{State: store.StateActive})
	if err != nil {
		return "", "", err
	}
	for _, x := range accs {
		if x.Role == store.RoleOperator {
			return "", "", nil
		}
	}
	addr = OperatorLocalPart + "@" + a.Cfg.Domains[0]
	pw = password.Generate()
	hash, err := password.Hash(pw)
	if err != nil {
		return "", "", err
	}
	acc := &store.Account{Address: addr, DisplayName: "Quản trị hệ thống", PasswordHash: hash, MustChange: true,
		PasswordSetAt: a.Clock.Now(), QuotaBytes: a.Cfg.Policy.QuotaBytes, Role: store.RoleOperator, AddressNote: "first operator"}
	if err := a.Store.CreateAccount(ctx, acc); err != nil {
		return "", "", fmt.Errorf("first operator: %w", err)
	}
	a.Log.Info("first operator account created", "address", addr)
	return addr, pw, nil
}
