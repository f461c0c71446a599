package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"govmail/internal/vacation"
)

// The settings of issue 8 part 6 beyond security: the signature compose adds
// to new messages, and the out-of-office responder that internal/vacation runs
// at delivery. Both are kept in the store's per-account settings.

// signatureKey is the user setting holding the signature text.
const signatureKey = "signature"

// maxSignature bounds the signature, in characters.
const maxSignature = 1000

// prefsView is the signature and vacation part of the settings page.
type prefsView struct {
	Signature string
	Vacation  vacation.Settings
	VacActive bool // on and not past its date: what the responder would do now
}

func (s *Server) prefsRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /settings/signature", s.authed(s.handleSettingsSignature))
	m.HandleFunc("POST /settings/vacation", s.authed(s.handleSettingsVacation))
}

// loadPrefs reads what the settings page shows; a failed read shows empty
// fields rather than no page (the settings page also turns 2FA off).
func (s *Server) loadPrefs(ctx context.Context, rc *reqCtx) prefsView {
	var v prefsView
	var err error
	if v.Signature, err = s.d.Store.UserSetting(ctx, rc.acct.ID, signatureKey); err != nil {
		s.log.Error("read signature", "account", rc.acct.ID, "err", err)
	}
	if v.Vacation, err = vacation.Load(ctx, s.d.Store, rc.acct.ID); err != nil {
		s.log.Error("read vacation", "account", rc.acct.ID, "err", err)
	}
	v.VacActive = v.Vacation.Active(s.d.Clock.Now(), s.loc)
	return v
}

func (s *Server) handleSettingsSignature(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	sig := strings.TrimRight(strings.ReplaceAll(r.PostFormValue("signature"), "\r\n", "\n"), " \t\n")
	if utf8.RuneCountInString(sig) > maxSignature {
		s.renderSettings(w, r, rc, http.StatusUnprocessableEntity, s.cat.T(rc.lang, "settings.sig.too_long", maxSignature), func(v *settingsView) {
			v.Prefs.Signature = sig
		})
		return
	}
	if err := s.d.Store.SetUserSetting(r.Context(), rc.acct.ID, signatureKey, sig); err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	seeOther(w, r, "/settings", "sig_saved")
}

func (s *Server) handleSettingsVacation(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	vs := vacation.Settings{
		On:      r.PostFormValue("on") == "1",
		Subject: strings.TrimSpace(r.PostFormValue("subject")),
		Message: strings.TrimRight(strings.ReplaceAll(r.PostFormValue("message"), "\r\n", "\n"), " \t\n"),
		Until:   strings.TrimSpace(r.PostFormValue("until")),
	}
	fail := func(errText string) {
		s.renderSettings(w, r, rc, http.StatusUnprocessableEntity, errText, func(v *settingsView) { v.Prefs.Vacation = vs })
	}
	if utf8.RuneCountInString(vs.Message) > vacation.MaxMessage || utf8.RuneCountInString(vs.Subject) > 200 {
		fail(s.cat.T(rc.lang, "settings.vac.too_long", vacation.MaxMessage))
		return
	}
	switch err := vacation.Save(r.Context(), s.d.Store, rc.acct.ID, vs); {
	case errors.Is(err, vacation.ErrBadDate):
		fail(s.cat.T(rc.lang, "settings.vac.bad_date"))
		return
	case err != nil:
		s.serverError(w, r, rc.lang, err)
		return
	}
	seeOther(w, r, "/settings", "vac_saved")
}

// applySignature ends a new message, reply or forward with the user's
// signature below the "-- " line (RFC 3676 4.3), above any quoted text; a
// draft already has what the user left in it.
func (s *Server) applySignature(ctx context.Context, rc *reqCtx, v *composeView) {
	if v.RefKind == "draft" {
		return
	}
	sig, err := s.d.Store.UserSetting(ctx, rc.acct.ID, signatureKey)
	if err != nil {
		s.log.Error("read signature", "account", rc.acct.ID, "err", err)
		return
	}
	if sig == "" {
		return
	}
	v.Text = "\n\n-- \n" + sig + v.Text
}
