package store

import (
	"context"
	"time"
)

// WebSession is a webmail session as the shared database keeps it. The store
// never sees the cookie value, only its hash (IDHash), so that a copy of the
// database holds no usable cookies; Data is the web layer's own encoding of the
// rest, opaque here because what a session holds is the web layer's business.
type WebSession struct {
	IDHash    string
	AccountID int64
	Data      []byte
	Created   time.Time
	LastSeen  time.Time
}

// WebSessionStore keeps webmail sessions in the database, so that every node of
// a cluster sees a session created on any of them (issue 10, DESIGN decision 4).
// Expiry rules are the caller's: the store only keeps what it is told and purges
// what the caller says is too old.
type WebSessionStore interface {
	// PutWebSession inserts or replaces the session with s.IDHash.
	PutWebSession(ctx context.Context, s WebSession) error
	// WebSession returns the session with idHash, or ErrNotFound.
	WebSession(ctx context.Context, idHash string) (*WebSession, error)
	// UpdateWebSessionData replaces the session's Data; an unknown idHash is
	// ErrNotFound, so that an update never brings back a session another node
	// ended.
	UpdateWebSessionData(ctx context.Context, idHash string, data []byte) error
	// TouchWebSession sets the session's LastSeen; an unknown idHash is ErrNotFound.
	TouchWebSession(ctx context.Context, idHash string, lastSeen time.Time) error
	// DeleteWebSession ends one session; an unknown idHash is not an error.
	DeleteWebSession(ctx context.Context, idHash string) error
	// DeleteWebSessions ends every session of an account.
	DeleteWebSessions(ctx context.Context, accountID int64) error
	// PurgeWebSessions deletes the sessions last seen before idleBefore or created
	// before createdBefore, and returns how many went.
	PurgeWebSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error)
}
