package migrate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"govmail/internal/clock"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
)

const sourceKey = "imap:127.0.0.1"

func hanoiZone() *time.Location { return time.FixedZone("ICT", 7*3600) }

type seedMsg struct {
	folder string
	raw    string
	flags  []imap.Flag
	date   time.Time
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func vnMessage(n int, subject, body string) string {
	return crlf(fmt.Sprintf(`From: %s <vanphong@sonla.gov.vn>
To: %s <hoant.skhcn@sonla.gov.vn>
Subject: %s
Date: Mon, 4 Mar 2024 08:%02d:00 +0700
Message-ID: <msg%d@old.sonla.gov.vn>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

%s
`, mime.BEncoding.Encode("utf-8", "Văn phòng UBND tỉnh"), mime.QEncoding.Encode("utf-8", "Nguyễn Thị Hoa"),
		mime.BEncoding.Encode("utf-8", subject), n%60, n, body))
}

// seedMessages is the old mailbox of hoant: Vietnamese text in every form the
// province's mail has (RFC 2047, raw UTF-8, NFD, windows-1258, RFC 2231 file
// names), a large attachment, a malformed message, and the folders old clients
// made (Vietnamese names, "Sent Items"-style specials).
func seedMessages() []seedMsg {
	day := func(d int) time.Time { return time.Date(2024, 3, d, 8, 15, 0, 0, hanoiZone()) }
	attach := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("Báo cáo tổng hợp tình hình kinh tế - xã hội tỉnh Sơn La. "), 6000))
	var wrapped strings.Builder
	for i := 0; i < len(attach); i += 76 {
		wrapped.WriteString(attach[i:min(i+76, len(attach))] + "\r\n")
	}
	nfd := "Tho\u0302ng ba\u0301o nghi\u0309 le\u0302\u0303" // "Thông báo nghỉ lễ" in NFD
	msgs := []seedMsg{
		{"INBOX", vnMessage(1, "Công văn số 123/UBND-VP về việc họp giao ban", "Kính gửi các đơn vị: đề nghị dự họp giao ban tại Hội trường tầng 3.\nTrân trọng."), []imap.Flag{imap.FlagSeen}, day(1)},
		{"INBOX", crlf(`From: "Phòng Hạ tầng" <ht.skhcn@sonla.gov.vn>
To: hoant.skhcn@sonla.gov.vn
Subject: =?utf-8?q?B=C3=A1o_c=C3=A1o_th=C3=A1ng_11?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="ranh-gioi"

--ranh-gioi
Content-Type: text/plain; charset=utf-8

Gửi chị báo cáo tháng 11 kèm theo.
--ranh-gioi
Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document
Content-Disposition: attachment; filename*=utf-8''B%C3%A1o%20c%C3%A1o%20th%C3%A1ng%2011.docx
Content-Transfer-Encoding: base64

`) + wrapped.String() + "--ranh-gioi--\r\n", []imap.Flag{imap.FlagFlagged, imap.FlagForwarded}, day(2)},
		// windows-1258: "Hà Nội" with combining tone marks as the legacy charset writes them.
		{"INBOX", "From: =?windows-1258?q?V=E3n_th=F0?= <vanthu@sonla.gov.vn>\r\nSubject: =?windows-1258?q?Gi=E2y_m=F2i_ho=CC=A3p?=\r\nContent-Type: text/plain; charset=windows-1258\r\nContent-Transfer-Encoding: 8bit\r\n\r\nH\xe0 N\xf4\xf2i, Son La\r\n", nil, day(3)},
		// Malformed: bare LF, a header line without a colon, raw 8-bit header,
		// a boundary that never closes, base64 that is not base64.
		{"INBOX", "Subject: Thư lỗi định dạng\nNgười gửi không có dấu hai chấm\nContent-Type: multipart/mixed; boundary=\"xyz\"\n\n--xyz\nContent-Transfer-Encoding: base64\n\n!!!không phải base64!!!\n--xy", []imap.Flag{"$Important"}, day(4)},
		{"INBOX", "From: thongbao@sonla.gov.vn\r\nSubject: " + nfd + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + nfd + "\r\n", []imap.Flag{imap.FlagSeen, imap.FlagAnswered}, day(5)},
		{"Công văn", vnMessage(6, "Công văn đi số 45", "Nội dung công văn đi."), []imap.Flag{imap.FlagSeen}, day(6)},
		{"Công văn/Đến", vnMessage(7, "Công văn đến số 1", "Đơn vị đến 1"), []imap.Flag{imap.FlagSeen, imap.FlagAnswered}, day(7)},
		{"Công văn/Đến", vnMessage(8, "Công văn đến số 2", "Đơn vị đến 2"), nil, day(8)},
		{"Công văn/Đến", vnMessage(9, "Công văn đến số 3", "Đơn vị đến 3"), []imap.Flag{imap.FlagDeleted}, day(9)},
		{"Sent", vnMessage(10, "Trả lời: họp giao ban", "Tôi sẽ dự."), []imap.Flag{imap.FlagSeen}, day(10)},
		{"Sent", vnMessage(11, "Gửi báo cáo", "Kèm báo cáo."), []imap.Flag{imap.FlagSeen}, day(11)},
		{"Thư đã gửi", vnMessage(12, "Thư cũ đã gửi từ Outlook", "Nội dung."), []imap.Flag{imap.FlagSeen}, day(12)},
		{"Deleted Items", vnMessage(13, "Thư đã xóa", "Rác."), []imap.Flag{imap.FlagSeen}, day(13)},
		{"Drafts", vnMessage(14, "Bản nháp tờ trình", "Chưa xong."), []imap.Flag{imap.FlagDraft}, day(14)},
		{"Lưu trữ 2023", vnMessage(15, "Hồ sơ năm 2023", "Lưu."), []imap.Flag{imap.FlagSeen}, day(15)},
	}
	return msgs
}

// expectedTargets is where each of hoant's folders must land here.
func expectedTargets() map[string]string {
	return map[string]string{
		"INBOX": "INBOX", "Công văn": "Công văn", "Công văn/Đến": "Công văn/Đến", "Sent": "Sent", "Thư đã gửi": "Sent",
		"Deleted Items": "Trash", "Drafts": "Drafts", "Lưu trữ 2023": "Lưu trữ 2023",
	}
}

func seed(t *testing.T, c *imapclient.Client, msgs []seedMsg) {
	t.Helper()
	made := map[string]bool{"INBOX": true}
	for _, m := range msgs {
		if !made[m.folder] {
			if err := c.Create(m.folder, nil).Wait(); err != nil && !strings.Contains(err.Error(), "exists") {
				t.Fatalf("create %q: %v", m.folder, err)
			}
			made[m.folder] = true
		}
		appendMsg(t, c, m)
	}
}

func appendMsg(t *testing.T, c *imapclient.Client, m seedMsg) uint32 {
	t.Helper()
	cmd := c.Append(m.folder, int64(len(m.raw)), &imap.AppendOptions{Flags: m.flags, Time: m.date})
	if _, err := cmd.Write([]byte(m.raw)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatalf("append to %q: %v", m.folder, err)
	}
	return uint32(data.UID)
}

// oldMsg is a message as Dovecot serves it.
type oldMsg struct {
	uid   uint32
	flags []string
	date  time.Time
	sum   [32]byte
	size  int
}

func oldFolder(t *testing.T, c *imapclient.Client, folder string) []oldMsg {
	t.Helper()
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("select %q: %v", folder, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	sec := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []oldMsg
	for _, b := range bufs {
		body := b.FindBodySection(sec)
		m := oldMsg{uid: uint32(b.UID), date: b.InternalDate, sum: sha256.Sum256(body), size: len(body)}
		for _, f := range b.Flags {
			m.flags = append(m.flags, string(f))
		}
		out = append(out, m)
	}
	return out
}

type ours struct {
	st store.Store
	ms store.MigrationStore
}

func newStore(t *testing.T) *ours {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &ours{st: st, ms: st}
}

func (o *ours) account(t *testing.T, addr string, quota int64) *store.Account {
	t.Helper()
	a := &store.Account{Address: addr, DisplayName: addr, QuotaBytes: quota}
	if err := o.st.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func (o *ours) importer(t *testing.T) *Importer {
	t.Helper()
	im, err := NewImporter(o.st, clock.Real{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	im.Progress = &Progress{Started: time.Now()}
	return im
}

// verify proves every message of the old folders has a byte-identical copy
// here (sha256 of Dovecot's BODY[] against our blob), with the same flags and
// internal date, in the expected folder, paired through the UID map.
func (o *ours) verify(t *testing.T, c *imapclient.Client, acct *store.Account, targets map[string]string) (total int) {
	t.Helper()
	ctx := context.Background()
	for folder, target := range targets {
		old := oldFolder(t, c, folder)
		st, err := o.ms.ImportFolder(ctx, acct.ID, sourceKey, folder)
		if err != nil {
			t.Fatalf("state of %q: %v", folder, err)
		}
		mb, err := o.st.MailboxByName(ctx, acct.ID, target)
		if err != nil || mb.ID != st.MailboxID {
			t.Fatalf("%q should land in %q: %v (mailbox %d, state %d)", folder, target, err, mbID(mb), st.MailboxID)
		}
		rows, err := o.ms.ImportedUIDs(ctx, st.ID, st.UIDValidity, 1, 1<<32-1)
		if err != nil {
			t.Fatal(err)
		}
		dst := map[uint32]uint32{}
		for _, r := range rows {
			dst[r.Src] = r.Dst
		}
		for _, m := range old {
			d, ok := dst[m.uid]
			if !ok {
				t.Errorf("%q UID %d has no copy", folder, m.uid)
				continue
			}
			got, err := o.st.MessagesByUID(ctx, mb.ID, []uint32{d}, false)
			if err != nil || len(got) != 1 {
				t.Errorf("%q UID %d → %d: copy missing: %v", folder, m.uid, d, err)
				continue
			}
			blob, err := o.st.ReadBlob(ctx, got[0].BlobID)
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(blob) != m.sum || len(blob) != m.size {
				t.Errorf("%q UID %d: body differs (%d bytes here, %d there)", folder, m.uid, len(blob), m.size)
			}
			if !sameFlags(m.flags, got[0].Flags) {
				t.Errorf("%q UID %d: flags %v here, %v there", folder, m.uid, got[0].Flags, m.flags)
			}
			if !got[0].InternalDate.Equal(m.date) {
				t.Errorf("%q UID %d: internal date %v here, %v there", folder, m.uid, got[0].InternalDate, m.date)
			}
			total++
		}
	}
	return total
}

func mbID(m *store.Mailbox) int64 {
	if m == nil {
		return 0
	}
	return m.ID
}

func fetched(rep *Report) int {
	_, _, f := rep.Totals()
	return f
}

func folderReport(t *testing.T, a *AccountReport, source string) *FolderReport {
	t.Helper()
	for _, f := range a.Folders {
		if f.Source == source {
			return f
		}
	}
	t.Fatalf("no report for folder %q", source)
	return nil
}

func mustVerify(t *testing.T, rep *Report) {
	t.Helper()
	if !rep.Verified() {
		var b strings.Builder
		rep.Write(&b)
		t.Fatalf("import did not verify:\n%s", b.String())
	}
}

func countMailbox(t *testing.T, o *ours, acct *store.Account, name string) int {
	t.Helper()
	mb, err := o.st.MailboxByName(context.Background(), acct.ID, name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	s, err := o.st.MailboxStatus(context.Background(), mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	return int(s.Messages)
}

// The migration end to end against a real Dovecot: a full copy over TLS, with
// the holder's password and with a master user's proxy login, two accounts in
// parallel; then incremental runs that fetch only what changed, mirror flag
// changes and, when asked, deletions; a renumbered folder matched by content;
// SASL authzid proxy login and plain imap:// sharing the same state (R3.3:
// Vietnamese names and text arrive unchanged).
func TestImportIMAPFromDovecot(t *testing.T) {
	d := startDovecot(t, []string{"hoant", "lananh"}, nil)
	ctx := context.Background()
	hc := d.client(t, "hoant")
	seed(t, hc, seedMessages())
	lc := d.client(t, "lananh")
	seed(t, lc, []seedMsg{
		{"INBOX", vnMessage(21, "Lịch công tác tuần", "Thứ Hai: họp."), []imap.Flag{imap.FlagSeen}, time.Date(2024, 5, 1, 7, 0, 0, 0, hanoiZone())},
		{"INBOX", vnMessage(22, "Mời họp", "Phòng họp số 2."), nil, time.Date(2024, 5, 2, 7, 0, 0, 0, hanoiZone())},
		{"Junk", vnMessage(23, "Khuyến mãi lớn", "Mua ngay!"), nil, time.Date(2024, 5, 3, 7, 0, 0, 0, hanoiZone())},
	})

	o := newStore(t)
	hoa := o.account(t, "hoant.skhcn@sonla.gov.vn", 1<<30)
	anh := o.account(t, "anhnl.skhcn@sonla.gov.vn", 1<<30)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(d.certPEM)
	opts := IMAPOptions{
		URL: "imaps://" + d.imapsAddr, TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"},
		Admin:    &AdminLogin{User: masterUser, Password: masterPass, Style: AdminDovecot},
		Parallel: 2, FetchBatch: 4, ListBatch: 3, // small steps so that the tests cross batch edges
	}
	accounts := []IMAPAccount{
		{Address: hoa.Address, Login: "hoant", Password: dovecotPasswd}, // her own password
		{Address: anh.Address, Login: "lananh"},                         // the master user's proxy login
	}
	im := o.importer(t)
	im.BatchMessages = 3
	rep, err := im.ImportIMAP(ctx, opts, accounts)
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, rep)
	var out strings.Builder
	rep.Write(&out)
	t.Logf("first run:\n%s", out.String())
	hoaTargets := expectedTargets()
	anhTargets := map[string]string{"INBOX": "INBOX", "Junk": "Junk"}
	if n := o.verify(t, hc, hoa, hoaTargets) + o.verify(t, lc, anh, anhTargets); n != 18 || fetched(rep) != 18 {
		t.Fatalf("verified %d messages, fetched %d; want 18", n, fetched(rep))
	}
	if got := countMailbox(t, o, hoa, "Sent"); got != 3 {
		t.Errorf("Sent holds %d, want 3 (Sent + Thư đã gửi)", got)
	}
	if im.Progress.Messages.Load() != 18 || im.Progress.AccountsDone.Load() != 2 {
		t.Errorf("progress: %s", im.Progress.Line(time.Now()))
	}
	// Copying must not mark the old side's mail as read (BODY.PEEK).
	for _, m := range oldFolder(t, hc, "Công văn/Đến") {
		if m.uid == 2 && len(store.NormFlags(m.flags)) != 0 {
			t.Errorf("old message flags changed by the copy: %v", m.flags)
		}
	}

	// Changes on the old side: three new messages, a flag set, one expunged.
	appendMsg(t, hc, seedMsg{"INBOX", vnMessage(31, "Thư mới 1", "Mới."), nil, time.Date(2024, 6, 1, 9, 0, 0, 0, hanoiZone())})
	appendMsg(t, hc, seedMsg{"INBOX", vnMessage(32, "Thư mới 2", "Mới."), []imap.Flag{imap.FlagSeen}, time.Date(2024, 6, 2, 9, 0, 0, 0, hanoiZone())})
	appendMsg(t, hc, seedMsg{"Công văn/Đến", vnMessage(33, "Công văn đến số 4", "Mới."), nil, time.Date(2024, 6, 3, 9, 0, 0, 0, hanoiZone())})
	if _, err := hc.Select("Sent", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := hc.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := hc.Store(imap.UIDSetNum(3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := hc.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	if err := hc.Unselect().Wait(); err != nil {
		t.Fatal(err)
	}

	rep, err = o.importer(t).ImportIMAP(ctx, opts, accounts)
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, rep)
	if f := fetched(rep); f != 3 {
		t.Fatalf("second run fetched %d bodies, want only the 3 new ones", f)
	}
	a := rep.Accounts[0]
	if f := folderReport(t, a, "Sent"); f.FlagsUpdated != 1 {
		t.Errorf("Sent: %d flag updates, want 1", f.FlagsUpdated)
	}
	if f := folderReport(t, a, "INBOX"); f.DeletedKept != 1 || f.DeletedMirrored != 0 || f.Copied != 2 {
		t.Errorf("INBOX: %+v", f)
	}
	if got := countMailbox(t, o, hoa, "INBOX"); got != 7 {
		t.Errorf("INBOX holds %d, want 5+2 (the deleted message kept without --mirror-deletes)", got)
	}
	for _, f := range rep.Accounts[1].Folders {
		if !f.Unchanged {
			t.Errorf("lananh's %q should be skipped as unchanged (CONDSTORE)", f.Source)
		}
	}
	o.verify(t, hc, hoa, hoaTargets)

	opts.MirrorDeletes = true
	rep, err = o.importer(t).ImportIMAP(ctx, opts, accounts)
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, rep)
	if f := fetched(rep); f != 0 {
		t.Errorf("mirror run fetched %d bodies, want 0", f)
	}
	if f := folderReport(t, rep.Accounts[0], "INBOX"); f.DeletedMirrored != 1 {
		t.Errorf("INBOX: %d deletions mirrored, want 1", f.DeletedMirrored)
	}
	if got := countMailbox(t, o, hoa, "INBOX"); got != 6 {
		t.Errorf("INBOX holds %d after --mirror-deletes, want 6", got)
	}
	o.verify(t, hc, hoa, hoaTargets)

	// Nothing changed: every folder is skipped on HIGHESTMODSEQ and UIDNEXT.
	rep, err = o.importer(t).ImportIMAP(ctx, opts, accounts)
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, rep)
	for _, acc := range rep.Accounts {
		for _, f := range acc.Folders {
			if !f.Unchanged || f.Fetched != 0 {
				t.Errorf("%s %q: unchanged=%v fetched=%d", acc.Address, f.Source, f.Unchanged, f.Fetched)
			}
		}
	}

	// The old server renumbers a folder (deleted and re-created with the same
	// mail, and one new message): a new UIDVALIDITY. Nothing is stored twice.
	keep := oldBodies(t, hc, "Công văn/Đến")
	if err := hc.Delete("Công văn/Đến").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := hc.Create("Công văn/Đến", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, m := range keep {
		appendMsg(t, hc, m)
	}
	appendMsg(t, hc, seedMsg{"Công văn/Đến", vnMessage(34, "Công văn đến số 5", "Sau khi tạo lại."), nil, time.Date(2024, 6, 4, 9, 0, 0, 0, hanoiZone())})
	before := countMailbox(t, o, hoa, "Công văn/Đến")
	rep, err = o.importer(t).ImportIMAP(ctx, opts, accounts[:1])
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, rep)
	f := folderReport(t, rep.Accounts[0], "Công văn/Đến")
	if f.Reused != len(keep) || f.Copied != 1 || len(f.Warnings) == 0 {
		t.Errorf("renumbered folder: reused %d (want %d), copied %d (want 1): %+v", f.Reused, len(keep), f.Copied, f)
	}
	if got := countMailbox(t, o, hoa, "Công văn/Đến"); got != before+1 {
		t.Errorf("Công văn/Đến holds %d, want %d", got, before+1)
	}
	o.verify(t, hc, hoa, hoaTargets)

	// SASL PLAIN with an authorization identity (Zimbra style) and plain
	// imap:// on the other port: the same server, the same state, nothing to do.
	opts2 := IMAPOptions{URL: "imap://" + d.imapAddr, Plaintext: true,
		Admin: &AdminLogin{User: masterUser, Password: masterPass, Style: AdminAuthzID}}
	rep, err = o.importer(t).ImportIMAP(ctx, opts2, []IMAPAccount{{Address: anh.Address, Login: "lananh"}})
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, rep)
	if fetched(rep) != 0 {
		t.Errorf("authzid run over imap:// fetched %d, want 0", fetched(rep))
	}
	// Every run is an operator's action on the mailbox, in the audit log (R11.2).
	audit, err := o.st.SearchAudit(ctx, hoa.Address, time.Time{}, time.Now().Add(time.Hour), 100)
	if err != nil || len(audit) != 5 || audit[0].Action != "mailbox.import" || !strings.Contains(audit[0].Detail, "verified=true") {
		t.Errorf("audit: %v %+v", err, audit)
	}

	// A folder deleted on the old side: kept here, then removed with --mirror-deletes.
	if err := hc.Delete("Lưu trữ 2023").Wait(); err != nil {
		t.Fatal(err)
	}
	opts.MirrorDeletes = false
	rep, err = o.importer(t).ImportIMAP(ctx, opts, accounts[:1])
	if err != nil {
		t.Fatal(err)
	}
	if f := folderReport(t, rep.Accounts[0], "Lưu trữ 2023"); f.DeletedMirrored != 0 || countMailbox(t, o, hoa, "Lưu trữ 2023") != 1 {
		t.Errorf("gone folder without --mirror-deletes: %+v", f)
	}
	opts.MirrorDeletes = true
	rep, err = o.importer(t).ImportIMAP(ctx, opts, accounts[:1])
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, rep)
	if f := folderReport(t, rep.Accounts[0], "Lưu trữ 2023"); f.DeletedMirrored != 1 || countMailbox(t, o, hoa, "Lưu trữ 2023") != 0 {
		t.Errorf("gone folder with --mirror-deletes: %+v", f)
	}
	if _, err := o.ms.ImportFolder(ctx, hoa.ID, sourceKey, "Lưu trữ 2023"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the gone folder's state should be dropped: %v", err)
	}
	if err := o.st.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// oldBodies reads a folder's messages back as seed messages.
func oldBodies(t *testing.T, c *imapclient.Client, folder string) []seedMsg {
	t.Helper()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	sec := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(all, &imap.FetchOptions{Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Unselect().Wait(); err != nil {
		t.Fatal(err)
	}
	var out []seedMsg
	for _, b := range bufs {
		var flags []imap.Flag
		for _, f := range b.Flags {
			if f != `\Recent` {
				flags = append(flags, f)
			}
		}
		out = append(out, seedMsg{folder, string(b.FindBodySection(sec)), flags, b.InternalDate})
	}
	return out
}

// failingState stops the run after n store batches, as a crash or Ctrl-C would.
type failingState struct {
	store.MigrationStore
	n      atomic.Int32
	cancel context.CancelFunc
}

func (f *failingState) AppendImported(ctx context.Context, folderID int64, msgs []store.ImportMessage) ([]store.ImportOutcome, error) {
	if f.n.Add(-1) < 0 {
		f.cancel()
		return nil, context.Canceled
	}
	return f.MigrationStore.AppendImported(ctx, folderID, msgs)
}

// A run stopped half-way resumes: the next run copies only what the first did
// not commit, and nothing twice. Wrong credentials and a quota too small are
// reported per account and fail verification.
func TestImportIMAPResumeAndFailures(t *testing.T) {
	d := startDovecot(t, []string{"hoant", "lananh"}, nil)
	hc := d.client(t, "hoant")
	seed(t, hc, seedMessages())
	o := newStore(t)
	hoa := o.account(t, "hoant.skhcn@sonla.gov.vn", 1<<30)
	opts := IMAPOptions{URL: "imap://" + d.imapAddr, Plaintext: true, FetchBatch: 2}
	accounts := []IMAPAccount{{Address: hoa.Address, Login: "hoant", Password: dovecotPasswd}}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	im := o.importer(t)
	im.BatchMessages = 1
	fs := &failingState{MigrationStore: o.ms, cancel: cancel}
	fs.n.Store(5)
	im.State = fs
	rep, err := im.ImportIMAP(ctx, opts, accounts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verified() {
		t.Fatal("an interrupted run must not verify")
	}
	done := int(im.Progress.Messages.Load())
	if done != 5 {
		t.Fatalf("interrupted run committed %d messages, want 5", done)
	}

	rep, err = o.importer(t).ImportIMAP(context.Background(), opts, accounts)
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, rep)
	msgs, _, _ := rep.Totals()
	if msgs != 15-done {
		t.Errorf("resumed run copied %d, want %d", msgs, 15-done)
	}
	if n := o.verify(t, hc, hoa, expectedTargets()); n != 15 {
		t.Errorf("verified %d, want 15", n)
	}
	total := 0
	for _, name := range []string{"INBOX", "Công văn", "Công văn/Đến", "Sent", "Trash", "Drafts", "Lưu trữ 2023"} {
		total += countMailbox(t, o, hoa, name)
	}
	if total != 15 {
		t.Errorf("%d messages here after resume, want 15 (none twice)", total)
	}

	// Quota: a mailbox too small takes what fits and reports the rest.
	small := o.account(t, "anhnl.skhcn@sonla.gov.vn", 2500)
	lc := d.client(t, "lananh")
	seed(t, lc, []seedMsg{
		{"INBOX", vnMessage(41, "Một", strings.Repeat("a", 1000)), nil, time.Now()},
		{"INBOX", vnMessage(42, "Hai", strings.Repeat("b", 1000)), nil, time.Now()},
		{"INBOX", vnMessage(43, "Ba", strings.Repeat("c", 1000)), nil, time.Now()},
	})
	rep, err = o.importer(t).ImportIMAP(context.Background(), opts, []IMAPAccount{{Address: small.Address, Login: "lananh", Password: dovecotPasswd}})
	if err != nil {
		t.Fatal(err)
	}
	f := folderReport(t, rep.Accounts[0], "INBOX")
	if rep.Verified() || len(f.Skipped) == 0 || f.Skipped[0].Reason != ReasonQuota || f.Copied+len(f.Skipped) != 3 {
		t.Errorf("quota: verified=%v %+v", rep.Verified(), f)
	}
	var out strings.Builder
	rep.Write(&out)
	if !strings.Contains(out.String(), "vượt hạn mức") || !strings.Contains(out.String(), "CHƯA ĐẠT") {
		t.Errorf("report:\n%s", out.String())
	}
	// Wrong password: the account fails, the run reports it. Last, because
	// Dovecot slows down further logins from an address after a failure.
	bad := []IMAPAccount{{Address: hoa.Address, Login: "hoant", Password: "wrong"}}
	rep, err = o.importer(t).ImportIMAP(context.Background(), opts, bad)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verified() || rep.Accounts[0].Err == nil {
		t.Fatal("a failed login must not verify")
	}
	// No such account here.
	rep, _ = o.importer(t).ImportIMAP(context.Background(), opts, []IMAPAccount{{Address: "khong.co@sonla.gov.vn", Login: "lananh", Password: dovecotPasswd}})
	if rep.Verified() {
		t.Fatal("a missing account must not verify")
	}

	if err := o.st.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestReadIMAPAccounts(t *testing.T) {
	in := "address,login,password\nhoant.skhcn@sonla.gov.vn,hoant, p,w \n# comment\n\nAnhNL.skhcn@sonla.gov.vn\n"
	got, err := ReadIMAPAccounts(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []IMAPAccount{{"hoant.skhcn@sonla.gov.vn", "hoant", "p"}, {"anhnl.skhcn@sonla.gov.vn", "anhnl.skhcn@sonla.gov.vn", ""}}
	if len(got) != 2 || got[0].Address != want[0].Address || got[0].Login != want[0].Login || got[1] != want[1] {
		t.Fatalf("%+v", got)
	}
	if _, err := ReadIMAPAccounts(strings.NewReader("not-an-address,x,y\n")); err == nil {
		t.Fatal("a row without an address must be refused")
	}
}

func TestPlanFolder(t *testing.T) {
	cases := []struct {
		name   string
		delim  rune
		attrs  []imap.MailboxAttr
		prefix string
		want   string
		skip   bool
	}{
		{"INBOX", '/', nil, "", "INBOX", false},
		{"inbox", '.', nil, "", "INBOX", false},
		{"Sent Items", '/', nil, "", "Sent", false},
		{"Thư đã gửi", '/', nil, "", "Sent", false},
		{"THU DA GUI", '/', nil, "", "Sent", false},
		{"Tho\u0302ng tin", '/', nil, "", "Tho\u0302ng tin", false}, // kept as sent, not normalised
		{"Deleted Items", '/', nil, "", "Trash", false},
		{"Thùng rác", '/', nil, "", "Trash", false},
		{"Junk E-mail", '/', nil, "", "Junk", false},
		{"Thư nháp", '/', nil, "", "Drafts", false},
		{"Lưu trữ", '/', nil, "", "Archive", false},
		{"Hộp thư đi", '/', nil, "", "Hộp thư đi", false}, // Outbox is not Sent
		{"[Gmail]/Sent Mail", '/', []imap.MailboxAttr{imap.MailboxAttrSent}, "", "Sent", false},
		{"Thư gửi Bộ", '/', []imap.MailboxAttr{imap.MailboxAttrSent}, "", "Sent", false},
		{"[Gmail]/All Mail", '/', []imap.MailboxAttr{imap.MailboxAttrAll}, "", "", true},
		{"[Gmail]", '/', []imap.MailboxAttr{imap.MailboxAttrNoSelect}, "", "", true},
		{"INBOX.Sent", '.', nil, "INBOX.", "Sent", false},
		{"INBOX.Công văn.Đến", '.', nil, "INBOX.", "Công văn/Đến", false},
		{"Hợp đồng 2024/2025", '.', nil, "", "Hợp đồng 2024-2025", false},
		{"Sent Items/2023", '/', nil, "", "Sent/2023", false},
		{"Công văn/Sent", '/', nil, "", "Công văn/Sent", false}, // only top-level names are special
	}
	for _, c := range cases {
		p := planFolder(c.name, c.delim, c.attrs, c.prefix)
		if (p.Skip != "") != c.skip || !c.skip && p.Target != c.want {
			t.Errorf("%q: target %q skip %q, want %q skip=%v", c.name, p.Target, p.Skip, c.want, c.skip)
		}
	}
}

func TestDecodeMUTF7(t *testing.T) {
	for in, want := range map[string]string{
		"C&APQ-ng v&AQM-n":         "Công văn",
		"&ARAevw-n":                "Đến",
		"&ARA-&Hr8-n":              "Đến", // split runs decode alike
		"Th&AbA- &AREA4w- g&Hu0-i": "Thư đã gửi",
		"A&-B":                     "A&B",
		"plain":                    "plain",
	} {
		got, err := decodeMUTF7(in)
		if err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"&AQM", "&Zm9v!-", "Đ"} {
		if _, err := decodeMUTF7(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
