package store

import "context"

// SMIMEStore keeps each account's S/MIME signing identity (N2, Thông tư
// 39/2017): the certificate with its chain as PEM, and the private key sealed by
// the caller (internal/smime, under the server secret) — the store never sees
// the key in the clear.
type SMIMEStore interface {
	// PutSMIMEIdentity stores or replaces the account's identity.
	PutSMIMEIdentity(ctx context.Context, accountID int64, certPEM, encryptedKey []byte) error
	// SMIMEIdentity returns it, or ErrNotFound when the account has none.
	SMIMEIdentity(ctx context.Context, accountID int64) (certPEM, encryptedKey []byte, err error)
}
