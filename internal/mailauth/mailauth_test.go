package mailauth_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/authres"

	"govmail/internal/dkim"
	"govmail/internal/mailauth"
	"govmail/internal/testutil"
)

func message(from string) []byte {
	return []byte("From: " + from + "\r\nTo: <hoant.skhcn@sonla.gov.vn>\r\nSubject: =?utf-8?q?Th=C6=B0?=\r\n" +
		"Date: Mon, 02 Mar 2026 08:00:00 +0700\r\nMessage-ID: <m1@peer.test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nKính gửi Sở Khoa học và Công nghệ.\r\n")
}

// signPython signs with dkimpy (Debian's python3-dkim), an implementation
// other than ours: a message signed elsewhere must verify here.
func signPython(t *testing.T, raw []byte, domain, selector, keyPEM, alg string) []byte {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import dkim").Run(); err != nil {
		t.Skip("python3-dkim is not installed")
	}
	script := `
import sys, dkim
m = sys.stdin.buffer.read()
key = open(sys.argv[3], 'rb').read()
sig = dkim.sign(m, sys.argv[2].encode(), sys.argv[1].encode(), key,
    include_headers=[b'from', b'to', b'subject', b'date', b'message-id'],
    canonicalize=(b'relaxed', b'simple'), signature_algorithm=sys.argv[4].encode())
sys.stdout.buffer.write(sig + m)
`
	kf := filepath.Join(t.TempDir(), "key")
	os.WriteFile(kf, []byte(keyPEM), 0o600)
	cmd := exec.Command("/usr/bin/python3", "-c", script, domain, selector, kf, alg)
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dkimpy sign: %v", err)
	}
	return out
}

func rsaKey(t *testing.T) (pemPKCS1 string, txt string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})),
		"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
}

// zoneTXT splits a long TXT value into 255-octet strings.
func zoneTXT(name, txt string) string {
	var parts []string
	for len(txt) > 255 {
		parts = append(parts, `"`+txt[:255]+`"`)
		txt = txt[255:]
	}
	parts = append(parts, `"`+txt+`"`)
	return name + " 300 IN TXT ( " + strings.Join(parts, " ") + " )"
}

func checker(d *testutil.DNS) *mailauth.Checker {
	return &mailauth.Checker{Resolver: d.Resolver(), AuthServID: "mail.sonla.gov.vn", Timeout: 5 * time.Second}
}

var peerIP = net.ParseIP("127.0.0.1")

func TestForeignSignatureAndSPFPass(t *testing.T) {
	keyPEM, txt := rsaKey(t)
	d := testutil.StartDNS(t,
		`peer.test. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"`,
		`_dmarc.peer.test. 300 IN TXT "v=DMARC1; p=reject"`,
		zoneTXT("sel1._domainkey.peer.test.", txt),
	)
	signed := signPython(t, message("Anh A <a@news.peer.test>"), "peer.test", "sel1", keyPEM, "rsa-sha256")
	r := checker(d).Check(context.Background(), mailauth.Input{IP: peerIP, Helo: "mx.peer.test", MailFrom: "bounce@peer.test", Message: signed})
	if r.SPF != spf.Pass || len(r.DKIM) != 1 || r.DKIM[0].Result != authres.ResultPass || r.DKIM[0].Selector != "sel1" {
		t.Fatalf("spf/dkim: %+v", r)
	}
	// Relaxed alignment: news.peer.test aligns with peer.test.
	if r.DMARC != authres.ResultPass || r.Verdict != mailauth.Accept || r.FromDomain != "news.peer.test" {
		t.Fatalf("dmarc: %+v", r)
	}
	id, results, err := authres.Parse(strings.TrimSuffix(strings.TrimPrefix(strings.ReplaceAll(r.Header, "\r\n\t", " "), "Authentication-Results: "), "\r\n"))
	if err != nil || id != "mail.sonla.gov.vn" || len(results) != 3 {
		t.Fatalf("header %q does not parse: %v %v", r.Header, results, err)
	}
	if !strings.Contains(r.Header, "spf=pass smtp.helo=mx.peer.test smtp.mailfrom=bounce@peer.test") ||
		!strings.Contains(r.Header, "dkim=pass header.d=peer.test") || !strings.Contains(r.Header, "dmarc=pass header.from=news.peer.test") {
		t.Errorf("header: %s", r.Header)
	}
	if r.Summary() != "spf=pass dkim=pass(peer.test) dmarc=pass" {
		t.Errorf("summary: %s", r.Summary())
	}
	// Tampered body: DKIM fails, but aligned SPF still passes DMARC.
	bad := bytes.Replace(signed, []byte("Công nghệ"), []byte("Cong nghe"), 1)
	r = checker(d).Check(context.Background(), mailauth.Input{IP: peerIP, Helo: "mx.peer.test", MailFrom: "bounce@peer.test", Message: bad})
	if r.DKIM[0].Result != authres.ResultFail || r.DMARC != authres.ResultPass {
		t.Errorf("tampered: %+v", r)
	}
}

// Our own outbound signatures verify on our inbound side (Ed25519 and RSA).
func TestOwnSignatureVerifies(t *testing.T) {
	kr, _ := dkim.Open(t.TempDir())
	keys, err := kr.Ensure([]string{"sonla.gov.vn"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d := testutil.StartDNS(t, `_dmarc.sonla.gov.vn. 300 IN TXT "v=DMARC1; p=reject; adkim=s"`)
	for _, k := range keys {
		d.Add(t, k.ZoneTXT(300))
	}
	signed, _ := kr.Sign(message("<hoant.skhcn@sonla.gov.vn>"))
	r := checker(d).Check(context.Background(), mailauth.Input{IP: net.ParseIP("127.0.0.1"), Helo: "mail.sonla.gov.vn", MailFrom: "hoant.skhcn@sonla.gov.vn", Message: signed})
	if len(r.DKIM) != 2 || r.DKIM[0].Result != authres.ResultPass || r.DKIM[1].Result != authres.ResultPass || r.DMARC != authres.ResultPass {
		t.Fatalf("%+v", r)
	}
}

// DMARC p=reject with neither aligned SPF nor DKIM: reject (550 5.7.1 in smtpd).
func TestSpoofRejectedAndQuarantined(t *testing.T) {
	d := testutil.StartDNS(t,
		`sonla.gov.vn. 300 IN TXT "v=spf1 ip4:192.0.2.25 -all"`,
		`_dmarc.sonla.gov.vn. 300 IN TXT "v=DMARC1; p=reject"`,
		`bank.test. 300 IN TXT "v=spf1 -all"`,
		`_dmarc.bank.test. 300 IN TXT "v=DMARC1; p=quarantine"`,
		`attacker.test. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"`,
		`_dmarc.org.test. 300 IN TXT "v=DMARC1; p=none; sp=reject"`,
		`_dmarc.pct.test. 300 IN TXT "v=DMARC1; p=reject; pct=0"`,
	)
	c := checker(d)
	ctx := context.Background()
	// Envelope from the attacker's own domain (SPF passes there, but is not aligned).
	r := c.Check(ctx, mailauth.Input{IP: peerIP, Helo: "x.attacker.test", MailFrom: "a@attacker.test", Message: message("<giamdoc@sonla.gov.vn>")})
	if r.SPF != spf.Pass || r.DMARC != authres.ResultFail || r.Verdict != mailauth.Reject || r.Policy != "reject" {
		t.Fatalf("spoof of sonla.gov.vn: %+v", r)
	}
	if !strings.Contains(r.Header, "dkim=none") || !strings.Contains(r.Header, "dmarc=fail reason=\"p=reject\" header.from=sonla.gov.vn") {
		t.Errorf("header: %s", r.Header)
	}
	r = c.Check(ctx, mailauth.Input{IP: peerIP, Helo: "x", MailFrom: "a@bank.test", Message: message("<a@bank.test>")})
	if r.SPF != spf.Fail || r.Verdict != mailauth.Quarantine {
		t.Fatalf("quarantine: %+v", r)
	}
	// A sub-domain without its own record takes the organisation's sp.
	r = c.Check(ctx, mailauth.Input{IP: peerIP, Helo: "x", MailFrom: "", Message: message("<a@mail.org.test>")})
	if r.Verdict != mailauth.Reject || r.Policy != "reject" {
		t.Fatalf("sp=reject: %+v", r)
	}
	// pct=0: the failing message gets the next milder policy.
	c.Sample = func(pct int) bool { return false }
	r = c.Check(ctx, mailauth.Input{IP: peerIP, Helo: "x", MailFrom: "a@pct.test", Message: message("<a@pct.test>")})
	if r.Verdict != mailauth.Quarantine || r.Policy != "quarantine" {
		t.Fatalf("pct: %+v", r)
	}
	// No record: none, accepted.
	r = c.Check(ctx, mailauth.Input{IP: peerIP, Helo: "x", MailFrom: "a@nopolicy.test", Message: message("<a@nopolicy.test>")})
	if r.DMARC != authres.ResultNone || r.Verdict != mailauth.Accept || r.SPF != spf.None {
		t.Fatalf("no policy: %+v", r)
	}
	// Two From addresses: nothing to align with.
	r = c.Check(ctx, mailauth.Input{IP: peerIP, Helo: "x", MailFrom: "a@x.test", Message: message("<a@sonla.gov.vn>, <b@x.test>")})
	if r.DMARC != authres.ResultPermError {
		t.Fatalf("two From: %+v", r)
	}
	// A DNS failure is temperror, not a pass.
	d.Fail("_dmarc.bank.test", 2)
	r = c.Check(ctx, mailauth.Input{IP: peerIP, Helo: "x", MailFrom: "a@bank.test", Message: message("<a@bank.test>")})
	if r.DMARC != authres.ResultTempError || r.Verdict != mailauth.Accept {
		t.Fatalf("SERVFAIL: %+v", r)
	}
}

// Strict alignment and Ed25519 from the other implementation.
func TestStrictAlignmentEd25519(t *testing.T) {
	kr, _ := dkim.Open(t.TempDir())
	keys, _ := kr.Ensure([]string{"peer.test"}, time.Now())
	var ed *dkim.Key
	for _, k := range keys {
		if k.Algorithm == dkim.Ed25519 {
			ed = k
		}
	}
	// dkimpy takes the Ed25519 private key as the base64 of its 32-byte seed.
	pemb, err := os.ReadFile(filepath.Join(kr.Dir, "peer.test", ed.Selector+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemb)
	priv, _ := x509.ParsePKCS8PrivateKey(blk.Bytes)
	seed := priv.(interface{ Seed() []byte }).Seed()
	d := testutil.StartDNS(t, ed.ZoneTXT(300), `_dmarc.news.peer.test. 300 IN TXT "v=DMARC1; p=reject; adkim=s"`)
	signed := signPython(t, message("<a@news.peer.test>"), "peer.test", ed.Selector, base64.StdEncoding.EncodeToString(seed), "ed25519-sha256")
	r := checker(d).Check(context.Background(), mailauth.Input{IP: peerIP, Helo: "x", MailFrom: "", Message: signed})
	if len(r.DKIM) != 1 || r.DKIM[0].Result != authres.ResultPass {
		t.Fatalf("ed25519 from dkimpy: %+v", r)
	}
	if r.DMARC != authres.ResultFail || r.Verdict != mailauth.Reject {
		t.Fatalf("strict alignment: d=peer.test must not align with news.peer.test: %+v", r)
	}
}

// OpenDKIM's test tool signs with rsa-sha1, which RFC 8301 forbids verifiers
// to accept: it must not count as a pass.
func TestOpenDKIMSHA1Refused(t *testing.T) {
	if _, err := exec.LookPath("opendkim-testmsg"); err != nil {
		t.Skip("opendkim-tools is not installed")
	}
	keyPEM, txt := rsaKey(t)
	kf := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(kf, []byte(keyPEM), 0o600)
	cmd := exec.Command("opendkim-testmsg", "-C", "-d", "peer.test", "-s", "od", "-k", kf)
	cmd.Stdin = bytes.NewReader(message("<a@peer.test>"))
	signed, err := cmd.Output()
	if err != nil || !bytes.HasPrefix(signed, []byte("DKIM-Signature:")) {
		t.Fatalf("opendkim-testmsg: %v %q", err, signed)
	}
	d := testutil.StartDNS(t, zoneTXT("od._domainkey.peer.test.", txt), `_dmarc.peer.test. 300 IN TXT "v=DMARC1; p=quarantine"`)
	r := checker(d).Check(context.Background(), mailauth.Input{IP: peerIP, Helo: "x", MailFrom: "", Message: signed})
	if len(r.DKIM) != 1 || r.DKIM[0].Result == authres.ResultPass || !bytes.Contains(signed, []byte("a=rsa-sha1")) {
		t.Fatalf("rsa-sha1 accepted: %+v", r)
	}
	if r.Verdict != mailauth.Quarantine {
		t.Errorf("verdict: %v", r.Verdict)
	}
}
