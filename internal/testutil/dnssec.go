package testutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"sort"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// signedZone is a zone the test DNS server signs online.
type signedZone struct {
	name string // canonical, "dane.test."
	key  *dns.DNSKEY
	priv crypto.Signer
}

// Sign makes the server answer for zone, and every name below it, as a
// DNSSEC-signed zone (RFC 4033–4035): a DNSKEY at the apex, an RRSIG over each
// answer RRset, and for a name or type it lacks a signed NSEC proving it
// (a "black lie": one NSEC from the name to its immediate successor, so every
// missing name is NODATA). One ECDSA P-256 key signs, made here. It returns
// the DNSKEY record, which a validating resolver takes as its trust anchor
// (StartUnbound). Answers are signed only when the query sets DO, as a real
// server does.
func (d *DNS) Sign(t testing.TB, zone string) string {
	t.Helper()
	zone = dns.CanonicalName(zone)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 300},
		Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	key.PublicKey = ecdsaPublicKey(&priv.PublicKey)
	d.Add(t, key.String(),
		zone+" 300 IN SOA ns."+zone+" hostmaster."+zone+" 1 3600 600 86400 1",
		zone+" 300 IN NS ns."+zone,
		"ns."+zone+" 300 IN A 127.0.0.1")
	d.mu.Lock()
	defer d.mu.Unlock()
	d.zones = append(d.zones, &signedZone{name: zone, key: key, priv: priv})
	return key.String()
}

// ecdsaPublicKey encodes a P-256 key as a DNSKEY's public key field (RFC 6605).
func ecdsaPublicKey(pub *ecdsa.PublicKey) string {
	b := make([]byte, 64)
	pub.X.FillBytes(b[:32])
	pub.Y.FillBytes(b[32:])
	return base64.StdEncoding.EncodeToString(b)
}

// Corrupt makes the signatures over name's records fail to verify, as a
// forged or broken answer does: a validating resolver then answers SERVFAIL.
func (d *DNS) Corrupt(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.corrupt == nil {
		d.corrupt = map[string]bool{}
	}
	d.corrupt[dns.CanonicalName(name)] = true
}

// zoneOf returns the signed zone name is in, nil when none (d.mu held).
func (d *DNS) zoneOf(name string) *signedZone {
	var best *signedZone
	for _, z := range d.zones {
		if dns.IsSubDomain(z.name, name) && (best == nil || len(z.name) > len(best.name)) {
			best = z
		}
	}
	return best
}

// signAnswer adds RRSIGs to an answer, and to a negative answer the SOA and
// an NSEC proving that qname has no record of qtype (d.mu held).
func (d *DNS) signAnswer(m *dns.Msg, q dns.Question, z *signedZone) {
	if len(m.Answer) == 0 {
		m.Rcode = dns.RcodeSuccess // black lie: NODATA instead of NXDOMAIN
		name := dns.CanonicalName(q.Name)
		types := map[uint16]bool{dns.TypeRRSIG: true, dns.TypeNSEC: true}
		for _, rr := range d.rrs {
			if dns.CanonicalName(rr.Header().Name) == name {
				types[rr.Header().Rrtype] = true
			}
		}
		var bitmap []uint16
		for t := range types {
			bitmap = append(bitmap, t)
		}
		sort.Slice(bitmap, func(i, j int) bool { return bitmap[i] < bitmap[j] })
		nsec := &dns.NSEC{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 1},
			NextDomain: "\\000." + name, TypeBitMap: bitmap}
		for _, rr := range d.rrs {
			if rr.Header().Rrtype == dns.TypeSOA && dns.CanonicalName(rr.Header().Name) == z.name {
				m.Ns = append(m.Ns, dns.Copy(rr))
			}
		}
		m.Ns = append(m.Ns, nsec)
		m.Ns = d.withSigs(m.Ns, z)
		return
	}
	m.Answer = d.withSigs(m.Answer, z)
}

// withSigs appends one RRSIG per RRset of rrs.
func (d *DNS) withSigs(rrs []dns.RR, z *signedZone) []dns.RR {
	type key struct {
		name string
		typ  uint16
	}
	sets := map[key][]dns.RR{}
	var order []key
	for _, rr := range rrs {
		k := key{dns.CanonicalName(rr.Header().Name), rr.Header().Rrtype}
		if _, ok := sets[k]; !ok {
			order = append(order, k)
		}
		sets[k] = append(sets[k], rr)
	}
	now := time.Now()
	out := rrs
	for _, k := range order {
		set := sets[k]
		sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: set[0].Header().Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: set[0].Header().Ttl},
			TypeCovered: k.typ, Algorithm: z.key.Algorithm, Labels: uint8(dns.CountLabel(k.name)), OrigTtl: set[0].Header().Ttl,
			Expiration: uint32(now.Add(24 * time.Hour).Unix()), Inception: uint32(now.Add(-time.Hour).Unix()),
			KeyTag: z.key.KeyTag(), SignerName: z.name}
		if err := sig.Sign(z.priv, set); err != nil {
			continue
		}
		if d.corrupt[k.name] {
			b := []byte(sig.Signature)
			// Change one base64 character: still well-formed, no longer valid.
			if b[0] == 'A' {
				b[0] = 'B'
			} else {
				b[0] = 'A'
			}
			sig.Signature = string(b)
		}
		out = append(out, sig)
	}
	return out
}
