package ldapd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// needLdapsearch returns the path of OpenLDAP's ldapsearch (Debian's
// ldap-utils), installing it when missing and the test runs as root;
// otherwise it skips, or fails under CI where scripts/test.sh installs it.
func needLdapsearch(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("ldapsearch"); err == nil {
		return p
	}
	if os.Geteuid() == 0 {
		cmd := exec.Command("sh", "-c", `apt-get install -y -qq --no-install-recommends ldap-utils ||
			(apt-get update -qq && apt-get install -y -qq --no-install-recommends ldap-utils)`)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if p, lerr := exec.LookPath("ldapsearch"); lerr == nil {
			return p
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("ldap-utils could not be installed: %v\n%s", err, out)
		}
		t.Skipf("ldap-utils could not be installed: %v", err)
	}
	if os.Getenv("CI") != "" {
		t.Fatal("ldapsearch is not installed; under CI scripts/test.sh must install ldap-utils")
	}
	t.Skip("ldapsearch is not installed (apt-get install ldap-utils) and the test is not root")
	return ""
}

// ldif is one entry of ldapsearch's output.
type ldif map[string][]string

// ldapsearch runs ldapsearch with args and returns its entries and exit
// status (which is the LDAP result code of the failure).
func ldapsearch(t *testing.T, bin string, args ...string) ([]ldif, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-LLL", "-o", "ldif-wrap=no", "-o", "nettimeout=10"}, args...)...)
	// The self-signed certificate of the test; HOME keeps a developer's
	// ~/.ldaprc out of the test.
	cmd.Env = append(os.Environ(), "LDAPTLS_REQCERT=never", "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	status := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		status = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ldapsearch: %v", err)
	}
	return parseLDIF(t, stdout.String()), status, stderr.String()
}

func parseLDIF(t *testing.T, s string) []ldif {
	var out []ldif
	var cur ldif
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			cur = nil
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("LDIF line %q", line)
		}
		if strings.HasPrefix(v, ":") { // base64: non-ASCII values such as Vietnamese names
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[1:]))
			if err != nil {
				t.Fatalf("LDIF base64 %q: %v", line, err)
			}
			v = string(b)
		} else {
			v = strings.TrimPrefix(v, " ")
		}
		if cur == nil {
			cur = ldif{}
			out = append(out, cur)
		}
		cur[strings.ToLower(k)] = append(cur[strings.ToLower(k)], v)
	}
	return out
}

// N3, N1: Debian's ldapsearch (OpenLDAP's client, as mail clients use the
// same protocol) binds with a mail account over LDAPS and over StartTLS and
// finds "Nguyễn Văn …" by "nguyen van"; wrong passwords and anonymous
// searches are refused.
func TestN3_Ldapsearch(t *testing.T) {
	bin := needLdapsearch(t)
	e := newEnv(t, nil)
	an := e.people["Nguyễn Văn An"].Address
	ldaps := "ldaps://" + e.tlsAddr
	ldapURL := "ldap://" + e.addr
	want := []string{"Nguyễn Văn An", "Nguyễn Văn Bình", "Nguyễn Văn Mới"}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"ldaps", []string{"-x", "-H", ldaps, "-D", an, "-w", testPassword, "-b", testBase, "(cn=*nguyen van*)", "cn", "sn", "givenName", "mail", "ou"}},
		{"starttls", []string{"-x", "-ZZ", "-H", ldapURL, "-D", "uid=" + an + ",ou=people," + testBase, "-w", testPassword, "-b", testBase, "(cn=*Nguyễn Văn*)", "cn", "sn", "givenName", "mail", "ou"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entries, status, stderr := ldapsearch(t, bin, tc.args...)
			if status != 0 {
				t.Fatalf("exit %d: %s", status, stderr)
			}
			var got []string
			for _, en := range entries {
				got = append(got, en["cn"]...)
				if en["cn"][0] == "Nguyễn Văn An" {
					if en["dn"][0] != "uid="+an+",ou=people,"+testBase || en["sn"][0] != "Nguyễn" || en["givenname"][0] != "An" ||
						en["mail"][0] != an || en["ou"][0] != "Sở Khoa học và Công nghệ" {
						t.Errorf("entry %v", en)
					}
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("found %q, want %q", got, want)
			}
		})
	}

	refusals := []struct {
		name   string
		status int
		args   []string
	}{
		{"wrong password", 49, []string{"-x", "-H", ldaps, "-D", an, "-w", "wrong-password", "-b", testBase, "(cn=*)"}},
		{"anonymous search", 50, []string{"-x", "-H", ldaps, "-b", testBase, "(cn=*nguyen*)"}},
		{"bind without TLS", 13, []string{"-x", "-H", ldapURL, "-D", an, "-w", testPassword, "-b", testBase, "(cn=*)"}},
		{"size limit", 4, []string{"-x", "-H", ldaps, "-D", an, "-w", testPassword, "-z", "1", "-b", testBase, "(sn=nguyen)", "cn"}},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			_, status, stderr := ldapsearch(t, bin, tc.args...)
			if status != tc.status {
				t.Errorf("exit %d, want %d: %s", status, tc.status, stderr)
			}
		})
	}

	t.Run("root DSE", func(t *testing.T) {
		entries, status, stderr := ldapsearch(t, bin, "-x", "-H", ldapURL, "-s", "base", "-b", "", "+")
		if status != 0 || len(entries) != 1 {
			t.Fatalf("exit %d, %d entries: %s", status, len(entries), stderr)
		}
		if !slices.Contains(entries[0]["namingcontexts"], testBase) || !slices.Contains(entries[0]["supportedextension"], oidStartTLS) {
			t.Errorf("root DSE %v", entries[0])
		}
	})
}
