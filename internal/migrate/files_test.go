package migrate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"govmail/internal/store"
)

// ourMessages reads a folder here: bodies and flags in UID order.
func ourMessages(t *testing.T, o *ours, acct *store.Account, folder string) ([]store.Message, [][]byte) {
	t.Helper()
	ctx := context.Background()
	mb, err := o.st.MailboxByName(ctx, acct.ID, folder)
	if err != nil {
		t.Fatalf("%q: %v", folder, err)
	}
	msgs, _, err := o.st.Messages(ctx, mb.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	var bodies [][]byte
	for _, m := range msgs {
		b, err := o.st.ReadBlob(ctx, m.BlobID)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	return msgs, bodies
}

func hasFlags(got []string, want ...string) bool { return sameFlags(got, want) }

const mboxFile = `From hoa@sonla.gov.vn Mon Mar  4 08:15:00 2024
From: =?utf-8?q?Nguy=E1=BB=85n_Th=E1=BB=8B_Hoa?= <hoa@sonla.gov.vn>
Subject: =?utf-8?b?Q8O0bmcgdsSDbiBtYm94IDE=?=
Status: RO
X-Status: AF
X-Keywords: $label1

Dòng một: Kính gửi các đơn vị.
>From đây là dòng đã thoát
From ngày mai chúng ta họp (sau một dòng có chữ)

From đầu dòng sau dòng trống, không có giờ

From lan@sonla.gov.vn Tue Mar  5 09:00:00 2024
Subject: Thư hai
Status: O

Nội dung thư hai.

From x@y Wed Mar  6 10:00:00 2024
Subject: thu loi khong co dong trong
dong rac khong co dau hai cham
`

// An mbox file is split at its From_ lines only, its messages stored with
// CRLF line ends and nothing else changed, Status/X-Status/X-Keywords read as
// flags and the From_ date as the internal date; the next run copies only what
// was appended, and a rewritten file is matched by content.
func TestImportMbox(t *testing.T) {
	ctx := context.Background()
	o := newStore(t)
	acct := o.account(t, "hoant.skhcn@sonla.gov.vn", 1<<30)
	path := filepath.Join(t.TempDir(), "hoa.mbox")
	if err := os.WriteFile(path, []byte(mboxFile), 0o600); err != nil {
		t.Fatal(err)
	}
	im := o.importer(t)
	rep, err := im.ImportMbox(ctx, path, FileOptions{Address: acct.Address, Folder: "Thư cũ"})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Verified() || rep.Folders[0].Copied != 3 {
		t.Fatalf("%+v", rep.Folders[0])
	}
	msgs, bodies := ourMessages(t, o, acct, "Thư cũ")
	want1 := crlf(strings.SplitN(mboxFile, "\n", 2)[1][:strings.Index(strings.SplitN(mboxFile, "\n", 2)[1], "\n\nFrom lan@")])
	if string(bodies[0]) != want1+"\r\n" {
		t.Errorf("message 1:\n%q\nwant\n%q", bodies[0], want1+"\r\n")
	}
	if !bytes.Contains(bodies[0], []byte("\r\n>From đây")) || !bytes.Contains(bodies[0], []byte("\r\nFrom đầu dòng")) {
		t.Error("body lines beginning with From must stay in the message, unescaped only with --mboxrd")
	}
	if string(bodies[1]) != "Subject: Thư hai\r\nStatus: O\r\n\r\nNội dung thư hai.\r\n" {
		t.Errorf("message 2: %q", bodies[1])
	}
	if string(bodies[2]) != "Subject: thu loi khong co dong trong\r\ndong rac khong co dau hai cham\r\n" {
		t.Errorf("malformed message 3 must be carried as is: %q", bodies[2])
	}
	if !hasFlags(msgs[0].Flags, `\Seen`, `\Answered`, `\Flagged`, "$label1") || len(msgs[1].Flags) != 0 {
		t.Errorf("flags: %v / %v", msgs[0].Flags, msgs[1].Flags)
	}
	if d := time.Date(2024, 3, 5, 9, 0, 0, 0, time.Local); !msgs[1].InternalDate.Equal(d) {
		t.Errorf("internal date %v, want %v", msgs[1].InternalDate, d)
	}

	// Mail appended to the file: only that is copied.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\nFrom moi@sonla.gov.vn Thu Mar  7 10:00:00 2024\nSubject: Thư mới\n\nMới.\n")
	f.Close()
	rep, err = o.importer(t).ImportMbox(ctx, path, FileOptions{Address: acct.Address, Folder: "Thư cũ"})
	if err != nil {
		t.Fatal(err)
	}
	if fr := rep.Folders[0]; !rep.Verified() || fr.Copied != 1 || fr.Fetched != 1 || fr.SourceCount != 4 {
		t.Fatalf("append run: %+v", fr)
	}
	// The file rewritten without its first message: nothing stored twice.
	data, _ := os.ReadFile(path)
	rest := data[bytes.Index(data, []byte("From lan@")):]
	os.WriteFile(path, rest, 0o600)
	rep, err = o.importer(t).ImportMbox(ctx, path, FileOptions{Address: acct.Address, Folder: "Thư cũ"})
	if err != nil {
		t.Fatal(err)
	}
	if fr := rep.Folders[0]; !rep.Verified() || fr.Copied != 0 || fr.Reused != 3 || fr.DeletedKept != 1 {
		t.Fatalf("rewritten file: %+v", fr)
	}
	if msgs, _ := ourMessages(t, o, acct, "Thư cũ"); len(msgs) != 4 {
		t.Errorf("%d messages, want 4", len(msgs))
	}

	// mboxrd: one level of ">From " quoting comes off.
	rd := filepath.Join(t.TempDir(), "rd.mbox")
	os.WriteFile(rd, []byte("From a@b Mon Mar  4 08:15:00 2024\nSubject: rd\n\n>From quoted\n>>From twice\n"), 0o600)
	if _, err := o.importer(t).ImportMbox(ctx, rd, FileOptions{Address: acct.Address, Folder: "rd", MboxRD: true}); err != nil {
		t.Fatal(err)
	}
	if _, b := ourMessages(t, o, acct, "rd"); string(b[0]) != "Subject: rd\r\n\r\nFrom quoted\r\n>From twice\r\n" {
		t.Errorf("mboxrd: %q", b[0])
	}
	// Not an mbox.
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("Subject: x\n\nbody\n"), 0o600)
	if rep, _ := o.importer(t).ImportMbox(ctx, bad, FileOptions{Address: acct.Address}); rep.Verified() {
		t.Error("a file that is not an mbox must not verify")
	}
	if err := o.st.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A Dovecot-style maildir: flags from the file names (keywords through
// dovecot-keywords), the file's mtime as the internal date, W= checked,
// Maildir++ sub-folders with modified UTF-7 names mapped to ours.
func TestImportMaildir(t *testing.T) {
	ctx := context.Background()
	o := newStore(t)
	acct := o.account(t, "hoant.skhcn@sonla.gov.vn", 1<<30)
	root := filepath.Join(t.TempDir(), "Maildir")
	date := time.Date(2024, 3, 4, 8, 15, 0, 0, time.UTC)
	write := func(folder, sub, base, info, body string) string {
		dir := filepath.Join(root, folder)
		for _, d := range []string{"cur", "new", "tmp"} {
			os.MkdirAll(filepath.Join(dir, d), 0o700)
		}
		w := len(crlf(body))
		name := base + ",S=" + strconv.Itoa(len(body)) + ",W=" + strconv.Itoa(w)
		if info != "" {
			name += ":2," + info
		}
		p := filepath.Join(dir, sub, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, date, date)
		date = date.Add(time.Hour)
		return p
	}
	m1 := "From: a@sonla.gov.vn\nSubject: Thư một\n\nNội dung một.\n"
	write("", "cur", "1700000001.M1P1.old", "S", m1)
	write("", "new", "1700000002.M2P1.old", "", "Subject: Thư hai\n\nHai.\n")
	write("", "cur", "1700000003.M3P1.old", "FRa", "Subject: Thư ba\n\nBa.\n")
	os.WriteFile(filepath.Join(root, "dovecot-keywords"), []byte("0 $Important\n"), 0o600)
	os.WriteFile(filepath.Join(root, "tmp", "1700000004.M4P1.old"), []byte("Subject: not delivered yet\n\n"), 0o600)
	write(".Sent", "cur", "1700000005.M5P1.old", "S", "Subject: Đã gửi\n\nGửi.\n")
	write(".C&APQ-ng v&AQM-n.&ARAevw-n", "cur", "1700000006.M6P1.old", "", "Subject: Công văn đến\n\nĐến.\n")
	write(".Deleted Items", "cur", "1700000007.M7P1.old", "ST", "Subject: Xóa\n\nXóa.\n")

	rep, err := o.importer(t).ImportMaildir(ctx, root, FileOptions{Address: acct.Address})
	if err != nil {
		t.Fatal(err)
	}
	mustVerifyAccount(t, rep)
	msgs, bodies := ourMessages(t, o, acct, "INBOX")
	if len(msgs) != 3 || string(bodies[0]) != crlf(m1) {
		t.Fatalf("INBOX: %d messages, first %q", len(msgs), bodies[0])
	}
	if !hasFlags(msgs[0].Flags, `\Seen`) || len(msgs[1].Flags) != 0 || !hasFlags(msgs[2].Flags, `\Flagged`, `\Answered`, "$Important") {
		t.Errorf("flags: %v %v %v", msgs[0].Flags, msgs[1].Flags, msgs[2].Flags)
	}
	if want := time.Date(2024, 3, 4, 8, 15, 0, 0, time.UTC); !msgs[0].InternalDate.Equal(want) {
		t.Errorf("internal date %v, want the file's mtime %v", msgs[0].InternalDate, want)
	}
	for folder, n := range map[string]int{"Sent": 1, "Công văn/Đến": 1, "Trash": 1} {
		if got, _ := ourMessages(t, o, acct, folder); len(got) != n {
			t.Errorf("%q: %d messages, want %d", folder, len(got), n)
		}
	}
	if tr, _ := ourMessages(t, o, acct, "Trash"); !hasFlags(tr[0].Flags, `\Seen`, `\Deleted`) {
		t.Errorf("Trash flags %v", tr[0].Flags)
	}
	// Again: nothing to copy.
	rep, err = o.importer(t).ImportMaildir(ctx, root, FileOptions{Address: acct.Address})
	if err != nil {
		t.Fatal(err)
	}
	mustVerifyAccount(t, rep)
	if c, _, f := rep.totals(); c != 0 || f != 0 {
		t.Errorf("second run copied %d, read %d", c, f)
	}
	// --folder: the maildir alone into one folder.
	rep, err = o.importer(t).ImportMaildir(ctx, root, FileOptions{Address: acct.Address, Folder: "Lưu trữ cũ"})
	if err != nil {
		t.Fatal(err)
	}
	mustVerifyAccount(t, rep)
	if got, _ := ourMessages(t, o, acct, "Lưu trữ cũ"); len(got) != 3 || len(rep.Folders) != 1 {
		t.Errorf("--folder: %d messages, %d folders", len(got), len(rep.Folders))
	}
	// A W= that does not match is reported.
	p := write("", "cur", "1700000008.M8P1.old", "", "Subject: sai\n\nx\n")
	os.Rename(p, strings.Replace(p, ",W=", ",W=9", 1))
	rep, _ = o.importer(t).ImportMaildir(ctx, root, FileOptions{Address: acct.Address})
	if rep.Verified() {
		t.Error("a size that differs from W= must not verify")
	}
	if _, err := o.importer(t).ImportMaildir(ctx, t.TempDir(), FileOptions{Address: acct.Address}); err == nil {
		t.Error("a directory without cur/ and new/ is not a maildir")
	}
}

func mustVerifyAccount(t *testing.T, a *AccountReport) {
	t.Helper()
	if !a.Verified() {
		var b strings.Builder
		a.Write(&b)
		t.Fatalf("not verified:\n%s", b.String())
	}
}
