package testutil

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// StartUnbound runs a private unbound (scripts/services/unbound.sh) as the
// DNSSEC-validating resolver in front of auth: every query for zone goes to
// auth, and the DNSKEY records in anchors (from DNS.Sign) are trusted. It
// returns the resolver's 127.0.0.1:port; unbound stops when the test ends.
func StartUnbound(t testing.TB, auth *DNS, zone string, anchors ...string) string {
	t.Helper()
	requireBinary(t, "unbound")
	dir := shortTempDir(t, "govmail-unbound-")
	port := freePort(t)
	env := []string{"UNBOUND_TRUST_ANCHORS=" + strings.Join(anchors, "\n")}
	d, vars := startDaemonArgs(t, "unbound", dir, env, fmt.Sprint(port), dns.Fqdn(zone), auth.Addr)
	t.Cleanup(d.stop)
	addr := vars["UNBOUND_ADDR"]
	if addr == "" {
		d.stop()
		t.Fatalf("unbound.sh printed no address:\n%s", tailFile(filepath.Join(dir, "unbound.script.err"), filepath.Join(dir, "unbound.log")))
	}
	probe := func() error {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
		c := &dns.Client{Timeout: 500 * time.Millisecond}
		_, _, err := c.Exchange(m, addr)
		return err
	}
	if err := d.waitReady(30*time.Second, probe); err != nil {
		t.Fatalf("unbound: %v\n%s", err, tailFile(filepath.Join(dir, "unbound.script.err"), filepath.Join(dir, "unbound.log")))
	}
	return addr
}
