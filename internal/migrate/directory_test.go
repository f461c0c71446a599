package migrate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"govmail/internal/address"
	"govmail/internal/clock"
	"govmail/internal/directory"
	"govmail/internal/password"
	"govmail/internal/store"
)

const unitsCSV = `kind,name_vi,local_part
province_agency,Sở Khoa học và Công nghệ,skhcn
sub_unit,Phòng Hạ tầng,ht.skhcn
ward,Phường Chiềng Cơi,chiengcoi
`

const accountsCSV = "\ufeffaddress,full_name,unit,kind,birth_year\n" +
	"hoant.skhcn@sonla.gov.vn,Nguyễn Thị Hoa,skhcn,personal,1985\n" + // the rule's own form
	"hoant90.skhcn@sonla.gov.vn,Nguyễn Thu  Hòa,ht.skhcn,,1990\n" + // a phòng's staff use the sở's part (R5.8)
	"Nguyen_Van_A@sonla.gov.vn,Nguyễn Văn A,skhcn,personal,\n" + // legacy: characters and form
	"tranb.chiengcoi@sonla.gov.vn,Trần Văn Bình,chiengcoi,personal,\n" + // legacy: form
	"skhcn@sonla.gov.vn,,skhcn,unit,\n" + // the unit's own mailbox
	"vanthu.skhcn@sonla.gov.vn,Văn thư Sở KHCN,skhcn,unit,\n" + // legacy unit mailbox
	"HOANT.SKHCN@sonla.gov.vn,Nguyễn Thị Hoa,skhcn,personal,\n" + // a repeated row: existing
	"someone@example.com,Người ngoài,skhcn,personal,\n" + // not our domain
	"bad..dots@sonla.gov.vn,Sai,skhcn,personal,\n" + // undeliverable
	"postmaster@sonla.gov.vn,Quản trị,skhcn,personal,\n" + // reserved (R5.11)
	"x.y@sonla.gov.vn,Không đơn vị,khongco,personal,\n" + // no such unit
	"ht.skhcn@sonla.gov.vn,Trùng đơn vị,skhcn,personal,\n" // a unit's address (R5.7)

func newDirectoryImport(t *testing.T) (*DirectoryImport, store.Store) {
	t.Helper()
	o := newStore(t)
	clk := clock.NewFake(time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC))
	dir := &directory.Service{Store: o.st, Clock: clk, Rules: address.DefaultRules(), Domain: "sonla.gov.vn"}
	fast := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}
	return &DirectoryImport{Store: o.st, Directory: dir, Clock: clk, Domains: []string{"sonla.gov.vn"}, QuotaBytes: 1 << 30,
		Generate: password.Generate, Hash: fast.Hash, Actor: "test"}, o.st
}

// R5.4: imported legacy addresses are kept as they are and flagged; R6.1:
// every account gets a one-time password it must change at first login; the
// passwords are listed per unit for printing; a second run changes nothing.
func TestImportDirectoryR5_4R6_1(t *testing.T) {
	ctx := context.Background()
	d, st := newDirectoryImport(t)
	rep, err := d.Import(ctx, strings.NewReader(unitsCSV), strings.NewReader(accountsCSV))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Units.Created != 3 || len(rep.Created) != 6 || len(rep.Existing) != 1 || len(rep.Errors) != 5 || rep.OK() {
		t.Fatalf("units %+v, created %d, existing %v, errors %v", rep.Units, len(rep.Created), rep.Existing, rep.Errors)
	}
	legacy := map[string]bool{}
	for _, l := range rep.Legacy {
		legacy[l.Address] = true
	}
	for addr, want := range map[string]bool{
		"hoant.skhcn@sonla.gov.vn": false, "hoant90.skhcn@sonla.gov.vn": false, "nguyen_van_a@sonla.gov.vn": true,
		"tranb.chiengcoi@sonla.gov.vn": true, "skhcn@sonla.gov.vn": false, "vanthu.skhcn@sonla.gov.vn": true,
	} {
		a, err := st.AccountByAddress(ctx, addr)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if (a.AddressNote == "legacy") != want || legacy[addr] != want {
			t.Errorf("%s: note %q, listed %v; legacy should be %v", addr, a.AddressNote, legacy[addr], want)
		}
		if !a.MustChange || a.PasswordHash == "" {
			t.Errorf("%s: must change %v (R6.1)", addr, a.MustChange)
		}
	}
	for _, c := range rep.Created {
		a, _ := st.AccountByAddress(ctx, c.Address)
		if ok, err := password.Verify(a.PasswordHash, c.Password); !ok || err != nil {
			t.Errorf("%s: the listed one-time password does not open the account", c.Address)
		}
		if err := password.DefaultPolicy().Check(c.Password, password.CheckContext{}); err != nil {
			t.Errorf("%s: one-time password breaks R6.3: %v", c.Address, err)
		}
	}
	for _, l := range rep.Legacy {
		if l.Address == "tranb.chiengcoi@sonla.gov.vn" && l.Suggested != "binhtv.chiengcoi@sonla.gov.vn" {
			t.Errorf("suggestion for %s: %q", l.Address, l.Suggested)
		}
	}
	u, _ := st.AccountByAddress(ctx, "skhcn@sonla.gov.vn")
	if u.Kind != store.KindUnit || u.DisplayName != "Sở Khoa học và Công nghệ" {
		t.Errorf("unit mailbox: %+v", u)
	}
	if a, _ := st.AccountByAddress(ctx, "hoant90.skhcn@sonla.gov.vn"); a.BirthYear != 1990 || a.DisplayName != "Nguyễn Thu Hòa" {
		t.Errorf("%+v", a)
	}
	for _, e := range []string{"someone@example.com", "bad..dots", "postmaster", "khongco", "ht.skhcn@"} {
		if !strings.Contains(strings.Join(rep.Errors, "\n"), e) {
			t.Errorf("no error for %s in %v", e, rep.Errors)
		}
	}

	out := filepath.Join(t.TempDir(), "lists")
	files, err := rep.WriteLists(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 { // chiengcoi, ht.skhcn, skhcn, legacy
		t.Fatalf("files %v", files)
	}
	b, _ := os.ReadFile(filepath.Join(out, "skhcn.csv"))
	s := string(b)
	if !strings.HasPrefix(s, "\ufeff") || !strings.Contains(s, "Mật khẩu dùng một lần") || !strings.Contains(s, "nguyen_van_a@sonla.gov.vn") ||
		!strings.Contains(s, "Điều 6.1") || strings.Contains(s, "hoant90") {
		t.Errorf("skhcn.csv:\n%s", s)
	}
	if fi, _ := os.Stat(filepath.Join(out, "skhcn.csv")); fi.Mode().Perm() != 0o600 {
		t.Errorf("password list mode %v", fi.Mode())
	}
	if _, err := rep.WriteLists(out); err == nil {
		t.Error("password lists must never be overwritten")
	}
	var txt strings.Builder
	rep.Write(&txt)
	if !strings.Contains(txt.String(), "legacy") || !strings.Contains(txt.String(), "tranb.chiengcoi@sonla.gov.vn") {
		t.Errorf("report:\n%s", txt.String())
	}
	audit, _ := st.SearchAudit(ctx, "vanthu.skhcn@sonla.gov.vn", time.Time{}, time.Now().Add(time.Hour), 10)
	if len(audit) != 1 || !strings.Contains(audit[0].Detail, "legacy") {
		t.Errorf("audit: %+v", audit)
	}

	// Again: everything exists, no new password is handed out.
	rep, err = d.Import(ctx, strings.NewReader(unitsCSV), strings.NewReader(accountsCSV))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Created) != 0 || len(rep.Existing) != 7 || rep.Units.Existing != 3 {
		t.Errorf("second run: created %d existing %d", len(rep.Created), len(rep.Existing))
	}
	if _, err := d.Import(ctx, nil, strings.NewReader("email,name\nx@sonla.gov.vn,x\n")); err == nil {
		t.Error("a file without the address column must be refused")
	}
}
