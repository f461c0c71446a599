package dkim_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"govmail/internal/dkim"
	"govmail/internal/testutil"
)

var now = time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600))

const msg = "From: =?utf-8?q?Nguy=E1=BB=85n_Thu_H=C3=B2a?= <hoant.skhcn@sonla.gov.vn>\r\n" +
	"To: <b@example.test>\r\nSubject: =?utf-8?q?Th=C6=B0_m=E1=BB=9Di?=\r\nDate: Mon, 02 Mar 2026 08:00:00 +0700\r\n" +
	"Message-ID: <1@sonla.gov.vn>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: 8bit\r\n\r\nKính gửi anh,\r\n\r\nThư điện tử tỉnh Sơn La.\r\n"

// publish serves every published key of the keyring from a real DNS server.
func publish(t *testing.T, d *testutil.DNS, keys []*dkim.Key) {
	t.Helper()
	for _, k := range keys {
		d.Add(t, k.ZoneTXT(300))
	}
}

// verifyPython checks the signatures with dkimpy (Debian's python3-dkim), an
// independent implementation, fetching keys from the test DNS server.
func verifyPython(t *testing.T, d *testutil.DNS, signed []byte) string {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import dkim, dns.resolver").Run(); err != nil {
		t.Skip("python3-dkim is not installed (apt-get install python3-dkim)")
	}
	_, port, _ := strings.Cut(d.Addr, ":")
	script := `
import sys, dkim, dns.resolver
r = dns.resolver.Resolver(configure=False)
r.nameservers = ['127.0.0.1']
r.port = int(sys.argv[1])
def txt(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    try:
        a = r.resolve(name, 'TXT', lifetime=timeout)
    except Exception:
        return None
    return b''.join(a[0].strings)
m = sys.stdin.buffer.read()
d = dkim.DKIM(m)
n = len([l for l in m.split(b'\r\n\r\n')[0].split(b'\r\n') if l.lower().startswith(b'dkim-signature:')])
def one(i):
    try:
        return 'ok' if d.verify(idx=i, dnsfunc=txt) else 'fail'
    except Exception:
        return 'fail'
print(' '.join(one(i) for i in range(n)))
`
	cmd := exec.Command("/usr/bin/python3", "-c", script, port)
	cmd.Stdin = bytes.NewReader(signed)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dkimpy: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestSignVerifiesIndependently(t *testing.T) {
	kr, err := dkim.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	made, err := kr.Ensure([]string{"sonla.gov.vn"}, now)
	if err != nil || len(made) != 2 {
		t.Fatalf("ensure: %v %v", made, err)
	}
	d := testutil.StartDNS(t)
	publish(t, d, made)
	signed, err := kr.Sign([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(signed, []byte("DKIM-Signature:")); n != 2 {
		t.Fatalf("%d signatures, want Ed25519 and RSA", n)
	}
	if !bytes.HasSuffix(signed, []byte(msg)) {
		t.Fatal("the message itself was changed (N2)")
	}
	if got := verifyPython(t, d, signed); got != "ok ok" {
		t.Fatalf("dkimpy verification: %q", got)
	}
	// go-msgauth agrees, through the same DNS.
	r := d.Resolver()
	vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(signed), &msgdkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		return r.LookupTXT(t.Context(), name)
	}})
	if err != nil || len(vs) != 2 || vs[0].Err != nil || vs[1].Err != nil {
		t.Fatalf("go-msgauth: %+v %v", vs, err)
	}
	// A changed body no longer verifies.
	tampered := bytes.Replace(signed, []byte("Sơn La"), []byte("Hà Nội"), 1)
	if got := verifyPython(t, d, tampered); got != "fail fail" {
		t.Errorf("tampered message: %q", got)
	}
	// A second From (added in transit) breaks the signature: From is over-signed.
	added := bytes.Replace(signed, []byte("To: <b@"), []byte("From: <evil@example.test>\r\nTo: <b@"), 1)
	if got := verifyPython(t, d, added); strings.Contains(got, "ok") {
		t.Errorf("extra From still verifies: %q", got)
	}
	// Mail of a domain without keys is left alone.
	other := strings.Replace(msg, "@sonla.gov.vn>\r\nTo", "@example.org>\r\nTo", 1)
	if out, _ := kr.Sign([]byte(other)); !bytes.Equal(out, []byte(other)) {
		t.Error("signed a foreign domain's mail")
	}
	// A sub-domain uses its parent's keys.
	sub := strings.Replace(msg, "@sonla.gov.vn>\r\nTo", "@skhcn.sonla.gov.vn>\r\nTo", 1)
	if out, _ := kr.Sign([]byte(sub)); bytes.Count(out, []byte("d=sonla.gov.vn")) != 2 {
		t.Errorf("sub-domain not signed by the parent:\n%.400s", out)
	}
}

func TestKeysPersistAndRotate(t *testing.T) {
	dir := t.TempDir()
	kr, _ := dkim.Open(dir)
	first, err := kr.Ensure([]string{"sonla.gov.vn"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := kr.Ensure([]string{"sonla.gov.vn"}, now); len(again) != 0 {
		t.Fatal("Ensure made keys twice")
	}
	fi, err := os.Stat(dir + "/sonla.gov.vn/" + first[0].Selector + ".pem")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	// Step 1: the next pair is published but does not sign yet.
	later := now.Add(90 * 24 * time.Hour)
	next, err := kr.Rotate("sonla.gov.vn", later)
	if err != nil || len(next) != 2 || next[0].State != dkim.StateNext {
		t.Fatalf("rotate 1: %+v %v", next, err)
	}
	signed, _ := kr.Sign([]byte(msg))
	if !bytes.Contains(signed, []byte("s="+first[0].Selector)) || bytes.Contains(signed, []byte("s="+next[0].Selector)) {
		t.Fatal("signed with a key not yet switched to")
	}
	// Reloaded from disk, the state holds.
	kr2, err := dkim.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(kr2.Keys("sonla.gov.vn")); n != 4 {
		t.Fatalf("reloaded %d keys", n)
	}
	// Step 2: switch.
	if _, err := kr2.Rotate("sonla.gov.vn", later); err != nil {
		t.Fatal(err)
	}
	signed, _ = kr2.Sign([]byte(msg))
	if bytes.Contains(signed, []byte("s="+first[0].Selector+";")) || !bytes.Contains(signed, []byte("s="+next[0].Selector)) {
		t.Fatalf("not switched:\n%.600s", signed)
	}
	d := testutil.StartDNS(t)
	publish(t, d, kr2.Keys("sonla.gov.vn"))
	if got := verifyPython(t, d, signed); got != "ok ok" {
		t.Fatalf("after rotation: %q", got)
	}
	// Step 3: retire the old pair.
	gone, err := kr2.Retire("sonla.gov.vn")
	if err != nil || len(gone) != 2 || gone[0].Selector != first[0].Selector && gone[1].Selector != first[0].Selector {
		t.Fatalf("retire: %+v %v", gone, err)
	}
	if n := len(kr2.Keys("sonla.gov.vn")); n != 2 {
		t.Fatalf("%d keys after retire", n)
	}
	if _, err := os.Stat(dir + "/sonla.gov.vn/" + first[0].Selector + ".pem"); !os.IsNotExist(err) {
		t.Error("retired key file left behind")
	}
}

func TestZoneTXTSplits(t *testing.T) {
	kr, _ := dkim.Open(t.TempDir())
	keys, _ := kr.Ensure([]string{"sonla.gov.vn"}, now)
	for _, k := range keys {
		z := k.ZoneTXT(3600)
		for _, part := range strings.Split(z, `"`)[1:] {
			if len(part) > 255 {
				t.Errorf("TXT string of %d octets", len(part))
			}
		}
		if k.Algorithm == dkim.RSA && !strings.Contains(z, `" "`) {
			t.Errorf("RSA record not split: %s", z)
		}
		if !strings.HasPrefix(z, k.Selector+"._domainkey.sonla.gov.vn. 3600 IN TXT") {
			t.Errorf("zone line: %s", z)
		}
	}
}
