package testutil

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Postfix is a private instance of Debian's Postfix, the foreign MTA peer of
// the outbound and inbound tests (DESIGN decision 7): its own config, queue and
// mail directories under a temporary directory, one SMTP listener on a loopback
// port, never the system's /etc/postfix service.
type Postfix struct {
	Dir     string // config_directory; queue/, data/, mail/ and maillog are inside
	Addr    string // 127.0.0.1:port of its SMTP listener
	MailDir string // Maildir of everything delivered to its LocalDomains
}

// PostfixOptions configure an instance.
type PostfixOptions struct {
	// LocalDomains are delivered by Postfix's virtual agent into one Maildir.
	LocalDomains []string
	// Relay sends a domain's mail to host:port (a transport map entry), e.g.
	// {"sonla.gov.vn": "127.0.0.1:2525"}; those domains are relayed for anyone.
	Relay map[string]string
	// TLS offers STARTTLS with a self-signed certificate.
	TLS bool
	// Main adds or overrides main.cf parameters.
	Main map[string]string
}

// NeedPostfix makes sure Debian's postfix package is installed: it installs it
// when missing and running as root (with debconf "No configuration", so no
// system service is set up), and otherwise skips the test, or fails it under CI.
func NeedPostfix(t testing.TB) {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/postfix"); err == nil {
		return
	}
	if os.Geteuid() != 0 {
		Missing(t, "postfix is not installed (apt-get install postfix)")
	}
	cmd := exec.Command("sh", "-c", `echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections &&
		apt-get install -y -qq --no-install-recommends postfix || (apt-get update -qq && apt-get install -y -qq --no-install-recommends postfix)`)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		Missing(t, "postfix could not be installed: %v\n%s", err, out)
	}
}

// StartPostfix starts an instance and stops it when the test ends.
func StartPostfix(t testing.TB, opts PostfixOptions) *Postfix {
	t.Helper()
	NeedPostfix(t)
	if os.Geteuid() != 0 {
		t.Skip("a private Postfix instance needs root")
	}
	// Postfix's daemons run as the postfix user: the directory must be
	// reachable by it, which t.TempDir's 0700 parents are not.
	dir, err := os.MkdirTemp("", "govmail-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	p := &Postfix{Dir: dir, MailDir: filepath.Join(dir, "mail", "box")}
	port := postfixPort(t)
	p.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"mail", "queue", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pfUser, err := user.Lookup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	pfUID := 0
	fmt.Sscan(pfUser.Uid, &pfUID)
	os.Chown(filepath.Join(dir, "data"), pfUID, -1)
	uid, gid := 0, 0
	fmt.Sscan(nobody.Uid, &uid)
	fmt.Sscan(nobody.Gid, &gid)
	os.Chown(filepath.Join(dir, "mail"), uid, gid)

	main := map[string]string{
		"compatibility_level":      "3.6",
		"queue_directory":          filepath.Join(dir, "queue"),
		"data_directory":           filepath.Join(dir, "data"),
		"meta_directory":           "/etc/postfix",
		"mail_owner":               "postfix",
		"setgid_group":             "postdrop",
		"myhostname":               "postfix.peer.test",
		"mydomain":                 "peer.test",
		"myorigin":                 "$myhostname",
		"mydestination":            "",
		"inet_interfaces":          "127.0.0.1",
		"inet_protocols":           "ipv4",
		"mynetworks":               "127.0.0.0/8",
		"smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
		"alias_maps":               "",
		"alias_database":           "",
		"local_recipient_maps":     "",
		"biff":                     "no",
		"append_dot_mydomain":      "no",
		"maillog_file":             filepath.Join(dir, "maillog"),
		"maillog_file_prefixes":    dir,
		"smtputf8_enable":          "yes",
		"smtp_tls_security_level":  "may",
		"smtpd_banner":             "$myhostname ESMTP",
		"queue_run_delay":          "1s",
		"minimal_backoff_time":     "1s",
		"maximal_backoff_time":     "2s",
		"delay_warning_time":       "0",
		"virtual_mailbox_base":     filepath.Join(dir, "mail"),
		"virtual_mailbox_maps":     "static:box/",
		"virtual_uid_maps":         "static:" + nobody.Uid,
		"virtual_gid_maps":         "static:" + nobody.Gid,
		"virtual_minimum_uid":      "1",
		"smtp_host_lookup":         "native",
		"smtp_address_preference":  "ipv4",
	}
	if len(opts.LocalDomains) > 0 {
		main["virtual_mailbox_domains"] = strings.Join(opts.LocalDomains, ", ")
	}
	if len(opts.Relay) > 0 {
		var doms, entries []string
		for d, hp := range opts.Relay {
			host, port, err := net.SplitHostPort(hp)
			if err != nil {
				t.Fatalf("relay %s: %v", hp, err)
			}
			doms = append(doms, d)
			entries = append(entries, fmt.Sprintf("%s=smtp:[%s]:%s", d, host, port))
		}
		sort.Strings(doms)
		sort.Strings(entries)
		main["relay_domains"] = strings.Join(doms, ", ")
		main["transport_maps"] = "inline:{ " + strings.Join(entries, ", ") + " }"
	}
	if opts.TLS {
		cert, key := selfSigned(t, "postfix.peer.test")
		os.WriteFile(filepath.Join(dir, "cert.pem"), cert, 0o644)
		os.WriteFile(filepath.Join(dir, "key.pem"), key, 0o600)
		main["smtpd_tls_security_level"] = "may"
		main["smtpd_tls_chain_files"] = filepath.Join(dir, "key.pem") + ", " + filepath.Join(dir, "cert.pem")
	}
	for k, v := range opts.Main {
		main[k] = v
	}
	keys := make([]string, 0, len(main))
	for k := range main {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var mc bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&mc, "%s = %s\n", k, main[k])
	}
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), mc.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Every service runs outside a chroot: the instance lives in a temporary
	// directory, not under /var/spool/postfix.
	master := fmt.Sprintf(`%s inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`, p.Addr)
	if err := os.WriteFile(filepath.Join(dir, "master.cf"), []byte(master), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/usr/sbin/postfix", "-c", dir, "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
		// postfix prints its fatal errors only to a terminal or its log.
		check, _ := exec.Command("script", "-qc", "/usr/sbin/postfix -c "+dir+" check", "/dev/null").CombinedOutput()
		os.RemoveAll(dir)
		t.Fatalf("postfix start: %v\n%s\n%s\n%s", err, out, log, check)
	}
	t.Cleanup(func() {
		pid := 0
		if b, err := os.ReadFile(filepath.Join(dir, "queue", "pid", "master.pid")); err == nil {
			fmt.Sscan(strings.TrimSpace(string(b)), &pid)
		}
		exec.Command("/usr/sbin/postfix", "-c", dir, "stop").Run()
		// stop returns before the master has gone; wait for it (this very
		// instance's pid) so that the directory can be removed.
		deadline := time.Now().Add(10 * time.Second)
		for pid > 0 && time.Now().Before(deadline) && syscall.Kill(pid, 0) == nil {
			time.Sleep(50 * time.Millisecond)
		}
		if t.Failed() || os.Getenv("GOVMAIL_TEST_LOG") != "" {
			if log, err := os.ReadFile(filepath.Join(dir, "maillog")); err == nil {
				t.Logf("postfix maillog:\n%s", log)
			}
		}
		os.RemoveAll(dir)
	})
	// Ready when the listener answers.
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix did not listen on %s: %v", p.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return p
}

// Log returns Postfix's mail log so far.
func (p *Postfix) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "maillog"))
	return string(b)
}

// Messages returns what Postfix delivered to its local domains, oldest first.
func (p *Postfix) Messages() [][]byte {
	var names []string
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(p.MailDir, sub))
		for _, e := range ents {
			names = append(names, filepath.Join(p.MailDir, sub, e.Name()))
		}
	}
	sort.Slice(names, func(i, j int) bool { return filepath.Base(names[i]) < filepath.Base(names[j]) })
	var out [][]byte
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// WaitMessages polls until Postfix delivered at least n messages.
func (p *Postfix) WaitMessages(t testing.TB, n int, timeout time.Duration) [][]byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := p.Messages(); len(m) >= n {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix delivered %d messages, want %d; log:\n%s", len(p.Messages()), n, p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func postfixPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// selfSigned makes a PEM certificate and key for name.
func selfSigned(t testing.TB, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{name},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}
