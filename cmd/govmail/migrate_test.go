package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"govmail/internal/delivery"
	"govmail/internal/store"
	"govmail/internal/store/postgres"
	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
)

// DESIGN decision 4: a one-node deployment moves to PostgreSQL with every row,
// id and body, and the nodes then carry on where SQLite stopped.
func TestMigrateSQLiteToPostgres(t *testing.T) {
	dsn := testutil.StartPostgres(t)
	ctx := context.Background()
	dir := t.TempDir()
	src, err := sqlite.Open(ctx, sqlite.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	unit := &store.Unit{Kind: store.UnitProvinceAgency, Name: "Sở Khoa học và Công nghệ", Abbr: "skhcn", LocalPart: "skhcn", CreatedAt: t0}
	must(t, src.CreateUnit(ctx, unit))
	sub := &store.Unit{ParentID: unit.ID, Kind: store.UnitSubUnit, Name: "Văn phòng", Abbr: "vp", LocalPart: "vp.skhcn", CreatedAt: t0}
	must(t, src.CreateUnit(ctx, sub))
	hoa := &store.Account{Address: "hoant.skhcn@sonla.gov.vn", DisplayName: "Nguyễn Thị Hoa", UnitID: unit.ID, QuotaBytes: 1 << 30, PasswordHash: "h1", PasswordSetAt: t0}
	must(t, src.CreateAccount(ctx, hoa))
	must(t, src.SetPassword(ctx, hoa.ID, "h2", false, t0.Add(time.Hour)))
	unitBox := &store.Account{Address: "skhcn@sonla.gov.vn", Kind: store.KindUnit, UnitID: unit.ID, QuotaBytes: 1 << 30}
	must(t, src.CreateAccount(ctx, unitBox))
	gone := &store.Account{Address: "cu.skhcn@sonla.gov.vn", QuotaBytes: 1 << 20}
	must(t, src.CreateAccount(ctx, gone))
	must(t, src.RevokeAccount(ctx, gone.ID, t0, t0.AddDate(1, 0, 0)))
	must(t, src.AddAlias(ctx, "postmaster@sonla.gov.vn", hoa.ID, time.Time{}))
	must(t, src.GrantDelegation(ctx, store.Delegation{UnitAccountID: unitBox.ID, DelegateID: hoa.ID, GrantedBy: "op", GrantedAt: t0}))
	must(t, src.AddAbsence(ctx, &store.Absence{AccountID: hoa.ID, Reason: "nghỉ phép", Starts: "2026-03-01", Ends: "2026-03-10", DeclaredBy: "op", DeclaredAt: t0}))
	req := &store.Request{Kind: store.RequestCreate, UnitID: unit.ID, DocNumber: "12/CV-SKHCN", DocDate: "2026-03-01", ReceivedAt: t0, State: store.RequestReceived, FiledBy: "op", Payload: "{}", Targets: []int64{hoa.ID}}
	must(t, src.CreateRequest(ctx, req, store.RequestEvent{Time: t0, Actor: "op", Action: "file"}))
	if _, err := src.MarkNotice(ctx, hoa.ID, "quota", "80", t0); err != nil {
		t.Fatal(err)
	}
	must(t, src.SetTOTP(ctx, hoa.ID, "SECRET"))
	must(t, src.AddAppPassword(ctx, &store.AppPassword{AccountID: hoa.ID, Name: "Thunderbird", Hash: "ap", CreatedAt: t0}))
	must(t, src.AppendAuthLog(ctx, store.AuthLogEntry{Time: t0, Proto: "imap", Username: "hoant.skhcn@sonla.gov.vn", IP: "192.0.2.1", Success: true}))
	must(t, src.AppendAudit(ctx, store.AuditEntry{Time: t0, Actor: "op", Action: "account.create", Target: hoa.Address, Detail: "x"}))

	// Mail: a small body shared by two mailboxes, a body large enough to live
	// in a file, gaps in the UIDs, flags, a folder of its own.
	nm, _ := delivery.Prepare([]byte("From: a@example.org\r\nSubject: Cuộc họp giao ban\r\n\r\nKính gửi các đơn vị.\r\n"), t0)
	out, err := src.Deliver(ctx, nm, []store.DeliveryTarget{
		{AccountID: hoa.ID, Log: &store.LogEntry{Time: t0, Direction: "in", Proto: "smtp", Recipient: hoa.Address}},
		{AccountID: unitBox.ID},
	})
	if err != nil || out[0].Err != nil {
		t.Fatal(err, out)
	}
	inbox := out[0].MailboxID
	big := append([]byte("Subject: Báo cáo năm\r\n\r\n"), bytes.Repeat([]byte("Báo cáo tổng kết công tác năm 2025.\r\n"), 20000)...)
	bigMsg, _ := delivery.Prepare(big, t0)
	for i := 0; i < 4; i++ {
		m, _ := delivery.Prepare(fmt.Appendf(nil, "Subject: thư %d\r\n\r\nnội dung %d\r\n", i, i), t0)
		if _, err := src.Append(ctx, inbox, m, []string{`\Seen`}); err != nil {
			t.Fatal(err)
		}
	}
	bigUID, err := src.Append(ctx, inbox, bigMsg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Expunge(ctx, inbox, []uint32{3}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.StoreFlags(ctx, inbox, []uint32{1}, store.FlagsAdd, []string{`\Flagged`}); err != nil {
		t.Fatal(err)
	}
	folder, err := src.CreateMailbox(ctx, hoa.ID, "Công văn/Đến", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Copy(ctx, inbox, []uint32{1, bigUID}, folder.ID); err != nil {
		t.Fatal(err)
	}
	qm := &store.QueuedMessage{From: hoa.Address, AuthUser: hoa.Address, CreatedAt: t0,
		Recipients: []store.QueueRecipient{{Address: "x@example.org"}, {Address: "y@example.net", Notify: "FAILURE"}}}
	if _, err := src.Enqueue(ctx, nm, qm, []store.LogEntry{{Time: t0, Direction: "out", Proto: "submission", Recipient: "x@example.org", Status: store.LogDeferred}}); err != nil {
		t.Fatal(err)
	}
	must(t, src.CreateOutage(ctx, &store.Outage{What: "Bảo trì", Since: t0, Until: t0.Add(time.Hour), UnitIDs: []int64{unit.ID}, Recipients: []int64{unitBox.ID}, PublishedBy: "op", PublishedAt: t0}))
	tok := &store.APIToken{AccountID: hoa.ID, Name: "QLVB", Hash: "abc", Prefix: "gm_a", Scopes: []string{"mail.send"}, CreatedBy: "op", CreatedAt: t0}
	must(t, src.CreateAPIToken(ctx, tok))
	if _, err := src.ClaimReport(ctx, "monthly:2026-02", t0); err != nil {
		t.Fatal(err)
	}
	must(t, src.AddAuthEvents(ctx, []store.AuthEvent{{Kind: store.ReportDMARC, Day: "2026-02-01", Domain: "hanoi.gov.vn", Key: `{"r":1}`, Count: 1}}))
	must(t, src.SaveReceivedReport(ctx, &store.ReceivedReport{Kind: store.ReportTLS, Org: "google.com", ReportID: "r1", Domain: "sonla.gov.vn",
		Begin: t0, End: t0.Add(time.Hour), ReceivedAt: t0, Total: 3, Failed: 1, Body: `{"x":"Sơn La"}`}))
	imf := &store.ImportFolder{AccountID: hoa.ID, Source: "imap:old:993", Folder: "Đã gửi", MailboxID: folder.ID, UIDValidity: 42}
	must(t, src.SaveImportFolder(ctx, imf))
	if _, err := src.AppendImported(ctx, imf.ID, []store.ImportMessage{{SrcUID: 7, Msg: nm}}); err != nil {
		t.Fatal(err)
	}
	wantMsgs, wantModseq, err := src.Messages(ctx, inbox, true)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus, _ := src.MailboxStatus(ctx, inbox)
	must(t, src.Close())

	var stdout, stderr bytes.Buffer
	if err := cmdMigrate(ctx, []string{"-data", dir, "--to", dsn}, &stdout, &stderr); err != nil {
		t.Fatalf("migrate: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	t.Log("\n" + stdout.String())
	if !strings.Contains(stdout.String(), "identical") || !strings.Contains(stdout.String(), "integrity check ok") {
		t.Errorf("report does not say the copy was verified:\n%s", stdout.String())
	}

	dst, err := postgres.Open(ctx, postgres.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	got, err := dst.AccountByAddress(ctx, "HoaNT.skhcn@sonla.gov.vn")
	if err != nil || got.ID != hoa.ID || got.DisplayName != "Nguyễn Thị Hoa" || got.UsedBytes == 0 || got.UnitID != unit.ID {
		t.Fatalf("account: %+v %v", got, err)
	}
	if h, _ := dst.PasswordHistory(ctx, hoa.ID, 5); !slices.Equal(h, []string{"h2", "h1"}) {
		t.Errorf("password history: %v", h)
	}
	if a, err := dst.ResolveAddress(ctx, "postmaster@sonla.gov.vn", t0); err != nil || a.ID != hoa.ID {
		t.Errorf("alias: %v %v", a, err)
	}
	if use, _ := dst.AddressUse(ctx, gone.Address, t0); use != store.UseReleased {
		t.Errorf("revoked address: %q", use)
	}
	msgs, modseq, err := dst.Messages(ctx, inbox, true)
	if err != nil || modseq != wantModseq || len(msgs) != len(wantMsgs) {
		t.Fatalf("messages: %d (modseq %d) want %d (modseq %d): %v", len(msgs), modseq, len(wantMsgs), wantModseq, err)
	}
	for i := range msgs {
		g, w := msgs[i], wantMsgs[i]
		if g.UID != w.UID || !slices.Equal(g.Flags, w.Flags) || g.ModSeq != w.ModSeq || g.BlobID != w.BlobID || !g.InternalDate.Equal(w.InternalDate) || !bytes.Equal(g.Meta, w.Meta) {
			t.Errorf("message %d: %+v, want %+v", i, g, w)
		}
	}
	if st, _ := dst.MailboxStatus(ctx, inbox); *st != *wantStatus {
		t.Errorf("status %+v, want %+v", st, wantStatus)
	}
	last := msgs[len(msgs)-1]
	if body, err := dst.ReadBlob(ctx, last.BlobID); err != nil || !bytes.Equal(body, big) {
		t.Errorf("large body: %d bytes, %v", len(body), err)
	}
	for q, want := range map[string][]uint32{"họp": {1}, "bao cao tong": {bigUID}, "noi dung": {2, 4, 5}} {
		if uids, err := dst.SearchText(ctx, inbox, q); err != nil || !slices.Equal(uids, want) {
			t.Errorf("search %q: %v %v, want %v", q, uids, err, want)
		}
	}
	if rs, _ := dst.ReceivedReports(ctx, "", 10); len(rs) != 1 || rs[0].Body != `{"x":"Sơn La"}` || rs[0].Failed != 1 {
		t.Errorf("received reports after migration: %+v", rs)
	}
	if c, _ := dst.AuthEventCounts(ctx, store.ReportDMARC, "2026-02-01"); len(c) != 1 || c[0].Count != 1 {
		t.Errorf("report counts after migration: %+v", c)
	}
	// A report received after the migration gets a new id.
	must(t, dst.SaveReceivedReport(ctx, &store.ReceivedReport{Kind: store.ReportTLS, Org: "google.com", ReportID: "r2", Body: "{}"}))
	if d, _ := dst.DelegatedTo(ctx, hoa.ID); len(d) != 1 || d[0].UnitAccountID != unitBox.ID {
		t.Errorf("delegations: %+v", d)
	}
	if r, err := dst.RequestByID(ctx, req.ID); err != nil || !slices.Equal(r.Targets, []int64{hoa.ID}) {
		t.Errorf("request: %+v %v", r, err)
	}
	if sec, _, _ := dst.TOTP(ctx, hoa.ID); sec != "SECRET" {
		t.Errorf("totp: %q", sec)
	}
	q, err := dst.QueueMessage(ctx, qm.ID)
	if err != nil || len(q.Recipients) != 2 || q.Recipients[1].Notify != "FAILURE" {
		t.Fatalf("queue: %+v %v", q, err)
	}
	if logs, _ := dst.SearchLog(ctx, store.LogFilter{}); len(logs) != 2 || !logs[0].Time.Equal(t0) || logs[0].Time.Format("-07:00") != "+07:00" {
		t.Errorf("transaction log: %+v", logs)
	}
	if units, _ := dst.ListUnits(ctx); len(units) != 2 || units[1].ParentID != unit.ID {
		t.Errorf("units: %+v", units)
	}

	if o, err := dst.ListOutages(ctx, true); err != nil || len(o) != 1 || !slices.Equal(o[0].UnitIDs, []int64{unit.ID}) {
		t.Errorf("outages: %+v %v", o, err)
	}
	if tk, err := dst.APITokenByHash(ctx, "abc"); err != nil || tk.ID != tok.ID || !slices.Equal(tk.Scopes, []string{"mail.send"}) {
		t.Errorf("api token: %+v %v", tk, err)
	}
	if again, _ := dst.ClaimReport(ctx, "monthly:2026-02", t0); again {
		t.Error("report claimed twice across the migration")
	}
	if m, err := dst.ImportedUIDs(ctx, imf.ID, 42, 0, 100); err != nil || len(m) != 1 || m[0].Src != 7 {
		t.Errorf("import map: %+v %v", m, err)
	}

	// The nodes carry on: new rows get new ids, new mail the next UID.
	uid, err := dst.Append(ctx, inbox, nm, nil)
	if err != nil || uid != wantStatus.UIDNext {
		t.Errorf("append after migration: uid %d want %d: %v", uid, wantStatus.UIDNext, err)
	}
	fresh := &store.Account{Address: "moi@sonla.gov.vn", QuotaBytes: 1 << 20}
	if err := dst.CreateAccount(ctx, fresh); err != nil || fresh.ID <= gone.ID {
		t.Errorf("new account id %d after %d: %v", fresh.ID, gone.ID, err)
	}
	if err := dst.Check(ctx); err != nil {
		t.Fatal(err)
	}

	// A second run finds the database in use and copies nothing.
	stdout.Reset()
	if err := cmdMigrate(ctx, []string{"-data", dir, "--to", dsn}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("second migrate: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
