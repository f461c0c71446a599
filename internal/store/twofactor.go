package store

import (
	"context"
	"time"
)

// AppPassword is a per-device password for protocols that cannot do TOTP.
type AppPassword struct {
	ID         int64
	AccountID  int64
	Name       string // e.g. "Thunderbird, máy văn phòng"
	Hash       string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// TwoFactorStore keeps second-factor secrets and app passwords.
type TwoFactorStore interface {
	// SetTOTP stores (or, with "", clears) the account's TOTP secret.
	SetTOTP(ctx context.Context, accountID int64, secret string) error
	// TOTP returns the secret ("" when 2FA is off) and the last time step used.
	TOTP(ctx context.Context, accountID int64) (secret string, lastStep int64, err error)
	// UseTOTPStep records a used step; it returns false if that step or a later
	// one was used already (a code works once).
	UseTOTPStep(ctx context.Context, accountID int64, step int64) (bool, error)
	AddAppPassword(ctx context.Context, p *AppPassword) error
	AppPasswords(ctx context.Context, accountID int64) ([]AppPassword, error)
	DeleteAppPassword(ctx context.Context, accountID, id int64) error
	TouchAppPassword(ctx context.Context, id int64, at time.Time) error
}
