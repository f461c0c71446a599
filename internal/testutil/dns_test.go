package testutil

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestDNS(t *testing.T) {
	d := StartDNS(t,
		"example.test. 300 IN MX 10 mx.example.test.",
		"mx.example.test. 300 IN A 127.0.0.1",
		"mx.example.test. 300 IN AAAA ::1",
		`example.test. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"`,
		"nullmx.test. 300 IN MX 0 .",
		"alias.example.test. 300 IN CNAME mx.example.test.",
	)
	r := d.Resolver()
	ctx := context.Background()
	mx, err := r.LookupMX(ctx, "example.test")
	if err != nil || len(mx) != 1 || mx[0].Host != "mx.example.test." {
		t.Fatalf("MX: %v %v", mx, err)
	}
	ips, err := r.LookupIPAddr(ctx, "alias.example.test")
	if err != nil || len(ips) != 2 {
		t.Fatalf("IPs via CNAME: %v %v", ips, err)
	}
	txt, err := r.LookupTXT(ctx, "example.test")
	if err != nil || len(txt) != 1 || !strings.HasPrefix(txt[0], "v=spf1") {
		t.Fatalf("TXT: %v %v", txt, err)
	}
	_, err = r.LookupMX(ctx, "nothing.test")
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound {
		t.Fatalf("NXDOMAIN: %v", err)
	}
	// NODATA: the name exists, no MX.
	_, err = r.LookupMX(ctx, "mx.example.test")
	if !errors.As(err, &de) || !de.IsNotFound {
		t.Fatalf("NODATA: %v", err)
	}
	nm, err := r.LookupMX(ctx, "nullmx.test")
	t.Logf("null MX: %+v %v", nm, err)
	d.Fail("example.test", dns.RcodeServerFailure)
	_, err = r.LookupMX(ctx, "example.test")
	if !errors.As(err, &de) || de.IsNotFound || !de.IsTemporary {
		t.Fatalf("SERVFAIL: %#v", err)
	}
	if d.Queries("example.test", "MX") < 2 {
		t.Errorf("queries not counted")
	}
}
