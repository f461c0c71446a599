// Package web owns webmail (issue 8): the pages a civil servant reads and sends mail
// with, in Vietnamese first (English switchable), server-rendered from templates and
// assets embedded in the binary so that no page loads anything from outside the
// provincial data centre (R3.2).
//
// It owns the web session (server-side, random ids, idle and absolute timeouts), the
// CSRF tokens, the security headers and Content-Security-Policy of every response,
// the sanitising and sandboxing of HTML mail (with internal/web/mailhtml), and the
// building of outgoing messages. It never decides who may log in (internal/auth),
// what a password must look like (internal/password), or how a message is stored
// (internal/delivery and internal/store): it calls them.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"govmail/internal/auth"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/delivery"
	"govmail/internal/directory"
	"govmail/internal/held"
	"govmail/internal/lifecycle"
	"govmail/internal/outage"
	"govmail/internal/password"
	"govmail/internal/report"
	"govmail/internal/store"
	"govmail/internal/web/i18n"
	"govmail/internal/web/mailhtml"
	"govmail/internal/workdays"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// DefaultSupport is the support contact shown on the login page and in the footer
// (R14.2) when the configuration names none.
const DefaultSupport = "Sở Khoa học và Công nghệ tỉnh Sơn La — hotro@sonla.gov.vn"

// PageSize is the number of messages on one page of a folder.
const PageSize = 50

// Outbound hands mail for remote recipients to the outbound queue; with a nil
// Outbound, webmail refuses remote recipients and says so.
type Outbound interface {
	Submit(ctx context.Context, m OutboundMessage) error
}

// OutboundMessage is one message for remote recipients, as webmail built it
// (CRLF, no Bcc field, not yet DKIM-signed).
type OutboundMessage struct {
	From       string // the account's address, the envelope sender
	Recipients []string
	AuthUser   string
	ClientIP   string
	Raw        []byte
}

// Deps are what the web server needs; Store, Auth, Deliverer, Clock and Logger are
// required.
type Deps struct {
	Store     store.Store
	Auth      *auth.Service
	Deliverer *delivery.Deliverer
	Clock     clock.Clock
	Logger    *slog.Logger
	Config    config.Config

	// Sessions keeps web sessions; nil means an in-memory store (one node).
	Sessions SessionStore
	// Outbound sends to remote recipients; nil refuses them.
	Outbound Outbound
	// Support is the help-desk contact of R14.2; "" means Config.Support, then
	// DefaultSupport.
	Support string
	// Policy is the password policy of the change page; nil means
	// password.DefaultPolicy().
	Policy *password.Policy
	// Location is the time zone dates are shown in; nil means Asia/Ho_Chi_Minh.
	Location *time.Location
	// SendGuard applies the sending limits of R17.2 before anything is sent, over
	// every recipient (local and remote, Bcc included). held=true means the guard
	// kept the message (held in the queue, account locked, security contact told,
	// as smtpd does); webmail then delivers nothing and says so. nil: no limits.
	SendGuard func(ctx context.Context, acct *store.Account, recipients []string, raw []byte) (held bool, err error)
	// Notices returns the outage notices in force (R14.1), shown as a banner on
	// every mail page until closed; nil shows none. It is called once per page, so
	// it should answer from memory.
	Notices func(ctx context.Context) ([]Notice, error)
	// Dir and Life are the directory and lifecycle services behind the operators'
	// portal (/portal) and the unit managers' pages (/unit); with either nil those
	// pages answer 404 and webmail alone is served.
	Dir  *directory.Service
	Life *lifecycle.Service
	// The operators' portal pages of issue 9 part 2; each nil leaves its page out
	// of the menu and answers 404. Outage publishes and closes outage notices
	// (R14.1); Held releases and deletes held mail (R4.2, R4.3); Reports builds the
	// periodic report (R7.3); Calendar is the working-day calendar of C3, C4 — the
	// one lifecycle counts deadlines with (Life.Calendar), edited in memory and
	// written to workdays.HolidaysFile in Config.DataDir so that Calendar.LoadFile finds the
	// edits again at the next start.
	Outage   *outage.Service
	Held     *held.Service
	Reports  *report.Builder
	Calendar *workdays.Calendar
	// Report forwards a message a user reports as suspicious, attached, to the
	// unit's security contact and the operators (R13.1, R17.3); nil hides the
	// read view's report button.
	Report func(accountID int64, raw []byte)
	// SMIMERoots are the trust anchors S/MIME signers' certificates are verified
	// against (N2); nil: none configured, and the read view says the chain
	// could not be verified.
	SMIMERoots *x509.CertPool
	// SMIMEKey is the server secret (32 bytes or more) that users' S/MIME
	// private keys are encrypted under (AES-256-GCM, key derived with HKDF);
	// shorter or nil hides the upload of signing certificates and signing.
	SMIMEKey []byte
}

// Notice is an outage notice of R14.1 as the banner shows it.
type Notice struct {
	VI, EN string // what is out, since when, expected restoration, in each language
}

// Server is the webmail handler.
type Server struct {
	d          Deps
	sessions   SessionStore
	cat        *i18n.Catalog
	san        *mailhtml.Sanitizer
	cache      *mailboxCache
	stopListen func()
	mux        *http.ServeMux
	pages      map[string]*template.Template
	static     fs.FS
	staticVer  string
	policy     password.Policy
	loc        *time.Location
	log        *slog.Logger
	// calMu makes an edit of the calendar and the writing of its file one step,
	// so that two operators' edits cannot reach the file in the other order.
	calMu sync.Mutex
}

// New builds the webmail handler. Close it to stop listening to the store's feed.
func New(d Deps) (*Server, error) {
	if d.Store == nil || d.Auth == nil || d.Deliverer == nil || d.Clock == nil || d.Logger == nil {
		return nil, errors.New("web: Store, Auth, Deliverer, Clock and Logger are required")
	}
	if d.Support == "" {
		d.Support = d.Config.Support
	}
	if d.Support == "" {
		d.Support = DefaultSupport
	}
	s := &Server{
		d:     d,
		cat:   i18n.New(),
		san:   mailhtml.New(),
		cache: newMailboxCache(256),
		log:   d.Logger.With("service", "web"),
	}
	s.sessions = d.Sessions
	if s.sessions == nil {
		s.sessions = NewMemorySessions(d.Clock, 0, 0)
	}
	s.policy = password.DefaultPolicy()
	if d.Policy != nil {
		s.policy = *d.Policy
	}
	s.loc = d.Location
	if s.loc == nil {
		s.loc = password.Location()
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("web: static: %w", err)
	}
	s.static = static
	s.staticVer, err = hashFS(static)
	if err != nil {
		return nil, fmt.Errorf("web: static: %w", err)
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	s.stopListen = d.Store.Listen(s.cache.onEvents)
	return s, nil
}

// Close stops the change-feed listener.
func (s *Server) Close() error {
	if s.stopListen != nil {
		s.stopListen()
	}
	return nil
}

// hashFS gives the static files a version for cache-busting URLs, so they can be
// cached for a year and still change with the binary.
func hashFS(f fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(f, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(f, p)
		if err != nil {
			return err
		}
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12], err
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /static/{file}", s.handleStatic)
	m.HandleFunc("GET /lang/{lang}", s.handleLang)
	m.HandleFunc("GET /login", s.handleLoginForm)
	m.HandleFunc("POST /login", s.handleLogin)
	m.HandleFunc("GET /{$}", s.authed(s.handleHome))
	m.HandleFunc("POST /logout", s.authed(s.handleLogout))
	m.HandleFunc("GET /totp", s.authed(s.handleTOTPForm))
	m.HandleFunc("POST /totp", s.authed(s.handleTOTP))
	m.HandleFunc("GET /password", s.authed(s.handlePasswordForm))
	m.HandleFunc("POST /password", s.authed(s.handlePassword))
	m.HandleFunc("GET /mail/{mb}", s.authed(s.handleList))
	m.HandleFunc("POST /mail/{mb}/action", s.authed(s.handleAction))
	m.HandleFunc("GET /mail/{mb}/{uid}", s.authed(s.handleRead))
	m.HandleFunc("GET /mail/{mb}/{uid}/body", s.authed(s.handleBody))
	m.HandleFunc("GET /mail/{mb}/{uid}/part/{part}", s.authed(s.handlePart))
	m.HandleFunc("GET /mail/{mb}/{uid}/raw", s.authed(s.handleRaw))
	m.HandleFunc("POST /mail/{mb}/{uid}/report", s.authed(s.handleReportMessage))
	m.HandleFunc("GET /compose", s.authed(s.handleComposeForm))
	m.HandleFunc("POST /compose", s.authed(s.handleCompose))
	m.HandleFunc("GET /search", s.authed(s.handleSearch))
	s.settingsRoutes(m)
	s.prefsRoutes(m)
	s.contactRoutes(m)
	s.addressBookRoutes(m)
	s.portalRoutes(m)
	s.opsRoutes(m)
	s.authReportRoutes(m)
	s.unitRoutes(m)
	s.mux = m
}

// ServeHTTP sets the security headers every response carries, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Pages: only our own script and style, no inline script, never framed by
	// another site; mail bodies and parts set their own stricter policy.
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer browsers send "Origin: null"
	// with our own form posts, and the origin check needs the real one. Links out of
	// mail carry rel=noreferrer, and the mail frame its own no-referrer.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	h.Set("Strict-Transport-Security", "max-age=31536000")
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		// Mail is private: no shared or browser cache may keep a page.
		h.Set("Cache-Control", "no-store")
	}
	s.mux.ServeHTTP(w, r)
}

const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// reqCtx is what an authenticated handler gets.
type reqCtx struct {
	sess *Session
	acct *store.Account
	lang i18n.Lang
	// sendAs is the unit mailbox a delegate sends as (Điều 9); nil: their own.
	sendAs *store.Account

	// What the folder check (mailbox), the folder list (newPage) and compose
	// all ask, read at most once per request: a mail page needs both.
	ownMbs       []store.Mailbox
	ownMbsRead   bool
	units        []*store.Account
	unitsChecked bool
}

// ownMailboxes lists the user's own folders, read once per request.
func (s *Server) ownMailboxes(ctx context.Context, rc *reqCtx) ([]store.Mailbox, error) {
	if !rc.ownMbsRead {
		mbs, err := s.d.Store.ListMailboxes(ctx, rc.acct.ID)
		if err != nil {
			return nil, err
		}
		rc.ownMbs, rc.ownMbsRead = mbs, true
	}
	return rc.ownMbs, nil
}

// delegatedUnits lists the active unit mailboxes the user is a delegate of
// (Điều 9.2, R9.1), checked on every request (once) so that a removal acts at
// once.
func (s *Server) delegatedUnits(ctx context.Context, rc *reqCtx) []*store.Account {
	if rc.unitsChecked {
		return rc.units
	}
	rc.unitsChecked = true
	ds, err := s.d.Store.DelegatedTo(ctx, rc.acct.ID)
	if err != nil {
		return nil
	}
	for _, d := range ds {
		if a, err := s.d.Store.AccountByID(ctx, d.UnitAccountID); err == nil && a.State == store.StateActive {
			rc.units = append(rc.units, a)
		}
	}
	return rc.units
}

type authedHandler func(w http.ResponseWriter, r *http.Request, rc *reqCtx)

// Cookie names. __Host- makes the browser refuse them unless Secure, Path=/ and
// without Domain, so no sibling host can set or read them.
const (
	sessionCookie = "__Host-govmail-session"
	loginCookie   = "__Host-govmail-login"
	langCookie    = "__Host-govmail-lang"
)

// Request limits: forms without files are small; a compose form may carry up to the
// message size (R11.5).
const maxFormBytes = 1 << 20

// authed loads the session and account, enforces the must-change and locked rules,
// and checks the origin and CSRF token of every POST before the handler runs.
func (s *Server) authed(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		lang := s.lang(r)
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			s.toLogin(w, r, "")
			return
		}
		sess, err := s.sessions.Get(ctx, c.Value)
		if err != nil {
			clearCookie(w, sessionCookie)
			s.toLogin(w, r, "expired")
			return
		}
		acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				s.sessions.Delete(ctx, sess.ID)
				clearCookie(w, sessionCookie)
				s.toLogin(w, r, "")
				return
			}
			s.serverError(w, r, lang, err)
			return
		}
		if acct.State != store.StateActive {
			// R8.1: a lock closes live sessions.
			s.sessions.DeleteAccount(ctx, acct.ID)
			clearCookie(w, sessionCookie)
			s.renderLocked(w, r, lang, "", acct.LockReason, acct.State == store.StateRevoked)
			return
		}
		if sess.Created.Before(acct.PasswordSetAt) {
			// A password set after this session began (a reset by an operator
			// through the portal, the API or the CLI, R6.1) ends it: whoever
			// held the old password loses access with it.
			s.sessions.Delete(ctx, sess.ID)
			clearCookie(w, sessionCookie)
			s.toLogin(w, r, "expired")
			return
		}
		rc := &reqCtx{sess: sess, acct: acct, lang: lang}
		if r.Method == http.MethodPost {
			if !s.checkPost(w, r, rc) {
				return
			}
		}
		if sess.PendingTOTP {
			if r.URL.Path != "/totp" && r.URL.Path != "/logout" {
				http.Redirect(w, r, "/totp", http.StatusSeeOther)
				return
			}
		} else if s.mustChange(sess, acct) && !mustChangeAllowed(r) {
			http.Redirect(w, r, "/password", http.StatusSeeOther)
			return
		}
		h(w, r, rc)
	}
}

// mustChange applies R6.1 and R6.2 on every request, not only at login: an operator
// reset or an expiry during a session sends the user to the change page too.
func (s *Server) mustChange(sess *Session, acct *store.Account) bool {
	if sess.MustChange || acct.MustChange {
		return true
	}
	return s.d.Auth.Expired != nil && s.d.Auth.Expired(acct.PasswordSetAt, s.d.Clock.Now())
}

func mustChangeAllowed(r *http.Request) bool {
	return r.URL.Path == "/password" || r.URL.Path == "/logout"
}

// checkPost refuses a cross-site POST (Origin, Sec-Fetch-Site) and one without the
// session's CSRF token, after reading the form within its size limit.
func (s *Server) checkPost(w http.ResponseWriter, r *http.Request, rc *reqCtx) bool {
	if !sameOrigin(r) {
		s.renderError(w, r, rc.lang, http.StatusForbidden, "error.csrf")
		return false
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		limit := s.maxMessageBytes()
		// R11.5: an upload larger than a message may be is refused before it is read:
		// at once when the browser announces its size, else when the limit is hit.
		if r.ContentLength > limit {
			s.renderTooLarge(w, r, rc)
			return false
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				s.renderTooLarge(w, r, rc)
				return false
			}
			s.renderError(w, r, rc.lang, http.StatusBadRequest, "error.bad_request")
			return false
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			s.renderError(w, r, rc.lang, http.StatusRequestEntityTooLarge, "error.bad_request")
			return false
		}
	}
	if !tokenEqual(r.PostFormValue("_csrf"), rc.sess.CSRF) {
		s.log.Warn("csrf token refused", "account", rc.acct.Address, "path", r.URL.Path)
		s.renderError(w, r, rc.lang, http.StatusForbidden, "error.csrf")
		return false
	}
	return true
}

func tokenEqual(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// sameOrigin checks what browsers say about where a POST comes from. A request
// without either header (an old browser, a test client) is judged by the CSRF token
// alone.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

func (s *Server) toLogin(w http.ResponseWriter, r *http.Request, notice string) {
	target := "/login"
	q := url.Values{}
	if notice != "" {
		q.Set("n", notice)
	}
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		q.Set("next", r.URL.RequestURI())
	}
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

func clearCookie(w http.ResponseWriter, name string) { setCookie(w, name, "", -1) }

// lang picks the UI language: the cookie, then Accept-Language, then Vietnamese.
func (s *Server) lang(r *http.Request) i18n.Lang {
	choice := ""
	if c, err := r.Cookie(langCookie); err == nil {
		choice = c.Value
	}
	return s.cat.Negotiate(choice, r.Header.Get("Accept-Language"))
}

// localPath accepts only a path on this site as a redirect target, so that ?next=
// cannot send a user elsewhere.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	return p
}

func (s *Server) handleLang(w http.ResponseWriter, r *http.Request) {
	l := i18n.Lang(r.PathValue("lang"))
	if !l.Valid() {
		http.NotFound(w, r)
		return
	}
	setCookie(w, langCookie, string(l), 365*24*3600)
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(s.static, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	if r.URL.Query().Get("v") == s.staticVer {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// clientIP is the peer address; a trusted-proxy setting can refine it later.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// RedirectHTTPS is the plain-HTTP handler of R3.1: every request is sent to the same
// path on webURL (the configured public HTTPS address), never to the Host the client
// named, so the redirect cannot be turned to another site. With webURL empty the
// request's own host is used with https.
func RedirectHTTPS(webURL string) http.Handler {
	base, _ := url.Parse(strings.TrimRight(webURL, "/"))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := url.URL{Scheme: "https", Path: r.URL.Path, RawQuery: r.URL.RawQuery}
		if base != nil && base.Host != "" {
			target.Host = base.Host
			target.Path = strings.TrimRight(base.Path, "/") + r.URL.Path
		} else {
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			target.Host = host
		}
		code := http.StatusMovedPermanently
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			code = http.StatusPermanentRedirect
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, target.String(), code)
	})
}

// parseID reads a positive decimal path value.
func parseID(s string) (int64, bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && v > 0
}

func parseUID(s string) (uint32, bool) {
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err == nil && v > 0
}

// SessionAccount gives the REST API (internal/api) the account of a web session:
// only a full session — second factor done, no password change pending, account
// active — counts.
func (s *Server) SessionAccount(r *http.Request) (*store.Account, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, false
	}
	sess, err := s.sessions.Get(r.Context(), c.Value)
	if err != nil || sess.PendingTOTP {
		return nil, false
	}
	acct, err := s.d.Store.AccountByID(r.Context(), sess.AccountID)
	if err != nil || acct.State != store.StateActive || s.mustChange(sess, acct) {
		return nil, false
	}
	return acct, true
}
