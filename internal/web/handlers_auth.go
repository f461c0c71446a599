package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"govmail/internal/auth"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/web/i18n"
)

// loginView is the body of the login page.
type loginView struct {
	Username string
	Next     string
}

// handleLoginForm shows the login page. It sets a login CSRF cookie whose value the
// form repeats: with no session yet, this double-submit token (and SameSite=Strict)
// keeps another site from logging a user into an account of its choosing.
func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r)
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, err := s.sessions.Get(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
	}
	s.renderLogin(w, r, lang, http.StatusOK, "", r.URL.Query().Get("next"), "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, lang i18n.Lang, status int, username, next, errText string) {
	token, err := randomToken()
	if err != nil {
		s.serverError(w, r, lang, err)
		return
	}
	setCookie(w, loginCookie, token, 3600)
	p := &pageData{s: s, Lang: lang, Path: r.URL.RequestURI(), Support: s.d.Support, CSRF: token}
	p.Title = p.T("login.title")
	p.Notice = s.noticeText(r, lang)
	p.Error = errText
	p.Body = loginView{Username: username, Next: localPath(next)}
	s.render(w, r, status, "login", p)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := s.lang(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, lang, http.StatusBadRequest, "error.bad_request")
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameOrigin(r) || !tokenEqual(c.Value, r.PostFormValue("_csrf")) {
		// Most often a login page left open past the token's hour: show a fresh one.
		s.renderLogin(w, r, lang, http.StatusForbidden, r.PostFormValue("username"), r.PostFormValue("next"), s.cat.T(lang, "login.stale"))
		return
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	if username != "" && !strings.Contains(username, "@") && len(s.d.Config.Domains) > 0 {
		// The local part alone is enough; the province's first domain is meant.
		username += "@" + s.d.Config.Domains[0]
	}
	next := r.PostFormValue("next")
	acct, err := s.d.Auth.Login(ctx, auth.Request{
		Proto: "web", Username: username, Password: r.PostFormValue("password"),
		RemoteIP: clientIP(r), Web: true,
	})
	if err != nil {
		var ae *auth.Error
		if !errors.As(err, &ae) {
			s.serverError(w, r, lang, err)
			return
		}
		switch {
		case errors.Is(err, auth.ErrLocked):
			// The password was right, so saying why is no leak (auth says so too).
			reason := ""
			if a, err := s.d.Store.AccountByAddress(ctx, strings.ToLower(username)); err == nil {
				reason = a.LockReason
			}
			s.renderLocked(w, r, lang, i18n.Pick(lang, ae.VI, ae.EN), reason, false)
		case errors.Is(err, auth.ErrThrottled):
			if ae.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(ae.RetryAfter/time.Second)))
			}
			s.renderLogin(w, r, lang, http.StatusTooManyRequests, username, next, i18n.Pick(lang, ae.VI, ae.EN))
		default:
			s.renderLogin(w, r, lang, http.StatusOK, username, next, i18n.Pick(lang, ae.VI, ae.EN))
		}
		return
	}
	// A new id at every login: a session id planted before login is worth nothing.
	if old, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.Delete(ctx, old.Value)
	}
	// With two-factor authentication on (or for an operator, always), the password
	// only opens the second-factor page.
	needTOTP, _, err := s.d.Auth.NeedsTOTP(ctx, acct)
	if err != nil {
		s.serverError(w, r, lang, err)
		return
	}
	sess := &Session{AccountID: acct.ID, MustChange: acct.MustChange, PendingTOTP: needTOTP}
	if err := s.sessions.Create(ctx, sess); err != nil {
		s.serverError(w, r, lang, err)
		return
	}
	setCookie(w, sessionCookie, sess.ID, 0)
	clearCookie(w, loginCookie)
	if sess.PendingTOTP {
		http.Redirect(w, r, "/totp?next="+url.QueryEscape(localPath(next)), http.StatusSeeOther)
		return
	}
	if sess.MustChange {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, localPath(next), http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.sessions.Delete(r.Context(), rc.sess.ID)
	clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/login?n=logged_out", http.StatusSeeOther)
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	mb, err := s.d.Store.MailboxByName(r.Context(), rc.acct.ID, "INBOX")
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	target := "/mail/" + strconv.FormatInt(mb.ID, 10)
	if n := r.URL.Query().Get("n"); n != "" && s.cat.Has("notice."+n) {
		target += "?n=" + n
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// passwordView is the body of the change-password page.
type passwordView struct {
	Forced  bool   // R6.1: set by someone else, or R6.2: expired
	Reason  string // why the change is required
	Rules   []string
	Address string
}

func (s *Server) passwordPage(r *http.Request, rc *reqCtx) *pageData {
	p := &pageData{s: s, Lang: rc.lang, Path: r.URL.RequestURI(), Support: s.d.Support, Account: rc.acct, CSRF: rc.sess.CSRF}
	p.Title = p.T("password.title")
	forced := s.mustChange(rc.sess, rc.acct)
	reason := ""
	if forced {
		reason = p.T("password.reason.must_change")
		if !rc.acct.MustChange && s.d.Auth.Expired != nil && s.d.Auth.Expired(rc.acct.PasswordSetAt, s.d.Clock.Now()) {
			reason = p.T("password.reason.expired")
		}
	}
	p.Body = passwordView{
		Forced: forced, Reason: reason, Address: rc.acct.Address,
		Rules: []string{p.T("password.rule.length", s.policy.MinLength), p.T("password.rule.classes"),
			p.T("password.rule.special", spaced(s.policy.Specials)), p.T("password.rule.ascii"), p.T("password.rule.name")},
	}
	return p
}

func spaced(s string) string {
	parts := make([]string, 0, len(s))
	for _, r := range s {
		parts = append(parts, string(r))
	}
	return strings.Join(parts, " ")
}

func (s *Server) handlePasswordForm(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.render(w, r, http.StatusOK, "password", s.passwordPage(r, rc))
}

// handlePassword changes the password (R6.1, R6.3): every broken rule is listed, in
// the page's language; on success the new hash is stored with the must-change mark
// cleared, every other session of the account is ended and this one is renewed.
func (s *Server) handlePassword(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	p := s.passwordPage(r, rc)
	current := r.PostFormValue("current")
	pw := r.PostFormValue("new")
	confirm := r.PostFormValue("confirm")
	forced := s.mustChange(rc.sess, rc.acct)
	var errs []string
	if !forced {
		// A voluntary change asks for the current password: a session left open on
		// a shared computer must not be enough to take the account.
		ok, err := password.Verify(rc.acct.PasswordHash, current)
		if err != nil || !ok {
			errs = append(errs, p.T("password.err.current"))
		}
	}
	if pw != confirm {
		errs = append(errs, p.T("password.err.confirm"))
	}
	fullName := rc.acct.DisplayName
	if rc.acct.Kind == store.KindUnit || strings.Contains(fullName, "@") {
		fullName = ""
	}
	var history []string
	if rc.acct.PasswordHash != "" {
		// The store keeps only the current hash; it is the one that matters most
		// (the one-time password of R6.1 must not be kept).
		history = []string{rc.acct.PasswordHash}
	}
	if err := s.policy.Check(pw, password.CheckContext{Address: rc.acct.Address, FullName: fullName, PreviousHashes: history, Verify: password.Verify}); err != nil {
		var pe *password.Error
		if errors.As(err, &pe) {
			for _, v := range pe.Violations {
				errs = append(errs, i18n.Pick(rc.lang, v.VI, v.EN))
			}
		} else {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		p.Errors = errs
		s.render(w, r, http.StatusUnprocessableEntity, "password", p)
		return
	}
	hash, err := password.Hash(pw)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	if err := s.d.Store.SetPassword(ctx, rc.acct.ID, hash, false, s.d.Clock.Now()); err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	s.log.Info("password changed", "account", rc.acct.Address, "ip", clientIP(r), "forced", forced)
	if err := s.sessions.DeleteAccount(ctx, rc.acct.ID); err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	sess := &Session{AccountID: rc.acct.ID}
	if err := s.sessions.Create(ctx, sess); err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	setCookie(w, sessionCookie, sess.ID, 0)
	http.Redirect(w, r, "/?n=password_changed", http.StatusSeeOther)
}
