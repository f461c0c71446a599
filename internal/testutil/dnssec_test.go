package testutil

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The signed test zone validates in a real unbound: signed answers and signed
// denials get the AD bit, a corrupted signature gets SERVFAIL, and a zone
// without a trust anchor stays insecure.
func TestSignedZoneValidatesInUnbound(t *testing.T) {
	auth := StartDNS(t,
		"mx.dane.test. 60 IN A 127.0.0.1",
		"_25._tcp.mx.dane.test. 60 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"broken.dane.test. 60 IN A 127.0.0.2",
		"mx.plain.test. 60 IN A 127.0.0.3")
	anchor := auth.Sign(t, "dane.test.")
	auth.Corrupt("broken.dane.test.")
	res := StartUnbound(t, auth, "test.", anchor)
	ask := func(name string, qt uint16) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, qt)
		m.AuthenticatedData = true
		m.SetEdns0(4096, true)
		c := &dns.Client{Timeout: 5 * time.Second}
		r, _, err := c.Exchange(m, res)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}
	for _, c := range []struct {
		name   string
		qt     uint16
		rcode  int
		ad     bool
		answer int
	}{
		{"mx.dane.test.", dns.TypeA, dns.RcodeSuccess, true, 1},
		{"_25._tcp.mx.dane.test.", dns.TypeTLSA, dns.RcodeSuccess, true, 1},
		{"mx.dane.test.", dns.TypeAAAA, dns.RcodeSuccess, true, 0},               // signed NODATA
		{"_25._tcp.nothing.dane.test.", dns.TypeTLSA, dns.RcodeSuccess, true, 0}, // signed denial of a missing name
		{"broken.dane.test.", dns.TypeA, dns.RcodeServerFailure, false, 0},
		{"mx.plain.test.", dns.TypeA, dns.RcodeSuccess, false, 1},
	} {
		r := ask(c.name, c.qt)
		n := 0
		for _, rr := range r.Answer {
			if rr.Header().Rrtype == c.qt {
				n++
			}
		}
		if r.Rcode != c.rcode || r.AuthenticatedData != c.ad || n != c.answer {
			t.Errorf("%s %s: rcode %s AD %v answers %d; want %s %v %d", c.name, dns.TypeToString[c.qt],
				dns.RcodeToString[r.Rcode], r.AuthenticatedData, n, dns.RcodeToString[c.rcode], c.ad, c.answer)
		}
	}
}
