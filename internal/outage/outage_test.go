package outage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"govmail/internal/address"
	"govmail/internal/clock"
	"govmail/internal/delivery"
	"govmail/internal/directory"
	"govmail/internal/notify"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
)

var ict = time.FixedZone("ICT", 7*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, ict)
	if err != nil {
		panic(err)
	}
	return t
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type env struct {
	svc *Service
	st  *sqlite.Store
	clk *clock.Fake
	dir *directory.Service
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(at("2026-11-27 08:30"))
	st, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	ds := &directory.Service{Store: st, Clock: clk, Rules: address.DefaultRules(), Domain: "sonla.gov.vn", Logger: log}
	_, err = ds.ImportUnits(ctx, bytes.NewReader(directory.ProvinceUnits), "op@sonla.gov.vn")
	must(t, err)
	d := &delivery.Deliverer{Store: st, Clock: clk, Logger: log, Hostname: "mail.sonla.gov.vn"}
	svc := &Service{Store: st, Clock: clk, Logger: log, Notify: &notify.Notifier{Deliverer: d, Clock: clk, Domain: "sonla.gov.vn", Logger: log}}
	return &env{svc: svc, st: st, clk: clk, dir: ds}
}

// body decodes the text of a notice.
func body(t *testing.T, raw string) string {
	t.Helper()
	mr, err := mail.CreateReader(strings.NewReader(raw))
	must(t, err)
	p, err := mr.NextPart()
	must(t, err)
	b, err := io.ReadAll(p.Body)
	must(t, err)
	return string(b)
}

func (e *env) inbox(t *testing.T, a *store.Account) []string {
	t.Helper()
	ctx := context.Background()
	mb, err := e.st.MailboxByName(ctx, a.ID, "INBOX")
	must(t, err)
	msgs, _, err := e.st.Messages(ctx, mb.ID, false)
	must(t, err)
	var out []string
	for _, m := range msgs {
		b, err := e.st.ReadBlob(ctx, m.BlobID)
		must(t, err)
		out = append(out, string(b))
	}
	return out
}

// Điều 14, R14.1: an outage notice for all units is mailed to every unit
// mailbox — a locked one too, since locked mailboxes still receive (R8.1) — and
// to the manager of a unit without one; it is open (the webmail banner) until
// closed; closing mails the all-clear to the same mailboxes; both steps are in
// the audit log.
func TestPublishAndClose_R14_1(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	h, err := password.Hash("Abcdef1!x")
	must(t, err)
	box := func(lp string) *store.Account {
		a, err := e.dir.CreateUnitMailbox(ctx, lp, h, 1<<30, "op@sonla.gov.vn")
		must(t, err)
		return a
	}
	skhcn, vpubnd, chiengcoi := box("skhcn"), box("vpubnd"), box("chiengcoi")
	must(t, e.st.LockAccount(ctx, chiengcoi.ID, store.LockOperator, store.LockInfo{LockedAt: e.clk.Now(), Note: "test", LockedBy: "op"}))
	// Sở Nội vụ has no unit mailbox: its manager is told.
	manager, err := e.dir.CreatePerson(ctx, directory.NewPerson{UnitLP: "snv", FullName: "Cầm Văn Tâm", PasswordHash: h, QuotaBytes: 1 << 30}, "op")
	must(t, err)
	snv, err := e.st.UnitByLocalPart(ctx, "snv")
	must(t, err)
	snv.ManagerID = manager.ID
	must(t, e.st.UpdateUnit(ctx, snv))
	person, err := e.dir.CreatePerson(ctx, directory.NewPerson{UnitLP: "skhcn", FullName: "Lò Văn An", PasswordHash: h, QuotaBytes: 1 << 30}, "op")
	must(t, err)

	res, err := e.svc.Publish(ctx, PublishInput{What: "Bảo trì máy chủ thư", Since: at("2026-11-27 08:00"), Until: at("2026-11-27 12:00"), Actor: "op@sonla.gov.vn"})
	must(t, err)
	if len(res.Recipients) != 4 {
		t.Errorf("recipients %v, want the three unit mailboxes and the manager of snv", res.Recipients)
	}
	units, err := e.st.ListUnits(ctx)
	must(t, err)
	if len(res.Unreached) != len(units)-4 {
		t.Errorf("%d units unreached, want %d", len(res.Unreached), len(units)-4)
	}
	for _, a := range []*store.Account{skhcn, vpubnd, chiengcoi, manager} {
		msgs := e.inbox(t, a)
		if len(msgs) != 1 || !strings.Contains(msgs[0], "X-Govmail-Notice: outage") || !strings.Contains(msgs[0], "08:00 27/11/2026") ||
			!strings.Contains(msgs[0], "12:00 27/11/2026") {
			t.Errorf("%s: %d messages: %v", a.Address, len(msgs), msgs)
			continue
		}
		if b := body(t, msgs[0]); !strings.Contains(b, "Nội dung: Bảo trì máy chủ thư") || !strings.Contains(b, "Dự kiến khôi phục: 12:00 27/11/2026") {
			t.Errorf("%s: notice text: %s", a.Address, b)
		}
	}
	if n := len(e.inbox(t, person)); n != 0 {
		t.Errorf("a personal mailbox got %d notices; the notice goes to unit mailboxes", n)
	}
	active, err := e.svc.Active(ctx)
	must(t, err)
	if len(active) != 1 || active[0].ID != res.Notice.ID || !strings.Contains(active[0].BannerVI(), "Bảo trì máy chủ thư") ||
		!strings.Contains(active[0].BannerVI(), "12:00 27/11/2026") {
		t.Fatalf("active: %+v", active)
	}
	if n, err := e.svc.ActiveFor(ctx, snv.ID); err != nil || len(n) != 1 {
		t.Errorf("a notice for every unit concerns snv: %v %v", n, err)
	}

	e.clk.Set(at("2026-11-27 11:15"))
	// A unit mailbox created after publishing is not in the all-clear.
	late := box("snv")
	cres, err := e.svc.Close(ctx, res.Notice.ID, "op@sonla.gov.vn", "đã thay ổ đĩa")
	must(t, err)
	if len(cres.Recipients) != 4 {
		t.Errorf("all-clear to %v", cres.Recipients)
	}
	for _, a := range []*store.Account{skhcn, vpubnd, chiengcoi, manager} {
		msgs := e.inbox(t, a)
		if len(msgs) != 2 || !strings.Contains(msgs[1], "X-Govmail-Notice: outage-closed") || !strings.Contains(msgs[1], "11:15 27/11/2026") {
			t.Errorf("%s: all-clear missing: %d messages", a.Address, len(msgs))
		}
	}
	if n := len(e.inbox(t, late)); n != 0 {
		t.Errorf("mailbox created later got %d messages", n)
	}
	if active, _ := e.svc.Active(ctx); len(active) != 0 {
		t.Errorf("closed notice still active: %+v", active)
	}
	if _, err := e.svc.Close(ctx, res.Notice.ID, "op", ""); !errors.Is(err, ErrNotOpen) {
		t.Errorf("closing twice: %v", err)
	}
	all, err := e.svc.List(ctx)
	must(t, err)
	if len(all) != 1 || all[0].ClosedAt.IsZero() || all[0].ClosedBy != "op@sonla.gov.vn" || all[0].CloseNote != "đã thay ổ đĩa" {
		t.Errorf("list: %+v", all)
	}
	audit, err := e.st.SearchAudit(ctx, "outage#1", time.Time{}, time.Time{}, 10)
	must(t, err)
	if len(audit) != 2 || audit[0].Action != "outage.close" || audit[1].Action != "outage.publish" || audit[1].Actor != "op@sonla.gov.vn" ||
		!strings.Contains(audit[1].Detail, "Bảo trì máy chủ thư") {
		t.Errorf("audit: %+v", audit)
	}
}

// R14.1: a notice for chosen units reaches those units and their sub-units
// only, and shows as a banner only to them.
func TestPublishToChosenUnits_R14_1(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	h, err := password.Hash("Abcdef1!x")
	must(t, err)
	vp, err := e.dir.CreateUnit(ctx, "Văn phòng", store.UnitSubUnit, "skhcn", "vp", "op")
	must(t, err)
	var boxes []*store.Account
	for _, lp := range []string{"skhcn", "vp.skhcn", "vpubnd"} {
		a, err := e.dir.CreateUnitMailbox(ctx, lp, h, 1<<30, "op")
		must(t, err)
		boxes = append(boxes, a)
	}
	res, err := e.svc.Publish(ctx, PublishInput{What: "Mất kết nối đường truyền", Since: at("2026-11-27 08:00"), Until: at("2026-11-27 10:00"),
		Units: []string{"skhcn"}, Actor: "op@sonla.gov.vn"})
	must(t, err)
	if strings.Join(res.Recipients, ",") != boxes[0].Address+","+boxes[1].Address || len(res.Unreached) != 0 {
		t.Errorf("recipients %v, unreached %v", res.Recipients, res.Unreached)
	}
	if n := len(e.inbox(t, boxes[2])); n != 0 {
		t.Errorf("vpubnd got %d notices", n)
	}
	if !strings.Contains(body(t, e.inbox(t, boxes[0])[0]), "Phạm vi: Sở Khoa học và Công nghệ (kể cả đơn vị trực thuộc)") {
		t.Error("the notice does not name its scope")
	}
	if n, _ := e.svc.ActiveFor(ctx, vp.ID); len(n) != 1 {
		t.Errorf("sub-unit banner: %v", n)
	}
	ubnd, _ := e.st.UnitByLocalPart(ctx, "vpubnd")
	if n, _ := e.svc.ActiveFor(ctx, ubnd.ID); len(n) != 0 {
		t.Errorf("other unit banner: %v", n)
	}
	if len(res.Notice.Units) != 1 || res.Notice.Units[0] != "skhcn" {
		t.Errorf("notice units: %v", res.Notice.Units)
	}
}

func TestPublishRefusals(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	since, until := at("2026-11-27 08:00"), at("2026-11-27 12:00")
	for _, in := range []PublishInput{
		{Since: since, Until: until},
		{What: "x", Until: until},
		{What: "x", Since: since},
		{What: "x", Since: until, Until: since},
		{What: "x", Since: since, Until: until, Units: []string{"khongco"}},
	} {
		var le *Error
		if _, err := e.svc.Publish(ctx, in); !errors.As(err, &le) {
			t.Errorf("%+v: %v", in, err)
		}
	}
	if all, _ := e.svc.List(ctx); len(all) != 0 {
		t.Errorf("refused notices recorded: %v", all)
	}
}
