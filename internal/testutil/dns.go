package testutil

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// DNS is a real authoritative DNS server on 127.0.0.1 (UDP and TCP on one port)
// serving the records a test adds, so that MX, SPF, DKIM, DMARC and MTA-STS
// lookups go through a real resolver and the wire instead of a fake. Names it
// has no record for get NXDOMAIN; names it has, but not of the asked type, get
// an empty answer (NODATA), as a real zone does.
type DNS struct {
	Addr string // host:port of both the UDP and the TCP listener

	mu    sync.Mutex
	rrs   []dns.RR
	fail  map[string]int // name → rcode to answer instead (SERVFAIL for temporary errors)
	count map[string]int // "name TYPE" → queries seen
	udp   *dns.Server
	tcp   *dns.Server
	// zones are signed online (Sign); corrupt names get broken signatures.
	zones   []*signedZone
	corrupt map[string]bool
}

// StartDNS starts a DNS server with the given zone-file lines (absolute names,
// e.g. "example.test. 300 IN MX 10 mx.example.test.") until the test ends.
func StartDNS(t testing.TB, records ...string) *DNS {
	t.Helper()
	d := &DNS{fail: map[string]int{}, count: map[string]int{}}
	d.Add(t, records...)
	var pc net.PacketConn
	var ln net.Listener
	for i := 0; ; i++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("dns: %v", err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if i == 20 {
			t.Fatalf("dns: no port free for both UDP and TCP: %v", err)
		}
	}
	d.Addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(d.serve)
	d.udp = &dns.Server{PacketConn: pc, Handler: h}
	d.tcp = &dns.Server{Listener: ln, Handler: h}
	started := make(chan struct{}, 2)
	d.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	d.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go d.udp.ActivateAndServe() //nolint:errcheck // ends at Shutdown
	go d.tcp.ActivateAndServe() //nolint:errcheck // ends at Shutdown
	<-started
	<-started
	t.Cleanup(func() {
		d.udp.Shutdown()
		d.tcp.Shutdown()
	})
	return d
}

// Add adds zone-file lines; a bad line fails the test.
func (d *DNS) Add(t testing.TB, records ...string) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("dns record %q: %v", s, err)
		}
		if rr != nil {
			d.rrs = append(d.rrs, rr)
		}
	}
}

// Remove deletes every record of name and type (dns.TypeNone: every type).
func (d *DNS) Remove(name string, typ uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	name = dns.CanonicalName(name)
	kept := d.rrs[:0]
	for _, rr := range d.rrs {
		h := rr.Header()
		if dns.CanonicalName(h.Name) == name && (typ == dns.TypeNone || h.Rrtype == typ) {
			continue
		}
		kept = append(kept, rr)
	}
	d.rrs = kept
}

// Fail makes every query for name answer rcode (dns.RcodeServerFailure for a
// temporary error); rcode dns.RcodeSuccess restores normal answers.
func (d *DNS) Fail(name string, rcode int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if rcode == dns.RcodeSuccess {
		delete(d.fail, dns.CanonicalName(name))
		return
	}
	d.fail[dns.CanonicalName(name)] = rcode
}

// Queries returns how often name was asked for with type typ (e.g. "MX").
func (d *DNS) Queries(name, typ string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.count[dns.CanonicalName(name)+" "+strings.ToUpper(typ)]
}

func (d *DNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := dns.CanonicalName(q.Name)
	d.mu.Lock()
	d.count[name+" "+dns.TypeToString[q.Qtype]]++
	if rc, ok := d.fail[name]; ok {
		d.mu.Unlock()
		m.Rcode = rc
		w.WriteMsg(m)
		return
	}
	exists := false
	for hops := 0; hops < 8; hops++ {
		var cname string
		for _, rr := range d.rrs {
			h := rr.Header()
			if dns.CanonicalName(h.Name) != name {
				continue
			}
			exists = true
			switch {
			case h.Rrtype == q.Qtype:
				m.Answer = append(m.Answer, dns.Copy(rr))
			case h.Rrtype == dns.TypeCNAME && q.Qtype != dns.TypeCNAME:
				m.Answer = append(m.Answer, dns.Copy(rr))
				cname = dns.CanonicalName(rr.(*dns.CNAME).Target)
			}
		}
		if cname == "" {
			break
		}
		name = cname
	}
	if !exists {
		m.Rcode = dns.RcodeNameError
	}
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(4096, opt.Do())
		if z := d.zoneOf(dns.CanonicalName(q.Name)); z != nil && opt.Do() {
			d.signAnswer(m, q, z)
		}
	}
	d.mu.Unlock()
	w.WriteMsg(m)
}

// Resolver returns a Go resolver that asks only this server, over UDP and TCP
// as the resolver chooses.
func (d *DNS) Resolver() *net.Resolver {
	addr := d.Addr
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			dl := net.Dialer{Timeout: 2 * time.Second}
			return dl.DialContext(ctx, network, addr)
		},
	}
}
