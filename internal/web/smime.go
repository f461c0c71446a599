package web

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"govmail/internal/smime"
	"govmail/internal/store"
	"govmail/internal/web/i18n"
)

// S/MIME in webmail (N2, Thông tư 39/2017): the read view says who signed a
// message and whether the signature and the signer's certificate verify against
// the operator's trust anchors (Deps.SMIMERoots); the settings page takes a
// user's PKCS#12 file, whose key is kept encrypted under Deps.SMIMEKey; compose
// signs with it on request. Verification reads the stored bytes and never
// changes them.

// maxPKCS12Bytes bounds an uploaded .p12/.pfx; real ones are a few kilobytes.
const maxPKCS12Bytes = 256 << 10

// smimeStatusView is the verification result the read view shows.
type smimeStatusView struct {
	Signer       string // "Name <address>", or "?" when no certificate was found
	SigValid     bool
	ChainValid   bool
	NoRoots      bool   // no trust anchors configured: the chain could not be judged
	ChainProblem string // why the chain failed, in the page's language
	NotAfter     string // the certificate's expiry
	// FromMismatch is the certificate's address when it is not among From's.
	FromMismatch string
}

// smimeStatus verifies raw for the read view; from are the message's From
// addresses, to compare with the certificate's.
func (s *Server) smimeStatus(lang i18n.Lang, raw []byte, from []string) *smimeStatusView {
	res, err := smime.Verify(raw, s.d.SMIMERoots, s.d.Clock.Now())
	if res == nil || !res.Signed {
		return nil
	}
	v := &smimeStatusView{SigValid: err == nil && res.SignatureValid, ChainValid: err == nil && res.ChainValid}
	switch {
	case res.SignerName != "" && res.SignerEmail != "":
		v.Signer = res.SignerName + " <" + res.SignerEmail + ">"
	case res.SignerEmail != "":
		v.Signer = res.SignerEmail
	case res.SignerName != "":
		v.Signer = res.SignerName
	default:
		v.Signer = "?"
	}
	if !res.NotAfter.IsZero() {
		v.NotAfter = s.formatFullDate(lang, res.NotAfter.In(s.loc))
	}
	if res.SignerEmail != "" && !slices.ContainsFunc(from, func(a string) bool { return strings.EqualFold(a, res.SignerEmail) }) {
		v.FromMismatch = res.SignerEmail
	}
	if err != nil {
		s.log.Info("S/MIME message unreadable", "err", err)
		v.ChainProblem = s.cat.T(lang, "read.smime_unreadable")
		return v
	}
	if !v.ChainValid {
		var inv x509.CertificateInvalidError
		var ua x509.UnknownAuthorityError
		switch {
		case errors.Is(res.ChainErr, smime.ErrNoRoots):
			v.NoRoots = true
		case errors.As(res.ChainErr, &inv) && inv.Reason == x509.Expired:
			v.ChainProblem = s.cat.T(lang, "read.smime_expired")
		case errors.As(res.ChainErr, &ua):
			v.ChainProblem = s.cat.T(lang, "read.smime_unknown_ca")
		case errors.As(res.ChainErr, &inv) && inv.Reason == x509.IncompatibleUsage:
			v.ChainProblem = s.cat.T(lang, "read.smime_usage")
		default:
			v.ChainProblem = res.ChainError
		}
	}
	return v
}

// smimeEnabled: users may keep a signing identity only when the server has a
// secret to encrypt their keys with.
func (s *Server) smimeEnabled() bool { return len(s.d.SMIMEKey) >= 32 }

// smimeIdentity loads the account's signing identity; nil and no error when it
// has none or S/MIME signing is not enabled.
func (s *Server) smimeIdentity(ctx context.Context, accountID int64) (*smime.Identity, error) {
	if !s.smimeEnabled() {
		return nil, nil
	}
	certPEM, sealed, err := s.d.Store.SMIMEIdentity(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return smime.OpenIdentity(certPEM, sealed, s.d.SMIMEKey, accountID)
}

// hasSMIMEIdentity tells compose whether to offer signing; a store error hides
// the option rather than the page.
func (s *Server) hasSMIMEIdentity(ctx context.Context, accountID int64) bool {
	if !s.smimeEnabled() {
		return false
	}
	_, _, err := s.d.Store.SMIMEIdentity(ctx, accountID)
	return err == nil
}

// smimeCertView describes the stored certificate on the settings page.
type smimeCertView struct {
	Name, Email, Issuer, NotAfter string
	Expired                       bool
}

func (s *Server) smimeCertView(ctx context.Context, lang i18n.Lang, accountID int64) *smimeCertView {
	certPEM, _, err := s.d.Store.SMIMEIdentity(ctx, accountID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("S/MIME identity", "account", accountID, "err", err)
		}
		return nil
	}
	c, _, err := smime.ParseCertPEM(certPEM)
	if err != nil {
		return nil
	}
	id := &smime.Identity{Cert: c}
	return &smimeCertView{Name: c.Subject.CommonName, Email: id.Email(), Issuer: c.Issuer.CommonName,
		NotAfter: s.formatFullDate(lang, c.NotAfter.In(s.loc)), Expired: s.d.Clock.Now().After(c.NotAfter)}
}

// handleSettingsSMIME stores the signing identity of an uploaded PKCS#12 file.
// The certificate must name the account's address and be valid now; the key is
// sealed before it reaches the store.
func (s *Server) handleSettingsSMIME(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if !s.smimeEnabled() {
		s.renderError(w, r, rc.lang, http.StatusNotFound, "portal.not_found")
		return
	}
	fail := func(key string, args ...any) {
		s.renderSettings(w, r, rc, http.StatusUnprocessableEntity, s.cat.T(rc.lang, key, args...), nil)
	}
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) != 1 || r.MultipartForm.File["file"][0].Size == 0 {
		fail("settings.smime.err_file")
		return
	}
	fh := r.MultipartForm.File["file"][0]
	if fh.Size > maxPKCS12Bytes {
		fail("settings.smime.err_file")
		return
	}
	fl, err := fh.Open()
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(fl, maxPKCS12Bytes))
	fl.Close()
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	id, err := smime.LoadPKCS12(data, r.PostFormValue("p12_password"))
	switch {
	case errors.Is(err, smime.ErrPKCS12Password):
		fail("settings.smime.err_password")
		return
	case err != nil:
		s.log.Info("S/MIME upload refused", "account", rc.acct.Address, "err", err)
		fail("settings.smime.err_file")
		return
	}
	c := id.Cert
	if !slices.ContainsFunc(append(slices.Clone(c.EmailAddresses), id.Email()), func(a string) bool { return strings.EqualFold(a, rc.acct.Address) }) {
		fail("settings.smime.err_email", rc.acct.Address)
		return
	}
	now := s.d.Clock.Now()
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		fail("settings.smime.err_expired")
		return
	}
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 ||
		len(c.ExtKeyUsage) > 0 && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
		fail("settings.smime.err_usage")
		return
	}
	sealed, err := id.SealKey(s.d.SMIMEKey, rc.acct.ID)
	if err != nil {
		s.serverError(w, r, rc.lang, fmt.Errorf("seal S/MIME key: %w", err))
		return
	}
	if err := s.d.Store.PutSMIMEIdentity(r.Context(), rc.acct.ID, id.CertPEM(), sealed); err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	s.log.Info("S/MIME identity stored", "account", rc.acct.Address, "subject", c.Subject.String(), "not_after", c.NotAfter, "ip", clientIP(r))
	seeOther(w, r, "/settings", "smime_saved")
}

// signOutgoing signs the message for recipients and the Sent copy with the
// account's identity. A message cannot be signed without a usable identity: the
// user asked for a signature, so nothing goes out unsigned.
func (s *Server) signOutgoing(ctx context.Context, rc *reqCtx, wire, sentCopy []byte) ([]byte, []byte, string, error) {
	id, err := s.smimeIdentity(ctx, rc.acct.ID)
	if err != nil {
		s.log.Error("S/MIME identity unusable", "account", rc.acct.Address, "err", err)
		return nil, nil, "compose.err.smime_none", nil
	}
	if id == nil {
		return nil, nil, "compose.err.smime_none", nil
	}
	now := s.d.Clock.Now()
	if now.Before(id.Cert.NotBefore) || now.After(id.Cert.NotAfter) {
		return nil, nil, "compose.err.smime_expired", nil
	}
	sw, err := smime.Sign(wire, id.Cert, id.Key, id.Chain)
	if err != nil {
		return nil, nil, "", err
	}
	sc, err := smime.Sign(sentCopy, id.Cert, id.Key, id.Chain)
	if err != nil {
		return nil, nil, "", err
	}
	return sw, sc, "", nil
}
