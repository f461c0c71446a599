// Package smime verifies and makes S/MIME v3.2 signatures (RFC 5751) for state
// mail, which Thông tư 39/2017 requires to be signed (N2). Verification never
// changes the message: it works on a canonical (CRLF) copy of the bytes it is
// given and reports who signed, whether the signature matches the content and
// whether the signer's certificate chains to a trust anchor the operator
// configured. Signing wraps a message built by webmail in multipart/signed with a
// detached PKCS#7 signature, the form every mail client and `openssl smime`
// verify.
package smime

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/smallstep/pkcs7"
)

// Result is what Verify found.
type Result struct {
	// Signed: the message is multipart/signed with a PKCS#7 signature or
	// application/pkcs7-mime signed-data. The other fields mean nothing without it.
	Signed      bool
	SignerEmail string // from the certificate's subjectAltName, else its subject
	SignerName  string // the certificate's common name
	// SignatureValid: the signature was made by the signer's key over exactly
	// the content carried (the body was not altered).
	SignatureValid bool
	// ChainValid: the signer's certificate chains, at the time given to Verify,
	// to one of the configured roots for e-mail protection. ChainError says why
	// not, in English (it is a crypto/x509 message).
	ChainValid bool
	ChainError string
	// ChainErr is the error behind ChainError (ErrNoRoots, or crypto/x509's
	// CertificateInvalidError, UnknownAuthorityError, …) for callers that
	// explain it in their own words.
	ChainErr error
	NotAfter time.Time // the signer certificate's expiry
	// Signer is the signer's certificate, nil when none could be found.
	Signer *x509.Certificate
}

// ErrNoRoots is the chain error when no trust anchors are configured.
var ErrNoRoots = errors.New("no trust anchors configured")

// oidEmailAddress is PKCS#9 emailAddress, which older CAs (Vietnamese ones among
// them) put in the subject instead of the subjectAltName.
var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// Canonical returns raw with every line ending CRLF, the canonical form the
// signature of RFC 5751 §3.1.1 is computed over. Stored messages are CRLF
// already; this only matters for bytes that went through LF-only tools.
func Canonical(raw []byte) []byte {
	if !bytes.Contains(raw, []byte("\n")) {
		return raw
	}
	out := make([]byte, 0, len(raw)+len(raw)/40)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\n' && (i == 0 || raw[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// splitHeader returns the header (with its final CRLF) and the body of a
// canonical message or part.
func splitHeader(b []byte) (hdr, body []byte) {
	if bytes.HasPrefix(b, []byte("\r\n")) {
		return nil, b[2:]
	}
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		return b, nil
	}
	return b[:i+2], b[i+4:]
}

func readHeader(hdr []byte) (textproto.Header, error) {
	return textproto.ReadHeader(bufio.NewReader(io.MultiReader(bytes.NewReader(hdr), strings.NewReader("\r\n"))))
}

// Verify checks the S/MIME signature of raw, a whole message. A message that is
// not signed gives Result{Signed: false} and no error. A signed message whose
// structure or PKCS#7 cannot be read gives a Result with Signed set, nothing
// valid, and the error.
func Verify(raw []byte, roots *x509.CertPool, now time.Time) (*Result, error) {
	canon := Canonical(raw)
	hdr, body := splitHeader(canon)
	h, err := readHeader(hdr)
	if err != nil {
		return &Result{}, nil
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return &Result{}, nil
	}
	res := &Result{}
	var p7 *pkcs7.PKCS7
	switch strings.ToLower(mt) {
	case "multipart/signed":
		if !isSignatureType(params["protocol"]) {
			return res, nil
		}
		res.Signed = true
		content, sig, err := splitSigned(body, params["boundary"])
		if err != nil {
			return res, err
		}
		p7, err = pkcs7.Parse(sig)
		if err != nil {
			return res, fmt.Errorf("smime: signature: %w", err)
		}
		p7.Content = content
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		if !strings.EqualFold(params["smime-type"], "signed-data") {
			return res, nil // enveloped data: not ours to open
		}
		res.Signed = true
		der, err := decodeBody(body, h.Get("Content-Transfer-Encoding"))
		if err != nil {
			return res, err
		}
		p7, err = pkcs7.Parse(der)
		if err != nil {
			return res, fmt.Errorf("smime: signed-data: %w", err)
		}
	default:
		return res, nil
	}
	signer := p7.GetOnlySigner()
	if signer != nil {
		res.Signer = signer
		res.SignerName = signer.Subject.CommonName
		res.SignerEmail = certEmail(signer)
		res.NotAfter = signer.NotAfter
	}
	// Verify checks the digest of the content and the signature over the signed
	// attributes, with no trust store: the chain is judged below, at now.
	res.SignatureValid = p7.Verify() == nil
	switch {
	case signer == nil:
		res.ChainErr = errors.New("no single signer certificate in the signature")
		res.ChainError = res.ChainErr.Error()
	case roots == nil:
		res.ChainErr = ErrNoRoots
		res.ChainError = ErrNoRoots.Error()
	default:
		inter := x509.NewCertPool()
		for _, c := range p7.Certificates {
			if !c.Equal(signer) {
				inter.AddCert(c)
			}
		}
		_, err := signer.Verify(x509.VerifyOptions{
			Roots: roots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		})
		if err != nil {
			res.ChainErr, res.ChainError = err, err.Error()
		} else {
			res.ChainValid = true
		}
	}
	return res, nil
}

func isSignatureType(t string) bool {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
		return true
	}
	return false
}

// certEmail is the signer's address: subjectAltName first, then the subject's
// emailAddress attribute.
func certEmail(c *x509.Certificate) string {
	if len(c.EmailAddresses) > 0 {
		return strings.ToLower(c.EmailAddresses[0])
	}
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oidEmailAddress) {
			if s, ok := n.Value.(string); ok {
				return strings.ToLower(s)
			}
		}
	}
	return ""
}

// splitSigned cuts the body of a multipart/signed message into the exact bytes
// of its first part (the signed content, RFC 1847: without the CRLF that
// belongs to the next delimiter) and the decoded signature of its second.
func splitSigned(body []byte, boundary string) (content, sig []byte, err error) {
	if boundary == "" {
		return nil, nil, errors.New("smime: multipart/signed without boundary")
	}
	delim := []byte("--" + boundary)
	// Find the first delimiter at the start of a line.
	var start int
	if bytes.HasPrefix(body, delim) {
		start = len(delim)
	} else {
		i := bytes.Index(body, append([]byte("\r\n"), delim...))
		if i < 0 {
			return nil, nil, errors.New("smime: no first part")
		}
		start = i + 2 + len(delim)
	}
	eol := bytes.Index(body[start:], []byte("\r\n"))
	if eol < 0 {
		return nil, nil, errors.New("smime: truncated multipart/signed")
	}
	start += eol + 2
	next := append([]byte("\r\n"), delim...)
	end := bytes.Index(body[start:], next)
	if end < 0 {
		return nil, nil, errors.New("smime: no signature part")
	}
	content = body[start : start+end]
	rest := body[start+end+len(next):]
	eol = bytes.Index(rest, []byte("\r\n"))
	if eol < 0 {
		return nil, nil, errors.New("smime: truncated signature part")
	}
	rest = rest[eol+2:]
	if j := bytes.Index(rest, next); j >= 0 {
		rest = rest[:j]
	}
	ph, pb := splitHeader(rest)
	h, err := readHeader(ph)
	if err != nil {
		return nil, nil, fmt.Errorf("smime: signature part header: %w", err)
	}
	if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); !isSignatureType(mt) {
		return nil, nil, fmt.Errorf("smime: second part is %q, not a PKCS#7 signature", mt)
	}
	sig, err = decodeBody(pb, h.Get("Content-Transfer-Encoding"))
	return content, sig, err
}

func decodeBody(b []byte, cte string) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, b)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			return nil, fmt.Errorf("smime: base64: %w", err)
		}
		return out[:n], nil
	default:
		return b, nil
	}
}

// Sign wraps raw, a whole message, in multipart/signed (protocol
// application/pkcs7-signature, micalg sha-256) signed with key for cert;
// chain (issuer first) goes into the signature so recipients can build the path.
// The fields describing the content (Content-*) move into the signed part; the
// others (From, To, Subject, …) stay in the outer header, outside the
// signature, as every S/MIME client does. The content should be 7-bit (quoted-
// printable or base64 as webmail writes it) so no relay may re-encode it.
func Sign(raw []byte, cert *x509.Certificate, key crypto.Signer, chain []*x509.Certificate) ([]byte, error) {
	if cert == nil || key == nil {
		return nil, errors.New("smime: no certificate or key")
	}
	canon := Canonical(raw)
	hdr, body := splitHeader(canon)
	var outer, inner bytes.Buffer
	hasCT, hasMIME := false, false
	for _, f := range headerFields(hdr) {
		name, _, _ := strings.Cut(string(f), ":")
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case strings.HasPrefix(name, "content-"):
			if name == "content-type" {
				hasCT = true
			}
			inner.Write(f)
		case name == "mime-version":
			hasMIME = true
			outer.Write(f)
		default:
			outer.Write(f)
		}
	}
	if !hasCT {
		inner.WriteString("Content-Type: text/plain; charset=us-ascii\r\n")
	}
	inner.WriteString("\r\n")
	inner.Write(body)
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		inner.WriteString("\r\n")
	}
	content := inner.Bytes()

	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, fmt.Errorf("smime: sign: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSignerChain(cert, key, chain, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("smime: sign: %w", err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("smime: sign: %w", err)
	}
	var rb [16]byte
	if _, err := rand.Read(rb[:]); err != nil {
		return nil, fmt.Errorf("smime: boundary: %w", err)
	}
	boundary := "----=_smime_" + hex.EncodeToString(rb[:])

	var out bytes.Buffer
	out.Write(outer.Bytes())
	if !hasMIME {
		out.WriteString("MIME-Version: 1.0\r\n")
	}
	fmt.Fprintf(&out, "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;\r\n boundary=\"%s\"\r\n\r\n", boundary)
	out.WriteString("This is an S/MIME signed message\r\n\r\n")
	fmt.Fprintf(&out, "--%s\r\n", boundary)
	out.Write(content)
	fmt.Fprintf(&out, "\r\n--%s\r\n", boundary)
	out.WriteString("Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n")
	out.WriteString("Content-Transfer-Encoding: base64\r\n")
	out.WriteString("Content-Disposition: attachment; filename=\"smime.p7s\"\r\n")
	out.WriteString("Content-Description: S/MIME Cryptographic Signature\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(der)
	for len(enc) > 76 {
		out.WriteString(enc[:76])
		out.WriteString("\r\n")
		enc = enc[76:]
	}
	out.WriteString(enc)
	fmt.Fprintf(&out, "\r\n\r\n--%s--\r\n", boundary)
	return out.Bytes(), nil
}

// headerFields splits a canonical header into its fields, each with its
// continuation lines and final CRLF, bytes unchanged.
func headerFields(hdr []byte) [][]byte {
	var fields [][]byte
	for len(hdr) > 0 {
		i := bytes.Index(hdr, []byte("\r\n"))
		var line []byte
		if i < 0 {
			line, hdr = append(hdr[:len(hdr):len(hdr)], '\r', '\n'), nil
		} else {
			line, hdr = hdr[:i+2], hdr[i+2:]
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			last := fields[len(fields)-1]
			fields[len(fields)-1] = append(last[:len(last):len(last)], line...)
			continue
		}
		fields = append(fields, line)
	}
	return fields
}
