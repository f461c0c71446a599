// Package sasllogin owns the server side of the SASL LOGIN mechanism
// (draft-murchison-sasl-login), which Outlook-era clients use for AUTH LOGIN in
// SMTP and IMAP. github.com/emersion/go-sasl has only a LOGIN client, so this
// package supplies the server; *Server satisfies go-sasl's sasl.Server interface
// (Next(response []byte) (challenge []byte, done bool, err error)) and is handed
// to go-smtp and go-imap as one.
//
// The exchange: the server challenges "Username:", the client answers with the
// user name; the server challenges "Password:", the client answers with the
// password; the server verifies both through the Authenticator. A client may send
// the user name as the initial response (AUTH LOGIN dXNlcg==), and then the first
// challenge is "Password:". Challenges and responses are raw bytes here; the
// protocol layers base64 them.
//
// What it never does: verify a password itself, throttle, or log. The
// Authenticator does those (it calls the throttle and the directory), so that
// LOGIN, PLAIN and every protocol share one path. LOGIN sends the password in
// clear text: protocol layers offer it only over TLS.
package sasllogin

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Mechanism is the SASL name of the mechanism.
const Mechanism = "LOGIN"

// The challenges. The draft suggests "User Name" and "Password"; every server in
// use sends these, and clients (go-sasl's among them) compare them literally.
const (
	UsernameChallenge = "Username:"
	PasswordChallenge = "Password:"
)

// MaxLen bounds the user name and the password, in bytes. Protocol layers bound
// their lines too; this keeps the mechanism safe on its own.
const MaxLen = 1024

var (
	// ErrMalformed is wrapped by the error for a user name or password that
	// cannot be a credential: an empty user name, a NUL byte, invalid UTF-8, or
	// more than MaxLen bytes. The Authenticator is not called.
	ErrMalformed = errors.New("sasllogin: malformed response")
	// ErrUnexpectedResponse is returned when Next is called after the exchange
	// has ended.
	ErrUnexpectedResponse = errors.New("sasllogin: unexpected client response")
)

// Authenticator verifies a user name and password. Its error is returned by Next
// unchanged (not wrapped), so that a protocol-typed error such as an
// *smtp.SMTPError or an *imap.Error reaches the protocol library, which for
// go-smtp matters because it does not unwrap.
type Authenticator func(username, password string) error

// Server is one LOGIN exchange. It is not safe for concurrent use; a protocol
// layer makes one per AUTH command.
type Server struct {
	auth     Authenticator
	state    state
	username string
}

type state uint8

const (
	stateStart state = iota
	stateUsername
	statePassword
	stateDone
)

// NewServer returns a Server that verifies credentials with auth.
func NewServer(auth Authenticator) *Server {
	return &Server{auth: auth}
}

// Next implements sasl.Server. response is nil when the client sent no initial
// response. An empty initial response ("AUTH LOGIN =") is taken as none, as
// Dovecot does, rather than as an empty user name.
//
// Errors end the exchange. Those wrapping ErrMalformed or being
// ErrUnexpectedResponse come from this package and carry no protocol reply
// code; a protocol layer that wants its own reply for them wraps Next and maps
// them with errors.Is. Any other error is the Authenticator's own.
func (s *Server) Next(response []byte) (challenge []byte, done bool, err error) {
	switch s.state {
	case stateStart:
		if len(response) == 0 {
			s.state = stateUsername
			return []byte(UsernameChallenge), false, nil
		}
		fallthrough
	case stateUsername:
		u, err := field("user name", response)
		if err == nil && u == "" {
			err = fmt.Errorf("%w: empty user name", ErrMalformed)
		}
		if err != nil {
			s.state = stateDone
			return nil, true, err
		}
		s.username = u
		s.state = statePassword
		return []byte(PasswordChallenge), false, nil
	case statePassword:
		s.state = stateDone
		p, err := field("password", response)
		if err != nil {
			return nil, true, err
		}
		if s.auth == nil {
			return nil, true, errors.New("sasllogin: no authenticator")
		}
		return nil, true, s.auth(s.username, p)
	default:
		return nil, true, ErrUnexpectedResponse
	}
}

// field checks one response. It rejects NUL because PLAIN cannot carry it, so a
// credential with NUL would work with one mechanism and not the other, and
// invalid UTF-8 because names and passwords are stored as UTF-8 (Điều 3.3).
func field(name string, b []byte) (string, error) {
	switch {
	case len(b) > MaxLen:
		return "", fmt.Errorf("%w: %s longer than %d bytes", ErrMalformed, name, MaxLen)
	case !utf8.Valid(b):
		return "", fmt.Errorf("%w: %s is not UTF-8", ErrMalformed, name)
	case bytes.IndexByte(b, 0) >= 0:
		return "", fmt.Errorf("%w: %s contains NUL", ErrMalformed, name)
	}
	return string(b), nil
}
