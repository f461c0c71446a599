package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"govmail/internal/address"
	"govmail/internal/clock"
	"govmail/internal/delivery"
	"govmail/internal/directory"
	"govmail/internal/lifecycle"
	"govmail/internal/notify"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/workdays"
)

var ict = time.FixedZone("ICT", 7*3600)

// at is 09:00 in Sơn La on date, or the given HH:MM.
func at(date string, hhmm ...string) time.Time {
	clock := "09:00"
	if len(hhmm) > 0 {
		clock = hhmm[0]
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", date+" "+clock+":00", ict)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02 15:04:05", date+" "+clock, ict)
	}
	if err != nil {
		panic(err)
	}
	return t
}

type env struct {
	st    *sqlite.Store
	clk   *clock.Fake
	dir   *directory.Service
	life  *lifecycle.Service
	deliv *delivery.Deliverer
	cal   *workdays.Calendar
	hash  string
}

func setup(t *testing.T, now time.Time) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(now)
	st, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir(), Clock: clk, InlineMax: 1 << 20})
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
	if _, err := ds.ImportUnits(ctx, bytes.NewReader(directory.ProvinceUnits), "op@sonla.gov.vn"); err != nil {
		t.Fatal(err)
	}
	life := &lifecycle.Service{Store: st, Clock: clk, Calendar: cal, Directory: ds, Policy: lifecycle.DefaultPolicy(),
		Passwords: password.DefaultPolicy(), Logger: log,
		Notify: &notify.Notifier{Deliverer: d, Clock: clk, Domain: "sonla.gov.vn", Logger: log}, WebURL: "https://mail.sonla.gov.vn", Support: "hotro@sonla.gov.vn"}
	h, err := password.Hash("Abcdef1!x")
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, clk: clk, dir: ds, life: life, deliv: d, cal: cal, hash: h}
}

func (e *env) person(t *testing.T, unit, name string) *store.Account {
	t.Helper()
	a, err := e.dir.CreatePerson(context.Background(), directory.NewPerson{UnitLP: unit, FullName: name, PasswordHash: e.hash, QuotaBytes: 1 << 30}, "op@sonla.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) set(day string, hhmm ...string) { e.clk.Set(at(day, hhmm...)) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) file(t *testing.T, kind, unit string, addrs []string, m *lifecycle.ModifySpec) int64 {
	t.Helper()
	r, err := e.life.FileRequest(context.Background(), lifecycle.RequestInput{Kind: kind, UnitLP: unit, DocNumber: "15/" + strings.ToUpper(unit) + "-VP",
		DocDate: workdays.DateOf(e.clk.Now(), ict).String(), Addresses: addrs, Modify: m, FiledBy: "manager@sonla.gov.vn"})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func (e *env) mail(t *testing.T, from string, auth string, dir string, to ...*store.Account) {
	t.Helper()
	var rcpts []delivery.Recipient
	for _, a := range to {
		rcpts = append(rcpts, delivery.Recipient{Address: a.Address, AccountID: a.ID})
	}
	msg := "From: " + from + "\r\nTo: x@sonla.gov.vn\r\nSubject: Công văn\r\nMessage-ID: <" + strconv.FormatInt(e.clk.Now().UnixNano(), 10) + "@x>\r\n\r\nKính gửi.\r\n"
	_, err := e.deliv.Deliver(context.Background(), &delivery.Envelope{From: from, Recipients: rcpts, ClientIP: "192.0.2.7", ClientHelo: "mx.example.com",
		Proto: "ESMTPS", Direction: dir, AuthUser: auth}, strings.NewReader(msg))
	must(t, err)
}

func (e *env) logRow(t *testing.T, when time.Time, dir, from, auth, rcpt, status, errText string) {
	t.Helper()
	must(t, e.st.AppendLog(context.Background(), []store.LogEntry{{Time: when, Direction: dir, Proto: "smtp", EnvelopeFrom: from,
		Recipient: rcpt, ClientIP: "192.0.2.9", Size: 1000, AuthUser: auth, Status: status, Error: errText}}))
}

// scenario seeds November 2026 with known figures, and some events just
// outside it that must not count. See the expectations in TestReportFigures.
type scenario struct {
	*env
	box, a, b, c, d, e, f, g, h, i *store.Account
}

func seed(t *testing.T) *scenario {
	ctx := context.Background()
	s := &scenario{env: setup(t, at("2026-08-01"))}
	if _, err := s.dir.CreateUnit(ctx, "Văn phòng", store.UnitSubUnit, "skhcn", "vp", "op@sonla.gov.vn"); err != nil {
		t.Fatal(err)
	}
	var err error
	s.box, err = s.dir.CreateUnitMailbox(ctx, "skhcn", s.hash, 1<<30, "op@sonla.gov.vn")
	must(t, err)
	s.a = s.person(t, "skhcn", "Lò Văn An")
	s.b = s.person(t, "skhcn", "Cầm Thị Bình")
	s.c = s.person(t, "skhcn", "Quàng Văn Chiến")
	s.d = s.person(t, "skhcn", "Lường Thị Dung")
	s.i = s.person(t, "skhcn", "Hà Văn Inh")
	s.e = s.person(t, "vp.skhcn", "Tòng Thị Én")
	s.f = s.person(t, "snv", "Điêu Văn Phúc")
	s.g = s.person(t, "snv", "Vì Thị Giang")

	// Before the period.
	must(t, s.st.RecordLogin(ctx, s.e.ID, at("2026-09-15")))
	must(t, s.st.RecordLogin(ctx, s.box.ID, at("2026-10-01", "20:00")))
	must(t, s.st.RecordLogin(ctx, s.c.ID, at("2026-10-02", "08:00")))
	s.set("2026-10-20")
	must(t, s.life.Lock(ctx, s.g.ID, store.LockCompromised, "CV 12/SKHCN", "op@sonla.gov.vn"))
	s.logRow(t, at("2026-10-31", "23:59:59"), "in", "ban@example.com", "", s.c.Address, store.LogDelivered, "")

	// November 2026.
	s.set("2026-11-01")
	must(t, s.life.DeclareAbsence(ctx, s.i.ID, "đi học", workdays.NewDate(2026, 12, 15), "manager@sonla.gov.vn"))
	s.set("2026-11-02")
	s.h = s.person(t, "skhcn", "Mè Văn Hùng")
	s.set("2026-11-03")
	must(t, s.life.Lock(ctx, s.a.ID, store.LockOperator, "CV 12/SKHCN", "op@sonla.gov.vn"))
	s.set("2026-11-04")
	must(t, s.life.Lock(ctx, s.b.ID, store.LockCompromised, "CV 12/SKHCN", "op@sonla.gov.vn"))
	s.set("2026-11-05")
	restoreA := s.file(t, store.RequestRestore, "skhcn", []string{s.a.Address}, nil)
	s.file(t, store.RequestRestore, "skhcn", []string{s.b.Address}, nil) // deadline 10/11, still waiting on 30/11
	s.set("2026-11-06")
	_, err = s.life.Carry(ctx, restoreA, "op@sonla.gov.vn")
	must(t, err)
	s.set("2026-11-09")
	restoreG := s.file(t, store.RequestRestore, "snv", []string{s.g.Address}, nil) // deadline 12/11
	s.set("2026-11-10")
	revokeF := s.file(t, store.RequestRevoke, "snv", []string{s.f.Address}, nil)
	s.mail(t, "ban@example.com", "", "in", s.c)
	s.mail(t, "ban@example.com", "", "in", s.c)
	s.set("2026-11-11")
	_, err = s.life.Reject(ctx, revokeF, "Văn bản chưa có chữ ký", "op@sonla.gov.vn")
	must(t, err)
	s.set("2026-11-12")
	modC := s.file(t, store.RequestModify, "skhcn", []string{s.c.Address}, &lifecycle.ModifySpec{QuotaBytes: 3 << 30})
	s.mail(t, s.f.Address, s.f.Address, "internal", s.c, s.e)
	s.logRow(t, at("2026-11-12"), "out", s.f.Address, s.f.Address, "doitac@example.com", store.LogDelivered, "")
	s.set("2026-11-13")
	_, err = s.life.Carry(ctx, modC, "op@sonla.gov.vn")
	must(t, err)
	s.logRow(t, at("2026-11-13"), "out", s.f.Address, s.f.Address, "sai@example.com", store.LogBounced, "550 5.1.1 unknown")
	s.logRow(t, at("2026-11-14"), "out", s.f.Address, s.f.Address, "nhieu@example.com", store.LogQuarantined, "held: sending limit 100/h")
	s.logRow(t, at("2026-11-15"), "in", "x@example.com", "", s.c.Address, store.LogRefused, "554 5.7.1 Virus found: Eicar-Signature / Thư chứa virus: Eicar-Signature")
	s.logRow(t, at("2026-11-15"), "in", "y@example.com", "", s.e.Address, store.LogRefused, "554 5.7.1 Message refused as spam: score 20 / Thư bị từ chối vì là thư rác")
	s.logRow(t, at("2026-11-15"), "in", "z@example.com", "", s.c.Address, store.LogQuarantined, "policy signup_social facebook.com")
	s.logRow(t, at("2026-11-15"), "in", "w@example.com", "", "nobody@sonla.gov.vn", store.LogRefused, "550 5.1.1 no such user")
	s.set("2026-11-16")
	_, err = s.life.Carry(ctx, restoreG, "op@sonla.gov.vn") // late: deadline was 12/11
	must(t, err)
	oldD := s.d.Address
	must(t, s.life.Revoke(ctx, s.d.ID, "op@sonla.gov.vn", "20/SKHCN-VP"))
	s.set("2026-11-20")
	must(t, s.st.RecordLogin(ctx, s.f.ID, at("2026-11-20")))
	s.logRow(t, at("2026-11-20"), "in", "v@example.com", "", oldD, store.LogRefused, "550 5.1.1 no such user")

	// After the period: none of this counts for November.
	s.logRow(t, at("2026-12-01", "00:00"), "in", "ban@example.com", "", s.c.Address, store.LogDelivered, "")
	s.set("2026-12-02")
	must(t, s.life.Lock(ctx, s.c.ID, store.LockCompromised, "CV 12/SKHCN", "op@sonla.gov.vn"))
	s.person(t, "skhcn", "Lò Thị Jăm")
	s.set("2026-12-03")
	reqs, err := s.st.ListRequests(ctx, store.RequestFilter{State: store.RequestReceived})
	must(t, err)
	if len(reqs) != 1 {
		t.Fatalf("pending requests: %d", len(reqs))
	}
	_, err = s.life.Carry(ctx, reqs[0].ID, "op@sonla.gov.vn") // B restored in December
	must(t, err)
	s.set("2026-12-05")
	return s
}

func rowOf(t *testing.T, r *Report, lp string) *Row {
	t.Helper()
	for i := range r.Rows {
		if r.Rows[i].LocalPart == lp {
			return &r.Rows[i]
		}
	}
	t.Fatalf("no row %q", lp)
	return nil
}

type expect map[string]int64

func check(t *testing.T, what string, f *store.UnitFigures, want expect) {
	t.Helper()
	got := expect{
		"active": f.Active, "locked": sum(f.Locked), "locked.compromised": f.Locked[store.LockCompromised], "revoked": f.Revoked, "idle": f.Idle,
		"created": f.Created, "modified": f.Modified, "revokedIn": f.RevokedInPeriod, "restored": f.Restored,
		"locks": sum(f.LockedInPeriod), "locks.operator": f.LockedInPeriod[store.LockOperator], "locks.compromised": f.LockedInPeriod[store.LockCompromised],
		"received": f.RequestsReceived, "done": f.RequestsDone, "rejected": f.RequestsRejected, "overdueOpen": f.OverdueOpen, "overdueLate": f.OverdueLate,
		"mailIn": f.Received, "mailOut": f.Sent, "sendFailed": f.SendFailed,
		"virus": f.Held[store.HeldVirus], "spam": f.Held[store.HeldSpam], "policy": f.Held[store.HeldPolicy], "limit": f.Held[store.HeldLimit], "other": f.Held[store.HeldOther],
		"quota": f.QuotaBytes,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s = %d, want %d", what, k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g != 0 && k != "quota" {
			t.Errorf("%s: %s = %d, want 0", what, k, g)
		}
	}
}

// Điều 7.3, R7.3, R8.5: the province report of November 2026 counts, per unit
// and for the province, the accounts by state at the end of the month (locked
// by reason, the state of then, not of now), what was created, modified,
// revoked, locked and restored in the month, the requests received, handled
// and overdue, the idle accounts (R8.2 counting), and the mail and held mail
// of the transaction log (R11.1) — and nothing from before or after.
func TestReportFigures_R7_3(t *testing.T) {
	s := seed(t)
	ctx := context.Background()
	b := &Builder{Store: s.st, Clock: s.clk}
	r, err := b.Build(ctx, Month(2026, time.November), "")
	must(t, err)
	if len(r.Rows) < 90 {
		t.Errorf("province report has %d rows, want every top-level unit", len(r.Rows))
	}
	check(t, "skhcn", &rowOf(t, r, "skhcn").F, expect{
		// box, A (restored), C (locked only in December), H, I, E (vp.skhcn)
		"active": 6, "locked": 1, "locked.compromised": 1, "revoked": 1, "idle": 2,
		"created": 1, "modified": 1, "revokedIn": 1, "restored": 1, "locks": 2, "locks.operator": 1, "locks.compromised": 1,
		"received": 3, "done": 2, "overdueOpen": 1,
		// notices: lock A, lock B, two request results to the unit mailbox;
		// two from outside to C; one internal to C and one to E.
		"mailIn": 8,
		"virus":  1, "spam": 1, "policy": 1, "other": 1,
		"quota": 9 << 30,
	})
	check(t, "snv", &rowOf(t, r, "snv").F, expect{
		"active": 2, "restored": 1, "received": 2, "done": 1, "rejected": 1, "overdueLate": 1,
		"mailOut": 3, "sendFailed": 1, "limit": 1, "quota": 2 << 30,
	})
	noUnit := r.Rows[len(r.Rows)-1]
	if noUnit.UnitID != 0 || noUnit.F.Held[store.HeldOther] != 1 {
		t.Errorf("last row %+v, want the no-unit row with the refusal to an unknown address", noUnit)
	}
	check(t, "province", &r.Total.F, expect{
		"active": 8, "locked": 1, "locked.compromised": 1, "revoked": 1, "idle": 2,
		"created": 1, "modified": 1, "revokedIn": 1, "restored": 2, "locks": 2, "locks.operator": 1, "locks.compromised": 1,
		"received": 5, "done": 3, "rejected": 1, "overdueOpen": 1, "overdueLate": 1,
		"mailIn": 8, "mailOut": 3, "sendFailed": 1,
		"virus": 1, "spam": 1, "policy": 1, "limit": 1, "other": 2,
		"quota": 11 << 30,
	})
	if r.Total.F.UsedBytes == 0 || r.Total.F.ReceivedBytes == 0 || r.Total.F.SentBytes == 0 {
		t.Errorf("sizes missing: %+v", r.Total.F)
	}
	mail := map[string]int64{}
	for _, m := range r.Mail {
		mail[m.Direction+"/"+m.Status] = m.Messages
	}
	want := map[string]int64{"in/delivered": 2, "in/refused": 4, "in/quarantined": 1, "internal/delivered": 6,
		"out/delivered": 1, "out/bounced": 1, "out/quarantined": 1}
	for k, w := range want {
		if mail[k] != w {
			t.Errorf("log rows %s = %d, want %d (all: %v)", k, mail[k], w, mail)
		}
	}
	if len(mail) != len(want) {
		t.Errorf("log rows: %v, want %v", mail, want)
	}

	// R16.3: the same figures for one unit, its own accounts apart from its
	// sub-unit's.
	ru, err := b.Build(ctx, Month(2026, time.November), "skhcn")
	must(t, err)
	if len(ru.Rows) != 2 || !ru.Rows[0].Own || ru.Rows[1].LocalPart != "vp.skhcn" || ru.Mail != nil {
		t.Fatalf("unit report rows: %+v", ru.Rows)
	}
	check(t, "skhcn own", &ru.Rows[0].F, expect{
		"active": 5, "locked": 1, "locked.compromised": 1, "revoked": 1, "idle": 1,
		"created": 1, "modified": 1, "revokedIn": 1, "restored": 1, "locks": 2, "locks.operator": 1, "locks.compromised": 1,
		"received": 3, "done": 2, "overdueOpen": 1, "mailIn": 7, "virus": 1, "policy": 1, "other": 1, "quota": 8 << 30,
	})
	check(t, "vp.skhcn", &ru.Rows[1].F, expect{"active": 1, "idle": 1, "mailIn": 1, "spam": 1, "quota": 1 << 30})
	if ru.Total.F.Active != 6 || ru.Total.F.Received != 8 {
		t.Errorf("unit total: %+v", ru.Total.F)
	}

	// December so far (built on 5 December): C is locked now, B restored, J
	// new; idle counts to today.
	rd, err := b.Build(ctx, Month(2026, time.December), "skhcn")
	must(t, err)
	if !rd.AsOf.Equal(s.clk.Now()) {
		t.Errorf("a period not over is taken as of now: %v", rd.AsOf)
	}
	check(t, "skhcn December", &rd.Total.F, expect{
		"active": 7, "locked": 1, "locked.compromised": 1, "revoked": 1, "idle": 2, "created": 1, "restored": 1,
		"locks": 1, "locks.compromised": 1, "done": 1, "overdueLate": 1,
		"mailIn": 3, // the row of 1 December 00:00, the lock notice to C, the result of B's request
		"quota":  10 << 30,
	})

	if _, err := b.Build(ctx, Month(2026, time.November), "khong-co"); !errors.Is(err, ErrNoUnit) {
		t.Errorf("unknown unit: %v", err)
	}
	if _, err := b.Build(ctx, Month(2027, time.January), ""); !errors.Is(err, ErrFuture) {
		t.Errorf("future period: %v", err)
	}
}

// R7.3, R16.3: the report opens in Excel: XLSX sheets per table with
// Vietnamese headers and the figures as numbers; CSV with a byte-order mark
// and Vietnamese headers; HTML with Vietnamese headings, English second.
func TestReportRenderings_R7_3(t *testing.T) {
	s := seed(t)
	ctx := context.Background()
	r, err := (&Builder{Store: s.st, Clock: s.clk}).Build(ctx, Month(2026, time.November), "")
	must(t, err)

	var x bytes.Buffer
	must(t, Render(&x, r, FormatXLSX))
	f, err := excelize.OpenReader(&x)
	must(t, err)
	defer f.Close()
	sheets := f.GetSheetList()
	for _, want := range []string{"Thông tin", "Tài khoản", "Biến động", "Đề nghị", "Lưu lượng thư", "Thư bị chặn", "Theo hướng và trạng thái"} {
		found := false
		for _, s := range sheets {
			found = found || s == want
		}
		if !found {
			t.Errorf("sheet %q missing: %v", want, sheets)
		}
	}
	rows, err := f.GetRows("Tài khoản")
	must(t, err)
	if rows[0][0] != "Đơn vị" || rows[0][2] != "Đang hoạt động" || rows[1][2] != "Active" {
		t.Errorf("headers: %v / %v", rows[0], rows[1])
	}
	var skhcnRow, totalRow int
	for i, row := range rows {
		if len(row) > 1 && row[1] == "skhcn" {
			skhcnRow = i + 1
		}
		if len(row) > 0 && strings.HasPrefix(row[0], "Toàn tỉnh") {
			totalRow = i + 1
		}
	}
	if skhcnRow == 0 || totalRow != len(rows) {
		t.Fatalf("rows: skhcn %d, total %d of %d", skhcnRow, totalRow, len(rows))
	}
	numberAt := func(sheet, cell string) float64 {
		t.Helper()
		typ, err := f.GetCellType(sheet, cell)
		must(t, err)
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s!%s is of type %v, want a number", sheet, cell, typ)
		}
		v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
		must(t, err)
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Errorf("%s!%s = %q, not a number", sheet, cell, v)
		}
		return n
	}
	if n := numberAt("Tài khoản", "C"+strconv.Itoa(skhcnRow)); n != 6 {
		t.Errorf("skhcn active in XLSX = %v, want 6", n)
	}
	if n := numberAt("Tài khoản", "C"+strconv.Itoa(totalRow)); n != 8 {
		t.Errorf("province active in XLSX = %v, want 8", n)
	}
	// Total quota in MB: 11 GiB.
	quotaCol := ""
	for i, h := range rows[0] {
		if h == "Tổng hạn mức (MB)" {
			quotaCol = columnName(i + 1)
		}
	}
	if n := numberAt("Tài khoản", quotaCol+strconv.Itoa(totalRow)); n != 11*1024 {
		t.Errorf("province quota = %v MB, want %d", n, 11*1024)
	}
	held, err := f.GetRows("Thư bị chặn")
	must(t, err)
	last := held[len(held)-1]
	if last[len(last)-1] != "6" {
		t.Errorf("held total row: %v", last)
	}

	var c bytes.Buffer
	must(t, Render(&c, r, FormatCSV))
	if !bytes.HasPrefix(c.Bytes(), []byte("\xef\xbb\xbf")) {
		t.Fatal("CSV has no byte-order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(c.Bytes()[3:])).ReadAll()
	must(t, err)
	head := recs[0]
	if head[1] != "Đơn vị" || !contains(head, "Tài khoản: Đang hoạt động") || !contains(head, "Đề nghị: Quá hạn, chưa xử lý (cuối kỳ)") ||
		!contains(head, "Tài khoản: Dung lượng đã dùng (byte)") {
		t.Errorf("CSV header: %v", head)
	}
	col := func(name string) int {
		for i, h := range head {
			if h == name {
				return i
			}
		}
		t.Fatalf("no CSV column %q", name)
		return 0
	}
	total := recs[len(recs)-1]
	if total[col("Tài khoản: Đang hoạt động")] != "8" || total[col("Đề nghị: Tiếp nhận trong kỳ")] != "5" ||
		total[col("Tài khoản: Tổng hạn mức (byte)")] != strconv.FormatInt(11<<30, 10) || total[0] != "2026-11" {
		t.Errorf("CSV total row: %v", total)
	}

	var h bytes.Buffer
	must(t, Render(&h, r, FormatHTML))
	page := h.String()
	for _, want := range []string{`<html lang="vi">`, "Tài khoản tại thời điểm cuối kỳ", "Accounts at the end of the period",
		"Sở Khoa học và Công nghệ", "tháng 11/2026", "Thư bị từ chối hoặc giữ lại", "Toàn tỉnh / Province total",
		"11.264,0"} { // 11 GiB in MB, Vietnamese number format
		if !strings.Contains(page, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if err := Render(&h, r, "pdf"); err == nil {
		t.Error("unknown format accepted")
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestParsePeriod(t *testing.T) {
	for _, c := range []struct{ in, from, to, key, vi string }{
		{"2026-11", "2026-11-01", "2026-11-30", "2026-11", "tháng 11/2026"},
		{"2026-02", "2026-02-01", "2026-02-28", "2026-02", "tháng 02/2026"},
		{"2026-12", "2026-12-01", "2026-12-31", "2026-12", "tháng 12/2026"},
		{"2026-Q4", "2026-10-01", "2026-12-31", "2026-Q4", "quý IV/2026"},
		{"2026-q1", "2026-01-01", "2026-03-31", "2026-Q1", "quý I/2026"},
		{"2026", "2026-01-01", "2026-12-31", "2026", "năm 2026"},
	} {
		p, err := ParsePeriod(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if p.From.String() != c.from || p.To.String() != c.to || p.Key != c.key || p.LabelVI() != c.vi {
			t.Errorf("%s: %s..%s %s %q", c.in, p.From, p.To, p.Key, p.LabelVI())
		}
	}
	for _, bad := range []string{"", "26-11", "2026-13", "2026-Q5", "2026-1", "tháng 11"} {
		if _, err := ParsePeriod(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	p, err := Between(workdays.NewDate(2026, 11, 3), workdays.NewDate(2026, 11, 20))
	if err != nil || p.LabelVI() != "từ 03/11/2026 đến 20/11/2026" {
		t.Errorf("between: %v %q", err, p.LabelVI())
	}
	if _, err := Between(workdays.NewDate(2026, 11, 3), workdays.NewDate(2026, 11, 2)); err == nil {
		t.Error("reversed dates accepted")
	}
}
