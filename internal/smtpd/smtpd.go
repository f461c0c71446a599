// Package smtpd owns the SMTP listeners built on go-smtp: the MX port that takes
// mail for local domains only (never an open relay) and the submission ports that
// take mail from authenticated users. It decides, per command, the SMTP reply; the
// message itself goes to delivery. All mapping of errors to SMTP replies is in
// replies.go.
package smtpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"govmail/internal/address"
	"govmail/internal/auth"
	"govmail/internal/clock"
	"govmail/internal/delivery"
	"govmail/internal/filter"
	"govmail/internal/mailauth"
	"govmail/internal/metrics"
	"govmail/internal/queue"
	"govmail/internal/sasllogin"
	"govmail/internal/sendlimit"
	"govmail/internal/store"
)

// Mode is what a listener is for.
type Mode int

// Modes.
const (
	ModeMX            Mode = iota // port 25: mail for local domains
	ModeSubmission                // port 587: STARTTLS, AUTH required
	ModeSubmissionTLS             // port 465: implicit TLS, AUTH required
)

func (m Mode) String() string {
	switch m {
	case ModeMX:
		return "smtp"
	case ModeSubmission:
		return "submission"
	default:
		return "submissions"
	}
}

// Config holds what every SMTP listener shares.
type Config struct {
	Hostname        string
	Domains         []string
	MaxMessageBytes int64
	MaxRecipients   int
	MaxLineLength   int
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	TLSConfig       *tls.Config
	// InsecureAuth allows AUTH without TLS (tests only).
	InsecureAuth bool
}

// Server runs the SMTP listeners.
type Server struct {
	cfg       Config
	store     store.Store
	auth      *auth.Service
	deliverer *delivery.Deliverer
	clock     clock.Clock
	log       *slog.Logger
	metrics   *metrics.Metrics

	mu      sync.Mutex
	servers []*smtp.Server

	// OnInfected is told when a local account submits an infected message:
	// Điều 8.2b locks it and tells its unit's security contact.
	OnInfected func(ctx context.Context, a *store.Account, signature string)
	// Queue takes submitted mail for other domains; nil refuses it honestly.
	Queue *queue.Queue
	// MailAuth verifies SPF, DKIM and DMARC of mail arriving on the MX port.
	MailAuth     *mailauth.Checker
	DMARCEnforce bool
	// DMARCReports, when set, counts each DMARC outcome for the aggregate
	// reports (internal/authreport) with what we did: none, quarantine, reject.
	DMARCReports interface {
		RecordDMARC(ctx context.Context, sourceIP, envelopeFrom string, r *mailauth.Result, disposition string)
	}
	// Limits and OnLimit enforce the sending limits of R17.2 (Điều 8.2b).
	Limits  *sendlimit.Limiter
	OnLimit func(ctx context.Context, a *store.Account, evidence string)
}

// New makes a Server.
func New(cfg Config, st store.Store, a *auth.Service, d *delivery.Deliverer, clk clock.Clock, log *slog.Logger, m *metrics.Metrics) *Server {
	return &Server{cfg: cfg, store: st, auth: a, deliverer: d, clock: clk, log: log, metrics: m}
}

// Serve accepts connections on ln in the given mode until Shutdown.
func (s *Server) Serve(ln net.Listener, mode Mode) error {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return s.newSession(c, mode), nil
	}))
	srv.Domain = s.cfg.Hostname
	srv.MaxMessageBytes = s.cfg.MaxMessageBytes
	srv.MaxRecipients = s.cfg.MaxRecipients
	srv.MaxLineLength = s.cfg.MaxLineLength
	srv.ReadTimeout = s.cfg.ReadTimeout
	srv.WriteTimeout = s.cfg.WriteTimeout
	srv.TLSConfig = s.cfg.TLSConfig
	srv.AllowInsecureAuth = s.cfg.InsecureAuth
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	srv.EnableBINARYMIME = false // we store what we receive; BINARYMIME would need conversion for IMAP clients
	srv.ErrorLog = slogAdapter{s.log}
	if mode == ModeSubmissionTLS {
		ln = tls.NewListener(ln, s.cfg.TLSConfig)
	}
	s.mu.Lock()
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	err := srv.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for sessions to finish until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srvs := s.servers
	s.mu.Unlock()
	var errs []error
	for _, srv := range srvs {
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			errs = append(errs, err)
			srv.Close()
		}
	}
	return errors.Join(errs...)
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(format string, v ...any) {
	a.l.Warn("smtp", "msg", fmt.Sprintf(format, v...))
}
func (a slogAdapter) Println(v ...any) { a.l.Warn("smtp", "msg", fmt.Sprint(v...)) }

// session is one SMTP connection.
type session struct {
	s      *Server
	c      *smtp.Conn
	mode   Mode
	ip     string
	ctx    context.Context
	cancel context.CancelFunc

	account *store.Account // after AUTH
	sendAs  *store.Account // the mailbox MAIL FROM names: own, or a delegated unit mailbox
	from    string
	hasFrom bool
	size    int64
	utf8    bool
	rcpts   []delivery.Recipient
	remote  []queue.Recipient // submitted mail for other domains
	opts    *smtp.MailOptions
}

func (s *Server) newSession(c *smtp.Conn, mode Mode) *session {
	ip := ""
	if ta, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		ip = ta.IP.String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	if s.metrics != nil {
		s.metrics.Connections.WithLabelValues(mode.String()).Inc()
		s.metrics.Accepted.WithLabelValues(mode.String()).Inc()
	}
	return &session{s: s, c: c, mode: mode, ip: ip, ctx: ctx, cancel: cancel}
}

func (ss *session) Reset() {
	ss.from, ss.hasFrom, ss.size, ss.utf8, ss.rcpts, ss.sendAs, ss.remote, ss.opts = "", false, 0, false, nil, nil, nil, nil
}

func (ss *session) Logout() error {
	ss.cancel()
	if ss.s.metrics != nil {
		ss.s.metrics.Connections.WithLabelValues(ss.mode.String()).Dec()
	}
	return nil
}

// AuthMechanisms offers PLAIN and LOGIN; go-smtp advertises them only under TLS
// unless InsecureAuth (N1: authentication only under TLS). The MX port offers none.
func (ss *session) AuthMechanisms() []string {
	if ss.mode == ModeMX {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.mode == ModeMX {
		return nil, smtp.ErrAuthUnsupported
	}
	login := func(username, password string) error {
		a, err := ss.s.auth.Login(ss.ctx, auth.Request{Proto: "smtp", Username: username, Password: password, RemoteIP: ss.ip})
		if ss.s.metrics != nil {
			ss.s.metrics.AuthResults.WithLabelValues("smtp", auth.ResultLabel(err)).Inc()
		}
		if err != nil {
			return authReply(err)
		}
		ss.account = a
		return nil
	}
	switch strings.ToUpper(mech) {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && !strings.EqualFold(identity, username) {
				return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authorization identity must match the user"}
			}
			return login(username, password)
		}), nil
	case sasl.Login:
		return sasllogin.NewServer(login), nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.mode != ModeMX && ss.account == nil {
		return errAuthRequired
	}
	if opts != nil {
		ss.size = opts.Size
		ss.utf8 = opts.UTF8
		ss.opts = opts
	}
	from = strings.TrimSpace(from)
	if ss.mode != ModeMX {
		// Điều 9.3: one sends only from an account one holds or manages.
		box, err := ss.s.auth.SendAs(ss.ctx, ss.account, from)
		if err != nil {
			var ae *auth.Error
			if errors.As(err, &ae) {
				return reply(550, 5, 7, 1, ae.EN+" / "+ae.VI)
			}
			return errSenderNotAllowed(from)
		}
		ss.sendAs = box
	} else if from != "" {
		if _, _, err := splitAddress(from); err != nil {
			return errBadAddress(from)
		}
	}
	ss.from, ss.hasFrom = from, true
	return nil
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if !ss.hasFrom {
		return errNeedMail
	}
	local, domain, err := splitAddress(to)
	if err != nil {
		ss.logRefusal(to, errBadAddress(to))
		return errBadAddress(to)
	}
	if !ss.isLocalDomain(domain) {
		var e *smtp.SMTPError
		switch {
		case ss.mode == ModeMX:
			e = errRelayDenied(to)
		case ss.s.Queue == nil:
			e = errOutboundDisabled(to)
		default:
			if len(ss.rcpts)+len(ss.remote) >= ss.s.cfg.MaxRecipients {
				return reply(452, 4, 5, 3, "Too many recipients")
			}
			r := queue.Recipient{Address: local + "@" + domain}
			if opts != nil {
				for _, n := range opts.Notify {
					r.Notify = strings.TrimPrefix(r.Notify+","+string(n), ",")
				}
				if opts.OriginalRecipient != "" {
					r.ORcpt = string(opts.OriginalRecipientType) + ";" + opts.OriginalRecipient
				}
			}
			ss.remote = append(ss.remote, r)
			return nil
		}
		ss.logRefusal(to, e)
		return e
	}
	addr := local + "@" + domain
	accounts, err := ss.s.resolve(ss.ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		e := errNoSuchUser(to)
		ss.logRefusal(to, e)
		return e
	}
	if err != nil {
		ss.s.log.Error("recipient lookup", "rcpt", to, "err", err)
		return errTemporary
	}
	for _, a := range accounts {
		if e := ss.addRecipient(addr, to, a); e != nil {
			return e
		}
	}
	return nil
}

// resolve finds the accounts an address delivers to: the account or alias
// holding it, or for postmaster@ and abuse@ the operators (R5.11).
func (s *Server) resolve(ctx context.Context, addr string) ([]*store.Account, error) {
	a, err := s.store.ResolveAddress(ctx, addr, s.clock.Now())
	if err == nil && a.State != store.StateRevoked {
		return []*store.Account{a}, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if local := address.Local(addr); local == "postmaster" || local == "abuse" {
		ops, err := s.store.ListAccounts(ctx, store.AccountFilter{State: store.StateActive})
		if err != nil {
			return nil, err
		}
		var out []*store.Account
		for i := range ops {
			if ops[i].Role == store.RoleOperator {
				out = append(out, &ops[i])
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, store.ErrNotFound
}

func (ss *session) addRecipient(addr, to string, a *store.Account) error {
	// R11.7: refuse at RCPT when the message (as announced by SIZE) does not fit;
	// locked mailboxes still receive (R8.1), so state is not checked here.
	if a.UsedBytes+ss.size > a.QuotaBytes {
		e := errMailboxFull(to)
		ss.logRefusal(to, e)
		ss.s.deliverer.QuotaRefused(a.ID)
		return e
	}
	for _, r := range ss.rcpts {
		if r.AccountID == a.ID {
			return nil // duplicate RCPT: one copy
		}
	}
	ss.rcpts = append(ss.rcpts, delivery.Recipient{Address: addr, AccountID: a.ID, QuotaChecked: true})
	return nil
}

func (ss *session) isLocalDomain(d string) bool {
	for _, x := range ss.s.cfg.Domains {
		if strings.EqualFold(x, d) {
			return true
		}
	}
	return false
}

func (ss *session) Data(r io.Reader) error {
	start := time.Now()
	raw, err := io.ReadAll(&crlfChecker{r: r})
	if err != nil {
		return ss.refused(err)
	}
	env := &delivery.Envelope{
		From:       ss.from,
		Recipients: ss.rcpts,
		ClientIP:   ss.ip,
		ClientHelo: ss.c.Hostname(),
		Proto:      ss.protoName(),
		Direction:  "in",
	}
	if ss.mode != ModeMX {
		env.Direction = "internal"
		env.AuthUser = ss.account.Address
	}
	if cs, ok := ss.c.TLSConnectionState(); ok {
		env.TLS = tls.VersionName(cs.Version) + " " + tls.CipherSuiteName(cs.CipherSuite)
	}
	if ss.sendAs != nil && ss.sendAs.ID != ss.account.ID {
		// R9.2: mail sent as a unit mailbox names the delegate who sent it.
		env.AuthUser = ss.account.Address + " (for " + ss.sendAs.Address + ")"
		env.Sender = ss.account.Address
	}
	if ss.mode == ModeMX && ss.s.MailAuth != nil {
		res := ss.s.MailAuth.Check(ss.ctx, mailauth.Input{IP: net.ParseIP(ss.ip), Helo: ss.c.Hostname(), MailFrom: ss.from, Message: raw})
		if ss.s.DMARCReports != nil {
			disposition := "none"
			if ss.s.DMARCEnforce && res.Verdict != mailauth.Accept {
				disposition = res.Verdict.String()
			}
			ss.s.DMARCReports.RecordDMARC(ss.ctx, ss.ip, ss.from, res, disposition)
		}
		if ss.s.DMARCEnforce {
			switch res.Verdict {
			case mailauth.Reject:
				return ss.refused(errDMARCReject(res.FromDomain))
			case mailauth.Quarantine:
				for i := range env.Recipients {
					if env.Recipients[i].Mailbox == "" {
						env.Recipients[i].Mailbox = "Junk"
					}
				}
			}
		}
		// Our verdict goes on top, above any the sender put there (N2: only
		// trace and filter headers are added).
		raw = append([]byte(res.Header), raw...)
	}
	if ss.mode != ModeMX {
		if held, err := ss.checkLimits(raw, env); held || err != nil {
			if err != nil {
				return ss.refused(err)
			}
			return nil
		}
	}
	if len(ss.remote) > 0 {
		if err := delivery.CheckAttachments(raw, ss.s.deliverer.MaxAttachment); err != nil {
			return ss.refused(err)
		}
		// R4.1: mail leaving is scanned too, once, before either path takes it.
		if f := ss.s.deliverer.Filter; f != nil {
			if _, err := f.Check(ss.ctx, filter.Input{Direction: "out", ClientIP: ss.ip, From: ss.from, AuthUser: env.AuthUser, Raw: raw}); err != nil {
				return ss.refused(err)
			}
			env.Scanned = true
		}
		if _, err := ss.s.Queue.Submit(ss.ctx, ss.submission(raw, env, "")); err != nil {
			return ss.refused(err)
		}
		ss.s.Queue.Wake()
		if len(ss.rcpts) == 0 {
			ss.s.log.Info("message queued", "from", ss.from, "rcpts", len(ss.remote), "ip", ss.ip)
			return nil
		}
	}
	var body io.Reader = bytes.NewReader(raw)
	res, err := ss.s.deliverer.Deliver(ss.ctx, env, body)
	if err != nil {
		if len(ss.remote) > 0 {
			// The remote copy is committed already: a 4xx now would make the
			// client send the whole message again and the remote recipients
			// would get it twice. The local recipients go to the queue
			// instead, which delivers them through the same pipeline,
			// retries, and bounces to the sender after its lifetime.
			if qerr := ss.queueLocals(raw, env, ss.rcpts); qerr == nil {
				ss.s.log.Warn("local delivery failed after the remote copy was queued; local recipients queued for retry", "from", ss.from, "err", err)
				return nil
			}
		}
		return ss.refused(err)
	}
	if ss.s.metrics != nil {
		ss.s.metrics.DeliveryDur.Observe(time.Since(start).Seconds())
	}
	delivered := 0
	var failed []delivery.Recipient
	for i, o := range res.Outcomes {
		result := "delivered"
		if o.Err != nil {
			result = "refused"
			failed = append(failed, ss.rcpts[i])
			ss.s.log.Warn("recipient not delivered", "rcpt", ss.rcpts[i].Address, "err", o.Err)
		} else {
			delivered++
		}
		if ss.s.metrics != nil {
			ss.s.metrics.Deliveries.WithLabelValues(result).Inc()
		}
	}
	ss.s.log.Info("message delivered", "from", ss.from, "rcpts", len(ss.rcpts), "delivered", delivered, "size", res.Size, "ip", ss.ip, "mode", ss.mode.String())
	if delivered == 0 && len(ss.remote) == 0 {
		// Every recipient went away between RCPT and DATA (revoked): say so.
		return errNoSuchUser(ss.rcpts[0].Address)
	}
	if len(failed) > 0 && ss.s.Queue != nil {
		// The 250 covers the others, so these are the queue's to retry or to
		// bounce to the sender (RFC 5321 6.1): never dropped in silence.
		if err := ss.queueLocals(raw, env, failed); err != nil {
			ss.s.log.Error("recipients not delivered and not queued", "from", ss.from, "rcpts", len(failed), "err", err)
		}
	}
	return nil
}

// refused turns a failed DATA into its reply, logs it per recipient and, for an
// infected submission, has the sender locked (Điều 8.2b).
func (ss *session) refused(err error) error {
	rep := dataReply(err)
	if rep.Code >= 500 || rep.Code == 451 {
		for _, rc := range ss.rcpts {
			ss.logRefusal(rc.Address, rep)
		}
		for _, rc := range ss.remote {
			ss.logRefusal(rc.Address, rep)
		}
	}
	var ve *filter.VirusError
	if errors.As(err, &ve) && ss.account != nil && ss.s.OnInfected != nil {
		ss.s.OnInfected(ss.ctx, ss.account, ve.Signature)
	}
	if rep.Code == 451 && rep.EnhancedCode != (smtp.EnhancedCode{4, 4, 2}) {
		ss.s.log.Error("delivery failed", "from", ss.from, "err", err)
		if ss.s.metrics != nil {
			ss.s.metrics.Errors.WithLabelValues("delivery").Inc()
		}
	}
	return rep
}

// submission describes the transaction for the queue.
func (ss *session) submission(raw []byte, env *delivery.Envelope, hold string) *queue.Submission {
	sub := &queue.Submission{From: ss.from, Recipients: ss.remote, AuthUser: env.AuthUser, ClientIP: ss.ip, ClientHelo: ss.c.Hostname(),
		Proto: env.Proto, TLS: env.TLS, UTF8: ss.utf8, Body: raw, Hold: hold}
	if ss.opts != nil {
		sub.EnvID, sub.Ret = ss.opts.EnvelopeID, string(ss.opts.Return)
	}
	return sub
}

// queueLocals hands local recipients of this transaction to the queue under
// their accounts' own addresses (an alias or postmaster@ has resolved to
// them already).
func (ss *session) queueLocals(raw []byte, env *delivery.Envelope, rcpts []delivery.Recipient) error {
	sub := ss.submission(raw, env, "")
	// Remote recipients are queued apart, once.
	sub.Recipients = nil
	for _, r := range rcpts {
		a, err := ss.s.store.AccountByID(ss.ctx, r.AccountID)
		if err != nil {
			return err
		}
		sub.Recipients = append(sub.Recipients, queue.Recipient{Address: a.Address})
	}
	if _, err := ss.s.Queue.Submit(ss.ctx, sub); err != nil {
		return err
	}
	ss.s.Queue.Wake()
	return nil
}

// checkLimits applies the sending limits of R17.2: crossing one holds this
// message (every recipient, local ones too) in the queue, locks the account
// and tells the security contact (Điều 8.2b). It returns held=true when the
// message was taken that way.
func (ss *session) checkLimits(raw []byte, env *delivery.Envelope) (held bool, err error) {
	if ss.s.Limits == nil || ss.s.Queue == nil {
		return false, nil
	}
	d := ss.s.Limits.Submit(ss.account.Address, len(ss.rcpts)+len(ss.remote))
	if d.Allowed {
		return false, nil
	}
	ss.s.log.Warn("sending limit crossed; mail held and account locked", "user", ss.account.Address, "limit", d.Evidence(), "ip", ss.ip)
	sub := ss.submission(raw, env, "compromised")
	for _, r := range ss.rcpts {
		sub.Recipients = append(sub.Recipients, queue.Recipient{Address: r.Address})
	}
	if _, err := ss.s.Queue.Submit(ss.ctx, sub); err != nil {
		return false, err
	}
	if ss.s.OnLimit != nil {
		ss.s.OnLimit(ss.ctx, ss.account, d.Evidence())
	}
	return true, nil
}

func (ss *session) protoName() string {
	p := "ESMTP"
	if ss.utf8 {
		p = "UTF8SMTP"
	}
	if _, ok := ss.c.TLSConnectionState(); ok {
		p += "S"
	}
	if ss.account != nil {
		p += "A"
	}
	return p
}

func (ss *session) logRefusal(rcpt string, e *smtp.SMTPError) {
	if ss.s.metrics != nil {
		ss.s.metrics.Deliveries.WithLabelValues("refused").Inc()
	}
	entry := store.LogEntry{
		Time:         ss.s.clock.Now(),
		Direction:    "in",
		Proto:        ss.mode.String(),
		EnvelopeFrom: ss.from,
		Recipient:    rcpt,
		ClientIP:     ss.ip,
		Size:         ss.size,
		Status:       store.LogRefused,
		Error:        fmt.Sprintf("%d %d.%d.%d %s", e.Code, e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2], e.Message),
	}
	if e.Code < 500 {
		entry.Status = store.LogDeferred
	}
	if ss.account != nil {
		entry.AuthUser = ss.account.Address
		entry.Direction = "internal"
	}
	if err := ss.s.store.AppendLog(ss.ctx, []store.LogEntry{entry}); err != nil {
		ss.s.log.Error("transaction log", "err", err)
	}
}

// splitAddress accepts local@domain with a plain dot-atom local part. Quoted
// local parts, source routes and percent or bang paths are refused outright:
// they have no use here and are classic open-relay tricks.
func splitAddress(a string) (local, domain string, err error) {
	a = strings.TrimSpace(a)
	if !utf8.ValidString(a) || strings.IndexFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return "", "", errors.New("bad address")
	}
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || strings.Count(a, "@") != 1 {
		return "", "", errors.New("bad address")
	}
	local, domain = a[:at], strings.TrimSuffix(strings.ToLower(a[at+1:]), ".")
	if strings.ContainsAny(local, "\"%!:,<>()[]\\ \t") || strings.ContainsAny(domain, "\"%!:,<>()[]\\ \t@") {
		return "", "", errors.New("bad address")
	}
	if len(local) > 64 || len(a) > 254 || domain == "" {
		return "", "", errors.New("bad address")
	}
	return strings.ToLower(local), domain, nil
}

// crlfChecker refuses bare CR or LF in DATA (SMTP smuggling defence): only CRLF
// ends a line.
type crlfChecker struct {
	r      io.Reader
	lastCR bool
}

var errBareLineEnding = errors.New("bare CR or LF in message")

func (c *crlfChecker) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := 0; i < n; i++ {
		switch p[i] {
		case '\n':
			if !c.lastCR {
				return i, errBareLineEnding
			}
			c.lastCR = false
		case '\r':
			if c.lastCR {
				return i, errBareLineEnding
			}
			c.lastCR = true
		default:
			if c.lastCR {
				return i, errBareLineEnding
			}
		}
	}
	return n, err
}
