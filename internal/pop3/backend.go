package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
)

// ConnInfo describes the connection a login arrives on, so that the backend can
// throttle by address, log, and refuse what its policy refuses.
type ConnInfo struct {
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	// TLS is nil on a connection that is not (yet) protected by TLS.
	TLS *tls.ConnectionState
	// Mechanism is how the credentials were presented: "USER" for USER/PASS,
	// or the SASL mechanism name ("PLAIN").
	Mechanism string
	// Session is the server's number for this connection, the same as in its logs.
	Session uint64
}

// Backend checks credentials and opens maildrops. It is the only way in from the
// protocol to storage.
type Backend interface {
	// Login checks the credentials and, on success, returns the maildrop, locked
	// for this session if the backend needs exclusive access (RFC 1939 section 8).
	//
	// Only an error that is (or wraps) an *Error is shown to the client; any other
	// error is logged and the client is told of a temporary failure, so that
	// internal details never leak onto the wire. Use ErrAuthFailed for bad
	// credentials and ErrInUse for a maildrop that is locked elsewhere.
	Login(ctx context.Context, conn ConnInfo, username, password string) (Mailbox, error)
}

// MessageInfo is one message of the maildrop snapshot.
type MessageInfo struct {
	// UID is the message's unique id for UIDL: 1 to 70 characters in 0x21..0x7E,
	// stable across sessions and never reused in this maildrop (RFC 1939 section 7).
	UID string
	// Size is the message size in octets. RFC 1939 asks for the size as sent,
	// which for a message stored with CRLF line ends is its stored size.
	Size int64
}

// Mailbox is one authenticated session's view of a maildrop.
type Mailbox interface {
	// Messages returns the snapshot taken at login. It is called once per session;
	// the message numbers the client sees are indexes into it plus one.
	Messages(ctx context.Context) ([]MessageInfo, error)
	// Open returns the exact stored bytes of the message with this UID. The
	// server dot-stuffs and turns bare LF into CRLF on the way out; nothing else
	// is changed, so signed mail (S/MIME, DKIM) still verifies after retrieval.
	Open(ctx context.Context, uid string) (io.ReadCloser, error)
	// Commit removes the messages marked deleted. It is called exactly once, on
	// QUIT in the TRANSACTION state (the UPDATE state), with the UIDs marked
	// deleted, possibly none. A session that ends any other way (dropped
	// connection, timeout, shutdown) never calls Commit, so nothing is removed.
	Commit(ctx context.Context, deleted []string) error
	// Close releases the maildrop (and its lock). It is called exactly once when
	// the session ends, after Commit if there was one.
	Close() error
}

// Error is an error whose text may be shown to the client after "-ERR ".
type Error struct {
	// Code is an RFC 2449 / RFC 3206 response code without brackets, such as
	// "AUTH", "IN-USE", "LOGIN-DELAY", "SYS/TEMP" or "SYS/PERM"; empty for none.
	Code string
	// Text is the human-readable text. It must not contain CR or LF; the server
	// replaces control characters anyway.
	Text string
	// Err is the cause, for logs only; it is never shown to the client.
	Err error
}

func (e *Error) Error() string {
	s := e.Text
	if e.Code != "" {
		s = "[" + e.Code + "] " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is match a wrapped copy of a sentinel by code and text, so that
// a backend may attach a cause (&Error{Code: "AUTH", ..., Err: cause}) and callers
// can still test errors.Is(err, ErrAuthFailed).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Text == e.Text
}

// Sentinel errors for backends to return from Login.
var (
	ErrAuthFailed = &Error{Code: "AUTH", Text: "authentication failed"}
	ErrInUse      = &Error{Code: "IN-USE", Text: "maildrop is in use by another session"}
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("pop3: server closed")
