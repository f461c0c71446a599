package queue_test

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"

	"govmail/internal/authreport"
	"govmail/internal/store"
)

func spkiHash(t *testing.T, c *tls.Config) string {
	t.Helper()
	cert, err := x509.ParseCertificate(c.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// DANE (RFC 7672) through a real validating resolver (unbound) over a signed
// test zone: a matching DANE-EE or DANE-TA record authenticates a server the
// Web PKI would not; a mismatch, a missing STARTTLS or a bogus TLSA answer
// defers without ever falling back to plaintext; TLSA records of an unsigned
// zone are ignored. Each outcome reaches the TLS report counter as a "tlsa"
// policy.
func TestDANE(t *testing.T) {
	ca := newCA(t)
	// DANE-EE ignores names and issuers: a certificate for another name.
	eeCfg := ca.server(t, "not-the-mx.example")
	ee := startPeer(t, eeCfg, "tcp", "127.0.0.1:0")
	bad := startPeer(t, ca.server(t, "mx.bad.dane.test"), "tcp", "127.0.0.1:0")
	plain := startPeer(t, nil, "tcp", "127.0.0.1:0")
	// DANE-TA: the server sends its chain with the trust anchor in it.
	taCfg := ca.server(t, "mx.ta.dane.test")
	taCfg.Certificates[0].Certificate = append(taCfg.Certificates[0].Certificate, ca.cert.Raw)
	ta := startPeer(t, taCfg, "tcp", "127.0.0.1:0")
	bogus := startPeer(t, ca.server(t, "mx.bogus.dane.test"), "tcp", "127.0.0.1:0")
	insecure := startPeer(t, ca.server(t, "mx.insecure.test"), "tcp", "127.0.0.1:0")
	caSum := sha256.Sum256(ca.cert.Raw)
	wrong := strings.Repeat("ab", 32)

	var records []string
	for i, d := range []struct{ dom, tlsa string }{
		{"ee.dane.test", "3 1 1 " + spkiHash(t, eeCfg)},
		{"bad.dane.test", "3 1 1 " + wrong},
		{"plain.dane.test", "3 1 1 " + wrong},
		{"ta.dane.test", "2 0 1 " + hex.EncodeToString(caSum[:])},
		{"bogus.dane.test", "3 1 1 " + spkiHash(t, eeCfg)},
		{"insecure.test", "3 1 1 " + wrong},
	} {
		ip := "127.0.0." + string(rune('1'+i))
		records = append(records, d.dom+". 60 IN MX 10 mx."+d.dom+".", "mx."+d.dom+". 60 IN A "+ip,
			"_25._tcp.mx."+d.dom+". 60 IN TLSA "+d.tlsa)
	}
	var tr tlsRecorder
	// The harness's client trusts the CA: without DANE, every peer would pass
	// Web PKI checks only where its name matches.
	h := newHarness(t, harnessOpts{tls: ca.client(), onTLS: tr.record, daneZone: "dane.test."}, records...)
	h.dns.Corrupt("_25._tcp.mx.bogus.dane.test.")
	for i, p := range []*peer{ee, bad, plain, ta, bogus, insecure} {
		h.route("127.0.0."+string(rune('1'+i)), p.Addr)
	}
	for _, d := range []string{"ee.dane.test", "bad.dane.test", "plain.dane.test", "ta.dane.test", "bogus.dane.test", "insecure.test"} {
		h.submit(t, sender, []string{"a@" + d}, "dane "+d)
	}
	h.runOnce(t)
	check := func(rcpt, status, want string) {
		t.Helper()
		r := h.logs(t, rcpt)
		if len(r) != 1 || r[0].Status != status || !strings.Contains(r[0].Error, want) {
			t.Errorf("%s: want %s with %q, got %+v", rcpt, status, want, r)
		}
	}
	check("a@ee.dane.test", store.LogDelivered, "TLS")
	check("a@ta.dane.test", store.LogDelivered, "TLS")
	check("a@bad.dane.test", store.LogDeferred, "TLSA")
	check("a@plain.dane.test", store.LogDeferred, "required but not offered")
	check("a@bogus.dane.test", store.LogDeferred, "TLSA lookup")
	check("a@insecure.test", store.LogDelivered, "250")
	if len(bad.messages()) != 0 || len(plain.messages()) != 0 || len(bogus.messages()) != 0 {
		t.Errorf("mail left without DANE authentication: bad %d, plain %d, bogus %d", len(bad.messages()), len(plain.messages()), len(bogus.messages()))
	}
	if m := ee.messages(); len(m) != 1 || !m[0].TLS {
		t.Errorf("DANE-EE peer got %+v", m)
	}

	for dom, want := range map[string]string{"ee.dane.test": "", "ta.dane.test": "", "bad.dane.test": authreport.ResultTLSAInvalid,
		"plain.dane.test": authreport.ResultStartTLSNotSupported, "bogus.dane.test": authreport.ResultDNSSECInvalid} {
		got := tr.of(dom)
		if len(got) != 1 || got[0].Result != want || got[0].Policy.Type != "tlsa" {
			t.Errorf("%s: outcomes %+v, want one %q under a tlsa policy", dom, got, want)
		}
	}
	if o := tr.of("ee.dane.test"); len(o) == 1 && (len(o[0].Policy.String) != 1 || !strings.HasPrefix(o[0].Policy.String[0], "3 1 1 ")) {
		t.Errorf("the tlsa policy does not carry the record: %+v", o[0].Policy.String)
	}
	if o := tr.of("insecure.test"); len(o) != 1 || o[0].Policy.Type != "no-policy-found" || o[0].Result != "" {
		t.Errorf("insecure.test: %+v, want an opportunistic TLS success", o)
	}
}
