package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"govmail/internal/address"
	"govmail/internal/auth"
	"govmail/internal/clock"
	"govmail/internal/delivery"
	"govmail/internal/directory"
	"govmail/internal/notify"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/workdays"
)

var ict = time.FixedZone("ICT", 7*3600)

func at(date string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" 09:00", ict)
	if err != nil {
		panic(err)
	}
	return t
}

type env struct {
	svc   *Service
	st    store.Store
	clk   *clock.Fake
	dir   string
	deliv *delivery.Deliverer
}

func setup(t *testing.T, now time.Time) *env {
	t.Helper()
	clk := clock.NewFake(now)
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Dir: dir, Clock: clk, InlineMax: 1024})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	d := &delivery.Deliverer{Store: st, Clock: clk, Logger: log, Hostname: "mail.sonla.gov.vn"}
	cal, err := workdays.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	ds := &directory.Service{Store: st, Clock: clk, Rules: address.DefaultRules(), Domain: "sonla.gov.vn", Logger: log}
	if _, err := ds.ImportUnits(context.Background(), bytes.NewReader(directory.ProvinceUnits), "op"); err != nil {
		t.Fatal(err)
	}
	svc := &Service{Store: st, Clock: clk, Calendar: cal, Directory: ds, Policy: DefaultPolicy(), Passwords: password.DefaultPolicy(), Logger: log,
		Notify: &notify.Notifier{Deliverer: d, Clock: clk, Domain: "sonla.gov.vn", Logger: log}, WebURL: "https://mail.sonla.gov.vn", Support: "hotro@sonla.gov.vn"}
	return &env{svc: svc, st: st, clk: clk, dir: dir, deliv: d}
}

func (e *env) person(t *testing.T, name string) *store.Account {
	t.Helper()
	h, _ := password.Hash("Abcdef1!x")
	a, err := e.svc.Directory.CreatePerson(context.Background(), directory.NewPerson{UnitLP: "skhcn", FullName: name, PasswordHash: h, QuotaBytes: 1 << 30}, "op")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) inbox(t *testing.T, a *store.Account) []string {
	t.Helper()
	ctx := context.Background()
	mb, err := e.st.MailboxByName(ctx, a.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	msgs, _, _ := e.st.Messages(ctx, mb.ID, false)
	var out []string
	for _, m := range msgs {
		b, _ := e.st.ReadBlob(ctx, m.BlobID)
		out = append(out, string(b))
	}
	return out
}

func (e *env) run(t *testing.T, day string) *DailyReport {
	t.Helper()
	e.clk.Set(at(day))
	rep, err := e.svc.RunDaily(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func state(t *testing.T, st store.Store, id int64) store.AccountState {
	a, err := st.AccountByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.State
}

// R8.2, R8.1, R8.4, R7.4 with the vectors of C1: last login Tue 2026-01-06 →
// active on 04-06, locked on 04-07; locked still receives; revoked from 05-08
// and its data gone from disk.
func TestInactivityLockThenRevokeC1(t *testing.T) {
	e := setup(t, at("2025-12-01"))
	ctx := context.Background()
	a := e.person(t, "Lò Văn Xôm")
	manager := e.person(t, "Cầm Thị Duyên")
	u, _ := e.st.UnitByLocalPart(ctx, "skhcn")
	u.ManagerID, u.SecurityContactID = manager.ID, manager.ID
	e.st.UpdateUnit(ctx, u)
	e.st.RecordLogin(ctx, a.ID, at("2026-01-06"))
	e.st.RecordLogin(ctx, manager.ID, at("2026-04-01"))

	// R8.7: reminders after 60 and 80 days, once each.
	if rep := e.run(t, "2026-03-08"); rep.Reminders != 1 {
		t.Errorf("60-day reminder: %+v", rep)
	}
	if rep := e.run(t, "2026-03-08"); rep.Reminders != 0 {
		t.Errorf("reminder sent twice: %+v", rep)
	}
	e.run(t, "2026-03-28")
	if n := len(e.inbox(t, a)); n != 2 {
		t.Errorf("inactivity reminders in mailbox: %d, want 2", n)
	}

	e.run(t, "2026-04-06")
	if s := state(t, e.st, a.ID); s != store.StateActive {
		t.Fatalf("day 90: %s", s)
	}
	rep := e.run(t, "2026-04-07")
	if s := state(t, e.st, a.ID); s != store.StateLocked || rep.Locked != 1 {
		t.Fatalf("day 91: %s %+v", s, rep)
	}
	// Idempotent: a second run the same day changes nothing.
	if rep := e.run(t, "2026-04-07"); rep.Locked != 0 || rep.Revoked != 0 || rep.Reminders != 0 {
		t.Errorf("second run: %+v", rep)
	}
	msgs := e.inbox(t, a)
	if !strings.Contains(msgs[len(msgs)-1], "Subject: =?utf-8?") || !strings.Contains(msgs[len(msgs)-1], "X-Govmail-Notice: lock") {
		t.Errorf("lock notice missing: %q", msgs[len(msgs)-1])
	}
	// R8.7: the unit manager and security contact (one person here) are told too.
	if n := countNotice(e.inbox(t, manager), "lock"); n != 1 {
		t.Errorf("lock notices to the manager: %d, want 1", n)
	}

	// R8.1: every login fails with a message saying it is locked…
	as := &auth.Service{Store: e.st, Clock: e.clk, Verify: password.Verify, Logger: slog.New(slog.DiscardHandler)}
	_, err := as.Login(ctx, auth.Request{Proto: "imap", Username: a.Address, Password: "Abcdef1!x"})
	if !errors.Is(err, auth.ErrLocked) || !strings.Contains(err.Error(), "khóa") {
		t.Errorf("locked login: %v", err)
	}
	// …while mail still arrives, large enough to live in a blob file.
	before := listFiles(t, filepath.Join(e.dir, "blobs"))
	big := "Subject: vẫn nhận thư\r\n\r\n" + strings.Repeat("nội dung dài ", 1000) + "\r\n"
	res, err := e.deliv.Deliver(ctx, &delivery.Envelope{From: "x@example.org", Recipients: []delivery.Recipient{{Address: a.Address, AccountID: a.ID}}, Direction: "in"}, strings.NewReader(big))
	if err != nil || res.Outcomes[0].Err != nil {
		t.Fatalf("locked mailbox did not receive: %v %+v", err, res)
	}
	var bigFile string
	for f := range listFiles(t, filepath.Join(e.dir, "blobs")) {
		if !before[f] {
			bigFile = f
		}
	}
	if bigFile == "" {
		t.Fatal("expected a blob file for the large message")
	}

	// R8.7: the manager is reminded 10 days before revocation.
	e.run(t, "2026-04-28")
	if n := countNotice(e.inbox(t, manager), "revoke-reminder"); n != 1 {
		t.Errorf("revoke reminders to manager: %d", n)
	}
	e.run(t, "2026-05-07")
	if s := state(t, e.st, a.ID); s != store.StateLocked {
		t.Fatalf("day 30 locked: %s", s)
	}
	if rep := e.run(t, "2026-05-08"); rep.Revoked != 1 {
		t.Fatalf("revoke day: %+v", rep)
	}
	// R7.4: gone from disk; the record stays; the address is held (R7.6).
	if _, err := os.Stat(bigFile); !os.IsNotExist(err) {
		t.Errorf("the revoked mailbox's body is still on disk: %v", err)
	}
	rec, err := e.st.AccountByID(ctx, a.ID)
	if err != nil || rec.State != store.StateRevoked || rec.PasswordHash != "" || rec.UsedBytes != 0 {
		t.Errorf("revoked record: %+v %v", rec, err)
	}
	if mbs, _ := e.st.ListMailboxes(ctx, a.ID); len(mbs) != 0 {
		t.Errorf("folders left: %v", mbs)
	}
	if use, _ := e.st.AddressUse(ctx, a.Address, e.clk.Now()); use != store.UseReleased {
		t.Errorf("address after revocation: %q", use)
	}
	if err := e.st.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func listFiles(t *testing.T, dir string) map[string]bool {
	out := map[string]bool{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out[p] = true
		}
		return nil
	})
	return out
}

func countNotice(msgs []string, kind string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m, "X-Govmail-Notice: "+kind+"\r\n") {
			n++
		}
	}
	return n
}

// R0.1: no time before 2025-11-20 counts; an account imported with an old last
// login is locked only from 2026-02-19.
func TestRulesInForceR0_1(t *testing.T) {
	e := setup(t, at("2025-06-01"))
	a := e.person(t, "Quàng Văn Ơn")
	e.st.RecordLogin(context.Background(), a.ID, at("2025-06-02"))
	e.run(t, "2026-02-18")
	if s := state(t, e.st, a.ID); s != store.StateActive {
		t.Fatalf("2026-02-18: %s", s)
	}
	e.run(t, "2026-02-19")
	if s := state(t, e.st, a.ID); s != store.StateLocked {
		t.Fatalf("2026-02-19: %s", s)
	}
}

// R8.2: a declared absence suspends the clock; afterwards 90 days run from its
// end; declared after the lock it does not unlock.
func TestAbsenceR8_2(t *testing.T) {
	e := setup(t, at("2026-01-06"))
	ctx := context.Background()
	a := e.person(t, "Giàng A Páo")
	e.st.RecordLogin(ctx, a.ID, at("2026-01-06"))
	e.clk.Set(at("2026-03-01"))
	ends, _ := workdays.Parse("2026-06-30")
	if err := e.svc.DeclareAbsence(ctx, a.ID, "Đi học tập trung", ends, "manager@sonla.gov.vn"); err != nil {
		t.Fatal(err)
	}
	e.run(t, "2026-04-07")
	e.run(t, "2026-06-30")
	e.run(t, "2026-09-28") // day 90 after the end of the absence
	if s := state(t, e.st, a.ID); s != store.StateActive {
		t.Fatalf("during/after absence: %s", s)
	}
	e.run(t, "2026-09-29")
	if s := state(t, e.st, a.ID); s != store.StateLocked {
		t.Fatalf("90 days after absence: %s", s)
	}
	if err := e.svc.DeclareAbsence(ctx, a.ID, "Nghỉ phép", ends.AddDays(200), "manager"); !errors.Is(err, ErrState) {
		t.Errorf("absence after lock: %v", err)
	}
}

// R8.5 with C3: a restore request received Fri 2026-02-13 is due by the end of
// Wed 2026-02-25 (Tết); it holds the revocation (R8.4); carrying it out makes
// the account active with a forced password change (R6.1).
func TestRestoreRequestR8_5(t *testing.T) {
	e := setup(t, at("2026-01-01"))
	ctx := context.Background()
	a := e.person(t, "Vì Thị Hoa")
	box, err := e.svc.Directory.CreateUnitMailbox(ctx, "skhcn", "", 1<<30, "op")
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Set(at("2026-02-02"))
	if err := e.svc.Lock(ctx, a.ID, store.LockCompromised, "Cảnh báo của VNCERT số 12", "op@sonla.gov.vn"); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(at("2026-02-13"))
	r, err := e.svc.FileRequest(ctx, RequestInput{Kind: store.RequestRestore, UnitLP: "skhcn", DocNumber: "15/SKHCN-VP", DocDate: "2026-02-12",
		Addresses: []string{a.Address}, FiledBy: "manager@sonla.gov.vn"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Deadline != "2026-02-25" {
		t.Errorf("deadline %s, want 2026-02-25", r.Deadline)
	}
	// 30 days after the lock the waiting request holds the revocation.
	e.run(t, "2026-03-05")
	if rep := e.run(t, "2026-03-05"); state(t, e.st, a.ID) != store.StateLocked {
		t.Fatalf("revoked although a restore request waits: %+v", rep)
	}
	if rep := e.run(t, "2026-02-26"); rep.Overdue != 1 {
		t.Errorf("overdue not counted: %+v", rep)
	}
	out, err := e.svc.Carry(ctx, r.ID, "op@sonla.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := e.st.AccountByID(ctx, a.ID)
	if acc.State != store.StateActive || !acc.MustChange || out.Passwords[a.Address] == "" {
		t.Fatalf("after restore: %+v %+v", acc, out)
	}
	// R7.2: the unit mailbox receives the result in Vietnamese.
	if n := countNotice(e.inbox(t, box), "request-result"); n != 1 {
		t.Errorf("result mails: %d", n)
	}
	ev, _ := e.st.RequestEvents(ctx, r.ID)
	if len(ev) != 2 || ev[0].Action != "received" || ev[1].Action != "done" {
		t.Errorf("audit trail: %+v", ev)
	}
	if _, err := e.svc.Carry(ctx, r.ID, "op"); !errors.Is(err, ErrState) {
		t.Errorf("handled twice: %v", err)
	}
}

// R8.4: once a restore request is rejected it no longer holds the revocation.
func TestRejectedRestoreNoLongerHoldsR8_4(t *testing.T) {
	e := setup(t, at("2026-04-01"))
	ctx := context.Background()
	a := e.person(t, "Tòng Văn Bun")
	e.clk.Set(at("2026-04-07"))
	e.svc.Lock(ctx, a.ID, store.LockOperator, "Quyết định 1/QĐ", "op")
	e.clk.Set(at("2026-04-20"))
	r, err := e.svc.FileRequest(ctx, RequestInput{Kind: store.RequestRestore, UnitLP: "skhcn", DocNumber: "2/SKHCN", DocDate: "2026-04-20", Addresses: []string{a.Address}})
	if err != nil {
		t.Fatal(err)
	}
	e.run(t, "2026-05-08")
	if state(t, e.st, a.ID) != store.StateLocked {
		t.Fatal("revoked while the request waited")
	}
	if _, err := e.svc.Reject(ctx, r.ID, "", "op"); err == nil {
		t.Error("rejection without a reason accepted")
	}
	if _, err := e.svc.Reject(ctx, r.ID, "Không đủ căn cứ", "op"); err != nil {
		t.Fatal(err)
	}
	e.run(t, "2026-05-09")
	if state(t, e.st, a.ID) != store.StateRevoked {
		t.Fatal("not revoked after the rejection")
	}
}

// R7.1: create requests give the rule's addresses; a transfer keeps the mailbox
// under a new address and the old one as an alias.
func TestCreateAndTransferR7_1(t *testing.T) {
	e := setup(t, at("2026-03-02"))
	ctx := context.Background()
	r, err := e.svc.FileRequest(ctx, RequestInput{Kind: store.RequestCreate, UnitLP: "skhcn", DocNumber: "30/SKHCN-VP", DocDate: "2026-03-01",
		People: []PersonSpec{{FullName: "Nguyễn Thị Hoa"}, {FullName: "Nguyễn Thu Hòa", BirthYear: 1990}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.Carry(ctx, r.ID, "op")
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Passwords) != 2 || out.Passwords["hoant.skhcn@sonla.gov.vn"] == "" || out.Passwords["hoant90.skhcn@sonla.gov.vn"] == "" {
		t.Fatalf("created: %+v", out)
	}
	r, err = e.svc.FileRequest(ctx, RequestInput{Kind: store.RequestModify, UnitLP: "skhcn", DocNumber: "31/SKHCN-VP", DocDate: "2026-03-02",
		Addresses: []string{"hoant90.skhcn@sonla.gov.vn"}, Modify: &ModifySpec{NewUnitLP: "chiengcoi"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Carry(ctx, r.ID, "op"); err != nil {
		t.Fatal(err)
	}
	moved, err := e.st.ResolveAddress(ctx, "hoant90.skhcn@sonla.gov.vn", e.clk.Now())
	if err != nil || moved.Address != "hoant.chiengcoi@sonla.gov.vn" {
		t.Fatalf("old address does not reach the moved account: %+v %v", moved, err)
	}
	// A request for someone outside the unit is refused (Điều 16).
	if _, err := e.svc.FileRequest(ctx, RequestInput{Kind: store.RequestRevoke, UnitLP: "skhcn", DocNumber: "x", DocDate: "2026-03-02", Addresses: []string{"hoant.chiengcoi@sonla.gov.vn"}}); !refusedFor(err, "Điều 16") {
		t.Errorf("request for another unit's account: %v", err)
	}
	if _, err := e.svc.FileRequest(ctx, RequestInput{Kind: store.RequestRevoke, UnitLP: "skhcn", DocDate: "2026-03-02", Addresses: []string{"hoant.skhcn@sonla.gov.vn"}}); !refusedFor(err, "Điều 7.1c") {
		t.Errorf("request without a document number: %v", err)
	}
}

// refusedFor tells whether err is a lifecycle refusal whose Vietnamese text
// cites article.
func refusedFor(err error, article string) bool {
	var le *Error
	return errors.As(err, &le) && strings.Contains(le.VI, article)
}

// Điều 16 (R7.5): a unit asks only for its own staff — in itself or its
// sub-units, never in another unit — whether the request creates accounts or
// names existing ones.
func TestOwnStaffOnlyDieu16(t *testing.T) {
	e := setup(t, at("2026-03-02"))
	ctx := context.Background()
	if _, err := e.svc.Directory.CreateUnit(ctx, "Phòng Hạ tầng", store.UnitSubUnit, "skhcn", "", "op"); err != nil {
		t.Fatal(err)
	}
	in := RequestInput{Kind: store.RequestCreate, UnitLP: "skhcn", DocNumber: "40/SKHCN-VP", DocDate: "2026-03-02"}
	in.People = []PersonSpec{{FullName: "Lò Thị Ánh", UnitLP: "ht.skhcn"}}
	if _, err := e.svc.FileRequest(ctx, in); err != nil {
		t.Errorf("person in a sub-unit of the requesting unit: %v", err)
	}
	in.People = []PersonSpec{{FullName: "Lò Thị Ánh", UnitLP: "chiengcoi"}}
	if _, err := e.svc.FileRequest(ctx, in); !refusedFor(err, "Điều 16") {
		t.Errorf("person in another unit: %v", err)
	}
	sub, err := e.svc.Directory.CreatePerson(ctx, directory.NewPerson{UnitLP: "ht.skhcn", FullName: "Cầm Văn Sơn", QuotaBytes: 1 << 30}, "op")
	if err != nil {
		t.Fatal(err)
	}
	rv := RequestInput{Kind: store.RequestRevoke, UnitLP: "skhcn", DocNumber: "41/SKHCN-VP", DocDate: "2026-03-02", Addresses: []string{sub.Address}}
	if _, err := e.svc.FileRequest(ctx, rv); err != nil {
		t.Errorf("account of a sub-unit: %v", err)
	}
	// The sub-unit asks for its own staff, not for its parent's.
	top := e.person(t, "Quàng Thị Mai")
	rv.UnitLP, rv.Addresses = "ht.skhcn", []string{top.Address}
	if _, err := e.svc.FileRequest(ctx, rv); !refusedFor(err, "Điều 16") {
		t.Errorf("sub-unit asking for its parent's account: %v", err)
	}
}

// Điều 8.2: a lock for a compromised account (8.2b), prohibited use (8.2c) or
// an operator's decision rests on a document or evidence, whatever the door
// (portal, API, CLI); only the inactivity lock (8.2a) is found by the system.
func TestLockNeedsEvidenceDieu8_2(t *testing.T) {
	e := setup(t, at("2026-03-02"))
	ctx := context.Background()
	for _, reason := range []string{store.LockCompromised, store.LockProhibitedContent, store.LockOperator} {
		a := e.person(t, "Lò Văn "+reason)
		err := e.svc.Lock(ctx, a.ID, reason, "  ", "op@sonla.gov.vn")
		var le *Error
		if !errors.As(err, &le) || !strings.Contains(le.VI, "bằng chứng") {
			t.Errorf("%s lock without evidence: %v", reason, err)
		}
		if state(t, e.st, a.ID) != store.StateActive {
			t.Errorf("%s: locked anyway", reason)
		}
		if err := e.svc.Lock(ctx, a.ID, reason, "CV 15/SKHCN", "op@sonla.gov.vn"); err != nil {
			t.Errorf("%s lock with evidence: %v", reason, err)
		}
	}
	a := e.person(t, "Cầm Thị Vắng")
	if err := e.svc.Lock(ctx, a.ID, store.LockInactivity, "", "system:inactivity"); err != nil {
		t.Errorf("inactivity lock: %v", err)
	}
	if !NeedsEvidence(store.LockCompromised) || NeedsEvidence(store.LockInactivity) {
		t.Error("NeedsEvidence")
	}
}

// Điều 7.1, 8.3a: a restore and a revocation follow a document, whichever
// door asks (the portal and the API check the form field; the CLI and a
// carried request come straight here): without one nothing changes.
func TestRestoreAndRevokeNeedDocumentDieu7_1_8_3(t *testing.T) {
	e := setup(t, at("2026-03-02"))
	ctx := context.Background()
	a := e.person(t, "Lò Văn Khóa")
	if err := e.svc.Lock(ctx, a.ID, store.LockOperator, "CV 15/SKHCN", "op@sonla.gov.vn"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Restore(ctx, a.ID, "op@sonla.gov.vn", " "); !errors.Is(err, ErrNoDocument) {
		t.Fatalf("restore without a document: %v", err)
	}
	if err := e.svc.Revoke(ctx, a.ID, "op@sonla.gov.vn", ""); !errors.Is(err, ErrNoDocument) {
		t.Fatalf("revoke without a document: %v", err)
	}
	if state(t, e.st, a.ID) != store.StateLocked {
		t.Fatal("the account changed without a document")
	}
	if _, err := e.svc.Restore(ctx, a.ID, "op@sonla.gov.vn", "CV 16/SKHCN"); err != nil {
		t.Fatalf("restore with a document: %v", err)
	}
	if state(t, e.st, a.ID) != store.StateActive {
		t.Fatal("not restored")
	}
	if err := e.svc.Revoke(ctx, a.ID, "op@sonla.gov.vn", "QĐ 17/SKHCN"); err != nil {
		t.Fatalf("revoke with a document: %v", err)
	}
	if state(t, e.st, a.ID) != store.StateRevoked {
		t.Fatal("not revoked")
	}
}
