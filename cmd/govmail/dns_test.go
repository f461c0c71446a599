package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"govmail/internal/app"
	"govmail/internal/tlsutil"
)

// Every line `admin dns` prints is a valid zone-file record, and together
// they cover MX, SPF, DKIM (both algorithms), DMARC, MTA-STS, TLS-RPT,
// autoconfiguration and DANE (TLSA of our MX's key).
func TestAdminDNS(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := app.Init(dir); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		if err := cmdAdminDNS(context.Background(), append(args, "-data", dir), &out, &errb); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errb.String())
		}
		return out.String(), errb.String()
	}
	// The certificate the first start makes: its key's TLSA record is printed.
	certFile, keyFile := filepath.Join(dir, "tls", "cert.pem"), filepath.Join(dir, "tls", "key.pem")
	if _, err := tlsutil.EnsureSelfSigned(certFile, keyFile, "mail.sonla.gov.vn"); err != nil {
		t.Fatal(err)
	}
	out, errs := run("--ip4", "203.0.113.25", "--ip6", "2001:db8::25")
	if !strings.Contains(errs, "created DKIM key") {
		t.Errorf("keys not made at first run: %s", errs)
	}
	types := map[string]int{}
	var dkimTXT []string
	for _, l := range strings.Split(out, "\n") {
		if l == "" || strings.HasPrefix(l, ";") {
			continue
		}
		rr, err := dns.NewRR(l)
		if err != nil || rr == nil {
			t.Fatalf("not a record: %q: %v", l, err)
		}
		types[dns.TypeToString[rr.Header().Rrtype]]++
		if txt, ok := rr.(*dns.TXT); ok && strings.Contains(rr.Header().Name, "._domainkey.") {
			dkimTXT = append(dkimTXT, strings.Join(txt.Txt, ""))
		}
	}
	for typ, n := range map[string]int{"MX": 1, "A": 1, "AAAA": 1, "TXT": 6, "CNAME": 3, "SRV": 6, "TLSA": 1} {
		if types[typ] != n {
			t.Errorf("%d %s records, want %d:\n%s", types[typ], typ, n, out)
		}
	}
	if len(dkimTXT) != 2 || !strings.Contains(dkimTXT[0]+dkimTXT[1], "k=ed25519") || !strings.Contains(dkimTXT[0]+dkimTXT[1], "k=rsa") {
		t.Errorf("DKIM records: %v", dkimTXT)
	}
	for _, want := range []string{`"v=spf1 mx ip4:203.0.113.25 ip6:2001:db8::25 -all"`, "_dmarc.sonla.gov.vn.", "v=DMARC1; p=quarantine",
		"_mta-sts.sonla.gov.vn.", "mx: mail.sonla.gov.vn", "v=TLSRPTv1", "_submissions._tcp.sonla.gov.vn. 3600 IN SRV 0 1 465 mail.sonla.gov.vn."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	pemBytes, _ := os.ReadFile(certFile)
	blk, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	if want := "_25._tcp.mail.sonla.gov.vn. 3600 IN TLSA 3 1 1 " + hex.EncodeToString(sum[:]); !strings.Contains(out, want) {
		t.Errorf("output lacks %q", want)
	}
	// A second run keeps the keys; rotation publishes two more.
	os.Remove(certFile)
	out2, errs2 := run()
	if !strings.Contains(out2, "no certificate at") || strings.Contains(out2, "IN TLSA") {
		t.Errorf("without a certificate, no word on DANE:\n%s", out2)
	}
	if strings.Contains(errs2, "created") || strings.Count(out2, "._domainkey.") != 2 {
		t.Errorf("second run changed keys: %s", errs2)
	}
	out3, _ := run("--rotate")
	if strings.Count(out3, "._domainkey.") != 4 || !strings.Contains(out3, ", next since") {
		t.Errorf("rotation did not publish the next pair:\n%s", out3)
	}
	var errb bytes.Buffer
	if err := cmdAdminDNS(context.Background(), []string{"example.org", "-data", dir}, &bytes.Buffer{}, &errb); err == nil {
		t.Error("printed records for a foreign domain")
	}
}
