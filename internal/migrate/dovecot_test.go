package migrate

import (
	"bufio"
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
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"govmail/internal/testutil"
)

// The old system of the tests is a real Dovecot (DESIGN decision 7): Debian's
// dovecot-imapd with a configuration of its own in a temporary directory, on
// loopback ports, never the system's /etc/dovecot service.

const (
	dovecotBin    = "/usr/sbin/dovecot"
	mailUID       = 65534 // nobody: Dovecot refuses to serve mail as root
	masterUser    = "admin"
	masterPass    = "Adm1n!pass"
	dovecotPasswd = "Mk1!abcdefgh"
)

// needDovecot installs dovecot-imapd when it is missing and the test runs as
// root; otherwise it skips, or fails under CI where scripts/test.sh installs it.
func needDovecot(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(dovecotBin); err == nil {
		return
	}
	if os.Geteuid() == 0 {
		cmd := exec.Command("sh", "-c", `apt-get install -y -qq --no-install-recommends dovecot-imapd ||
			(apt-get update -qq && apt-get install -y -qq --no-install-recommends dovecot-imapd)`)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if _, serr := os.Stat(dovecotBin); serr == nil {
			return
		}
		testutil.Missing(t, "dovecot-imapd could not be installed: %v\n%s", err, out)
	}
	testutil.Missing(t, "dovecot is not installed (apt-get install dovecot-imapd) and the test is not root")
}

// dovecot is a running private instance.
type dovecot struct {
	dir       string // config, runtime, logs and mail
	imapAddr  string // plain text + STARTTLS
	imapsAddr string // implicit TLS
	certPEM   []byte // its self-signed certificate, the tests' CA
	cmd       *exec.Cmd
	exited    chan struct{}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "old-mail.sonla.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// startDovecot runs Dovecot with the given users (login → password) and the
// master user admin, and stops it when the test ends. prepare, when set, runs
// before the start with the mail directory (to write maildirs directly).
func startDovecot(t testing.TB, users []string, prepare func(mailDir string)) *dovecot {
	t.Helper()
	needDovecot(t)
	if os.Geteuid() != 0 {
		t.Skip("a private Dovecot needs root (its mail processes change to the user nobody)")
	}
	// Dovecot's unprivileged processes (dovenull, dovecot, nobody) must reach
	// the directory, which t.TempDir's 0700 parents do not allow.
	dir, err := os.MkdirTemp("", "govmail-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d := &dovecot{dir: dir, exited: make(chan struct{})}
	cert, key := selfSigned(t)
	d.certPEM = cert
	mailDir := filepath.Join(dir, "mail")
	var passwd strings.Builder
	for _, u := range users {
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s\n", u, dovecotPasswd)
	}
	files := map[string]string{
		"cert.pem": string(cert), "key.pem": string(key), "users": passwd.String(),
		"masters": fmt.Sprintf("%s:{PLAIN}%s\n", masterUser, masterPass),
	}
	for name, body := range files {
		mode := os.FileMode(0o644) // Dovecot's auth processes read the password files
		if name == "key.pem" {
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(mailDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(mailDir)
	}
	chownTree(t, mailDir)
	p1, p2 := freePort(t), freePort(t)
	d.imapAddr, d.imapsAddr = fmt.Sprintf("127.0.0.1:%d", p1), fmt.Sprintf("127.0.0.1:%d", p2)
	conf := fmt.Sprintf(`protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_master_user_separator = *
auth_failure_delay = 0
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
mail_location = maildir:%[1]s/mail/%%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/masters
  master = yes
  pass = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/users
}
userdb {
  driver = static
  args = uid=%[2]d gid=%[2]d home=%[1]s/mail/%%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[3]d
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %[4]d
    ssl = yes
  }
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
  }
  mailbox Drafts {
    special_use = \Drafts
  }
  mailbox Trash {
    special_use = \Trash
  }
  mailbox Junk {
    special_use = \Junk
  }
}
`, dir, mailUID, p1, p2)
	confPath := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(dovecotBin, "-F", "-c", confPath)
	d.cmd.Stdout, d.cmd.Stderr = os.Stderr, os.Stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(d.stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if d.greets() {
			return d
		}
		select {
		case <-d.exited:
			t.Fatalf("dovecot exited at start:\n%s", d.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot did not answer on %s:\n%s", d.imapAddr, d.log())
		}
		time.Sleep(50 * time.Millisecond) // polling a child's start-up, bounded by the deadline
	}
}

func (d *dovecot) greets() bool {
	c, err := net.DialTimeout("tcp", d.imapAddr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "* OK")
}

// stop ends the master process by its id; it takes its children with it.
func (d *dovecot) stop() {
	if d.cmd.Process == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
}

func (d *dovecot) log() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
	return string(b)
}

func chownTree(t testing.TB, root string) {
	t.Helper()
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, mailUID, mailUID)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// client logs in to the plain port as user (seeding and checking the old side).
func (d *dovecot) client(t testing.TB, user string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(d.imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(user, dovecotPasswd).Wait(); err != nil {
		t.Fatalf("login %s: %v\n%s", user, err, d.log())
	}
	t.Cleanup(func() { c.Close() })
	return c
}
