package pop3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
)

type state int

const (
	stateAuthorization state = iota
	stateTransaction
)

// writeChunk bounds one write under one deadline, so that WriteTimeout means
// "the client took nothing for this long", not "a large message took long".
const writeChunk = 32 << 10

// maxSASLRounds bounds an AUTH exchange; PLAIN needs at most two.
const maxSASLRounds = 4

// maxReplyText keeps a reply line well under RFC 2449's 512 octets.
const maxReplyText = 400

var errLineTooLong = errors.New("pop3: line too long")

// session is one connection. It is used by its own goroutine only, except for
// interrupt, which Shutdown calls.
type session struct {
	srv    *Server
	id     uint64
	log    *slog.Logger
	ctx    context.Context // cancelled by Server.Close, ends backend calls
	cancel context.CancelFunc

	raw         net.Conn // the accepted connection: deadlines and Close go here
	conn        net.Conn // what is read and written: raw, or TLS over raw
	implicitTLS bool
	tlsState    *tls.ConnectionState
	br          *bufio.Reader
	bw          *bufio.Writer

	state    state
	user     string // from USER, waiting for PASS
	haveUser bool
	mbox     Mailbox
	msgs     []MessageInfo
	deleted  []bool
	errors   int
	closing  bool // end the session once the current reply is flushed
}

func newSession(srv *Server, conn net.Conn, implicitTLS bool) *session {
	s := &session{
		srv:         srv,
		id:          srv.nextID.Add(1),
		raw:         conn,
		conn:        conn,
		implicitTLS: implicitTLS,
	}
	s.ctx, s.cancel = context.WithCancel(srv.ctx)
	s.log = srv.logger().With("session", s.id, "remote", addrString(conn.RemoteAddr()))
	s.br = bufio.NewReaderSize(conn, srv.maxLineLength())
	s.bw = bufio.NewWriterSize(deadlineWriter{s}, writeChunk)
	return s
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// deadlineWriter renews the write deadline for every chunk, on the accepted
// connection, so it also covers the TLS records written over it.
type deadlineWriter struct{ s *session }

func (d deadlineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), writeChunk)]
		d.s.raw.SetWriteDeadline(time.Now().Add(d.s.srv.writeTimeout()))
		m, err := d.s.conn.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// interrupt wakes a session blocked waiting for a command, so that Shutdown need
// not wait out the idle timer. readLine re-checks shuttingDown after setting
// its own deadline, so the two cannot race into a 10-minute wait.
func (s *session) interrupt() {
	s.raw.SetReadDeadline(time.Now())
}

func (s *session) serve() {
	defer s.cleanup()
	// A panic anywhere in this connection, a backend's included, ends this
	// connection only. It is logged before the connection closes.
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("pop3 session panic", "panic", v, "stack", string(debug.Stack()))
		}
	}()

	s.log.Debug("pop3 connection opened", "local", addrString(s.raw.LocalAddr()))
	if s.implicitTLS {
		if !s.startTLS(tls.Server(s.raw, s.srv.TLSConfig)) {
			return
		}
	} else if tc, ok := s.raw.(*tls.Conn); ok {
		// A listener from tls.NewListener: handshake now, under our deadline,
		// so that Login sees the TLS state.
		if !s.startTLS(tc) {
			return
		}
	}

	greeting := "POP3 server ready"
	if s.srv.Hostname != "" {
		greeting = s.srv.Hostname + " " + greeting
	}
	s.ok(greeting)
	s.flush()

	for !s.closing {
		line, err := s.readLine()
		switch {
		case errors.Is(err, errLineTooLong):
			s.fail("", "line too long")
		case err != nil:
			s.readFailed(err)
		default:
			s.dispatch(line)
		}
		if s.errors >= s.srv.maxErrors() && !s.closing {
			s.log.Info("pop3 too many errors; closing", "errors", s.errors)
			s.writeLine("-ERR too many errors, closing connection")
			s.closing = true
		}
		// Replies to pipelined commands go out together (RFC 2449 PIPELINING);
		// flush before we could block on reading.
		if s.closing || s.br.Buffered() == 0 {
			s.flush()
		}
	}
	s.log.Debug("pop3 connection closed")
}

// cleanup releases the maildrop and the connection, whatever state the session
// ended in. It recovers on its own: it runs after serve's recover.
func (s *session) cleanup() {
	defer s.cancel()
	defer s.raw.Close()
	// Over TLS, closing the TLS connection sends close_notify first (bounded by
	// crypto/tls's own 5-second deadline), so the client sees a clean end.
	defer s.conn.Close()
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("pop3 session panic", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	if s.mbox != nil {
		if err := s.mbox.Close(); err != nil {
			s.log.Error("pop3 mailbox close failed", "err", err)
		}
	}
}

// startTLS runs the handshake and puts the session on the TLS connection.
func (s *session) startTLS(tc *tls.Conn) bool {
	s.raw.SetDeadline(time.Now().Add(s.srv.idleTimeout()))
	if s.srv.shuttingDown.Load() {
		// As in readLine: Shutdown may have interrupted us just before.
		s.raw.SetDeadline(time.Now())
	}
	if err := tc.HandshakeContext(s.ctx); err != nil {
		s.log.Info("pop3 TLS handshake failed", "err", err)
		return false
	}
	cs := tc.ConnectionState()
	s.tlsState = &cs
	s.conn = tc
	// Nothing read before the handshake may be used after it: the reader is
	// new, and STLS refused to start with bytes already buffered.
	s.br = bufio.NewReaderSize(tc, s.srv.maxLineLength())
	s.bw.Reset(deadlineWriter{s})
	s.log.Debug("pop3 TLS started", "version", tls.VersionName(cs.Version),
		"cipher", tls.CipherSuiteName(cs.CipherSuite))
	return true
}

// readLine reads one line without its line end, accepting bare LF as well as
// CRLF. A line longer than the limit is consumed and reported, never buffered.
func (s *session) readLine() (string, error) {
	s.raw.SetReadDeadline(time.Now().Add(s.srv.idleTimeout()))
	if s.srv.shuttingDown.Load() {
		// Serve what the client already sent, but do not wait for more.
		s.raw.SetReadDeadline(time.Now())
	}
	line, err := s.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = s.br.ReadSlice('\n')
		}
		if err != nil {
			return "", err
		}
		return "", errLineTooLong
	}
	if err != nil {
		return "", err
	}
	line = line[:len(line)-1]
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return string(line), nil
}

// readFailed ends the session after a failed read, telling the client why when
// the connection is still there.
func (s *session) readFailed(err error) {
	s.closing = true
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		s.log.Debug("pop3 read ended", "err", err)
		return
	}
	if s.srv.shuttingDown.Load() {
		s.writeLine("-ERR [SYS/TEMP] server shutting down, try again later")
		s.log.Info("pop3 session closed by shutdown")
		return
	}
	// RFC 1939 section 3: autologout does not enter UPDATE; nothing is removed.
	s.writeLine("-ERR autologout: idle for too long")
	s.log.Info("pop3 session idle timeout")
}

func (s *session) flush() {
	if err := s.bw.Flush(); err != nil {
		if !s.closing {
			s.log.Debug("pop3 write failed", "err", err)
		}
		s.closing = true
	}
}

func (s *session) writeLine(line string) {
	s.bw.WriteString(line)
	s.bw.WriteString("\r\n")
}

func (s *session) ok(text string) {
	if text == "" {
		s.writeLine("+OK")
		return
	}
	s.writeLine("+OK " + text)
}

// fail writes an -ERR reply with an optional RFC 2449 response code and counts
// it against MaxErrors.
func (s *session) fail(code, text string) {
	s.errors++
	text = sanitize(text)
	if code != "" {
		text = "[" + sanitize(code) + "] " + text
	}
	s.writeLine("-ERR " + text)
}

// sanitize keeps backend-supplied text on one reply line of bounded length.
func sanitize(text string) string {
	text = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, text)
	if len(text) > maxReplyText {
		text = strings.ToValidUTF8(text[:maxReplyText], "")
	}
	return text
}

func (s *session) dispatch(line string) {
	keyword, rest, _ := strings.Cut(line, " ")
	// Keywords are 3 or 4 characters (RFC 1939 section 3); anything longer is
	// unknown without looking further.
	if len(keyword) > 4 {
		s.fail("", "unknown command")
		return
	}
	keyword = strings.ToUpper(keyword)
	s.log.Debug("pop3 command", "cmd", keyword) // never the arguments: PASS, AUTH

	if keyword == "CAPA" {
		s.cmdCapa(rest)
		return
	}
	if keyword == "QUIT" {
		s.cmdQuit(rest)
		return
	}
	if s.state == stateAuthorization {
		switch keyword {
		case "USER":
			s.cmdUser(rest)
		case "PASS":
			s.cmdPass(rest)
		case "AUTH":
			s.cmdAuth(rest)
		case "STLS":
			s.cmdSTLS(rest)
		case "APOP":
			// APOP needs the plain-text password on the server; we keep none.
			s.fail("", "APOP not supported")
		case "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "NOOP", "RSET":
			s.fail("", "not logged in")
		default:
			s.fail("", "unknown command")
		}
		return
	}
	switch keyword {
	case "STAT":
		s.cmdStat(rest)
	case "LIST":
		s.cmdList(rest, false)
	case "UIDL":
		s.cmdList(rest, true)
	case "RETR":
		s.cmdRetr(rest)
	case "TOP":
		s.cmdTop(rest)
	case "DELE":
		s.cmdDele(rest)
	case "NOOP":
		if len(strings.Fields(rest)) != 0 {
			s.fail("", "NOOP takes no arguments")
			return
		}
		s.ok("")
	case "RSET":
		s.cmdRset(rest)
	case "USER", "PASS", "AUTH", "STLS", "APOP":
		s.fail("", "already logged in")
	default:
		s.fail("", "unknown command")
	}
}

// authAllowed: credentials only over TLS unless the operator chose otherwise.
func (s *session) authAllowed() bool {
	return s.srv.AllowInsecureAuth || s.tlsState != nil
}

func (s *session) canSTLS() bool {
	return s.srv.TLSConfig != nil && s.tlsState == nil
}

func (s *session) failTLSRequired() {
	if s.canSTLS() {
		s.fail("SYS/PERM", "TLS required: use STLS first")
		return
	}
	s.fail("SYS/PERM", "TLS required")
}

func (s *session) cmdCapa(rest string) {
	if len(strings.Fields(rest)) != 0 {
		s.fail("", "CAPA takes no arguments")
		return
	}
	s.ok("capability list follows")
	s.writeLine("TOP")
	s.writeLine("UIDL")
	s.writeLine("RESP-CODES")
	s.writeLine("AUTH-RESP-CODE")
	s.writeLine("PIPELINING")
	if s.state == stateAuthorization {
		// RFC 2595 section 4 / RFC 5034: do not invite credentials that we
		// would refuse; a client then knows to STLS first.
		if s.authAllowed() {
			s.writeLine("USER")
			s.writeLine("SASL PLAIN")
		}
		if s.canSTLS() {
			s.writeLine("STLS")
		}
	}
	if s.srv.Expire != "" {
		s.writeLine("EXPIRE " + sanitize(s.srv.Expire))
	}
	s.writeLine("IMPLEMENTATION govmail")
	s.writeLine(".")
}

func (s *session) cmdUser(rest string) {
	if !s.authAllowed() {
		s.failTLSRequired()
		return
	}
	name := strings.TrimSpace(rest)
	if name == "" {
		s.fail("", "USER needs a mailbox name")
		return
	}
	s.user, s.haveUser = name, true
	s.ok("send PASS")
}

func (s *session) cmdPass(rest string) {
	if !s.authAllowed() {
		s.failTLSRequired()
		return
	}
	if !s.haveUser {
		s.fail("", "send USER first")
		return
	}
	// The password is the rest of the line, spaces included (RFC 1939 section 7
	// allows servers to do so, and passwords do contain spaces).
	user := s.user
	s.user, s.haveUser = "", false
	if e := s.login("USER", user, rest); e != nil {
		s.fail(e.Code, e.Text)
		return
	}
	s.ok(s.summary())
}

func (s *session) cmdAuth(rest string) {
	if !s.authAllowed() {
		s.failTLSRequired()
		return
	}
	s.user, s.haveUser = "", false
	args := strings.Fields(rest)
	if len(args) == 0 {
		// Bare AUTH lists mechanisms (RFC 1734); some clients still probe so.
		s.ok("SASL mechanisms follow")
		s.writeLine(sasl.Plain)
		s.writeLine(".")
		return
	}
	if len(args) > 2 {
		s.fail("", "AUTH takes a mechanism and an optional initial response")
		return
	}
	if !strings.EqualFold(args[0], sasl.Plain) {
		s.fail("", "unsupported SASL mechanism")
		return
	}

	var loginErr *Error
	server := sasl.NewPlainServer(func(identity, username, password string) error {
		// We cannot act on behalf of another user: refuse rather than ignore.
		if identity != "" && identity != username {
			loginErr = &Error{Code: "AUTH", Text: "authorization identity not supported"}
			s.log.Info("pop3 login refused: authorization identity", "user", username)
			return loginErr
		}
		if e := s.login(sasl.Plain, username, password); e != nil {
			loginErr = e
			return e
		}
		return nil
	})

	var resp []byte // nil: no initial response, the mechanism asks
	if len(args) == 2 {
		var ok bool
		if resp, ok = decodeSASL(args[1]); !ok {
			s.fail("", "invalid base64 in initial response")
			return
		}
	}
	for round := 0; ; round++ {
		challenge, done, err := server.Next(resp)
		if err != nil {
			if loginErr != nil {
				s.fail(loginErr.Code, loginErr.Text)
				return
			}
			s.log.Info("pop3 SASL exchange failed", "err", err)
			s.fail("AUTH", "authentication failed")
			return
		}
		if done {
			s.ok(s.summary())
			return
		}
		if round >= maxSASLRounds {
			s.fail("", "SASL exchange too long")
			return
		}
		s.writeLine("+ " + base64.StdEncoding.EncodeToString(challenge))
		s.flush()
		if s.closing {
			return
		}
		line, err := s.readLine()
		if errors.Is(err, errLineTooLong) {
			s.fail("", "SASL response too long")
			return
		}
		if err != nil {
			s.readFailed(err)
			return
		}
		if line == "*" {
			s.fail("", "authentication cancelled")
			return
		}
		var ok bool
		if resp, ok = decodeSASL(line); !ok {
			s.fail("", "invalid base64 in SASL response")
			return
		}
	}
}

// decodeSASL decodes a response; "=" is an empty one (RFC 5034 section 4).
func decodeSASL(s string) ([]byte, bool) {
	if s == "=" {
		return []byte{}, true
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	if b == nil {
		b = []byte{}
	}
	return b, true
}

// login asks the backend and, on success, takes the snapshot and enters
// TRANSACTION. It returns the reply for a failure, already logged.
func (s *session) login(mech, user, password string) *Error {
	info := ConnInfo{
		RemoteAddr: s.raw.RemoteAddr(),
		LocalAddr:  s.raw.LocalAddr(),
		TLS:        s.tlsState,
		Mechanism:  mech,
		Session:    s.id,
	}
	mbox, err := s.srv.Backend.Login(s.ctx, info, user, password)
	if err == nil && mbox == nil {
		err = errors.New("backend returned no mailbox and no error")
	}
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			s.log.Info("pop3 login failed", "user", user, "mech", mech, "err", err)
			return pe
		}
		s.log.Error("pop3 login error", "user", user, "mech", mech, "err", err)
		return &Error{Code: "SYS/TEMP", Text: "temporary failure, try again later"}
	}
	msgs, err := mbox.Messages(s.ctx)
	if err == nil {
		err = checkSnapshot(msgs)
	}
	if err != nil {
		s.log.Error("pop3 maildrop unavailable", "user", user, "err", err)
		if cerr := mbox.Close(); cerr != nil {
			s.log.Error("pop3 mailbox close failed", "user", user, "err", cerr)
		}
		return &Error{Code: "SYS/TEMP", Text: "maildrop unavailable, try again later"}
	}
	s.mbox, s.msgs, s.deleted = mbox, msgs, make([]bool, len(msgs))
	s.state = stateTransaction
	s.log = s.log.With("user", user)
	s.log.Info("pop3 login", "mech", mech, "tls", s.tlsState != nil, "messages", len(msgs))
	return nil
}

// checkSnapshot refuses a snapshot that would break clients' UIDL caches:
// better no session than a client that deletes or re-downloads the wrong mail.
func checkSnapshot(msgs []MessageInfo) error {
	seen := make(map[string]struct{}, len(msgs))
	for i, m := range msgs {
		if len(m.UID) < 1 || len(m.UID) > 70 {
			return fmt.Errorf("message %d: UID length %d outside 1..70", i+1, len(m.UID))
		}
		for j := 0; j < len(m.UID); j++ {
			if c := m.UID[j]; c < 0x21 || c > 0x7e {
				return fmt.Errorf("message %d: UID has byte %#x outside 0x21..0x7E", i+1, c)
			}
		}
		if _, dup := seen[m.UID]; dup {
			return fmt.Errorf("message %d: duplicate UID %q", i+1, m.UID)
		}
		seen[m.UID] = struct{}{}
		if m.Size < 0 {
			return fmt.Errorf("message %d: negative size", i+1)
		}
	}
	return nil
}

// summary counts the messages not marked deleted.
func (s *session) summary() string {
	n, size := s.live()
	return fmt.Sprintf("maildrop has %d messages (%d octets)", n, size)
}

func (s *session) live() (n int, size int64) {
	for i, m := range s.msgs {
		if !s.deleted[i] {
			n++
			size += m.Size
		}
	}
	return n, size
}

func (s *session) cmdSTLS(rest string) {
	switch {
	case len(strings.Fields(rest)) != 0:
		s.fail("", "STLS takes no arguments")
		return
	case s.tlsState != nil:
		s.fail("", "TLS already active")
		return
	case s.srv.TLSConfig == nil:
		s.fail("", "STLS not available")
		return
	case s.br.Buffered() > 0:
		// Bytes sent after STLS but before the handshake were sent in clear and
		// would be taken as coming over TLS (the STARTTLS command injection of
		// CVE-2011-0411). Drop the connection rather than guess.
		s.fail("", "no command may follow STLS before the TLS handshake")
		s.closing = true
		return
	}
	s.ok("begin TLS negotiation")
	s.flush()
	if s.closing {
		return
	}
	// RFC 2595 section 4: the client forgets what it learnt before TLS; so do we.
	s.user, s.haveUser = "", false
	if !s.startTLS(tls.Server(s.raw, s.srv.TLSConfig)) {
		s.closing = true
	}
}

// parseNumber accepts what RFC 1939 calls a number: decimal digits only (no
// sign, no space), and few enough of them to fit an int on any platform.
func parseNumber(arg string) (int, bool) {
	if len(arg) == 0 || len(arg) > 9 {
		return 0, false
	}
	for i := 0; i < len(arg); i++ {
		if arg[i] < '0' || arg[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(arg)
	return n, err == nil
}

// message resolves a message-number argument to a snapshot index, replying
// -ERR itself when there is no such (live) message.
func (s *session) message(arg string) (int, bool) {
	n, ok := parseNumber(arg)
	if !ok {
		s.fail("", "invalid message number")
		return 0, false
	}
	if n < 1 || n > len(s.msgs) {
		s.fail("", "no such message")
		return 0, false
	}
	if s.deleted[n-1] {
		s.fail("", "message "+strconv.Itoa(n)+" already deleted")
		return 0, false
	}
	return n - 1, true
}

func (s *session) cmdStat(rest string) {
	if len(strings.Fields(rest)) != 0 {
		s.fail("", "STAT takes no arguments")
		return
	}
	n, size := s.live()
	s.ok(fmt.Sprintf("%d %d", n, size))
}

// cmdList serves LIST (sizes) and UIDL (unique ids), which differ only in the
// second column.
func (s *session) cmdList(rest string, uidl bool) {
	column := func(m MessageInfo) string {
		if uidl {
			return m.UID
		}
		return strconv.FormatInt(m.Size, 10)
	}
	args := strings.Fields(rest)
	switch len(args) {
	case 0:
		if uidl {
			s.ok("unique-id listing follows")
		} else {
			n, size := s.live()
			s.ok(fmt.Sprintf("%d messages (%d octets)", n, size))
		}
		for i, m := range s.msgs {
			if !s.deleted[i] {
				s.writeLine(strconv.Itoa(i+1) + " " + column(m))
			}
		}
		s.writeLine(".")
	case 1:
		i, ok := s.message(args[0])
		if !ok {
			return
		}
		s.ok(strconv.Itoa(i+1) + " " + column(s.msgs[i]))
	default:
		s.fail("", "too many arguments")
	}
}

func (s *session) cmdRetr(rest string) {
	args := strings.Fields(rest)
	if len(args) != 1 {
		s.fail("", "RETR takes one message number")
		return
	}
	i, ok := s.message(args[0])
	if !ok {
		return
	}
	s.sendMessage(i, -1, strconv.FormatInt(s.msgs[i].Size, 10)+" octets")
}

func (s *session) cmdTop(rest string) {
	args := strings.Fields(rest)
	if len(args) != 2 {
		s.fail("", "TOP takes a message number and a line count")
		return
	}
	i, ok := s.message(args[0])
	if !ok {
		return
	}
	lines, ok := parseNumber(args[1])
	if !ok {
		s.fail("", "invalid line count")
		return
	}
	s.sendMessage(i, lines, "top of message follows")
}

// sendMessage writes message i as a multi-line reply; bodyLines < 0 sends it all.
func (s *session) sendMessage(i, bodyLines int, okText string) {
	uid := s.msgs[i].UID
	rc, err := s.mbox.Open(s.ctx, uid)
	if err != nil {
		s.log.Error("pop3 message open failed", "uid", uid, "err", err)
		s.fail("SYS/TEMP", "cannot read message, try again later")
		return
	}
	defer rc.Close()
	s.ok(okText)
	if err := writeMessage(s.bw, rc, bodyLines); err != nil {
		// The +OK is gone and part of the body may be too. The terminating
		// "." must not follow: the client would take a truncated message for
		// a whole one and might DELE it. Dropping the connection is the only
		// honest reply left.
		s.log.Error("pop3 message send failed", "uid", uid, "err", err)
		s.closing = true
	}
}

func (s *session) cmdDele(rest string) {
	args := strings.Fields(rest)
	if len(args) != 1 {
		s.fail("", "DELE takes one message number")
		return
	}
	i, ok := s.message(args[0])
	if !ok {
		return
	}
	s.deleted[i] = true
	s.ok("message " + strconv.Itoa(i+1) + " deleted")
}

func (s *session) cmdRset(rest string) {
	if len(strings.Fields(rest)) != 0 {
		s.fail("", "RSET takes no arguments")
		return
	}
	clear(s.deleted)
	s.ok(s.summary())
}

func (s *session) cmdQuit(rest string) {
	s.closing = true
	if len(strings.Fields(rest)) != 0 {
		// Still quit: a client that says QUIT wants to go, and refusing would
		// only leave the connection to the idle timer.
		s.log.Debug("pop3 QUIT with arguments")
	}
	host := s.srv.Hostname
	if host == "" {
		host = "POP3 server"
	}
	if s.state != stateTransaction {
		s.ok(host + " signing off")
		return
	}
	// UPDATE state (RFC 1939 section 6).
	var deleted []string
	for i, d := range s.deleted {
		if d {
			deleted = append(deleted, s.msgs[i].UID)
		}
	}
	if err := s.mbox.Commit(s.ctx, deleted); err != nil {
		s.log.Error("pop3 commit failed", "deleted", len(deleted), "err", err)
		s.fail("SYS/TEMP", "some deleted messages not removed")
		return
	}
	n, _ := s.live()
	s.log.Info("pop3 logout", "deleted", len(deleted), "left", n)
	s.ok(fmt.Sprintf("%s signing off (%d messages left)", host, n))
}
