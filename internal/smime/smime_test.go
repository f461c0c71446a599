package smime_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"govmail/internal/smime"
	"govmail/internal/smime/smimetest"
)

const plain = "From: =?utf-8?q?Nguy=E1=BB=85n_V=C4=83n_A?= <anv.skhcn@sonla.gov.vn>\r\n" +
	"To: btv.sotc@sonla.gov.vn\r\n" +
	"Subject: =?utf-8?q?C=C3=B4ng_v=C4=83n?=\r\n" +
	"Date: Tue, 10 Mar 2026 09:00:00 +0700\r\n" +
	"Message-ID: <abc@sonla.gov.vn>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"K=C3=ADnh g=E1=BB=ADi anh.\r\n" +
	"From the office\r\n"

type fixture struct {
	ca   *smimetest.CA
	cert *x509.Certificate
	key  *rsa.PrivateKey
	sign func(t *testing.T) []byte
}

func newFixture(t *testing.T) *fixture {
	ca := smimetest.NewCA(t, "Test Root CA")
	now := time.Now()
	cert, key := ca.Issue(t, "Nguyễn Văn A", "anv.skhcn@sonla.gov.vn", now.Add(-time.Hour), now.Add(24*time.Hour))
	f := &fixture{ca: ca, cert: cert, key: key}
	f.sign = func(t *testing.T) []byte {
		t.Helper()
		out, err := smime.Sign([]byte(plain), cert, key, []*x509.Certificate{ca.Cert})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return f
}

func TestSignVerify(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t)
	if !bytes.Contains(signed, []byte(`protocol="application/pkcs7-signature"; micalg=sha-256`)) {
		t.Errorf("content type:\n%s", signed)
	}
	// The outer header keeps the addressing fields; the body moved in unchanged.
	if !bytes.HasPrefix(signed, []byte("From: ")) || !bytes.Contains(signed, []byte("K=C3=ADnh g=E1=BB=ADi anh.\r\nFrom the office\r\n")) {
		t.Errorf("signed message:\n%s", signed)
	}
	now := time.Now()
	res, err := smime.Verify(signed, f.ca.Pool(), now)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Signed || !res.SignatureValid || !res.ChainValid || res.SignerEmail != "anv.skhcn@sonla.gov.vn" || res.SignerName != "Nguyễn Văn A" || !res.NotAfter.Equal(f.cert.NotAfter) {
		t.Errorf("valid: %+v", res)
	}
	// LF-only copies (as some tools write them) verify too.
	if res, _ := smime.Verify(bytes.ReplaceAll(signed, []byte("\r\n"), []byte("\n")), f.ca.Pool(), now); !res.SignatureValid {
		t.Error("LF copy does not verify")
	}

	t.Run("tampered", func(t *testing.T) {
		bad := bytes.Replace(signed, []byte("From the office"), []byte("From the 0ffice"), 1)
		res, err := smime.Verify(bad, f.ca.Pool(), now)
		if err != nil || !res.Signed || res.SignatureValid {
			t.Errorf("tampered: %+v %v", res, err)
		}
	})
	t.Run("unknown root", func(t *testing.T) {
		other := smimetest.NewCA(t, "Other CA")
		res, err := smime.Verify(signed, other.Pool(), now)
		if err != nil || !res.SignatureValid || res.ChainValid || res.ChainError == "" {
			t.Errorf("unknown root: %+v %v", res, err)
		}
	})
	t.Run("no roots", func(t *testing.T) {
		res, err := smime.Verify(signed, nil, now)
		if err != nil || !res.SignatureValid || res.ChainValid || res.ChainError != smime.ErrNoRoots.Error() {
			t.Errorf("no roots: %+v %v", res, err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		res, err := smime.Verify(signed, f.ca.Pool(), now.Add(48*time.Hour))
		if err != nil || !res.SignatureValid || res.ChainValid || !strings.Contains(res.ChainError, "expired") {
			t.Errorf("expired: %+v %v", res, err)
		}
	})
	t.Run("not signed", func(t *testing.T) {
		res, err := smime.Verify([]byte(plain), f.ca.Pool(), now)
		if err != nil || res.Signed {
			t.Errorf("plain: %+v %v", res, err)
		}
	})
}

func TestPKCS12AndSealedKey(t *testing.T) {
	f := newFixture(t)
	p12 := f.ca.P12(t, f.cert, f.key, "mật-khẩu")
	if _, err := smime.LoadPKCS12(p12, "sai"); !errors.Is(err, smime.ErrPKCS12Password) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := smime.LoadPKCS12([]byte("not a p12"), "x"); err == nil {
		t.Error("garbage accepted")
	}
	id, err := smime.LoadPKCS12(p12, "mật-khẩu")
	if err != nil {
		t.Fatal(err)
	}
	if id.Email() != "anv.skhcn@sonla.gov.vn" || len(id.Chain) != 1 || !id.Chain[0].Equal(f.ca.Cert) {
		t.Fatalf("identity: %v %d", id.Email(), len(id.Chain))
	}
	secret := bytes.Repeat([]byte{7}, 32)
	sealed, err := id.SealKey(secret, 42)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := smime.OpenIdentity(id.CertPEM(), sealed, secret, 43); err == nil {
		t.Error("sealed key opened for another account")
	}
	if _, err := smime.OpenIdentity(id.CertPEM(), sealed, bytes.Repeat([]byte{8}, 32), 42); err == nil {
		t.Error("sealed key opened with another secret")
	}
	back, err := smime.OpenIdentity(id.CertPEM(), sealed, secret, 42)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := smime.Sign([]byte(plain), back.Cert, back.Key, back.Chain)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := smime.Verify(signed, f.ca.Pool(), time.Now()); err != nil || !res.SignatureValid || !res.ChainValid {
		t.Errorf("%+v %v", res, err)
	}
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenSSL(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	f := newFixture(t)
	dir := t.TempDir()
	caFile := writePEM(t, dir, "ca.pem", "CERTIFICATE", f.ca.Cert.Raw)
	certFile := writePEM(t, dir, "cert.pem", "CERTIFICATE", f.cert.Raw)
	keyDER, err := x509.MarshalPKCS8PrivateKey(f.key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := writePEM(t, dir, "key.pem", "PRIVATE KEY", keyDER)

	t.Run("openssl verifies ours", func(t *testing.T) {
		in := filepath.Join(dir, "ours.eml")
		if err := os.WriteFile(in, f.sign(t), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "smime", "-verify", "-in", in, "-CAfile", caFile).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verification successful") {
			t.Fatalf("openssl smime -verify: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "K=C3=ADnh g=E1=BB=ADi anh.") {
			t.Errorf("openssl output lacks the content:\n%s", out)
		}
	})
	for _, mode := range []string{"detached", "nodetach"} {
		t.Run("ours verifies openssl "+mode, func(t *testing.T) {
			content := filepath.Join(dir, "content.txt")
			body := "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nV=C4=83n b=E1=BA=A3n \r\n"
			if err := os.WriteFile(content, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"smime", "-sign", "-in", content, "-signer", certFile, "-inkey", keyFile, "-md", "sha256",
				"-from", "anv.skhcn@sonla.gov.vn", "-to", "btv.sotc@sonla.gov.vn", "-subject", "Test"}
			if mode == "nodetach" {
				args = append(args, "-nodetach")
			}
			out, err := exec.Command(bin, args...).Output()
			if err != nil {
				t.Fatalf("openssl smime -sign: %v", err)
			}
			res, err := smime.Verify(out, f.ca.Pool(), time.Now())
			if err != nil || !res.Signed || !res.SignatureValid || !res.ChainValid || res.SignerEmail != "anv.skhcn@sonla.gov.vn" {
				t.Fatalf("%+v %v\n%s", res, err, out)
			}
			bad := bytes.Replace(out, []byte("V=C4=83n"), []byte("V=C4=84n"), 1)
			if mode == "detached" {
				if res, _ := smime.Verify(bad, f.ca.Pool(), time.Now()); res.SignatureValid {
					t.Error("tampered openssl message verifies")
				}
			}
		})
	}
}
