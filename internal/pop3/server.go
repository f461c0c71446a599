// Package pop3 is govmail's POP3 server protocol layer: RFC 1939 with CAPA and
// response codes (RFC 2449, RFC 3206), STLS (RFC 2595) and SASL AUTH PLAIN
// (RFC 5034). It owns the wire: parsing commands, the AUTHORIZATION,
// TRANSACTION and UPDATE states, deleted marks, dot-stuffing, timeouts and
// limits. It never touches storage and never decides who may log in: both are
// the Backend's, reached through the interfaces in backend.go.
//
// No well-kept Go POP3 server library exists (see LIBRARIES.md), so this package
// is small, strict about its limits, and fuzzed (FuzzSession).
package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero values of Server's limits.
const (
	// RFC 1939 section 3: the inactivity autologout timer must be at least 10 minutes.
	DefaultIdleTimeout = 10 * time.Minute
	// A client that cannot take one buffer of output in this time is gone.
	DefaultWriteTimeout = time.Minute
	// RFC 2449 limits commands to 255 octets, but a SASL PLAIN response with a
	// long password is longer (RFC 5034 lifts the limit for AUTH); 2048 holds any
	// sane credentials while bounding what one line may cost us.
	DefaultMaxLineLength = 2048
	// Enough for a confused client to recover, few enough to stop a scanner or a
	// password guesser on one connection.
	DefaultMaxErrors = 10
)

// Server is a POP3 server. Set the fields before calling Serve; they must not
// change afterwards. The zero value of each limit selects its default.
type Server struct {
	// Backend checks credentials and opens maildrops. Required.
	Backend Backend
	// Hostname is named in the greeting and sign-off. Optional.
	Hostname string
	// TLSConfig enables STLS and ServeTLS. Nil means no TLS at all.
	TLSConfig *tls.Config
	// Logger receives the server's structured logs; nil discards them.
	// Passwords and SASL responses are never logged.
	Logger *slog.Logger
	// AllowInsecureAuth permits USER/PASS and AUTH on a connection without TLS.
	// Off by default: credentials must not cross the network in clear.
	AllowInsecureAuth bool
	// IdleTimeout is how long the server waits for the next command line (and
	// for a TLS handshake). RFC 1939 requires at least 10 minutes, the default;
	// shorter values are for tests.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to a client that does not read.
	WriteTimeout time.Duration
	// MaxLineLength is the longest command line accepted, CRLF included.
	MaxLineLength int
	// MaxErrors is how many -ERR replies a connection may earn before it is closed.
	MaxErrors int
	// MaxConnections caps concurrent sessions; 0 means no cap. Connections over
	// the cap get "-ERR [SYS/TEMP]" and are closed.
	MaxConnections int
	// Expire, when not empty, is advertised as the CAPA EXPIRE value (RFC 2449
	// section 6.7), e.g. "NEVER". The server cannot know the retention policy
	// of the store, so it says nothing unless told.
	Expire string

	initOnce sync.Once
	ctx      context.Context // parent of every session's context
	cancel   context.CancelFunc

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	wg        sync.WaitGroup // sessions and rejecters in flight

	shuttingDown atomic.Bool
	nextID       atomic.Uint64
}

func (srv *Server) init() {
	srv.initOnce.Do(func() {
		srv.ctx, srv.cancel = context.WithCancel(context.Background())
		srv.listeners = make(map[net.Listener]struct{})
		srv.sessions = make(map[*session]struct{})
	})
}

func (srv *Server) logger() *slog.Logger {
	if srv.Logger != nil {
		return srv.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (srv *Server) idleTimeout() time.Duration {
	if srv.IdleTimeout > 0 {
		return srv.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (srv *Server) writeTimeout() time.Duration {
	if srv.WriteTimeout > 0 {
		return srv.WriteTimeout
	}
	return DefaultWriteTimeout
}

func (srv *Server) maxLineLength() int {
	if srv.MaxLineLength > 0 {
		// bufio's minimum; a shorter line limit would make no sense anyway.
		return max(srv.MaxLineLength, 16)
	}
	return DefaultMaxLineLength
}

func (srv *Server) maxErrors() int {
	if srv.MaxErrors > 0 {
		return srv.MaxErrors
	}
	return DefaultMaxErrors
}

// Serve accepts connections on ln and serves each in its own goroutine until
// Shutdown or Close, when it returns ErrServerClosed. Connections that are
// already *tls.Conn (ln made by tls.NewListener) are served as implicit TLS.
func (srv *Server) Serve(ln net.Listener) error {
	return srv.serve(ln, false)
}

// ServeTLS serves implicit TLS (POP3S, port 995) on a plain listener, using
// TLSConfig. The handshake runs in the connection's goroutine, under the idle
// timeout, so a slow handshake never blocks Accept.
func (srv *Server) ServeTLS(ln net.Listener) error {
	if srv.TLSConfig == nil {
		ln.Close()
		return errors.New("pop3: ServeTLS needs a TLSConfig")
	}
	return srv.serve(ln, true)
}

func (srv *Server) serve(ln net.Listener, implicitTLS bool) error {
	if srv.Backend == nil {
		ln.Close()
		return errors.New("pop3: Server.Backend is nil")
	}
	srv.init()
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	srv.listeners[ln] = struct{}{}
	srv.mu.Unlock()
	defer func() {
		srv.mu.Lock()
		delete(srv.listeners, ln)
		srv.mu.Unlock()
		ln.Close()
	}()

	log := srv.logger()
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if srv.isClosed() {
				return ErrServerClosed
			}
			// Out of file descriptors and the like pass; back off as net/http
			// does instead of spinning or giving up on the listener.
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				log.Warn("pop3 accept failed; retrying", "err", err, "backoff", backoff)
				t := time.NewTimer(backoff)
				select {
				case <-t.C:
				case <-srv.ctx.Done():
					t.Stop()
				}
				continue
			}
			return fmt.Errorf("pop3: accept: %w", err)
		}
		backoff = 0
		srv.startSession(conn, implicitTLS)
	}
}

// startSession registers the connection and starts its goroutine, or refuses it.
func (srv *Server) startSession(conn net.Conn, implicitTLS bool) {
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		conn.Close()
		return
	}
	if srv.MaxConnections > 0 && len(srv.sessions) >= srv.MaxConnections {
		srv.wg.Add(1)
		srv.mu.Unlock()
		// Tell the client why (RFC 3206 SYS/TEMP: try again later) without
		// holding up Accept; the short deadline bounds how long a refused
		// connection can cost us.
		go func() {
			defer srv.wg.Done()
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(2 * time.Second))
			var w net.Conn = conn
			if implicitTLS {
				w = tls.Server(conn, srv.TLSConfig)
			}
			w.Write([]byte("-ERR [SYS/TEMP] too many connections, try again later\r\n"))
		}()
		srv.logger().Warn("pop3 connection refused: too many connections",
			"remote", conn.RemoteAddr().String(), "max", srv.MaxConnections)
		return
	}
	s := newSession(srv, conn, implicitTLS)
	srv.sessions[s] = struct{}{}
	srv.wg.Add(1)
	srv.mu.Unlock()
	go func() {
		defer srv.wg.Done()
		defer func() {
			srv.mu.Lock()
			delete(srv.sessions, s)
			srv.mu.Unlock()
		}()
		s.serve()
	}()
}

func (srv *Server) isClosed() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.closed
}

// closeListeners stops accepting, for good.
func (srv *Server) closeListeners() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.closed = true
	for ln := range srv.listeners {
		ln.Close()
	}
}

// Shutdown stops accepting connections and lets sessions end on their own
// terms: a session that is waiting for a command is told "-ERR [SYS/TEMP]" and
// closed without entering UPDATE (so nothing is deleted), one that is running a
// command (a RETR, a QUIT's commit) finishes it and any commands the client had
// already pipelined. If ctx ends first, Shutdown closes what remains, as Close
// does, and returns ctx's error.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.init()
	srv.shuttingDown.Store(true)
	srv.closeListeners()

	srv.mu.Lock()
	for s := range srv.sessions {
		s.interrupt()
	}
	srv.mu.Unlock()

	done := make(chan struct{})
	go func() {
		// No Add can happen any more: closeListeners set closed under mu.
		srv.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		srv.cancel()
		return nil
	case <-ctx.Done():
		srv.Close()
		return ctx.Err()
	}
}

// Close stops accepting, cancels every session's context and closes every
// connection at once. Sessions end without UPDATE, so nothing is deleted.
// Like http.Server.Close it does not wait for the session goroutines: one stuck
// in a backend call that ignores its context must not hold up the process.
func (srv *Server) Close() error {
	srv.init()
	srv.shuttingDown.Store(true)
	srv.closeListeners()
	srv.cancel()
	srv.mu.Lock()
	for s := range srv.sessions {
		s.raw.Close()
	}
	srv.mu.Unlock()
	return nil
}
