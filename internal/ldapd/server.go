// Package ldapd owns the directory of LDAP v3 (N3, R14.4): a read-only
// address book of the province's units and active accounts for Thunderbird,
// Outlook and other LDAP clients, searchable by name with or without
// diacritics and by address, for clients bound with their mail credentials
// over TLS. It asks auth for every bind decision and the store for every
// entry; it never writes anything and never decides who may log in.
//
// The protocol layer is ours (bind, search, unbind, abandon, StartTLS and
// Who am I?; every write refused) over the BER codec of
// github.com/go-asn1-ber/asn1-ber. The Go LDAP server package we looked at,
// github.com/vjeantet/ldapserver v1.0.1, cannot face a network: a first byte
// other than 0x30 panics outside any recover (one stray byte ends govmail),
// a 6-byte header makes it allocate up to 2 GB, an Accept error dereferences
// a nil connection, and a package-level logger prints every packet, bind
// passwords included, to stdout.
package ldapd

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"

	"govmail/internal/auth"
	"govmail/internal/store"
)

// Directory is what the server reads from the store; store.Store has it.
type Directory interface {
	ListUnits(ctx context.Context) ([]store.Unit, error)
	ListAccounts(ctx context.Context, f store.AccountFilter) ([]store.Account, error)
	AccountByAddress(ctx context.Context, address string) (*store.Account, error)
}

// Authenticator decides binds; *auth.Service is one, so throttling, locked
// accounts and forced password changes apply to LDAP as to every protocol.
type Authenticator interface {
	Login(ctx context.Context, r auth.Request) (*store.Account, error)
}

// Options configure a Server.
type Options struct {
	Store     Directory
	Auth      Authenticator
	Logger    *slog.Logger
	TLSConfig *tls.Config // for ServeTLS and StartTLS; without it no bind can succeed (N1)
	// BaseDN is the naming context; default "dc=sonla,dc=gov,dc=vn".
	BaseDN string
	// Domain is the mail domain of unit addresses (unit local part @ Domain);
	// empty leaves mail out of unit entries.
	Domain string
	// MaxResults bounds the entries of one search (default 500): an address
	// book shows what it is asked for, never the province in one answer.
	MaxResults int
	// MaxScan bounds the accounts one search reads from the store (default
	// 50000, five times the province).
	MaxScan int
	// MaxConns bounds open connections (default 1000).
	MaxConns int
	// MaxSearches bounds searches reading the store at once (default 8): each
	// may hold the whole directory in memory.
	MaxSearches int
	// IdleTimeout closes a connection that sends nothing (default 5 minutes).
	IdleTimeout time.Duration
}

// DefaultBaseDN is the naming context of Sơn La's directory.
const DefaultBaseDN = "dc=sonla,dc=gov,dc=vn"

const (
	handshakeTimeout = 30 * time.Second
	writeTimeout     = 30 * time.Second
	maxTimeLimit     = 60 * time.Second // a search never runs longer, whatever the client asks
)

// ErrServerClosed is returned by Serve and ServeTLS after Close. It wraps
// net.ErrClosed, which callers already treat as an orderly stop.
var ErrServerClosed = fmt.Errorf("ldapd: server closed: %w", net.ErrClosed)

// Server is the LDAP server.
type Server struct {
	opts     Options
	log      *slog.Logger
	base     []rdn
	baseDN   string
	unitsDN  string
	peopleDN string
	ctx      context.Context
	cancel   context.CancelFunc
	searches chan struct{}

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup
}

// New builds a server.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Auth == nil {
		return nil, errors.New("ldapd: Store and Auth are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BaseDN == "" {
		opts.BaseDN = DefaultBaseDN
	}
	if opts.MaxResults <= 0 {
		opts.MaxResults = 500
	}
	if opts.MaxScan <= 0 {
		opts.MaxScan = 50000
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 1000
	}
	if opts.MaxSearches <= 0 {
		opts.MaxSearches = 8
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 5 * time.Minute
	}
	base, err := parseDN(opts.BaseDN)
	if err != nil || len(base) == 0 {
		return nil, fmt.Errorf("ldapd: base DN %q: %w", opts.BaseDN, errInvalidDN)
	}
	opts.Domain = strings.ToLower(opts.Domain)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts: opts, log: opts.Logger, base: base, baseDN: formatDN(base),
		ctx: ctx, cancel: cancel,
		searches:  make(chan struct{}, opts.MaxSearches),
		listeners: map[net.Listener]struct{}{},
		conns:     map[net.Conn]struct{}{},
	}
	s.unitsDN = formatDN(append([]rdn{unitsRDN()}, base...))
	s.peopleDN = formatDN(append([]rdn{peopleRDN()}, base...))
	return s, nil
}

// Serve answers plain LDAP on ln; clients protect it with StartTLS before
// binding. It returns ErrServerClosed after Close.
func (s *Server) Serve(ln net.Listener) error { return s.serve(ln, false) }

// ServeTLS answers LDAPS (TLS from the first byte) on ln.
func (s *Server) ServeTLS(ln net.Listener) error {
	if s.opts.TLSConfig == nil {
		return errors.New("ldapd: ServeTLS without a TLS configuration")
	}
	return s.serve(ln, true)
}

func (s *Server) serve(ln net.Listener, implicitTLS bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("ldapd: accept: %w", err)
			}
			// Out of file descriptors or an aborted handshake: wait and go
			// on, as net/http does, rather than stop the directory.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
			case <-s.ctx.Done():
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		if !s.track(c) {
			c.Close()
			continue
		}
		go s.handle(c, implicitTLS)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track registers a connection, unless the server is closing or full.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if len(s.conns) >= s.opts.MaxConns {
		s.log.Warn("connection refused: too many connections", "remote", c.RemoteAddr().String(), "max", s.opts.MaxConns)
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

// Close stops every listener and connection and waits for the sessions.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var errs []error
	for ln := range s.listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return errors.Join(errs...)
}

// session is one client connection.
type session struct {
	srv      *Server
	conn     net.Conn // the TLS connection once TLS is on
	br       *bufio.Reader
	bw       *bufio.Writer
	tls      bool
	remoteIP string
	log      *slog.Logger
	bound    *store.Account // nil: anonymous
	boundDN  string
}

func (s *Server) handle(raw net.Conn, implicitTLS bool) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, raw)
		s.mu.Unlock()
		raw.Close()
	}()
	ip := raw.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	ss := &session{srv: s, conn: raw, remoteIP: ip, log: s.log.With("remote", ip)}
	// A bug met by one client's request must not end the mail system for the
	// province: the session ends, the process goes on.
	defer func() {
		if r := recover(); r != nil {
			ss.log.Error("ldap session panic", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if implicitTLS {
		if err := ss.startTLS(s.ctx); err != nil {
			ss.log.Debug("ldaps handshake failed", "err", err)
			return
		}
	} else {
		ss.br, ss.bw = bufio.NewReader(raw), bufio.NewWriter(raw)
	}
	ss.run(s.ctx)
}

// startTLS turns the connection into TLS.
func (ss *session) startTLS(ctx context.Context) error {
	tc := tls.Server(ss.conn, ss.srv.opts.TLSConfig)
	tc.SetDeadline(time.Now().Add(handshakeTimeout))
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return fmt.Errorf("tls handshake: %w", err)
	}
	tc.SetDeadline(time.Time{})
	ss.conn, ss.tls = tc, true
	ss.br, ss.bw = bufio.NewReader(tc), bufio.NewWriter(tc)
	return nil
}

func (ss *session) run(ctx context.Context) {
	for {
		ss.conn.SetReadDeadline(time.Now().Add(ss.srv.opts.IdleTimeout))
		frame, err := readFrame(ss.br, maxRequestBytes)
		if err != nil {
			if errors.Is(err, errProtocol) {
				ss.log.Info("ldap protocol error", "err", err)
				ss.disconnect(err)
			}
			return
		}
		m, err := decodeMessage(frame)
		if err != nil {
			ss.log.Info("ldap protocol error", "err", err)
			ss.disconnect(err)
			return
		}
		if !ss.dispatch(ctx, m) {
			return
		}
		if err := ss.bw.Flush(); err != nil {
			return
		}
	}
}

// disconnect sends the Notice of Disconnection of RFC 4511 4.4.1 before the
// session ends on a request it could not read.
func (ss *session) disconnect(err error) {
	ss.send(0, extendedResult(resultProtocolError, err.Error(), oidNoticeOfDisconnection, ""))
	ss.bw.Flush()
}

func (ss *session) send(id int64, op *ber.Packet) error {
	ss.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := ss.bw.Write(envelope(id, op))
	return err
}

// dispatch answers one request; false ends the session.
func (ss *session) dispatch(ctx context.Context, m *message) bool {
	var respTag ber.Tag
	switch op := m.op.(type) {
	case unbindRequest:
		return false
	case abandonRequest:
		// Requests run one at a time, so the one to abandon has been answered.
		return true
	case *bindRequest:
		respTag = appBindResponse
	case *searchRequest:
		respTag = appSearchResultDone
	case *extendedRequest:
		respTag = appExtendedResponse
	case writeRequest:
		respTag = op.respTag
	}
	for _, c := range m.controls {
		if c.critical {
			// RFC 4511 4.1.11: a critical control we do not know refuses the operation.
			return ss.send(m.id, result(respTag, resultUnavailableCriticalExt, "", "unsupported critical control "+c.oid)) == nil
		}
	}
	switch op := m.op.(type) {
	case *bindRequest:
		return ss.send(m.id, ss.bind(ctx, op)) == nil
	case *searchRequest:
		return ss.search(ctx, m.id, op) == nil
	case *extendedRequest:
		return ss.extended(ctx, m.id, op)
	case writeRequest:
		return ss.send(m.id, result(op.respTag, resultUnwillingToPerform, "",
			"Danh bạ chỉ cho phép tra cứu. / The directory is read-only.")) == nil
	}
	return false
}

// bind answers a bind request (RFC 4513).
func (ss *session) bind(ctx context.Context, r *bindRequest) *ber.Packet {
	// A bind starts anew whatever its outcome (RFC 4511 4.2.1).
	ss.bound, ss.boundDN = nil, ""
	res := func(code int, diag string) *ber.Packet { return result(appBindResponse, code, "", diag) }
	if r.version != 3 {
		return res(resultProtocolError, "only LDAP version 3 is supported")
	}
	if !r.simple {
		return res(resultAuthMethodNotSupported, "Chỉ hỗ trợ simple bind. / Only simple bind is supported.")
	}
	if r.password == "" {
		if r.name == "" {
			return res(resultSuccess, "") // anonymous: the root DSE only
		}
		// An "unauthenticated bind" (RFC 4513 5.1.2) would look like a
		// successful login to careless applications.
		return res(resultUnwillingToPerform, "Thiếu mật khẩu. / Unauthenticated bind refused.")
	}
	if !ss.tls {
		// N1: credentials only under TLS.
		return res(resultConfidentialityRequired, "Hãy dùng StartTLS hoặc LDAPS trước khi đăng nhập. / Use StartTLS or LDAPS before binding.")
	}
	user, ok := ss.srv.bindUser(r.name)
	if !ok {
		ss.log.Info("ldap bind refused: name not in the directory", "name", r.name)
		return res(resultInvalidCredentials, "Sai địa chỉ thư hoặc mật khẩu. / Wrong address or password.")
	}
	acc, err := ss.srv.opts.Auth.Login(ctx, auth.Request{Proto: "ldap", Username: user, Password: r.password, RemoteIP: ss.remoteIP})
	if err != nil {
		var ae *auth.Error
		switch {
		case errors.Is(err, auth.ErrThrottled):
			return res(resultUnwillingToPerform, err.Error())
		case errors.As(err, &ae):
			// Wrong password, locked account, password to change: the person
			// reads why in the client's error box.
			return res(resultInvalidCredentials, ae.Error())
		}
		ss.log.Error("ldap bind failed", "user", user, "err", err)
		return res(resultOther, "Lỗi máy chủ, vui lòng thử lại. / Server error, try again.")
	}
	ss.bound, ss.boundDN = acc, ss.srv.personDN(acc.Address)
	ss.log.Debug("ldap bind", "user", acc.Address)
	return res(resultSuccess, "")
}

// bindUser reads the login name from a bind name: the mail address itself, or
// a DN whose first RDN is uid= or mail= the address (optionally under
// ou=people and the base DN). A bare local part gets the domain.
func (s *Server) bindUser(name string) (string, bool) {
	name = strings.TrimSpace(name)
	if !strings.Contains(name, "=") {
		return s.address(name)
	}
	rdns, err := parseDN(name)
	if err != nil || len(rdns) == 0 || (rdns[0].typ != "uid" && rdns[0].typ != "mail") {
		return "", false
	}
	rest := rdns[1:]
	ok := len(rest) == 0 ||
		len(rest) == len(s.base) && hasSuffix(rest, s.base) ||
		len(rest) == len(s.base)+1 && rest[0] == peopleRDN() && hasSuffix(rest, s.base)
	if !ok {
		return "", false
	}
	return s.address(rdns[0].val)
}

func (s *Server) address(v string) (string, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" || strings.ContainsAny(v, " ,") {
		return "", false
	}
	if !strings.Contains(v, "@") {
		if s.opts.Domain == "" {
			return "", false
		}
		v += "@" + s.opts.Domain
	}
	return v, true
}

// extended answers an extended request; false ends the session.
func (ss *session) extended(ctx context.Context, id int64, r *extendedRequest) bool {
	switch r.oid {
	case oidStartTLS:
		switch {
		case ss.tls:
			return ss.send(id, extendedResult(resultOperationsError, "TLS is already on", oidStartTLS, "")) == nil
		case ss.srv.opts.TLSConfig == nil:
			return ss.send(id, extendedResult(resultUnavailable, "TLS is not configured", oidStartTLS, "")) == nil
		case ss.br.Buffered() > 0:
			// RFC 4511 4.14.1: nothing may follow StartTLS before its
			// response; bytes that did would be read as plain text inside TLS.
			ss.disconnect(protoErr("data after StartTLS"))
			return false
		}
		if ss.send(id, extendedResult(resultSuccess, "", oidStartTLS, "")) != nil || ss.bw.Flush() != nil {
			return false
		}
		if err := ss.startTLS(ctx); err != nil {
			ss.log.Debug("starttls handshake failed", "err", err)
			return false
		}
		return true
	case oidWhoAmI:
		authz := ""
		if ss.bound != nil {
			authz = "dn:" + ss.boundDN
		}
		return ss.send(id, extendedResult(resultSuccess, "", "", authz)) == nil
	case oidPasswordModify:
		return ss.send(id, extendedResult(resultUnwillingToPerform,
			"Đổi mật khẩu trong webmail. / Change the password in webmail.", "", "")) == nil
	}
	// RFC 4511 4.12: an unrecognised request name gets protocolError.
	return ss.send(id, extendedResult(resultProtocolError, "unsupported extended operation "+r.oid, "", "")) == nil
}
