package web

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"unicode/utf8"

	"govmail/internal/auth"
	"govmail/internal/authz"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/web/i18n"
)

// The settings page of webmail: the second factor (R2.1) on and off, app
// passwords for mail programs once it is on, and the interface language.

func (s *Server) settingsRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /settings", s.authed(s.handleSettings))
	m.HandleFunc("POST /settings/totp", s.authed(s.handleSettingsTOTP))
	m.HandleFunc("POST /settings/apppw", s.authed(s.handleAppPasswordCreate))
	m.HandleFunc("POST /settings/apppw/{id}/delete", s.authed(s.handleAppPasswordDelete))
	m.HandleFunc("POST /settings/lang", s.authed(s.handleSettingsLang))
	m.HandleFunc("POST /settings/smime", s.authed(s.handleSettingsSMIME))
}

// maxAppPasswordName bounds the label of an app password.
const maxAppPasswordName = 60

type appPasswordRow struct {
	ID       int64
	Name     string
	Created  string
	LastUsed string
}

type settingsView struct {
	TOTPOn       bool
	Operator     bool // operators keep the second factor (security-level controls)
	Enrolling    bool
	Secret       string
	QR           template.URL
	OTPAuthURL   string
	AppPasswords []appPasswordRow
	NewPassword  string
	NewName      string
	Lang         string
	PortalURL    string
	UnitURL      string
	Prefs        prefsView // signature and vacation responder (prefs.go)
	Contacts     []contact // personal contacts (contacts.go)
	// SMIMEOn shows the S/MIME block (the server can keep keys); SMIMECert is
	// the stored signing certificate, nil when none.
	SMIMEOn   bool
	SMIMECert *smimeCertView
}

func (s *Server) handleSettings(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.renderSettings(w, r, rc, http.StatusOK, "", nil)
}

// renderSettings shows the page; extra, when set, fills what an action just
// produced (a new app password, shown once).
func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, errText string, extra func(*settingsView)) {
	ctx := r.Context()
	p, err := s.newPage(ctx, r, rc, s.cat.T(rc.lang, "settings.title"), 0)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	_, enrolled, err := s.d.Auth.NeedsTOTP(ctx, rc.acct)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	v := settingsView{TOTPOn: enrolled, Operator: rc.acct.Role == store.RoleOperator, Lang: string(rc.lang)}
	if !enrolled && rc.sess.EnrolSecret != "" {
		v.Enrolling, v.Secret = true, rc.sess.EnrolSecret
		v.OTPAuthURL = totpURL(rc.acct.Address, v.Secret)
		if qr, err := totpQR(rc.acct.Address, v.Secret); err == nil {
			v.QR = qr
		}
	}
	aps, err := s.d.Store.AppPasswords(ctx, rc.acct.ID)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	for _, ap := range aps {
		row := appPasswordRow{ID: ap.ID, Name: ap.Name, Created: s.fmtTime(rc.lang, ap.CreatedAt), LastUsed: s.cat.T(rc.lang, "settings.apppw.never")}
		if !ap.LastUsedAt.IsZero() {
			row.LastUsed = s.fmtTime(rc.lang, ap.LastUsedAt)
		}
		v.AppPasswords = append(v.AppPasswords, row)
	}
	if s.d.Dir != nil && s.d.Life != nil {
		if v.Operator {
			v.PortalURL = "/portal"
		}
		if av, err := authz.Load(ctx, s.d.Store, rc.acct); err == nil && (av.Manager() || av.SecurityContact()) {
			v.UnitURL = "/unit"
		}
	}
	v.Prefs = s.loadPrefs(ctx, rc)
	v.Contacts = s.loadContacts(ctx, rc.acct.ID)
	if s.smimeEnabled() {
		v.SMIMEOn = true
		v.SMIMECert = s.smimeCertView(ctx, rc.lang, rc.acct.ID)
	}
	if extra != nil {
		extra(&v)
	}
	p.ExtraCSS = true
	p.Error = errText
	p.Body = v
	s.render(w, r, status, "settings", p)
}

// handleSettingsTOTP turns the second factor on (start: a secret kept in the
// session; confirm: a code made with it, then stored by auth) or off (with the
// current password: a session left open must not be enough).
func (s *Server) handleSettingsTOTP(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	_, enrolled, err := s.d.Auth.NeedsTOTP(ctx, rc.acct)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	switch r.PostFormValue("op") {
	case "start":
		if enrolled {
			seeOther(w, r, "/settings", "")
			return
		}
		secret, _, err := s.d.Auth.NewTOTP(rc.acct, totpIssuer)
		if err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		rc.sess.EnrolSecret = secret
		if err := s.sessions.Update(ctx, rc.sess); err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		seeOther(w, r, "/settings#totp", "")
	case "cancel":
		rc.sess.EnrolSecret = ""
		if err := s.sessions.Update(ctx, rc.sess); err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		seeOther(w, r, "/settings", "")
	case "confirm":
		if enrolled || rc.sess.EnrolSecret == "" {
			seeOther(w, r, "/settings", "")
			return
		}
		code := strings.Join(strings.Fields(r.PostFormValue("code")), "")
		if err := s.d.Auth.ConfirmTOTP(ctx, rc.acct, rc.sess.EnrolSecret, code); err != nil {
			var ae *auth.Error
			if !errors.As(err, &ae) {
				s.serverError(w, r, rc.lang, err)
				return
			}
			s.renderSettings(w, r, rc, http.StatusUnprocessableEntity, i18n.Pick(rc.lang, ae.VI, ae.EN), nil)
			return
		}
		rc.sess.EnrolSecret = ""
		if err := s.sessions.Update(ctx, rc.sess); err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		s.log.Info("two-factor authentication on", "account", rc.acct.Address, "ip", clientIP(r))
		seeOther(w, r, "/settings", "totp_on")
	case "off":
		if rc.acct.Role == store.RoleOperator {
			s.renderSettings(w, r, rc, http.StatusForbidden, s.cat.T(rc.lang, "settings.totp.operator"), nil)
			return
		}
		if !enrolled {
			seeOther(w, r, "/settings", "")
			return
		}
		ok, err := password.Verify(rc.acct.PasswordHash, r.PostFormValue("current"))
		if err != nil || !ok {
			s.renderSettings(w, r, rc, http.StatusUnprocessableEntity, s.cat.T(rc.lang, "password.err.current"), nil)
			return
		}
		if err := s.d.Store.SetTOTP(ctx, rc.acct.ID, ""); err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		s.log.Info("two-factor authentication off", "account", rc.acct.Address, "ip", clientIP(r))
		seeOther(w, r, "/settings", "totp_off")
	default:
		s.renderError(w, r, rc.lang, http.StatusBadRequest, "error.bad_request")
	}
}

// handleAppPasswordCreate makes an app password for one mail program and shows
// it once; only its hash is kept (auth).
func (s *Server) handleAppPasswordCreate(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name := strings.Join(strings.Fields(r.PostFormValue("name")), " ")
	if name == "" || utf8.RuneCountInString(name) > maxAppPasswordName {
		s.renderSettings(w, r, rc, http.StatusUnprocessableEntity, s.cat.T(rc.lang, "settings.apppw.err_name", maxAppPasswordName), nil)
		return
	}
	pw, err := s.d.Auth.NewAppPassword(r.Context(), rc.acct, name)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	s.log.Info("app password created", "account", rc.acct.Address, "name", name, "ip", clientIP(r))
	s.renderSettings(w, r, rc, http.StatusOK, "", func(v *settingsView) { v.NewPassword, v.NewName = pw, name })
}

func (s *Server) handleAppPasswordDelete(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, ok := s.pathID(w, r, rc.lang, "id")
	if !ok {
		return
	}
	// The store deletes only the account's own: another's id does nothing.
	if err := s.d.Store.DeleteAppPassword(r.Context(), rc.acct.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.serverError(w, r, rc.lang, err)
		return
	}
	s.log.Info("app password revoked", "account", rc.acct.Address, "id", id, "ip", clientIP(r))
	seeOther(w, r, "/settings", "apppw_revoked")
}

func (s *Server) handleSettingsLang(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	l := i18n.Lang(r.PostFormValue("lang"))
	if !l.Valid() {
		s.renderError(w, r, rc.lang, http.StatusBadRequest, "error.bad_request")
		return
	}
	setCookie(w, langCookie, string(l), 365*24*3600)
	seeOther(w, r, "/settings", "lang_saved")
}
