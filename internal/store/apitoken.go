package store

import (
	"context"
	"time"
)

// APIToken is a credential another provincial system (the document management
// system, a shared directory) presents to the REST API (R7.7, R14.4). It acts as
// the account it belongs to, narrowed to its scopes. Only the SHA-256 of the
// token is kept: the plain token is shown once, when it is made.
type APIToken struct {
	ID        int64
	AccountID int64
	Name      string // what uses it, e.g. "Hệ thống QLVB tỉnh"
	// Hash is the hex SHA-256 of the whole token string ("gm_…").
	Hash string
	// Prefix is the token's first characters, enough to recognise it in a
	// list without being usable.
	Prefix     string
	Scopes     []string
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time // zero: never
	RevokedAt  time.Time // zero: in force
}

// TokenStore keeps API tokens. It decides nothing about scopes or expiry; the
// API checks them on every use.
type TokenStore interface {
	// CreateAPIToken stores t and fills its ID; ErrExists when the hash is
	// already known (a random 32-byte token never collides, so that means a bug).
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// APITokenByHash finds a token by the hash of its text, revoked or not;
	// ErrNotFound when none.
	APITokenByHash(ctx context.Context, hash string) (*APIToken, error)
	// APITokenByID reads one token; ErrNotFound when none.
	APITokenByID(ctx context.Context, id int64) (*APIToken, error)
	// APITokens lists the tokens of an account, or every token when accountID
	// is 0, oldest first.
	APITokens(ctx context.Context, accountID int64) ([]APIToken, error)
	// RevokeAPIToken ends a token at at; ErrNotFound when it does not exist or
	// was revoked already.
	RevokeAPIToken(ctx context.Context, id int64, at time.Time) error
	// TouchAPIToken records a use.
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error
}
