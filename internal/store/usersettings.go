package store

import "context"

// UserSettingsStore keeps small per-account preferences that webmail and the
// delivery hooks read: the signature, the vacation responder. Keys are owned by
// their callers (one namespace, e.g. "signature", "vacation.on"); values are
// text. A generic table keeps a new preference from needing a migration.
type UserSettingsStore interface {
	// UserSetting returns the value of key for the account, "" when never set.
	UserSetting(ctx context.Context, accountID int64, key string) (string, error)
	// SetUserSetting stores value under key; "" removes the key.
	SetUserSetting(ctx context.Context, accountID int64, key, value string) error
}
