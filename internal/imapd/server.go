// Package imapd is govmail's IMAP server (IMAP4rev1 and IMAP4rev2): a backend of
// go-imap v2's imapserver package, which owns the wire protocol. This package owns
// what the library leaves to a backend: the one in-process view of each open
// mailbox (its UID list and the imapserver.MailboxTracker that turns store changes
// into EXISTS, EXPUNGE and FETCH FLAGS updates with the right sequence numbers),
// feeding that view from the store's change feed so that SMTP deliveries, POP3
// deletions and other IMAP sessions reach every session, and mapping store and auth
// errors to IMAP response codes in one place (errors.go).
//
// It never decides who may log in (auth does), never parses a message body to
// answer FETCH ENVELOPE or BODYSTRUCTURE (mailparse did that once at delivery or
// APPEND), and never writes storage except through the store.
package imapd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"govmail/internal/auth"
	"govmail/internal/clock"
	"govmail/internal/store"
)

// DefaultAppendLimit is the largest APPEND accepted when Options.AppendLimit is
// zero: the maximum message size of R11.5 (25 MB as transmitted).
const DefaultAppendLimit = 26214400

// ErrServerClosed is returned by Serve and ServeTLS after Close.
var ErrServerClosed = errors.New("imapd: server closed")

// Options configure a Server. Store and Auth are required.
type Options struct {
	Store store.Store
	Auth  *auth.Service
	// Logger receives the server's logs; nil discards them. Passwords are never logged.
	Logger *slog.Logger
	// TLSConfig enables STARTTLS and ServeTLS. Without it no client can log in
	// unless InsecureAuth is set (N1: authentication only under TLS).
	TLSConfig *tls.Config
	// AppendLimit is the largest message APPEND accepts, advertised as
	// APPENDLIMIT=n; zero means DefaultAppendLimit.
	AppendLimit uint32
	// InsecureAuth lets clients log in without TLS. For tests only.
	InsecureAuth bool
	// Clock dates APPENDed messages that carry no date; nil means the wall clock.
	Clock clock.Clock
	// Learn, when set, is given each message a user moves or copies into Junk
	// (spam) or out of Junk to anywhere but Trash (ham), to teach the spam
	// filter (R4.2). It must not block.
	Learn func(raw []byte, spam bool)
	// Report, when set, is given each message a user moves or copies into the
	// "Báo cáo" folder (R13.1): the user reports it as suspicious.
	Report func(accountID int64, raw []byte)
}

// Server is an IMAP server over a store. Create it with New.
type Server struct {
	store       store.Store
	auth        *auth.Service
	log         *slog.Logger
	clock       clock.Clock
	appendLimit uint32
	learn       func(raw []byte, spam bool)
	report      func(accountID int64, raw []byte)
	tlsConfig   *tls.Config
	imap        *imapserver.Server
	boxes       *registry
	corkPool    *sync.Pool

	// ctx is the context of every store call; Close cancels it so that nothing
	// waits on the store after the server is gone. The library gives commands no
	// context of their own.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	live     map[*session]struct{} // logged-in sessions, for onAccess
	unlisten func()
	sessions sync.WaitGroup // counted under mu, so that Close's Wait never races an Add

	closeOnce sync.Once
	closeErr  error
}

// New returns a server; it starts listening to the store's change feed at once,
// so that mailboxes opened later are kept current from their first SELECT.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Auth == nil {
		return nil, errors.New("imapd: Options.Store and Options.Auth are required")
	}
	s := &Server{
		store:       opts.Store,
		auth:        opts.Auth,
		log:         opts.Logger,
		clock:       opts.Clock,
		appendLimit: opts.AppendLimit,
		learn:       opts.Learn,
		report:      opts.Report,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.appendLimit == 0 {
		s.appendLimit = DefaultAppendLimit
	}
	if opts.TLSConfig != nil {
		// N1: TLS 1.2 or newer on every listener, whatever the caller forgot.
		s.tlsConfig = opts.TLSConfig.Clone()
		if s.tlsConfig.MinVersion < tls.VersionTLS12 {
			s.tlsConfig.MinVersion = tls.VersionTLS12
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.boxes = newRegistry(s.store, s.log)
	s.live = map[*session]struct{}{}
	s.unlisten = s.store.Listen(s.onAccess)
	s.corkPool = newCorkPool()
	s.imap = imapserver.New(&imapserver.Options{
		NewSession:   s.newSession,
		Caps:         capabilities(),
		Logger:       printfLogger{s.log},
		TLSConfig:    s.tlsConfig,
		InsecureAuth: opts.InsecureAuth,
	})
	return s, nil
}

// capabilities are what the backend implements beyond what imapserver always
// offers (UNSELECT, IDLE, ENABLE, UTF8=ACCEPT, SASL-IR, LITERAL-, and
// APPENDLIMIT=n through session.AppendLimit). The IMAP4rev2 parts are listed too
// because imapserver advertises them to IMAP4rev1 clients only when listed.
func capabilities() imap.CapSet {
	return imap.CapSet{
		imap.CapIMAP4rev1:        {},
		imap.CapIMAP4rev2:        {},
		imap.CapLiteralPlus:      {},
		imap.CapNamespace:        {},
		imap.CapUIDPlus:          {},
		imap.CapESearch:          {},
		imap.CapSearchRes:        {},
		imap.CapListExtended:     {},
		imap.CapListStatus:       {},
		imap.CapMove:             {},
		imap.CapStatusSize:       {},
		imap.CapBinary:           {},
		imap.CapChildren:         {},
		imap.CapSpecialUse:       {},
		imap.CapCreateSpecialUse: {},
	}
}

// Serve serves IMAP on ln: STARTTLS (port 143) on a plain listener, implicit TLS
// (port 993) when ln yields *tls.Conn (a tls.NewListener). It returns
// ErrServerClosed after Close.
func (s *Server) Serve(ln net.Listener) error {
	if s.isClosed() {
		ln.Close()
		return ErrServerClosed
	}
	err := s.imap.Serve(corkListener{Listener: ln, pool: s.corkPool})
	if s.isClosed() {
		return ErrServerClosed
	}
	if err != nil {
		return fmt.Errorf("imapd: %w", err)
	}
	return nil
}

// ServeTLS serves implicit TLS (IMAPS, port 993) on a plain listener with
// Options.TLSConfig.
func (s *Server) ServeTLS(ln net.Listener) error {
	if s.tlsConfig == nil {
		ln.Close()
		return errors.New("imapd: ServeTLS needs Options.TLSConfig")
	}
	// The corkConn goes under TLS, where it can batch the records' writes.
	return s.Serve(tls.NewListener(corkListener{Listener: ln, pool: s.corkPool}, s.tlsConfig))
}

// Close closes the listeners and every connection at once (go-imap has no
// graceful shutdown), waits until every session has let go of its mailbox, and
// stops following the store. It does not close the store.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.closeErr = s.imap.Close()
		s.sessions.Wait()
		s.unlisten()
		s.boxes.stop()
	})
	return s.closeErr
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// newSession is imapserver's NewSession hook, called in the connection's goroutine.
func (s *Server) newSession(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		// A connection accepted just before Close may reach here after the
		// library closed the connections it knew about.
		return nil, nil, &imap.Error{Type: imap.StatusResponseTypeBye, Text: "Server shutting down"}
	}
	s.sessions.Add(1)
	s.mu.Unlock()
	ip := ""
	if ta, ok := c.NetConn().RemoteAddr().(*net.TCPAddr); ok {
		ip = ta.IP.String()
	}
	return &session{srv: s, conn: c, remoteIP: ip, cork: corkOf(c.NetConn())}, nil, nil
}

// printfLogger routes imapserver's Printf logging (panics, broken connections,
// internal errors) into slog.
type printfLogger struct{ log *slog.Logger }

func (l printfLogger) Printf(format string, args ...any) {
	msg := "imapserver: " + fmt.Sprintf(format, args...)
	switch {
	case strings.HasPrefix(format, "panic"):
		l.log.Error(msg)
	case strings.HasPrefix(format, "failed to read command"):
		// A client that drops the connection without LOGOUT: routine.
		l.log.Debug(msg)
	default:
		l.log.Warn(msg)
	}
}
