package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"image/png"
	"net/http"
	"net/url"
	"strings"

	"github.com/pquerna/otp"

	"govmail/internal/auth"
	"govmail/internal/web/i18n"
)

// maxTOTPFailures ends a half-signed-in session after this many wrong codes; the
// auth throttle counts them too, across sessions.
const maxTOTPFailures = 5

// totpView is the body of the second-factor page.
type totpView struct {
	Enrol  bool
	Secret string
	QR     template.URL // data: URL of the PNG, allowed by the page CSP (img-src data:)
	Next   string
}

// totpIssuer names the account in authenticator apps.
const totpIssuer = "Thư công vụ Sơn La"

func (s *Server) totpPage(r *http.Request, rc *reqCtx) (*pageData, error) {
	ctx := r.Context()
	p := &pageData{s: s, Lang: rc.lang, Path: r.URL.RequestURI(), Support: s.d.Support, Account: rc.acct, CSRF: rc.sess.CSRF}
	p.Title = p.T("totp.title")
	_, enrolled, err := s.d.Auth.NeedsTOTP(ctx, rc.acct)
	if err != nil {
		return nil, err
	}
	v := totpView{Enrol: !enrolled, Next: localPath(r.URL.Query().Get("next"))}
	if r.Method == http.MethodPost {
		v.Next = localPath(r.PostFormValue("next"))
	}
	if v.Enrol {
		if rc.sess.EnrolSecret == "" {
			secret, _, err := s.d.Auth.NewTOTP(rc.acct, totpIssuer)
			if err != nil {
				return nil, err
			}
			rc.sess.EnrolSecret = secret
			if err := s.sessions.Update(ctx, rc.sess); err != nil {
				return nil, err
			}
		}
		v.Secret = rc.sess.EnrolSecret
		if qr, err := totpQR(rc.acct.Address, rc.sess.EnrolSecret); err == nil {
			v.QR = qr
		}
	}
	p.Body = v
	return p, nil
}

// totpURL is the otpauth URL of the secret, for apps that take it as text.
func totpURL(account, secret string) string {
	q := url.Values{"secret": {secret}, "issuer": {totpIssuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + totpIssuer + ":" + account, RawQuery: q.Encode()}
	return u.String()
}

// totpQR draws the otpauth URL of the secret as a PNG data URL.
func totpQR(account, secret string) (template.URL, error) {
	k, err := otp.NewKeyFromURL(totpURL(account, secret))
	if err != nil {
		return "", err
	}
	img, err := k.Image(200, 200)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

func (s *Server) handleTOTPForm(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if !rc.sess.PendingTOTP {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	p, err := s.totpPage(r, rc)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	s.render(w, r, http.StatusOK, "totp", p)
}

// handleTOTP checks the second factor (or confirms a new enrolment) and then renews
// the session without the pending mark.
func (s *Server) handleTOTP(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	if !rc.sess.PendingTOTP {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	p, err := s.totpPage(r, rc)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	v := p.Body.(totpView)
	code := strings.Join(strings.Fields(r.PostFormValue("code")), "")
	if v.Enrol {
		err = s.d.Auth.ConfirmTOTP(ctx, rc.acct, rc.sess.EnrolSecret, code)
	} else {
		err = s.d.Auth.VerifyTOTP(ctx, rc.acct, code, clientIP(r))
	}
	if err != nil {
		var ae *auth.Error
		if !errors.As(err, &ae) {
			s.serverError(w, r, rc.lang, err)
			return
		}
		rc.sess.TOTPFailures++
		if rc.sess.TOTPFailures >= maxTOTPFailures {
			s.sessions.Delete(ctx, rc.sess.ID)
			clearCookie(w, sessionCookie)
			http.Redirect(w, r, "/login?n=totp_failed", http.StatusSeeOther)
			return
		}
		if err := s.sessions.Update(ctx, rc.sess); err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		p.Error = i18n.Pick(rc.lang, ae.VI, ae.EN)
		s.render(w, r, http.StatusUnprocessableEntity, "totp", p)
		return
	}
	// Signed in: a new session id for the new privilege.
	s.sessions.Delete(ctx, rc.sess.ID)
	sess := &Session{AccountID: rc.acct.ID, MustChange: rc.sess.MustChange}
	if err := s.sessions.Create(ctx, sess); err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	setCookie(w, sessionCookie, sess.ID, 0)
	if sess.MustChange {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
}
