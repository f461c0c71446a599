package imapd

import (
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pythonClient drives the server with Python's imaplib, a client we did not
// write: STARTTLS, LOGIN, LIST, CREATE of a Vietnamese name in modified UTF-7,
// SELECT, APPEND, FETCH, SEARCH, STORE, EXPUNGE. It prints OK at the end.
const pythonClient = `
import base64, imaplib, re, ssl, sys

host, port, cafile, user, pw = sys.argv[1:6]

def mutf7(s):
    out, run = [], []
    def flush():
        if run:
            b = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append("&" + b + "-")
            run.clear()
    for ch in s:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)

def ok(r, what):
    typ, data = r
    if typ != "OK":
        sys.exit("%s: %s %r" % (what, typ, data))
    return data

ctx = ssl.create_default_context(cafile=cafile)
M = imaplib.IMAP4(host, int(port))
if "STARTTLS" not in M.capabilities:
    sys.exit("no STARTTLS in %r" % (M.capabilities,))
ok(M.starttls(ssl_context=ctx), "starttls")
ok(M.login(user, pw), "login")

boxes = b"\n".join(ok(M.list(), "list"))
for name, use in ((b"Sent", b"\\Sent"), (b"Trash", b"\\Trash"), (b"Drafts", b"\\Drafts")):
    if not re.search(rb"\(([^)]*)\)[^\n]*\b" + name, boxes) or use not in boxes:
        sys.exit("list lacks %r %r: %r" % (name, use, boxes))

if b"INBOX" not in b"\n".join(ok(M.lsub(), "lsub")):
    sys.exit("LSUB lacks INBOX")

folder = mutf7("Công văn/Đến")
ok(M.create('"%s"' % folder), "create")
if folder.encode() not in b"\n".join(ok(M.list('""', '"C*"'), "list C*")):
    sys.exit("created folder not listed as %s" % folder)

ok(M.select("INBOX"), "select")
msg = ("From: An <an@sonla.gov.vn>\r\nTo: binh@sonla.gov.vn\r\n"
       "Subject: =?UTF-8?B?" + base64.b64encode("Cuộc họp giao ban".encode()).decode() + "?=\r\n"
       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
       "Content-Transfer-Encoding: 8bit\r\n\r\nKính mời dự họp lúc 8 giờ.\r\n").encode()
data = ok(M.append("INBOX", r"(\Flagged)", None, msg), "append")
m = re.search(rb"APPENDUID \d+ (\d+)", data[0])
if not m:
    sys.exit("no APPENDUID: %r" % data)
uid = m.group(1).decode()

data = ok(M.uid("FETCH", uid, "(UID FLAGS RFC822.SIZE BODY.PEEK[] ENVELOPE BODYSTRUCTURE)"), "fetch")
if data[0][1] != msg:
    sys.exit("BODY[] differs: %r" % data[0][1])
if b"\\Flagged" not in data[0][0] or (b"RFC822.SIZE %d" % len(msg)) not in data[0][0]:
    sys.exit("fetch items: %r" % data[0][0])

hits = ok(M.uid("SEARCH", None, "TEXT", "hop"), "search")[0].split()
if uid.encode() not in hits:
    sys.exit("SEARCH TEXT hop: %r" % hits)
hits = ok(M.search(None, "SUBJECT", "giao"), "search subject")[0].split()
if not hits:
    sys.exit("SEARCH SUBJECT giao found nothing")

ok(M.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "store")
ok(M.expunge(), "expunge")
ok(M.close(), "close")
M.logout()
print("OK")
`

// Python's imaplib is an independent client: if it can work with the server,
// so can the scripts and tools built on it.
func TestPythonImaplib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	e := newEnv(t)
	a := e.account("an@sonla.gov.vn", pw, nil)
	dir := t.TempDir()
	script := filepath.Join(dir, "client.py")
	if err := os.WriteFile(script, []byte(pythonClient), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, "ca.pem")
	der := e.srv.tlsConfig.Certificates[0].Certificate[0]
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(e.addr, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, script, host, port, ca, "an@sonla.gov.vn", pw).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Fatalf("imaplib: %v\n%s", err, out)
	}
	if _, err := e.store.MailboxByName(context.Background(), a.ID, "Công văn/Đến"); err != nil {
		t.Errorf("folder created through modified UTF-7 is not stored as UTF-8: %v", err)
	}
}
