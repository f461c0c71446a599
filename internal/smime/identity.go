package smime

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"

	"software.sslmate.com/src/go-pkcs12"
)

// Identity is a user's signing certificate with its private key.
type Identity struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate // issuers, as the PKCS#12 file carried them
}

// Errors of LoadPKCS12 a user can act on.
var (
	ErrPKCS12Password = errors.New("smime: wrong PKCS#12 password")
	ErrPKCS12         = errors.New("smime: not a PKCS#12 file with one certificate and its key")
	ErrKeyMismatch    = errors.New("smime: the private key does not belong to the certificate")
)

// LoadPKCS12 reads a .p12/.pfx file (as exported by Windows, Firefox, openssl
// or the token tools of Vietnamese CAs) with its password.
func LoadPKCS12(data []byte, password string) (*Identity, error) {
	key, cert, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, ErrPKCS12Password
		}
		return nil, fmt.Errorf("%w: %v", ErrPKCS12, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok || cert == nil {
		return nil, ErrPKCS12
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, ErrKeyMismatch
	}
	// The signature carries the chain issuer first; pkcs7 checks that order.
	return &Identity{Cert: cert, Key: signer, Chain: orderChain(cert, chain)}, nil
}

// orderChain keeps the issuers that form a path up from cert, in order; PKCS#12
// files list their CA certificates in any order.
func orderChain(cert *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	cur := cert
	used := make([]bool, len(pool))
	for {
		found := false
		for i, c := range pool {
			if used[i] || c.Equal(cur) {
				continue
			}
			if bytes.Equal(cur.RawIssuer, c.RawSubject) && cur.CheckSignatureFrom(c) == nil {
				out = append(out, c)
				used[i], cur, found = true, c, true
				break
			}
		}
		if !found || bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			return out
		}
	}
}

// CertPEM is the certificate followed by its chain, PEM-encoded, as stored.
func (id *Identity) CertPEM() []byte {
	var b bytes.Buffer
	for _, c := range append([]*x509.Certificate{id.Cert}, id.Chain...) {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// ParseCertPEM reads what CertPEM wrote: the certificate, then its chain.
func ParseCertPEM(b []byte) (*x509.Certificate, []*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("smime: stored certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, nil, errors.New("smime: no stored certificate")
	}
	return certs[0], certs[1:], nil
}

// keyInfo names the purpose of the derived key, so that the server secret used
// for other things never yields the same key.
const keyInfo = "govmail smime private key v1"

// aead derives the key-encryption key from the server secret with HKDF-SHA256.
func aead(secret []byte) (cipher.AEAD, error) {
	if len(secret) < 32 {
		return nil, errors.New("smime: the server secret must be at least 32 bytes")
	}
	k, err := hkdf.Key(sha256.New, secret, nil, keyInfo, 32)
	if err != nil {
		return nil, err
	}
	blk, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// ad binds a sealed key to its account: a row copied to another account does
// not open.
func ad(accountID int64) []byte {
	return binary.BigEndian.AppendUint64([]byte("account:"), uint64(accountID))
}

// SealKey encrypts the identity's private key (PKCS#8) for storage with
// AES-256-GCM under a key derived from secret; the nonce goes first.
func (id *Identity) SealKey(secret []byte, accountID int64) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		return nil, fmt.Errorf("smime: key: %w", err)
	}
	g, err := aead(secret)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, der, ad(accountID)), nil
}

// OpenIdentity rebuilds an identity from what the store keeps.
func OpenIdentity(certPEM, sealed, secret []byte, accountID int64) (*Identity, error) {
	cert, chain, err := ParseCertPEM(certPEM)
	if err != nil {
		return nil, err
	}
	g, err := aead(secret)
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize() {
		return nil, errors.New("smime: stored key too short")
	}
	der, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], ad(accountID))
	if err != nil {
		return nil, errors.New("smime: stored key does not open with the server secret")
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("smime: stored key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("smime: stored key cannot sign")
	}
	return &Identity{Cert: cert, Key: signer, Chain: chain}, nil
}

// Email is the certificate's e-mail address ("" when it has none).
func (id *Identity) Email() string { return certEmail(id.Cert) }
