package pop3

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// poplibScript drives the server with Python's standard POP3 client, the way a
// third-party mail client would, and reports what it saw as JSON.
const poplibScript = `
import json, poplib, ssl, sys
host, port, mode, cafile, outdir = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
if mode == "stls":
    p = poplib.POP3(host, int(port), timeout=20)
    before = p.capa()
    assert "STLS" in before, before
    assert "USER" not in before, before
    p.stls(context=ctx)
else:
    p = poplib.POP3_SSL(host, int(port), context=ctx, timeout=20)
res = {"welcome": p.getwelcome().decode(), "capa": sorted(p.capa().keys())}
res["user"] = p.user("alice").decode()
res["pass"] = p.pass_("secret pass").decode()
res["stat"] = list(p.stat())
res["list"] = [l.decode() for l in p.list()[1]]
res["uidl"] = [l.decode() for l in p.uidl()[1]]
res["uidl1"] = p.uidl(1).decode()
resp, lines, octets = p.retr(1)
with open(outdir + "/retr1.eml", "wb") as f:
    f.write(b"\r\n".join(lines) + b"\r\n")
resp, lines, octets = p.top(1, 2)
with open(outdir + "/top1.eml", "wb") as f:
    f.write(b"\r\n".join(lines) + b"\r\n")
res["dele"] = p.dele(2).decode()
res["stat_after_dele"] = list(p.stat())
res["quit"] = p.quit().decode()
print(json.dumps(res))
`

// A Vietnamese message as the store keeps it: CRLF, UTF-8 headers (RFC 6532),
// 8-bit body, lines that start with dots. It must come back byte for byte.
const vietnameseMessage = "From: =?utf-8?b?U+G7nyBLSENO?= <sokhcn@sonla.gov.vn>\r\n" +
	"To: Nguyễn Văn An <an@sonla.gov.vn>\r\n" +
	"Subject: Kính gửi các đơn vị: lịch họp tháng Mười Một\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: 8bit\r\n" +
	"\r\n" +
	"Kính gửi các đơn vị,\r\n" +
	".Đường dây nóng: 0212 3852 ...\r\n" +
	".\r\n" +
	"..\r\n" +
	"Trân trọng, Sở Khoa học và Công nghệ tỉnh Sơn La. Điều 3.3: Unicode TCVN 6909:2001.\r\n" +
	"\r\n" +
	" dòng bắt đầu bằng dấu cách\r\n"

func TestPythonPoplib(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	serverConf, _, caPEM := testCerts(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	script := filepath.Join(dir, "client.py")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(poplibScript), 0o600); err != nil {
		t.Fatal(err)
	}
	second := "Subject: second\r\n\r\nhai\r\n"

	for _, mode := range []string{"stls", "pop3s"} {
		t.Run(mode, func(t *testing.T) {
			b := newFakeBackend()
			b.boxes["alice"] = []fakeMsg{
				{uid: "vn-1", body: []byte(vietnameseMessage)},
				{uid: "second-2", body: []byte(second)},
			}
			srv, logs := newTestServer(b)
			srv.TLSConfig = serverConf // and AllowInsecureAuth stays false
			addr := startServer(t, srv, mode == "pop3s")
			host, port, _ := strings.Cut(addr, ":")
			out := t.TempDir()

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, script, host, port, mode, caFile, out)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("poplib: %v\nstderr:\n%s\nserver log:\n%s", err, stderr.String(), logs)
			}
			var res struct {
				Welcome, User, Pass, Uidl1, Dele, Quit string
				Capa, List, Uidl                       []string
				RawStat                                []int `json:"stat"`
				RawStatAfter                           []int `json:"stat_after_dele"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("poplib output %q: %v", stdout.String(), err)
			}
			size1, size2 := len(vietnameseMessage), len(second)
			checks := []struct {
				what      string
				got, want any
			}{
				{"welcome", res.Welcome, "+OK mail.test POP3 server ready"},
				{"stat", fmt.Sprint(res.RawStat), fmt.Sprint([]int{2, size1 + size2})},
				{"list", fmt.Sprint(res.List), fmt.Sprint([]string{fmt.Sprint("1 ", size1), fmt.Sprint("2 ", size2)})},
				{"uidl", fmt.Sprint(res.Uidl), fmt.Sprint([]string{"1 vn-1", "2 second-2"})},
				{"uidl 1", res.Uidl1, "+OK 1 vn-1"},
				{"dele", res.Dele, "+OK message 2 deleted"},
				{"stat after dele", fmt.Sprint(res.RawStatAfter), fmt.Sprint([]int{1, size1})},
				{"quit", res.Quit, "+OK mail.test signing off (1 messages left)"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
				}
			}
			for _, want := range []string{"USER", "SASL", "TOP", "UIDL", "PIPELINING", "RESP-CODES"} {
				if !slices.Contains(res.Capa, want) {
					t.Errorf("CAPA over TLS lacks %s: %v", want, res.Capa)
				}
			}

			got, err := os.ReadFile(filepath.Join(out, "retr1.eml"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, []byte(vietnameseMessage)) {
				t.Errorf("RETR not byte-exact:\n got %q\nwant %q", got, vietnameseMessage)
			}
			top, err := os.ReadFile(filepath.Join(out, "top1.eml"))
			if err != nil {
				t.Fatal(err)
			}
			header, _, _ := strings.Cut(vietnameseMessage, "\r\n\r\n")
			wantTop := header + "\r\n\r\nKính gửi các đơn vị,\r\n.Đường dây nóng: 0212 3852 ...\r\n"
			if string(top) != wantTop {
				t.Errorf("TOP 1 2:\n got %q\nwant %q", top, wantTop)
			}

			srv.Close()
			srv.wg.Wait()
			commits := b.getCommits()
			if len(commits) != 1 || !slices.Equal(commits[0].deleted, []string{"second-2"}) {
				t.Errorf("commits %+v", commits)
			}
			if info := b.lastLogin(); info.TLS == nil {
				t.Error("login without TLS state")
			}
		})
	}
}
