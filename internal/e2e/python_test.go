package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"govmail/internal/testutil"
)

// runPython runs a Python 3 script with the given environment; the test is
// skipped only when python3 is absent (failed under CI: scripts/test.sh
// installs it).
func runPython(t *testing.T, script string, env ...string) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		testutil.Missing(t, "python3 not installed")
	}
	f := filepath.Join(t.TempDir(), "t.py")
	if err := os.WriteFile(f, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, f)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return string(out)
}

const pySMTPPOP = `
import os, smtplib, poplib, ssl, email, email.policy
from email.message import EmailMessage
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
host, port = os.environ["SUB"].rsplit(":", 1)
user, pw = os.environ["USER_ADDR"], os.environ["PW"]
m = EmailMessage()
m["From"] = "Nguyễn Thu Hòa <%s>" % user
m["To"] = user
m["Subject"] = "Giấy mời họp giao ban tháng 11 — Sở KHCN"
m.set_content("Kính gửi các đồng chí,\nĐường dây nóng: 0212 3852 xxx.\n.dòng bắt đầu bằng dấu chấm\n")
m.add_attachment(b"%PDF-1.4 test", maintype="application", subtype="pdf", filename="Báo cáo tổng kết.pdf")
with smtplib.SMTP(host, int(port)) as s:
    s.starttls(context=ctx)
    s.login(user, pw)
    s.send_message(m)
    try:
        s.sendmail(user, ["someone@example.org"], b"Subject: x\r\n\r\nx\r\n")
        print("REMOTE-QUEUED")
    except smtplib.SMTPRecipientsRefused as e:
        print("REFUSED", list(e.recipients.values())[0][0])
# SMTPUTF8 with a raw UTF-8 subject
raw = ("From: %s\r\nTo: %s\r\nSubject: Thư thứ hai — Đảng ủy\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNội dung.\r\n" % (user, user)).encode()
with smtplib.SMTP(host, int(port)) as s:
    s.starttls(context=ctx)
    s.login(user, pw)
    s.sendmail(user, [user], raw, mail_options=["SMTPUTF8"])
phost, pport = os.environ["POP"].rsplit(":", 1)
p = poplib.POP3(phost, int(pport))
p.stls(context=ctx)
p.user(user); p.pass_(pw)
n, size = p.stat()
print("STAT", n)
subjects = []
for i in range(1, n+1):
    lines = p.retr(i)[1]
    msg = email.message_from_bytes(b"\r\n".join(lines), policy=email.policy.default)
    subjects.append(str(msg["Subject"]))
    if i == 1:
        att = [a for a in msg.iter_attachments()][0]
        print("ATTACH", att.get_filename())
        print("BODY", msg.get_body(("plain",)).get_content().splitlines()[2])
print("SUBJECTS", " | ".join(subjects))
print("UIDL", len(p.uidl()[1]))
p.dele(1)
p.quit()
p = poplib.POP3_SSL(phost, int(os.environ["POPS"].rsplit(":",1)[1]), context=ctx)
p.user(user); p.pass_(pw)
print("AFTER", p.stat()[0])
p.quit()
`

// R3.3 and N1 with Python's smtplib and poplib: submission with STARTTLS and AUTH,
// a Vietnamese subject and attachment name round-trip, POP3 STLS and POP3S.
func TestPythonSMTPAndPOP3(t *testing.T) {
	s := testutil.Start(t, testutil.Options{})
	a := s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)
	out := runPython(t, pySMTPPOP, "SUB="+s.Addr("submission"), "POP="+s.Addr("pop3"), "POPS="+s.Addr("pop3s"), "USER_ADDR="+a.Address, "PW="+pw)
	for _, want := range []string{
		"REMOTE-QUEUED",
		"STAT 2",
		"ATTACH Báo cáo tổng kết.pdf",
		"BODY .dòng bắt đầu bằng dấu chấm",
		"SUBJECTS Giấy mời họp giao ban tháng 11 — Sở KHCN | Thư thứ hai — Đảng ủy",
		"UIDL 2",
		"AFTER 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
