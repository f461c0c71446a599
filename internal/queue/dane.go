package queue

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DANE for SMTP (RFC 7672): a recipient domain whose MX records and MX host
// addresses are DNSSEC-signed may publish TLSA records at _25._tcp.<mx>; a
// sender that finds them must use TLS and accept only a certificate they
// match, never falling back to plaintext. Whether an answer is signed is what
// the resolver says with the AD bit (RFC 4035 3.2.3), so DANE is only as good
// as the path to that resolver: it must be a validating resolver on the same
// host or a trusted network (RFC 7672 1.3), e.g. unbound on 127.0.0.1.

// SecureResolver looks up DNS records and tells whether the answer was
// validated (AD bit). rcode is the DNS response code; err is a transport error.
type SecureResolver interface {
	LookupSecure(ctx context.Context, name string, qtype uint16) (rrs []dns.RR, secure bool, rcode int, err error)
}

// DNSClient asks one validating resolver, with the DNSSEC OK bit set.
type DNSClient struct {
	Server  string // host:port of the resolver
	Timeout time.Duration
}

// LookupSecure asks Server over UDP, and over TCP when the answer is truncated.
func (c *DNSClient) LookupSecure(ctx context.Context, name string, qtype uint16) ([]dns.RR, bool, int, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	// AD=1 in a query asks for the AD bit in the answer (RFC 6840 5.7); DO=1
	// makes a validating resolver validate for us.
	m.AuthenticatedData = true
	m.SetEdns0(4096, true)
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	cl := &dns.Client{Net: "udp", Timeout: timeout}
	r, _, err := cl.ExchangeContext(ctx, m, c.Server)
	if err == nil && r.Truncated {
		cl.Net = "tcp"
		r, _, err = cl.ExchangeContext(ctx, m, c.Server)
	}
	if err != nil {
		return nil, false, 0, fmt.Errorf("dns %s %s: %w", name, dns.TypeToString[qtype], err)
	}
	var out []dns.RR
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == qtype {
			out = append(out, rr)
		}
	}
	return out, r.AuthenticatedData, r.Rcode, nil
}

// daneHost is what DANE says about one MX host.
type daneHost struct {
	// records are the usable TLSA records (DANE-TA or DANE-EE); when the host
	// has TLSA records but none usable, TLS is still required but not
	// authenticated (RFC 7672 2.2).
	records []*dns.TLSA
	all     []string // every TLSA record, for TLS reports
}

// errTLSAMismatch: the server's certificate matched none of its TLSA records.
var errTLSAMismatch = errors.New("the certificate matches none of the TLSA records (DANE)")

// daneError is a DNSSEC failure that forbids delivery to a host: a TLSA or
// address lookup that did not validate (bogus) or failed.
type daneError struct{ msg string }

func (e *daneError) Error() string { return e.msg }

// daneFor finds the TLSA records of an MX host when DANE applies: the route's
// MX answer was secure, the host's addresses are secure. It returns nil when
// DANE does not apply, and a daneError when the DNS answer is bogus or the
// lookup failed, which RFC 7672 2.2 says must defer delivery to that host.
func (q *Queue) daneFor(ctx context.Context, rt *route, host string) (*daneHost, error) {
	if q.dane == nil || !rt.mxSecure || rt.smarthost != nil {
		return nil, nil
	}
	secureAddr := false
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		rrs, secure, rcode, err := q.dane.LookupSecure(ctx, host, t)
		if err != nil || rcode == dns.RcodeServerFailure {
			return nil, &daneError{fmt.Sprintf("DNSSEC lookup of %s %s failed (rcode %s, %v)", host, dns.TypeToString[t], dns.RcodeToString[rcode], err)}
		}
		if secure && len(rrs) > 0 {
			secureAddr = true
		}
	}
	if !secureAddr {
		return nil, nil // RFC 7672 2.2.2: TLSA records of an insecure host are not used
	}
	name := "_" + fmt.Sprint(rt.port) + "._tcp." + host
	rrs, secure, rcode, err := q.dane.LookupSecure(ctx, name, dns.TypeTLSA)
	switch {
	case err != nil || rcode == dns.RcodeServerFailure:
		return nil, &daneError{fmt.Sprintf("TLSA lookup of %s failed (rcode %s, %v)", name, dns.RcodeToString[rcode], err)}
	case !secure || len(rrs) == 0:
		return nil, nil
	}
	d := &daneHost{}
	for _, rr := range rrs {
		t := rr.(*dns.TLSA)
		d.all = append(d.all, strings.TrimPrefix(t.String(), t.Hdr.String()))
		// RFC 7672 3.1.3: PKIX-TA(0) and PKIX-EE(1) are not used for SMTP.
		if (t.Usage == 2 || t.Usage == 3) && t.Selector <= 1 && t.MatchingType <= 2 {
			d.records = append(d.records, t)
		}
	}
	return d, nil
}

// verify checks a TLS handshake against the TLSA records: DANE-EE(3)
// matches the server's own certificate and ignores its names and dates
// (RFC 7672 3.1.1); DANE-TA(2) matches a certificate of the chain the server
// sent and the chain from the leaf to it must verify for the MX host name
// (3.1.2).
func (d *daneHost) verify(host string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(d.records) == 0 {
			return nil // unusable records only: encrypted, not authenticated
		}
		certs := cs.PeerCertificates
		if len(certs) == 0 {
			return errTLSAMismatch
		}
		for _, t := range d.records {
			switch t.Usage {
			case 3:
				if tlsaMatches(t, certs[0]) {
					return nil
				}
			case 2:
				for i, c := range certs[1:] {
					if !tlsaMatches(t, c) {
						continue
					}
					roots := x509.NewCertPool()
					roots.AddCert(c)
					inter := x509.NewCertPool()
					for _, m := range certs[1 : i+1] {
						inter.AddCert(m)
					}
					if _, err := certs[0].Verify(x509.VerifyOptions{DNSName: strings.TrimSuffix(host, "."), Roots: roots, Intermediates: inter}); err == nil {
						return nil
					}
				}
			}
		}
		return errTLSAMismatch
	}
}

// tlsaMatches compares a certificate with one TLSA record.
func tlsaMatches(t *dns.TLSA, c *x509.Certificate) bool {
	data := c.Raw
	if t.Selector == 1 {
		data = c.RawSubjectPublicKeyInfo
	}
	var sum []byte
	switch t.MatchingType {
	case 0:
		sum = data
	case 1:
		s := sha256.Sum256(data)
		sum = s[:]
	case 2:
		s := sha512.Sum512(data)
		sum = s[:]
	default:
		return false
	}
	want, err := hex.DecodeString(t.Certificate)
	return err == nil && len(want) == len(sum) && subtle.ConstantTimeCompare(want, sum) == 1
}

// mxSecure tells whether the domain's MX (or, without MX, address) answer
// was validated: only then may TLSA records of its hosts be trusted.
func (q *Queue) mxSecure(ctx context.Context, domain string, implicit bool) bool {
	if q.dane == nil {
		return false
	}
	qt := dns.TypeMX
	if implicit {
		qt = dns.TypeA
	}
	_, secure, rcode, err := q.dane.LookupSecure(ctx, domain, qt)
	return err == nil && rcode == dns.RcodeSuccess && secure
}
