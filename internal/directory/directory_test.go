package directory

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"govmail/internal/address"
	"govmail/internal/clock"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
)

func newService(t testing.TB) (*Service, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC))
	st, err := sqlite.Open(context.Background(), sqlite.Options{Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &Service{Store: st, Clock: clk, Rules: address.DefaultRules(), Domain: "sonla.gov.vn"}, clk
}

// R1.2: the province's units are data; the shipped list imports whole, twice safely.
func TestImportProvinceUnitsR1_2(t *testing.T) {
	d, _ := newService(t)
	ctx := context.Background()
	res, err := d.ImportUnits(ctx, bytes.NewReader(ProvinceUnits), "operator")
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 90 || len(res.Errors) != 0 {
		t.Fatalf("import: %+v", res)
	}
	res, _ = d.ImportUnits(ctx, bytes.NewReader(ProvinceUnits), "operator")
	if res.Created != 0 || res.Existing != 90 {
		t.Fatalf("second import: %+v", res)
	}
	u, err := d.Store.UnitByLocalPart(ctx, "chiengcoi")
	if err != nil || u.Kind != store.UnitWard || u.Name != "Phường Chiềng Cơi" {
		t.Fatalf("chiengcoi: %+v %v", u, err)
	}
	var buf bytes.Buffer
	if err := d.ExportUnits(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Phường Chiềng Cơi,chiengcoi") || strings.Count(buf.String(), "\n") != 91 {
		t.Errorf("export: %d lines", strings.Count(buf.String(), "\n"))
	}
}

// Điều 5: the regulation's own examples, end to end through the store.
func TestRegulationExamplesDieu5(t *testing.T) {
	d, _ := newService(t)
	ctx := context.Background()
	if _, err := d.ImportUnits(ctx, bytes.NewReader(ProvinceUnits), "op"); err != nil {
		t.Fatal(err)
	}
	// 5.1c sub-units
	ht, err := d.CreateUnit(ctx, "Phòng Hạ tầng", store.UnitSubUnit, "skhcn", "", "op")
	if err != nil || ht.LocalPart != "ht.skhcn" {
		t.Fatalf("ht.skhcn: %+v %v", ht, err)
	}
	vhxh, err := d.CreateUnit(ctx, "Phòng Văn hóa - Xã hội", store.UnitSubUnit, "mocchau", "", "op")
	if err != nil || vhxh.LocalPart != "vhxh.mocchau" {
		t.Fatalf("vhxh.mocchau: %+v %v", vhxh, err)
	}
	// R5.5: a clash is refused with advice to add letters.
	_, err = d.CreateUnit(ctx, "Sở Nông nghiệp Việt", store.UnitProvinceAgency, "", "snv", "op")
	var de *Error
	if !errors.As(err, &de) || !strings.Contains(de.VI, "thêm chữ") {
		t.Fatalf("clash: %v", err)
	}
	// 5.2 people, in order (R5.4), staff of a phòng under the sở (R5.8).
	people := []struct {
		unit, name string
		year       int
		want       string
	}{
		{"skhcn", "Cầm Thị Duyên", 0, "duyenct.skhcn"},
		{"skhcn", "Nguyễn Thị Hoa", 0, "hoant.skhcn"},
		{"skhcn", "Nguyễn Thu Hòa", 1990, "hoant90.skhcn"},
		{"ht.skhcn", "Trần Hoàn", 1988, "hoant88.skhcn"},
		{"skhcn", "Nguyễn Thanh Hoa", 0, "hoant2.skhcn"},
		{"vhxh.mocchau", "Lò Văn Xôm", 1985, "xomlv.mocchau"},
	}
	for _, p := range people {
		a, err := d.CreatePerson(ctx, NewPerson{UnitLP: p.unit, FullName: p.name, BirthYear: p.year, QuotaBytes: 1 << 30}, "op")
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if a.Address != p.want+"@sonla.gov.vn" {
			t.Errorf("%s: %s, want %s", p.name, a.Address, p.want)
		}
	}
}

// R5.7 and R7.6: one namespace for units, people, aliases and released addresses.
func TestOneNamespaceR5_7(t *testing.T) {
	d, clk := newService(t)
	ctx := context.Background()
	d.ImportUnits(ctx, bytes.NewReader(ProvinceUnits), "op")
	if _, err := d.CreateUnit(ctx, "Phòng Xuất nhập", store.UnitSubUnit, "skhcn", "xn", "op"); err != nil {
		t.Fatal(err)
	}
	// A person cannot take a sub-unit's address…
	if _, err := d.CreatePerson(ctx, NewPerson{UnitLP: "skhcn", Override: "xn.skhcn", QuotaBytes: 1}, "op"); !errors.Is(err, address.ErrTaken) {
		t.Errorf("person over sub-unit: %v", err)
	}
	// …nor a reserved name (R5.11)…
	if _, err := d.CreatePerson(ctx, NewPerson{UnitLP: "skhcn", Override: "postmaster", QuotaBytes: 1}, "op"); !errors.Is(err, address.ErrReserved) {
		t.Errorf("reserved: %v", err)
	}
	// …and a unit cannot take a person's.
	a, err := d.CreatePerson(ctx, NewPerson{UnitLP: "skhcn", FullName: "Quàng Văn Ơn", QuotaBytes: 1}, "op")
	if err != nil || a.Address != "onqv.skhcn@sonla.gov.vn" {
		t.Fatalf("person: %+v %v", a, err)
	}
	if _, err := d.CreateUnit(ctx, "Phòng Ơn", store.UnitSubUnit, "skhcn", "onqv", "op"); err == nil {
		t.Error("unit over a person accepted")
	}
	// An alias holds its address, and a released address is held for 12 months (R7.6).
	if err := d.Store.AddAlias(ctx, "cu.skhcn@sonla.gov.vn", a.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreatePerson(ctx, NewPerson{UnitLP: "skhcn", Override: "cu.skhcn", QuotaBytes: 1}, "op"); !errors.Is(err, address.ErrTaken) {
		t.Errorf("over alias: %v", err)
	}
	d.Store.ReleaseAddress(ctx, "dacu.skhcn@sonla.gov.vn", clk.Now(), clk.Now().AddDate(1, 0, 0))
	if _, err := d.CreatePerson(ctx, NewPerson{UnitLP: "skhcn", Override: "dacu.skhcn", QuotaBytes: 1}, "op"); !errors.Is(err, address.ErrTaken) {
		t.Errorf("released address reused: %v", err)
	}
	clk.Advance(366 * 24 * time.Hour)
	if _, err := d.CreatePerson(ctx, NewPerson{UnitLP: "skhcn", Override: "dacu.skhcn", QuotaBytes: 1}, "op"); err != nil {
		t.Errorf("after quarantine: %v", err)
	}
	// Unit mailbox at the unit's own address.
	m, err := d.CreateUnitMailbox(ctx, "skhcn", "", 1<<30, "op")
	if err != nil || m.Address != "skhcn@sonla.gov.vn" || m.Kind != store.KindUnit {
		t.Fatalf("unit mailbox: %+v %v", m, err)
	}
	audit, _ := d.Store.SearchAudit(ctx, "onqv.skhcn@sonla.gov.vn", time.Time{}, time.Time{}, 10)
	if len(audit) != 1 || audit[0].Action != "account.create" || audit[0].Actor != "op" {
		t.Errorf("audit: %+v", audit)
	}
}
